"""Entity resolution: which startup, holder and buyer each raw value means.

`refresh(con, settings)` recomputes core.startup_resolution, core.holder_resolution,
core.buyer_resolution and core.resolution_review from the distinct raw values of the
inbox tables, the current beta.gouv.fr snapshot and the agreement files. Deterministic:
the same inputs give the same rows.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

from pipelines.resolve.aliased import with_aliases
from pipelines.resolve.buyers import BETAGOUV_KINDS, Body, BuyerIndex
from pipelines.resolve.holders import HolderIndex
from pipelines.resolve.startups import StartupIndex
from pipelines.warehouse import insert_rows

COLUMNS = ("startup", "titulaire", "acheteur")


def signature(settings) -> str:
    """What, besides the data, decides the resolution: this package's code and its thresholds."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    digest.update(json.dumps(dataclasses.asdict(settings.resolution), sort_keys=True, default=str).encode())
    return digest.hexdigest()[:16]


def _values(con, column: str) -> dict[str, int]:
    """Distinct raw values of one column, with how often they occur."""
    if column not in COLUMNS:  # the column name is formatted into the SQL below
        raise ValueError(f"Colonne à rapprocher inconnue « {column} » (colonnes possibles : {', '.join(COLUMNS)}).")
    rows = con.execute(
        f"SELECT {column}, count(*) FROM stg.inbox__values WHERE {column} IS NOT NULL GROUP BY 1 ORDER BY 1"  # noqa: S608 - constant
    ).fetchall()
    return dict(rows)


def startup_index(con, settings) -> StartupIndex:
    conf = settings.resolution
    startups = con.execute(
        "SELECT startup_id, name FROM stg.betagouv__startups ORDER BY startup_id"
    ).fetchall()
    history = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT startup_id FROM ref.startup_listing_intervals ORDER BY 1"
        ).fetchall()
    ]
    return StartupIndex(
        startups,
        history,
        float(conf.startup_fuzzy_threshold),
        float(conf.startup_fuzzy_margin),
    )


def holder_index(con, settings) -> HolderIndex:
    spellings = con.execute(
        "SELECT agreement_id, holder_id, member_id, spelling FROM ref.holder_spellings ORDER BY ALL"
    ).fetchall()
    return HolderIndex(
        spellings, float(settings.resolution.holder_fuzzy_threshold)
    )


def buyer_index(con, settings) -> BuyerIndex:
    bodies = [
        Body(b, n, k, m, 0)
        for b, n, k, m in con.execute(
            "SELECT body_id, name, kind, ministry FROM ref.bodies ORDER BY 1"
        ).fetchall()
    ]
    bodies += [
        Body(f"ministere:{m}", label, "ministere", m, 0)
        for m, label in con.execute(
            "SELECT ministry, label FROM ref.ministries ORDER BY 1"
        ).fetchall()
    ]
    spellings = con.execute(
        "SELECT body_id, spelling FROM ref.body_spellings ORDER BY ALL"
    ).fetchall()
    # beta.gouv.fr organisations not already described by the reference list
    from pipelines.agreements import load_reference

    linked = set()
    for body in load_reference()["bodies"]:
        linked.update(body.get("betagouv_ids") or [])
    for oid, name, acronym, ministry, kind in con.execute(
        "SELECT organisation_id, name, acronym, domaine_ministeriel, type FROM stg.betagouv__organisations ORDER BY 1"
    ).fetchall():
        if oid in linked:
            continue
        body_id = f"betagouv:{oid}"
        bodies.append(
            Body(
                body_id,
                name or oid,
                BETAGOUV_KINDS.get(kind or "", "autre"),
                None if ministry in (None, "", "autres") else ministry,
                1,
            )
        )
        spellings += [(body_id, s) for s in (name, acronym, oid) if s]
    return BuyerIndex(
        bodies, spellings, float(settings.resolution.buyer_fuzzy_threshold)
    )


