-- REFUS_NON_JUSTIFIE: a refusal or withdrawal with no justification. v2: a placeholder
-- (`-`, `.`, `n/a`, `RAS`, `aucun`, `néant`, `?`: the agreement's `refusals.placeholders`,
-- or any text without a letter or digit) justifies nothing. Grain: solicitation.
SELECT
    'REFUS_NON_JUSTIFIE' AS rule, s.agreement_id, 'sollicitation' AS subject_type,
    s.numero_besoin || '#' || s.rang AS subject, 'alerte' AS severity,
    s.numero_bc, s.numero_besoin, s.holder_id, coalesce(s.holder_name, s.titulaire) AS titulaire,
    s.buyer_name AS acheteur, s.startup, s.montant_estime_ht AS amount_ht, s.source_file, s.source_line,
    to_json({date_besoin: s.date_besoin, rang: s.rang, reponse: s.reponse, date_reponse: s.date_reponse,
             motif_ecrit: s.motif})::VARCHAR AS evidence
FROM mart.solicitations s
JOIN ref.agreement_rules ar ON ar.agreement_id = s.agreement_id AND ar.rule = 'REFUS_NON_JUSTIFIE'
JOIN ref.agreement_options opt ON opt.agreement_id = s.agreement_id
WHERE s.reponse IN ('refus', 'desistement')
  AND (s.motif IS NULL
       OR norm_key(s.motif) = ''
       OR list_contains(list_transform(opt.refusal_placeholders, lambda p: strip_accents(lower(p))),
                        strip_accents(lower(regexp_replace(trim(s.motif), '\s+', ' ', 'g')))))
