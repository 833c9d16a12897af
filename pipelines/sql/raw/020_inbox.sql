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

CREATE TABLE IF NOT EXISTS raw.commandes (
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

CREATE TABLE IF NOT EXISTS raw.declarations (
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

CREATE TABLE IF NOT EXISTS raw.besoins (
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

CREATE TABLE IF NOT EXISTS raw.quarantine (
    file_sha256   VARCHAR NOT NULL,
    path          VARCHAR NOT NULL,
    line          INTEGER NOT NULL,
    kind          VARCHAR,
    reason_code   VARCHAR NOT NULL,
    reason        VARCHAR NOT NULL,     -- French sentence
    cells         VARCHAR               -- JSON of the row as written
);
