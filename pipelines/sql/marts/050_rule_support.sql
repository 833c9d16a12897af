-- Aggregates some rules and the report share.

-- Which rule applies to which lot of which agreement (grain: agreement, lot, rule; the
-- row with lot NULL is for rows whose lot is unknown). An agreement's `rules` apply to
-- each lot but those the lot turns off (`lots[].rules_off`: ACIM 2026 lot 2 has no
-- HORS_STARTUP).
-- grain: one row per agreement x lot x rule (and agreement x NULL x rule)
CREATE OR REPLACE VIEW mart.rule_scope AS
SELECT ar.agreement_id, l.lot, ar.rule
FROM ref.agreement_rules ar
JOIN ref.agreement_lots l USING (agreement_id)
LEFT JOIN ref.lot_options lo ON lo.agreement_id = l.agreement_id AND lo.lot = l.lot
WHERE NOT list_contains(coalesce(lo.rules_off, []), ar.rule)
UNION ALL
SELECT agreement_id, NULL, rule FROM ref.agreement_rules;

-- Orders whose amount is likely a typo (grain: order): above the agreement's ceiling,
-- more than N times the median HT of its orders, or marked « à vérifier » in the
-- commentaire (or, lacking one, the objet). `reviewed`: an analyst marked the
-- MONTANT_ATYPIQUE finding reviewed; until then the amount stays out of totals.
-- grain: one row per order whose amount is atypical
CREATE OR REPLACE VIEW mart.order_atypical AS
WITH med AS (
    SELECT agreement_id, median(montant_ht) AS median_ht
    FROM mart.orders_enriched WHERE agreement_id IS NOT NULL AND montant_ht > 0 GROUP BY agreement_id
), judged AS (
    SELECT
        o.numero_bc, o.agreement_id, o.lot, o.date_bc, o.montant_ht, m.median_ht,
        opt.montant_atypique_ht, opt.atypical_median_factor,
        coalesce(o.montant_ht > opt.montant_atypique_ht, false) AS above_ceiling,
        coalesce(o.montant_ht > opt.atypical_median_factor * m.median_ht, false) AS above_median,
        coalesce(len(list_filter(opt.atypical_markers, lambda k: contains(
            strip_accents(lower(coalesce(o.commentaire, '') || ' ' || coalesce(o.objet, ''))),
            strip_accents(lower(k))))) > 0, false) AS marked
    FROM mart.orders_enriched o
    JOIN ref.agreement_options opt ON opt.agreement_id = o.agreement_id
    -- only where the agreement (and lot) declares the rule
    JOIN mart.rule_scope rs
        ON rs.agreement_id = o.agreement_id AND rs.lot IS NOT DISTINCT FROM o.scope_lot AND rs.rule = 'MONTANT_ATYPIQUE'
    LEFT JOIN med m ON m.agreement_id = o.agreement_id
)
SELECT j.*,
       EXISTS (SELECT 1 FROM findings.findings f
               WHERE f.rule = 'MONTANT_ATYPIQUE' AND f.agreement_id = j.agreement_id
                 AND f.subject = j.numero_bc AND f.status = 'reviewed') AS reviewed
FROM judged j
WHERE j.above_ceiling OR j.above_median OR j.marked;

-- The orders that count in totals (grain: order): credit notes (negative HT) are not
-- orders, and an atypical amount not yet reviewed is left out (said so where summed).
-- grain: one row per order counted in totals
CREATE OR REPLACE VIEW mart.orders_for_totals AS
SELECT o.*
FROM mart.orders_enriched o
WHERE o.montant_ht >= 0
  AND NOT EXISTS (SELECT 1 FROM mart.order_atypical x
                  WHERE x.numero_bc = o.numero_bc AND x.agreement_id IS NOT DISTINCT FROM o.agreement_id
                    AND NOT x.reviewed);

-- Consumption of each lot's maximum: purchase orders of the inbox, plus the marchés
-- subséquents published in DECP for lots executed that way.
-- grain: one row per agreement x lot
CREATE OR REPLACE VIEW mart.lot_consumption AS
WITH orders AS (
    SELECT agreement_id, lot, sum(montant_ht) AS ht, count(*) AS n
    FROM mart.orders_for_totals WHERE agreement_id IS NOT NULL GROUP BY ALL
), left_out AS (
    SELECT agreement_id, lot, sum(montant_ht) AS ht, count(*) AS n
    FROM mart.order_atypical WHERE NOT reviewed AND agreement_id IS NOT NULL GROUP BY ALL
), decp AS (
    SELECT agreement_id, lot, sum(montant) AS ht, count(DISTINCT uid) AS n
    FROM (SELECT DISTINCT uid, agreement_id, lot, montant FROM mart.decp_contracts WHERE agreement_id IS NOT NULL)
    GROUP BY ALL
)
SELECT
    l.agreement_id, l.lot, l.title, l.execution, l.estimated_ht, l.maximum_ht,
    coalesce(o.ht, 0) + coalesce(d.ht, 0) AS consumed_ht,
    coalesce(o.n, 0) AS orders,
    coalesce(d.n, 0) AS decp_contracts,
    (coalesce(o.ht, 0) + coalesce(d.ht, 0)) / nullif(l.maximum_ht, 0) AS share,
    coalesce(x.ht, 0) AS atypical_left_out_ht,
    coalesce(x.n, 0) AS atypical_left_out
