-- DECP contracts kept by the data.gouv.fr step, tied to an agreement when their
-- idAccordCadre names it (its reference or one of its codes, as a prefix: lots add a
-- suffix such as _AC01). Current data only.
CREATE OR REPLACE VIEW mart.decp_contracts AS
WITH codes AS (
    SELECT a.agreement_id, norm_key(c.code) AS code_key
    FROM ref.agreements a, unnest(list_distinct(list_append(a.codes, a.reference))) AS c(code)
    WHERE c.code IS NOT NULL AND length(norm_key(c.code)) >= 6
), matched AS (
    SELECT d.*, (
        SELECT min(codes.agreement_id) FROM codes
        WHERE starts_with(norm_key(d."idAccordCadre"), codes.code_key)
    ) AS agreement_id
    FROM raw.decp_contracts d
    WHERE coalesce(d."donneesActuelles", TRUE)
)
SELECT
    m.*,
    (SELECT min(l.lot) FROM ref.agreement_lots l
     WHERE l.agreement_id = m.agreement_id AND l.execution = 'marches_subsequents') AS lot
FROM matched m;
