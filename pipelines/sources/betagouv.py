"""beta.gouv.fr API: the list of Startups d'État, organisations and incubators.

fetch(job) -> raw                  I/O: conditional GETs (fetch_payloads), or a local folder
parse_*(document) -> rows          pure: shape detection (v2.5, v2.6, v2.7), HTML entities
                                   unescaped, personal contacts dropped
load(con, parsed) -> Loaded        writes raw.* in the runner's transaction (store)

Every distinct payload is kept, and every change of the (startups, organisations,
incubators) triple is a snapshot, so "was this startup listed on that date, in which
phase?" can be answered later (see `startup_on`).
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlparse

from pipelines import fr
from pipelines.config import PACKAGE_DIR, PARIS, command_hint
from pipelines.errors import SourceError
from pipelines.http import Fetched, HttpClient, InvalidPayload
from pipelines.sources.helpers import decode_json
from pipelines.sources.runner import Loaded, Skip
from pipelines.text import norm_key, unescape
from pipelines.warehouse import insert_rows

SOURCE = "betagouv"
LABEL = "API beta.gouv.fr"
ENDPOINTS = ("startups", "organisations", "incubators")


# ------------------------------------------------------------------ parse (pure)


def _strip_org(value) -> str | None:
    if not value:
        return None
    text = str(value).strip()
    return text.removeprefix("/organisations/").strip("/") or None


def _strip_incubator(value) -> str | None:
    # v2.5 wrote `included[].id` as "/incubators/ademe" where relationships say "ademe".
    if not value:
        return None
    return str(value).strip().removeprefix("/incubators/").strip("/") or None


def _date(value) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _text(value):
    if value is None:
        return None
    text = unescape(str(value)).strip()
    return text or None


def detect_version(document: dict) -> str:
    """From the payload itself (the URL may lie): v2.7 lists `relationships.incubators`,
    v2.6 added `attributes.sponsors`, v2.5 had neither (and prefixed included ids)."""
    items = document.get("data") or []
    if any("incubators" in (item.get("relationships") or {}) for item in items):
        return "v2.7"
    if any("sponsors" in (item.get("attributes") or {}) for item in items):
        return "v2.6"
    return "v2.5"


def _bad(field_name: str, startup_id, expected: str) -> InvalidPayload:
    return InvalidPayload(
        f"startups.json : le champ « {field_name} » de la startup « {startup_id} » "
        f"n'a pas la forme attendue ({expected})"
    )


def _check_item(item: dict) -> None:
    """Every nested field Vigie reads, with its type: a wrong shape names the field and the id."""
    sid = item["id"]
    attrs = item["attributes"]
    _check_relationships(item.get("relationships"), sid)
    for key in ("sponsors", "thematiques"):
        value = attrs.get(key)
        if value is not None and (
            not isinstance(value, list) or not all(isinstance(v, str) for v in value)
        ):
            raise _bad(f"attributes.{key}", sid, "une liste de textes")
    for key in ("name", "pitch", "link", "repository"):
        value = attrs.get(key)
        if value is not None and not isinstance(value, str | int | float):
            raise _bad(f"attributes.{key}", sid, "un texte")
    _check_phases(attrs["phases"], sid)


def _check_relationships(rel, sid) -> None:
    if rel is not None and not isinstance(rel, dict):
        raise _bad("relationships", sid, "un objet")
    for key in ("incubator", "incubators"):
        link = (rel or {}).get(key)
        if link is None:
            continue
        if not isinstance(link, dict):
            raise _bad(f"relationships.{key}", sid, "un objet")
        data = link.get("data")
        targets = data if key == "incubators" else [data]
        if key == "incubators" and data is not None and not isinstance(data, list):
            raise _bad("relationships.incubators.data", sid, "une liste")
        for target in targets or []:
            if target is not None and not isinstance(target, dict):
                raise _bad(f"relationships.{key}.data", sid, "un objet avec un « id »")


def _check_phases(phases, sid) -> None:
    for position, phase in enumerate(phases):
        if not isinstance(phase, dict):
            raise _bad(f"attributes.phases[{position}]", sid, "un objet")
        for key in ("name", "start", "end"):
            value = phase.get(key)
            if value is not None and not isinstance(value, str):
                raise _bad(f"attributes.phases[{position}].{key}", sid, "un texte")


def check_startups(document) -> None:
    """The shape every version shares; anything else is a schema change."""
    if not isinstance(document, dict) or not isinstance(document.get("data"), list):
        raise InvalidPayload("startups.json n'a pas la forme attendue (liste « data » absente)")
    if not document["data"]:
        raise InvalidPayload("startups.json ne contient aucune startup")
    for item in document["data"]:
        attrs = item.get("attributes") if isinstance(item, dict) else None
        if not isinstance(item, dict) or not item.get("id") or not isinstance(attrs, dict):
            raise InvalidPayload("startups.json : une entrée n'a pas d'« id » ou d'« attributes »")
        if not isinstance(item["id"], str | int):
            raise InvalidPayload("startups.json : un « id » de startup n'est pas un texte")
        for key in ("name", "phases"):
            if key not in attrs:
                raise InvalidPayload(
                    f"startups.json : la clé « {key} » manque pour la startup « {item['id']} » "
                    "(le format de l'API a changé)"
                )
        if not isinstance(attrs["phases"], list):
            raise InvalidPayload(
                f"startups.json : « phases » n'est pas une liste (startup « {item['id']} »)"
            )
        _check_item(item)
    included = document.get("included")
    if included is not None and not isinstance(included, list):
        raise InvalidPayload("startups.json : le champ « included » n'est pas une liste")
    for inc in included or []:
        if isinstance(inc, dict) and not isinstance(inc.get("attributes") or {}, dict):
            raise InvalidPayload(
                f"startups.json : le champ « included[].attributes » de l'incubateur "
                f"« {inc.get('id')} » n'a pas la forme attendue (un objet)"
            )


def impossible_date(value: date | None, today: date | None) -> bool:
    """A phase date more than a year ahead is a typo (the real `2120-06-01`)."""
    return value is not None and today is not None and value.year > today.year + 1


def _phase_rows(startup_id: str, phases: list, today: date | None):
    """-> (phases kept, phases quarantined with their reason)."""
    kept, quarantined = [], []
    for position, phase in enumerate(phases):
        if not phase.get("name"):
            continue
        row = {
            "startup_id": startup_id,
            "position": position,
            "phase": str(phase["name"]).strip(),
            "start_date": _date(phase.get("start")),
            "end_date": _date(phase.get("end")),
        }
        bad = [k for k in ("start", "end") if impossible_date(row[f"{k}_date"], today)]
        if bad:
            key = bad[0]
            quarantined.append({
                "startup_id": startup_id,
                "position": position,
                "phase": row["phase"],
                "field": f"phases[{position}].{key}",
                "value": str(phase.get(key)),
                "reason": (
                    f"date de phase impossible ({phase.get(key)}) : postérieure à "
                    f"{today.year + 1}, faute de saisie probable ; phase mise de côté"
                ),
            })
        else:
            kept.append(row)
    return kept, quarantined


def parse_startups(
    document: dict, today: date | None = None
) -> tuple[list[dict], list[dict], list[dict], list[dict]]:
    """-> (startups, phases, incubators from `included`, quarantined phases)."""
    check_startups(document)
    startups, phases, quarantined = [], [], []
    for item in document["data"]:
        attrs = item["attributes"]
        rel = item.get("relationships") or {}
        main = _strip_incubator(((rel.get("incubator") or {}).get("data") or {}).get("id"))
        listed = [
            _strip_incubator(i.get("id"))
            for i in ((rel.get("incubators") or {}).get("data") or [])
            if i and i.get("id")
        ]
        startup_id = str(item["id"])
        startups.append(
            {
                "startup_id": startup_id,
                "name": _text(attrs.get("name")),
                "pitch": _text(attrs.get("pitch")),
                "incubator_id": main or (listed[0] if listed else None),
                "incubator_ids": listed or ([main] if main else []),
                "sponsors": [s for s in (_strip_org(x) for x in attrs.get("sponsors") or []) if s],
                "has_sponsors_key": "sponsors" in attrs,
                "link": _text(attrs.get("link")),
                "repository": _text(attrs.get("repository")),
                "thematiques": [unescape(t) for t in attrs.get("thematiques") or []],
            }
        )
        kept, put_aside = _phase_rows(startup_id, attrs["phases"], today)
        phases += kept
        quarantined += put_aside
    incubators = []
    for inc in document.get("included") or []:
        if (
            not isinstance(inc, dict)
            or inc.get("type", "incubator") != "incubator"
            or not inc.get("id")
        ):
            continue
        attrs = inc.get("attributes") or {}
        incubators.append(
            {
                "incubator_id": _strip_incubator(inc["id"]),
                "title": _text(attrs.get("title")),
                "owner_id": _strip_org(attrs.get("owner")),
                "website": _text(attrs.get("website")),
                "startup_ids": [],
            }
        )
    return startups, phases, incubators, quarantined


def parse_organisations(document) -> list[dict]:
    # v2.6+/v2.7: a list; v2.5 (sponsors.json) was keyed by '/organisations/<id>'.
    if isinstance(document, dict):
        items = [{"id": k, **v} for k, v in document.items() if isinstance(v, dict)]
    elif isinstance(document, list):
        items = document
    else:
        raise InvalidPayload("organisations.json n'a pas la forme attendue (liste ou objet)")
    if not items:
        raise InvalidPayload("organisations.json ne contient aucune organisation")
    rows = []
    for item in items:
        if not isinstance(item, dict) or not item.get("id") or "name" not in item:
            raise InvalidPayload(
                "organisations.json : une organisation n'a pas d'« id » ou de « name »"
            )
        for key in ("id", "name", "acronym", "domaine_ministeriel", "type"):
            if item.get(key) is not None and not isinstance(item[key], str):
                raise InvalidPayload(
                    f"organisations.json : le champ « {key} » de l'organisation "
                    f"« {item.get('id')} » n'est pas un texte"
                )
        rows.append(
            {
                "organisation_id": _strip_org(item["id"]),
                "name": _text(item.get("name")),
                "acronym": _text(item.get("acronym")),
                "domaine_ministeriel": _text(item.get("domaine_ministeriel")),
                "type": _text(item.get("type")),
                "origin": "organisations.json",
            }
        )
    return rows


def parse_incubators(document) -> list[dict]:
    if isinstance(document, dict):
        items = [{"id": k, **v} for k, v in document.items() if isinstance(v, dict)]
    elif isinstance(document, list):
        items = document
    else:
        raise InvalidPayload("incubators.json n'a pas la forme attendue (liste ou objet)")
    if not items:
        raise InvalidPayload("incubators.json ne contient aucun incubateur")
    rows = []
    for item in items:
        if not isinstance(item, dict) or not item.get("id"):
            raise InvalidPayload("incubators.json : un incubateur n'a pas d'« id »")
        startups = item.get("startups")
        if startups is not None and not isinstance(startups, list):
            raise InvalidPayload(
                f"incubators.json : le champ « startups » de l'incubateur « {item['id']} » "
                "n'est pas une liste"
            )
        for key in ("title", "owner", "website"):
            if item.get(key) is not None and not isinstance(item[key], str):
                raise InvalidPayload(
                    f"incubators.json : le champ « {key} » de l'incubateur « {item['id']} » "
                    "n'est pas un texte"
                )
        rows.append(
            {
                "incubator_id": _strip_incubator(item["id"]),
                "title": _text(item.get("title")),
                "owner_id": _strip_org(item.get("owner")),
                "website": _text(item.get("website")),
                "startup_ids": [
                    str(s["id"])
                    for s in startups or []
                    if isinstance(s, dict) and s.get("id")
                ],
            }
        )
    return rows


DERIVED_URL = "deduit://incubateurs+sponsors"
DERIVED_NOTE = (
    "organisations.json absent (API v2.5) : ministères déduits des propriétaires "
    "d'incubateurs et des sponsors"
)


def derive_organisations(
    startups: list[dict], incubators: list[dict], known: dict[str, dict]
) -> list[dict]:
    """v2.5 served no organisations.json: the organisations are those the incubators'
    owners and the startups' sponsors name, their ministry taken from `known`
    (id -> {name, domaine_ministeriel, type}, the later API's list, keyed by id and by
    normalised name: the Justice incubator's owner is written « Ministère de la Justice »)."""
    seen: dict[str, str] = {}
    for inc in incubators:
        if inc.get("owner_id"):
            seen.setdefault(inc["owner_id"], "incubateurs")
    for s in startups:
        for sponsor in s.get("sponsors") or []:
            seen.setdefault(sponsor, "sponsors")
    rows = []
    for org_id, origin in sorted(seen.items()):
        ref = known.get(org_id) or known.get(norm_key(org_id)) or {}
        rows.append({
            "organisation_id": org_id,
            "name": ref.get("name") or org_id,
            "acronym": None,
            "domaine_ministeriel": ref.get("domaine_ministeriel") or None,
            "type": ref.get("type") or None,
            "origin": f"deduit:{origin}",
        })
    return rows


def known_organisations() -> dict[str, dict]:
    """The organisations of a later API (pipelines/reference/betagouv_organisations.csv),
    by id and by normalised name."""
    path = PACKAGE_DIR / "reference" / "betagouv_organisations.csv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    known = {r["organisation_id"]: r for r in rows}
    known.update({norm_key(r["name"]): r for r in rows})
    return known


def derived_payload(startups_payload: Payload, incubators_payload: Payload) -> Payload:
    rows = derive_organisations(
        startups_payload.parsed["startups"],
        incubators_payload.parsed["rows"] + startups_payload.parsed["included"],
        known_organisations(),
    )
    body = json.dumps(
        {"note": DERIVED_NOTE, "organisations": rows}, ensure_ascii=False, sort_keys=True
    ).encode("utf-8")
    return Payload(
        "organisations", DERIVED_URL, body, hashlib.sha256(body).hexdigest(), None, None, True,
        {"rows": rows, "derived": True},
    )


PARSERS = {
    "organisations": parse_organisations,
    "incubators": parse_incubators,
}


def parse_payload(
    endpoint: str, body: bytes, content_type: str | None = None, today: date | None = None
) -> dict:
    document = decode_json(body, content_type, f"{endpoint}.json")
    try:
        if endpoint == "startups":
            startups, phases, included, quarantined = parse_startups(document, today)
            return {
                "version": detect_version(document),
                "startups": startups,
                "phases": phases,
                "included": included,
                "quarantined": quarantined,
            }
        return {"rows": PARSERS[endpoint](document)}
    except RecursionError:  # deep nesting inside a field the checks walk
        raise InvalidPayload(
            f"{endpoint}.json : structure imbriquée trop profondément"
        ) from None
    except (AttributeError, TypeError, KeyError, ValueError) as exc:
        # A shape the checks above did not foresee: still a French refusal, never a crash.
        raise InvalidPayload(
            f"{endpoint}.json : un champ n'a pas la forme attendue ({exc.__class__.__name__})"
        ) from None


# ------------------------------------------------------------------ fetch (I/O)


@dataclass
class Payload:
    endpoint: str
    url: str
    body: bytes
    sha256: str
    etag: str | None
    last_modified: str | None
    changed: bool  # False when the server answered 304
    parsed: dict = field(default_factory=dict)


@dataclass
class Snapshot:
    payloads: dict[str, Payload]
    fetched_at: datetime
    data_as_of: datetime
    mode: str  # http | fichier
    base_url: str


def is_local(base: str) -> bool:
    return base.startswith("file://") or not urlparse(base).scheme or Path(base).is_dir()


def _local_folder(base: str) -> Path:
    return Path(urlparse(base).path if base.startswith("file://") else base)


def read_local(base: str, now: datetime) -> Snapshot:
    """A folder holding the three files (the embedded sample, or a manual capture; a v2.5
    capture has no organisations.json)."""
    folder = _local_folder(base)
    payloads = {}
    for endpoint in ("startups", "incubators", "organisations"):
        path = folder / f"{endpoint}.json"
        if not path.exists():
            if endpoint == "organisations" and payloads["startups"].parsed["version"] == "v2.5":
                payloads[endpoint] = derived_payload(payloads["startups"], payloads["incubators"])
                continue
            raise SourceError(
                f"Le dossier {folder} ne contient pas {endpoint}.json (source {LABEL})."
            )
        body = path.read_bytes()
        try:
            parsed = parse_payload(endpoint, body, today=now.date())
        except InvalidPayload as exc:
            raise SourceError(f"Le fichier {path} est refusé : {exc}.") from None
        payloads[endpoint] = Payload(
            endpoint,
            path.as_uri(),
            body,
            hashlib.sha256(body).hexdigest(),
            None,
            None,
            True,
            parsed,
        )
    as_of = now
    meta = folder / "snapshot.json"
    if meta.exists():
        captured = json.loads(meta.read_text(encoding="utf-8")).get("captured_at")
        if captured:
            as_of = datetime.fromisoformat(captured)
    return Snapshot(payloads, now, as_of, "fichier", str(folder))


def _fetch_one(client, url, endpoint, cache, stored_bodies, today) -> Payload:
    etag, last_modified, sha = cache.get(url, (None, None, None))
    if sha is None:
        etag = last_modified = None  # nothing stored to reuse: ask for the full body

    parsed: dict = {}

    def validate(body, content_type):
        # Parsing is the validation: a bad body is retried like a network fault.
        parsed["value"] = parse_payload(endpoint, body, content_type, today)

    got: Fetched = client.get(url, LABEL, etag, last_modified, validate=validate)
    if got.status == 304:
        body = stored_bodies(sha)
        try:
            value = parse_payload(endpoint, body, today=today)
        except InvalidPayload as exc:
            raise SourceError(f"La copie conservée de {url} est refusée : {exc}.") from None
        return Payload(endpoint, url, body, sha, etag, last_modified, False, value)
    return Payload(
        endpoint,
        url,
        got.body,
        hashlib.sha256(got.body).hexdigest(),
        got.etag,
        got.last_modified,
        True,
        parsed["value"],
    )


def fetch_payloads(
    client: HttpClient, base: str, cache: dict[str, tuple], stored_bodies, today: date | None = None
) -> dict[str, Payload]:
    """Conditional GET of the endpoints. `cache[url] = (etag, last_modified, sha)`;
    `stored_bodies(sha)` returns the body kept in the warehouse for a 304. The version is
    read from startups.json: a v2.5 API has no organisations.json (it answers 404), so
    organisations are then derived from the incubators and sponsors instead."""
    payloads = {}
    for endpoint in ("startups", "incubators"):
        url = f"{base}/{endpoint}.json"
        payloads[endpoint] = _fetch_one(client, url, endpoint, cache, stored_bodies, today)
    version = payloads["startups"].parsed["version"]
    if version == "v2.5":
        payloads["organisations"] = derived_payload(payloads["startups"], payloads["incubators"])
        return payloads
    url = f"{base}/organisations.json"
    try:
        payloads["organisations"] = _fetch_one(client, url, "organisations", cache, stored_bodies, today)
    except SourceError as exc:
        raise SourceError(
            f"{exc.message} (startups.json a la forme de l'API {version}, qui publie "
            "organisations.json)"
        ) from None
    return payloads


# ------------------------------------------------------------------ load


def current_snapshot(con) -> dict | None:
    """The last ingested snapshot (same order as stg.betagouv__current)."""
    row = con.execute(
        "SELECT snapshot_id, startups_sha256, organisations_sha256, incubators_sha256, data_as_of "
        "FROM raw.betagouv_snapshots ORDER BY ingested_seq DESC NULLS LAST, fetched_at DESC, snapshot_id LIMIT 1"
    ).fetchone()
    if not row:
        return None
    return dict(
        zip(
            ["snapshot_id", "startups", "organisations", "incubators", "data_as_of"],
            row,
            strict=True,
        )
    )


def _insert_rows(
    con,
    table: str,
    payload_sha: str,
    rows: list[dict],
    columns: list[str],
    extra: dict | None = None,
):
    records = [
        {"payload_sha256": payload_sha, **(extra or {}), **{c: r.get(c) for c in columns}}
        for r in rows
    ]
    insert_rows(con, f"raw.{table}", records, ["payload_sha256", *(extra or {}), *columns])


STARTUP_TABLES = (  # (table, parsed key, columns, extra) of a startups.json payload
    ("betagouv_startups", "startups", ["startup_id", "name", "pitch", "incubator_id", "incubator_ids", "sponsors",
                                       "has_sponsors_key", "link", "repository", "thematiques"], None),
    ("betagouv_startup_phases", "phases", ["startup_id", "position", "phase", "start_date", "end_date"], None),
    ("betagouv_quarantine", "quarantined", ["startup_id", "position", "phase", "field", "value", "reason"], None),
    ("betagouv_incubators", "included", ["incubator_id", "title", "owner_id", "website", "startup_ids"],
     {"origin": "startups.included"}),
)
OTHER_TABLES = {  # endpoint -> (table, columns, extra) of its payload's rows
    "organisations": ("betagouv_organisations",
                      ["organisation_id", "name", "acronym", "domaine_ministeriel", "type", "origin"], None),
    "incubators": ("betagouv_incubators", ["incubator_id", "title", "owner_id", "website", "startup_ids"],
                   {"origin": "incubators.json"}),
}


def store(con, snapshot: Snapshot) -> bool:
    """Store new payloads and their parsed rows; add a snapshot when the triple changed."""
    for p in snapshot.payloads.values():
        exists = con.execute(
            "SELECT 1 FROM raw.betagouv_payloads WHERE content_sha256 = ?", [p.sha256]
        ).fetchone()
        if not exists:
            _store_payload(con, p, snapshot.fetched_at)
    shas = {e: snapshot.payloads[e].sha256 for e in ENDPOINTS}
    current = current_snapshot(con)
    if current and all(current[e] == shas[e] for e in ENDPOINTS):
        return False
    _add_snapshot(con, snapshot, shas)
    return True


def _store_payload(con, p: Payload, fetched_at: datetime) -> None:
    version = p.parsed.get("version") if p.endpoint == "startups" else None
    if p.parsed.get("derived"):
        version = "v2.5"
    con.execute(
        "INSERT INTO raw.betagouv_payloads VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [p.sha256, p.endpoint, p.url, version, fetched_at, p.etag, p.last_modified, len(p.body),
         p.body.decode("utf-8-sig")],
    )
    if p.endpoint == "startups":
        for table, key, columns, extra in STARTUP_TABLES:
            _insert_rows(con, table, p.sha256, p.parsed.get(key) or [], columns, extra)
    else:
        table, columns, extra = OTHER_TABLES[p.endpoint]
        _insert_rows(con, table, p.sha256, p.parsed["rows"], columns, extra)


