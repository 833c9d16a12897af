"""data.gouv.fr: the agreements' datasets (documents, amendments) and DECP.

fetch_dataset(client, base, key) -> document        I/O, conditional GET, paging resources
parse_dataset / parse_resources (pure)               the fields Vigie keeps
rank_resources(resources, ids, titles) (pure)       by id, by title, then by format; columns decide
download(client, resource, folder) -> Path           streamed, verified, atomic, skipped if unchanged
load_decp(con, path, fmt, filters)                   DuckDB reads the file directly and keeps
                                                     only the rows that may concern the agreements

The source (run by sources/runner.py): fetch(job) -> raw (the HTTP above), parse(raw, today)
(pure: what to store, whether DECP is loaded again), load(con, parsed) -> Loaded (SQL).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from pathlib import Path

from pipelines import warehouse
from pipelines.config import PACKAGE_DIR
from pipelines.errors import SourceError
from pipelines.http import HttpClient, InvalidPayload, Pages, local_name
from pipelines.sources.helpers import decode_json
from pipelines.sources.runner import Loaded, Skip

SOURCE = "datagouv"
LABEL = "data.gouv.fr"
TYPES = {"string": "VARCHAR", "integer": "BIGINT", "number": "DOUBLE", "date": "DATE", "boolean": "BOOLEAN"}
TEXT_IDS = {"acheteur_id", "titulaire_id", "lieuExecution_code"}


def decp_columns() -> list[tuple[str, str]]:
    fields = json.loads((PACKAGE_DIR / "reference" / "decp_schema.json").read_text(encoding="utf-8"))["fields"]
    return [(f["name"], "VARCHAR" if f["name"] in TEXT_IDS else TYPES[f["type"]]) for f in fields]


# ------------------------------------------------------------------ parse (pure)


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


def rank_resources(resources: list[dict], ids: list[str], titles: list[str]) -> list[dict]:
    """Candidates for the DECP contracts file, best first: the configured resource ids,
    then the configured titles (in that order), then every other parquet, then CSV. The
    first whose columns are those of the contracts is used (see `missing_columns`): a
    second parquet in the dataset (`statistiques_doublons_sources.parquet`) is tried only
    if nothing better exists, and refused by its columns, not blamed on "the format"."""
    ranked: list[dict] = []

    def add(r):
        if r is not None and all(r is not x for x in ranked):
            ranked.append(r)

    by_id = {r["resource_id"]: r for r in resources}
    for rid in ids:
        add(by_id.get(rid))
    by_title = {(r["title"] or "").strip().lower(): r for r in resources}
    for title in titles:
        add(by_title.get(title.strip().lower()))
    for fmt in ("parquet", "csv"):
        for r in resources:
            if r["format"] == fmt:
                add(r)
    return ranked


def pick_resource(resources: list[dict], preferred: list[str]) -> dict | None:
    """The best candidate by title and format alone (before any column is seen)."""
    ranked = rank_resources(resources, [], preferred)
    return ranked[0] if ranked else None


def resource_name(resource: dict) -> str:
    """How every message names a resource: its title, the id only beside it."""
    title = (resource.get("title") or "").strip()
    return f"« {title} »" if title else f"sans titre (identifiant {resource['resource_id']})"


# ------------------------------------------------------------------ fetch (I/O)


def fetch_dataset(client: HttpClient, base: str, key: str, cache: dict) -> tuple[dict | None, list[dict], bytes | None]:
    """-> (document, raw resource items, body) ; (None, [], None) when unchanged (304)."""
    url = f"{base}/datasets/{key}/"
    etag, last_modified = cache.get(url, (None, None))
    got = client.get(url, LABEL, etag, last_modified,
                     validate=lambda body, ct: check_dataset(decode_json(body, ct, f"jeu de données {key}"), f"jeu de données {key}"))
    if got.status == 304:
        return None, [], None
    doc = decode_json(got.body, got.content_type, f"jeu de données {key}")
    resources = doc["resources"]
    if isinstance(resources, dict):  # API v2 style: a link to a paginated list
        items, next_url, pages = [], resources.get("href"), Pages(LABEL)
        while next_url:
            page = client.get(pages.check(next_url), LABEL, validate=lambda b, ct: decode_json(b, ct, "liste de ressources"))
            data = decode_json(page.body, page.content_type, "liste de ressources")
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
    """Which DECP rows are candidates: their idAccordCadre starts with an agreement's code,
    or their holder is one of the agreements' holders (SIREN, or a spelling as the first
    words of its name) and their buyer a beneficiary (SIREN, or a spelling as the first
    words of its name: « Ministère de l'Intérieur - DSI » starts with « Ministère de
    l'Intérieur »). Broad on purpose: the match itself (period, exclusions, which
    agreement) is made once, in SQL (int.decp_agreement_matches)."""
    codes = {key for (key,) in con.execute(  # the agreements' codes and references (agreements.agreement_keys);
        "SELECT code_key FROM ref.agreement_keys WHERE origin <> 'id' AND length(code_key) >= 6"  # '2021': too much
    ).fetchall()}
    sirens = sorted({s for (s,) in con.execute(
        "SELECT siren FROM ref.holder_members WHERE siren IS NOT NULL").fetchall()})
    holder_names = sorted({w for (w,) in con.execute(
        "SELECT name_tokens(name) FROM ref.holder_members UNION SELECT name_tokens(spelling) FROM ref.holder_spellings"
    ).fetchall() if len(w.replace(" ", "")) >= 3})
    buyer_sirens = sorted({s for (s,) in con.execute(
        "SELECT b.siren FROM ref.bodies b JOIN ref.beneficiaries x ON x.body_id = b.body_id WHERE b.siren IS NOT NULL"
    ).fetchall()})
    buyer_names = sorted({w for (w,) in con.execute("""
        SELECT name_tokens(s.spelling) FROM ref.body_spellings s JOIN ref.beneficiaries b ON b.body_id = s.body_id
        UNION
        SELECT name_tokens(s.spelling) FROM ref.body_spellings s
        JOIN ref.beneficiaries b ON s.body_id = 'ministere:' || b.ministry
        UNION
        SELECT name_tokens(s.spelling) FROM ref.body_spellings s
        JOIN ref.bodies o ON o.body_id = s.body_id
        JOIN ref.beneficiaries b ON b.scope = 'ministere' AND o.ministry = b.ministry
        UNION
        SELECT name_tokens(s.spelling) FROM ref.body_spellings s
        WHERE (s.body_id LIKE 'ministere:%'
               OR s.body_id IN (SELECT body_id FROM ref.bodies WHERE kind IN ('ministere', 'service')))
          AND EXISTS (SELECT 1 FROM ref.beneficiaries b WHERE b.scope = 'tous_ministeres')
    """).fetchall() if len(w.replace(" ", "")) >= 3})
    return {"codes": sorted(codes), "sirens": sirens, "holder_names": holder_names,
            "buyer_sirens": buyer_sirens, "buyer_names": buyer_names}


def filter_fingerprint(filters: dict) -> str:
    return hashlib.sha256(json.dumps(filters, sort_keys=True).encode()).hexdigest()[:16]


def _reader(fmt: str) -> str:
    return "read_parquet($path)" if fmt == "parquet" else "read_csv($path, header = true, all_varchar = true)"


def _words_prefix(names: list[str]) -> str:
    """One anchored alternation: the name starts with one of these word sequences (they
    are name_tokens'd: only a-z, 0-9 and single spaces, nothing to escape)."""
    return "^(?:" + "|".join(names) + ")(?: |$)" if names else "a^"  # "a^" matches nothing


def decp_params(filters: dict) -> dict:
    """The filters as the query's bound parameters. The agreement codes become one
    anchored alternation (they are norm_key'd: only a-z and 0-9, nothing to escape) —
    a regular expression per row is 8 times cheaper than a list of prefixes per row."""
    codes = filters["codes"]
    return {
        "codes_prefix": "^(?:" + "|".join(codes) + ")" if codes else "a^",
        "holder_words": _words_prefix(filters["holder_names"]),
        "buyer_words": _words_prefix(filters["buyer_names"]),
        **{k: filters[k] for k in ("sirens", "buyer_sirens")},
    }


# The candidate filter only (broad): which agreement a row belongs to is int.decp_agreement_matches.
DECP_WHERE = """
    regexp_matches(norm_key("idAccordCadre"), $codes_prefix)
    OR (
        (list_contains($sirens, left(CAST("titulaire_id" AS VARCHAR), 9))
         OR regexp_matches(holder_words("titulaire_nom"), $holder_words))
        AND (list_contains($buyer_sirens, left(CAST("acheteur_id" AS VARCHAR), 9))
             OR regexp_matches(name_tokens("acheteur_nom"), $buyer_words))
    )
"""


NEEDED = ("idAccordCadre", "titulaire_id", "titulaire_nom", "acheteur_id", "acheteur_nom")
DATE_COLUMNS = {"dateNotification", "datePublicationDonnees"}
MOJIBAKE_COLUMNS = ("acheteur_nom", "titulaire_nom", "objet")
# 'Ã©' for 'é', 'â€™' for '’': UTF-8 read as Latin-1 somewhere upstream.
MOJIBAKE = "Ã[\u0080-\u00bf]|â€"
EARLIEST_DATE = "2000-01-01"  # DECP exist since 2018; a contract of year 218 is a typo


def column_types(con, path: Path, fmt: str) -> dict[str, str]:
    """column -> type, as DuckDB reads the file."""
    return {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM {_reader(fmt)}",  # noqa: S608 - reader is a constant
                                            {"path": str(path)}).fetchall()}


