-- The DuckDB floor of the DECP step: read the file, keep the rows that concern the
-- agreements, CREATE TABLE AS. Written from the filter's definition, not from Vigie's code:
-- a row is kept when its idAccordCadre, normalised, starts with an agreement's code, or
-- when its holder (SIREN, or its name's first whole words, a leading legal form dropped)
-- is a holder of the agreements and its buyer (SIREN, or its name's first whole words)
-- a beneficiary.
-- Grain: one row per DECP row kept (a contract as published), every column as read.
-- Parameters: $path (the file), $codes_prefix (an anchored alternation of the agreements'
-- normalised codes), $holder_words and $buyer_words (anchored alternations of word
-- sequences, each followed by a space or the end), $sirens, $buyer_sirens (lists).
-- {reader} is read_parquet($path) or read_csv($path, header = true, all_varchar = true).

-- A code as its letters and digits: lower case, accents stripped, everything else dropped.
CREATE OR REPLACE MACRO floor_key(s) AS
    regexp_replace(strip_accents(lower(coalesce(s, ''))), '[^a-z0-9]+', '', 'g');

-- A name as its words: the same, every run of other characters one space.
CREATE OR REPLACE MACRO floor_words(s) AS
    trim(regexp_replace(strip_accents(lower(coalesce(s, ''))), '[^a-z0-9]+', ' ', 'g'));

-- A holder's leading legal form is not part of its name (« SAS OCTO TECHNOLOGY »).
CREATE OR REPLACE MACRO floor_holder_words(s) AS
    regexp_replace(floor_words(s), '^(?:sas|sasu|sa|sarl|eurl|scop|sci|ste|societe|groupement) ', '');

CREATE OR REPLACE TABLE decp AS
SELECT *
FROM {reader}
WHERE regexp_matches(floor_key("idAccordCadre"), $codes_prefix)
   OR ((list_contains($sirens, left(CAST("titulaire_id" AS VARCHAR), 9))
        OR regexp_matches(floor_holder_words("titulaire_nom"), $holder_words))
       AND (list_contains($buyer_sirens, left(CAST("acheteur_id" AS VARCHAR), 9))
            OR regexp_matches(floor_words("acheteur_nom"), $buyer_words)));
