-- Findings as the report, the notebooks and `vigie status` read them.

-- Findings with when they were last seen.
-- grain: one row per finding
CREATE OR REPLACE VIEW mart.findings AS
SELECT f.*, s.last_seen_at, s.last_seen_run
FROM findings.findings f
LEFT JOIN meta.finding_sightings s USING (finding_id);
