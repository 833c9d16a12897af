-- PHASE_NON_ELIGIBLE: the startup's phase on the order date is not an eligible phase of
-- the agreement, or the order predates its first phase (where the agreement says so).
-- Critique for abandoned ones. v2: not for the exception body's own products ordered by
-- it (DINUM's incubators), whatever their phase. Grain: order.
SELECT
    'PHASE_NON_ELIGIBLE' AS rule, o.agreement_id, 'commande' AS subject_type, o.numero_bc AS subject,
    CASE WHEN list_contains(a.critical_phases, o.phase_at_date) THEN 'critique' ELSE 'alerte' END AS severity,
    o.numero_bc, NULL AS numero_besoin, o.holder_id,
    coalesce(o.holder_name, o.titulaire) AS titulaire, o.buyer_name AS acheteur, o.startup_name AS startup,
    o.montant_ht AS amount_ht, o.source_file, o.source_line,
    to_json({
        date_bc: o.date_bc, startup_id: o.startup_id, phase: o.phase_at_date,
        phases_eligibles: a.eligible_phases,
        premiere_phase: (SELECT min(valid_from) FROM mart.startup_phases p WHERE p.startup_id = o.startup_id)
    })::VARCHAR AS evidence
FROM mart.orders_enriched o
JOIN mart.rule_scope ar
    ON ar.agreement_id = o.agreement_id AND ar.lot IS NOT DISTINCT FROM o.scope_lot AND ar.rule = 'PHASE_NON_ELIGIBLE'
JOIN ref.agreements a ON a.agreement_id = o.agreement_id
JOIN ref.agreement_options opt ON opt.agreement_id = o.agreement_id
WHERE o.startup_id IS NOT NULL
  AND o.startup_listed_at_date
  -- a startup known only from the listing history has no phases to judge
  AND EXISTS (SELECT 1 FROM mart.startup_phases p WHERE p.startup_id = o.startup_id)
  AND ((o.phase_at_date IS NULL AND opt.flag_before_first_phase)
       OR NOT list_contains(a.eligible_phases, o.phase_at_date))
  AND NOT (o.buyer_id IS NOT DISTINCT FROM a.exception_buyer
           AND list_contains(opt.exception_incubators, o.incubator_id))
