"""Every number of the monthly report, as functions of the warehouse. The notebooks call
the same functions, so the report and the notebooks always tell the same numbers.

Frames carry French column labels: they are what analysts read. Amounts are per
agreement: totals never add two agreements together without saying so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from pipelines import fr

SEVERITIES = ["critique", "alerte", "info"]
# Kinds of files and validated tables, as analysts name them.
KINDS = {"commandes": "commandes", "declarations": "déclarations", "besoins": "besoins", "startups": "startups",
         "phases": "phases", "organisations": "organisations", "decp": "DECP", "incubateurs": "incubateurs"}


def _kinds(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    frame[column] = [KINDS.get(v, v) if isinstance(v, str) else v for v in frame[column]]
    return frame
STARTUP_RULES = ["HORS_STARTUP", "EXCEPTION_DINUM", "PHASE_NON_ELIGIBLE"]


@dataclass(frozen=True)
class Month:
    start: date
    end: date  # exclusive

    @classmethod
    def parse(cls, text: str) -> Month:
        year, month = int(text[:4]), int(text[5:7])
        start = date(year, month, 1)
        end = date(year + (month == 12), month % 12 + 1, 1)
        return cls(start, end)

    @property
    def label(self) -> str:
        return fr.month(self.start.year, self.start.month)

    @property
    def key(self) -> str:
        return self.start.strftime("%Y-%m")

    @property
    def of_label(self) -> str:
        """« d'octobre 2026 », « de mars 2026 »: French elides « de » before a vowel."""
        return of(self.label)

    def status(self, today: date) -> str:
        """'futur', 'en_cours' or 'termine' as of `today` (the pinned clock)."""
        if today < self.start:
            return "futur"
        return "en_cours" if today < self.end else "termine"

    @property
    def previous(self) -> Month:
        return Month.parse((self.start - timedelta(days=1)).strftime("%Y-%m"))

    @property
    def year_start(self) -> date:
        return date(self.start.year, 1, 1)


def of(label: str) -> str:
    """« de » + label, elided before a vowel (avril, août, octobre): « d'octobre 2026 »."""
    return f"d'{label}" if label[:1].lower() in "aeiouyàâéèêîôûh" else f"de {label}"


def _df(con, query: str, params=None) -> pd.DataFrame:
    return con.execute(query, params or []).df()


REPORT_SQL = Path(__file__).parent / "sql" / "report_orders.sql"


def prepare(con) -> None:
    """Temporary views of the orders as the report counts them (see report_orders.sql);
    idempotent, and the warehouse file is not changed (works on a read-only connection)."""
    text = "\n".join(line for line in REPORT_SQL.read_text(encoding="utf-8").splitlines()
                     if not line.lstrip().startswith("--"))  # comments may hold a ';'
    for statement in text.split(";"):
        if statement.strip():
            con.execute(statement)


# ------------------------------------------------------------------ agreements


def agreements(con) -> pd.DataFrame:
    """The agreements watched, with what is unknown about them said plainly. Orders are
    counted as everywhere in the report: credit notes and set-aside amounts are not orders."""
    prepare(con)
    frame = _df(con, """
        SELECT a.agreement_id, a.short_title, a.title, a.period_start, a.period_end,
               (SELECT count(*) FROM ref.holders h WHERE h.agreement_id = a.agreement_id) AS holders,
               (SELECT count(*) FROM ref.agreement_lots l WHERE l.agreement_id = a.agreement_id
                  AND l.maximum_ht IS NULL) AS lots_without_max,
               (SELECT list(rule ORDER BY rule) FROM ref.agreement_rules r WHERE r.agreement_id = a.agreement_id) AS rules,
               (SELECT count(*) FILTER (WHERE o.counted) FROM report_orders o
                WHERE o.agreement_id = a.agreement_id) AS orders,
               (SELECT count(*) FILTER (WHERE NOT o.counted) FROM report_orders o
                WHERE o.agreement_id = a.agreement_id) AS rows_not_counted,
               (SELECT count(*) FILTER (WHERE o.credit_note) FROM report_orders o
                WHERE o.agreement_id = a.agreement_id) AS credit_notes,
               (SELECT count(*) FILTER (WHERE o.set_aside) FROM report_orders o
                WHERE o.agreement_id = a.agreement_id) AS set_aside,
               (SELECT count(*) FILTER (WHERE NOT o.summed AND NOT o.set_aside) FROM report_orders o
                WHERE o.agreement_id = a.agreement_id) AS negative
        FROM ref.agreements a ORDER BY a.agreement_id
    """)
    frame["Lignes non comptées"] = [_not_counted_text(r) for _, r in frame.iterrows()]
    unknowns = []
    for _, row in frame.iterrows():
        missing = []
        if pd.isna(row["period_start"]) or pd.isna(row["period_end"]):
            missing.append("période non publiée (règle HORS_PERIODE non évaluée)")
        if row["holders"] == 0:
            missing.append("titulaires non publiés (titulaires, refus et tourniquet non suivis)")
        if row["lots_without_max"]:
            missing.append("montant maximum non publié (règle PLAFOND non évaluée)")
        unknowns.append(" ; ".join(missing) if missing else "—")
    frame["Non publié"] = unknowns
    return frame


