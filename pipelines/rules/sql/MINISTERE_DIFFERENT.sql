-- MINISTERE_DIFFERENT (info): the buyer's ministry is neither a sponsor's ministry nor
-- the ministry of the startup's incubator (v2: sponsors first; the incubator alone was
-- noisy). Only when the buyer's ministry and one of the startup's are known. Grain: order.
SELECT
    'MINISTERE_DIFFERENT' AS rule, o.agreement_id, 'commande' AS subject_type, o.numero_bc AS subject,
    'info' AS severity, o.numero_bc, NULL AS numero_besoin, o.holder_id,
    coalesce(o.holder_name, o.titulaire) AS titulaire, o.buyer_name AS acheteur, o.startup_name AS startup,
    o.montant_ht AS amount_ht, o.source_file, o.source_line,
    to_json({
        date_bc: o.date_bc, ministere_acheteur: o.buyer_ministry, ministere_startup: o.startup_ministry,
        source_ministere_startup: s.ministry_source, ministeres_sponsors: s.sponsor_ministries,
        ministere_incubateur: s.incubator_ministry
    })::VARCHAR AS evidence
FROM mart.orders_enriched o
JOIN mart.rule_scope ar
    ON ar.agreement_id = o.agreement_id AND ar.lot IS NOT DISTINCT FROM o.scope_lot AND ar.rule = 'MINISTERE_DIFFERENT'
JOIN mart.startups s ON s.startup_id = o.startup_id
WHERE o.buyer_ministry IS NOT NULL
  AND (len(coalesce(s.sponsor_ministries, [])) > 0 OR s.incubator_ministry IS NOT NULL)
  AND NOT list_contains(coalesce(s.sponsor_ministries, []), o.buyer_ministry)
  AND o.buyer_ministry IS DISTINCT FROM s.incubator_ministry
