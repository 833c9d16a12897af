-- EXCEPTION_DINUM (info): the exception body (DINUM) ordered for a product that is not a
-- listed Startup d'État on the order date: allowed for its own digital products, recorded
-- for the record. Not for an ambiguous product name: RAPPROCHEMENT_A_REVOIR replaces
-- it until the match is recorded (`vigie alias`). Grain: order.
SELECT
    'EXCEPTION_DINUM' AS rule, o.agreement_id, 'commande' AS subject_type, o.numero_bc AS subject,
    'info' AS severity, o.numero_bc, NULL AS numero_besoin, o.holder_id,
    coalesce(o.holder_name, o.titulaire) AS titulaire, o.buyer_name AS acheteur, o.startup,
    o.montant_ht AS amount_ht, o.source_file, o.source_line,
    to_json({date_bc: o.date_bc, produit: o.startup, methode: o.startup_method})::VARCHAR AS evidence
FROM mart.orders_enriched o
JOIN mart.rule_scope ar
    ON ar.agreement_id = o.agreement_id AND ar.lot IS NOT DISTINCT FROM o.scope_lot AND ar.rule = 'EXCEPTION_DINUM'
JOIN ref.agreements a ON a.agreement_id = o.agreement_id
WHERE a.startups_required
  AND NOT o.startup_listed_at_date  -- v2: on the order date
  AND o.buyer_id = a.exception_buyer
  AND coalesce(o.startup_method, 'aucun') <> 'ambigu'