def _not_counted_text(row) -> str:
    parts = []
    if row["credit_notes"]:
        parts.append(fr.plural(int(row["credit_notes"]), "avoir"))
    if row["set_aside"]:
        parts.append(fr.plural(int(row["set_aside"]), "montant atypique écarté", "montants atypiques écartés"))
    if row["negative"]:
        parts.append(fr.plural(int(row["negative"]), "montant négatif sans correctif", "montants négatifs sans correctif"))
    return " ; ".join(parts) if parts else "—"


def agreement_ids_with_orders(con) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT DISTINCT agreement_id FROM mart.orders_enriched WHERE agreement_id IS NOT NULL ORDER BY 1").fetchall()]


def month_coverage(con, month: Month) -> dict:
    """Which agreements' periods cover the month; which periods are not published."""
    rows = con.execute("""
        SELECT short_title, period_start, period_end FROM ref.agreements ORDER BY agreement_id
    """).fetchall()
    covering = [t for t, start, end in rows if start is not None and end is not None
                and start < month.end and end >= month.start]
    unknown = [t for t, start, end in rows if start is None or end is None]
    return {"covering": covering, "unknown": unknown, "outside": not covering}


# ------------------------------------------------------------------ 1. synthèse


def set_aside_orders(con, agreement_id: str | None = None, month: Month | None = None) -> pd.DataFrame:
    """Orders whose amount is flagged MONTANT_ATYPIQUE and not reviewed yet: shown, never summed.
    With `month`, those dated before its end (a report does not list later orders)."""
    prepare(con)
    return _df(con, """
        SELECT a.short_title AS "Accord-cadre", o.numero_bc AS "Commande", o.date_bc AS "Date",
               coalesce(o.buyer_name, o.acheteur) AS "Acheteur", o.montant_ht AS "Montant HT écarté",
               f.message AS "Pourquoi", o.atypical_finding_id AS "Constat"
        FROM report_orders o
        LEFT JOIN ref.agreements a ON a.agreement_id = o.agreement_id
        LEFT JOIN findings.findings f ON f.finding_id = o.atypical_finding_id
        WHERE o.set_aside AND ($agreement IS NULL OR o.agreement_id = $agreement)
          AND ($end IS NULL OR o.date_bc < $end)
        ORDER BY o.date_bc, o.numero_bc
    """, {"agreement": agreement_id, "end": month.end if month else None})


def set_aside_periods(frame: pd.DataFrame, month: Month) -> dict:
    """The set-aside amounts of the month, since January and in all (the frame of set_aside_orders)."""
    dates = pd.to_datetime(frame["Date"]).dt.date if not frame.empty else pd.Series([], dtype=object)
    amounts = frame["Montant HT écarté"].astype(float) if not frame.empty else pd.Series([], dtype=float)

    def part(mask) -> dict:
        return {"count": int(mask.sum()), "amount": fr.money(float(amounts[mask].sum()), 0)}

    in_month = dates.map(lambda d: month.start <= d < month.end).astype(bool)
    in_year = dates.map(lambda d: month.year_start <= d < month.end).astype(bool)
    return {"month": part(in_month), "year": part(in_year), "total": part(pd.Series(True, index=dates.index))}


def credit_notes(con, month: Month, agreement_id: str | None = None) -> int:
    """Credit notes (negative corrective orders) of the month: in amounts, not in order counts."""
    prepare(con)
    return con.execute("""
        SELECT count(*) FROM report_orders
        WHERE credit_note AND date_bc >= ? AND date_bc < ? AND (?::VARCHAR IS NULL OR agreement_id = ?)
    """, [month.start, month.end, agreement_id, agreement_id]).fetchone()[0]


# ------------------------------------------------------------------ constats à traiter


def rule_titles() -> dict[str, str]:
    from pipelines.agreements import load_catalogue

    return {r["rule"]: r["title"] for r in load_catalogue()}


