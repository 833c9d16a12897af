-- Declarations to DINUM and the tourniquet log, with entities resolved.

-- Which holder (in which agreement) each declaration row is from, and the half-year
-- it covers: a holder's declarations cover a half-year once it declared anything in it.
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

-- Stored as mart.solicitations by pipelines/materialise.py, like mart.orders_enriched.
CREATE OR REPLACE VIEW mart.solicitations_live AS
SELECT
    b.numero_besoin,
    b.date_besoin,
    date_trunc('month', b.date_besoin)::DATE AS month,
    ra.agreement_id,
    ra.agreement_method,
    coalesce(b.lot, dl.lot) AS lot,
    b.acheteur,
    br.body_id AS buyer_id,
    coalesce(br.body_name, b.acheteur) AS buyer_name,
    br.ministry AS buyer_ministry,
    b.startup,
    sr.startup_id,
    b.titulaire,
    hr.holder_id,
    h.name AS holder_name,
    h.rank AS holder_rank,
    h.merged_into,
    h.valid_to AS holder_valid_to,
    h.contact_email AS holder_contact,
    b.rang,
    b.reponse,
    b.date_reponse,
    nullif(trim(b.motif), '') AS motif,
    b.numero_bc,
    bc_key(b.numero_bc) AS bc_key,
    b.montant_estime_ht,
    b.versions,
    b.source_file,
    b.line AS source_line
FROM mart.besoins b
LEFT JOIN mart.row_agreement ra ON ra.kind = 'besoins' AND ra.row_key = b.numero_besoin || '|' || b.rang
LEFT JOIN mart.agreement_default_lot dl ON dl.agreement_id = ra.agreement_id
LEFT JOIN core.buyer_resolution br ON br.raw_value = b.acheteur
LEFT JOIN core.startup_resolution sr ON sr.raw_value = b.startup
LEFT JOIN core.holder_resolution hr ON hr.raw_value = b.titulaire AND hr.agreement_id = ra.agreement_id
LEFT JOIN ref.holders h ON h.agreement_id = hr.agreement_id AND h.holder_id = hr.holder_id;

CREATE TABLE IF NOT EXISTS mart.solicitations AS SELECT * FROM mart.solicitations_live WITH NO DATA;
