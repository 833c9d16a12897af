"""Findings: stable identity, first and last seen, review, export.

`record` turns a rule evaluation into the findings table: a finding seen before is
updated (never duplicated); one no longer raised becomes inactive; one raised again
comes back with its history. Reviewed findings stay reviewed and alert no more.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, datetime
from decimal import Decimal

from pipelines.errors import UsageError, VigieError
from pipelines.warehouse import insert_rows

EXPORT_COLUMNS = [
    "finding_id", "rule", "severity", "agreement", "subject", "numero_bc", "numero_besoin", "titulaire",
    "acheteur", "startup", "message", "source_file", "source_line", "first_seen", "status",
    "montant_ht", "date_bc", "reviewed_at", "reviewed_by", "review_reason",
]
# A reviewed finding re-opens when one of these changes: what was reviewed is no longer what is there.
EVIDENCE = ("amount_ht", "startup", "titulaire", "acheteur", "holder_id")
TRACKED = ["severity", "message", "evidence", "titulaire", "acheteur", "startup", "amount_ht", "source_file",
           "source_line", "contact", "numero_bc", "numero_besoin", "holder_id"]
# A spreadsheet evaluates a cell starting with one of these; a reader splitting on `,` or `;`
# (the French default) also starts a cell after each separator.
_FORMULA = re.compile(r"(^|[,;\t\r\n])([\s\"]*)(?=[=+\-@\uff1d\uff0b\uff0d\uff20])")
_NEUTRALISED = re.compile(r"(^|[,;\t\r\n])([\s\"]*)'(?=[=+\-@\uff1d\uff0b\uff0d\uff20])")


NEW_COLUMNS = [
    "finding_id", "rule", "severity", "agreement_id", "subject_type", "subject", "numero_bc", "numero_besoin",
    "holder_id", "titulaire", "acheteur", "startup", "amount_ht", "message", "evidence", "source_file",
    "source_line", "contact", "first_seen_at", "first_seen_run", "active", "status",
]


def record(con, found: list[dict], run_id: str, now: datetime, rules: list[str] | None = None) -> dict:
    """Upsert the findings of one evaluation. Runs inside the caller's transaction.

    `rules`: when only these rules were evaluated (the others' inputs did not change), the
    findings of the other rules are kept as they are and counted as seen again."""
    existing = _existing(con, rules)
    current = {f["finding_id"]: f for f in found}
    new, updated, back, gone, events = [], 0, 0, 0, []
    for fid, f in current.items():
        if fid not in existing:
            new.append(f)
            events.append([fid, now, "ouvert", run_id, f["severity"]])
            continue
        outcome = _seen_again(con, f, existing[fid], now, run_id, events)
        back += outcome == "back"
        updated += outcome == "updated"
    gone = _close_gone(con, existing, current, now, run_id, events)
    _insert_new(con, new, now, run_id)
    insert_rows(con, "findings.events", events)
    kept = _mark_seen(con, current, now, run_id, rules)
    return {"nouveaux": len(new), "modifies": updated, "reapparus": back, "disparus": gone,
            "actifs": len(current) + kept}


def _existing(con, rules: list[str] | None) -> dict:
    """The stored findings of the evaluated rules: finding_id -> (active, status, *TRACKED)."""
    return {r[0]: r[1:] for r in con.execute(
        "SELECT finding_id, active, status, severity, message, evidence, titulaire, acheteur, startup, amount_ht, "
        "source_file, source_line, contact, numero_bc, numero_besoin, holder_id FROM findings.findings "
        "WHERE $all OR list_contains($rules::VARCHAR[], rule)",
        {"all": rules is None, "rules": rules or []}).fetchall()}


def _seen_again(con, f: dict, stored: tuple, now: datetime, run_id: str, events: list) -> str | None:
    """Update a finding raised before; "back" if it was inactive, "updated" if it changed, else None."""
    fid = f["finding_id"]
    active, status, *old = stored
    changes = {k: f.get(k) for k, o in zip(TRACKED, old, strict=True) if str(f.get(k)) != str(o)}
    moved = [k for k in EVIDENCE if k in changes]
    if status == "reviewed" and (moved or (not active and _closed_by_alias(con, fid))):
        reopen(con, fid, moved, now, run_id)
        events.append([fid, now, "rouvert", run_id, ", ".join(moved) or "rapprochement retiré"])
    if changes or not active:
        sets = ["active = TRUE", *(f"{key} = ?" for key in changes)]
        con.execute(f"UPDATE findings.findings SET {', '.join(sets)} WHERE finding_id = ?",  # noqa: S608 - column names are constants
                    [*changes.values(), fid])
    if not active:
        events.append([fid, now, "reapparu", run_id, None])
        return "back"
    if changes:
        if "severity" in changes:
            events.append([fid, now, "modifie", run_id, f"gravité : {changes['severity']}"])
        return "updated"
    return None


def _close_gone(con, existing: dict, current: dict, now: datetime, run_id: str, events: list) -> int:
    """Active findings no longer raised become inactive; how many."""
    gone = 0
    for fid, (active, *_rest) in existing.items():
        if active and fid not in current:
            gone += 1
            con.execute("UPDATE findings.findings SET active = FALSE WHERE finding_id = ?", [fid])
            events.append([fid, now, "disparu", run_id, None])
    return gone


def _insert_new(con, new: list[dict], now: datetime, run_id: str) -> None:
    insert_rows(con, "findings.findings", [{
        **{k: f.get(k) for k in NEW_COLUMNS[:-4]},
        "first_seen_at": now, "first_seen_run": run_id, "active": True, "status": "open",
    } for f in new], NEW_COLUMNS)


def _mark_seen(con, current: dict, now: datetime, run_id: str, rules: list[str] | None) -> int:
    """Record this run's sightings; returns how many active findings the rules not evaluated keep."""
    con.execute("DELETE FROM meta.finding_sightings WHERE finding_id IN (SELECT unnest(?))", [list(current)])
    insert_rows(con, "meta.finding_sightings", [[fid, now, run_id] for fid in current])
    if rules is None:
        return 0
    # the rules not evaluated still raise what they raised
    kept = con.execute(
        "SELECT count(*) FROM findings.findings WHERE active AND NOT list_contains($rules, rule)",
        {"rules": rules}).fetchone()[0]
    con.execute(
        "UPDATE meta.finding_sightings SET last_seen_at = $now, last_seen_run = $run WHERE finding_id IN "
        "(SELECT finding_id FROM findings.findings WHERE active AND NOT list_contains($rules, rule))",
        {"now": now, "run": run_id, "rules": rules})
    return kept


EVIDENCE_FR = {"amount_ht": "montant", "startup": "produit", "titulaire": "titulaire", "acheteur": "acheteur",
               "holder_id": "titulaire"}


def review(con, finding_id: str, reason: str, by: str, now: datetime, run_id: str) -> dict:
    """Mark reviewed; a second review replaces the reason, every decision stays in findings.reviews."""
    reason = (reason or "").strip()
    if not reason:
        raise UsageError("Donnez la raison de la revue avec --reason « … » : elle reste dans l'historique.")
    row = con.execute("SELECT status, rule, subject, review_reason, reviewed_by FROM findings.findings "
                      "WHERE finding_id = ?", [finding_id]).fetchone()
    if row is None:
        raise VigieError(f"Aucun constat « {finding_id} » : vérifiez l'identifiant avec « vigie findings ».", 2)
    _decide(con, finding_id, "reviewed", by, now, reason, "revu", run_id)
    con.execute("INSERT INTO findings.events VALUES (?, ?, 'revu', ?, ?)", [finding_id, now, run_id, f"{by} : {reason}"])
    return {"finding_id": finding_id, "previous_status": row[0], "rule": row[1], "subject": row[2],
            "previous_reason": row[3] if row[0] == "reviewed" else None, "previous_by": row[4]}


def _decide(con, finding_id: str, status: str, by, now, reason, action: str, run_id) -> None:
    con.execute("UPDATE findings.findings SET status = ?, reviewed_by = ?, reviewed_at = ?, review_reason = ? "
                "WHERE finding_id = ?", [status, by if status == "reviewed" else None,
                                         now if status == "reviewed" else None,
                                         reason if status == "reviewed" else None, finding_id])
    con.execute("INSERT INTO findings.reviews VALUES (?, ?, ?, ?, ?, ?)", [finding_id, now, by, action, reason, run_id])


def close_by_alias(con, finding_id: str, reason: str, by: str, now: datetime, run_id: str) -> None:
    """A finding an alias settled: reviewed with the alias's reason (it is already inactive)."""
    _decide(con, finding_id, "reviewed", by, now, reason, "rapprochement", run_id)
    con.execute("INSERT INTO findings.events VALUES (?, ?, 'clos', ?, ?)", [finding_id, now, run_id, reason])


def reopen(con, finding_id: str, moved: list[str], now: datetime, run_id: str) -> None:
    """What was reviewed changed: open again; the old review stays in findings.reviews."""
    what = ", ".join(dict.fromkeys(EVIDENCE_FR[k] for k in moved)) or "rapprochement retiré"
    _decide(con, finding_id, "open", None, now, f"rouvert : {what} modifié(s) depuis la revue"
            if moved else "rouvert : le rapprochement qui l'avait clos a été retiré", "rouvert", run_id)


def _closed_by_alias(con, finding_id: str) -> bool:
    last = con.execute("SELECT action FROM findings.reviews WHERE finding_id = ? ORDER BY decided_at DESC LIMIT 1",
                       [finding_id]).fetchone()
    return bool(last) and last[0] == "rapprochement"


def history(con, finding_id: str) -> list[dict]:
    cursor = con.execute("SELECT decided_at, decided_by, action, reason FROM findings.reviews WHERE finding_id = ? "
                         "ORDER BY decided_at, action", [finding_id])
    return [dict(zip(["at", "by", "action", "reason"], r, strict=True)) for r in cursor.fetchall()]


STATUSES = ("open", "reviewed", "all")


def export_rows(con, rule: str | None = None, status: str = "all") -> list[dict]:
    """Active findings (open, reviewed or both), plus those an alias closed (reviewed, inactive)."""
    query = (
        "SELECT finding_id, rule, severity, agreement_id AS agreement, subject, numero_bc, numero_besoin, titulaire, "
        "acheteur, startup, message, source_file, source_line, first_seen_at AS first_seen, status, "
        "amount_ht AS montant_ht, TRY_CAST(json_extract_string(evidence, '$.date_bc') AS DATE) AS date_bc, "
        "reviewed_at, reviewed_by, review_reason "
        "FROM findings.findings f WHERE (active OR (status = 'reviewed' AND EXISTS (SELECT 1 FROM findings.reviews r "
        "WHERE r.finding_id = f.finding_id AND r.action = 'rapprochement'))) "
        "AND (? IS NULL OR rule = ?) AND (? = 'all' OR status = ?) "
        "ORDER BY CASE severity WHEN 'critique' THEN 0 WHEN 'alerte' THEN 1 ELSE 2 END, rule, first_seen_at, finding_id"
    )
    cursor = con.execute(query, [rule, rule, status, status])
    return [dict(zip([d[0] for d in cursor.description], r, strict=True)) for r in cursor.fetchall()]


def neutralise(value):
    """Text a spreadsheet would evaluate, at the start of the cell or after a `,` / `;` / tab /
    line break (where a reader with that separator starts a new cell), gets a leading quote:
    one mechanism for every CSV and spreadsheet Vigie writes."""
    if isinstance(value, str):
        return _FORMULA.sub(lambda m: m.group(1) + m.group(2) + "'", value)
    return value


def unneutralise(value: str) -> str:
    """What `neutralise` added, taken back (a file Vigie wrote, read again)."""
    return _NEUTRALISED.sub(lambda m: m.group(1) + m.group(2), value)


CSV_SEPARATOR = ";"  # French Excel's list separator: the file opens in columns


def to_csv(rows: list[dict], bom: bool = False) -> str:
    """`;`-separated (French Excel), amounts with a decimal comma, ISO dates; with `bom`, a UTF-8
    byte-order mark so that Excel reads the accents (files; not stdout)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, delimiter=CSV_SEPARATOR, lineterminator="\r\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: neutralise(_cell(r.get(k))) for k in EXPORT_COLUMNS})
    return ("\ufeff" if bom else "") + out.getvalue()


def to_json(rows: list[dict]) -> str:
    return json.dumps([{k: _plain(r.get(k)) for k in EXPORT_COLUMNS} for r in rows], ensure_ascii=False, indent=2)


def _cell(value):
    if isinstance(value, Decimal):
        return f"{value:.2f}".replace(".", ",")
    return _plain(value)


def _plain(value):
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


# -- the analyst's spreadsheet -----------------------------------------------------------------

HEADERS_FR = {
    "finding_id": "Identifiant", "rule": "Règle", "severity": "Gravité", "agreement": "Accord-cadre",
    "subject": "Objet", "numero_bc": "N° de bon de commande", "numero_besoin": "N° d'expression de besoin",
    "titulaire": "Titulaire", "acheteur": "Acheteur", "startup": "Startup", "message": "Constat",
    "source_file": "Fichier source", "source_line": "Ligne", "first_seen": "Vu pour la première fois le",
    "status": "Statut", "montant_ht": "Montant HT", "date_bc": "Date du bon de commande",
    "reviewed_at": "Revu le", "reviewed_by": "Revu par", "review_reason": "Raison de la revue",
}
STATUS_FR = {"open": "ouvert", "reviewed": "revu"}
EURO_FORMAT = '#,##0.00\\ "€"'
DATE_FORMAT = "dd/mm/yyyy"
DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
WIDTHS = {"message": 80, "review_reason": 40, "titulaire": 24, "acheteur": 28, "startup": 24, "source_file": 30}
SEVERITY_SHEETS = (("critique", "Critiques"), ("alerte", "Alertes"), ("info", "Informations"))


def _xlsx_value(column: str, value):
    if value is None:
        return None
    if column == "status":
        return STATUS_FR.get(value, value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):  # Excel has no time zones: Paris wall-clock time
        from pipelines.config import PARIS

        return (value.astimezone(PARIS) if value.tzinfo else value).replace(tzinfo=None)
    return neutralise(value)


def _sheet(ws, rows: list[dict]) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    ws.append([HEADERS_FR[c] for c in EXPORT_COLUMNS])
    for r in rows:
        ws.append([_xlsx_value(c, r.get(c)) for c in EXPORT_COLUMNS])
    for index, column in enumerate(EXPORT_COLUMNS, start=1):
        letter = get_column_letter(index)
        ws.column_dimensions[letter].width = WIDTHS.get(column, 16)
        fmt = {"montant_ht": EURO_FORMAT, "date_bc": DATE_FORMAT, "first_seen": DATETIME_FORMAT,
               "reviewed_at": DATETIME_FORMAT}.get(column)
        if fmt:
            for (cell,) in ws.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = fmt
        ws.cell(row=1, column=index).font = Font(bold=True)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(EXPORT_COLUMNS))}{max(1, len(rows) + 1)}"


def to_xlsx(rows: list[dict], path) -> None:
    """One sheet of all findings, then one per severity: French headers, amounts as numbers in
    euros, dates as dates, a filter on the frozen header row, formula-like text neutralised."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Tous les constats"
    _sheet(ws, rows)
    for severity, title in SEVERITY_SHEETS:
        subset = [r for r in rows if r.get("severity") == severity]
        if subset:
            _sheet(wb.create_sheet(title), subset)
    wb.save(path)
