"""Findings: stable identity, first and last seen, review, export.

`record` turns a rule evaluation into the findings table: a finding seen before is
updated (never duplicated); one no longer raised becomes inactive; one raised again
comes back with its history. Reviewed findings stay reviewed and alert no more.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

from pipelines.errors import UsageError, VigieError
from pipelines.warehouse import insert_rows

EXPORT_COLUMNS = [
    "finding_id", "rule", "severity", "agreement", "subject", "numero_bc", "numero_besoin", "titulaire",
    "acheteur", "startup", "message", "source_file", "source_line", "first_seen", "status",
]
TRACKED = ["severity", "message", "evidence", "titulaire", "acheteur", "startup", "amount_ht", "source_file",
           "source_line", "contact", "numero_bc", "numero_besoin", "holder_id"]
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def record(con, found: list[dict], run_id: str, now: datetime, rules: list[str] | None = None) -> dict:
    """Upsert the findings of one evaluation. Runs inside the caller's transaction.

    `rules`: when only these rules were evaluated (the others' inputs did not change), the
    findings of the other rules are kept as they are and counted as seen again."""
    existing = {r[0]: r[1:] for r in con.execute(
        "SELECT finding_id, active, status, severity, message, evidence, titulaire, acheteur, startup, amount_ht, "
        "source_file, source_line, contact, numero_bc, numero_besoin, holder_id FROM findings.findings "
        "WHERE $all OR list_contains($rules::VARCHAR[], rule)",
        {"all": rules is None, "rules": rules or []}).fetchall()}
    current = {f["finding_id"]: f for f in found}
    new, updated, back, gone, events = [], 0, 0, 0, []
    for fid, f in current.items():
        if fid not in existing:
            new.append(f)
            events.append([fid, now, "ouvert", run_id, f["severity"]])
            continue
        active, _status, *old = existing[fid]
        changes = {k: f.get(k) for k, o in zip(TRACKED, old, strict=True) if str(f.get(k)) != str(o)}
        if changes or not active:
            sets = ["active = TRUE", *(f"{key} = ?" for key in changes)]
            con.execute(f"UPDATE findings.findings SET {', '.join(sets)} WHERE finding_id = ?",  # noqa: S608 - column names are constants
                        [*changes.values(), fid])
        if not active:
            back += 1
            events.append([fid, now, "reapparu", run_id, None])
        elif changes:
            updated += 1
            if "severity" in changes:
                events.append([fid, now, "modifie", run_id, f"gravité : {changes['severity']}"])
    for fid, (active, *_rest) in existing.items():
        if active and fid not in current:
            gone += 1
            con.execute("UPDATE findings.findings SET active = FALSE WHERE finding_id = ?", [fid])
            events.append([fid, now, "disparu", run_id, None])
    insert_rows(con, "findings.findings", [{
        **{k: f.get(k) for k in ("finding_id", "rule", "severity", "agreement_id", "subject_type", "subject",
                                 "numero_bc", "numero_besoin", "holder_id", "titulaire", "acheteur", "startup",
                                 "amount_ht", "message", "evidence", "source_file", "source_line", "contact")},
        "first_seen_at": now, "first_seen_run": run_id, "active": True, "status": "open",
    } for f in new], [
        "finding_id", "rule", "severity", "agreement_id", "subject_type", "subject", "numero_bc", "numero_besoin",
        "holder_id", "titulaire", "acheteur", "startup", "amount_ht", "message", "evidence", "source_file",
        "source_line", "contact", "first_seen_at", "first_seen_run", "active", "status",
    ])
    insert_rows(con, "findings.events", events)
    con.execute("DELETE FROM meta.finding_sightings WHERE finding_id IN (SELECT unnest(?))", [list(current)])
    insert_rows(con, "meta.finding_sightings", [[fid, now, run_id] for fid in current])
    kept = 0
    if rules is not None:  # the rules not evaluated still raise what they raised
        kept = con.execute(
            "SELECT count(*) FROM findings.findings WHERE active AND NOT list_contains($rules, rule)",
            {"rules": rules}).fetchone()[0]
        con.execute(
            "UPDATE meta.finding_sightings SET last_seen_at = $now, last_seen_run = $run WHERE finding_id IN "
            "(SELECT finding_id FROM findings.findings WHERE active AND NOT list_contains($rules, rule))",
            {"now": now, "run": run_id, "rules": rules})
    return {"nouveaux": len(new), "modifies": updated, "reapparus": back, "disparus": gone,
            "actifs": len(current) + kept}


def review(con, finding_id: str, reason: str, by: str, now: datetime, run_id: str) -> dict:
    reason = (reason or "").strip()
    if not reason:
        raise UsageError("Donnez la raison de la revue avec --reason « … » : elle reste dans l'historique.")
    row = con.execute("SELECT status, rule, subject FROM findings.findings WHERE finding_id = ?",
                      [finding_id]).fetchone()
    if row is None:
        raise VigieError(f"Aucun constat « {finding_id} » : vérifiez l'identifiant avec « vigie findings ».", 2)
    con.execute(
        "UPDATE findings.findings SET status = 'reviewed', reviewed_by = ?, reviewed_at = ?, review_reason = ? "
        "WHERE finding_id = ?", [by, now, reason, finding_id])
    con.execute("INSERT INTO findings.events VALUES (?, ?, 'revu', ?, ?)", [finding_id, now, run_id, f"{by} : {reason}"])
    return {"finding_id": finding_id, "previous_status": row[0], "rule": row[1], "subject": row[2]}


def export_rows(con, rule: str | None = None) -> list[dict]:
    query = (
        "SELECT finding_id, rule, severity, agreement_id AS agreement, subject, numero_bc, numero_besoin, titulaire, "
        "acheteur, startup, message, source_file, source_line, first_seen_at AS first_seen, status "
        "FROM findings.findings WHERE active AND (? IS NULL OR rule = ?) "
        "ORDER BY CASE severity WHEN 'critique' THEN 0 WHEN 'alerte' THEN 1 ELSE 2 END, rule, first_seen_at, finding_id"
    )
    cursor = con.execute(query, [rule, rule])
    return [dict(zip([d[0] for d in cursor.description], r, strict=True)) for r in cursor.fetchall()]


def neutralise(value):
    """A cell a spreadsheet would evaluate (=, +, -, @) is prefixed with a quote."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def to_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: neutralise(_plain(r.get(k))) for k in EXPORT_COLUMNS})
    return out.getvalue()


def to_json(rows: list[dict]) -> str:
    return json.dumps([{k: _plain(r.get(k)) for k in EXPORT_COLUMNS} for r in rows], ensure_ascii=False, indent=2)


def _plain(value):
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return value
