"""beta.gouv.fr API: the list of Startups d'État, organisations and incubators.

fetch(client, base, cache) -> payloads   I/O: conditional GETs, or a local folder
parse_*(document) -> rows                pure: shape detection (v2.5, v2.6, v2.7), HTML
                                         entities unescaped, personal contacts dropped
load(con, snapshot) -> bool              writes raw.* in the caller's transaction

Every distinct payload is kept, and every change of the (startups, organisations,
incubators) triple is a snapshot, so "was this startup listed on that date, in which
phase?" can be answered later (see `startup_on`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlparse

from pipelines import fr
from pipelines.config import PARIS
from pipelines.errors import SourceError
from pipelines.http import Fetched, HttpClient, InvalidPayload
from pipelines.text import unescape
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
    items = document.get("data") or []
    if any("incubators" in (item.get("relationships") or {}) for item in items):
        return "v2.7"
    if any("sponsors" in (item.get("attributes") or {}) for item in items):
        return "v2.6"
    return "v2.5"


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


def parse_startups(document: dict) -> tuple[list[dict], list[dict], list[dict]]:
    """-> (startups, phases, incubators from `included`)."""
    check_startups(document)
    startups, phases = [], []
    for item in document["data"]:
        attrs = item["attributes"]
        rel = item.get("relationships") or {}
        main = ((rel.get("incubator") or {}).get("data") or {}).get("id")
        listed = [
            i.get("id") for i in ((rel.get("incubators") or {}).get("data") or []) if i.get("id")
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
        for position, phase in enumerate(attrs["phases"]):
            if not isinstance(phase, dict) or not phase.get("name"):
                continue
            phases.append(
                {
                    "startup_id": startup_id,
                    "position": position,
                    "phase": str(phase["name"]).strip(),
                    "start_date": _date(phase.get("start")),
                    "end_date": _date(phase.get("end")),
                }
            )
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
                "incubator_id": str(inc["id"]),
                "title": _text(attrs.get("title")),
                "owner_id": _strip_org(attrs.get("owner")),
                "website": _text(attrs.get("website")),
                "startup_ids": [],
            }
        )
    return startups, phases, incubators


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
        rows.append(
            {
                "organisation_id": _strip_org(item["id"]),
                "name": _text(item.get("name")),
                "acronym": _text(item.get("acronym")),
                "domaine_ministeriel": _text(item.get("domaine_ministeriel")),
                "type": _text(item.get("type")),
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
        rows.append(
            {
                "incubator_id": str(item["id"]),
                "title": _text(item.get("title")),
                "owner_id": _strip_org(item.get("owner")),
                "website": _text(item.get("website")),
                "startup_ids": [
                    str(s["id"])
                    for s in item.get("startups") or []
                    if isinstance(s, dict) and s.get("id")
                ],
            }
        )
    return rows


PARSERS = {
    "organisations": parse_organisations,
    "incubators": parse_incubators,
}


def decode_json(body: bytes, content_type: str | None, endpoint: str):
    """Raise InvalidPayload for what an HTTP 200 can hide: HTML error pages, cut JSON."""
    head = body[:512].lstrip().lower()
    if (content_type and "html" in content_type.lower()) or head.startswith(
        (b"<!doctype", b"<html")
    ):
        raise InvalidPayload(f"{endpoint}.json : page HTML reçue au lieu de JSON")
    try:
        return json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidPayload(
            f"{endpoint}.json : JSON invalide ou tronqué ({exc.__class__.__name__})"
        ) from None


def parse_payload(endpoint: str, body: bytes, content_type: str | None = None) -> dict:
    document = decode_json(body, content_type, endpoint)
    if endpoint == "startups":
        startups, phases, included = parse_startups(document)
        return {
            "version": detect_version(document),
            "startups": startups,
            "phases": phases,
            "included": included,
        }
    return {"rows": PARSERS[endpoint](document)}


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
    """A folder holding the three files (the embedded sample, or a manual capture)."""
    folder = _local_folder(base)
    payloads = {}
    for endpoint in ENDPOINTS:
        path = folder / f"{endpoint}.json"
        if not path.exists():
            raise SourceError(
                f"Le dossier {folder} ne contient pas {endpoint}.json (source {LABEL})."
            )
        body = path.read_bytes()
        try:
            parsed = parse_payload(endpoint, body)
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


def fetch(
    client: HttpClient, base: str, cache: dict[str, tuple], stored_bodies
) -> dict[str, Payload]:
    """Conditional GET of the three endpoints. `cache[url] = (etag, last_modified, sha)`;
    `stored_bodies(sha)` returns the body kept in the warehouse for a 304."""
    payloads = {}
    for endpoint in ENDPOINTS:
        url = f"{base}/{endpoint}.json"
        etag, last_modified, sha = cache.get(url, (None, None, None))
        if sha is None:
            etag = last_modified = None  # nothing stored to reuse: ask for the full body

        parsed: dict = {}

        def validate(body, content_type, endpoint=endpoint, parsed=parsed):
            # Parsing is the validation: a bad body is retried like a network fault.
            parsed["value"] = parse_payload(endpoint, body, content_type)

        got: Fetched = client.get(url, LABEL, etag, last_modified, validate=validate)
        if got.status == 304:
            body = stored_bodies(sha)
            payloads[endpoint] = Payload(
                endpoint, url, body, sha, etag, last_modified, False, parse_payload(endpoint, body)
            )
        else:
            payloads[endpoint] = Payload(
                endpoint,
                url,
                got.body,
                hashlib.sha256(got.body).hexdigest(),
                got.etag,
                got.last_modified,
                True,
                parsed["value"],
            )
    return payloads


# ------------------------------------------------------------------ load


def current_snapshot(con) -> dict | None:
    """The last ingested snapshot (same order as stg.betagouv_current)."""
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


def load(con, snapshot: Snapshot) -> bool:
    """Store new payloads and their parsed rows; add a snapshot when the triple changed."""
    for p in snapshot.payloads.values():
        exists = con.execute(
            "SELECT 1 FROM raw.betagouv_payloads WHERE content_sha256 = ?", [p.sha256]
        ).fetchone()
        if exists:
            continue
        version = p.parsed.get("version") if p.endpoint == "startups" else None
        con.execute(
            "INSERT INTO raw.betagouv_payloads VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                p.sha256,
                p.endpoint,
                p.url,
                version,
                snapshot.fetched_at,
                p.etag,
                p.last_modified,
                len(p.body),
                p.body.decode("utf-8-sig"),
            ],
        )
        if p.endpoint == "startups":
            _insert_rows(
                con,
                "betagouv_startups",
                p.sha256,
                p.parsed["startups"],
                [
                    "startup_id",
                    "name",
                    "pitch",
                    "incubator_id",
                    "incubator_ids",
                    "sponsors",
                    "has_sponsors_key",
                    "link",
                    "repository",
                    "thematiques",
                ],
            )
            _insert_rows(
                con,
                "betagouv_startup_phases",
                p.sha256,
                p.parsed["phases"],
                ["startup_id", "position", "phase", "start_date", "end_date"],
            )
            _insert_rows(
                con,
                "betagouv_incubators",
                p.sha256,
                p.parsed["included"],
                ["incubator_id", "title", "owner_id", "website", "startup_ids"],
                {"origin": "startups.included"},
            )
        elif p.endpoint == "organisations":
            _insert_rows(
                con,
                "betagouv_organisations",
                p.sha256,
                p.parsed["rows"],
                ["organisation_id", "name", "acronym", "domaine_ministeriel", "type"],
            )
        else:
            _insert_rows(
                con,
                "betagouv_incubators",
                p.sha256,
                p.parsed["rows"],
                ["incubator_id", "title", "owner_id", "website", "startup_ids"],
                {"origin": "incubators.json"},
            )

    shas = {e: snapshot.payloads[e].sha256 for e in ENDPOINTS}
    current = current_snapshot(con)
    if current and all(current[e] == shas[e] for e in ENDPOINTS):
        return False
    snapshot_id = hashlib.sha256(
        "|".join([shas[e] for e in ENDPOINTS] + [snapshot.fetched_at.isoformat()]).encode()
    ).hexdigest()[:16]
    p = snapshot.payloads
    con.execute(
        "INSERT INTO raw.betagouv_snapshots SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
        "coalesce(max(ingested_seq), 0) + 1 FROM raw.betagouv_snapshots",
        [
            snapshot_id,
            snapshot.fetched_at,
            snapshot.data_as_of,
            snapshot.mode,
            snapshot.base_url,
            shas["startups"],
            shas["organisations"],
            shas["incubators"],
            len(p["startups"].parsed["startups"]),
            len(p["organisations"].parsed["rows"]),
            len(p["incubators"].parsed["rows"]),
        ],
    )
    return True


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
