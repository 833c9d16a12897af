"""TOURNIQUET: was each need offered, each purchase order given, in turn?

Sequential logic reads better in Python than in SQL. Two modes, set per agreement:

sequentiel (ACIM 2021)  within a need, the holder solicited at rank n+1 must be the one
    that follows the holder of rank n in the agreement's order, among the holders valid
    on the need's date (Benext drops out on 2022-04-01). v2: across a beneficiary's
    successive needs, each new need is first offered to the holder that follows the one
    first offered the previous need; a holder that had reached the critical refusal count
    (REFUS_SEUIL) by then may be skipped. A need under droit de suite is not a tourniquet
    need.
valeur (ACIM 2026, CCAP 10.4)  purchase orders of the lot, by date: a first cycle gives
    one order to each holder in ranking order; afterwards the cumulative value must stay
    A > B > C, and when it drifts the next order goes to the under-served holder. An
    order given elsewhere is a finding unless a withdrawal (désistement, refusal) of the
    expected holder, or a droit de suite, explains it. v2: no answer explains a skip only
    after `skip_after_working_days` French working days (public holidays excluded) from
    the need; a droit de suite only where the same holder (or a member of it) already had
    an order from the same beneficiary for the same product.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from pipelines.rules.workdays import working_days_between

RULE = "TOURNIQUET"
EXPLAINING = {"desistement", "refus"}


def _holders(con, agreement_id: str) -> list[dict]:
    rows = con.execute(
        "SELECT holder_id, name, rank, valid_from, valid_to, lot, contact_email FROM ref.holders "
        "WHERE agreement_id = ? AND rank IS NOT NULL ORDER BY rank",
        [agreement_id],
    ).fetchall()
    return [dict(zip(["holder_id", "name", "rank", "valid_from", "valid_to", "lot", "contact"], r, strict=True))
            for r in rows]


def _valid(holders: list[dict], on: date) -> list[dict]:
    return [h for h in holders if (h["valid_from"] is None or h["valid_from"] <= on)
            and (h["valid_to"] is None or on <= h["valid_to"])]


def _finding(agreement_id, subject_type, subject, row: dict, evidence: dict, holder: dict | None) -> dict:
    return {
        "rule": RULE, "agreement_id": agreement_id, "subject_type": subject_type, "subject": subject,
        "severity": "alerte", "numero_bc": row.get("numero_bc"), "numero_besoin": row.get("numero_besoin"),
        "holder_id": holder["holder_id"] if holder else None, "titulaire": holder["name"] if holder else None,
        "acheteur": row.get("buyer_name"), "startup": row.get("startup"),
        "amount_ht": row.get("montant_ht") or row.get("montant_estime_ht"),
        "source_file": row.get("source_file"), "source_line": row.get("source_line"),
        "evidence": json.dumps(evidence, ensure_ascii=False, default=str),
    }


def sequential(con, agreement_id: str) -> list[dict]:
    holders = _holders(con, agreement_id)
    by_id = {h["holder_id"]: h for h in holders}
    cols = ["numero_besoin", "date_besoin", "rang", "holder_id", "titulaire", "reponse", "buyer_name",
            "startup", "montant_estime_ht", "numero_bc", "source_file", "source_line"]
    # Only needs offered more than once can break the order; droit de suite needs are not
    # tourniquet needs: both left out in SQL (most needs are taken at the first offer).
    rows = [dict(zip(cols, r, strict=True)) for r in con.execute(
        f"SELECT {', '.join(cols)} FROM mart.solicitations WHERE agreement_id = $a "  # noqa: S608 - constant columns
        "AND numero_besoin IN (SELECT numero_besoin FROM mart.solicitations WHERE agreement_id = $a "
        "    GROUP BY numero_besoin HAVING count(*) > 1 AND count(*) FILTER (WHERE reponse = 'droit_de_suite') = 0) "
        "ORDER BY numero_besoin, rang", {"a": agreement_id}).fetchall()]
    needs = defaultdict(list)
    for r in rows:
        needs[r["numero_besoin"]].append(r)
    findings = []
    for need, sols in needs.items():
        if any(s["reponse"] == "droit_de_suite" for s in sols):
            continue
        order = _valid(holders, sols[0]["date_besoin"])
        ids = [h["holder_id"] for h in order]
        for prev, nxt in zip(sols, sols[1:], strict=False):
            if prev["holder_id"] not in ids or nxt["holder_id"] is None:
                continue  # an unknown or invalid holder is TITULAIRE_INVALIDE's business
            expected = ids[(ids.index(prev["holder_id"]) + 1) % len(ids)]
            if nxt["holder_id"] != expected:
                evidence = {
                    "mode": "sequentiel", "besoin": need, "date_besoin": sols[0]["date_besoin"],
                    "rang_precedent": prev["rang"], "titulaire_precedent": by_id[prev["holder_id"]]["name"],
                    "rang": nxt["rang"], "attendu": by_id[expected]["name"],
                    "sollicite": by_id[nxt["holder_id"]]["name"] if nxt["holder_id"] in by_id else nxt["titulaire"],
                    "ordre": [h["name"] for h in order],
                    "sequence": [{"rang": s["rang"], "titulaire": s["titulaire"], "reponse": s["reponse"]} for s in sols],
                }
                findings.append(_finding(agreement_id, "besoin", need, nxt, evidence, by_id.get(nxt["holder_id"])))
                break
    return findings + across_needs(con, agreement_id, holders)


def _critical_refusers(con, agreement_id: str) -> dict[str, date]:
    """Holder -> date of the need that brought it to the critical refusal count."""
    row = con.execute("SELECT refusal_critical_at, refusal_responses FROM ref.agreements WHERE agreement_id = ?",
                      [agreement_id]).fetchone()
    if not row or row[0] is None:
        return {}
    threshold, responses = row
    seen: dict[str, set] = defaultdict(set)
    reached: dict[str, date] = {}
    for holder, need, on in con.execute(
            "SELECT coalesce(h.merged_into, s.holder_id), s.numero_besoin, s.date_besoin FROM mart.solicitations s "
            "LEFT JOIN ref.holders h ON h.agreement_id = s.agreement_id AND h.holder_id = s.holder_id "
            "WHERE s.agreement_id = ? AND s.holder_id IS NOT NULL AND list_contains(?, s.reponse) "
            "ORDER BY s.date_besoin, s.numero_besoin", [agreement_id, responses]).fetchall():
        seen[holder].add(need)
        if len(seen[holder]) >= threshold and holder not in reached:
            reached[holder] = on
    return reached


def across_needs(con, agreement_id: str, holders: list[dict]) -> list[dict]:
    """Each beneficiary's needs in date order: the first holder offered a need follows the
    first holder offered the previous one."""
    by_id = {h["holder_id"]: h for h in holders}
    dropped = _critical_refusers(con, agreement_id)
    cols = ["numero_besoin", "date_besoin", "buyer", "holder_id", "titulaire", "buyer_name", "startup",
            "montant_estime_ht", "numero_bc", "source_file", "source_line"]
    firsts = [dict(zip(cols, r, strict=True)) for r in con.execute(
        "SELECT numero_besoin, date_besoin, coalesce(buyer_id, acheteur), holder_id, titulaire, buyer_name, startup, "
        "montant_estime_ht, numero_bc, source_file, source_line FROM mart.solicitations s "
        "WHERE agreement_id = $a AND rang = (SELECT min(rang) FROM mart.solicitations x "
        "    WHERE x.agreement_id = $a AND x.numero_besoin = s.numero_besoin) "
        "AND numero_besoin NOT IN (SELECT numero_besoin FROM mart.solicitations "
        "    WHERE agreement_id = $a AND reponse = 'droit_de_suite') "
        "ORDER BY 3, date_besoin, numero_besoin", {"a": agreement_id}).fetchall()]
    findings = []
    for prev, cur in zip(firsts, firsts[1:], strict=False):
        if prev["buyer"] != cur["buyer"] or prev["holder_id"] is None or cur["holder_id"] is None:
            continue
        order = [h["holder_id"] for h in _valid(holders, cur["date_besoin"])]
        if prev["holder_id"] not in order or cur["holder_id"] not in order:
            continue  # a holder no longer valid is TITULAIRE_INVALIDE's business
        start = order.index(prev["holder_id"])
        allowed = []
        for step in range(1, len(order) + 1):
            candidate = order[(start + step) % len(order)]
            allowed.append(candidate)
            if not (candidate in dropped and dropped[candidate] <= cur["date_besoin"]):
                break
        if cur["holder_id"] in allowed:
            continue
        evidence = {
            "mode": "sequentiel_besoins", "besoin": cur["numero_besoin"], "date_besoin": cur["date_besoin"],
            "besoin_precedent": prev["numero_besoin"], "premier_precedent": by_id[prev["holder_id"]]["name"],
            "attendu": by_id[allowed[-1]]["name"], "sollicite": by_id[cur["holder_id"]]["name"],
            "ordre": [by_id[h]["name"] for h in order],
        }
        findings.append(_finding(agreement_id, "besoin", f"{cur['numero_besoin']}#ordre", cur, evidence,
                                 by_id[cur["holder_id"]]))
    return findings


def _value_orders(con, agreement_id: str) -> list[dict]:
    """Orders outside the agreement's period are not purchase orders of it (HORS_PERIODE
    says so): they take no part in the tourniquet."""
    cols = ["numero_bc", "date_bc", "holder_id", "titulaire", "montant_ht", "buyer_name", "startup",
            "source_file", "source_line", "lot", "bc_key", "buyer_id", "startup_id"]
    return [dict(zip(cols, r, strict=True)) for r in con.execute(
        f"SELECT {', '.join('o.' + c for c in cols)} FROM mart.orders_enriched o "  # noqa: S608 - constant columns
        "JOIN ref.agreements a ON a.agreement_id = o.agreement_id WHERE o.agreement_id = ? "
        "AND o.date_bc >= coalesce(a.period_start, DATE '1900-01-01') "
        "AND o.date_bc <= coalesce(a.orders_end, a.period_end, DATE '2999-12-31') "
        "ORDER BY o.date_bc, o.numero_bc", [agreement_id]).fetchall()]


@dataclass
class _Explainer:
    """What may explain an order given to another holder than the expected one."""

    agreement_id: str
    skip_days: int | None
    # bc_key -> holder -> (response, need date, answer date), over every row of the need
    # that led to the order (only the granted row carries the order number)
    answers: dict[str, dict]
    members: dict[tuple, set]
    # every earlier order of a beneficiary for a product, whatever the agreement: who did it
    history: dict[tuple, list]

    @classmethod
    def load(cls, con, agreement_id: str) -> _Explainer:
        skip_days = con.execute("SELECT skip_after_working_days FROM ref.agreement_options WHERE agreement_id = ?",
                                [agreement_id]).fetchone()
        answers: dict[str, dict] = defaultdict(dict)
        for bc, holder, reponse, asked, answered in con.execute(
            "SELECT n.bc_key, s.holder_id, s.reponse, s.date_besoin, s.date_reponse FROM mart.solicitations s "
            "JOIN (SELECT DISTINCT numero_besoin, bc_key FROM mart.solicitations "
            "      WHERE agreement_id = $a AND bc_key <> '') n USING (numero_besoin) "
            "WHERE s.agreement_id = $a", {"a": agreement_id}).fetchall():
            answers[bc][holder] = (reponse, asked, answered)
        members = defaultdict(set)
        for agreement, holder, member in con.execute(
                "SELECT agreement_id, holder_id, member_id FROM ref.holder_members").fetchall():
            members[(agreement, holder)].add(member)
        history = defaultdict(list)
        for buyer, startup, on, agreement, holder, member in con.execute(
                "SELECT buyer_id, startup_id, date_bc, agreement_id, holder_id, member_id FROM mart.orders_enriched "
                "WHERE buyer_id IS NOT NULL AND startup_id IS NOT NULL").fetchall():
            history[(buyer, startup)].append((on, agreement, holder, member))
        return cls(agreement_id, skip_days[0] if skip_days else None, answers, members, history)

    def follows_up(self, o) -> bool:
        """Droit de suite: the same holder (or one of its members) already had an order
        from this beneficiary for this product."""
        mine = self.members[(self.agreement_id, o["holder_id"])]
        return any(on < o["date_bc"] and ((agreement == self.agreement_id and holder == o["holder_id"])
                                          or (member is not None and member in mine))
                   for on, agreement, holder, member in self.history[(o["buyer_id"], o["startup_id"])])

    def waited(self, answer, o) -> tuple[bool, int | None]:
        """No answer explains a skip once enough working days went by since the need."""
        _, asked, answered = answer
        if self.skip_days is None or asked is None:
            return True, None
        days = working_days_between(asked, answered or o["date_bc"])
        return days >= self.skip_days, days

    def explain(self, o, actual: str, expected: str | None) -> tuple[bool, dict]:
        """Whether the order is explained, and what the evidence adds when it is not."""
        if expected is None or actual == expected:
            return True, {}
        said = self.answers.get(o["bc_key"], {})
        if said.get(actual, ("",))[0] == "droit_de_suite":
            explained = self.follows_up(o)
            return explained, {} if explained else {"droit_de_suite_sans_antecedent": True}
        expected_said = said.get(expected, ("",))[0]
        if expected_said in EXPLAINING:
            return True, {}
        if expected_said == "sans_reponse":
            explained, days = self.waited(said[expected], o)
            return explained, {} if explained else {"saut_trop_tot": True, "jours_ouvres": days,
                                                    "jours_requis": self.skip_days}
        return False, {}


def _expected(ranked: list[str], cumul: dict, served: set) -> tuple[str, str | None]:
    """The cycle's phase and the holder the next order goes to: first one order each, in
    ranking order; then the first holder whose cumulative value no longer leads the next."""
    if len(served) < len(ranked):
        return "premier_cycle", next(h for h in ranked if h not in served)
    return "equilibre", next((ranked[i] for i in range(len(ranked) - 1)
                              if cumul[ranked[i]] <= cumul[ranked[i + 1]]), None)


def _lot_findings(lot, holders: list[dict], orders: list[dict], explainer: _Explainer, atypical: set) -> list[dict]:
    by_id = {h["holder_id"]: h for h in holders}
    ranked = [h["holder_id"] for h in holders if h["lot"] == lot]
    cumul = {h: Decimal(0) for h in ranked}
    served: set[str] = set()
    findings = []
    for o in orders:
        if (lot is not None and o["lot"] not in (lot, None)) or o["holder_id"] not in cumul:
            continue
        actual = o["holder_id"]
        phase, expected = _expected(ranked, cumul, served)
        explained, extra = explainer.explain(o, actual, expected)
        if not explained:
            evidence = {
                "mode": "valeur", "phase": phase, "lot": lot, "date_bc": o["date_bc"],
                "attribue_a": by_id[actual]["name"], "attendu": by_id[expected]["name"],
                "cumuls_avant": {by_id[h]["name"]: cumul[h] for h in ranked},
                "ordre": [by_id[h]["name"] for h in ranked], **extra,
            }
            findings.append(_finding(explainer.agreement_id, "commande", o["numero_bc"], o, evidence, by_id[actual]))
        if o["numero_bc"] not in atypical and (o["montant_ht"] or 0) > 0:  # credit notes are not orders
            cumul[actual] += o["montant_ht"]
        served.add(actual)
    return findings


def by_value(con, agreement_id: str) -> list[dict]:
    """Each lot's purchase orders in date order, against the turn the value rule gives."""
    holders = _holders(con, agreement_id)
    orders = _value_orders(con, agreement_id)
    explainer = _Explainer.load(con, agreement_id)
    # an atypical amount not yet reviewed is kept out of totals (MONTANT_ATYPIQUE)
    atypical = {bc for (bc,) in con.execute(
        "SELECT numero_bc FROM mart.order_atypical WHERE agreement_id = ? AND NOT reviewed", [agreement_id]).fetchall()}
    findings = []
    for lot in sorted(x for x in {h["lot"] for h in holders} if x is not None) or [None]:
        findings += _lot_findings(lot, holders, orders, explainer, atypical)
    return findings


def evaluate(con, settings, now) -> list[dict]:
    findings = []
    for agreement_id, mode in con.execute(
        "SELECT a.agreement_id, a.tourniquet_mode FROM ref.agreements a "
        "JOIN ref.agreement_rules r ON r.agreement_id = a.agreement_id AND r.rule = 'TOURNIQUET' "
        "WHERE a.tourniquet_mode IS NOT NULL ORDER BY 1"
    ).fetchall():
        findings += sequential(con, agreement_id) if mode == "sequentiel" else by_value(con, agreement_id)
    return findings
