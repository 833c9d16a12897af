-- MONTANT_INCOHERENT: HT <= 0 (a corrective order flagged as such, with a negative HT,
-- excepted), or TTC given and not HT x (1 + VAT) within the tolerance. Grain: order.
SELECT
    'MONTANT_INCOHERENT' AS rule, o.agreement_id, 'commande' AS subject_type, o.numero_bc AS subject,
    'alerte' AS severity, o.numero_bc, NULL AS numero_besoin, o.holder_id,
    coalesce(o.holder_name, o.titulaire) AS titulaire, o.buyer_name AS acheteur, o.startup_name AS startup,
    o.montant_ht AS amount_ht, o.source_file, o.source_line,
    to_json({
        date_bc: o.date_bc, montant_ht: o.montant_ht, montant_ttc: o.montant_ttc, taux_tva: a.vat_rate,
        correctif: o.correctif,
        ttc_attendu: round(o.montant_ht * (1 + a.vat_rate), 2), tolerance: a.amount_tolerance
    })::VARCHAR AS evidence
FROM mart.orders_enriched o
JOIN mart.rule_scope ar
    ON ar.agreement_id = o.agreement_id AND ar.lot IS NOT DISTINCT FROM o.scope_lot AND ar.rule = 'MONTANT_INCOHERENT'
JOIN ref.agreements a ON a.agreement_id = o.agreement_id
WHERE (o.montant_ht <= 0 AND NOT (o.correctif AND o.montant_ht < 0))
   OR (o.montant_ttc IS NOT NULL
       AND abs(o.montant_ttc - o.montant_ht * (1 + a.vat_rate)) > a.amount_tolerance)
