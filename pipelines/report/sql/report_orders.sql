-- Grain: one row per current order of mart.orders_enriched, with what the report does with it.
-- An order flagged MONTANT_ATYPIQUE (a likely typo) and not yet reviewed is shown but set
-- aside from totals, trends and lot consumption; a credit note (negative HT on a row flagged
-- correctif, as MONTANT_INCOHERENT reads it) lowers amounts but is not counted as an order; a
-- negative HT without the flag is a data error (MONTANT_INCOHERENT): neither counted nor summed.
-- Temporary: the warehouse is not changed.
CREATE OR REPLACE TEMP VIEW report_orders AS
WITH atypical AS (
    SELECT coalesce(numero_bc, subject) AS numero_bc, agreement_id, min(finding_id) AS finding_id
    FROM findings.findings
    WHERE rule = 'MONTANT_ATYPIQUE' AND active AND status = 'open'
    GROUP BY ALL
)
SELECT o.*,
       t.finding_id AS atypical_finding_id,
       t.finding_id IS NOT NULL AS set_aside,
       coalesce(o.correctif AND o.montant_ht < 0, false) AS credit_note,
       t.finding_id IS NULL AND coalesce(o.montant_ht >= 0, true) AS counted,
       t.finding_id IS NULL AND (coalesce(o.montant_ht >= 0, true) OR coalesce(o.correctif AND o.montant_ht < 0, false))
           AS summed
FROM mart.orders_enriched o
LEFT JOIN atypical t ON t.numero_bc = o.numero_bc AND t.agreement_id IS NOT DISTINCT FROM o.agreement_id;

-- Grain: one row per lot of an agreement. mart.lot_consumption recomputed on report_orders,
-- so that the report's PLAFOND figures leave the set-aside amounts out.
CREATE OR REPLACE TEMP VIEW report_lot_consumption AS
WITH orders AS (
    SELECT agreement_id, lot, coalesce(sum(montant_ht) FILTER (WHERE summed), 0) AS ht,
           count(*) FILTER (WHERE counted) AS n,
           coalesce(sum(montant_ht) FILTER (WHERE set_aside), 0) AS set_aside_ht
    FROM report_orders WHERE agreement_id IS NOT NULL GROUP BY ALL
), decp AS (
    SELECT agreement_id, lot, sum(montant) AS ht, count(DISTINCT uid) AS n
    FROM (SELECT DISTINCT uid, agreement_id, lot, montant FROM mart.decp_contracts WHERE agreement_id IS NOT NULL)
    GROUP BY ALL
)
SELECT l.agreement_id, l.lot, l.title, l.maximum_ht,
       coalesce(o.ht, 0) + coalesce(d.ht, 0) AS consumed_ht,
       coalesce(o.n, 0) AS orders,
       coalesce(d.n, 0) AS decp_contracts,
       coalesce(o.set_aside_ht, 0) AS set_aside_ht,
       (coalesce(o.ht, 0) + coalesce(d.ht, 0)) / nullif(l.maximum_ht, 0) AS share
FROM ref.agreement_lots l
LEFT JOIN orders o USING (agreement_id, lot)
LEFT JOIN decp d USING (agreement_id, lot);
