-- PLAFOND: the cumulative HT of an agreement's lot reaches a share of its maximum
-- (alerte at 75 %, critique at 100 %). One finding per threshold crossed.
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
        commandes: c.orders, marches_subsequents: c.decp_contracts
    })::VARCHAR AS evidence
FROM mart.lot_consumption c
JOIN ref.agreement_rules ar ON ar.agreement_id = c.agreement_id AND ar.rule = 'PLAFOND'
JOIN levels l ON l.agreement_id = c.agreement_id
WHERE c.maximum_ht IS NOT NULL AND c.share >= l.share
