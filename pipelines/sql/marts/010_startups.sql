-- Startups d'État of the current snapshot, with their ministry: the incubator owner's
-- domaine_ministeriel, else the sponsors' (ministry_source says which was used).
-- Phases of every startup Vigie has seen, from the latest snapshot that listed it (a
-- startup removed from the list keeps the phases it last had).
CREATE OR REPLACE VIEW mart.startup_phases AS
WITH latest AS (
    SELECT s.startup_id, arg_max(s.payload_sha256, sn.fetched_at) AS payload_sha256
    FROM raw.betagouv_startups s
    JOIN raw.betagouv_snapshots sn ON sn.startups_sha256 = s.payload_sha256
    GROUP BY s.startup_id
), ordered AS (
    SELECT
        p.startup_id, p.phase, p.start_date, p.end_date, p.position,
        row_number() OVER (PARTITION BY p.startup_id ORDER BY p.start_date, phase_rank(p.phase), p.position) AS seq
    FROM raw.betagouv_startup_phases p
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

CREATE OR REPLACE VIEW mart.startups AS
WITH s AS (
    SELECT * FROM stg.betagouv_startups
), owner AS (
    SELECT s.startup_id, i.title AS incubator_title, i.owner_id AS incubator_owner,
           o.domaine_ministeriel AS owner_ministry
    FROM s
    LEFT JOIN stg.betagouv_incubators i ON i.incubator_id = s.incubator_id
    LEFT JOIN stg.betagouv_organisations o ON o.organisation_id = i.owner_id
), sponsor AS (
    SELECT s.startup_id,
           list(o.domaine_ministeriel ORDER BY t.i) FILTER (WHERE o.domaine_ministeriel IS NOT NULL) AS ministries
    FROM s, range(len(s.sponsors)) t(i)
    LEFT JOIN stg.betagouv_organisations o ON o.organisation_id = s.sponsors[t.i + 1]
    GROUP BY s.startup_id
), latest AS (
    SELECT startup_id,
           arg_max(phase, seq) AS current_phase,
           max(valid_from) AS current_phase_since,
           min(valid_from) AS first_phase_start
    FROM mart.startup_phases
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
    coalesce(owner.owner_ministry, sponsor.ministries[1]) AS ministry,
    CASE
        WHEN owner.owner_ministry IS NOT NULL THEN 'incubateur'
        WHEN sponsor.ministries[1] IS NOT NULL THEN 'sponsors'
        ELSE 'inconnu'
    END AS ministry_source,
    sponsor.ministries AS sponsor_ministries,
    latest.current_phase,
    latest.current_phase_since,
    latest.first_phase_start,
    s.link
FROM s
LEFT JOIN owner USING (startup_id)
LEFT JOIN sponsor USING (startup_id)
LEFT JOIN latest USING (startup_id);

-- When each startup was on the list: the site repository's history before Vigie's own
-- snapshots, then the snapshots. A startup missing from the current snapshot left the
-- list on the date of the first snapshot that no longer had it.
CREATE OR REPLACE VIEW mart.startup_listing AS
WITH seen AS (
    SELECT s.startup_id, min(sn.data_as_of) AS first_seen, max(sn.data_as_of) AS last_seen
    FROM raw.betagouv_startups s
    JOIN raw.betagouv_snapshots sn ON sn.startups_sha256 = s.payload_sha256
    GROUP BY s.startup_id
), removed AS (
    SELECT seen.startup_id,
           (SELECT min(sn.data_as_of) FROM raw.betagouv_snapshots sn WHERE sn.data_as_of > seen.last_seen)::DATE
               AS removed_on
    FROM seen
    WHERE seen.startup_id NOT IN (SELECT startup_id FROM stg.betagouv_startups)
), hist AS (
    SELECT h.startup_id, h.first_added AS listed_from, coalesce(h.deleted, r.removed_on) AS listed_to,
           'historique' AS basis
    FROM ref.startup_listing_history h
    LEFT JOIN removed r USING (startup_id)
    WHERE h.first_added IS NOT NULL
)
SELECT * FROM hist
UNION ALL
SELECT seen.startup_id, seen.first_seen::DATE, r.removed_on, 'instantane'
FROM seen
LEFT JOIN removed r USING (startup_id)
WHERE seen.startup_id NOT IN (SELECT startup_id FROM hist);
