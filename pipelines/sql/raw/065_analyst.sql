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
