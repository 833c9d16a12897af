-- EXECUTION_APRES_FIN (new): the order's execution end (optional column `date_fin`)
-- falls more than `execution_after_end_months` after the agreement's end (ACIM 2026: 6,
-- CCAP art. 10.2). Exactly that many months after is allowed. Grain: order.
SELECT
    'EXECUTION_APRES_FIN' AS rule, o.agreement_id, 'commande' AS subject_type, o.numero_bc AS subject,
    'alerte' AS severity, o.numero_bc, NULL AS numero_besoin, o.holder_id,
    coalesce(o.holder_name, o.titulaire) AS titulaire, o.buyer_name AS acheteur, o.startup_name AS startup,
    o.montant_ht AS amount_ht, o.source_file, o.source_line,
    to_json({
        date_bc: o.date_bc, date_fin: o.date_fin, fin_accord: a.period_end,
        mois_permis: opt.execution_after_end_months,
        limite: (a.period_end + to_months(opt.execution_after_end_months))::DATE
    })::VARCHAR AS evidence
FROM mart.orders_enriched o
JOIN mart.rule_scope ar
    ON ar.agreement_id = o.agreement_id AND ar.lot IS NOT DISTINCT FROM o.scope_lot AND ar.rule = 'EXECUTION_APRES_FIN'
JOIN ref.agreements a ON a.agreement_id = o.agreement_id
JOIN ref.agreement_options opt ON opt.agreement_id = o.agreement_id
WHERE o.date_fin IS NOT NULL AND a.period_end IS NOT NULL AND opt.execution_after_end_months IS NOT NULL
  AND o.date_fin > (a.period_end + to_months(opt.execution_after_end_months))::DATE
