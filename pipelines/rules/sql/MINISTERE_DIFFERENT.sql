-- MINISTERE_DIFFERENT (info): the buyer's ministry differs from the startup's ministry.
SELECT
    'MINISTERE_DIFFERENT' AS rule, o.agreement_id, 'commande' AS subject_type, o.numero_bc AS subject,
    'info' AS severity, o.numero_bc, NULL AS numero_besoin, o.holder_id,
    coalesce(o.holder_name, o.titulaire) AS titulaire, o.buyer_name AS acheteur, o.startup_name AS startup,
    o.montant_ht AS amount_ht, o.source_file, o.source_line,
    to_json({
        ministere_acheteur: o.buyer_ministry, ministere_startup: o.startup_ministry,
        source_ministere_startup: s.ministry_source
    })::VARCHAR AS evidence
FROM mart.orders_enriched o
JOIN ref.agreement_rules ar ON ar.agreement_id = o.agreement_id AND ar.rule = 'MINISTERE_DIFFERENT'
JOIN mart.startups s ON s.startup_id = o.startup_id
WHERE o.buyer_ministry IS NOT NULL AND o.startup_ministry IS NOT NULL
  AND o.buyer_ministry <> o.startup_ministry
