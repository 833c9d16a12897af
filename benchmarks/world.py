"""The world the benchmark inputs are drawn from: the real startups of the embedded
beta.gouv.fr snapshot with their ministries and phases, the agreements' holders in
tourniquet order and their spellings, the ministries' spellings — read from a warehouse
that Vigie itself builds from the snapshot (no network), so that generated orders are
compliant unless the generator breaks them on purpose.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb

from pipelines.config import PACKAGE_DIR


@dataclass
class Agreement:
    agreement_id: str
    start: date
    end: date
    mode: str  # sequentiel | valeur
    excluded: set[str] = field(default_factory=set)  # ministries that are not beneficiaries
    eligible: set[str] = field(default_factory=set)  # phases an order may be placed in (rules v2: per agreement)
    excluded_incubators: set[str] = field(default_factory=set)  # lot 1 « hors OPI » (HORS_PERIMETRE_LOT)
    maximum_ht: Decimal | None = None  # lot 1's maximum (PLAFOND), None when not published
    beneficiaries: set[str] = field(default_factory=set)  # ministries whose services may order on lot 1
    # rank order: holder_id, name, valid_from, valid_to, merged_into, spellings
    holders: list[dict] = field(default_factory=list)


@dataclass
class World:
    # name, ministry, incubator_id, windows: agreement -> [(from, to_exclusive)] when the
    # startup was both in a phase eligible under that agreement and listed on beta.gouv.fr
    startups: list[dict]
    ministries: dict[str, list[str]]  # ministry code -> how a buyer writes it
    agreements: dict[str, Agreement]
    non_startups: list[str]
    non_beneficiaries: list[str]
    non_holders: list[str]


# The agreements the generator draws orders for, with their periods as Vigie knows them
# (pipelines/agreements/): 2021's end is its legal maximum, the benchmark stops 2026 at the
# end of October (the report's month). Other agreement files (older or other families) are
# left out of the world: no order is generated for them.
PERIODS = {"acim-2021": (date(2021, 11, 7), date(2025, 11, 6)), "acim-2026": (date(2026, 3, 1), date(2026, 10, 31))}


def _lot_one(con, agreement_id: str) -> tuple[set[str], Decimal | None]:
    """Lot 1 (the purchase-order lot every generated order belongs to): its excluded
    incubators and its maximum."""
    row = con.execute(
        "SELECT l.maximum_ht, o.excluded_incubators FROM ref.agreement_lots l LEFT JOIN ref.lot_options o "
        "ON o.agreement_id = l.agreement_id AND o.lot = l.lot WHERE l.agreement_id = ? AND l.lot = 1",
        [agreement_id]).fetchone()
    if row is None:
        return set(), None
    return set(row[1] or []), row[0]


def _beneficiary_ministries(con, agreement_id: str, ministries: set[str]) -> set[str]:
    """The ministries named by the agreement's lot-1 beneficiaries, or all of them for an
    « all ministries » entry — which, as mart.buyer_eligibility reads it, leaves out the
    Prime Minister's services (named on their own) and bodies outside any ministry."""
    named, everyone = set(), False
    for scope, ministry in con.execute(
            "SELECT scope, ministry FROM ref.beneficiaries WHERE agreement_id = ? AND coalesce(lot, 1) = 1",
            [agreement_id]).fetchall():
        everyone = everyone or scope == "tous_ministeres"
        if scope == "ministere":
            named.add(ministry)
    return named | ({m for m in ministries if m not in ("spm", "autres")} if everyone else set())


def build(folder: Path | None = None) -> World:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(folder or tmp) / "world.duckdb"
        env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIE_")}
        env.update(VIGIE_DB=str(db), VIGIE_BETAGOUV_API=str(PACKAGE_DIR / "sample" / "betagouv"),
                   VIGIE_INBOX=str(Path(tmp) / "inbox"))
        subprocess.run([sys.executable, "-m", "pipelines", "ingest", "--source", "betagouv"], env=env, check=True,
                       capture_output=True)
        con = duckdb.connect(str(db), read_only=True)
        try:
            return _read(con)
        finally:
            con.close()


def _intersect(spans: list[tuple], others: list[tuple]) -> list[tuple]:
    """Where two lists of [from, to) intervals overlap."""
    out = [(max(f, g), min(t, u)) for f, t in spans for g, u in others]
    return [(f, t) for f, t in out if f < t]