FINDINGS_SQL = """
    SELECT f.finding_id AS "Constat", f.severity AS "Gravité", f.rule AS "Règle",
           a.short_title AS "Accord-cadre",
           coalesce(o.date_bc, (SELECT min(s.date_besoin) FROM mart.solicitations s
                                 WHERE s.numero_besoin = f.numero_besoin)) AS "Date",
           CASE f.subject_type WHEN 'commande' THEN 'commande ' WHEN 'besoin' THEN 'besoin '
                WHEN 'sollicitation' THEN 'sollicitation ' WHEN 'lot' THEN 'lot ' WHEN 'source' THEN 'source '
                ELSE '' END || CASE WHEN f.subject_type = 'titulaire' THEN 'titulaire ' || coalesce(f.titulaire, f.subject)
                                    ELSE f.subject END AS "Objet",
           f.amount_ht AS "Montant HT",
           timezone('Europe/Paris', f.first_seen_at)::DATE AS "Vu le",
           f.message AS "Explication", f.contact AS "Écrire à",
           timezone('Europe/Paris', f.first_seen_at)::DATE >= $start
               AND timezone('Europe/Paris', f.first_seen_at)::DATE < $end AS "Nouveau",
           f.reviewed_by AS "Revu par", timezone('Europe/Paris', f.reviewed_at)::DATE AS "Revu le",
           f.review_reason AS "Motif"
    FROM findings.findings f
    LEFT JOIN mart.orders o ON o.numero_bc = f.numero_bc AND f.subject_type = 'commande'
    LEFT JOIN ref.agreements a ON a.agreement_id = f.agreement_id
    WHERE f.active AND ($agreement IS NULL OR f.agreement_id = $agreement OR f.agreement_id IS NULL)
"""


def open_findings(con, month: Month, agreement_id: str | None = None) -> pd.DataFrame:
    """Every open finding, whatever its date: what the analyst has to handle. `Nouveau`:
    first seen during the month reported on (as « Apparus pendant le mois »)."""
    frame = _df(con, FINDINGS_SQL + """ AND f.status = 'open'
        ORDER BY CASE f.severity WHEN 'critique' THEN 0 WHEN 'alerte' THEN 1 ELSE 2 END, f.rule,
                 "Date" NULLS LAST, f.subject""", {"start": month.start, "end": month.end, "agreement": agreement_id})
    return frame.drop(columns=["Revu par", "Revu le", "Motif"])


def reviewed_findings(con, month: Month, agreement_id: str | None = None) -> pd.DataFrame:
    """Findings reviewed since the start of the month: who, when and why."""
    frame = _df(con, FINDINGS_SQL + """ AND f.status = 'reviewed'
          AND timezone('Europe/Paris', f.reviewed_at)::DATE >= $start
        ORDER BY f.reviewed_at, f.rule, f.subject""", {"start": month.start, "end": month.end,
                                                        "agreement": agreement_id})
    frame["Historique"] = [finding_history(con, finding_id) for finding_id in frame["Constat"]]
    return frame.drop(columns=["Nouveau", "Écrire à"])


EVENTS = {"ouvert": "ouvert", "disparu": "disparu", "reapparu": "réapparu", "revu": "revu", "modifie": "modifié"}


def finding_history(con, finding_id: str) -> str:
    """'ouvert le 24/11/2026 ; revu le 25/11/2026 (motif)' from findings.events."""
    rows = con.execute("""
        SELECT event, timezone('Europe/Paris', event_at)::DATE, detail FROM findings.events
        WHERE finding_id = ? ORDER BY event_at
    """, [finding_id]).fetchall()
    return " ; ".join(f"{EVENTS.get(e, e)} le {fr.day(d)}" + (f" ({detail})" if detail and e == "revu" else "")
                      for e, d, detail in rows)


def findings_grid(open_frame: pd.DataFrame) -> pd.DataFrame:
    """Open findings counted per rule (rows) and severity (columns)."""
    if open_frame.empty:
        return pd.DataFrame(columns=["Règle", *SEVERITIES])
    grid = open_frame.pivot_table(index="Règle", columns="Gravité", values="Constat", aggfunc="count", fill_value=0)
    grid = grid.reindex(columns=SEVERITIES, fill_value=0)
    order = grid.apply(lambda r: tuple(-r[s] for s in SEVERITIES), axis=1).sort_values().index
    return grid.loc[order].reset_index()



def orders_by_agreement(con, month: Month) -> pd.DataFrame:
    """Orders and HT amounts of the month, the previous month and the year to date: true
    totals, without the set-aside atypical amounts; credit notes lower amounts, are not orders."""
    prepare(con)
    return _df(con, """
        SELECT a.short_title AS "Accord-cadre", a.agreement_id,
               count(*) FILTER (WHERE o.counted AND o.date_bc >= $start AND o.date_bc < $end) AS "Commandes du mois",
               coalesce(sum(o.montant_ht) FILTER (WHERE o.summed AND o.date_bc >= $start AND o.date_bc < $end), 0)
                   AS "Montant HT du mois",
               count(*) FILTER (WHERE o.counted AND o.date_bc >= $pstart AND o.date_bc < $start)
                   AS "Commandes du mois précédent",
               coalesce(sum(o.montant_ht) FILTER (WHERE o.summed AND o.date_bc >= $pstart AND o.date_bc < $start), 0)
                   AS "Montant HT du mois précédent",
               count(*) FILTER (WHERE o.counted AND o.date_bc >= $ystart AND o.date_bc < $end) AS "Commandes depuis janvier",
               coalesce(sum(o.montant_ht) FILTER (WHERE o.summed AND o.date_bc >= $ystart AND o.date_bc < $end), 0)
                   AS "Montant HT depuis janvier"
        FROM ref.agreements a
        LEFT JOIN report_orders o ON o.agreement_id = a.agreement_id
        GROUP BY ALL
        HAVING count(o.numero_bc) > 0
        ORDER BY a.agreement_id
    """, {"start": month.start, "end": month.end, "pstart": month.previous.start, "ystart": month.year_start})


