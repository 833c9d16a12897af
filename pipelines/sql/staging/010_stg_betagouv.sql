-- beta.gouv.fr, current snapshot only: rename/cast, nothing derived.
-- Current = the last ingested (README « Horloge et rejeu »), not the latest fetched_at: a
-- replay with VIGIE_NOW in the past must not leave an older payload silently current.
CREATE OR REPLACE VIEW stg.betagouv_current AS
SELECT snapshot_id, fetched_at, data_as_of, mode, startups_sha256, organisations_sha256, incubators_sha256,
       api_version, coalesce(organisations_origin, 'organisations.json') AS organisations_origin
FROM raw.betagouv_snapshots
ORDER BY ingested_seq DESC NULLS LAST, fetched_at DESC, snapshot_id
LIMIT 1;

CREATE OR REPLACE VIEW stg.betagouv_startups AS
SELECT
    s.startup_id,
    s.name,
    s.pitch,
    s.incubator_id,
    s.incubator_ids,
    s.sponsors,
    s.has_sponsors_key,
    s.link,
    s.repository,
    s.thematiques
FROM raw.betagouv_startups s
JOIN stg.betagouv_current c ON s.payload_sha256 = c.startups_sha256;

-- Phase names beta.gouv.fr used until 2026-05-11, mapped to today's (RULES.md v2):
-- never rejected, the name as published kept in phase_original.
CREATE OR REPLACE MACRO phase_v2(p) AS
    CASE p WHEN 'alumni' THEN 'abandon' WHEN 'success' THEN 'opere' WHEN 'transfer' THEN 'transfere' ELSE p END;

-- Every phase of every snapshot, names mapped (grain: payload, startup, position).
CREATE OR REPLACE VIEW stg.betagouv_phase_history AS
SELECT
    p.payload_sha256,
    p.startup_id,
    p.position,
    phase_v2(p.phase) AS phase,
    p.phase AS phase_original,
    p.start_date,
    p.end_date
FROM raw.betagouv_startup_phases p;

CREATE OR REPLACE VIEW stg.betagouv_phases AS
SELECT
    p.startup_id,
    p.position,
    p.phase,
    p.start_date,
    p.end_date,
    p.phase_original
FROM stg.betagouv_phase_history p
JOIN stg.betagouv_current c ON p.payload_sha256 = c.startups_sha256;

CREATE OR REPLACE VIEW stg.betagouv_organisations AS
SELECT
    o.organisation_id,
    o.name,
    o.acronym,
    nullif(o.domaine_ministeriel, '') AS domaine_ministeriel,
    o.type,
    coalesce(o.origin, 'organisations.json') AS origin  -- deduit:* when the API had no list
FROM raw.betagouv_organisations o
JOIN stg.betagouv_current c ON o.payload_sha256 = c.organisations_sha256;

-- incubators.json is complete (it has the hidden `sgmas`); startups.json's `included`
-- fills what it lacks.
CREATE OR REPLACE VIEW stg.betagouv_incubators AS
WITH from_file AS (
    SELECT i.* FROM raw.betagouv_incubators i
    JOIN stg.betagouv_current c ON i.payload_sha256 = c.incubators_sha256
    WHERE i.origin = 'incubators.json'
), from_included AS (
    SELECT i.* FROM raw.betagouv_incubators i
    JOIN stg.betagouv_current c ON i.payload_sha256 = c.startups_sha256
    WHERE i.origin = 'startups.included'
)
SELECT
    -- ids stored before v2.5's "/incubators/" prefix was stripped at parse time
    regexp_replace(coalesce(f.incubator_id, n.incubator_id), '^/incubators/', '') AS incubator_id,
    coalesce(f.title, n.title) AS title,
    coalesce(nullif(f.owner_id, ''), nullif(n.owner_id, '')) AS owner_id,
    coalesce(f.website, n.website) AS website,
    f.incubator_id IS NULL AS only_in_included,
    n.incubator_id IS NULL AS hidden
FROM from_file f
FULL OUTER JOIN from_included n
    ON regexp_replace(f.incubator_id, '^/incubators/', '') = regexp_replace(n.incubator_id, '^/incubators/', '');

-- Phases of the current snapshot put aside, with their reason (grain: startup x position).
CREATE OR REPLACE VIEW stg.betagouv_quarantine AS
SELECT q.startup_id, q.position, q.phase, q.field, q.value, q.reason
FROM raw.betagouv_quarantine q
JOIN stg.betagouv_current c ON q.payload_sha256 = c.startups_sha256;
