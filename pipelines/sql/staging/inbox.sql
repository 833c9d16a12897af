-- Staging of the order exports dropped in the inbox (raw.inbox_*): rename/cast only,
-- each row with the file it came from.

-- grain: one row per file seen (content x path)
CREATE OR REPLACE VIEW stg.inbox__files AS
SELECT
    content_sha256, path, seq, size_bytes, kind, status, reason,
    rows_read, rows_loaded, rows_quarantined, rows_skipped,
    header_line, sheet, encoding, separator, columns, duplicate_of, kept_at, run_id, processed_at
FROM raw.inbox_files;

-- grain: one row per order row loaded (file x seq x line)
CREATE OR REPLACE VIEW stg.inbox__orders AS
SELECT
    c.numero_bc, c.date_bc, c.acheteur, c.startup, c.titulaire,
    c.montant_ht, c.montant_ttc, c.accord_cadre, c.lot, c.objet, c.date_debut, c.date_fin,
    c.values_hash, c.seq, c.line, c.cells,
    f.path AS source_file, f.processed_at AS loaded_at
FROM raw.inbox_orders c
JOIN raw.inbox_files f ON f.content_sha256 = c.file_sha256 AND f.seq = c.seq;

-- grain: one row per declaration row loaded (file x seq x line)
CREATE OR REPLACE VIEW stg.inbox__declarations AS
SELECT
    d.numero_bc, d.date_bc, d.acheteur, d.startup, d.titulaire,
    d.montant_ht, d.montant_ttc, d.accord_cadre, d.lot, d.objet, d.date_debut, d.date_fin,
    d.date_information_dinum, d.values_hash, d.seq, d.line,
    f.path AS source_file, f.processed_at AS loaded_at
FROM raw.inbox_declarations d
JOIN raw.inbox_files f ON f.content_sha256 = d.file_sha256 AND f.seq = d.seq;

-- grain: one row per solicitation row loaded (file x seq x line)
CREATE OR REPLACE VIEW stg.inbox__needs AS
SELECT
    b.numero_besoin, b.date_besoin, b.acheteur, b.startup, b.titulaire, b.rang, b.reponse,
    b.date_reponse, b.motif, b.numero_bc, b.montant_estime_ht, b.accord_cadre, b.lot,
    b.values_hash, b.seq, b.line,
    f.path AS source_file, f.processed_at AS loaded_at
FROM raw.inbox_needs b
JOIN raw.inbox_files f ON f.content_sha256 = b.file_sha256 AND f.seq = b.seq;

-- grain: one row per inbox row put aside (file x line)
CREATE OR REPLACE VIEW stg.inbox__quarantine AS
SELECT q.path AS source_file, q.line, q.kind, q.reason_code, q.reason, q.cells, f.processed_at
FROM raw.inbox_quarantine q
JOIN raw.inbox_files f ON f.content_sha256 = q.file_sha256 AND f.path = q.path;

-- The raw entity values written in every inbox table: what resolution must explain.
-- grain: one row per loaded inbox row (kind x row), its three entity values
CREATE OR REPLACE VIEW stg.inbox__values AS
SELECT 'commandes' AS kind, startup, titulaire, acheteur FROM raw.inbox_orders
UNION ALL
SELECT 'declarations', startup, titulaire, acheteur FROM raw.inbox_declarations
UNION ALL
SELECT 'besoins', startup, titulaire, acheteur FROM raw.inbox_needs;
