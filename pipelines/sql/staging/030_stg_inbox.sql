-- Inbox rows with the file they came from (rename/cast only).
CREATE OR REPLACE VIEW stg.inbox_files AS
SELECT
    content_sha256, path, seq, size_bytes, kind, status, reason,
    rows_read, rows_loaded, rows_quarantined, rows_skipped,
    header_line, sheet, encoding, separator, columns, duplicate_of, kept_at, run_id, processed_at
FROM raw.inbox_files;

CREATE OR REPLACE VIEW stg.commandes AS
SELECT
    c.numero_bc, c.date_bc, c.acheteur, c.startup, c.titulaire,
    c.montant_ht, c.montant_ttc, c.accord_cadre, c.lot, c.objet, c.date_debut, c.date_fin,
    c.values_hash, c.seq, c.line, c.cells,
    f.path AS source_file, f.processed_at AS loaded_at
FROM raw.commandes c
JOIN raw.inbox_files f ON f.content_sha256 = c.file_sha256 AND f.seq = c.seq;

CREATE OR REPLACE VIEW stg.declarations AS
SELECT
    d.numero_bc, d.date_bc, d.acheteur, d.startup, d.titulaire,
    d.montant_ht, d.montant_ttc, d.accord_cadre, d.lot, d.objet, d.date_debut, d.date_fin,
    d.date_information_dinum, d.values_hash, d.seq, d.line,
    f.path AS source_file, f.processed_at AS loaded_at
FROM raw.declarations d
JOIN raw.inbox_files f ON f.content_sha256 = d.file_sha256 AND f.seq = d.seq;

CREATE OR REPLACE VIEW stg.besoins AS
SELECT
    b.numero_besoin, b.date_besoin, b.acheteur, b.startup, b.titulaire, b.rang, b.reponse,
    b.date_reponse, b.motif, b.numero_bc, b.montant_estime_ht, b.accord_cadre, b.lot,
    b.values_hash, b.seq, b.line,
    f.path AS source_file, f.processed_at AS loaded_at
FROM raw.besoins b
JOIN raw.inbox_files f ON f.content_sha256 = b.file_sha256 AND f.seq = b.seq;

CREATE OR REPLACE VIEW stg.quarantine AS
SELECT q.path AS source_file, q.line, q.kind, q.reason_code, q.reason, q.cells, f.processed_at
FROM raw.quarantine q
JOIN raw.inbox_files f ON f.content_sha256 = q.file_sha256 AND f.path = q.path;
