-- Startups as the rules, the report and the notebooks read them (computed in
-- sql/intermediate/010_startups.sql).

-- Phases of every startup Vigie has seen, from the latest snapshot that listed it.
-- grain: one row per startup x phase
CREATE OR REPLACE VIEW mart.startup_phases AS
SELECT * FROM int.startup_phases;

-- Startups d'État of the current snapshot, with their ministry and current phase.
-- grain: one row per startup of the current snapshot
CREATE OR REPLACE VIEW mart.startups AS
SELECT * FROM int.startups;

-- When each startup was on beta.gouv.fr/startups (listed_to exclusive, NULL while listed).
-- grain: one row per listing interval of a startup
CREATE OR REPLACE VIEW mart.startup_listing AS
SELECT * FROM int.startup_listing;

-- Where a snapshot of Vigie and the site's history disagree on a date the history
-- covers (grain: startup, snapshot date): shown for review, never silently resolved.
-- grain: one row per startup x snapshot date where they disagree
CREATE OR REPLACE VIEW mart.startup_listing_review AS
WITH snaps AS (
    SELECT DISTINCT data_as_of::DATE AS snap_date, startups_sha256 FROM stg.betagouv__snapshots
), history_end AS (
    SELECT greatest(max(listed_from), max(listed_to)) AS d FROM ref.startup_listing_intervals
), in_snapshot AS (
    SELECT sn.snap_date, s.startup_id FROM snaps sn JOIN stg.betagouv__startup_history s ON s.payload_sha256 = sn.startups_sha256
), in_history AS (
    SELECT sn.snap_date, h.startup_id
    FROM snaps sn JOIN ref.startup_listing_intervals h
      ON h.listed_from <= sn.snap_date AND (h.listed_to IS NULL OR h.listed_to > sn.snap_date)
)
SELECT
    coalesce(s.startup_id, h.startup_id) AS startup_id,
    coalesce(s.snap_date, h.snap_date) AS snap_date,
    s.startup_id IS NOT NULL AS in_snapshot,
    h.startup_id IS NOT NULL AS in_history,
    CASE WHEN s.startup_id IS NULL THEN 'listée selon l''historique du site, absente de l''instantané de Vigie'
         ELSE 'présente dans l''instantané de Vigie, non listée selon l''historique du site' END AS reason
FROM in_snapshot s
FULL OUTER JOIN in_history h ON h.snap_date = s.snap_date AND h.startup_id = s.startup_id
WHERE (s.startup_id IS NULL OR h.startup_id IS NULL)
  AND coalesce(s.snap_date, h.snap_date) <= (SELECT d FROM history_end);
