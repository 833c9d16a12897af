-- Data as received, one table family per source (schema raw): betagouv_*, inbox_*,
-- datagouv_*, decp_*. Loaders write here; only staging views (sql/staging) read it.

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

-- Order exports dropped in the inbox. One row per (content, path) seen; the accounting
-- invariant rows_read = rows_loaded + rows_quarantined holds for every file.
CREATE TABLE IF NOT EXISTS raw.inbox_files (
    content_sha256   VARCHAR NOT NULL,
    path             VARCHAR NOT NULL,   -- relative to the inbox
    seq              BIGINT NOT NULL,    -- processing order (latest version wins)
    size_bytes       BIGINT,
    kind             VARCHAR,            -- commandes | declarations | besoins | NULL
    status           VARCHAR NOT NULL,   -- charge | rejete | doublon
    reason           VARCHAR,            -- French, for rejete / doublon
    rows_read        INTEGER NOT NULL,
    rows_loaded      INTEGER NOT NULL,
    rows_quarantined INTEGER NOT NULL,
    rows_skipped     INTEGER NOT NULL,   -- total and blank lines: not orders, counted apart
    header_line      INTEGER,
    sheet            VARCHAR,
    encoding         VARCHAR,
    separator        VARCHAR,
    columns          VARCHAR,            -- JSON: header as written -> canonical name
    duplicate_of     VARCHAR,            -- path of the file with the same content
    kept_at          VARCHAR,            -- copy of a rejected file, beside the warehouse
    run_id           VARCHAR,
    processed_at     TIMESTAMPTZ,
    PRIMARY KEY (content_sha256, path),
    CHECK (rows_read = rows_loaded + rows_quarantined)
);

CREATE TABLE IF NOT EXISTS raw.inbox_orders (
    file_sha256   VARCHAR NOT NULL,
    seq           BIGINT NOT NULL,
    line          INTEGER NOT NULL,     -- line (CSV) or row (sheet) number in the file
    numero_bc     VARCHAR NOT NULL,
    date_bc       DATE NOT NULL,
    acheteur      VARCHAR NOT NULL,
    startup       VARCHAR NOT NULL,
    titulaire     VARCHAR NOT NULL,
    montant_ht    DECIMAL(18, 2) NOT NULL,
    montant_ttc   DECIMAL(18, 2),
    accord_cadre  VARCHAR,
    lot           INTEGER,
    objet         VARCHAR,
    date_debut    DATE,
    date_fin      DATE,
    values_hash   VARCHAR NOT NULL,     -- tells a corrected version from a repeat
    cells         VARCHAR,              -- JSON of every cell as written, unknown columns too
    warnings      VARCHAR
);

CREATE TABLE IF NOT EXISTS raw.inbox_declarations (
    file_sha256   VARCHAR NOT NULL,
    seq           BIGINT NOT NULL,
    line          INTEGER NOT NULL,
    numero_bc     VARCHAR NOT NULL,
    date_bc       DATE NOT NULL,
    acheteur      VARCHAR NOT NULL,
    startup       VARCHAR NOT NULL,
    titulaire     VARCHAR NOT NULL,
    montant_ht    DECIMAL(18, 2) NOT NULL,
    montant_ttc   DECIMAL(18, 2),
    accord_cadre  VARCHAR,
    lot           INTEGER,
    objet         VARCHAR,
    date_debut    DATE,
    date_fin      DATE,
    date_information_dinum DATE,
    values_hash   VARCHAR NOT NULL,
    cells         VARCHAR,
    warnings      VARCHAR
);

CREATE TABLE IF NOT EXISTS raw.inbox_needs (
    file_sha256   VARCHAR NOT NULL,
    seq           BIGINT NOT NULL,
    line          INTEGER NOT NULL,
    numero_besoin VARCHAR NOT NULL,
    date_besoin   DATE NOT NULL,
    acheteur      VARCHAR NOT NULL,
    startup       VARCHAR NOT NULL,
    titulaire     VARCHAR NOT NULL,
    rang          INTEGER NOT NULL,
    reponse       VARCHAR NOT NULL,     -- accepte | refus | desistement | sans_reponse | droit_de_suite
    date_reponse  DATE,
    motif         VARCHAR,
    numero_bc     VARCHAR,
    montant_estime_ht DECIMAL(18, 2),
    accord_cadre  VARCHAR,
    lot           INTEGER,
    values_hash   VARCHAR NOT NULL,
    cells         VARCHAR,
    warnings      VARCHAR
);

CREATE TABLE IF NOT EXISTS raw.inbox_quarantine (
    file_sha256   VARCHAR NOT NULL,
    path          VARCHAR NOT NULL,
    line          INTEGER NOT NULL,
    kind          VARCHAR,
    reason_code   VARCHAR NOT NULL,
    reason        VARCHAR NOT NULL,     -- French sentence
    cells         VARCHAR               -- JSON of the row as written
);

-- data.gouv.fr: dataset metadata and resource lists as received, and the DECP
-- contracts that concern the agreements (only the filtered rows are kept).
CREATE TABLE IF NOT EXISTS raw.datagouv_datasets (
    config_key      VARCHAR NOT NULL,  -- agreement id, or 'decp'
    dataset_id      VARCHAR NOT NULL,
    slug            VARCHAR,
    title           VARCHAR,
    organization    VARCHAR,
    last_modified   TIMESTAMPTZ,
    payload_sha256  VARCHAR NOT NULL,
    fetched_at      TIMESTAMPTZ NOT NULL,
    payload         VARCHAR NOT NULL,
    PRIMARY KEY (config_key, payload_sha256)
);

