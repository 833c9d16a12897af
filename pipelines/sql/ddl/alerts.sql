CREATE TABLE IF NOT EXISTS alerts.deliveries (
    finding_id      VARCHAR NOT NULL,
    channel         VARCHAR NOT NULL,    -- email | webhook | outbox
    status          VARCHAR NOT NULL,    -- en_attente | envoye | echec
    attempts        INTEGER NOT NULL,
    queued_at       TIMESTAMPTZ NOT NULL,
    last_attempt_at TIMESTAMPTZ,
    sent_at         TIMESTAMPTZ,
    digest_id       VARCHAR,
    last_error      VARCHAR,             -- redacted
    PRIMARY KEY (finding_id, channel)
);

CREATE TABLE IF NOT EXISTS alerts.digests (
    digest_id       VARCHAR PRIMARY KEY,
    channel         VARCHAR NOT NULL,
    target          VARCHAR,             -- redacted address or URL
    created_at      TIMESTAMPTZ NOT NULL,
    status          VARCHAR NOT NULL,    -- envoye | echec
    findings_count  INTEGER NOT NULL,
    subject         VARCHAR,
    error           VARCHAR
);