def present_columns(con, path: Path, fmt: str) -> set[str]:
    return set(column_types(con, path, fmt))


def missing_columns(con, path: Path, fmt: str) -> list[str] | None:
    """The contract columns a candidate file lacks; None when DuckDB cannot read it."""
    try:
        present = present_columns(con, path, fmt)
    except Exception:  # noqa: BLE001 - any reader error means "not this file"
        return None
    return sorted(set(NEEDED) - present)


def _cast(name: str, sql_type: str, source_type: str = "VARCHAR") -> str:
    if name in DATE_COLUMNS and source_type not in SAFE_SOURCES["DATE"]:
        return f'decp_date("{name}")'  # text: the forms real files carry
    return f'TRY_CAST("{name}" AS {sql_type})'


def _value(name: str, sql_type: str, source_type: str) -> str:
    """The loaded value: cast; an impossible date (before 2000, after next year) is NULL."""
    cast = _cast(name, sql_type, source_type)
    if name in DATE_COLUMNS:
        return f"CASE WHEN {cast} BETWEEN DATE '{EARLIEST_DATE}' AND $latest THEN {cast} END"
    return cast


def select_list(con, path: Path, fmt: str) -> str:
    """The published columns, cast to the schema's types; absent ones are NULL."""
    types = column_types(con, path, fmt)
    parts = []
    for name, sql_type in decp_columns():
        if name in types:
            parts.append(f'{_value(name, sql_type, types[name])} AS "{name}"')
        else:
            parts.append(f'CAST(NULL AS {sql_type}) AS "{name}"')
    return ", ".join(parts)