def findings_by_severity(con, month: Month) -> pd.DataFrame:
    """Open findings by severity; those about orders of the month; those opened during it."""
    frame = _df(con, """
        SELECT f.severity AS "Gravité",
               count(*) AS "Constats ouverts",
               count(*) FILTER (WHERE o.date_bc >= $start AND o.date_bc < $end) AS "Sur des commandes du mois",
               count(*) FILTER (WHERE timezone('Europe/Paris', f.first_seen_at)::DATE >= $start
                                  AND timezone('Europe/Paris', f.first_seen_at)::DATE < $end) AS "Apparus pendant le mois"
        FROM findings.findings f
        LEFT JOIN mart.orders o ON o.numero_bc = f.numero_bc AND f.subject_type = 'commande'
        WHERE f.active AND f.status = 'open'
        GROUP BY 1
    """, {"start": month.start, "end": month.end})
    frame["_order"] = frame["Gravité"].map({s: i for i, s in enumerate(SEVERITIES)})
    return frame.sort_values("_order").drop(columns="_order").reset_index(drop=True)


def credit_notes_by_agreement(con, start: date, end: date) -> dict[str, tuple[int, float]]:
    """Credit notes dated in [start, end) per agreement: (count, HT, negative)."""
    prepare(con)
    return {a: (int(n), float(ht)) for a, n, ht in con.execute("""
        SELECT agreement_id, count(*), sum(montant_ht) FROM report_orders
        WHERE credit_note AND date_bc >= ? AND date_bc < ? GROUP BY 1
    """, [start, end]).fetchall()}


def period_text(orders: int, amount: float, notes: tuple[int, float] | None) -> str:
    """« 2 commandes pour 50 000 € HT », « aucune commande, 1 avoir de -12 000 € HT »: a credit
    note is said as such, never as a negative order amount."""
    n_notes, notes_ht = notes or (0, 0.0)
    gross = float(amount) - notes_ht
    text = f"{fr.plural(orders, 'commande')} pour {fr.money(gross, 0)} HT" if orders else "aucune commande"
    if n_notes:
        text += (" et " if orders else ", ") + f"{fr.plural(n_notes, 'avoir')} de {fr.money(notes_ht, 0)} HT"
        if orders:
            text += f" (net : {fr.money(float(amount), 0)} HT)"
    return text


def changes(con, month: Month) -> list[str]:
    """What changed since last month, in sentences."""
    out = []
    notes = credit_notes_by_agreement(con, month.start, month.end)
    previous_notes = credit_notes_by_agreement(con, month.previous.start, month.start)
    for _, r in orders_by_agreement(con, month).iterrows():
        delta = r["Montant HT du mois"] - r["Montant HT du mois précédent"]
        trend = "en hausse" if delta > 0 else ("en baisse" if delta < 0 else "stable")
        out.append(f"{r['Accord-cadre']} : "
                   f"{period_text(int(r['Commandes du mois']), r['Montant HT du mois'], notes.get(r['agreement_id']))}"
                   f" en {month.label}, {trend} par rapport à {month.previous.label} ("
                   f"{period_text(int(r['Commandes du mois précédent']), r['Montant HT du mois précédent'], previous_notes.get(r['agreement_id']))}).")
    new = con.execute(
        "SELECT count(*) FROM findings.findings f JOIN mart.orders o ON o.numero_bc = f.numero_bc "
        "WHERE f.active AND o.date_bc >= ? AND o.date_bc < ?", [month.start, month.end]).fetchone()[0]
    out.append(f"{fr.plural(new, 'constat')} porte{'nt' if new > 1 else ''} sur des commandes {month.of_label}."
               if new else f"Aucun constat ne porte sur des commandes {month.of_label}.")
    versions = con.execute("SELECT count(*) FROM mart.orders WHERE versions > 1 AND date_bc >= ? AND date_bc < ?",
                           [month.start, month.end]).fetchone()[0]
    if versions:
        out.append(f"{fr.plural(versions, 'bon de commande', 'bons de commande')} {month.of_label} "
                   f"{'a' if versions == 1 else 'ont'} été corrigé{'s' if versions > 1 else ''} (la dernière "
                   "version fait foi, les précédentes restent dans l'historique).")
    return out


# ------------------------------------------------------------------ 2. volumes

DIMENSIONS = {
    "ministere": ("Ministère", "coalesce(m.label, o.buyer_ministry, 'Ministère non déterminé')"),
    "beneficiaire": ("Bénéficiaire", "coalesce(o.buyer_name, o.acheteur)"),
    "titulaire": ("Titulaire", "coalesce(o.holder_name, o.titulaire || ' (non reconnu)')"),
    "accord": ("Accord-cadre", "a.short_title"),
}


