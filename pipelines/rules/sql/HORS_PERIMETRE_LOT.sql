-- HORS_PERIMETRE_LOT (new): an order on a lot for a product of an incubator the lot
-- excludes (`lots[].excluded_incubators`): ACIM 2026 lot 1 is « opérés par la DINUM
-- (hors OPI) », the OPI being incubator `dinum_produits_interministeriels` (CCAP art. 2
-- and 3, CCTP §3.2). The incubator is the startup's in Vigie's current snapshot.
-- Grain: order.
SELECT
    'HORS_PERIMETRE_LOT' AS rule, o.agreement_id, 'commande' AS subject_type, o.numero_bc AS subject,
    'critique' AS severity, o.numero_bc, NULL AS numero_besoin, o.holder_id,
    coalesce(o.holder_name, o.titulaire) AS titulaire, o.buyer_name AS acheteur, o.startup_name AS startup,
    o.montant_ht AS amount_ht, o.source_file, o.source_line,
    to_json({
        date_bc: o.date_bc, lot: o.lot, startup_id: o.startup_id, incubateur: o.incubator_id,
        incubateur_nom: s.incubator_title, incubateurs_exclus: lo.excluded_incubators
    })::VARCHAR AS evidence
FROM mart.orders_enriched o
JOIN mart.rule_scope ar
    ON ar.agreement_id = o.agreement_id AND ar.lot IS NOT DISTINCT FROM o.scope_lot AND ar.rule = 'HORS_PERIMETRE_LOT'
JOIN ref.lot_options lo ON lo.agreement_id = o.agreement_id AND lo.lot = o.lot
JOIN mart.startups s ON s.startup_id = o.startup_id
WHERE list_contains(lo.excluded_incubators, o.incubator_id)
