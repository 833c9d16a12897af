-- Staging of beta.gouv.fr (raw.betagouv_*): rename/cast only, one view per entity.
-- `__current` picks the snapshot the others keep; `__*_history` keep every snapshot.

-- Every snapshot, as ingested (ingested_seq: the highest is current).
-- grain: one row per snapshot
CREATE OR REPLACE VIEW stg.betagouv__snapshots AS
SELECT snapshot_id, fetched_at, data_as_of, mode, base_url, startups_sha256, organisations_sha256,
       incubators_sha256, startups_count, organisations_count, incubators_count, ingested_seq,
       api_version, coalesce(organisations_origin, 'organisations.json') AS organisations_origin
FROM raw.betagouv_snapshots;

-- Current = the last ingested (README « Horloge et rejeu »), not the latest fetched_at: a
-- replay with VIGIE_NOW in the past must not leave an older payload silently current.
-- grain: one row: the current snapshot
CREATE OR REPLACE VIEW stg.betagouv__current AS
SELECT snapshot_id, fetched_at, data_as_of, mode, startups_sha256, organisations_sha256, incubators_sha256,
       api_version, coalesce(organisations_origin, 'organisations.json') AS organisations_origin
FROM raw.betagouv_snapshots
ORDER BY ingested_seq DESC NULLS LAST, fetched_at DESC, snapshot_id
LIMIT 1;

-- Every startup of every startups payload (a startup removed from the list keeps its rows).
-- grain: one row per payload x startup
CREATE OR REPLACE VIEW stg.betagouv__startup_history AS
SELECT payload_sha256, startup_id, name, pitch, incubator_id, incubator_ids, sponsors, has_sponsors_key,
       link, repository, thematiques
FROM raw.betagouv_startups;

-- grain: one row per startup of the current snapshot
CREATE OR REPLACE VIEW stg.betagouv__startups AS
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
JOIN stg.betagouv__current c ON s.payload_sha256 = c.startups_sha256;

-- Every phase of every snapshot, names mapped.
-- grain: one row per payload x startup x position
CREATE OR REPLACE VIEW stg.betagouv__phase_history AS
SELECT
    p.payload_sha256,
    p.startup_id,
    p.position,
    phase_v2(p.phase) AS phase,
    p.phase AS phase_original,
    p.start_date,
    p.end_date
FROM raw.betagouv_startup_phases p;

-- grain: one row per startup x position of the current snapshot
CREATE OR REPLACE VIEW stg.betagouv__phases AS
SELECT
    p.startup_id,
    p.position,
    p.phase,
    p.start_date,
    p.end_date,
    p.phase_original
FROM stg.betagouv__phase_history p
JOIN stg.betagouv__current c ON p.payload_sha256 = c.startups_sha256;

-- grain: one row per organisation of the current snapshot
CREATE OR REPLACE VIEW stg.betagouv__organisations AS
SELECT
    o.organisation_id,
    o.name,
    o.acronym,
    nullif(o.domaine_ministeriel, '') AS domaine_ministeriel,
    o.type,
    coalesce(o.origin, 'organisations.json') AS origin  -- deduit:* when the API had no list
FROM raw.betagouv_organisations o
JOIN stg.betagouv__current c ON o.payload_sha256 = c.organisations_sha256;

-- incubators.json is complete (it has the hidden `sgmas`); startups.json's `included`
-- fills what it lacks.
-- grain: one row per incubator of the current snapshot
CREATE OR REPLACE VIEW stg.betagouv__incubators AS
WITH from_file AS (
    SELECT i.* FROM raw.betagouv_incubators i
    JOIN stg.betagouv__current c ON i.payload_sha256 = c.incubators_sha256
    WHERE i.origin = 'incubators.json'
), from_included AS (
    SELECT i.* FROM raw.betagouv_incubators i
    JOIN stg.betagouv__current c ON i.payload_sha256 = c.startups_sha256
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

-- Phases of the current snapshot put aside, with their reason.
-- grain: one row per startup x position put aside in the current snapshot
CREATE OR REPLACE VIEW stg.betagouv__quarantine AS
SELECT q.startup_id, q.position, q.phase, q.field, q.value, q.reason
FROM raw.betagouv_quarantine q
JOIN stg.betagouv__current c ON q.payload_sha256 = c.startups_sha256;
