-- Orders: versions, the current version of each, its agreement (declared or inferred),
-- and every entity resolved. The rules, the report and the notebooks read these.

-- Order numbers meet across files ignoring leading zeros, spaces and case
-- (spec/ORDER_EXPORTS.md): '0001400000001 ' and '1400000001' are one order.
CREATE OR REPLACE MACRO bc_key(s) AS
    lower(regexp_replace(regexp_replace(coalesce(s, ''), '\s+', '', 'g'), '^0+', ''));

-- A cell of the row as written, found by its header (case, accents, punctuation
-- ignored): for optional columns the importer keeps only in `cells` (commentaire,
-- correctif).
CREATE OR REPLACE MACRO cell_by_header(row_cells, headers) AS (
    SELECT string_agg(row_cells::JSON ->> header_text, ' ')
    FROM (SELECT unnest(json_keys(row_cells::JSON)) AS header_text)
    WHERE list_contains(headers, norm_key(header_text))
);

-- Every version of every order. A corrected export (same N° BC, other values) adds a
-- version; the one read last wins; earlier ones stay here as history.
CREATE OR REPLACE VIEW mart.order_versions AS
WITH positioned AS (
    SELECT *, bc_key(numero_bc) AS bc, seq::BIGINT * 10000000 + line AS pos FROM stg.commandes
), per_hash AS (
    SELECT bc, values_hash, min(pos) AS first_pos, count(*) AS occurrences
    FROM positioned GROUP BY bc, values_hash
), latest AS (
    SELECT bc, arg_max(values_hash, pos) AS current_hash FROM positioned GROUP BY bc
)
SELECT
    p.numero_bc,
    p.bc AS bc_key,
    row_number() OVER (PARTITION BY p.bc ORDER BY h.first_pos) AS version,
    count(*) OVER (PARTITION BY p.bc) AS versions,
    h.values_hash = l.current_hash AS is_current,
    h.occurrences,
    p.date_bc, p.acheteur, p.startup, p.titulaire, p.montant_ht, p.montant_ttc, p.accord_cadre, p.lot,
    p.objet, p.values_hash, p.source_file, p.line AS source_line, p.loaded_at
FROM per_hash h
JOIN latest l USING (bc)
JOIN positioned p ON p.bc = h.bc AND p.pos = h.first_pos;

-- The current version of each order (grain: bc_key): the one read last. Counted once,
-- whatever the number of files that carry it.
CREATE OR REPLACE VIEW mart.orders AS
WITH keyed AS (
    SELECT c.*, bc_key(c.numero_bc) AS bc_key FROM stg.commandes c
), counted AS (
    SELECT bc_key, count(DISTINCT values_hash) AS versions FROM keyed GROUP BY bc_key
)
SELECT ko.*, counted.versions,
       cell_by_header(ko.cells, ['commentaire', 'commentaires', 'observations', 'observation', 'remarque', 'remarques'])
           AS commentaire,
       coalesce(lower(trim(cell_by_header(ko.cells, ['bccorrectif', 'correctif', 'avoir'])))
           IN ('oui', 'o', 'yes', 'y', 'x', '1', 'vrai', 'true'), false) AS correctif
FROM keyed ko
JOIN counted USING (bc_key)
QUALIFY row_number() OVER (PARTITION BY ko.bc_key ORDER BY ko.seq DESC, ko.line DESC) = 1;

-- One order number, different values, in files read by the same run (grain: bc_key):
-- a conflict, flagged for review (RAPPROCHEMENT_A_REVOIR); only the current version is
-- summed. A version read by a later run is a correction, not a conflict.
CREATE OR REPLACE VIEW mart.order_conflicts AS
WITH v AS (
    SELECT bc_key(c.numero_bc) AS bc_key, c.numero_bc, c.source_file, c.line, f.run_id,
           md5(concat_ws('|', c.date_bc, norm_key(c.acheteur), norm_key(c.startup), norm_key(c.titulaire),
                         c.montant_ht, c.montant_ttc, c.lot, c.accord_cadre)) AS facts,
           c.montant_ht, c.date_bc
    FROM stg.commandes c
    JOIN stg.inbox_files f ON f.path = c.source_file AND f.seq = c.seq
)
SELECT
    bc_key,
    run_id,
    list(DISTINCT numero_bc ORDER BY numero_bc) AS numeros,
    list({fichier: source_file, ligne: line, montant_ht: montant_ht, date_bc: date_bc}
         ORDER BY source_file, line) AS versions
FROM v
GROUP BY bc_key, run_id
HAVING count(DISTINCT facts) > 1 AND count(DISTINCT source_file) > 1;