SAFE_SOURCES = {  # source types that always convert to the column's type: nothing to count
    "DOUBLE": {"DOUBLE", "FLOAT", "BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER"},
    "BIGINT": {"BIGINT", "INTEGER", "SMALLINT", "TINYINT", "UINTEGER"},
    "DATE": {"DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE"},
    "BOOLEAN": {"BOOLEAN"},
}


def quality_checks(types: dict[str, str]) -> list[tuple[str, str, str, str]]:
    """(column, problem, condition, example) for every check that applies to the file
    (`types`: column -> type as DuckDB reads it): values that do not cast (they would
    become NULL), impossible dates, mojibake. A typed parquet column needs no cast check."""
    checks = []
    for name, sql_type in decp_columns():
        if name not in types:
            continue
        raw = f'"{name}"'
        text = raw if types[name] == "VARCHAR" else f"CAST({raw} AS VARCHAR)"
        if sql_type != "VARCHAR" and types[name] not in SAFE_SOURCES.get(sql_type, set()):
            given = f"({raw} IS NOT NULL AND trim({text}) <> '')"
            checks.append((name, "conversion", f"{given} AND {_cast(name, sql_type, types[name])} IS NULL", raw))
        if name in DATE_COLUMNS:
            cast = _cast(name, sql_type, types[name])
            checks.append((name, "date_impossible",
                           f"{cast} IS NOT NULL AND NOT ({cast} BETWEEN DATE '{EARLIEST_DATE}' AND $latest)", raw))
        if name in MOJIBAKE_COLUMNS:
            checks.append((name, "mojibake", f"regexp_matches({text}, $mojibake)", raw))
    return checks


