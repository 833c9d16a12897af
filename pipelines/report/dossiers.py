"""The two files analysts ask for most, as functions of the warehouse (the notebooks
05 and 06 call them): a Startup d'État's file and a holder's scorecard.

Frames carry French column labels; amounts are HT and per agreement, and an order set
aside as atypical (MONTANT_ATYPIQUE not reviewed) is shown but left out of sums, as in
the monthly report.
"""

from __future__ import annotations

import pandas as pd

from pipelines.report.figures import _df, prepare

PHASES = {"investigation": "investigation", "construction": "construction", "acceleration": "accélération",
          "consolidation": "consolidation", "transfere": "transférée", "opere": "opérée", "abandon": "abandonnée",
          "abandon-investigation": "abandonnée en investigation", "success": "opérée", "alumni": "abandonnée",
          "transfer": "transférée"}


# ------------------------------------------------------------------ a startup's file


def startup_identity(con, startup_id: str) -> pd.DataFrame:
    frame = _df(con, """
        SELECT name AS "Startup", startup_id AS "Identifiant", incubator_title AS "Incubateur",
               ministry AS "Ministère", current_phase AS "Phase actuelle", current_phase_since AS "Depuis le",
               pitch AS "Présentation"
        FROM mart.startups WHERE startup_id = $id
    """, {"id": startup_id})
    frame["Phase actuelle"] = frame["Phase actuelle"].map(lambda p: PHASES.get(p, p))
    return frame


def startup_phases(con, startup_id: str) -> pd.DataFrame:
    frame = _df(con, """
        SELECT phase AS "Phase", valid_from AS "Du", valid_to AS "Au (exclu)"
        FROM mart.startup_phases WHERE startup_id = $id ORDER BY seq
    """, {"id": startup_id})
    frame["Phase"] = frame["Phase"].map(lambda p: PHASES.get(p, p))
    return frame


def startup_orders(con, startup_id: str) -> pd.DataFrame:
    """Every order for the startup, with the phase it was in on the order date."""
    prepare(con)
    frame = _df(con, """
        SELECT o.date_bc AS "Date", o.numero_bc AS "Commande", a.short_title AS "Accord-cadre", o.lot AS "Lot",
               coalesce(o.buyer_name, o.acheteur) AS "Acheteur", coalesce(o.holder_name, o.titulaire) AS "Titulaire",
               o.montant_ht AS "Montant HT", o.phase_at_date AS "Phase à la date",
               CASE WHEN o.set_aside THEN 'écartée (montant atypique non revu)'
                    WHEN o.credit_note THEN 'avoir'
                    WHEN NOT o.summed THEN 'écartée (montant négatif sans correctif)' ELSE 'comptée' END AS "Dans les totaux"
        FROM report_orders o LEFT JOIN ref.agreements a ON a.agreement_id = o.agreement_id
        WHERE o.startup_id = $id ORDER BY o.date_bc, o.numero_bc
    """, {"id": startup_id})
    frame["Phase à la date"] = frame["Phase à la date"].map(lambda p: PHASES.get(p, p) if isinstance(p, str) else p)
    return frame


def startup_holders(con, startup_id: str) -> pd.DataFrame:
    prepare(con)
    return _df(con, """
        SELECT a.short_title AS "Accord-cadre", coalesce(o.holder_name, o.titulaire) AS "Titulaire",
               count(*) FILTER (WHERE o.counted) AS "Commandes",
               sum(o.montant_ht) FILTER (WHERE o.summed) AS "Montant HT",
               min(o.date_bc) AS "Première commande", max(o.date_bc) AS "Dernière commande"
        FROM report_orders o LEFT JOIN ref.agreements a ON a.agreement_id = o.agreement_id
        WHERE o.startup_id = $id GROUP BY ALL ORDER BY "Première commande"
    """, {"id": startup_id})


def startup_findings_over_time(con, startup_id: str) -> pd.DataFrame:
    """Findings about the startup's orders, open or reviewed, in the order they appeared."""
    return _df(con, """
        SELECT timezone('Europe/Paris', f.first_seen_at)::DATE AS "Vu le", f.finding_id AS "Constat",
               f.severity AS "Gravité", f.rule AS "Règle", f.numero_bc AS "Commande",
               CASE WHEN NOT f.active THEN 'disparu' WHEN f.status = 'reviewed' THEN 'revu' ELSE 'ouvert' END AS "État",
               f.message AS "Explication"
        FROM findings.findings f JOIN mart.orders_enriched o ON o.numero_bc = f.numero_bc
        WHERE o.startup_id = $id ORDER BY f.first_seen_at, f.rule
    """, {"id": startup_id})


def startup_amounts_by_month(con, startup_id: str) -> pd.DataFrame:
    prepare(con)
    return _df(con, """
        SELECT o.month AS "Mois", a.short_title AS "Accord-cadre", count(*) FILTER (WHERE o.counted) AS "Commandes",
               sum(o.montant_ht) AS "Montant HT"
        FROM report_orders o JOIN ref.agreements a ON a.agreement_id = o.agreement_id
        WHERE o.startup_id = $id AND o.summed GROUP BY ALL ORDER BY 1, 2
    """, {"id": startup_id})


# ------------------------------------------------------------------ a holder's scorecard


