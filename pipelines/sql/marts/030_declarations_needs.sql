-- Declarations to DINUM and the tourniquet log, with entities resolved.

-- Which holder (in which agreement) each declaration row is from, and the half-year
-- it covers: a holder's declarations cover a half-year once it declared anything in it.
-- grain: one row per declaration row x resolved holder
CREATE OR REPLACE VIEW mart.declaration_holders AS
SELECT
    d.numero_bc,
    bc_key(d.numero_bc) AS bc_key,
    d.date_bc,
    d.date_information_dinum,
    year(d.date_bc) * 10 + CASE WHEN month(d.date_bc) <= 6 THEN 1 ELSE 2 END AS half_year,
    hr.agreement_id,
    hr.holder_id,
    d.titulaire,
    d.montant_ht,
    d.source_file,
    d.line AS source_line
FROM mart.declarations d
JOIN core.holder_resolution hr ON hr.raw_value = d.titulaire AND hr.holder_id IS NOT NULL;

-- int.solicitations stored (pipelines/materialise.py), like mart.orders_enriched.
-- grain: one row per solicitation (numero_besoin x rang)
CREATE TABLE IF NOT EXISTS mart.solicitations AS SELECT * FROM int.solicitations WITH NO DATA;
