-- DECP contracts tied to agreements, and the matches an analyst should review.

-- DECP contracts kept by the data.gouv.fr step, tied to an agreement by the one match
-- (int.decp_agreement_matches: idAccordCadre, else holder and buyer by SIREN or name
-- within the period; match_method says which). Current data only.
-- grain: one row per current DECP row kept
CREATE OR REPLACE VIEW mart.decp_contracts AS
WITH matched AS (
    SELECT d.* EXCLUDE (decp_row), x.agreement_id, x.method AS match_method
    FROM stg.decp__contracts d
    LEFT JOIN int.decp_agreement_matches x ON x.decp_row = d.decp_row
    WHERE coalesce(d."donneesActuelles", TRUE)
)
SELECT
    m.*,
    -- a lot (and so a lot's consumption, PLAFOND) only for a contract its idAccordCadre
    -- ties to the agreement: a match by name waits in mart.decp_review
    CASE WHEN m.match_method = 'id_accord_cadre' THEN
        (SELECT min(l.lot) FROM ref.agreement_lots l
         WHERE l.agreement_id = m.agreement_id AND l.execution = 'marches_subsequents')
    END AS lot
FROM matched m;

-- Every DECP contract attributed to an agreement by name, not by its idAccordCadre: to be
-- reviewed by an analyst.
-- grain: one row per current DECP row attributed by name
CREATE OR REPLACE VIEW mart.decp_review AS
SELECT d."uid" AS uid, m.agreement_id, a.short_title AS agreement_title, m.method, m.candidates,
       d."dateNotification" AS date_notification, d."acheteur_nom" AS acheteur_nom, m.buyer_id,
       d."titulaire_nom" AS titulaire_nom, m.holder_id, d."montant" AS montant, d."objet" AS objet
FROM int.decp_agreement_matches m
JOIN stg.decp__contracts d ON d.decp_row = m.decp_row
JOIN ref.agreements a USING (agreement_id)
WHERE m.method <> 'id_accord_cadre'
  AND coalesce(d."donneesActuelles", TRUE);
