"""Deterministic inputs at national scale, in the formats Vigie reads.

- DECP tabular in the published columns (pipelines/reference/decp_schema.json), parquet
  and CSV, with a few hundred contracts that concern the agreements among the rest;
- orders spread over inbox files in the spec's formats (Chorus CSV in Windows-1252 with
  ';' and French money, UTF-8 CSV with ',', .xlsx with title and total rows, .ods), as
  monthly exports: each file covers a stretch of dates, each row names its agreement;
- the holders' half-year declarations to DINUM (one file per holder), for every half-year
  whose statement is due on the benchmark's clock (CCAP 2026 art. 9.2.3);
- tourniquet logs (solicitations) of the 2021 agreement, one need after another.

Realistic under the rule catalogue v2 (spec/RULES.md): drawn from the real startups of the
embedded beta.gouv.fr snapshot, on a date when the startup was listed on beta.gouv.fr and in
a phase its agreement accepts (2021: construction, acceleration, consolidation; 2026: any but
abandon), never an OPI product on ACIM 2026 lot 1, ordered by its own ministry, from a holder
valid on that date (and, under the 2026 agreement, the holder the value tourniquet
designates); each need first offered to the holder after the one its beneficiary's previous
need was first offered to; 2026 amounts kept below 60 % of the lot's maximum.

Broken on purpose, and counted (`injected`, per rule), so that the rules have something to
find — as in real life, most orders are fine:
- ANOMALY_RATE (3 %) of orders, one way each: a product that is not a Startup d'État
  (HORS_STARTUP), a buyer that is not a beneficiary (ACHETEUR_NON_BENEFICIAIRE), an unknown
  holder (TITULAIRE_INVALIDE), TTC ≠ HT × 1,20 (MONTANT_INCOHERENT), a 2021 order dated
  after the agreement's end (HORS_PERIODE), an order its holder left out of a due
  declaration (NON_DECLARE_DINUM), a 2026 order given to another holder than the one the
  value tourniquet designates (TOURNIQUET);
- NEED_SKIP_RATE (1 %) of needs first offered to the wrong holder (TOURNIQUET);
- refusals, which REFUS_SEUIL counts over the whole agreement, follow a script per holder:
  REFUSALS_PER_HOLDER (7, below the alert at 8) of which UNJUSTIFIED_PER_HOLDER without
  justification (REFUS_NON_JUSTIFIE) and SKIPPED_PER_HOLDER followed by a skipped holder
  (TOURNIQUET); the first-ranked holder refuses one more (REFUS_SEUIL alerte, once).
Not injected (expected 0): PHASE_NON_ELIGIBLE, HORS_PERIMETRE_LOT, EXCEPTION_DINUM,
EXECUTION_APRES_FIN, PLAFOND, MONTANT_ATYPIQUE, RAPPROCHEMENT_A_REVOIR, MINISTERE_DIFFERENT.

    python -m benchmarks.generate tiny|small|full DIR
"""

from __future__ import annotations

import json
import random
import sys
from collections import Counter
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
# The benchmark's "today" (benchmarks/run.py NOW, tests/conftest.py PINNED_NOW): the
# declarations of every half-year due by then are written.
CLOCK = date(2026, 11, 24)
ANOMALY_RATE = 0.03
NEED_SKIP_RATE = 0.01
REFUSALS_PER_HOLDER, UNJUSTIFIED_PER_HOLDER, SKIPPED_PER_HOLDER = 7, 2, 2
REFUS_SEUIL_ALERT = 8  # acim-2021.yaml refusals.alert_at: one holder is brought to it, no further
PLAFOND_SHARE = Decimal("0.6")  # 2026 orders sum to at most this share of the lot's maximum
CODES = {"acim-2021": "ACIM 2021", "acim-2026": "ACIM 2026"}
# The way an order is broken -> the rule that should find it.
ORDER_ANOMALIES = {"startup": "HORS_STARTUP", "acheteur": "ACHETEUR_NON_BENEFICIAIRE",
                   "titulaire": "TITULAIRE_INVALIDE", "ttc": "MONTANT_INCOHERENT", "periode": "HORS_PERIODE",
                   "non_declaree": "NON_DECLARE_DINUM", "tourniquet": "TOURNIQUET"}
