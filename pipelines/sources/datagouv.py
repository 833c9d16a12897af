"""data.gouv.fr: the agreements' datasets (documents, amendments) and DECP.

fetch_dataset(client, base, key) -> document        I/O, conditional GET, paging resources
parse_dataset / parse_resources (pure)               the fields Vigie keeps
pick_resource(resources, preferred) (pure)           decp.parquet first, decp.csv else
download(client, resource, folder) -> Path           streamed, verified, atomic, skipped if unchanged
load_decp(con, path, fmt, filters)                   DuckDB reads the file directly and keeps
                                                     only the rows that concern the agreements
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path

from pipelines import warehouse
from pipelines.config import PACKAGE_DIR
from pipelines.errors import SourceError
from pipelines.http import HttpClient, InvalidPayload, Pages, local_name
from pipelines.jobs import Job, StepOutcome, record_source
from pipelines.text import norm_key

SOURCE = "datagouv"
LABEL = "data.gouv.fr"
TYPES = {"string": "VARCHAR", "integer": "BIGINT", "number": "DOUBLE", "date": "DATE", "boolean": "BOOLEAN"}
TEXT_IDS = {"acheteur_id", "titulaire_id", "lieuExecution_code"}


def decp_columns() -> list[tuple[str, str]]:
    fields = json.loads((PACKAGE_DIR / "reference" / "decp_schema.json").read_text(encoding="utf-8"))["fields"]
    return [(f["name"], "VARCHAR" if f["name"] in TEXT_IDS else TYPES[f["type"]]) for f in fields]


# ------------------------------------------------------------------ parse (pure)


def _json(body: bytes, content_type: str | None, what: str):
    head = body[:512].lstrip().lower()
    if (content_type and "html" in content_type.lower()) or head.startswith((b"<!doctype", b"<html")):
        raise InvalidPayload(f"{what} : page HTML reçue au lieu de JSON")
    try:
        return json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InvalidPayload(f"{what} : JSON invalide ou tronqué") from None


def check_dataset(doc, what: str) -> None:
    if not isinstance(doc, dict) or not doc.get("id") or "resources" not in doc:
        raise InvalidPayload(f"{what} : la réponse n'a pas la forme d'un jeu de données (« id » ou « resources » absent)")


def parse_dataset(doc: dict) -> dict:
    org = doc.get("organization") or {}
    return {
        "dataset_id": doc["id"], "slug": doc.get("slug"), "title": doc.get("title"),
        "organization": org.get("name") if isinstance(org, dict) else None,
        "last_modified": _ts(doc.get("last_modified") or doc.get("last_update")),
    }


def _ts(value) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def parse_resources(items: list[dict]) -> list[dict]:
    rows = []
    for r in items:
        if not isinstance(r, dict) or not r.get("id"):
            continue
        checksum = r.get("checksum") or {}
        rows.append({
            "resource_id": r["id"], "title": r.get("title"), "format": (r.get("format") or "").lower() or None,
            "type": r.get("type"), "url": r.get("url") or r.get("latest"),
            "filesize": r.get("filesize"), "mime": r.get("mime"), "last_modified": _ts(r.get("last_modified")),
            "checksum_type": checksum.get("type") if isinstance(checksum, dict) else None,
            "checksum_value": checksum.get("value") if isinstance(checksum, dict) else None,
        })
    return rows


def pick_resource(resources: list[dict], preferred: list[str]) -> dict | None:
    """The first resource whose title is in `preferred` (in that order), else the first
    parquet, else the first CSV."""
    by_title = {(r["title"] or "").strip().lower(): r for r in resources}
    for title in preferred:
        if title.lower() in by_title:
            return by_title[title.lower()]
    for fmt in ("parquet", "csv"):
        for r in resources:
            if r["format"] == fmt:
                return r
    return None


# ------------------------------------------------------------------ fetch (I/O)


def fetch_dataset(client: HttpClient, base: str, key: str, cache: dict) -> tuple[dict | None, list[dict], bytes | None]:
    """-> (document, raw resource items, body) ; (None, [], None) when unchanged (304)."""
    url = f"{base}/datasets/{key}/"
    etag, last_modified = cache.get(url, (None, None))
    got = client.get(url, LABEL, etag, last_modified,
                     validate=lambda body, ct: check_dataset(_json(body, ct, f"jeu de données {key}"), f"jeu de données {key}"))
    if got.status == 304:
        return None, [], None
    doc = _json(got.body, got.content_type, f"jeu de données {key}")
    resources = doc["resources"]
    if isinstance(resources, dict):  # API v2 style: a link to a paginated list
        items, next_url, pages = [], resources.get("href"), Pages(LABEL)
        while next_url:
            page = client.get(pages.check(next_url), LABEL, validate=lambda b, ct: _json(b, ct, "liste de ressources"))
            data = _json(page.body, page.content_type, "liste de ressources")
            items += data.get("data") or []
            next_url = data.get("next_page")
        resources = items
    cache[url] = (got.etag, got.last_modified)
    return doc, resources, got.body


def download(client: HttpClient, resource: dict, folder: Path) -> tuple[Path, bool]:
    """The resource's file, downloaded only when it changed. -> (path, downloaded?)"""
    ext = resource["format"] if resource["format"] in ("parquet", "csv") else "bin"
    dest = folder / f"{local_name(resource['resource_id'])}.{ext}"  # never a path from the API
    meta_path = dest.with_name(dest.name + ".meta.json")
    remote = {k: (v.isoformat() if isinstance(v, datetime) else v)
              for k, v in resource.items() if k in ("url", "filesize", "last_modified", "checksum_type", "checksum_value")}
    if dest.exists() and meta_path.exists():
        local = json.loads(meta_path.read_text(encoding="utf-8"))
        same = (local.get("checksum_value") == remote["checksum_value"] if remote["checksum_value"]
                else (local.get("filesize"), local.get("last_modified")) == (remote["filesize"], remote["last_modified"]))
        if same:
            return dest, False
    checksum = (resource["checksum_type"], resource["checksum_value"]) if resource["checksum_value"] else None
    client.download(resource["url"], dest, LABEL, resource.get("filesize"), checksum)
    tmp = meta_path.with_name(meta_path.name + ".tmp")
    tmp.write_text(json.dumps(remote, ensure_ascii=False), encoding="utf-8")
    tmp.replace(meta_path)
    return dest, True


