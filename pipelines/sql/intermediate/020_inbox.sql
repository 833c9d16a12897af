-- Inbox rows: the current version of each, and the agreement (declared or inferred) of each.

-- The current version of each order (grain: bc_key): the one read last. Counted once,
-- whatever the number of files that carry it.
-- grain: one row per order (bc_key): its current version
CREATE OR REPLACE VIEW int.orders_current AS
WITH keyed AS (
    SELECT c.*, bc_key(c.numero_bc) AS bc_key FROM stg.inbox__orders c
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

-- Current declarations (a corrected file's row replaces the earlier one).
-- grain: one row per declaration (numero_bc x holder as written)
CREATE OR REPLACE VIEW int.declarations_current AS
SELECT d.*, norm_key(d.titulaire) AS titulaire_key
FROM stg.inbox__declarations d
QUALIFY row_number() OVER (PARTITION BY d.numero_bc, norm_key(d.titulaire) ORDER BY d.seq DESC, d.line DESC) = 1;

-- Current solicitations (a corrected file's row replaces the earlier one).
-- grain: one row per solicitation (numero_besoin x rang)
CREATE OR REPLACE VIEW int.needs_current AS
WITH counted AS (
    SELECT numero_besoin, rang, count(DISTINCT values_hash) AS versions FROM stg.inbox__needs GROUP BY ALL
)
SELECT b.*, counted.versions
FROM stg.inbox__needs b
JOIN counted USING (numero_besoin, rang)
QUALIFY row_number() OVER (PARTITION BY b.numero_besoin, b.rang ORDER BY b.seq DESC, b.line DESC) = 1;

-- Every current inbox row, under one key, for what all kinds share.
-- grain: one row per current inbox row (kind x row_key)
CREATE OR REPLACE VIEW int.inbox_rows AS
SELECT 'commandes' AS kind, bc_key AS row_key, date_bc AS row_date, titulaire, accord_cadre FROM int.orders_current
UNION ALL
SELECT 'declarations', numero_bc || '|' || titulaire_key, date_bc, titulaire, accord_cadre FROM int.declarations_current
UNION ALL
SELECT 'besoins', numero_besoin || '|' || rang, date_besoin, titulaire, accord_cadre FROM int.needs_current;

-- When a row names no agreement: the one whose period holds the date and whose holders
-- include the row's holder (highest inference_priority first: a side marché such as
-- mentorat yields to the marché beta, whose exports often name no agreement); else the date alone; else the holder alone; else the
-- agreement in force most recently before the date. The method says which.
-- grain: one row per current inbox row (kind x row_key)
CREATE OR REPLACE VIEW int.row_agreement AS
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
    FROM int.inbox_rows r
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
FROM int.inbox_rows r
LEFT JOIN best USING (kind, row_key);

-- The lot when a row has none: the agreement's only lot, or its purchase-order lot.
-- grain: one row per agreement with lots
CREATE OR REPLACE VIEW int.agreement_default_lot AS
SELECT
    agreement_id,
    CASE WHEN count(*) = 1 THEN min(lot) ELSE min(lot) FILTER (WHERE execution = 'bons_de_commande') END AS lot
FROM ref.agreement_lots
GROUP BY agreement_id;