-- Current declarations and solicitations (a corrected file's row replaces the earlier one).
CREATE OR REPLACE VIEW mart.declarations AS
SELECT d.*, norm_key(d.titulaire) AS titulaire_key
FROM stg.declarations d
QUALIFY row_number() OVER (PARTITION BY d.numero_bc, norm_key(d.titulaire) ORDER BY d.seq DESC, d.line DESC) = 1;

CREATE OR REPLACE VIEW mart.besoins AS
WITH counted AS (
    SELECT numero_besoin, rang, count(DISTINCT values_hash) AS versions FROM stg.besoins GROUP BY ALL
)
SELECT b.*, counted.versions
FROM stg.besoins b
JOIN counted USING (numero_besoin, rang)
QUALIFY row_number() OVER (PARTITION BY b.numero_besoin, b.rang ORDER BY b.seq DESC, b.line DESC) = 1;

-- Every current inbox row, under one key, for what all kinds share.
CREATE OR REPLACE VIEW mart.inbox_rows AS
SELECT 'commandes' AS kind, bc_key AS row_key, date_bc AS row_date, titulaire, accord_cadre FROM mart.orders
UNION ALL
SELECT 'declarations', numero_bc || '|' || titulaire_key, date_bc, titulaire, accord_cadre FROM mart.declarations
UNION ALL
SELECT 'besoins', numero_besoin || '|' || rang, date_besoin, titulaire, accord_cadre FROM mart.besoins;

-- When a row names no agreement: the one whose period holds the date and whose holders
-- include the row's holder (highest inference_priority first: a side marché such as
-- mentorat yields to the marché beta, whose exports often name no agreement); else the date alone; else the holder alone; else the
-- agreement in force most recently before the date. The method says which.
CREATE OR REPLACE VIEW mart.row_agreement AS
WITH bdc AS (
    SELECT a.agreement_id, a.period_start, a.period_end, coalesce(ao.inference_priority, 0) AS priority
    FROM ref.agreements a
    LEFT JOIN ref.agreement_options ao USING (agreement_id)
    WHERE EXISTS (SELECT 1 FROM ref.holders h WHERE h.agreement_id = a.agreement_id)
), cand AS (
    SELECT
        r.kind, r.row_key, bdc.agreement_id, bdc.period_start, bdc.priority,
        r.row_date >= coalesce(bdc.period_start, DATE '1900-01-01')
            AND r.row_date <= coalesce(bdc.period_end, DATE '2999-12-31') AS in_period,
        hr.holder_id IS NOT NULL AS holder_ok,
        coalesce(bdc.period_start, DATE '1900-01-01') <= r.row_date AS started
    FROM mart.inbox_rows r
    CROSS JOIN bdc
    LEFT JOIN core.holder_resolution hr
        ON hr.agreement_id = bdc.agreement_id AND hr.raw_value = r.titulaire AND hr.holder_id IS NOT NULL
    WHERE r.accord_cadre IS NULL
), best AS (
    SELECT
        kind, row_key, agreement_id,
        CASE
            WHEN in_period AND holder_ok THEN 'deduit_date_titulaire'
            WHEN in_period THEN 'deduit_date'
            WHEN holder_ok THEN 'deduit_titulaire'
            ELSE 'deduit_approche'
        END AS method
    FROM cand
    QUALIFY row_number() OVER (
        PARTITION BY kind, row_key
        ORDER BY (in_period AND holder_ok) DESC, priority DESC, in_period DESC, holder_ok DESC, started DESC,
                 CASE WHEN started THEN period_start END DESC NULLS LAST, period_start, agreement_id
    ) = 1
)
SELECT
    r.kind,
    r.row_key,
    coalesce(r.accord_cadre, best.agreement_id) AS agreement_id,
    CASE WHEN r.accord_cadre IS NOT NULL THEN 'declare' ELSE best.method END AS agreement_method
FROM mart.inbox_rows r
LEFT JOIN best USING (kind, row_key);

-- The lot when a row has none: the agreement's only lot, or its purchase-order lot.
CREATE OR REPLACE VIEW mart.agreement_default_lot AS
SELECT
    agreement_id,
    CASE WHEN count(*) = 1 THEN min(lot) ELSE min(lot) FILTER (WHERE execution = 'bons_de_commande') END AS lot
FROM ref.agreement_lots
GROUP BY agreement_id;