def measure_quality(con, path: Path, fmt: str, latest) -> tuple[int, list[dict]]:
    """One scan of the whole file: rows read and, per column and problem, how many values
    and one example. -> (rows_read, [{column, problem, values, example}])."""
    checks = quality_checks(column_types(con, path, fmt))
    parts = ["count(*)"]
    for _name, _problem, condition, raw in checks:
        parts.append(f"count(*) FILTER (WHERE {condition})")
        parts.append(f"CAST(any_value({raw}) FILTER (WHERE {condition}) AS VARCHAR)")
    query = f"SELECT {', '.join(parts)} FROM {_reader(fmt)}"  # noqa: S608 - schema names only
    params = {"path": str(path), "latest": latest, "mojibake": MOJIBAKE}
    row = con.execute(query, {k: v for k, v in params.items() if f"${k}" in query}).fetchone()
    found = []
    for i, (name, problem, _condition, _raw) in enumerate(checks):
        count, example = row[1 + 2 * i], row[2 + 2 * i]
        if count:
            found.append({"column_name": name, "problem": problem, "values_count": count, "example": example})
    return row[0], found


def load_decp(con, path: Path, fmt: str, filters: dict, resource: dict, latest=None) -> int:
    """Replace raw.decp_contracts with the rows of the file that may concern the agreements
    (candidates: the match itself is int.decp_agreement_matches, in SQL). Runs in the
    caller's transaction. No pandas: DuckDB scans the file."""
    missing = sorted(set(NEEDED) - present_columns(con, path, fmt))
    if missing:
        raise SourceError(f"La ressource DECP {resource_name(resource)} n'a pas les colonnes des contrats "
                          f"({', '.join(missing)} absentes) : ce n'est pas le fichier attendu. "
                          "Les contrats déjà chargés restent en place.")
    columns = select_list(con, path, fmt)
    con.execute("DELETE FROM raw.decp_contracts")
    params = {"path": str(path), "resource": resource["resource_id"], "checksum": resource.get("checksum_value"),
              **decp_params(filters)}
    if "$latest" in columns:  # callers without a clock (benchmarks) flag no future date
        params["latest"] = latest or date(9999, 12, 31)
    con.execute(
        f"""INSERT INTO raw.decp_contracts
            SELECT {columns}, $resource AS vigie_resource_id, $checksum AS vigie_checksum,
                   NULL AS vigie_match
            FROM {_reader(fmt)}
            WHERE {DECP_WHERE}""",  # noqa: S608 - only schema names and constants are interpolated
        params,
    )
    # Why each row was kept, from the one match (int.decp_agreement_matches), not a second one here.
    con.execute("""UPDATE raw.decp_contracts SET vigie_match = CASE WHEN rowid IN (
                       SELECT decp_row FROM int.decp_agreement_matches WHERE method = 'id_accord_cadre')
                   THEN 'accord_cadre' ELSE 'titulaire_beneficiaire' END""")
    return warehouse.scalar(con, "SELECT count(*) FROM raw.decp_contracts")