def _add_snapshot(con, snapshot: Snapshot, shas: dict[str, str]) -> None:
    snapshot_id = hashlib.sha256(
        "|".join([shas[e] for e in ENDPOINTS] + [snapshot.fetched_at.isoformat()]).encode()
    ).hexdigest()[:16]
    p = snapshot.payloads
    con.execute(
        "INSERT INTO raw.betagouv_snapshots (snapshot_id, fetched_at, data_as_of, mode, base_url, "
        "startups_sha256, organisations_sha256, incubators_sha256, startups_count, "
        "organisations_count, incubators_count, api_version, organisations_origin, ingested_seq) "
        "SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, coalesce(max(ingested_seq), 0) + 1 FROM raw.betagouv_snapshots",
        [
            snapshot_id, snapshot.fetched_at, snapshot.data_as_of, snapshot.mode, snapshot.base_url,
            shas["startups"], shas["organisations"], shas["incubators"],
            len(p["startups"].parsed["startups"]), len(p["organisations"].parsed["rows"]),
            len(p["incubators"].parsed["rows"]), p["startups"].parsed["version"],
            "deduit" if p["organisations"].parsed.get("derived") else "organisations.json",
        ],
    )


def replay_notice(con, now: datetime) -> str | None:
    """French notice when this ingest's clock is behind the current snapshot's (a replay
    with VIGIE_NOW in the past, a clock that jumped back): what it ingests still becomes
    current, as the last one ingested."""
    latest = con.execute(
        "SELECT fetched_at FROM raw.betagouv_snapshots ORDER BY ingested_seq DESC NULLS LAST, fetched_at DESC LIMIT 1"
    ).fetchone()
    if not latest or now >= latest[0]:
        return None
    return (
        f"Horloge en arrière : cette ingestion est datée du {fr.moment(now.astimezone(PARIS))}, avant l'instantané courant "
        f"({fr.moment(latest[0].astimezone(PARIS))}). L'instantané ingéré devient quand même le courant (le dernier ingéré fait foi) ; "
        "l'historique par date garde les dates de récupération."
    )