def volume(con, month: Month, by: str = "ministere", agreement_id: str | None = None) -> pd.DataFrame:
    """Orders and HT of the month per ministry (or beneficiary, holder), per agreement."""
    label, expression = DIMENSIONS[by]
    prepare(con)
    return _df(con, f"""
        SELECT a.short_title AS "Accord-cadre", {expression} AS "{label}",
               count(*) FILTER (WHERE o.counted) AS "Commandes", sum(o.montant_ht) AS "Montant HT"
        FROM report_orders o
        JOIN ref.agreements a ON a.agreement_id = o.agreement_id
        LEFT JOIN ref.ministries m ON m.ministry = o.buyer_ministry
        WHERE o.date_bc >= $start AND o.date_bc < $end AND ($agreement IS NULL OR o.agreement_id = $agreement)
          AND o.summed
        GROUP BY ALL
        ORDER BY 1, "Montant HT" DESC, 2
    """, {"start": month.start, "end": month.end, "agreement": agreement_id})  # noqa: S608 - expression from DIMENSIONS


def trend(con, month: Month, months: int = 12, agreement_id: str | None = None) -> pd.DataFrame:
    """HT per month and agreement over the last `months` months (the report's trend)."""
    first = Month.parse(month.key)
    for _ in range(months - 1):
        first = first.previous
    prepare(con)
    frame = _df(con, """
        SELECT o.month AS "Mois", a.short_title AS "Accord-cadre",
               count(*) FILTER (WHERE o.counted) AS "Commandes", sum(o.montant_ht) AS "Montant HT"
        FROM report_orders o JOIN ref.agreements a ON a.agreement_id = o.agreement_id
        WHERE o.date_bc >= $start AND o.date_bc < $end AND ($agreement IS NULL OR o.agreement_id = $agreement)
          AND o.summed
        GROUP BY ALL ORDER BY 1, 2
    """, {"start": first.start, "end": month.end, "agreement": agreement_id})
    if frame.empty:
        return frame
    # Every month of the window, with zero where an agreement had no order: a gap is news.
    window = [first.start]
    while len(window) < months_count(first, month):
        window.append(Month.parse(window[-1].strftime("%Y-%m")).end)
    grid = pd.MultiIndex.from_product([window, sorted(frame["Accord-cadre"].unique())], names=["Mois", "Accord-cadre"])
    frame["Mois"] = pd.to_datetime(frame["Mois"]).dt.date
    full = frame.set_index(["Mois", "Accord-cadre"]).reindex(grid).reset_index()
    full["Commandes"] = full["Commandes"].fillna(0).astype(int)
    full["Montant HT"] = full["Montant HT"].astype(float).fillna(0.0)
    return full


def months_count(first: Month, last: Month) -> int:
    return (last.start.year - first.start.year) * 12 + last.start.month - first.start.month + 1


# ------------------------------------------------------------------ 3. Startups d'État


def startup_findings(con, month: Month | None = None) -> pd.DataFrame:
    """Every order that does not serve a listed Startup d'État (or in an ineligible phase),
    with its explanation and evidence."""
    frame = _df(con, """
        SELECT f.finding_id AS "Constat", f.rule AS "Règle", f.severity AS "Gravité",
               a.short_title AS "Accord-cadre", f.numero_bc AS "Commande", o.date_bc AS "Date",
               f.acheteur AS "Acheteur", coalesce(o.startup, f.startup) AS "Produit", f.titulaire AS "Titulaire",
               f.amount_ht AS "Montant HT", f.message AS "Explication",
               f.source_file || ', ligne ' || f.source_line AS "Provenance",
               CASE f.status WHEN 'reviewed' THEN 'revu' ELSE 'ouvert' END AS "Statut",
               f.evidence AS "Preuve"
        FROM findings.findings f
        LEFT JOIN mart.orders o ON o.numero_bc = f.numero_bc
        LEFT JOIN ref.agreements a ON a.agreement_id = f.agreement_id
        WHERE f.active AND list_contains($rules, f.rule)
          AND ($start IS NULL OR (o.date_bc >= $start AND o.date_bc < $end))
        ORDER BY CASE f.severity WHEN 'critique' THEN 0 WHEN 'alerte' THEN 1 ELSE 2 END, o.date_bc, f.numero_bc
    """, {"rules": STARTUP_RULES, "start": month.start if month else None, "end": month.end if month else None})
    frame["Preuve"] = [_evidence_text(e) for e in frame["Preuve"]]
    return frame


def _evidence_text(evidence) -> str:
    if not evidence:
        return ""
    data = json.loads(evidence)
    shown = {k: v for k, v in data.items() if v not in (None, [], "") and k not in ("candidats",)}
    return " ; ".join(f"{k.replace('_', ' ')} : {v}" for k, v in shown.items())