def record_load(con, resource: dict, now, rows_read: int, rows_kept: int, fingerprint: str,
                quality: list[dict]) -> None:
    con.execute(
        "INSERT INTO raw.decp_loads (resource_id, url, format, checksum_type, checksum_value, filesize, "
        "last_modified, loaded_at, rows_kept, filter_sha256, resource_title, rows_read) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [resource["resource_id"], resource["url"], resource["format"], resource["checksum_type"],
         resource["checksum_value"], resource["filesize"], resource["last_modified"], now, rows_kept,
         fingerprint, resource.get("title"), rows_read])
    warehouse.insert_rows(con, "raw.decp_load_quality", [
        {"loaded_at": now, "resource_id": resource["resource_id"], "resource_title": resource.get("title"), **q}
        for q in quality
    ], ["loaded_at", "resource_id", "resource_title", "column_name", "problem", "values_count", "example"])


PROBLEM_FR = {"conversion": "valeur(s) illisible(s) (NULL)", "date_impossible": "date(s) impossible(s) (NULL)",
              "mojibake": "texte(s) mal encodé(s) (gardé(s) tel(s) quel(s))"}


def quality_summary(quality: list[dict]) -> str:
    """French, for the step message: the problems counted, biggest first."""
    if not quality:
        return ""
    parts = [f"{q['column_name']} : {q['values_count']} {PROBLEM_FR[q['problem']]}"
             for q in sorted(quality, key=lambda q: -q["values_count"])]
    return " ; valeurs non lues : " + ", ".join(parts[:5]) + (" …" if len(parts) > 5 else "")


# ------------------------------------------------------------------ the source (see sources/runner.py)


DATA_LABEL = LABEL


def fetch(job) -> dict:
    """The agreements' datasets (conditional GETs) and the DECP contracts file (downloaded
    when it changed), with what the warehouse says of the last DECP load."""
    settings, con = job.settings, job.con
    if settings.offline:
        raise Skip("Mode hors ligne : data.gouv.fr n'est pas interrogé.")
    base, conf = settings.datagouv_api, settings.datagouv
    keys = [(agreement_id, slug) for agreement_id, slug in con.execute(
        "SELECT agreement_id, coalesce(datagouv_id, datagouv_slug) FROM ref.agreements "
        "WHERE coalesce(datagouv_id, datagouv_slug) IS NOT NULL ORDER BY 1").fetchall()]
    keys.append(("decp", conf.decp_dataset))
    cache = {url: (etag, lm) for url, etag, lm in con.execute(
        "SELECT url, etag, last_modified FROM meta.http_cache WHERE url LIKE ?", [f"{base}/datasets/%"]).fetchall()}
    client = HttpClient(settings)
    try:
        fetched = [(config_key, *fetch_dataset(client, base, key, cache)) for config_key, key in keys]
        decp_doc = next((f for f in fetched if f[0] == "decp"), None)
        decp_resources = parse_resources(decp_doc[2]) if decp_doc and decp_doc[1] else _stored_resources(con, "decp")
        resource, path, downloaded = choose_decp(client, con, decp_resources, conf, settings.downloads / "decp")
    finally:
        client.close()
    last = con.execute("SELECT checksum_value, filter_sha256, resource_id FROM raw.decp_loads "
                       "ORDER BY loaded_at DESC LIMIT 1").fetchone()
    stored = set(con.execute("SELECT config_key, payload_sha256 FROM raw.datagouv_datasets").fetchall())
    return {"now": settings.now(), "fetched": fetched, "cache": cache, "resource": resource, "path": path,
            "downloaded": downloaded, "filters": decp_filters(con), "last_load": last, "stored": stored}