def _windows(con, eligible: dict[str, list[str]]) -> dict[str, dict[str, list]]:
    """startup -> agreement -> when it was in one of the agreement's eligible phases and
    listed on beta.gouv.fr (mart.startup_listing: rules v2 judge the order's date)."""
    open_end = date(2027, 1, 1)
    listed: dict[str, list] = {}
    for startup_id, f, t in con.execute(
            "SELECT startup_id, listed_from, coalesce(listed_to, ?) FROM mart.startup_listing "
            "ORDER BY startup_id, listed_from", [open_end]).fetchall():
        listed.setdefault(startup_id, []).append((f, t))
    phases = con.execute(
        "SELECT startup_id, phase, valid_from, coalesce(valid_to, ?) FROM mart.startup_phases "
        "WHERE valid_from < coalesce(valid_to, ?) ORDER BY startup_id, valid_from", [open_end, open_end]).fetchall()
    out: dict[str, dict[str, list]] = {}
    for agreement_id, phases_ok in eligible.items():
        for startup_id, phase, f, t in phases:
            if phase in phases_ok:
                spans = _intersect([(f, t)], listed.get(startup_id, []))
                out.setdefault(startup_id, {}).setdefault(agreement_id, []).extend(spans)
    return out


def _read(con) -> World:
    eligible = {agreement_id: list(phases) for agreement_id, phases in con.execute(
        "SELECT agreement_id, eligible_phases FROM ref.agreements WHERE list_contains(?, agreement_id)",
        [sorted(PERIODS)]).fetchall()}
    windows = _windows(con, eligible)
    startups = [{"startup_id": sid, "name": name, "ministry": ministry, "incubator_id": incubator,
                 "windows": windows[sid]}
                for sid, name, ministry, incubator in con.execute(
                    "SELECT startup_id, name, ministry, incubator_id FROM mart.startups WHERE ministry IS NOT NULL "
                    "ORDER BY startup_id").fetchall() if sid in windows]
    ministries: dict[str, list[str]] = {}
    for body_id, spelling in con.execute(
            "SELECT body_id, spelling FROM ref.body_spellings WHERE body_id LIKE 'ministere:%' "
            "ORDER BY body_id, length(spelling) DESC, spelling").fetchall():
        ministries.setdefault(body_id.split(":", 1)[1], []).append(spelling)
    agreements = {}
    for agreement_id, mode in con.execute(
            "SELECT agreement_id, tourniquet_mode FROM ref.agreements WHERE tourniquet_mode IS NOT NULL "
            "AND list_contains(?, agreement_id) ORDER BY 1", [sorted(PERIODS)]).fetchall():
        start, end = PERIODS[agreement_id]
        a = Agreement(agreement_id, start, end, mode, {m for (m,) in con.execute(
            "SELECT ministry FROM ref.beneficiary_exclusions WHERE agreement_id = ? AND ministry IS NOT NULL",
            [agreement_id]).fetchall()}, set(eligible[agreement_id]))
        a.excluded_incubators, a.maximum_ht = _lot_one(con, agreement_id)
        a.beneficiaries = _beneficiary_ministries(con, agreement_id, set(ministries)) - a.excluded
        for holder_id, name, valid_from, valid_to, merged_into in con.execute(
                "SELECT holder_id, name, valid_from, valid_to, merged_into FROM ref.holders "
                "WHERE agreement_id = ? AND rank IS NOT NULL ORDER BY rank", [agreement_id]).fetchall():
            spellings = [s for (s,) in con.execute(
                "SELECT spelling FROM ref.holder_spellings WHERE agreement_id = ? AND holder_id = ? "
                "ORDER BY spelling", [agreement_id, holder_id]).fetchall()] or [name]
            a.holders.append({"holder_id": holder_id, "name": name, "valid_from": valid_from, "valid_to": valid_to,
                              "merged_into": merged_into, "spellings": spellings})
        agreements[agreement_id] = a
    if set(agreements) != set(PERIODS):
        raise RuntimeError(f"the benchmark models {sorted(PERIODS)}, the warehouse has tourniquets for {sorted(agreements)}")
    return World(
        startups=startups,
        ministries={m: s for m, s in ministries.items() if any(st["ministry"] == m for st in startups)},
        agreements=agreements,
        non_startups=["Refonte de l'intranet RH", "Migration de la messagerie", "Assistance bureautique",
                      "Portail documentaire interne", "Maintenance du SIRH"],
        non_beneficiaries=["Région Bretagne", "Commune de Lille", "Département du Nord", "CHU de Bordeaux"],
        non_holders=["Capgemini", "Sopra Steria", "Accenture", "Atos"],
    )
