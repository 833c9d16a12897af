-- Derived facts computed in Python (entity resolution). Recomputed after every ingest;
-- deterministic, so the same inputs give the same rows.
CREATE TABLE IF NOT EXISTS core.startup_resolution (
    raw_value    VARCHAR NOT NULL,
    startup_id   VARCHAR,
    method       VARCHAR NOT NULL,   -- id | nom | nom_normalise | approchant | ambigu | aucun
    confidence   DOUBLE NOT NULL,
    candidates   VARCHAR             -- JSON list of {id, name, score}
);

CREATE TABLE IF NOT EXISTS core.holder_resolution (
    agreement_id VARCHAR NOT NULL,
    raw_value    VARCHAR NOT NULL,
    holder_id    VARCHAR,
    member_id    VARCHAR,
    method       VARCHAR NOT NULL,   -- exact | composite | approchant | ambigu | aucun
    confidence   DOUBLE NOT NULL,
    candidates   VARCHAR
);

CREATE TABLE IF NOT EXISTS core.buyer_resolution (
    raw_value    VARCHAR NOT NULL,
    body_id      VARCHAR,
    body_name    VARCHAR,
    body_kind    VARCHAR,
    ministry     VARCHAR,
    method       VARCHAR NOT NULL,   -- exact | sigle | approchant | ambigu | aucun
    confidence   DOUBLE NOT NULL,
    candidates   VARCHAR
);

CREATE TABLE IF NOT EXISTS core.resolution_review (
    kind         VARCHAR NOT NULL,   -- startup | titulaire | acheteur
    agreement_id VARCHAR,
    raw_value    VARCHAR NOT NULL,
    reason       VARCHAR NOT NULL,   -- French
    candidates   VARCHAR,
    occurrences  INTEGER
);