def parse(raw: dict, today: date) -> dict:
    """The datasets to store (new payloads only) and whether DECP is loaded again: a new
    file, another resource, or other agreements (the filter's fingerprint)."""
    datasets, unchanged = [], 0
    for config_key, doc, items, body in raw["fetched"]:
        if doc is None:
            unchanged += 1
            continue
        sha = hashlib.sha256(body).hexdigest()
        datasets.append({"config_key": config_key, "sha": sha, "new": (config_key, sha) not in raw["stored"],
                         "info": parse_dataset(doc), "resources": parse_resources(items),
                         "body": body.decode("utf-8-sig")})
    fingerprint, last, resource = filter_fingerprint(raw["filters"]), raw["last_load"], raw["resource"]
    reload = bool(raw["downloaded"] or last is None or last[1] != fingerprint or last[2] != resource["resource_id"]
                  or (resource["checksum_value"] and last[0] != resource["checksum_value"]))
    return {**raw, "datasets": datasets, "unchanged": unchanged, "fingerprint": fingerprint, "reload": reload,
            "latest": today.replace(year=today.year + 1)}


def load(con, parsed: dict) -> Loaded:
    now, resource = parsed["now"], parsed["resource"]
    counts = {"jeux_de_donnees": len(parsed["datasets"]), "jeux_inchanges": parsed["unchanged"],
              "decp_telecharge": parsed["downloaded"], "decp_lignes": None}
    changed = False
    for d in parsed["datasets"]:
        if d["new"]:
            _store_dataset(con, d, now)
            changed = True
    for url, (etag, lm) in parsed["cache"].items():
        con.execute("INSERT OR REPLACE INTO meta.http_cache VALUES (?, ?, ?, NULL, ?)", [url, etag, lm, now])
    if parsed["reload"]:
        counts.update(_reload_decp(con, parsed))
        changed = True
    if not changed:
        return Loaded("inchange", "data.gouv.fr : jeux de données et DECP inchangés.", counts, False, now)
    kept = "" if counts["decp_lignes"] is None else (
        f" ; DECP ({resource_name(resource)}) : {counts['decp_lues']} ligne(s) lue(s), "
        f"{counts['decp_lignes']} contrat(s) retenu(s)" + quality_summary(counts["decp_qualite"]))
    return Loaded("ok", f"data.gouv.fr : {counts['jeux_de_donnees']} jeu(x) de données actualisé(s){kept}.",
                  counts, True, now)


def _store_dataset(con, d: dict, now) -> None:
    info = d["info"]
    con.execute("INSERT INTO raw.datagouv_datasets VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [d["config_key"], info["dataset_id"], info["slug"], info["title"], info["organization"],
                 info["last_modified"], d["sha"], now, d["body"]])
    warehouse.insert_rows(con, "raw.datagouv_resources", [
        {"dataset_id": info["dataset_id"], "payload_sha256": d["sha"], **r} for r in d["resources"]
    ], ["dataset_id", "payload_sha256", "resource_id", "title", "format", "type", "url", "filesize", "mime",
        "last_modified", "checksum_type", "checksum_value"])


def _reload_decp(con, parsed: dict) -> dict:
    """DECP's candidate rows in place of the previous ones, and the load recorded."""
    resource, path, latest = parsed["resource"], parsed["path"], parsed["latest"]
    try:
        rows_read, quality = measure_quality(con, path, resource["format"], latest)
        rows = load_decp(con, path, resource["format"], parsed["filters"], resource, latest)
    except SourceError:
        raise
    except Exception as exc:  # a file DuckDB cannot read
        raise SourceError(f"La ressource DECP {resource_name(resource)} est illisible "
                          f"({exc.__class__.__name__}) : les contrats déjà chargés restent en place.") from None
    record_load(con, resource, parsed["now"], rows_read, rows, parsed["fingerprint"], quality)
    return {"decp_lignes": rows, "decp_lues": rows_read, "decp_qualite": quality}