-- Computed here, stored by pipelines/materialise.py as mart.orders_enriched after every
-- data change: rules, the report and notebooks read it many times.
CREATE OR REPLACE VIEW mart.orders_enriched_live AS
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
    -- v2: listed on the order date (today's list excuses nothing); see mart.startup_listing
    EXISTS (
        SELECT 1 FROM mart.startup_listing l
        WHERE l.startup_id = sr.startup_id AND l.listed_from <= o.date_bc
          AND (l.listed_to IS NULL OR l.listed_to > o.date_bc)
    ) AS startup_listed_at_date,
    (SELECT min(l.listed_from) FROM mart.startup_listing l
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
FROM mart.orders o
LEFT JOIN mart.row_agreement oa ON oa.kind = 'commandes' AND oa.row_key = o.bc_key
LEFT JOIN ref.agreements a ON a.agreement_id = oa.agreement_id
LEFT JOIN mart.agreement_default_lot dl ON dl.agreement_id = oa.agreement_id
LEFT JOIN core.startup_resolution sr ON sr.raw_value = o.startup
LEFT JOIN mart.startups s ON s.startup_id = sr.startup_id
LEFT JOIN mart.startup_phases ph
    ON ph.startup_id = sr.startup_id AND ph.valid_from <= o.date_bc AND (ph.valid_to IS NULL OR ph.valid_to > o.date_bc)
LEFT JOIN core.buyer_resolution br ON br.raw_value = o.acheteur
LEFT JOIN core.holder_resolution hr ON hr.raw_value = o.titulaire AND hr.agreement_id = oa.agreement_id
LEFT JOIN ref.holders h ON h.agreement_id = hr.agreement_id AND h.holder_id = hr.holder_id;

CREATE TABLE IF NOT EXISTS mart.orders_enriched AS SELECT * FROM mart.orders_enriched_live WITH NO DATA;

-- Whether each (agreement, lot, buyer) of the orders is a beneficiary, and why not.
-- v2: a body a wider entry covers counts as named (`covers`: the Prime Minister's
-- perimeter); a lot whose beneficiaries are not published cannot be judged (`published`).
CREATE OR REPLACE VIEW mart.buyer_eligibility AS
WITH pairs AS (
    SELECT DISTINCT agreement_id, lot, acheteur, buyer_id, buyer_name, buyer_kind, buyer_ministry
    FROM mart.orders_enriched
    WHERE agreement_id IS NOT NULL
), judged AS (
    SELECT
        p.*,
        EXISTS (
            SELECT 1 FROM ref.beneficiaries b
            WHERE b.agreement_id = p.agreement_id AND (b.lot IS NULL OR p.lot IS NULL OR b.lot = p.lot)
              AND b.scope = 'organisme' AND b.body_id = p.buyer_id
        ) OR EXISTS (
            SELECT 1 FROM ref.beneficiary_covers c
            WHERE c.agreement_id = p.agreement_id AND (c.lot IS NULL OR p.lot IS NULL OR c.lot = p.lot)
              AND c.body_id = p.buyer_id
        ) AS named,
        coalesce((SELECT lo.beneficiaries_published FROM ref.lot_options lo
                  WHERE lo.agreement_id = p.agreement_id AND lo.lot = p.lot), true) AS published,
        (
            SELECT min(e.reason) FROM ref.beneficiary_exclusions e
            WHERE e.agreement_id = p.agreement_id
              AND (e.body_id = p.buyer_id
                   OR (e.ministry = p.buyer_ministry AND p.buyer_kind IN ('ministere', 'service')))
        ) AS exclusion,
        p.buyer_kind IN ('ministere', 'service') AND EXISTS (
            SELECT 1 FROM ref.beneficiaries b
            WHERE b.agreement_id = p.agreement_id AND (b.lot IS NULL OR p.lot IS NULL OR b.lot = p.lot)
              AND ((b.scope = 'ministere' AND b.ministry = p.buyer_ministry)
                   OR (b.scope = 'tous_ministeres' AND p.buyer_ministry NOT IN ('spm', 'autres')))
        ) AS by_ministry,
        EXISTS (SELECT 1 FROM ref.beneficiaries b WHERE b.agreement_id = p.agreement_id) AS has_list
    FROM pairs p
)
SELECT
    *,
    NOT has_list OR NOT published OR named OR (exclusion IS NULL AND by_ministry) AS is_beneficiary,
    CASE
        WHEN NOT published THEN 'liste des bénéficiaires du lot non publiée : non évaluable'
        WHEN NOT has_list OR named OR (exclusion IS NULL AND by_ministry) THEN NULL
        WHEN buyer_id IS NULL THEN 'organisme inconnu de Vigie'
        WHEN exclusion IS NOT NULL THEN exclusion
        WHEN buyer_kind IN ('ministere', 'service') THEN 'ministère non couvert par l''accord-cadre'
        ELSE 'organisme absent de la liste des bénéficiaires'
    END AS reason
FROM judged;
