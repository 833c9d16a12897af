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
    holders: list[dict] = field(default_factory=list)  # rank order: holder_id, name, valid_to, spellings


@dataclass
class World:
    startups: list[dict]  # name, ministry, windows: [(from, to_exclusive)] in eligible phases
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


def _read(con) -> World:
    eligible = set(con.execute(
        "SELECT unnest(eligible_phases) FROM ref.agreements WHERE agreement_id = 'acim-2026'").fetchall())
    eligible = {p for (p,) in eligible}
    windows: dict[str, list] = {}
    for startup_id, valid_from, valid_to in con.execute(
            "SELECT startup_id, valid_from, coalesce(valid_to, DATE '2027-01-01') FROM mart.startup_phases "
            "WHERE list_contains(?, phase) AND valid_from < coalesce(valid_to, DATE '2027-01-01') "
            "ORDER BY startup_id, valid_from", [sorted(eligible)]).fetchall():
        windows.setdefault(startup_id, []).append((valid_from, valid_to))
    startups = [{"startup_id": sid, "name": name, "ministry": ministry, "windows": windows[sid]}
                for sid, name, ministry in con.execute(
                    "SELECT startup_id, name, ministry FROM mart.startups WHERE ministry IS NOT NULL "
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
            [agreement_id]).fetchall()})
        for holder_id, name, valid_to in con.execute(
                "SELECT holder_id, name, valid_to FROM ref.holders WHERE agreement_id = ? AND rank IS NOT NULL "
                "ORDER BY rank", [agreement_id]).fetchall():
            spellings = [s for (s,) in con.execute(
                "SELECT spelling FROM ref.holder_spellings WHERE agreement_id = ? AND holder_id = ? "
                "ORDER BY spelling", [agreement_id, holder_id]).fetchall()] or [name]
            a.holders.append({"holder_id": holder_id, "name": name, "valid_to": valid_to, "spellings": spellings})
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