def choose_decp(client: HttpClient, con, resources: list[dict], conf, folder: Path):
    """The DECP contracts file: the first candidate (see `rank_resources`) whose columns
    are those of the contracts. -> (resource, path, downloaded?)."""
    candidates = rank_resources(resources, list(conf.decp_resource_ids),
                                list(conf.decp_resources))
    if not candidates:
        listed = ", ".join(resource_name(r) for r in resources) or "aucune"
        raise SourceError("Le jeu de données DECP de data.gouv.fr ne propose ni fichier parquet ni fichier CSV "
                          f"(ressources publiées : {listed}).")
    refused = []
    for resource in candidates[:4]:
        try:
            path, downloaded = download(client, resource, folder)
        except SourceError as exc:  # name the resource by its title, not only its address
            raise SourceError(f"Ressource DECP {resource_name(resource)} : {exc.message}") from None
        missing = missing_columns(con, path, resource["format"])
        if missing == []:
            return resource, path, downloaded
        refused.append(f"{resource_name(resource)} ("
                       + ("illisible" if missing is None else f"colonnes {', '.join(missing)} absentes") + ")")
    raise SourceError("Aucune ressource du jeu DECP n'est le fichier des contrats : "
                      + " ; ".join(refused) + ". Indiquez la bonne dans [datagouv] decp_resource_ids ou "
                      "decp_resources. Les contrats déjà chargés restent en place.")


def decp_status(con) -> dict | None:
    """The last DECP load for `vigie status`: what was read and what could not be."""
    row = con.execute("SELECT loaded_at, resource_title, resource_id, rows_read, rows_kept FROM raw.decp_loads "
                      "ORDER BY loaded_at DESC LIMIT 1").fetchone()
    if row is None:
        return None
    quality = [dict(zip(["column_name", "problem", "values_count", "example"], r, strict=True)) for r in con.execute(
        "SELECT column_name, problem, values_count, example FROM stg.decp__load_quality ORDER BY values_count DESC, 1"
    ).fetchall()]
    review = con.execute("SELECT count(*), count(*) FILTER (WHERE method = 'siren') FROM mart.decp_review").fetchone()
    return {"loaded_at": row[0], "resource_title": row[1], "resource_id": row[2], "rows_read": row[3],
            "rows_kept": row[4], "quality": quality, "review": review[0], "review_by_siren": review[1]}


def render_decp_status(status: dict | None) -> list[str]:
    """French lines for `vigie status`."""
    if status is None:
        return []
    title = resource_name({"title": status["resource_title"], "resource_id": status["resource_id"]})
    read = "?" if status["rows_read"] is None else f"{status['rows_read']:,}".replace(",", "\u202f")
    lines = ["", f"DECP : ressource {title}, {read} ligne(s) lue(s), {status['rows_kept']} contrat(s) retenu(s)"]
    for q in status["quality"]:
        lines.append(f"  {q['column_name']} : {q['values_count']} {PROBLEM_FR[q['problem']]}"
                     + (f" — ex. « {q['example']} »" if q["example"] else ""))
    if status["review"]:
        lines.append(f"  {status['review']} contrat(s) rattaché(s) à un accord-cadre par le nom du titulaire et de "
                     "l'acheteur (sans idAccordCadre) : à revoir (vue mart.decp_review)")
    return lines


def _stored_resources(con, config_key: str) -> list[dict]:
    """The resource list last stored for a dataset (used when it answered 304)."""
    cursor = con.execute(
        "SELECT r.resource_id, r.title, r.format, r.type, r.url, r.filesize, r.mime, r.last_modified, "
        "r.checksum_type, r.checksum_value FROM raw.datagouv_resources r "
        "JOIN (SELECT payload_sha256 FROM raw.datagouv_datasets WHERE config_key = ? "
        "      ORDER BY fetched_at DESC LIMIT 1) d USING (payload_sha256)", [config_key])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