CREATE TABLE IF NOT EXISTS raw.datagouv_resources (
    dataset_id      VARCHAR NOT NULL,
    payload_sha256  VARCHAR NOT NULL,
    resource_id     VARCHAR NOT NULL,
    title           VARCHAR,
    format          VARCHAR,
    type            VARCHAR,
    url             VARCHAR,
    filesize        BIGINT,
    mime            VARCHAR,
    last_modified   TIMESTAMPTZ,
    checksum_type   VARCHAR,
    checksum_value  VARCHAR
);

CREATE TABLE IF NOT EXISTS raw.decp_loads (
    resource_id     VARCHAR NOT NULL,
    url             VARCHAR,
    format          VARCHAR,
    checksum_type   VARCHAR,
    checksum_value  VARCHAR,
    filesize        BIGINT,
    last_modified   TIMESTAMPTZ,
    loaded_at       TIMESTAMPTZ NOT NULL,
    rows_kept       BIGINT,
    filter_sha256   VARCHAR          -- hash of the filter (agreement ids, SIRETs, names)
);

-- DECP tabular columns exactly as published (pipelines/reference/decp_schema.json);
-- identifiers kept as text so that SIRETs keep their leading zeros.
CREATE TABLE IF NOT EXISTS raw.decp_contracts (
    "uid" VARCHAR,
    "id" VARCHAR,
    "nature" VARCHAR,
    "acheteur_id" VARCHAR,
    "acheteur_nom" VARCHAR,
    "titulaire_id" VARCHAR,
    "titulaire_typeIdentifiant" VARCHAR,
    "titulaire_nom" VARCHAR,
    "objet" VARCHAR,
    "montant" DOUBLE,
    "type" VARCHAR,
    "codeCPV" VARCHAR,
    "procedure" VARCHAR,
    "techniques" VARCHAR,
    "dureeMois" BIGINT,
    "dureeRestanteMois" DOUBLE,
    "offresRecues" BIGINT,
    "dateNotification" DATE,
    "datePublicationDonnees" DATE,
    "formePrix" VARCHAR,
    "typesPrix" VARCHAR,
    "attributionAvance" BOOLEAN,
    "tauxAvance" DOUBLE,
    "marcheInnovant" BOOLEAN,
    "modalitesExecution" VARCHAR,
    "considerationsSociales" VARCHAR,
    "considerationsEnvironnementales" VARCHAR,
    "ccag" VARCHAR,
    "sousTraitanceDeclaree" BOOLEAN,
    "typeGroupementOperateurs" VARCHAR,
    "origineUE" DOUBLE,
    "origineFrance" DOUBLE,
    "lieuExecution_code" VARCHAR,
    "lieuExecution_typeCode" VARCHAR,
    "idAccordCadre" VARCHAR,
    "titulaire_distance" BIGINT,
    "acheteur_categorie" VARCHAR,
    "acheteur_commune_code" VARCHAR,
    "acheteur_commune_nom" VARCHAR,
    "acheteur_departement_code" VARCHAR,
    "acheteur_departement_nom" VARCHAR,
    "acheteur_region_code" VARCHAR,
    "acheteur_region_nom" VARCHAR,
    "acheteur_latitude" DOUBLE,
    "acheteur_longitude" DOUBLE,
    "titulaire_categorie" VARCHAR,
    "titulaire_commune_code" VARCHAR,
    "titulaire_commune_nom" VARCHAR,
    "titulaire_departement_code" VARCHAR,
    "titulaire_departement_nom" VARCHAR,
    "titulaire_region_code" VARCHAR,
    "titulaire_region_nom" VARCHAR,
    "titulaire_latitude" DOUBLE,
    "titulaire_longitude" DOUBLE,
    "modification_id" BIGINT,
    "donneesActuelles" BOOLEAN,
    "sourceDataset" VARCHAR,
    "sourceFile" VARCHAR,
    "vigie_resource_id" VARCHAR,
    "vigie_checksum" VARCHAR,
    "vigie_match" VARCHAR      -- why the row was kept: accord_cadre | titulaire_beneficiaire
);

-- What each DECP load read (columns added after the first release).
ALTER TABLE raw.decp_loads ADD COLUMN IF NOT EXISTS resource_title VARCHAR;
ALTER TABLE raw.decp_loads ADD COLUMN IF NOT EXISTS rows_read BIGINT;  -- rows in the file; dropped = read - kept

-- What a DECP load could not read, counted over the whole file. Grain: load x column x
-- problem. problem: conversion (the value does not cast to the column's type: loaded as
-- NULL) | date_impossible (before 2000 or after next year: loaded as NULL) | mojibake
-- (UTF-8 read as Latin-1 upstream: kept as is). example: one such value, as published.
CREATE TABLE IF NOT EXISTS raw.decp_load_quality (
    loaded_at       TIMESTAMPTZ NOT NULL,
    resource_id     VARCHAR NOT NULL,
    resource_title  VARCHAR,
    column_name     VARCHAR NOT NULL,
    problem         VARCHAR NOT NULL,
    values_count    BIGINT NOT NULL,
    example         VARCHAR
);
