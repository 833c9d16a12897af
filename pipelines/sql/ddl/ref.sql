-- Agreements and reference lists, loaded from the files in pipelines/agreements and
-- pipelines/reference (replaced wholesale when a file changes; no rule constant in code).
CREATE TABLE IF NOT EXISTS ref.files (
    path        VARCHAR PRIMARY KEY,
    sha256      VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL         -- agreement | reference
);

CREATE TABLE IF NOT EXISTS ref.agreements (
    agreement_id        VARCHAR PRIMARY KEY,
    codes               VARCHAR[],       -- how order files name it ('2021', '25_BAM_044', …)
    reference           VARCHAR,         -- official id (DECP idAccordCadre) when known
    title               VARCHAR NOT NULL,
    short_title         VARCHAR NOT NULL,
    family              VARCHAR,         -- beta | logiciels-libres | …
    buyer_body          VARCHAR,
    period_start        DATE,
    period_end          DATE,
    orders_end          DATE,            -- last day an order may be issued, if different
    period_note         VARCHAR,
    datagouv_slug       VARCHAR,
    datagouv_id         VARCHAR,
    vat_rate            DECIMAL(6, 4),
    amount_tolerance    DECIMAL(10, 2),
    startups_required   BOOLEAN,
    eligible_phases     VARCHAR[],
    critical_phases     VARCHAR[],
    exception_buyer     VARCHAR,         -- the body allowed to order for its own products
    refusal_responses   VARCHAR[],
    refusal_alert_at    INTEGER,
    refusal_critical_at INTEGER,
    tourniquet_mode     VARCHAR,         -- sequentiel | valeur | NULL
    plafond_alert_share DOUBLE,
    plafond_critical_share DOUBLE,
    dinum_information   BOOLEAN,
    file_path           VARCHAR,
    document            VARCHAR          -- the whole file as JSON
);

-- Every way a file names an agreement: pipelines.agreements.agreement_keys(), the one
-- definition, stored at each sync. Grain: agreement x origin x code.
CREATE TABLE IF NOT EXISTS ref.agreement_keys (
    agreement_id VARCHAR NOT NULL,
    origin       VARCHAR NOT NULL,       -- id | code | reference
    code         VARCHAR NOT NULL,       -- as the agreement file writes it
    code_key     VARCHAR NOT NULL        -- norm_key(code): what order files and DECP are compared with
);

