-- REFUS_NON_JUSTIFIE: a refusal or withdrawal with no justification.
SELECT
    'REFUS_NON_JUSTIFIE' AS rule, s.agreement_id, 'sollicitation' AS subject_type,
    s.numero_besoin || '#' || s.rang AS subject, 'alerte' AS severity,
    s.numero_bc, s.numero_besoin, s.holder_id, coalesce(s.holder_name, s.titulaire) AS titulaire,
    s.buyer_name AS acheteur, s.startup, s.montant_estime_ht AS amount_ht, s.source_file, s.source_line,
    to_json({date_besoin: s.date_besoin, rang: s.rang, reponse: s.reponse, date_reponse: s.date_reponse})::VARCHAR AS evidence
FROM mart.solicitations s
JOIN ref.agreement_rules ar ON ar.agreement_id = s.agreement_id AND ar.rule = 'REFUS_NON_JUSTIFIE'
WHERE s.reponse IN ('refus', 'desistement') AND s.motif IS NULL
