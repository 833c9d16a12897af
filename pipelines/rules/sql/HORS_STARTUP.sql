-- HORS_STARTUP (v2): the order's product was not on beta.gouv.fr/startups on the order
-- date (mart.startup_listing: the site's history, then Vigie's snapshots; being listed
-- today excuses nothing). A listing that started within `listing_grace_days` after the
-- order gives `alerte` instead of `critique`. Not for the exception body (DINUM:
-- EXCEPTION_DINUM), not for lots that turn the rule off (ACIM 2026 lot 2), not for an
-- ambiguous name (RAPPROCHEMENT_A_REVOIR says which candidates). Grain: order.
SELECT
    'HORS_STARTUP' AS rule, o.agreement_id, 'commande' AS subject_type, o.numero_bc AS subject,
    CASE WHEN o.startup_listed_next IS NOT NULL
              AND o.startup_listed_next <= o.date_bc + opt.listing_grace_days THEN 'alerte'
         ELSE 'critique' END AS severity,
    o.numero_bc, NULL AS numero_besoin, o.holder_id,
    coalesce(o.holder_name, o.titulaire) AS titulaire, o.buyer_name AS acheteur, o.startup,
    o.montant_ht AS amount_ht, o.source_file, o.source_line,
    to_json({
        date_bc: o.date_bc, produit: o.startup, methode: o.startup_method,
        startup_id: o.startup_id, candidats: json(sr.candidates),
        listee_aujourd_hui: o.startup_in_current_list,
        listee_a_partir_du: o.startup_listed_next, delai_de_grace_jours: opt.listing_grace_days,
        desaccord_historique: EXISTS (SELECT 1 FROM mart.startup_listing_review r WHERE r.startup_id = o.startup_id)
    })::VARCHAR AS evidence
FROM mart.orders_enriched o
JOIN mart.rule_scope ar
    ON ar.agreement_id = o.agreement_id AND ar.lot IS NOT DISTINCT FROM o.scope_lot AND ar.rule = 'HORS_STARTUP'
JOIN ref.agreements a ON a.agreement_id = o.agreement_id
JOIN ref.agreement_options opt ON opt.agreement_id = o.agreement_id
LEFT JOIN core.startup_resolution sr ON sr.raw_value = o.startup
WHERE a.startups_required
  AND NOT o.startup_listed_at_date
  AND o.buyer_id IS DISTINCT FROM a.exception_buyer
  AND coalesce(sr.method, 'aucun') <> 'ambigu'
