-- HORS_PERIODE: the order date is outside the agreement's period (only when known).
SELECT
    'HORS_PERIODE' AS rule, o.agreement_id, 'commande' AS subject_type, o.numero_bc AS subject,
    'alerte' AS severity, o.numero_bc, NULL AS numero_besoin, o.holder_id,
    coalesce(o.holder_name, o.titulaire) AS titulaire, o.buyer_name AS acheteur, o.startup_name AS startup,
    o.montant_ht AS amount_ht, o.source_file, o.source_line,
    to_json({
        date_bc: o.date_bc, debut: a.period_start, fin: coalesce(a.orders_end, a.period_end),
        methode_accord: o.agreement_method
    })::VARCHAR AS evidence
FROM mart.orders_enriched o
JOIN mart.rule_scope ar
    ON ar.agreement_id = o.agreement_id AND ar.lot IS NOT DISTINCT FROM o.scope_lot AND ar.rule = 'HORS_PERIODE'
JOIN ref.agreements a ON a.agreement_id = o.agreement_id
WHERE o.date_bc < a.period_start
   OR o.date_bc > coalesce(a.orders_end, a.period_end)
