-- MONTANT_ATYPIQUE (new): an order's HT above `montant_atypique_ht`, or more than
-- `atypical_median_factor` (20) times the median HT of its agreement's orders, or a
-- commentaire (else objet) saying « à vérifier »: a likely typo. Until reviewed it is
-- left out of totals and PLAFOND (mart.orders_for_totals). Subject: the order number,
-- as the report excludes open findings of this rule from its totals. Grain: order.
SELECT
    'MONTANT_ATYPIQUE' AS rule, o.agreement_id, 'commande' AS subject_type, o.numero_bc AS subject,
    'alerte' AS severity, o.numero_bc, NULL AS numero_besoin, o.holder_id,
    coalesce(o.holder_name, o.titulaire) AS titulaire, o.buyer_name AS acheteur, o.startup_name AS startup,
    o.montant_ht AS amount_ht, o.source_file, o.source_line,
    to_json({
        date_bc: o.date_bc, montant_ht: o.montant_ht, plafond_atypique: x.montant_atypique_ht,
        mediane_ht: x.median_ht, facteur: x.atypical_median_factor, au_dessus_du_plafond: x.above_ceiling,
        au_dessus_de_la_mediane: x.above_median, marque_a_verifier: x.marked,
        commentaire: o.commentaire, objet: o.objet
    })::VARCHAR AS evidence
FROM mart.orders_enriched o
JOIN mart.rule_scope ar
    ON ar.agreement_id = o.agreement_id AND ar.lot IS NOT DISTINCT FROM o.scope_lot AND ar.rule = 'MONTANT_ATYPIQUE'
JOIN mart.order_atypical x ON x.numero_bc = o.numero_bc AND x.agreement_id = o.agreement_id
