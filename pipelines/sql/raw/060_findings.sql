CREATE TABLE IF NOT EXISTS findings.findings (
    finding_id     VARCHAR PRIMARY KEY,  -- stable: hash of rule + agreement + subject
    rule           VARCHAR NOT NULL,
    severity       VARCHAR NOT NULL,     -- critique | alerte | info
    agreement_id   VARCHAR,
    subject_type   VARCHAR NOT NULL,     -- commande | besoin | sollicitation | titulaire | lot | source
    subject        VARCHAR NOT NULL,
    numero_bc      VARCHAR,
    numero_besoin  VARCHAR,
    holder_id      VARCHAR,
    titulaire      VARCHAR,              -- canonical holder name
    acheteur       VARCHAR,
    startup        VARCHAR,
    amount_ht      DECIMAL(38, 2),       -- may be a sum (a lot's consumption): never overflows
    message        VARCHAR NOT NULL,     -- French, for analysts
    evidence       VARCHAR,              -- JSON: the values that triggered it
    source_file    VARCHAR,
    source_line    INTEGER,
    contact        VARCHAR,              -- whom to write to about it
    first_seen_at  TIMESTAMPTZ NOT NULL,
    first_seen_run VARCHAR,
    active         BOOLEAN NOT NULL,     -- still raised by the last check
    status         VARCHAR NOT NULL,     -- open | reviewed
    reviewed_by    VARCHAR,
    reviewed_at    TIMESTAMPTZ,
    review_reason  VARCHAR
);

CREATE TABLE IF NOT EXISTS findings.events (
    finding_id  VARCHAR NOT NULL,
    event_at    TIMESTAMPTZ NOT NULL,
    event       VARCHAR NOT NULL,        -- ouvert | disparu | reapparu | revu | modifie
    run_id      VARCHAR,
    detail      VARCHAR
);

-- When each finding was last seen: bookkeeping that advances with every check, kept apart
-- so that checking unchanged data leaves findings.findings identical.
CREATE TABLE IF NOT EXISTS meta.finding_sightings (
    finding_id    VARCHAR PRIMARY KEY,
    last_seen_at  TIMESTAMPTZ NOT NULL,
    last_seen_run VARCHAR
);