def snapshot_notes(snapshot: Snapshot) -> str:
    """What the step message must say beyond the counts (French, leading space)."""
    notes = []
    parsed = snapshot.payloads["startups"].parsed
    if snapshot.payloads["organisations"].parsed.get("derived"):
        notes.append(f"{DERIVED_NOTE}.")
    quarantined = parsed.get("quarantined") or []
    if quarantined:
        first = quarantined[0]
        notes.append(
            f"{len(quarantined)} phase(s) mise(s) de côté pour date impossible "
            f"(ex. « {first['startup_id']} » : {first['value']})."
        )
    return "".join(f" {n}" for n in notes)


# ------------------------------------------------------------------ the source (see sources/runner.py)

DATA_LABEL = "beta.gouv.fr"
EMBEDDED_SNAPSHOT = PACKAGE_DIR / "sample" / "betagouv"  # the real snapshot `vigie demo` reads


def fetch(job) -> dict:
    """The snapshot to load: a local folder, the API (conditional GETs; each body parsed
    as it arrives, so a bad one is retried), or offline the embedded sample (new warehouse
    only: otherwise the kept snapshot stays, Skip)."""
    settings, con = job.settings, job.con
    base, now = settings.betagouv_api, settings.now()
    if is_local(base):
        snapshot = read_local(base, now)
    elif settings.offline:
        kept = con.execute("SELECT max(data_as_of) FROM meta.source_state WHERE source = ? "
                           "AND last_success_at IS NOT NULL", [SOURCE]).fetchone()[0]
        if kept is not None:
            raise Skip("Mode hors ligne : beta.gouv.fr n'est pas interrogé ; le dernier "
                       f"instantané conservé (du {fr.long_day(kept)}) reste en place.")
        snapshot = read_local(str(EMBEDDED_SNAPSHOT), now)
    else:
        snapshot = _fetch_api(con, settings, base, now)
    return {"snapshot": snapshot, "embedded": settings.offline and not is_local(base),
            "run_command": command_hint(settings, "run")}


