-- REFUS_SEUIL: a holder refused or withdrew from that many distinct expressions de besoin
-- over the whole agreement (v2: a need offered twice counts once): alert (8) or critical
-- (10). Only where the agreement file lists the rule (ACIM 2021; ACIM 2026 sets no count). A merged holder's refusals count with the holder
-- it merged into. One finding per threshold crossed.
WITH levels AS (
    SELECT agreement_id, 'alerte' AS severity, refusal_alert_at AS threshold FROM ref.agreements
    WHERE refusal_alert_at IS NOT NULL
    UNION ALL
    SELECT agreement_id, 'critique', refusal_critical_at FROM ref.agreements
    WHERE refusal_critical_at IS NOT NULL
)
SELECT
    'REFUS_SEUIL' AS rule, r.agreement_id, 'titulaire' AS subject_type,
    r.holder_id || '@' || l.threshold AS subject, l.severity,
    NULL AS numero_bc, NULL AS numero_besoin, r.holder_id, r.holder_name AS titulaire,
    NULL AS acheteur, NULL AS startup, NULL AS amount_ht, NULL AS source_file, NULL AS source_line,
    to_json({
        lignes: r.refusal_rows,
        refus: r.refusals, desistements: r.withdrawals, total: r.total, seuil: l.threshold,
        sans_justification: r.unjustified, besoins: r.needs
    })::VARCHAR AS evidence
FROM mart.holder_refusals r
JOIN ref.agreement_rules ar ON ar.agreement_id = r.agreement_id AND ar.rule = 'REFUS_SEUIL'
JOIN levels l ON l.agreement_id = r.agreement_id
WHERE r.total >= l.threshold
