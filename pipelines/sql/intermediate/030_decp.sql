-- DECP: the one DECP -> agreement match.

-- The one DECP -> agreement match. One row of stg.decp__contracts with the agreement it is attributed to and how:
--   id_accord_cadre  its idAccordCadre starts with the agreement's reference or a code
--                    (lots add a suffix such as _AC01);
--   siren | nom      no such id: its holder is one of the agreement's holders (by SIREN
--                    where the agreement file gives it, else a spelling as the first words
--                    of its name), its buyer a beneficiary not excluded (SIREN, else a
--                    spelling as the first words of its name: a directorate belongs to its
--                    ministry), and it was notified within the agreement's period and the
--                    holder's validity. These are listed in mart.decp_review.
-- grain: one row per DECP row attributed to an agreement (decp_row)
CREATE OR REPLACE VIEW int.decp_agreement_matches AS
WITH d AS (
    SELECT decp_row, "idAccordCadre", "titulaire_id", "acheteur_id", "dateNotification",
           holder_words("titulaire_nom") AS holder_words,
           name_tokens("acheteur_nom") AS buyer_words
    FROM stg.decp__contracts
), codes AS (
    -- the agreements' codes and references (pipelines.agreements.agreement_keys), not their ids
    SELECT DISTINCT agreement_id, code_key FROM ref.agreement_keys
    WHERE origin <> 'id' AND length(code_key) >= 6
), by_code AS (
    SELECT d.decp_row, codes.agreement_id, NULL::VARCHAR AS holder_id, NULL::VARCHAR AS buyer_id,
           'id_accord_cadre' AS method, 1 AS priority
    FROM d JOIN codes ON starts_with(norm_key(d."idAccordCadre"), codes.code_key)
), holder_spelling AS (
    SELECT DISTINCT agreement_id, holder_id, name_tokens(spelling) AS words
    FROM ref.holder_spellings WHERE length(spelling_key) >= 3
), holder AS (
    SELECT d.decp_row, m.agreement_id, m.holder_id, 'siren' AS method
    FROM d JOIN ref.holder_members m ON m.siren = left(CAST(d."titulaire_id" AS VARCHAR), 9)
    UNION
    SELECT d.decp_row, s.agreement_id, s.holder_id, 'nom'
    FROM d JOIN holder_spelling s ON starts_with_words(d.holder_words, s.words)
), body_spelling AS (
    SELECT DISTINCT s.body_id, name_tokens(s.spelling) AS words,
           coalesce(b.ministry, CASE WHEN s.body_id LIKE 'ministere:%' THEN substr(s.body_id, 11) END) AS ministry,
           CASE WHEN s.body_id LIKE 'ministere:%' THEN 'ministere' ELSE b.kind END AS kind
    FROM ref.body_spellings s LEFT JOIN ref.bodies b USING (body_id)
    WHERE length(s.spelling_key) >= 3
      -- a ministry's one-word short name (« Culture », « Intérieur ») would take
      -- « CULTURE ET LOISIRS DE … » for the ministry: only its full names here
      AND NOT (s.body_id LIKE 'ministere:%' AND NOT contains(name_tokens(s.spelling), ' '))
), buyer AS (
    -- by SIREN, else the longest spelling that begins the name (the most specific body)
    SELECT decp_row, body_id, ministry, kind FROM (
        SELECT d.decp_row, b.body_id, b.ministry, b.kind, 1 AS how, 0 AS len
        FROM d JOIN ref.bodies b ON b.siren = left(CAST(d."acheteur_id" AS VARCHAR), 9)
        UNION ALL
        SELECT d.decp_row, s.body_id, s.ministry, s.kind, 2, length(s.words)
        FROM d JOIN body_spelling s ON starts_with_words(d.buyer_words, s.words)
    )
    QUALIFY row_number() OVER (PARTITION BY decp_row ORDER BY how, len DESC, body_id) = 1
), by_name AS (
    SELECT h.decp_row, h.agreement_id, h.holder_id, b.body_id AS buyer_id, h.method,
           CASE h.method WHEN 'siren' THEN 2 ELSE 3 END AS priority
    FROM holder h
    JOIN d USING (decp_row)
    JOIN buyer b USING (decp_row)
    JOIN ref.agreements a ON a.agreement_id = h.agreement_id
    JOIN ref.holders rh ON rh.agreement_id = h.agreement_id AND rh.holder_id = h.holder_id
    WHERE d."dateNotification" >= coalesce(a.period_start, DATE '1900-01-01')
      AND d."dateNotification" <= coalesce(a.orders_end, a.period_end, DATE '9999-12-31')
      AND d."dateNotification" >= coalesce(rh.valid_from, DATE '1900-01-01')
      AND d."dateNotification" <= coalesce(rh.valid_to, DATE '9999-12-31')
      AND NOT EXISTS (
          SELECT 1 FROM ref.beneficiary_exclusions e
          WHERE e.agreement_id = h.agreement_id
            AND (e.body_id = b.body_id OR (e.ministry = b.ministry AND b.kind IN ('ministere', 'service'))))
      AND EXISTS (
          SELECT 1 FROM ref.beneficiaries x
          WHERE x.agreement_id = h.agreement_id
            AND ((x.scope = 'organisme' AND x.body_id = b.body_id)
                 OR (x.scope = 'ministere' AND x.ministry = b.ministry AND b.kind IN ('ministere', 'service'))
                 OR (x.scope = 'tous_ministeres' AND b.kind IN ('ministere', 'service')
                     AND b.ministry NOT IN ('spm', 'autres'))))
)
SELECT decp_row, agreement_id, holder_id, buyer_id, method,
       -- agreements this row could belong to by the same method: more than one, to review
       count(DISTINCT agreement_id) OVER (PARTITION BY decp_row, priority) AS candidates
FROM (SELECT * FROM by_code UNION ALL SELECT * FROM by_name)
QUALIFY row_number() OVER (PARTITION BY decp_row ORDER BY priority, agreement_id, holder_id) = 1;
