-- Staging of DECP (raw.decp_*): the contracts kept, and what the last load could not read.

-- DECP contracts kept by the data.gouv.fr step, columns as published; decp_row (the
-- rowid) identifies a row for the match (int.decp_agreement_matches).
-- grain: one row per DECP row kept
CREATE OR REPLACE VIEW stg.decp__contracts AS
SELECT rowid AS decp_row, * FROM raw.decp_contracts;

-- What the latest load could not read (see raw.decp_load_quality). For the report's
-- data-quality section and `vigie status`.
-- grain: one row per column x problem of the latest load
CREATE OR REPLACE VIEW stg.decp__load_quality AS
WITH last AS (
    SELECT loaded_at, resource_id, resource_title, rows_read, rows_kept
    FROM raw.decp_loads ORDER BY loaded_at DESC LIMIT 1
)
SELECT l.loaded_at, l.resource_id, l.resource_title, l.rows_read, l.rows_kept,
       l.rows_read - l.rows_kept AS rows_dropped,  -- rows that concern none of the agreements
       q.column_name, q.problem, q.values_count, q.example
FROM last l
JOIN raw.decp_load_quality q ON q.loaded_at = l.loaded_at AND q.resource_id = l.resource_id;
