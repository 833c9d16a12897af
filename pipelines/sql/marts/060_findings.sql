-- Findings with when they were last seen.
CREATE OR REPLACE VIEW mart.findings AS
SELECT f.*, s.last_seen_at, s.last_seen_run
FROM findings.findings f
LEFT JOIN meta.finding_sightings s USING (finding_id);
