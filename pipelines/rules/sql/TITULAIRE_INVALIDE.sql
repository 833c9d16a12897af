-- TITULAIRE_INVALIDE: the holder was not a holder of the order's agreement on the order
-- date: unknown company, holder of another agreement, or outside its validity (Benext
-- after its merger into OCTO on 2022-04-01).
WITH elsewhere AS (
    SELECT raw_value, list(DISTINCT agreement_id ORDER BY agreement_id) AS agreements
    FROM core.holder_resolution WHERE holder_id IS NOT NULL GROUP BY raw_value
)
SELECT
    'TITULAIRE_INVALIDE' AS rule, o.agreement_id, 'commande' AS subject_type, o.numero_bc AS subject,
    'critique' AS severity, o.numero_bc, NULL AS numero_besoin, o.holder_id,
    coalesce(o.holder_name, o.titulaire) AS titulaire, o.buyer_name AS acheteur, o.startup_name AS startup,
    o.montant_ht AS amount_ht, o.source_file, o.source_line,
    to_json({
        date_bc: o.date_bc, titulaire_ecrit: o.titulaire, methode: o.holder_method,
        candidats: json(hr.candidates), autres_accords: elsewhere.agreements,
        valide_jusqu_au: h.valid_to, valide_depuis: h.valid_from, fusionne_dans: h.merged_into,
        fusionne_dans_nom: m.name
    })::VARCHAR AS evidence
FROM mart.orders_enriched o
JOIN mart.rule_scope ar
    ON ar.agreement_id = o.agreement_id AND ar.lot IS NOT DISTINCT FROM o.scope_lot AND ar.rule = 'TITULAIRE_INVALIDE'
LEFT JOIN core.holder_resolution hr ON hr.raw_value = o.titulaire AND hr.agreement_id = o.agreement_id
LEFT JOIN ref.holders h ON h.agreement_id = o.agreement_id AND h.holder_id = o.holder_id
LEFT JOIN ref.holders m ON m.agreement_id = h.agreement_id AND m.holder_id = h.merged_into
LEFT JOIN elsewhere ON elsewhere.raw_value = o.titulaire
WHERE EXISTS (SELECT 1 FROM ref.holders x WHERE x.agreement_id = o.agreement_id)
  -- an ambiguous name is RAPPROCHEMENT_A_REVOIR's, not a critique
  AND coalesce(hr.method, 'aucun') <> 'ambigu'
  AND (o.holder_id IS NULL
       OR o.date_bc > h.valid_to
       OR o.date_bc < h.valid_from)