def holder_identity(con, agreement_id: str, holder_id: str) -> pd.DataFrame:
    return _df(con, """
        SELECT a.short_title AS "Accord-cadre", h.name AS "Titulaire", h.rank AS "Rang dans le tourniquet",
               h.lot AS "Lot", h.valid_from AS "Titulaire depuis", h.valid_to AS "Jusqu'au",
               coalesce(h.contact_email, 'non publié') AS "Écrire à",
               (SELECT count(*) FROM ref.holders x WHERE x.agreement_id = h.agreement_id AND x.rank IS NOT NULL)
                   AS "Titulaires au tourniquet"
        FROM ref.holders h JOIN ref.agreements a ON a.agreement_id = h.agreement_id
        WHERE h.agreement_id = $agreement AND h.holder_id = $holder
    """, {"agreement": agreement_id, "holder": holder_id})


def holder_orders(con, agreement_id: str, holder_id: str) -> pd.DataFrame:
    """Orders and amounts per year, beside every holder of the agreement (its share)."""
    prepare(con)
    return _df(con, """
        WITH o AS (
            SELECT year(date_bc) AS year, holder_id, montant_ht, counted, summed
            FROM report_orders WHERE agreement_id = $agreement
        )
        SELECT year AS "Année", count(*) FILTER (WHERE counted AND holder_id = $holder) AS "Commandes",
               coalesce(sum(montant_ht) FILTER (WHERE summed AND holder_id = $holder), 0) AS "Montant HT",
               coalesce(sum(montant_ht) FILTER (WHERE summed), 0) AS "Montant HT, tous titulaires",
               coalesce(sum(montant_ht) FILTER (WHERE summed AND holder_id = $holder), 0)
                   / nullif(sum(montant_ht) FILTER (WHERE summed), 0) AS "Part du titulaire"
        FROM o GROUP BY year ORDER BY year
    """, {"agreement": agreement_id, "holder": holder_id})


def holder_refusals_per_need(con, agreement_id: str, holder_id: str) -> pd.DataFrame:
    """Each need the holder was offered, and what it answered."""
    frame = _df(con, """
        SELECT s.numero_besoin AS "Besoin", s.date_besoin AS "Date", coalesce(s.buyer_name, s.acheteur) AS "Acheteur",
               s.rang AS "Rang proposé", s.reponse AS "Réponse", s.date_reponse AS "Répondu le",
               coalesce(s.motif, '(aucune justification)') AS "Justification"
        FROM mart.solicitations s
        WHERE s.agreement_id = $agreement AND coalesce(s.merged_into, s.holder_id) = $holder
        ORDER BY s.date_besoin, s.numero_besoin
    """, {"agreement": agreement_id, "holder": holder_id})
    answers = {"accepte": "acceptation", "refus": "refus", "desistement": "désistement", "sans_reponse": "sans réponse",
               "droit_de_suite": "droit de suite"}
    frame["Réponse"] = frame["Réponse"].map(lambda r: answers.get(r, r))
    return frame


def holder_refusal_summary(con, agreement_id: str, holder_id: str) -> pd.DataFrame:
    return _df(con, """
        SELECT r.solicitations AS "Sollicitations", r.accepted AS "Acceptations", r.refusals AS "Refus",
               r.withdrawals AS "Désistements", r.total AS "Refus et désistements", a.refusal_critical_at AS "Seuil",
               r.unjustified AS "Sans justification"
        FROM mart.holder_refusals r JOIN ref.agreements a ON a.agreement_id = r.agreement_id
        WHERE r.agreement_id = $agreement AND r.holder_id = $holder
    """, {"agreement": agreement_id, "holder": holder_id})


def holder_declarations(con, agreement_id: str, holder_id: str) -> pd.DataFrame:
    """Per half-year: the holder's orders, those declared to DINUM, those not (yet) declared."""
    return _df(con, """
        WITH orders AS (
            SELECT numero_bc, date_bc, year(date_bc) * 10 + CASE WHEN month(date_bc) <= 6 THEN 1 ELSE 2 END AS half
            FROM mart.orders_enriched WHERE agreement_id = $agreement AND holder_id = $holder
        ), declared AS (
            SELECT DISTINCT norm_key(numero_bc) AS k FROM mart.declaration_holders
            WHERE agreement_id = $agreement AND holder_id = $holder
        )
        SELECT (half // 10)::VARCHAR || CASE WHEN half % 10 = 1 THEN ', 1er semestre' ELSE ', 2nd semestre' END
                   AS "Semestre",
               count(*) AS "Commandes",
               count(*) FILTER (WHERE norm_key(numero_bc) IN (SELECT k FROM declared)) AS "Déclarées à la DINUM",
               count(*) FILTER (WHERE norm_key(numero_bc) NOT IN (SELECT k FROM declared)) AS "Non déclarées"
        FROM orders GROUP BY half ORDER BY half
    """, {"agreement": agreement_id, "holder": holder_id})


def holder_findings(con, agreement_id: str, holder_id: str) -> pd.DataFrame:
    return _df(con, """
        SELECT timezone('Europe/Paris', f.first_seen_at)::DATE AS "Vu le", f.finding_id AS "Constat",
               f.severity AS "Gravité", f.rule AS "Règle", f.subject AS "Objet",
               CASE WHEN f.status = 'reviewed' THEN 'revu' ELSE 'ouvert' END AS "État", f.message AS "Explication"
        FROM findings.findings f
        WHERE f.active AND f.agreement_id = $agreement AND f.holder_id = $holder
        ORDER BY CASE f.severity WHEN 'critique' THEN 0 WHEN 'alerte' THEN 1 ELSE 2 END, f.first_seen_at
    """, {"agreement": agreement_id, "holder": holder_id})
