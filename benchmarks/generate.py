"""Deterministic inputs at national scale, in the formats Vigie reads.

- DECP tabular in the published columns (pipelines/reference/decp_schema.json), parquet
  and CSV, with a few hundred contracts that concern the agreements among the rest;
- orders spread over inbox files in the spec's formats (Chorus CSV in Windows-1252 with
  ';' and French money, UTF-8 CSV with ',', .xlsx with title and total rows, .ods), as
  monthly exports: each file covers a stretch of dates;
- tourniquet logs (solicitations), one need after another.

Realistic: drawn from the real startups of the embedded beta.gouv.fr snapshot, in an
eligible phase on the order's date, ordered by their own ministry, from a holder valid on
that date (and, under the 2026 agreement, the holder the value tourniquet designates).
About 3 % of orders and needs are broken on purpose, a few ways each, so that the rules
have something to find — as in real life, most orders are fine.

    python -m benchmarks.generate tiny|small|full DIR
"""

from __future__ import annotations

import json
import random
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb

from benchmarks.world import World
from benchmarks.world import build as build_world
from pipelines.sample.writers import fr_date, fr_money, write_csv, write_ods, write_xlsx
from pipelines.sources.datagouv import decp_columns

SCALES = {
    "tiny": {"decp_rows": 20_000, "orders": 600, "order_files": 6, "solicitations": 1_500, "besoin_files": 2},
    # a smoke run of every stage in under two minutes (fixed costs dominate at this size)
    "small": {"decp_rows": 150_000, "orders": 5_000, "order_files": 10, "solicitations": 15_000, "besoin_files": 2},
    "full": {"decp_rows": 1_500_000, "orders": 100_000, "order_files": 200, "solicitations": 300_000,
             "besoin_files": 20},
}
ANOMALY_RATE = 0.03
# Half Chorus extracts, then UTF-8 CSV, Excel and LibreOffice; ordered so that a few files have every kind.
KINDS = ["chorus", "export", "suivi", "chorus", "commandes", "export", "chorus", "chorus", "export", "chorus"]
OBJECTS = ["Équipe produit", "Développement", "Conception", "Design", "Data", "Accompagnement", "Déploiement",
           "Maintenance évolutive", "Investigation", "Coaching produit"]


# ------------------------------------------------------------------ drawing from the world


class Draw:
    """Random but reproducible choices that keep an order compliant."""

    def __init__(self, world: World, seed: int):
        self.world, self.rnd = world, random.Random(seed)
        self.candidates = {}  # agreement -> [(startup, [(from, to)] within the period)]
        for agreement_id, a in world.agreements.items():
            rows = []
            for st in world.startups:
                spans = [(max(f, a.start), min(t - timedelta(days=1), a.end)) for f, t in st["windows"]]
                spans = [(f, t) for f, t in spans if f <= t]
                if spans and st["ministry"] in world.ministries and st["ministry"] not in a.excluded:
                    rows.append((st, spans))
            self.candidates[agreement_id] = rows

    def agreement(self) -> str:
        # four years of the 2021 agreement against eight months of the 2026 one
        return "acim-2021" if self.rnd.random() < 0.8 else "acim-2026"

    def startup_and_date(self, agreement_id: str) -> tuple[dict, date]:
        st, spans = self.rnd.choice(self.candidates[agreement_id])
        f, t = self.rnd.choice(spans)
        return st, f + timedelta(days=self.rnd.randrange((t - f).days + 1))

    def buyer(self, ministry: str) -> str:
        return self.rnd.choice(self.world.ministries[ministry][:3])

    def valid_holders(self, agreement_id: str, on: date) -> list[dict]:
        return [h for h in self.world.agreements[agreement_id].holders if h["valid_to"] is None or on <= h["valid_to"]]

    def spelling(self, holder: dict) -> str:
        return self.rnd.choice(holder["spellings"])

    def amount(self) -> Decimal:
        return Decimal(self.rnd.randrange(40, 800) * 250)