def startup_share(con, month: Month) -> pd.DataFrame:
    """Share of HT amounts going to listed Startups d'État, per agreement that requires
    them: over the month and since the agreement started."""
    prepare(con)
    return _df(con, """
        WITH o AS (
            SELECT o.*, a.short_title,
                   o.startup_id IS NOT NULL AND o.startup_listed_at_date AS listed  -- v2: listed on the order date
            FROM report_orders o JOIN ref.agreements a ON a.agreement_id = o.agreement_id
            WHERE a.startups_required AND o.date_bc < $end AND o.summed
        )
        SELECT short_title AS "Accord-cadre", agreement_id,
               coalesce(sum(montant_ht) FILTER (WHERE date_bc >= $start), 0) AS "Montant HT du mois",
               coalesce(sum(montant_ht) FILTER (WHERE date_bc >= $start AND listed), 0)
                   AS "dont Startups d'État listées (mois)",
               coalesce(sum(montant_ht), 0) AS "Montant HT cumulé",
               coalesce(sum(montant_ht) FILTER (WHERE listed), 0) AS "dont Startups d'État listées (cumul)",
               coalesce(sum(montant_ht) FILTER (WHERE listed), 0) / nullif(sum(montant_ht), 0) AS "Part cumulée"
        FROM o GROUP BY ALL ORDER BY 1
    """, {"start": month.start, "end": month.end})


# ------------------------------------------------------------------ 4. refus, tourniquet, plafonds


def refusals(con, agreement_id: str | None = None) -> pd.DataFrame:
    return _df(con, """
        SELECT a.short_title AS "Accord-cadre", r.agreement_id, r.holder_name AS "Titulaire",
               r.solicitations AS "Sollicitations", r.accepted AS "Acceptations", r.refusals AS "Refus",
               r.withdrawals AS "Désistements", r.no_answer AS "Sans réponse", r.total AS "Refus et désistements",
               a.refusal_critical_at AS "Seuil", r.unjustified AS "Sans justification",
               CASE WHEN r.total >= a.refusal_critical_at THEN 'seuil atteint'
                    WHEN r.total >= a.refusal_alert_at THEN 'vigilance' ELSE 'sous le seuil' END AS "Situation",
               coalesce(r.contact_email, 'contact non publié') AS "Écrire à"
        FROM mart.holder_refusals r JOIN ref.agreements a ON a.agreement_id = r.agreement_id
        WHERE ($agreement IS NULL OR r.agreement_id = $agreement)
        ORDER BY a.agreement_id, r.holder_rank
    """, {"agreement": agreement_id})


def refusal_reasons(con, agreement_id: str | None = None) -> pd.DataFrame:
    return _df(con, """
        SELECT a.short_title AS "Accord-cadre", coalesce(h.name, s.titulaire) AS "Titulaire",
               s.numero_besoin AS "Besoin", s.date_besoin AS "Date", s.buyer_name AS "Acheteur",
               CASE s.reponse WHEN 'refus' THEN 'refus' ELSE 'désistement' END AS "Réponse",
               coalesce(s.motif, '(aucune justification)') AS "Justification"
        FROM mart.solicitations s
        JOIN ref.agreements a ON a.agreement_id = s.agreement_id
        LEFT JOIN ref.holders h ON h.agreement_id = s.agreement_id
             AND h.holder_id = coalesce((SELECT merged_into FROM ref.holders x WHERE x.agreement_id = s.agreement_id
                                         AND x.holder_id = s.holder_id), s.holder_id)
        WHERE list_contains(a.refusal_responses, s.reponse) AND ($agreement IS NULL OR s.agreement_id = $agreement)
        -- unjustified ones first: they are what the analyst acts on; then the latest
        ORDER BY a.agreement_id, s.motif IS NOT NULL, s.date_besoin DESC, "Titulaire", s.numero_besoin
    """, {"agreement": agreement_id})


def tourniquet(con) -> pd.DataFrame:
    return _df(con, """
        SELECT f.finding_id AS "Constat", a.short_title AS "Accord-cadre", f.subject AS "Besoin ou commande",
               f.acheteur AS "Acheteur", f.message AS "Explication",
               CASE f.status WHEN 'reviewed' THEN 'revu' ELSE 'ouvert' END AS "Statut"
        FROM findings.findings f LEFT JOIN ref.agreements a ON a.agreement_id = f.agreement_id
        WHERE f.active AND f.rule = 'TOURNIQUET' ORDER BY f.agreement_id, f.subject
    """)


def tourniquet_summary(con) -> pd.DataFrame:
    """Per agreement that runs a tourniquet: needs (or orders) checked and out of turn."""
    return _df(con, """
        SELECT a.short_title AS "Accord-cadre",
               CASE a.tourniquet_mode WHEN 'sequentiel' THEN 'ordre de sollicitation, besoin par besoin'
                    ELSE 'équilibre en valeur A > B > C' END AS "Règle",
               CASE a.tourniquet_mode WHEN 'sequentiel'
                    THEN (SELECT count(DISTINCT numero_besoin) FROM mart.solicitations s WHERE s.agreement_id = a.agreement_id)
                    ELSE (SELECT count(*) FROM mart.orders_enriched o WHERE o.agreement_id = a.agreement_id) END
                   AS "Contrôlés",
               (SELECT count(*) FROM findings.findings f WHERE f.active AND f.rule = 'TOURNIQUET'
                  AND f.agreement_id = a.agreement_id) AS "Hors tour"
        FROM ref.agreements a
        JOIN ref.agreement_rules r ON r.agreement_id = a.agreement_id AND r.rule = 'TOURNIQUET'
        WHERE a.tourniquet_mode IS NOT NULL ORDER BY a.agreement_id
    """)


