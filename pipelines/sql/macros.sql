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
