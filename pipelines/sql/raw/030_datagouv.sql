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