def _fetch_api(con, settings, base: str, now: datetime) -> Snapshot:
    cache = {
        url: (etag, last_modified, sha)
        for url, etag, last_modified, sha in con.execute(
            "SELECT url, etag, last_modified, content_sha256 FROM meta.http_cache "
            "WHERE content_sha256 IN (SELECT content_sha256 FROM raw.betagouv_payloads)"
        ).fetchall()
    }

    def stored_body(sha: str) -> bytes:
        return con.execute("SELECT body FROM raw.betagouv_payloads WHERE content_sha256 = ?",
                           [sha]).fetchone()[0].encode("utf-8")

    client = HttpClient(settings)
    try:
        payloads = fetch_payloads(client, base, cache, stored_body, now.date())
    finally:
        client.close()
    return Snapshot(payloads, now, now, "http", base)


def parse(raw: dict, today: date) -> dict:
    """The counts and notes the step will say (the payloads were parsed as they arrived)."""
    snapshot = raw["snapshot"]
    counts = {
        "startups": len(snapshot.payloads["startups"].parsed["startups"]),
        "organisations": len(snapshot.payloads["organisations"].parsed["rows"]),
        "incubateurs": len(snapshot.payloads["incubators"].parsed["rows"]),
        "telecharges": sum(p.changed for p in snapshot.payloads.values()),
    }
    return {**raw, "counts": counts, "notes": snapshot_notes(snapshot)}


