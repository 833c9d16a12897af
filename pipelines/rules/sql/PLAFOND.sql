-- PLAFOND: the cumulative HT of an agreement's lot reaches a share of its maximum
-- (alerte at 75 %, critique at 100 %): one finding per threshold crossed (grain: lot,
-- threshold). v2: every order dated after the day the maximum was reached is itself a
-- critique (grain: order; the lot « cesse de produire ses effets », CCAP art. 4). The
-- sums leave out credit notes and atypical amounts not yet reviewed, and say so.
WITH levels AS (
    SELECT agreement_id, 'alerte' AS severity, plafond_alert_share AS share FROM ref.agreements
    WHERE plafond_alert_share IS NOT NULL
    UNION ALL
    SELECT agreement_id, 'critique', plafond_critical_share FROM ref.agreements
    WHERE plafond_critical_share IS NOT NULL
)
SELECT
    'PLAFOND' AS rule, c.agreement_id, 'lot' AS subject_type,
    c.agreement_id || '/lot-' || c.lot || '@' || CAST(round(l.share * 100) AS INTEGER) AS subject,
    l.severity, NULL AS numero_bc, NULL AS numero_besoin, NULL AS holder_id, NULL AS titulaire,
    NULL AS acheteur, NULL AS startup, c.consumed_ht AS amount_ht, NULL AS source_file, NULL AS source_line,
    to_json({
        lot: c.lot, consomme_ht: c.consumed_ht, maximum_ht: c.maximum_ht, part: c.share, seuil: l.share,
        commandes: c.orders, marches_subsequents: c.decp_contracts,
        atypiques_exclus: c.atypical_left_out, atypiques_exclus_ht: c.atypical_left_out_ht
    })::VARCHAR AS evidence
FROM mart.lot_consumption c
JOIN ref.agreement_rules ar ON ar.agreement_id = c.agreement_id AND ar.rule = 'PLAFOND'
JOIN levels l ON l.agreement_id = c.agreement_id
WHERE c.maximum_ht IS NOT NULL AND c.share >= l.share
UNION ALL
SELECT
    'PLAFOND', o.agreement_id, 'commande', o.numero_bc, 'critique', o.numero_bc, NULL, o.holder_id,
    coalesce(o.holder_name, o.titulaire), o.buyer_name, o.startup_name, o.montant_ht, o.source_file, o.source_line,
    to_json({
        lot: r.lot, date_bc: o.date_bc, maximum_ht: r.maximum_ht, atteint_le: r.reached_on,
        cumul_ht: r.cumulative_ht
    })::VARCHAR
FROM mart.lot_running_consumption r
JOIN mart.orders_enriched o ON o.numero_bc = r.numero_bc AND o.agreement_id = r.agreement_id
JOIN mart.rule_scope ar
    ON ar.agreement_id = o.agreement_id AND ar.lot IS NOT DISTINCT FROM o.scope_lot AND ar.rule = 'PLAFOND'
WHERE r.kind = 'commande' AND r.reached_on IS NOT NULL AND r.on_date > r.reached_on
