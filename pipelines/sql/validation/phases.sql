-- Each phase with whether its startup is on the list (referential integrity).
SELECT p.startup_id, p.position, p.phase, p.phase_original, p.start_date, p.end_date,
       s.startup_id IS NOT NULL AS startup_listed
FROM stg.betagouv__phases p
LEFT JOIN stg.betagouv__startups s USING (startup_id)
