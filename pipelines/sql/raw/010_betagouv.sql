-- beta.gouv.fr API, as received. A payload is stored once per content hash; a snapshot
-- is the set (startups, organisations, incubators) seen together at one fetch.
CREATE TABLE IF NOT EXISTS raw.betagouv_payloads (
    content_sha256  VARCHAR PRIMARY KEY,
    endpoint        VARCHAR NOT NULL,  -- startups | organisations | incubators
    url             VARCHAR NOT NULL,
    api_version     VARCHAR,           -- v2.5 | v2.6 | v2.7 (shape detected)
    fetched_at      TIMESTAMPTZ NOT NULL,
    etag            VARCHAR,
    last_modified   VARCHAR,
    size_bytes      BIGINT,
    body            VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS raw.betagouv_snapshots (
    snapshot_id          VARCHAR PRIMARY KEY, -- hash of the three payload hashes
    fetched_at           TIMESTAMPTZ NOT NULL,
    data_as_of           TIMESTAMPTZ NOT NULL,
    mode                 VARCHAR NOT NULL,    -- http | fichier
    base_url             VARCHAR,
    startups_sha256      VARCHAR NOT NULL,
    organisations_sha256 VARCHAR NOT NULL,
    incubators_sha256    VARCHAR NOT NULL,
    startups_count       INTEGER,
    organisations_count  INTEGER,
    incubators_count     INTEGER,
    ingested_seq         BIGINT               -- 1, 2, 3... in ingestion order: the highest is current
);
-- Warehouses created before ingested_seq: their snapshots keep NULL and rank first-ingested.
ALTER TABLE raw.betagouv_snapshots ADD COLUMN IF NOT EXISTS ingested_seq BIGINT;

-- Parsed rows, keyed by the payload they come from. HTML entities unescaped; the
-- startups' personal contacts are not kept.
CREATE TABLE IF NOT EXISTS raw.betagouv_startups (
    payload_sha256  VARCHAR NOT NULL,
    startup_id      VARCHAR NOT NULL,
    name            VARCHAR,
    pitch           VARCHAR,
    incubator_id    VARCHAR,
    incubator_ids   VARCHAR[],
    sponsors        VARCHAR[],
    has_sponsors_key BOOLEAN,
    link            VARCHAR,
    repository      VARCHAR,
    thematiques     VARCHAR[]
);

CREATE TABLE IF NOT EXISTS raw.betagouv_startup_phases (
    payload_sha256  VARCHAR NOT NULL,
    startup_id      VARCHAR NOT NULL,
    position        INTEGER NOT NULL,  -- order as listed (not always by date)
    phase           VARCHAR NOT NULL,
    start_date      DATE,
    end_date        DATE
);

CREATE TABLE IF NOT EXISTS raw.betagouv_organisations (
    payload_sha256      VARCHAR NOT NULL,
    organisation_id     VARCHAR NOT NULL,
    name                VARCHAR,
    acronym             VARCHAR,
    domaine_ministeriel VARCHAR,
    type                VARCHAR
);

CREATE TABLE IF NOT EXISTS raw.betagouv_incubators (
    payload_sha256  VARCHAR NOT NULL,
    origin          VARCHAR NOT NULL,  -- incubators.json | startups.included
    incubator_id    VARCHAR NOT NULL,
    title           VARCHAR,
    owner_id        VARCHAR,           -- organisation id, '/organisations/' stripped
    website         VARCHAR,
    startup_ids     VARCHAR[]
);

-- Columns added after the first release (an existing warehouse gets them on open).
ALTER TABLE raw.betagouv_snapshots ADD COLUMN IF NOT EXISTS api_version VARCHAR;          -- shape of startups.json
ALTER TABLE raw.betagouv_snapshots ADD COLUMN IF NOT EXISTS organisations_origin VARCHAR; -- organisations.json | deduit
-- organisations.json | deduit:incubateurs | deduit:sponsors (v2.5 had no organisations.json)
ALTER TABLE raw.betagouv_organisations ADD COLUMN IF NOT EXISTS origin VARCHAR;

-- Phases put aside at parse time, one row per phase, with the reason (a date that cannot
-- be real, such as the real typo 2120-06-01). Grain: payload x startup x position.
CREATE TABLE IF NOT EXISTS raw.betagouv_quarantine (
    payload_sha256  VARCHAR NOT NULL,
    startup_id      VARCHAR NOT NULL,
    position        INTEGER NOT NULL,
    phase           VARCHAR,
    field           VARCHAR NOT NULL,  -- e.g. phases[0].start
    value           VARCHAR,
    reason          VARCHAR NOT NULL   -- French, shown as is
);
