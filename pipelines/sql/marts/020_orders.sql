-- Orders: versions, the current version of each, conflicts, and the enriched orders the
-- rules, the report and the notebooks read.

-- Every version of every order. A corrected export (same N° BC, other values) adds a
-- version; the one read last wins; earlier ones stay here as history.
-- grain: one row per version of an order (bc_key x version)
CREATE OR REPLACE VIEW mart.order_versions AS
WITH positioned AS (
    SELECT *, bc_key(numero_bc) AS bc, seq::BIGINT * 10000000 + line AS pos FROM stg.inbox__orders
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

-- The current version of each order: the one read last (sql/intermediate/020_inbox.sql).
-- grain: one row per order (bc_key): its current version
CREATE OR REPLACE VIEW mart.orders AS
SELECT * FROM int.orders_current;

-- One order number, different values, in files read by the same run (grain: bc_key):
-- a conflict, flagged for review (RAPPROCHEMENT_A_REVOIR); only the current version is
-- summed. A version read by a later run is a correction, not a conflict.
-- grain: one row per order number x run whose files disagree
CREATE OR REPLACE VIEW mart.order_conflicts AS
WITH v AS (
    SELECT bc_key(c.numero_bc) AS bc_key, c.numero_bc, c.source_file, c.line, f.run_id,
           md5(concat_ws('|', c.date_bc, norm_key(c.acheteur), norm_key(c.startup), norm_key(c.titulaire),
                         c.montant_ht, c.montant_ttc, c.lot, c.accord_cadre)) AS facts,
           c.montant_ht, c.date_bc
    FROM stg.inbox__orders c
    JOIN stg.inbox__files f ON f.path = c.source_file AND f.seq = c.seq
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

-- Current declarations to DINUM (a corrected file's row replaces the earlier one).
-- grain: one row per declaration (numero_bc x holder as written)
CREATE OR REPLACE VIEW mart.declarations AS
SELECT * FROM int.declarations_current;

-- Current solicitations of the tourniquet log, as written.
-- grain: one row per solicitation (numero_besoin x rang)
CREATE OR REPLACE VIEW mart.needs AS
SELECT * FROM int.needs_current;

-- int.orders_enriched stored (pipelines/materialise.py).
-- grain: one row per order (bc_key)
CREATE TABLE IF NOT EXISTS mart.orders_enriched AS SELECT * FROM int.orders_enriched WITH NO DATA;

-- Whether each (agreement, lot, buyer) of the orders is a beneficiary, and why not.
-- v2: a body a wider entry covers counts as named (`covers`: the Prime Minister's
-- perimeter); a lot whose beneficiaries are not published cannot be judged (`published`).
-- grain: one row per agreement x lot x buyer as written
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
