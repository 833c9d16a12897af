-- HORS_STARTUP: the product resolves to no startup listed on beta.gouv.fr/startups (in
-- the current list, or on the list at the order date), and the buyer is not the body
-- allowed an exception (DINUM, for its own products: EXCEPTION_DINUM instead).
SELECT
    'HORS_STARTUP' AS rule, o.agreement_id, 'commande' AS subject_type, o.numero_bc AS subject,
    'critique' AS severity, o.numero_bc, NULL AS numero_besoin, o.holder_id,
    coalesce(o.holder_name, o.titulaire) AS titulaire, o.buyer_name AS acheteur, o.startup,
    o.montant_ht AS amount_ht, o.source_file, o.source_line,
    to_json({
        date_bc: o.date_bc, produit: o.startup, methode: o.startup_method,
        startup_id: o.startup_id, candidats: json(sr.candidates),
        retiree_de_la_liste: o.startup_id IS NOT NULL
    })::VARCHAR AS evidence
FROM mart.orders_enriched o
JOIN ref.agreement_rules ar ON ar.agreement_id = o.agreement_id AND ar.rule = 'HORS_STARTUP'
JOIN ref.agreements a ON a.agreement_id = o.agreement_id
LEFT JOIN core.startup_resolution sr ON sr.raw_value = o.startup
WHERE a.startups_required
  AND (o.startup_id IS NULL OR NOT (o.startup_in_current_list OR o.startup_listed_at_date))
  AND o.buyer_id IS DISTINCT FROM a.exception_buyer
