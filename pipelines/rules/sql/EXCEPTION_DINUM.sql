-- EXCEPTION_DINUM (info): the exception body (DINUM) ordered for a product that is not a
-- listed Startup d'État: allowed for its own digital products, recorded for the record.
SELECT
    'EXCEPTION_DINUM' AS rule, o.agreement_id, 'commande' AS subject_type, o.numero_bc AS subject,
    'info' AS severity, o.numero_bc, NULL AS numero_besoin, o.holder_id,
    coalesce(o.holder_name, o.titulaire) AS titulaire, o.buyer_name AS acheteur, o.startup,
    o.montant_ht AS amount_ht, o.source_file, o.source_line,
    to_json({date_bc: o.date_bc, produit: o.startup, methode: o.startup_method})::VARCHAR AS evidence
FROM mart.orders_enriched o
JOIN ref.agreement_rules ar ON ar.agreement_id = o.agreement_id AND ar.rule = 'EXCEPTION_DINUM'
JOIN ref.agreements a ON a.agreement_id = o.agreement_id
WHERE a.startups_required
  AND (o.startup_id IS NULL OR NOT (o.startup_in_current_list OR o.startup_listed_at_date))
  AND o.buyer_id = a.exception_buyer