def plan_orders(world: World, count: int, seed: int = 2026) -> list[dict]:
    draw = Draw(world, seed)
    rnd = draw.rnd
    orders = []
    for i in range(count):
        agreement_id = draw.agreement()
        st, when = draw.startup_and_date(agreement_id)
        ht = draw.amount()
        order = {"numero_bc": f"13{i:08d}", "date": when, "buyer": draw.buyer(st["ministry"]),
                 "startup": st["name"], "startup_id": st["startup_id"], "holder": None, "ht": ht,
                 "ttc": ht * Decimal("1.2"), "objet": rnd.choice(OBJECTS), "agreement_id": agreement_id,
                 "anomaly": None}
        if agreement_id == "acim-2021":
            order["holder"] = draw.spelling(rnd.choice(draw.valid_holders(agreement_id, when)))
        if rnd.random() < ANOMALY_RATE:
            order["anomaly"] = rnd.choice(["startup", "acheteur", "titulaire", "ttc", "periode"])
        orders.append(order)
    _value_tourniquet(world, draw, [o for o in orders if o["agreement_id"] == "acim-2026"])
    for o in orders:  # broken on purpose, after the tourniquet is served
        kind = o["anomaly"]
        if kind == "startup":
            o["startup"] = rnd.choice(world.non_startups)
        elif kind == "acheteur":
            o["buyer"] = rnd.choice(world.non_beneficiaries)
        elif kind == "titulaire":
            o["holder"] = rnd.choice(world.non_holders)
        elif kind == "ttc":
            o["ttc"] = o["ht"] * Decimal("1.5")
        elif kind == "periode":
            o["date"] = date(2026, 1, 1) + timedelta(days=rnd.randrange(59))  # between the two agreements
    return orders


def _value_tourniquet(world: World, draw: Draw, orders: list[dict]) -> None:
    """CCAP 2026, 10.4: a first cycle in ranking order, then cumulative values kept A > B > C."""
    ranked = world.agreements["acim-2026"].holders
    cumul = {h["holder_id"]: Decimal(0) for h in ranked}
    served = 0
    for o in sorted(orders, key=lambda o: (o["date"], o["numero_bc"])):
        if served < len(ranked):
            holder = ranked[served]
            served += 1
        else:
            holder = next((ranked[i] for i in range(len(ranked) - 1)
                           if cumul[ranked[i]["holder_id"]] <= cumul[ranked[i + 1]["holder_id"]]), ranked[0])
        o["holder"] = draw.spelling(holder)
        cumul[holder["holder_id"]] += o["ht"]


def plan_needs(world: World, count: int, seed: int = 7) -> list[list]:
    """Tourniquet logs of the 2021 agreement: each need offered in turn, from the holder
    after the last one that took a need, until one accepts."""
    draw = Draw(world, seed)
    rnd = draw.rnd
    rows, need, pointer = [], 0, 0
    while len(rows) < count:
        need += 1
        st, when = draw.startup_and_date("acim-2021")
        holders = draw.valid_holders("acim-2021", when)
        buyer = draw.buyer(st["ministry"])
        start = pointer % len(holders)
        broken = rnd.random() < ANOMALY_RATE
        for rank in range(1, len(holders) + 1):
            holder = holders[(start + rank - 1) % len(holders)]
            if broken and rank == 2:  # skips a holder: the tourniquet was not followed
                holder = holders[(start + rank) % len(holders)]
            roll = rnd.random()
            response = "Accepté" if roll < 0.8 or rank == len(holders) else (
                "Refusé" if roll < 0.93 else "Désistement" if roll < 0.97 else "Pas de réponse")
            motif = "" if response == "Accepté" else (
                "" if broken and response == "Refusé" else "Plan de charge complet")
            rows.append([f"EB-{when.year}-{need:07d}", when, buyer, st["name"], draw.spelling(holder), rank,
                         response, motif])
            if response == "Accepté":
                pointer = start + rank
                break
    return rows  # the last need complete: a few rows more than asked at most


# ------------------------------------------------------------------ writing files