# ------------------------------------------------------------------ DECP filter (DuckDB)


def decp_filters(con) -> dict:
    """What makes a DECP row concern the agreements: its idAccordCadre names one, or its
    holder is one of the agreements' holders and its buyer a beneficiary."""
    codes = set()
    for _agreement_id, agreement_codes, reference in con.execute(
            "SELECT agreement_id, codes, reference FROM ref.agreements").fetchall():
        for code in [*(agreement_codes or []), *([reference] if reference else [])]:
            key = norm_key(code)
            if len(key) >= 6:  # '2021' would match far too much
                codes.add(key)
    sirens = sorted({s for (s,) in con.execute(
        "SELECT siren FROM ref.holder_members WHERE siren IS NOT NULL").fetchall()})
    holder_names = sorted({norm_key(n) for (n,) in con.execute(
        "SELECT name FROM ref.holder_members UNION SELECT spelling FROM ref.holder_spellings").fetchall()
        if len(norm_key(n)) >= 4})
    buyer_sirens = sorted({s for (s,) in con.execute(
        "SELECT b.siren FROM ref.bodies b JOIN ref.beneficiaries x ON x.body_id = b.body_id WHERE b.siren IS NOT NULL"
    ).fetchall()})
    buyer_names = sorted({norm_key(s) for (s,) in con.execute("""
        SELECT s.spelling FROM ref.body_spellings s JOIN ref.beneficiaries b ON b.body_id = s.body_id
        UNION
        SELECT s.spelling FROM ref.body_spellings s
        JOIN ref.beneficiaries b ON s.body_id = 'ministere:' || b.ministry
        UNION
        SELECT s.spelling FROM ref.body_spellings s
        WHERE s.body_id LIKE 'ministere:%' AND EXISTS (SELECT 1 FROM ref.beneficiaries b WHERE b.scope = 'tous_ministeres')
    """).fetchall() if len(norm_key(s)) >= 4})
    return {"codes": sorted(codes), "sirens": sirens, "holder_names": holder_names,
            "buyer_sirens": buyer_sirens, "buyer_names": buyer_names}


def filter_fingerprint(filters: dict) -> str:
    return hashlib.sha256(json.dumps(filters, sort_keys=True).encode()).hexdigest()[:16]


def _reader(fmt: str) -> str:
    return "read_parquet($path)" if fmt == "parquet" else "read_csv($path, header = true, all_varchar = true)"


