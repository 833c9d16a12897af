-- ACHETEUR_NON_BENEFICIAIRE: the buyer is not a beneficiary of the order's agreement
-- (and lot): an excluded ministry, a body not on the list, or an unknown body.
SELECT
    'ACHETEUR_NON_BENEFICIAIRE' AS rule, o.agreement_id, 'commande' AS subject_type, o.numero_bc AS subject,
    'critique' AS severity, o.numero_bc, NULL AS numero_besoin, o.holder_id,
    coalesce(o.holder_name, o.titulaire) AS titulaire, o.buyer_name AS acheteur, o.startup_name AS startup,
    o.montant_ht AS amount_ht, o.source_file, o.source_line,
    to_json({
        date_bc: o.date_bc, acheteur_ecrit: o.acheteur, organisme: o.buyer_id, ministere: o.buyer_ministry,
        lot: o.lot, raison: e.reason
    })::VARCHAR AS evidence
FROM mart.orders_enriched o
JOIN ref.agreement_rules ar ON ar.agreement_id = o.agreement_id AND ar.rule = 'ACHETEUR_NON_BENEFICIAIRE'
JOIN mart.buyer_eligibility e
    ON e.agreement_id = o.agreement_id AND e.lot IS NOT DISTINCT FROM o.lot AND e.acheteur = o.acheteur
WHERE NOT e.is_beneficiary
