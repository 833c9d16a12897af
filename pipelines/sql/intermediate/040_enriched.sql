-- Orders and solicitations joined to every resolution, phase and listing. Stored as
-- mart.orders_enriched and mart.solicitations by pipelines/materialise.py.

-- Computed here, stored by pipelines/materialise.py as mart.orders_enriched after every
-- data change: rules, the report and notebooks read it many times.
-- grain: one row per order (bc_key)
CREATE OR REPLACE VIEW int.orders_enriched AS
SELECT
    o.numero_bc,
    o.date_bc,
    date_trunc('month', o.date_bc)::DATE AS month,
    oa.agreement_id,
    oa.agreement_method,
    a.short_title AS agreement_title,
    coalesce(o.lot, dl.lot) AS lot,
    -- the lot the rules are scoped by (mart.rule_scope): NULL when the written lot is not
    -- a lot of the agreement, so that the agreement's rules still apply
    CASE WHEN EXISTS (SELECT 1 FROM ref.agreement_lots l
                      WHERE l.agreement_id = oa.agreement_id AND l.lot = coalesce(o.lot, dl.lot))
         THEN coalesce(o.lot, dl.lot) END AS scope_lot,
    CASE WHEN o.lot IS NOT NULL THEN 'declare' WHEN dl.lot IS NOT NULL THEN 'deduit' END AS lot_method,
    o.acheteur,
    br.body_id AS buyer_id,
    coalesce(br.body_name, o.acheteur) AS buyer_name,
    br.body_kind AS buyer_kind,
    br.ministry AS buyer_ministry,
    br.method AS buyer_method,
    o.startup,
    sr.startup_id,
    coalesce(s.name, sr.startup_id) AS startup_name,
    sr.method AS startup_method,
    sr.confidence AS startup_confidence,
    s.ministry AS startup_ministry,
    s.incubator_id,
    s.startup_id IS NOT NULL AS startup_in_current_list,
    -- v2: listed on the order date (today's list excuses nothing); see int.startup_listing
    EXISTS (
        SELECT 1 FROM int.startup_listing l
        WHERE l.startup_id = sr.startup_id AND l.listed_from <= o.date_bc
          AND (l.listed_to IS NULL OR l.listed_to > o.date_bc)
    ) AS startup_listed_at_date,
    (SELECT min(l.listed_from) FROM int.startup_listing l
     WHERE l.startup_id = sr.startup_id AND l.listed_from > o.date_bc) AS startup_listed_next,
    ph.phase AS phase_at_date,
    o.titulaire,
    hr.holder_id,
    h.name AS holder_name,
    hr.member_id,
    hr.method AS holder_method,
    hr.confidence AS holder_confidence,
    o.montant_ht,
    o.montant_ttc,
    o.objet,
    o.date_debut,
    o.date_fin,
    o.commentaire,
    o.correctif,
    o.bc_key,
    o.versions,
    o.source_file,
    o.line AS source_line,
    o.loaded_at
FROM int.orders_current o
LEFT JOIN int.row_agreement oa ON oa.kind = 'commandes' AND oa.row_key = o.bc_key
LEFT JOIN ref.agreements a ON a.agreement_id = oa.agreement_id
LEFT JOIN int.agreement_default_lot dl ON dl.agreement_id = oa.agreement_id
LEFT JOIN core.startup_resolution sr ON sr.raw_value = o.startup
LEFT JOIN int.startups s ON s.startup_id = sr.startup_id
LEFT JOIN int.startup_phases ph
    ON ph.startup_id = sr.startup_id AND ph.valid_from <= o.date_bc AND (ph.valid_to IS NULL OR ph.valid_to > o.date_bc)
LEFT JOIN core.buyer_resolution br ON br.raw_value = o.acheteur
LEFT JOIN core.holder_resolution hr ON hr.raw_value = o.titulaire AND hr.agreement_id = oa.agreement_id
LEFT JOIN ref.holders h ON h.agreement_id = hr.agreement_id AND h.holder_id = hr.holder_id;

-- Stored as mart.solicitations by pipelines/materialise.py, like mart.orders_enriched.
-- grain: one row per solicitation (numero_besoin x rang)
CREATE OR REPLACE VIEW int.solicitations AS
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
FROM int.needs_current b
LEFT JOIN int.row_agreement ra ON ra.kind = 'besoins' AND ra.row_key = b.numero_besoin || '|' || b.rang
LEFT JOIN int.agreement_default_lot dl ON dl.agreement_id = ra.agreement_id
LEFT JOIN core.buyer_resolution br ON br.raw_value = b.acheteur
LEFT JOIN core.startup_resolution sr ON sr.raw_value = b.startup
LEFT JOIN core.holder_resolution hr ON hr.raw_value = b.titulaire AND hr.agreement_id = ra.agreement_id
LEFT JOIN ref.holders h ON h.agreement_id = hr.agreement_id AND h.holder_id = hr.holder_id;
