-- RAPPROCHEMENT_A_REVOIR (new): a name of the order (product, holder, buyer) matches
-- several candidates. It replaces the critique an unresolved name would raise
-- (HORS_STARTUP, TITULAIRE_INVALIDE, ACHETEUR_NON_BENEFICIAIRE leave ambiguous names
-- out); once an analyst records the match (`vigie alias`), the order is judged again.
-- Also: one order number with different values in files read together
-- (mart.order_conflicts, subject `N°#versions`): only the current version is summed.
-- Grain: order (one finding listing every ambiguous name), and order conflict.
WITH ambiguous AS (
    SELECT o.numero_bc, 'startup' AS kind, o.startup AS raw_value, sr.candidates
    FROM mart.orders_enriched o JOIN core.startup_resolution sr ON sr.raw_value = o.startup
    WHERE sr.method = 'ambigu'
    UNION ALL
    SELECT o.numero_bc, 'titulaire', o.titulaire,
           (SELECT to_json(list({id: h.holder_id, nom: h.name} ORDER BY h.rank NULLS LAST, h.holder_id))
            FROM ref.holders h
            WHERE h.agreement_id = o.agreement_id
              AND list_contains(CAST(json_extract_string(hr.candidates, '$[*].titulaire') AS VARCHAR[]), h.holder_id))::VARCHAR
    FROM mart.orders_enriched o
    JOIN core.holder_resolution hr ON hr.raw_value = o.titulaire AND hr.agreement_id = o.agreement_id
    WHERE hr.method = 'ambigu'
    UNION ALL
    SELECT o.numero_bc, 'acheteur', o.acheteur, br.candidates
    FROM mart.orders_enriched o JOIN core.buyer_resolution br ON br.raw_value = o.acheteur
    WHERE br.method = 'ambigu'
), per_order AS (
    SELECT numero_bc, list({type: kind, ecrit: raw_value, candidats: json(candidates)} ORDER BY kind) AS names
    FROM ambiguous GROUP BY numero_bc
)
SELECT
    'RAPPROCHEMENT_A_REVOIR' AS rule, o.agreement_id, 'commande' AS subject_type, o.numero_bc AS subject,
    'alerte' AS severity, o.numero_bc, NULL AS numero_besoin, o.holder_id,
    coalesce(o.holder_name, o.titulaire) AS titulaire, o.buyer_name AS acheteur, o.startup,
    o.montant_ht AS amount_ht, o.source_file, o.source_line,
    to_json({date_bc: o.date_bc, noms: p.names})::VARCHAR AS evidence
FROM mart.orders_enriched o
JOIN per_order p USING (numero_bc)
JOIN mart.rule_scope ar
    ON ar.agreement_id = o.agreement_id AND ar.lot IS NOT DISTINCT FROM o.scope_lot AND ar.rule = 'RAPPROCHEMENT_A_REVOIR'
UNION ALL
SELECT
    'RAPPROCHEMENT_A_REVOIR', o.agreement_id, 'commande', o.numero_bc || '#versions',
    'alerte', o.numero_bc, NULL, o.holder_id,
    coalesce(o.holder_name, o.titulaire), o.buyer_name, o.startup,
    o.montant_ht, o.source_file, o.source_line,
    to_json({date_bc: o.date_bc, conflit: c.versions, numeros: c.numeros})::VARCHAR
FROM mart.orders_enriched o
JOIN (SELECT bc_key, arg_max(versions, run_id) AS versions, arg_max(numeros, run_id) AS numeros
      FROM mart.order_conflicts GROUP BY bc_key) c ON c.bc_key = o.bc_key
JOIN mart.rule_scope ar
    ON ar.agreement_id = o.agreement_id AND ar.lot IS NOT DISTINCT FROM o.scope_lot AND ar.rule = 'RAPPROCHEMENT_A_REVOIR'
