-- Run history and source bookkeeping. Not business data: these advance on every run.
CREATE TABLE IF NOT EXISTS meta.runs (
    run_id      VARCHAR PRIMARY KEY,
    command     VARCHAR NOT NULL,
    args        VARCHAR,
    trigger     VARCHAR,          -- manuel | planifie | demo
    started_at  TIMESTAMPTZ NOT NULL,
    ended_at    TIMESTAMPTZ,
    status      VARCHAR NOT NULL, -- en_cours | succes | attention | echec | interrompue
    counts      VARCHAR,          -- JSON
    error       VARCHAR,          -- French, secrets redacted
    pid         INTEGER
);

CREATE TABLE IF NOT EXISTS meta.run_steps (
    run_id      VARCHAR NOT NULL,
    step        VARCHAR NOT NULL,
    started_at  TIMESTAMPTZ,
    ended_at    TIMESTAMPTZ,
    status      VARCHAR NOT NULL, -- ok | inchange | ignore | attention | echec | bloque
    counts      VARCHAR,          -- JSON
    message     VARCHAR
);

CREATE TABLE IF NOT EXISTS meta.source_state (
    source          VARCHAR PRIMARY KEY, -- betagouv | datagouv | orders
    last_attempt_at TIMESTAMPTZ,
    last_success_at TIMESTAMPTZ,
    data_as_of      TIMESTAMPTZ,         -- how old our knowledge is (capture date for files)
    last_change_at  TIMESTAMPTZ,
    last_status     VARCHAR,             -- ok | inchange | echec
    last_error      VARCHAR
);

CREATE TABLE IF NOT EXISTS meta.http_cache (
    url             VARCHAR PRIMARY KEY,
    etag            VARCHAR,
    last_modified   VARCHAR,
    content_sha256  VARCHAR,
    checked_at      TIMESTAMPTZ
);

-- Incremented by any ingest that changed data; validation and reports record it.
CREATE TABLE IF NOT EXISTS meta.data_versions (
    version     INTEGER PRIMARY KEY,
    run_id      VARCHAR,
    reason      VARCHAR,
    created_at  TIMESTAMPTZ
);

-- Derived tables (entity resolution) and the data version they were computed from.
CREATE TABLE IF NOT EXISTS meta.derived_state (
    name         VARCHAR PRIMARY KEY,
    data_version INTEGER NOT NULL
);
-- What else the derived result depends on (code, settings): a change forces a recompute.
ALTER TABLE meta.derived_state ADD COLUMN IF NOT EXISTS signature VARCHAR;

-- When each finding was last seen: bookkeeping that advances with every check, kept apart
-- so that checking unchanged data leaves findings.findings identical.
CREATE TABLE IF NOT EXISTS meta.finding_sightings (
    finding_id    VARCHAR PRIMARY KEY,
    last_seen_at  TIMESTAMPTZ NOT NULL,
    last_seen_run VARCHAR
);
