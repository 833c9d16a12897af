-- NON_DECLARE_DINUM (v2): an order that appears in no declaration of its holder, once
-- its half-year's statement is due (15 July for January–June, 15 January for July–
-- December: CCAP 2026 art. 9.2.3; the day from `dinum_information_due_day`), even when
-- the holder declared nothing at all. Order numbers meet ignoring leading zeros, spaces
-- and case (bc_key). Depends on the clock: $now. Grain: order.
WITH due AS (
    SELECT o.numero_bc, o.agreement_id,
           year(o.date_bc) * 10 + CASE WHEN month(o.date_bc) <= 6 THEN 1 ELSE 2 END AS half_year,
           CASE WHEN month(o.date_bc) <= 6 THEN make_date(year(o.date_bc), 7, opt.dinum_information_due_day)
                ELSE make_date(year(o.date_bc) + 1, 1, opt.dinum_information_due_day) END AS due_on
    FROM mart.orders_enriched o
    JOIN ref.agreement_options opt ON opt.agreement_id = o.agreement_id
)
SELECT
    'NON_DECLARE_DINUM' AS rule, o.agreement_id, 'commande' AS subject_type, o.numero_bc AS subject,
    'alerte' AS severity, o.numero_bc, NULL AS numero_besoin, o.holder_id,
    coalesce(o.holder_name, o.titulaire) AS titulaire, o.buyer_name AS acheteur, o.startup_name AS startup,
    o.montant_ht AS amount_ht, o.source_file, o.source_line,
    to_json({
        date_bc: o.date_bc, semestre: d.half_year, echeance: d.due_on,
        declarations_du_titulaire: (SELECT count(*) FROM mart.declaration_holders x
                                    WHERE x.agreement_id = o.agreement_id AND x.holder_id = o.holder_id)
    })::VARCHAR AS evidence
FROM mart.orders_enriched o
JOIN mart.rule_scope ar
    ON ar.agreement_id = o.agreement_id AND ar.lot IS NOT DISTINCT FROM o.scope_lot AND ar.rule = 'NON_DECLARE_DINUM'
JOIN ref.agreements a ON a.agreement_id = o.agreement_id AND a.dinum_information
JOIN due d ON d.numero_bc = o.numero_bc AND d.agreement_id = o.agreement_id
WHERE o.holder_id IS NOT NULL
  AND CAST($now AS DATE) > d.due_on
  AND NOT EXISTS (
    SELECT 1 FROM mart.declaration_holders x
    WHERE x.bc_key = o.bc_key AND x.agreement_id = o.agreement_id AND x.holder_id = o.holder_id
)