def _startups(con, settings) -> tuple[list, list]:
    """core.startup_resolution rows, and the startup values worth an analyst's look."""
    # Analysts' aliases (`vigie alias`) answer before any matching.
    startups = with_aliases(con, "startup", startup_index(con, settings))
    counts = _values(con, "startup")
    rows, review = [], []
    for raw in counts:
        r = startups.resolve(raw)
        rows.append(
            [raw, r.target, r.method, r.confidence, json.dumps(r.candidates, ensure_ascii=False)]
        )
        if r.method == "ambigu" or (
            r.method == "aucun"
            and r.candidates
            and r.candidates[0]["score"] >= startups.threshold - 8
        ):
            review.append(
                [
                    "startup",
                    None,
                    raw,
                    "plusieurs startups possibles"
                    if r.method == "ambigu"
                    else "aucune startup retenue, mais des noms proches existent",
                    json.dumps(r.candidates, ensure_ascii=False),
                    counts.get(raw, 0),
                ]
            )
    return rows, review


def _holders(con, settings) -> tuple[list, list]:
    """core.holder_resolution rows (one per value and agreement), and those worth a look."""
    holders = with_aliases(con, "titulaire", holder_index(con, settings))
    counts = _values(con, "titulaire")
    rows, review = [], []
    for raw in counts:
        for agreement in holders.agreements:
            r = holders.resolve(raw, agreement)
            rows.append(
                [
                    agreement,
                    raw,
                    r.target,
                    r.member,
                    r.method,
                    r.confidence,
                    json.dumps(r.candidates, ensure_ascii=False),
                ]
            )
            if r.method in ("ambigu", "partiel"):
                review.append(
                    [
                        "titulaire",
                        agreement,
                        raw,
                        "nomme des titulaires différents"
                        if r.method == "ambigu"
                        else "une partie du nom n'est pas un titulaire connu",
                        json.dumps(r.candidates, ensure_ascii=False),
                        counts.get(raw, 0),
                    ]
                )
    return rows, review


def _buyers(con, settings) -> tuple[list, list]:
    """core.buyer_resolution rows, and the ambiguous buyer values."""
    buyers = with_aliases(con, "acheteur", buyer_index(con, settings))
    counts = _values(con, "acheteur")
    rows, review = [], []
    for raw in counts:
        r = buyers.resolve(raw)
        body = buyers.bodies.get(r.target) if r.target else None
        rows.append(
            [
                raw,
                r.target,
                body.name if body else None,
                body.kind if body else None,
                body.ministry if body else None,
                r.method,
                r.confidence,
                json.dumps(r.candidates, ensure_ascii=False),
            ]
        )
        if r.method == "ambigu":
            review.append(
                [
                    "acheteur",
                    None,
                    raw,
                    (r.candidates[0].get("raison") if r.candidates else None) or "plusieurs organismes possibles",
                    json.dumps(r.candidates, ensure_ascii=False),
                    counts.get(raw, 0),
                ]
            )
    return rows, review


def _reviewable(con, review: list) -> list:
    """A holder spelling is only worth reviewing under the agreement its rows belong to."""
    used = set(con.execute(
        "SELECT DISTINCT ra.agreement_id, r.titulaire FROM int.inbox_rows r "
        "JOIN int.row_agreement ra USING (kind, row_key)").fetchall())
    return [r for r in review if r[0] != "titulaire" or (r[1], r[2]) in used]


def refresh(con, settings) -> dict:
    """Recompute every resolution table. Runs inside the caller's transaction."""
    for table in (
        "startup_resolution",
        "holder_resolution",
        "buyer_resolution",
        "resolution_review",
    ):
        con.execute(f"DELETE FROM core.{table}")  # noqa: S608 - fixed names
    review = []
    # One entity after the other: each table is written before the next index is built.
    for table, resolve in (
        ("core.startup_resolution", _startups),
        ("core.holder_resolution", _holders),
        ("core.buyer_resolution", _buyers),
    ):
        rows, entries = resolve(con, settings)
        insert_rows(con, table, rows)
        review += entries
    review = _reviewable(con, review)
    insert_rows(con, "core.resolution_review", review)
    return {"a_revoir": len(review)}
