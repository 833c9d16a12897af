-- Startups: phases over time, ministry, listing intervals. Exposed as mart.startup_*.

-- Phases of every startup Vigie has seen, from the latest snapshot that listed it (a
-- startup removed from the list keeps the phases it last had).
-- grain: one row per startup x phase (seq: order of the phases)
CREATE OR REPLACE VIEW int.startup_phases AS
WITH latest AS (
    SELECT s.startup_id, arg_max(s.payload_sha256, sn.fetched_at) AS payload_sha256
    FROM stg.betagouv__startup_history s
    JOIN stg.betagouv__snapshots sn ON sn.startups_sha256 = s.payload_sha256
    GROUP BY s.startup_id
), ordered AS (
    SELECT
        p.startup_id, p.phase, p.start_date, p.end_date, p.position,
        row_number() OVER (PARTITION BY p.startup_id ORDER BY p.start_date, phase_rank(p.phase), p.position) AS seq
    FROM stg.betagouv__phase_history p  -- old phase names mapped there
    JOIN latest l ON l.startup_id = p.startup_id AND l.payload_sha256 = p.payload_sha256
    WHERE p.start_date IS NOT NULL
)
SELECT
    startup_id,
    phase,
    start_date AS valid_from,
    -- exclusive; equal to valid_from for a phase superseded the same day
    lead(start_date) OVER (PARTITION BY startup_id ORDER BY seq) AS valid_to,
    seq,
    position
FROM ordered;

-- Startups d'État of the current snapshot, with their ministry: the first sponsor's
-- domaine_ministeriel, else the incubator owner's (ministry_source says which was used).
-- grain: one row per startup of the current snapshot
CREATE OR REPLACE VIEW int.startups AS
WITH s AS (
    SELECT * FROM stg.betagouv__startups
), owner AS (
    SELECT s.startup_id, i.title AS incubator_title, i.owner_id AS incubator_owner,
           o.domaine_ministeriel AS owner_ministry
    FROM s
    LEFT JOIN stg.betagouv__incubators i ON i.incubator_id = s.incubator_id
    LEFT JOIN stg.betagouv__organisations o ON o.organisation_id = i.owner_id
), sponsor AS (
    SELECT s.startup_id,
           list(o.domaine_ministeriel ORDER BY t.i) FILTER (WHERE o.domaine_ministeriel IS NOT NULL) AS ministries
    FROM s, range(len(s.sponsors)) t(i)
    LEFT JOIN stg.betagouv__organisations o ON o.organisation_id = s.sponsors[t.i + 1]
    GROUP BY s.startup_id
), latest AS (
    SELECT startup_id,
           arg_max(phase, seq) AS current_phase,
           max(valid_from) AS current_phase_since,
           min(valid_from) AS first_phase_start
    FROM int.startup_phases
    GROUP BY startup_id
)
SELECT
    s.startup_id,
    s.name,
    norm_key(s.name) AS name_key,
    s.pitch,
    s.incubator_id,
    owner.incubator_title,
    owner.incubator_owner,
    s.sponsors,
    -- v2: sponsors first (the incubator's owner alone was noisy)
    coalesce(sponsor.ministries[1], owner.owner_ministry) AS ministry,
    CASE
        WHEN sponsor.ministries[1] IS NOT NULL THEN 'sponsors'
        WHEN owner.owner_ministry IS NOT NULL THEN 'incubateur'
        ELSE 'inconnu'
    END AS ministry_source,
    sponsor.ministries AS sponsor_ministries,
    owner.owner_ministry AS incubator_ministry,
    latest.current_phase,
    latest.current_phase_since,
    latest.first_phase_start,
    s.link
FROM s
LEFT JOIN owner USING (startup_id)
LEFT JOIN sponsor USING (startup_id)
LEFT JOIN latest USING (startup_id);

-- When each startup was on beta.gouv.fr/startups. Grain: one listing interval
-- (listed_to exclusive, NULL while listed). Before Vigie's first snapshot: the site's
-- main-line history (ref.startup_listing_intervals, several intervals per startup); from
-- it on, Vigie's own snapshots win: a snapshot lists what it holds until the next one.
-- Disagreements between the two are in mart.startup_listing_review, not resolved here.
-- grain: one row per listing interval of a startup
CREATE OR REPLACE VIEW int.startup_listing AS
WITH snaps AS (
    SELECT data_as_of::DATE AS snap_date, startups_sha256,
           lead(data_as_of::DATE) OVER (ORDER BY data_as_of, fetched_at) AS next_date
    FROM stg.betagouv__snapshots
    -- several snapshots of one day: the last one speaks for the day
    QUALIFY row_number() OVER (PARTITION BY data_as_of::DATE ORDER BY fetched_at DESC) = 1
), first_snap AS (
    SELECT min(snap_date) AS d FROM snaps
), hist AS (
    SELECT h.startup_id, h.listed_from,
           CASE WHEN f.d IS NULL THEN h.listed_to
                WHEN h.listed_to IS NULL OR h.listed_to > f.d THEN f.d
                ELSE h.listed_to END AS listed_to,
           'historique' AS basis
    FROM ref.startup_listing_intervals h, first_snap f
    WHERE f.d IS NULL OR h.listed_from < f.d
), snap AS (
    SELECT DISTINCT s.startup_id, sn.snap_date AS listed_from, sn.next_date AS listed_to, 'instantane' AS basis
    FROM snaps sn
    JOIN stg.betagouv__startup_history s ON s.payload_sha256 = sn.startups_sha256
)
SELECT * FROM hist
UNION ALL
SELECT * FROM snap;