def load(con, parsed: dict) -> Loaded:
    snapshot, counts = parsed["snapshot"], parsed["counts"]
    now = snapshot.fetched_at
    replay = replay_notice(con, now)
    changed = store(con, snapshot)
    if snapshot.mode == "http":
        for p in snapshot.payloads.values():
            con.execute("INSERT OR REPLACE INTO meta.http_cache VALUES (?, ?, ?, ?, ?)",
                        [p.url, p.etag, p.last_modified, p.sha256, now])
    state = "ok" if changed else "inchange"
    if parsed["embedded"]:
        return Loaded("ok", f"Mode hors ligne, entrepôt neuf : instantané embarqué de beta.gouv.fr (du "
                            f"{fr.long_day(snapshot.data_as_of)}, {counts['startups']} startups) ; lancez "
                            f"« {parsed['run_command']} » avec le réseau pour l'actualiser.",
                      counts, changed, snapshot.data_as_of, state)
    if changed:
        msg = (
            f"beta.gouv.fr : nouvel instantané ({counts['startups']} startups, "
            f"{counts['organisations']} organisations, {counts['incubateurs']} incubateurs)."
        ) + parsed["notes"] + (f" {replay}" if replay else "")
        return Loaded("ok", msg, counts, True, snapshot.data_as_of, state)
    return Loaded("inchange", f"beta.gouv.fr : inchangé ({counts['startups']} startups).", counts, False,
                  snapshot.data_as_of, state)


# ------------------------------------------------------------------ queries


def startup_on(con, startup_id: str, on: date) -> dict:
    """Was this startup listed on beta.gouv.fr on that date, and in which phase?"""
    listed = con.execute(
        "SELECT basis FROM mart.startup_listing WHERE startup_id = ? "
        "AND listed_from <= ? AND (listed_to IS NULL OR listed_to > ?) LIMIT 1",
        [startup_id, on, on],
    ).fetchone()
    phase = con.execute(
        "SELECT phase FROM mart.startup_phases WHERE startup_id = ? "
        "AND valid_from <= ? AND (valid_to IS NULL OR valid_to > ?)",
        [startup_id, on, on],
    ).fetchone()
    return {
        "startup_id": startup_id,
        "date": on,
        "listed": listed is not None,
        "basis": listed[0] if listed else None,
        "phase": phase[0] if phase else None,
    }
