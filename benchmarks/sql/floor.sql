-- The DuckDB floor of the DECP step: read the file, keep the rows that concern the
-- agreements, CREATE TABLE AS. Written from the filter's definition, not from Vigie's code.
-- Grain: one row per DECP row kept (a contract as published), every column as read.
-- Parameters: $path (the file), $codes_prefix (an anchored alternation of the agreements'
-- normalised codes), $sirens, $holder_names, $buyer_sirens, $buyer_names (lists).
-- {reader} is read_parquet($path) or read_csv($path, header = true, all_varchar = true).
CREATE OR REPLACE MACRO floor_norm(s) AS
    regexp_replace(strip_accents(lower(coalesce(s, ''))), '[^a-z0-9]+', '', 'g');

CREATE OR REPLACE TABLE decp AS
SELECT *
FROM {reader}
WHERE regexp_matches(floor_norm("idAccordCadre"), $codes_prefix)
   OR ((list_contains($sirens, left(CAST("titulaire_id" AS VARCHAR), 9))
        OR list_contains($holder_names, floor_norm("titulaire_nom")))
       AND (list_contains($buyer_sirens, left(CAST("acheteur_id" AS VARCHAR), 9))
            OR list_contains($buyer_names, floor_norm("acheteur_nom"))));