NO_REASON = ["", "RAS", "néant"]  # what REFUS_NON_JUSTIFIE takes for no justification
# Half Chorus extracts, then UTF-8 CSV, Excel and LibreOffice; ordered so that a few files have every kind.
KINDS = ["chorus", "export", "suivi", "chorus", "commandes", "export", "chorus", "chorus", "export", "chorus"]
OBJECTS = ["Équipe produit", "Développement", "Conception", "Design", "Data", "Accompagnement", "Déploiement",
           "Maintenance évolutive", "Investigation", "Coaching produit"]


def statement_due(on: date) -> date:
    """When the half-year statement covering `on` is due (15 July, 15 January)."""
    return date(on.year, 7, 15) if on.month <= 6 else date(on.year + 1, 1, 15)


# ------------------------------------------------------------------ drawing from the world


class Draw:
    """Random but reproducible choices that keep an order compliant."""

    def __init__(self, world: World, seed: int):
        self.world, self.rnd = world, random.Random(seed)
        self.candidates = {a.agreement_id: self._candidates(world, a.agreement_id, a.start, a.end)
                           for a in world.agreements.values()}
        # after the 2021 agreement's end and before the 2026 one: where HORS_PERIODE orders go
        self.gap = self._candidates(world, "acim-2021", world.agreements["acim-2021"].end + timedelta(days=1),
                                    world.agreements["acim-2026"].start - timedelta(days=1))

    @staticmethod
    def _candidates(world: World, agreement_id: str, start: date, end: date) -> list:
        """(startup, [(from, to)]) where the startup may be ordered under the agreement, within [start, end]."""
        a = world.agreements[agreement_id]
        rows = []
        for st in world.startups:
            if st["ministry"] not in world.ministries or st["ministry"] not in a.beneficiaries \
                    or st["incubator_id"] in a.excluded_incubators:
                continue
            spans = [(max(f, start), min(t - timedelta(days=1), end)) for f, t in st["windows"].get(agreement_id, [])]
            spans = [(f, t) for f, t in spans if f <= t]
            if spans:
                rows.append((st, spans))
        return rows

    def agreement(self) -> str:
        # four years of the 2021 agreement against eight months of the 2026 one
        return "acim-2021" if self.rnd.random() < 0.8 else "acim-2026"

    def startup_and_date(self, agreement_id: str, candidates: list | None = None) -> tuple[dict, date]:
        st, spans = self.rnd.choice(candidates or self.candidates[agreement_id])
        f, t = self.rnd.choice(spans)
        return st, f + timedelta(days=self.rnd.randrange((t - f).days + 1))

    def buyer(self, ministry: str) -> str:
        return self.rnd.choice(self.world.ministries[ministry][:3])

    def valid_holders(self, agreement_id: str, on: date) -> list[dict]:
        return [h for h in self.world.agreements[agreement_id].holders
                if (h["valid_from"] is None or h["valid_from"] <= on) and (h["valid_to"] is None or on <= h["valid_to"])]

    def spelling(self, holder: dict) -> str:
        return self.rnd.choice(holder["spellings"])

    def amount(self) -> Decimal:
        return Decimal(self.rnd.randrange(40, 800) * 250)


def _anomaly(draw: Draw, agreement_id: str, when: date) -> str | None:
    if draw.rnd.random() >= ANOMALY_RATE:
        return None
    kinds = ["startup", "acheteur", "titulaire", "ttc"]
    kinds += ["periode"] if agreement_id == "acim-2021" else ["tourniquet"]
    kinds += ["non_declaree"] if statement_due(when) < CLOCK else []
    return draw.rnd.choice(kinds)


def _order(draw: Draw, i: int) -> dict:
    rnd = draw.rnd
    agreement_id = draw.agreement()
    st, when = draw.startup_and_date(agreement_id)
    anomaly = _anomaly(draw, agreement_id, when)
    if anomaly == "periode":  # a listed startup in an eligible phase, on a date between the two agreements
        st, when = draw.startup_and_date(agreement_id, draw.gap)
    ht = draw.amount()
    order = {"numero_bc": f"13{i:08d}", "date": when, "buyer": draw.buyer(st["ministry"]),
             "startup": st["name"], "startup_id": st["startup_id"], "holder": None, "holder_id": None, "ht": ht,
             "ttc": ht * Decimal("1.2"), "objet": rnd.choice(OBJECTS), "agreement_id": agreement_id,
             "anomaly": anomaly}
    if agreement_id == "acim-2021":
        holder = rnd.choice(draw.valid_holders(agreement_id, when))
        order["holder"], order["holder_id"] = draw.spelling(holder), holder["holder_id"]
    return order


