-- NON_DECLARE_DINUM: an order in `commandes` that appears in no `declarations` of its
-- holder, for a half-year the holder's declarations already cover.
WITH covered AS (
    SELECT DISTINCT agreement_id, holder_id, half_year FROM mart.declaration_holders
)
SELECT
    'NON_DECLARE_DINUM' AS rule, o.agreement_id, 'commande' AS subject_type, o.numero_bc AS subject,
    'alerte' AS severity, o.numero_bc, NULL AS numero_besoin, o.holder_id,
    coalesce(o.holder_name, o.titulaire) AS titulaire, o.buyer_name AS acheteur, o.startup_name AS startup,
    o.montant_ht AS amount_ht, o.source_file, o.source_line,
    to_json({date_bc: o.date_bc, semestre: c.half_year})::VARCHAR AS evidence
FROM mart.orders_enriched o
JOIN ref.agreement_rules ar ON ar.agreement_id = o.agreement_id AND ar.rule = 'NON_DECLARE_DINUM'
JOIN ref.agreements a ON a.agreement_id = o.agreement_id AND a.dinum_information
JOIN covered c
    ON c.agreement_id = o.agreement_id AND c.holder_id = o.holder_id
   AND c.half_year = year(o.date_bc) * 10 + CASE WHEN month(o.date_bc) <= 6 THEN 1 ELSE 2 END
WHERE NOT EXISTS (
    SELECT 1 FROM mart.declaration_holders d
    WHERE d.numero_bc = o.numero_bc AND d.agreement_id = o.agreement_id AND d.holder_id = o.holder_id
)
