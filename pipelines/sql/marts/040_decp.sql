-- DECP contracts kept by the data.gouv.fr step, tied to an agreement by the one match
-- (stg.decp_agreement_matches: idAccordCadre, else holder and buyer by SIREN or name
-- within the period; match_method says which). Current data only.
CREATE OR REPLACE VIEW mart.decp_contracts AS
WITH matched AS (
    -- the one match, stg.decp_agreement_matches (edited locally by the sources work, #19)
    SELECT d.*, x.agreement_id, x.method AS match_method
    FROM raw.decp_contracts d
    LEFT JOIN stg.decp_agreement_matches x ON x.decp_row = d.rowid
    WHERE coalesce(d."donneesActuelles", TRUE)
)
SELECT
    m.*,
    -- a lot (and so a lot's consumption, PLAFOND) only for a contract its idAccordCadre
    -- ties to the agreement: a match by name waits in stg.decp_review
    CASE WHEN m.match_method = 'id_accord_cadre' THEN
        (SELECT min(l.lot) FROM ref.agreement_lots l
         WHERE l.agreement_id = m.agreement_id AND l.execution = 'marches_subsequents')
    END AS lot
FROM matched m;