def lot_consumption(con) -> pd.DataFrame:
    """Consumption of each lot's maximum, without the set-aside atypical amounts."""
    prepare(con)
    return _df(con, """
        SELECT a.short_title AS "Accord-cadre", c.agreement_id, c.lot AS "Lot", c.title AS "Intitulé",
               c.maximum_ht AS "Maximum HT", c.consumed_ht AS "Consommé HT", c.share AS "Part consommée",
               c.orders AS "Bons de commande", c.decp_contracts AS "Marchés subséquents (DECP)",
               a.plafond_alert_share AS "Seuil d'alerte", c.set_aside_ht AS "Montant HT écarté (atypique)"
        FROM report_lot_consumption c JOIN ref.agreements a ON a.agreement_id = c.agreement_id
        WHERE c.orders > 0 OR c.decp_contracts > 0 OR c.maximum_ht IS NOT NULL
        ORDER BY a.agreement_id, c.lot
    """)


def holder_contacts(con) -> pd.DataFrame:
    return _df(con, """
        SELECT a.short_title AS "Accord-cadre", h.rank AS "Rang", h.name AS "Titulaire",
               coalesce(h.contact_email, 'non publié') AS "Écrire à",
               coalesce(h.contact_label, '') AS "Type de contact",
               CASE WHEN h.valid_to IS NOT NULL THEN 'jusqu''au ' || strftime(h.valid_to, '%d/%m/%Y') ELSE '' END
                   AS "Validité",
               (SELECT string_agg(m.name, ', ' ORDER BY m.name) FROM ref.holder_members m
                WHERE m.agreement_id = h.agreement_id AND m.holder_id = h.holder_id) AS "Membres"
        FROM ref.holders h JOIN ref.agreements a ON a.agreement_id = h.agreement_id
        ORDER BY a.agreement_id, h.rank
    """)


# ------------------------------------------------------------------ 5. qualité des données


def sources(con, settings) -> pd.DataFrame:
    from pipelines.status import collect

    rows = []
    for s in collect(con, settings)["sources"]:
        rows.append({
            "Source": s["label"], "Dernière actualisation réussie": s["last_success_at"],
            "Données du": s["data_as_of"],
            "Âge (jours)": None if s["data_age_hours"] is None else round(s["data_age_hours"] / 24, 1),
            "Limite (jours)": round(float(s["max_age_hours"]) / 24, 1),
            "Périmée": "oui" if s["stale"] else "non", "Dernière erreur": s["last_error"] or "",
        })
    return pd.DataFrame(rows)


def validation_summary(con) -> pd.DataFrame:
    return _kinds(_validation_summary(con), "Table")


def _validation_summary(con) -> pd.DataFrame:
    return _df(con, """
        WITH last AS (SELECT run_id FROM validation.results ORDER BY validated_at DESC LIMIT 1)
        SELECT suite AS "Table", count(*) AS "Attentes", count(*) FILTER (WHERE success) AS "Satisfaites",
               count(*) FILTER (WHERE NOT success AND blocking) AS "Bloquantes en échec",
               count(*) FILTER (WHERE NOT success AND NOT blocking) AS "Non bloquantes en échec",
               max(validated_at) AS "Validée le"
        FROM validation.results WHERE run_id IN (SELECT run_id FROM last)
        GROUP BY suite ORDER BY suite
    """)


def _samples_text(sample) -> str:
    """GX's sample of unexpected values, for people: '-12 000 ; 3,5' rather than '[-12000.0, 3.5]'."""
    if sample is None or (isinstance(sample, float) and pd.isna(sample)):
        return ""
    try:
        values = json.loads(sample) if isinstance(sample, str) else sample
    except ValueError:
        return str(sample)
    if not isinstance(values, list):
        values = [values]
    def one(v):
        if isinstance(v, bool) or not isinstance(v, int | float):
            return str(v)
        return fr.number(v, 0 if float(v).is_integer() else 2)
    return " ; ".join(one(v) for v in values)


def validation_failures(con) -> pd.DataFrame:
    from pipelines.validate import expectation_fr

    frame = _kinds(_validation_failures(con), "Table")
    frame["Exemples"] = [_samples_text(v) for v in frame["Exemples"]]
    frame["Attente"] = [expectation_fr(kind, _kwargs(kwargs)) for kind, kwargs in zip(frame["Attente"], frame["kwargs"],
                                                                                      strict=True)]
    return frame.drop(columns="kwargs")