FROM ref.agreement_lots l
LEFT JOIN orders o USING (agreement_id, lot)
LEFT JOIN decp d USING (agreement_id, lot)
LEFT JOIN left_out x USING (agreement_id, lot);

-- Running consumption of each lot, order by order (grain: order): PLAFOND v2 raises every
-- order dated after the maximum was reached (the lot « cesse de produire ses effets »).
-- DECP contracts count from their notification date.
-- grain: one row per order or DECP contract of a lot
CREATE OR REPLACE VIEW mart.lot_running_consumption AS
WITH events AS (
    SELECT agreement_id, lot, date_bc AS on_date, numero_bc, montant_ht AS ht, 'commande' AS kind
    FROM mart.orders_for_totals WHERE agreement_id IS NOT NULL
    UNION ALL
    SELECT agreement_id, lot, TRY_CAST("dateNotification" AS DATE), uid, montant, 'marche_subsequent'
    FROM (SELECT DISTINCT uid, agreement_id, lot, montant, "dateNotification" FROM mart.decp_contracts
          WHERE agreement_id IS NOT NULL)
), running AS (
    SELECT e.*, sum(ht) OVER (PARTITION BY agreement_id, lot ORDER BY on_date, numero_bc
                              ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cumulative_ht
    FROM events e
), reached AS (
    SELECT r.agreement_id, r.lot, min(r.on_date) AS reached_on
    FROM running r JOIN ref.agreement_lots l USING (agreement_id, lot)
    WHERE l.maximum_ht IS NOT NULL AND r.cumulative_ht >= l.maximum_ht
    GROUP BY ALL
)
SELECT r.*, l.maximum_ht, x.reached_on
FROM running r
JOIN ref.agreement_lots l USING (agreement_id, lot)
LEFT JOIN reached x USING (agreement_id, lot);

-- Refusals and withdrawals per holder over the whole agreement, counted in distinct
-- expressions de besoin (v2: a need offered twice counts once). A holder that merged
-- into another (Benext into OCTO) counts with it.
-- grain: one row per agreement x holder (merged holders counted together)
CREATE OR REPLACE VIEW mart.holder_refusals AS
WITH s AS (
    SELECT s.*, coalesce(h.merged_into, s.holder_id) AS counted_holder,
           list_contains(a.refusal_responses, s.reponse) AS counts_as_refusal
    FROM mart.solicitations s
    JOIN ref.agreements a ON a.agreement_id = s.agreement_id
    LEFT JOIN ref.holders h ON h.agreement_id = s.agreement_id AND h.holder_id = s.holder_id
    WHERE s.holder_id IS NOT NULL
)
SELECT
    s.agreement_id,
    s.counted_holder AS holder_id,
    hh.name AS holder_name,
    hh.rank AS holder_rank,
    hh.contact_email,
    count(*) AS solicitations,
    count(*) FILTER (WHERE s.reponse = 'accepte' OR s.reponse = 'droit_de_suite') AS accepted,
    count(DISTINCT s.numero_besoin) FILTER (WHERE s.reponse = 'refus') AS refusals,
    count(DISTINCT s.numero_besoin) FILTER (WHERE s.reponse = 'desistement') AS withdrawals,
    count(*) FILTER (WHERE s.reponse = 'sans_reponse') AS no_answer,
    count(DISTINCT s.numero_besoin) FILTER (WHERE s.counts_as_refusal) AS total,
    count(*) FILTER (WHERE s.counts_as_refusal) AS refusal_rows,
    count(*) FILTER (WHERE s.counts_as_refusal AND s.motif IS NULL) AS unjustified,
    list({besoin: s.numero_besoin, date: s.date_besoin, reponse: s.reponse, motif: s.motif,
          acheteur: s.buyer_name, titulaire_ecrit: s.titulaire, rang: s.rang}
         ORDER BY s.date_besoin, s.numero_besoin, s.rang)
        FILTER (WHERE s.counts_as_refusal) AS needs
FROM s
JOIN ref.holders hh ON hh.agreement_id = s.agreement_id AND hh.holder_id = s.counted_holder
GROUP BY ALL;
