-- Normalisation shared by SQL and Python (pipelines.text.norm must agree):
-- lower case, accents stripped, every run of non-alphanumerics removed.
CREATE OR REPLACE MACRO norm_key(s) AS
    regexp_replace(strip_accents(lower(coalesce(s, ''))), '[^a-z0-9]+', '', 'g');

-- The phase of a startup on a date is the one whose start is the latest on or before
-- it (phases are not listed in date order; ties go to the most advanced phase).
CREATE OR REPLACE MACRO phase_rank(p) AS
    CASE p
        WHEN 'investigation' THEN 1
        WHEN 'construction' THEN 2
        WHEN 'acceleration' THEN 3
        WHEN 'consolidation' THEN 4
        WHEN 'transfere' THEN 5
        WHEN 'opere' THEN 5
        WHEN 'abandon-investigation' THEN 6
        WHEN 'abandon' THEN 6
        ELSE 0
    END;

-- A name as its words: lower case, accents stripped, every run of non-alphanumerics one
-- space. « Ministère de l'Intérieur - DSI » -> 'ministere de l interieur dsi'; a spelling
-- matches a name when it is the name or its first words (token prefix).
CREATE OR REPLACE MACRO name_tokens(s) AS
    trim(regexp_replace(strip_accents(lower(coalesce(s, ''))), '[^a-z0-9]+', ' ', 'g'));

CREATE OR REPLACE MACRO starts_with_words(name_words, spelling_words) AS
    spelling_words <> '' AND (name_words = spelling_words OR starts_with(name_words, spelling_words || ' '));

-- A DECP date as real files carry it: 2019-02-08, 2019-02-08+01:00, 2019-02-08Z,
-- 2019-02-08T10:00:00(+01:00|Z); anything else is NULL (and counted by the loader).
CREATE OR REPLACE MACRO decp_date(s) AS
    CASE WHEN regexp_matches(trim(CAST(s AS VARCHAR)),
                             '^\d{4}-\d{2}-\d{2}(?:[T ][0-9:.]+)?(?:Z|[+-]\d{2}:?\d{2})?$')
         THEN TRY_CAST(left(trim(CAST(s AS VARCHAR)), 10) AS DATE) END;

-- A holder's name as words, a leading legal form dropped (« SAS OCTO TECHNOLOGY »).
CREATE OR REPLACE MACRO holder_words(s) AS
    regexp_replace(name_tokens(s), '^(?:sas|sasu|sa|sarl|eurl|scop|sci|ste|societe|groupement) ', '');

-- Phase names beta.gouv.fr used until 2026-05-11, mapped to today's (RULES.md v2):
-- never rejected, the name as published kept in phase_original.
CREATE OR REPLACE MACRO phase_v2(p) AS
    CASE p WHEN 'alumni' THEN 'abandon' WHEN 'success' THEN 'opere' WHEN 'transfer' THEN 'transfere' ELSE p END;

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