def decp_params(filters: dict) -> dict:
    """The filters as the query's bound parameters. The agreement codes become one
    anchored alternation (they are norm_key'd: only a-z and 0-9, nothing to escape) —
    a regular expression per row is 8 times cheaper than a list of prefixes per row."""
    codes = filters["codes"]
    return {
        "codes_prefix": "^(?:" + "|".join(codes) + ")" if codes else "a^",  # "a^" matches nothing
        **{k: filters[k] for k in ("sirens", "holder_names", "buyer_sirens", "buyer_names")},
    }


DECP_BY_CODE = """regexp_matches(norm_key("idAccordCadre"), $codes_prefix)"""
DECP_WHERE = f"""
    {DECP_BY_CODE}
    OR (
        (list_contains($sirens, left(CAST("titulaire_id" AS VARCHAR), 9))
         OR list_contains($holder_names, norm_key("titulaire_nom")))
        AND (list_contains($buyer_sirens, left(CAST("acheteur_id" AS VARCHAR), 9))
             OR list_contains($buyer_names, norm_key("acheteur_nom")))
    )
"""


def select_list(con, path: Path, fmt: str) -> str:
    """The published columns, cast to the schema's types; absent ones are NULL."""
    present = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {_reader(fmt)}", {"path": str(path)}).fetchall()}  # noqa: S608 - reader is a constant
    parts = []
    for name, sql_type in decp_columns():
        if name in present:
            parts.append(f'TRY_CAST("{name}" AS {sql_type}) AS "{name}"')
        else:
            parts.append(f'CAST(NULL AS {sql_type}) AS "{name}"')
    return ", ".join(parts)


def load_decp(con, path: Path, fmt: str, filters: dict, resource: dict) -> int:
    """Replace raw.decp_contracts with the rows of the file that concern the agreements.
    Runs in the caller's transaction. No pandas: DuckDB scans the file."""
    needed = {"idAccordCadre", "titulaire_id", "titulaire_nom", "acheteur_id", "acheteur_nom"}
    present = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {_reader(fmt)}", {"path": str(path)}).fetchall()}  # noqa: S608 - reader is a constant
    missing = needed - present
    if missing:
        raise SourceError(f"Le fichier DECP {path.name} n'a pas les colonnes attendues ({', '.join(sorted(missing))}) : "
                          "le format publié a changé. Les contrats déjà chargés restent en place.")
    columns = select_list(con, path, fmt)
    con.execute("DELETE FROM raw.decp_contracts")
    con.execute(
        f"""INSERT INTO raw.decp_contracts
            SELECT {columns}, $resource AS vigie_resource_id, $checksum AS vigie_checksum,
                   CASE WHEN {DECP_BY_CODE} THEN 'accord_cadre' ELSE 'titulaire_beneficiaire' END AS vigie_match
            FROM {_reader(fmt)}
            WHERE {DECP_WHERE}""",  # noqa: S608 - only schema names and constants are interpolated
        {"path": str(path), "resource": resource["resource_id"], "checksum": resource.get("checksum_value"),
         **decp_params(filters)},
    )
    return warehouse.scalar(con, "SELECT count(*) FROM raw.decp_contracts")


# ------------------------------------------------------------------ step