CREATE TABLE IF NOT EXISTS ref.agreement_rules (
    agreement_id VARCHAR NOT NULL,
    rule         VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS ref.agreement_lots (
    agreement_id VARCHAR NOT NULL,
    lot          INTEGER NOT NULL,
    title        VARCHAR,
    execution    VARCHAR,                -- bons_de_commande | marches_subsequents
    estimated_ht DECIMAL(18, 2),
    maximum_ht   DECIMAL(18, 2)
);

CREATE TABLE IF NOT EXISTS ref.holders (
    agreement_id VARCHAR NOT NULL,
    holder_id    VARCHAR NOT NULL,
    name         VARCHAR NOT NULL,
    rank         INTEGER,                -- tourniquet order
    lot          INTEGER,
    form         VARCHAR,
    valid_from   DATE,
    valid_to     DATE,                   -- last day it was a holder
    merged_into  VARCHAR,
    contact_email VARCHAR,               -- whom to write to (mailing list preferred)
    contact_label VARCHAR,
    contacts     VARCHAR                 -- JSON
);

CREATE TABLE IF NOT EXISTS ref.holder_members (
    agreement_id VARCHAR NOT NULL,
    holder_id    VARCHAR NOT NULL,
    member_id    VARCHAR NOT NULL,
    name         VARCHAR NOT NULL,
    role         VARCHAR,
    siren        VARCHAR
);

CREATE TABLE IF NOT EXISTS ref.holder_spellings (
    agreement_id VARCHAR NOT NULL,
    holder_id    VARCHAR NOT NULL,
    member_id    VARCHAR,
    spelling     VARCHAR NOT NULL,
    spelling_key VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS ref.ministries (
    ministry     VARCHAR PRIMARY KEY,    -- beta.gouv.fr domaine_ministeriel code
    label        VARCHAR NOT NULL,
    short_label  VARCHAR
);

CREATE TABLE IF NOT EXISTS ref.bodies (
    body_id      VARCHAR PRIMARY KEY,
    name         VARCHAR NOT NULL,
    acronym      VARCHAR,
    ministry     VARCHAR,
    kind         VARCHAR NOT NULL,       -- ministere | service | organisme | autre
    siren        VARCHAR,
    origin       VARCHAR NOT NULL        -- reference | accord
);

CREATE TABLE IF NOT EXISTS ref.body_spellings (
    body_id      VARCHAR NOT NULL,
    spelling     VARCHAR NOT NULL,
    spelling_key VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS ref.beneficiaries (
    agreement_id VARCHAR NOT NULL,
    lot          INTEGER,                -- NULL: every lot
    label        VARCHAR NOT NULL,       -- as published
    scope        VARCHAR NOT NULL,       -- organisme | ministere | tous_ministeres
    body_id      VARCHAR,
    ministry     VARCHAR,
    condition    VARCHAR
);

CREATE TABLE IF NOT EXISTS ref.beneficiary_exclusions (
    agreement_id VARCHAR NOT NULL,
    body_id      VARCHAR,
    ministry     VARCHAR,
    reason       VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS ref.rules (
    rule         VARCHAR PRIMARY KEY,
    severity     VARCHAR NOT NULL,
    title        VARCHAR NOT NULL,
    subject_type VARCHAR NOT NULL,
    alerts_always BOOLEAN NOT NULL
);

CREATE TABLE IF NOT EXISTS ref.startup_listing_history (
    startup_id   VARCHAR NOT NULL,
    first_added  DATE,
    deleted      DATE,
    present_at_snapshot BOOLEAN
);

-- Catalogue v2: options of each agreement, defaults filled by the loader
-- (pipelines/agreements/__init__.py, OPTION_DEFAULTS). One row per agreement.
CREATE TABLE IF NOT EXISTS ref.agreement_options (
    agreement_id               VARCHAR PRIMARY KEY,
    listing_grace_days         INTEGER,          -- HORS_STARTUP: listed this soon after → alerte
    execution_after_end_months INTEGER,          -- EXECUTION_APRES_FIN (NULL: not checked)
    montant_atypique_ht        DECIMAL(18, 2),   -- MONTANT_ATYPIQUE: absolute ceiling
    atypical_median_factor     DOUBLE,           -- MONTANT_ATYPIQUE: × the agreement's median HT
    atypical_markers           VARCHAR[],        -- MONTANT_ATYPIQUE: words of a doubtful amount
    skip_after_working_days    INTEGER,          -- TOURNIQUET valeur: a silent holder may be skipped after
    dinum_information_due_day  INTEGER,          -- NON_DECLARE_DINUM: day of Jan/Jul a half-year is due
    exception_incubators       VARCHAR[],        -- the exception body's own products (their incubators)
    flag_before_first_phase    BOOLEAN,          -- PHASE_NON_ELIGIBLE: an order before the first phase
    refusal_placeholders       VARCHAR[]         -- REFUS_NON_JUSTIFIE: texts that justify nothing
);
-- Agreement inference for rows that name none: higher first among those fitting date and holder.
ALTER TABLE ref.agreement_options ADD COLUMN IF NOT EXISTS inference_priority INTEGER;

-- One row per lot: what the lot excludes or does not publish. Grain: agreement, lot.
CREATE TABLE IF NOT EXISTS ref.lot_options (
    agreement_id            VARCHAR NOT NULL,
    lot                     INTEGER NOT NULL,
    excluded_incubators     VARCHAR[],           -- HORS_PERIMETRE_LOT (« hors OPI »)
    rules_off               VARCHAR[],           -- agreement rules not evaluated on this lot
    beneficiaries_published BOOLEAN              -- false: ACHETEUR_NON_BENEFICIAIRE « non évaluable »
);

-- Bodies a wider beneficiary entry covers (« services et entités relevant du périmètre
-- budgétaire des services du Premier ministre »: ANSSI, SGDSN, SGG, DILA…).
CREATE TABLE IF NOT EXISTS ref.beneficiary_covers (
    agreement_id VARCHAR NOT NULL,
    lot          INTEGER,
    label        VARCHAR NOT NULL,
    body_id      VARCHAR NOT NULL
);

-- When each startup was published on beta.gouv.fr/startups, from the site's main-line
-- history (pipelines/reference/startup_listing_intervals.csv). Grain: one listing
-- interval; listed_to is exclusive, NULL when still listed.
CREATE TABLE IF NOT EXISTS ref.startup_listing_intervals (
    startup_id   VARCHAR NOT NULL,
    listed_from  DATE NOT NULL,
    listed_to    DATE
);