def _keep_below_maximum(world: World, orders: list[dict]) -> None:
    """2026 amounts scaled down so that the lot stays under PLAFOND_SHARE of its maximum."""
    maximum = world.agreements["acim-2026"].maximum_ht
    ours = [o for o in orders if o["agreement_id"] == "acim-2026"]
    total = sum((o["ht"] for o in ours), Decimal(0))
    if maximum is None or total <= PLAFOND_SHARE * maximum:
        return
    factor = PLAFOND_SHARE * maximum / total
    for o in ours:
        o["ht"] = max(Decimal("0.01"), (o["ht"] * factor).quantize(Decimal("0.01")))
        o["ttc"] = o["ht"] * Decimal("1.2")


def plan_orders(world: World, count: int, seed: int = 2026) -> list[dict]:
    draw = Draw(world, seed)
    rnd = draw.rnd
    orders = [_order(draw, i) for i in range(count)]
    _keep_below_maximum(world, orders)
    # the value tourniquet is served over the orders Vigie will see as its purchase orders
    _value_tourniquet(world, draw, [o for o in orders if o["agreement_id"] == "acim-2026"
                                    and o["anomaly"] != "titulaire"])
    for o in orders:  # broken on purpose, after the tourniquet is served
        kind = o["anomaly"]
        if kind == "startup":
            o["startup"] = rnd.choice(world.non_startups)
        elif kind == "acheteur":
            o["buyer"] = rnd.choice(world.non_beneficiaries)
        elif kind == "titulaire":
            o["holder"], o["holder_id"] = rnd.choice(world.non_holders), None
        elif kind == "ttc":
            o["ttc"] = o["ht"] * Decimal("1.5")
    return orders


def _designated(ranked: list[str], cumul: dict, served: set) -> str | None:
    """As pipelines/rules/tourniquet.py reads CCAP 2026 10.4: first one order each in ranking
    order; then the first holder whose cumulative value no longer leads the next (None: no drift)."""
    if len(served) < len(ranked):
        return next(h for h in ranked if h not in served)
    return next((ranked[i] for i in range(len(ranked) - 1) if cumul[ranked[i]] <= cumul[ranked[i + 1]]), None)


def _value_tourniquet(world: World, draw: Draw, orders: list[dict]) -> None:
    """The holder of each 2026 order: the designated one; when none is (A > B > C holds), the
    last-ranked one, which soon calls for a rebalancing. An order marked `tourniquet` goes to
    the holder after the designated one (where none is designated, nothing can be broken:
    the mark is dropped)."""
    holders = {h["holder_id"]: h for h in world.agreements["acim-2026"].holders}
    ranked = list(holders)
    cumul = {h: Decimal(0) for h in ranked}
    served: set[str] = set()
    for o in sorted(orders, key=lambda o: (o["date"], o["numero_bc"])):
        expected = _designated(ranked, cumul, served)
        if expected is None:
            holder_id = ranked[-1]
            if o["anomaly"] == "tourniquet":
                o["anomaly"] = None
        elif o["anomaly"] == "tourniquet":
            holder_id = ranked[(ranked.index(expected) + 1) % len(ranked)]
        else:
            holder_id = expected
        o["holder"], o["holder_id"] = draw.spelling(holders[holder_id]), holder_id
        served.add(holder_id)
        cumul[holder_id] += o["ht"]


def plan_declarations(world: World, orders: list[dict]) -> dict[str, list[dict]]:
    """holder -> the orders it declares: every order of a half-year due by CLOCK, but those
    it leaves out on purpose (and those of an unknown holder, which declares nothing)."""
    names = {h["holder_id"]: h["name"] for a in world.agreements.values() for h in a.holders}
    declared: dict[str, list[dict]] = {}
    for o in sorted(orders, key=lambda o: (o["date"], o["numero_bc"])):
        if o["holder_id"] and o["anomaly"] != "non_declaree" and statement_due(o["date"]) < CLOCK:
            declared.setdefault(names[o["holder_id"]], []).append(o)
    return declared


