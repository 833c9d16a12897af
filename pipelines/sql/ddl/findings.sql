-- Findings and what analysts decided about them (schema findings).
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

-- Analyst decisions, kept across runs (never recomputed).

-- How a name resolves, as an analyst said. Grain: one row per (kind, raw_key).
-- target NULL means « is none of them » (`vigie alias KIND RAW -`).
CREATE TABLE IF NOT EXISTS findings.aliases (
    kind        VARCHAR NOT NULL,      -- startup | titulaire | acheteur
    raw_key     VARCHAR NOT NULL,      -- norm_key(raw_value): how it matches
    raw_value   VARCHAR NOT NULL,      -- as the analyst typed it
    target      VARCHAR,               -- startup id, holder id or organisation id; NULL = none
    reason      VARCHAR NOT NULL,
    created_by  VARCHAR NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    applied_at  TIMESTAMPTZ,           -- first check that used it (NULL: not yet)
    PRIMARY KEY (kind, raw_key)
);

-- Every decision ever taken on a finding. Grain: one row per decision; the current one
-- is also on findings.findings (status, reviewed_by, reviewed_at, review_reason).
CREATE TABLE IF NOT EXISTS findings.reviews (
    finding_id  VARCHAR NOT NULL,
    decided_at  TIMESTAMPTZ NOT NULL,
    decided_by  VARCHAR,
    action      VARCHAR NOT NULL,      -- revu | rapprochement | rouvert
    reason      VARCHAR,
    run_id      VARCHAR
);