def _encodable(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def write_orders(folder: Path, orders: list[dict], files: int) -> list[Path]:
    """Monthly-export-like: sorted by date, cut in `files` stretches, each in one format."""
    orders = sorted(orders, key=lambda o: (o["date"], o["numero_bc"]))
    per_file = -(-len(orders) // files)
    made = []
    for f in range(files):
        part = orders[f * per_file:(f + 1) * per_file]
        if not part:
            continue
        kind = KINDS[f % len(KINDS)]
        if kind == "chorus":  # Chorus extract: Windows-1252, ';', French dates and money
            # a product name Windows-1252 cannot write is exported as its beta.gouv.fr id
            body = [[o["numero_bc"], fr_date(o["date"]), o["buyer"],
                     o["startup"] if _encodable(o["startup"], "cp1252") else o["startup_id"], o["holder"],
                     fr_money(o["ht"], space="\u00a0"), fr_money(o["ttc"], space="\u00a0"), o["objet"]]
                    for o in part]
            made.append(write_csv(folder / f"chorus_{f:03d}.csv", [
                ["N° EJ", "Date de création", "Service acheteur", "Produit", "Fournisseur", "Montant HT",
                 "Montant TTC", "Libellé"], *body], encoding="cp1252", separator=";"))
        elif kind == "export":  # UTF-8 with BOM, ',' and ISO dates
            body = [[o["numero_bc"], o["date"].isoformat(), o["buyer"], o["startup"], o["holder"],
                     f"{o['ht']:.2f}", f"{o['ttc']:.2f}", o["objet"]] for o in part]
            made.append(write_csv(folder / f"export_{f:03d}.csv", [
                ["Numéro de bon de commande", "Date de commande", "Administration", "Startup", "Titulaire",
                 "Montant HT", "Montant TTC", "Objet"], *body], encoding="utf-8", separator=",", bom=True))
        else:
            rows = [[o["numero_bc"], o["date"], o["buyer"], o["startup"], o["holder"], float(o["ht"]),
                     float(o["ttc"]), o["objet"]] for o in part]
            header = ["N° BC", "Date du BC", "Bénéficiaire", "Startup d'État", "Titulaire du marché",
                      "Montant HT (€)", "Montant TTC (€)", "Objet"]
            if kind == "suivi":  # Excel with a title and a total row
                made.append(write_xlsx(folder / f"suivi_{f:03d}.xlsx", [header, *rows],
                                       above=[["Suivi des bons de commande"], []],
                                       below=[["TOTAL", None, None, None, None, sum(r[5] for r in rows), None]],
                                       money_columns=(5, 6)))
            else:  # LibreOffice
                made.append(write_ods(folder / f"commandes_{f:03d}.ods", [header, *rows]))
    return made


def write_needs(folder: Path, rows: list[list], files: int) -> list[Path]:
    per_file = -(-len(rows) // files)
    made = []
    for f in range(files):
        part = rows[f * per_file:(f + 1) * per_file]
        if part:
            made.append(write_csv(folder / f"tourniquet_{f:03d}.csv", [
                ["N° besoin", "Date de la demande", "Bénéficiaire", "Startup", "Titulaire", "Rang", "Réponse",
                 "Justification"], *([r[0], fr_date(r[1]), *r[2:]] for r in part)], encoding="utf-8", separator=";"))
    return made


def decp(folder: Path, rows: int) -> tuple[Path, Path]:
    """DECP files generated by DuckDB: `rows` contracts, ~0.02 % of them about the agreements."""
    con = duckdb.connect()
    columns = decp_columns()
    select = []
    for name, sql_type in columns:
        expression = {
            "uid": "'2' || lpad(i::VARCHAR, 13, '0') || 'M' || i",
            "id": "'M' || i",
            "nature": "'Marché'",
            "acheteur_id": "CASE WHEN i % 5000 = 17 THEN '11000000000011' ELSE '2' || lpad((i % 90000)::VARCHAR, 13, '0') END",
            "acheteur_nom": "CASE WHEN i % 5000 = 17 THEN 'MINISTERE DE L''INTERIEUR' WHEN i % 7001 = 3 "
                            "THEN 'DIRECTION INTERMINISTERIELLE DU NUMERIQUE' ELSE 'ACHETEUR ' || (i % 90000) END",
            "titulaire_id": "'3' || lpad((i % 200000)::VARCHAR, 13, '0')",
            "titulaire_typeIdentifiant": "'SIRET'",
            "titulaire_nom": "CASE WHEN i % 7001 = 3 THEN 'OCTO TECHNOLOGY' ELSE 'ENTREPRISE ' || (i % 200000) END",
            "objet": "'Objet du marché ' || i",
            "montant": "round(1000 + (hash(i) % 5000000), 2)",
            "type": "CASE i % 3 WHEN 0 THEN 'Services' WHEN 1 THEN 'Fournitures' ELSE 'Travaux' END",
            "codeCPV": "'72000000'",
            "procedure": "'Procédure non négociée ouverte'",
            "techniques": "CASE WHEN i % 5000 = 17 THEN 'Accord-cadre' ELSE NULL END",
            "dureeMois": "12 + i % 36",
            "dateNotification": "DATE '2019-01-01' + (i % 2800)::INTEGER",
            "datePublicationDonnees": "DATE '2019-01-10' + (i % 2800)::INTEGER",
            "idAccordCadre": "CASE WHEN i % 5000 = 17 THEN '25_BAM_044_AC02' WHEN i % 11 = 0 THEN 'AC-' || (i % 3000) END",
            "donneesActuelles": "TRUE",
            "sourceDataset": "'decp'",
        }.get(name, "NULL")
        select.append(f'CAST({expression} AS {sql_type}) AS "{name}"')
    con.execute(f"CREATE TABLE decp AS SELECT {', '.join(select)} FROM range(?) t(i)", [rows])  # noqa: S608 - constants
    folder.mkdir(parents=True, exist_ok=True)
    parquet, csv = folder / "decp.parquet", folder / "decp.csv"
    con.execute(f"COPY decp TO '{parquet}' (FORMAT parquet, COMPRESSION zstd)")
    con.execute(f"COPY decp TO '{csv}' (HEADER, DELIMITER ',')")
    con.close()
    return parquet, csv


def orders_scale(orders: int) -> dict:
    """An inbox of `orders` orders shaped like the full scale's: 500 orders a file,
    three solicitations an order, 15 000 solicitations a log."""
    return {"orders": orders, "order_files": max(1, orders // 500), "solicitations": 3 * orders,
            "besoin_files": max(1, 3 * orders // 15_000)}


def inbox(folder: Path, orders: int, order_files: int, solicitations: int, besoin_files: int,
          world: World | None = None) -> dict:
    """The order exports and tourniquet logs of one inbox, written into folder."""
    folder.mkdir(parents=True, exist_ok=True)
    world = world or build_world()
    planned = plan_orders(world, orders)
    write_orders(folder, planned, order_files)
    needs = plan_needs(world, solicitations)
    write_needs(folder, needs, besoin_files)
    anomalies: dict[str, int] = {}
    for o in planned:
        if o["anomaly"]:
            anomalies[o["anomaly"]] = anomalies.get(o["anomaly"], 0) + 1
    return {"orders": orders, "order_files": order_files, "solicitations": solicitations,
            "besoin_files": besoin_files, "inbox": str(folder), "orders_broken": anomalies,
            "solicitations_written": len(needs)}


def generate(scale: str, folder: Path) -> dict:
    params = SCALES[scale]
    parquet, csv = decp(folder / "decp", params["decp_rows"])
    made = inbox(folder / "inbox", params["orders"], params["order_files"], params["solicitations"],
                 params["besoin_files"])
    return {"scale": scale, **params, "decp_parquet": str(parquet), "decp_csv": str(csv), **made}


if __name__ == "__main__":
    print(json.dumps(generate(sys.argv[1], Path(sys.argv[2])), indent=2))
