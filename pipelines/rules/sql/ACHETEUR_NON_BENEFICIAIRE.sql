-- ACHETEUR_NON_BENEFICIAIRE: the buyer is not a beneficiary of the order's agreement
-- (and lot): an excluded ministry, a body not on the list, or an unknown body. v2: a
-- body a wider entry covers counts (mart.buyer_eligibility); on a lot whose beneficiary
-- list is not published (ACIM 2026 lot 2) the finding is `info` « non évaluable ». An
-- ambiguous buyer name is RAPPROCHEMENT_A_REVOIR's. Grain: order.
SELECT
    'ACHETEUR_NON_BENEFICIAIRE' AS rule, o.agreement_id, 'commande' AS subject_type, o.numero_bc AS subject,
    CASE WHEN e.published THEN 'critique' ELSE 'info' END AS severity,
    o.numero_bc, NULL AS numero_besoin, o.holder_id,
    coalesce(o.holder_name, o.titulaire) AS titulaire, o.buyer_name AS acheteur, o.startup_name AS startup,
    o.montant_ht AS amount_ht, o.source_file, o.source_line,
    to_json({
        date_bc: o.date_bc, acheteur_ecrit: o.acheteur, organisme: o.buyer_id, ministere: o.buyer_ministry,
        lot: o.lot, raison: e.reason, evaluable: e.published
    })::VARCHAR AS evidence
FROM mart.orders_enriched o
JOIN mart.rule_scope ar
    ON ar.agreement_id = o.agreement_id AND ar.lot IS NOT DISTINCT FROM o.scope_lot AND ar.rule = 'ACHETEUR_NON_BENEFICIAIRE'
JOIN mart.buyer_eligibility e
    ON e.agreement_id = o.agreement_id AND e.lot IS NOT DISTINCT FROM o.lot AND e.acheteur = o.acheteur
WHERE (NOT e.published OR NOT e.is_beneficiary)
  AND coalesce(o.buyer_method, 'aucun') <> 'ambigu'
