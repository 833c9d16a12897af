CREATE TABLE IF NOT EXISTS validation.results (
    run_id            VARCHAR NOT NULL,
    validated_at      TIMESTAMPTZ NOT NULL,
    data_version      INTEGER,
    suite             VARCHAR NOT NULL,
    expectation_type  VARCHAR NOT NULL,
    column_name       VARCHAR,
    kwargs            VARCHAR,           -- JSON
    blocking          BOOLEAN NOT NULL,
    success           BOOLEAN NOT NULL,
    element_count     BIGINT,
    unexpected_count  BIGINT,
    unexpected_sample VARCHAR,           -- JSON, at most 20 values
    notes             VARCHAR            -- French: what the expectation protects
);