def ingest(job: Job) -> StepOutcome:
    settings, con = job.settings, job.con
    now = settings.now()
    base = settings.datagouv_api
    if settings.offline:
        return StepOutcome("ignore", "Mode hors ligne : data.gouv.fr n'est pas interrogé.")
    conf = settings.section("datagouv")
    keys = [(agreement_id, slug) for agreement_id, slug in con.execute(
        "SELECT agreement_id, coalesce(datagouv_id, datagouv_slug) FROM ref.agreements "
        "WHERE coalesce(datagouv_id, datagouv_slug) IS NOT NULL ORDER BY 1").fetchall()]
    keys.append(("decp", conf.get("decp_dataset", "608c055b35eb4e6ee20eb325")))
    cache = {url: (etag, lm) for url, etag, lm in con.execute(
        "SELECT url, etag, last_modified FROM meta.http_cache WHERE url LIKE ?", [f"{base}/datasets/%"]).fetchall()}
    client = HttpClient(settings)
    counts = {"jeux_de_donnees": 0, "jeux_inchanges": 0, "decp_telecharge": False, "decp_lignes": None}
    try:
        fetched = []
        for config_key, key in keys:
            doc, items, body = fetch_dataset(client, base, key, cache)
            fetched.append((config_key, doc, items, body))
        decp_doc = next((f for f in fetched if f[0] == "decp"), None)
        decp_resources = parse_resources(decp_doc[2]) if decp_doc and decp_doc[1] else _stored_resources(con, "decp")
        resource = pick_resource(decp_resources, conf.get("decp_resources", ["decp.parquet", "decp.csv"]))
        if resource is None:
            raise SourceError("Le jeu de données DECP de data.gouv.fr ne propose ni fichier parquet ni fichier CSV.")
        path, downloaded = download(client, resource, settings.downloads / "decp")
        counts["decp_telecharge"] = downloaded
    except SourceError as exc:
        record_source(con, SOURCE, now, "echec", error=exc.message)
        raise
    finally:
        client.close()

    filters = decp_filters(con)
    fingerprint = filter_fingerprint(filters)
    last = con.execute("SELECT checksum_value, filter_sha256, resource_id FROM raw.decp_loads "
                       "ORDER BY loaded_at DESC LIMIT 1").fetchone()
    reload = downloaded or last is None or last[1] != fingerprint or last[2] != resource["resource_id"] \
        or (resource["checksum_value"] and last[0] != resource["checksum_value"])
    changed = False
    try:
        with warehouse.transaction(con):
            for config_key, doc, items, body in fetched:
                if doc is None:
                    counts["jeux_inchanges"] += 1
                    continue
                counts["jeux_de_donnees"] += 1
                sha = hashlib.sha256(body).hexdigest()
                if con.execute("SELECT 1 FROM raw.datagouv_datasets WHERE config_key = ? AND payload_sha256 = ?",
                               [config_key, sha]).fetchone():
                    continue
                info = parse_dataset(doc)
                con.execute("INSERT INTO raw.datagouv_datasets VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            [config_key, info["dataset_id"], info["slug"], info["title"], info["organization"],
                             info["last_modified"], sha, now, body.decode("utf-8-sig")])
                warehouse.insert_rows(con, "raw.datagouv_resources", [
                    {"dataset_id": info["dataset_id"], "payload_sha256": sha, **r} for r in parse_resources(items)
                ], ["dataset_id", "payload_sha256", "resource_id", "title", "format", "type", "url", "filesize", "mime",
                    "last_modified", "checksum_type", "checksum_value"])
                changed = True
            for url, (etag, lm) in cache.items():
                con.execute("INSERT OR REPLACE INTO meta.http_cache VALUES (?, ?, ?, NULL, ?)", [url, etag, lm, now])
            if reload:
                try:
                    rows = load_decp(con, path, resource["format"], filters, resource)
                except SourceError:
                    raise
                except Exception as exc:  # a file DuckDB cannot read
                    raise SourceError(f"Le fichier DECP {path.name} est illisible ({exc.__class__.__name__}) : "
                                      "les contrats déjà chargés restent en place.") from None
                con.execute("INSERT INTO raw.decp_loads VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            [resource["resource_id"], resource["url"], resource["format"], resource["checksum_type"],
                             resource["checksum_value"], resource["filesize"], resource["last_modified"], now, rows,
                             fingerprint])
                counts["decp_lignes"] = rows
                changed = True
            if changed:
                warehouse.bump_data_version(con, job.run_id, "data.gouv.fr", now)
    except SourceError as exc:
        record_source(con, SOURCE, now, "echec", error=exc.message)
        raise
    record_source(con, SOURCE, now, "ok" if changed else "inchange", data_as_of=now, changed=changed)
    if not changed:
        return StepOutcome("inchange", "data.gouv.fr : jeux de données et DECP inchangés.", counts)
    kept = "" if counts["decp_lignes"] is None else f" ; DECP : {counts['decp_lignes']} contrat(s) retenu(s)"
    return StepOutcome("ok", f"data.gouv.fr : {counts['jeux_de_donnees']} jeu(x) de données actualisé(s){kept}.",
                       counts, True)


def _stored_resources(con, config_key: str) -> list[dict]:
    """The resource list last stored for a dataset (used when it answered 304)."""
    cursor = con.execute(
        "SELECT r.resource_id, r.title, r.format, r.type, r.url, r.filesize, r.mime, r.last_modified, "
        "r.checksum_type, r.checksum_value FROM raw.datagouv_resources r "
        "JOIN (SELECT payload_sha256 FROM raw.datagouv_datasets WHERE config_key = ? "
        "      ORDER BY fetched_at DESC LIMIT 1) d USING (payload_sha256)", [config_key])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