class Needs:
    """Tourniquet logs of the 2021 agreement, need after need in date order."""

    def __init__(self, world: World, seed: int):
        self.draw = Draw(world, seed)
        self.agreement = world.agreements["acim-2021"]
        self.last_first: dict[str, str] = {}  # beneficiary (ministry) -> holder first offered its last need
        self.scripts: dict[str, list[str]] = {}  # holder (as REFUS_SEUIL counts it) -> refusals still to make
        for i, h in enumerate(self.agreement.holders):
            key = h["merged_into"] or h["holder_id"]
            if key in self.scripts:
                continue
            script = (["refus"] * (REFUSALS_PER_HOLDER - UNJUSTIFIED_PER_HOLDER - SKIPPED_PER_HOLDER + (i == 0))
                      + ["sans_motif"] * UNJUSTIFIED_PER_HOLDER + ["saut"] * SKIPPED_PER_HOLDER)
            self.draw.rnd.shuffle(script)
            self.scripts[key] = script
        self.injected: Counter = Counter()
        self.refused: Counter = Counter()

    def first(self, ministry: str, holders: list[dict]) -> dict:
        """The holder after the one first offered the beneficiary's previous need (or, one
        time in NEED_SKIP_RATE, the one after that: a TOURNIQUET finding)."""
        ids = [h["holder_id"] for h in holders]
        previous = self.last_first.get(ministry)
        if previous not in ids:  # its first need, or the previous holder is gone: any holder
            return self.draw.rnd.choice(holders)
        step = 1
        if len(ids) > 2 and self.draw.rnd.random() < NEED_SKIP_RATE:
            step = 2
            self.injected["TOURNIQUET"] += 1
        return holders[(ids.index(previous) + step) % len(ids)]

    def refusal(self, holder: dict, p: float) -> str | None:
        key = holder["merged_into"] or holder["holder_id"]
        if not self.scripts[key] or self.draw.rnd.random() >= p:
            return None
        self.refused[key] += 1
        return self.scripts[key].pop()

    def rows(self, number: str, when: date, ministry: str, startup: str, p: float) -> list[list]:
        draw = self.draw
        holders = draw.valid_holders(self.agreement.agreement_id, when)
        buyer, first = draw.buyer(ministry), self.first(ministry, holders)
        self.last_first[ministry] = first["holder_id"]
        kind = self.refusal(first, p) if len(holders) > 2 else None
        row = [number, when, buyer, startup, draw.spelling(first), 1]
        if kind is None:
            return [[*row, "Accepté", "", CODES["acim-2021"]]]
        at = [h["holder_id"] for h in holders].index(first["holder_id"])
        taker = holders[(at + (2 if kind == "saut" else 1)) % len(holders)]
        self.injected.update({"saut": ["TOURNIQUET"], "sans_motif": ["REFUS_NON_JUSTIFIE"]}.get(kind, []))
        motif = draw.rnd.choice(NO_REASON) if kind == "sans_motif" else "Plan de charge complet"
        response = draw.rnd.choice(["Refusé", "Désistement"])
        return [[*row, response, motif, CODES["acim-2021"]],
                [number, when, buyer, startup, draw.spelling(taker), 2, "Accepté", "", CODES["acim-2021"]]]


def plan_needs(world: World, count: int, seed: int = 7) -> tuple[list[list], Counter, int]:
    """`count` needs (a few more rows: a refused need has two), each offered first to the
    holder after the one its beneficiary's previous need was first offered to; what was
    injected, per rule; how many refusal scripts (holders as REFUS_SEUIL counts them)."""
    needs = Needs(world, seed)
    draw = needs.draw
    skeletons = sorted((draw.startup_and_date("acim-2021") for _ in range(count)), key=lambda s: s[1])
    # refusals spread over the whole agreement: about one script in total per holder
    p = min(0.2, 1.5 * REFUSALS_PER_HOLDER * len(needs.scripts) / max(count, 1))
    rows = []
    for n, (st, when) in enumerate(skeletons, start=1):
        rows += needs.rows(f"EB-{when.year}-{n:07d}", when, st["ministry"], st["name"], p)
    injected = needs.injected
    injected["REFUS_SEUIL"] = sum(1 for refused in needs.refused.values() if refused >= REFUS_SEUIL_ALERT)
    return rows, injected, len(needs.scripts)