def _kwargs(text) -> dict:
    try:
        value = json.loads(text) if isinstance(text, str) else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _validation_failures(con) -> pd.DataFrame:
    return _df(con, """
        WITH last AS (SELECT run_id FROM validation.results ORDER BY validated_at DESC LIMIT 1)
        SELECT suite AS "Table", CASE WHEN blocking THEN 'bloquante' ELSE 'à surveiller' END AS "Nature",
               notes AS "Ce que protège l'attente", expectation_type AS "Attente", kwargs, column_name AS "Colonne",
               unexpected_count AS "Valeurs en cause", unexpected_sample AS "Exemples"
        FROM validation.results WHERE run_id IN (SELECT run_id FROM last) AND NOT success
        ORDER BY NOT blocking, suite
    """)


def quarantine(con) -> pd.DataFrame:
    return _df(con, """
        SELECT source_file AS "Fichier", line AS "Ligne", kind AS "Type", reason AS "Raison", processed_at AS "Lu le"
        FROM stg.inbox__quarantine ORDER BY processed_at DESC, source_file, line
    """)


def decp_read_problems(con) -> pd.DataFrame:
    """What the last DECP load could not read, per column and problem (stg.decp__load_quality)."""
    return _df(con, """
        SELECT resource_title AS "Ressource", rows_read AS "Lignes lues", rows_kept AS "Retenues",
               column_name AS "Colonne",
               CASE problem WHEN 'conversion' THEN 'valeur illisible (non convertie)'
                            WHEN 'date_impossible' THEN 'date impossible'
                            WHEN 'mojibake' THEN 'accents corrompus' ELSE problem END AS "Problème",
               values_count AS "Valeurs", example AS "Exemple"
        FROM stg.decp__load_quality ORDER BY values_count DESC, column_name
    """)


def decp_review(con) -> pd.DataFrame:
    """DECP contracts attributed to an agreement by name or SIREN, not by idAccordCadre: to review."""
    return _df(con, """
        SELECT uid AS "Contrat (uid)", agreement_title AS "Accord-cadre",
               CASE method WHEN 'nom' THEN 'par le nom' WHEN 'siren' THEN 'par le SIREN' ELSE method END AS "Méthode",
               date_notification AS "Notifié le", acheteur_nom AS "Acheteur", titulaire_nom AS "Titulaire",
               montant AS "Montant HT", objet AS "Objet"
        FROM mart.decp_review ORDER BY date_notification, uid
    """)


def betagouv_quarantine(con) -> pd.DataFrame:
    """Phases of the current beta.gouv.fr snapshot set aside (impossible dates)."""
    return _df(con, """
        SELECT startup_id AS "Startup", phase AS "Phase", value AS "Valeur publiée", reason AS "Raison"
        FROM stg.betagouv__quarantine ORDER BY startup_id, position
    """)


def inbox_files(con) -> pd.DataFrame:
    return _kinds(_inbox_files(con), "Type")


def _inbox_files(con) -> pd.DataFrame:
    return _df(con, """
        SELECT path AS "Fichier", coalesce(kind, '—') AS "Type",
               CASE status WHEN 'charge' THEN 'chargé' WHEN 'rejete' THEN 'rejeté' WHEN 'doublon' THEN 'doublon (déjà lu)'
                    ELSE status END AS "Statut", rows_read AS "Lues",
               rows_loaded AS "Chargées", rows_quarantined AS "En quarantaine", coalesce(reason, '') AS "Remarque"
        FROM stg.inbox__files ORDER BY seq
    """)


def resolution_review(con) -> pd.DataFrame:
    return _df(con, """
        SELECT kind AS "Quoi", coalesce(agreement_id, '') AS "Accord-cadre", raw_value AS "Valeur écrite",
               reason AS "Pourquoi la revoir", occurrences AS "Lignes"
        FROM core.resolution_review ORDER BY kind, raw_value
    """)


def decp_beside_orders(con) -> pd.DataFrame:
    """Per agreement: orders of the inbox beside the contracts DECP publishes for it."""
    prepare(con)
    return _df(con, """
        SELECT a.short_title AS "Accord-cadre",
               (SELECT count(*) FROM report_orders o WHERE o.agreement_id = a.agreement_id AND o.counted)
                   AS "Commandes (boîte de dépôt)",
               (SELECT coalesce(sum(montant_ht), 0) FROM report_orders o WHERE o.agreement_id = a.agreement_id
                   AND o.summed) AS "Montant HT (boîte de dépôt)",
               (SELECT count(DISTINCT uid) FROM mart.decp_contracts d WHERE d.agreement_id = a.agreement_id)
                   AS "Contrats publiés (DECP)",
               (SELECT coalesce(sum(montant), 0) FROM (SELECT DISTINCT uid, montant FROM mart.decp_contracts d
                   WHERE d.agreement_id = a.agreement_id)) AS "Montant (DECP)"
        FROM ref.agreements a ORDER BY a.agreement_id
    """)