def injected_findings(orders: list[dict], needs_injected: Counter) -> dict[str, int]:
    """Rule -> how many findings the generator planted: what `vigie check` should raise."""
    counts = Counter(ORDER_ANOMALIES[o["anomaly"]] for o in orders if o["anomaly"])
    counts.update(needs_injected)
    return dict(sorted(counts.items()))


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
                     fr_money(o["ht"], space="\u00a0"), fr_money(o["ttc"], space="\u00a0"), o["objet"],
                     CODES[o["agreement_id"]]] for o in part]
            made.append(write_csv(folder / f"chorus_{f:03d}.csv", [
                ["N° EJ", "Date de création", "Service acheteur", "Produit", "Fournisseur", "Montant HT",
                 "Montant TTC", "Libellé", "Marché"], *body], encoding="cp1252", separator=";"))
        elif kind == "export":  # UTF-8 with BOM, ',' and ISO dates
            body = [[o["numero_bc"], o["date"].isoformat(), o["buyer"], o["startup"], o["holder"],
                     f"{o['ht']:.2f}", f"{o['ttc']:.2f}", o["objet"], CODES[o["agreement_id"]]] for o in part]
            made.append(write_csv(folder / f"export_{f:03d}.csv", [
                ["Numéro de bon de commande", "Date de commande", "Administration", "Startup", "Titulaire",
                 "Montant HT", "Montant TTC", "Objet", "Accord-cadre"], *body], encoding="utf-8", separator=",",
                bom=True))
        else:
            rows = [[o["numero_bc"], o["date"], o["buyer"], o["startup"], o["holder"], float(o["ht"]),
                     float(o["ttc"]), o["objet"], CODES[o["agreement_id"]]] for o in part]
            header = ["N° BC", "Date du BC", "Bénéficiaire", "Startup d'État", "Titulaire du marché",
                      "Montant HT (€)", "Montant TTC (€)", "Objet", "Marché"]
            if kind == "suivi":  # Excel with a title and a total row
                made.append(write_xlsx(folder / f"suivi_{f:03d}.xlsx", [header, *rows],
                                       above=[["Suivi des bons de commande"], []],
                                       below=[["TOTAL", None, None, None, None, sum(r[5] for r in rows), None, None,
                                               None]],
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
                 "Justification", "Marché"], *([r[0], fr_date(r[1]), *r[2:]] for r in part)], encoding="utf-8",
                separator=";"))
    return made


def write_declarations(folder: Path, declared: dict[str, list[dict]]) -> list[Path]:
    """One file per holder: its half-year statements to DINUM, each row sent by the 10th of
    the month its half-year is due."""
    made = []
    for n, (holder, orders) in enumerate(sorted(declared.items())):
        body = [[o["numero_bc"], fr_date(o["date"]), o["buyer"], o["startup"], holder,
                 fr_money(o["ht"], space="\u00a0"), CODES[o["agreement_id"]],
                 fr_date(statement_due(o["date"]).replace(day=10))] for o in orders]
        made.append(write_csv(folder / f"declarations_{n:03d}.csv", [
            ["N° BC", "Date du BC", "Bénéficiaire", "Startup", "Titulaire", "Montant HT", "Marché",
             "Transmis à la DINUM le"], *body], encoding="utf-8", separator=";"))
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
    declared = plan_declarations(world, planned)
    write_declarations(folder, declared)
    needs, needs_injected, scripts = plan_needs(world, solicitations)
    write_needs(folder, needs, besoin_files)
    return {"orders": orders, "order_files": order_files, "solicitations": solicitations,
            "besoin_files": besoin_files, "inbox": str(folder),
            "orders_broken": dict(sorted(Counter(o["anomaly"] for o in planned if o["anomaly"]).items())),
            "declarations_written": sum(len(v) for v in declared.values()), "declaration_files": len(declared),
            "solicitations_written": len(needs), "refusal_scripts": scripts,
            "injected": injected_findings(planned, needs_injected)}


def generate(scale: str, folder: Path) -> dict:
    params = SCALES[scale]
    parquet, csv = decp(folder / "decp", params["decp_rows"])
    made = inbox(folder / "inbox", params["orders"], params["order_files"], params["solicitations"],
                 params["besoin_files"])
    return {"scale": scale, **params, "decp_parquet": str(parquet), "decp_csv": str(csv), **made}


if __name__ == "__main__":
    print(json.dumps(generate(sys.argv[1], Path(sys.argv[2])), indent=2))
