"""`vigie status`: sources and their freshness, inbox files and their accounting."""

from __future__ import annotations

from datetime import datetime

from pipelines import fr
from pipelines.rules.staleness import stale_sources
from pipelines.sources import datagouv


def collect(con, settings) -> dict:
    now = settings.now()
    stale = {s["source"] for s in stale_sources(con, settings, now)}
    state = {r[0]: r[1:] for r in con.execute(
        "SELECT source, last_success_at, data_as_of, last_attempt_at, last_status, last_error, last_change_at "
        "FROM meta.source_state").fetchall()}
    sources = []
    for source, conf in settings.sources.items():
        success, as_of, attempt, last_status, error, change = state.get(source, (None,) * 6)
        sources.append({
            "source": source,
            "label": conf.label,
            "last_success_at": success,
            "age_hours": round((now - success).total_seconds() / 3600, 1) if success else None,
            "data_as_of": as_of,
            "data_age_hours": round((now - as_of).total_seconds() / 3600, 1) if as_of else None,
            "max_age_hours": conf.max_age_hours,
            "last_attempt_at": attempt,
            "last_status": last_status,
            "last_error": error,
            "last_change_at": change,
            "stale": source in stale,
        })
    cursor = con.execute(
        "SELECT path, kind, content_sha256, rows_read, rows_loaded, rows_quarantined, rows_skipped, status, "
        "reason, duplicate_of, kept_at, processed_at, header_line, sheet, encoding, separator "
        "FROM raw.inbox_files ORDER BY seq")
    names = ["path", "kind", "sha256", "rows_read", "rows_loaded", "rows_quarantined", "rows_skipped", "status",
             "reason", "duplicate_of", "kept_at", "processed_at", "header_line", "sheet", "encoding", "separator"]
    files = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    quarantine = quarantined_lines(con)
    for f in files:
        shown, total = quarantine.get((f["sha256"], f["path"]), ([], 0)) if f["rows_quarantined"] else ([], 0)
        f["quarantine"] = shown
        f["quarantine_not_shown"] = total - len(shown)
    runs = [dict(zip(["run_id", "command", "started_at", "ended_at", "status", "error"], r, strict=True))
            for r in con.execute("SELECT run_id, command, started_at, ended_at, status, error FROM meta.runs "
                                 "ORDER BY started_at DESC, rowid DESC LIMIT 5").fetchall()]
    totals = {
        "files": len(files),
        "rows_read": sum(f["rows_read"] for f in files),
        "rows_loaded": sum(f["rows_loaded"] for f in files),
        "rows_quarantined": sum(f["rows_quarantined"] for f in files),
        "rejected_files": sum(f["status"] == "rejete" for f in files),
    }
    return {"generated_at": now, "warehouse": str(settings.db_path), "inbox": str(settings.inbox),
            "sources": sources, "files": files, "totals": totals, "recent_runs": runs,
            "decp": datagouv.decp_status(con)}  # sources work (#19): what the DECP load could not read


QUARANTINE_SHOWN = 20  # lines listed per file; the rest are counted


def quarantined_lines(con, limit: int = QUARANTINE_SHOWN) -> dict[tuple[str, str], tuple[list[dict], int]]:
    """(file sha256, path) -> its first quarantined lines (number, French reason) and how many in all."""
    out: dict[tuple[str, str], tuple[list[dict], int]] = {}
    for sha, path, line, code, reason, total in con.execute(
            "SELECT file_sha256, path, line, reason_code, reason, count(*) OVER w FROM ("
            "  SELECT *, row_number() OVER (PARTITION BY file_sha256, path ORDER BY line) AS n FROM raw.inbox_quarantine"
            ") WINDOW w AS (PARTITION BY file_sha256, path) QUALIFY n <= ? ORDER BY path, line", [limit]).fetchall():
        shown, _ = out.get((sha, path), ([], 0))
        shown.append({"line": line, "reason_code": code, "reason": reason.removeprefix(f"ligne {line} : ")})
        out[(sha, path)] = (shown, total)
    return out


# Stored codes stay ASCII; what the analyst reads is French.
STATUS_FR = {"charge": "chargé", "rejete": "rejeté", "doublon": "doublon", "differe": "différé"}
RUN_STATUS_FR = {"succes": "succès", "echec": "échec", "attention": "attention", "en_cours": "en cours",
                 "interrompue": "interrompue", "ok": "ok", "inchange": "inchangé", "ignore": "ignoré",
                 "bloque": "bloqué"}
KIND_FR = {"commandes": "commandes", "declarations": "déclarations", "besoins": "besoins", None: "—"}


def _when(value: datetime | None) -> str:
    return fr.moment(value.astimezone(fr_tz())) if value else "jamais"


def fr_tz():
    from pipelines.config import PARIS

    return PARIS


def render_text(report: dict) -> str:
    lines = [f"Entrepôt : {report['warehouse']}", f"Boîte de dépôt : {report['inbox']}", "", "Sources"]
    for s in report["sources"]:
        age = f" (il y a {fr.duration_hours(s['age_hours'])})" if s["age_hours"] is not None else ""
        flag = "  PÉRIMÉE" if s["stale"] else ""
        lines.append(f"  {s['label']} [{s['source']}] : dernière actualisation réussie {_when(s['last_success_at'])}{age}{flag}")
        if s["data_as_of"] and s["data_age_hours"] is not None and s["data_as_of"] != s["last_success_at"]:
            lines.append(f"      données du {_when(s['data_as_of'])} (âge {fr.duration_hours(s['data_age_hours'])}, "
                         f"limite {fr.duration_hours(s['max_age_hours'])})")
        if s["last_error"]:
            lines.append(f"      dernière erreur : {s['last_error']}")
    t = report["totals"]
    lines += ["", f"Fichiers de la boîte de dépôt : {t['files']} — {fr.number(t['rows_read'])} ligne(s) lue(s), "
                  f"{fr.number(t['rows_loaded'])} chargée(s), {fr.number(t['rows_quarantined'])} en quarantaine, "
                  f"{t['rejected_files']} fichier(s) rejeté(s)"]
    for f in report["files"]:
        lines.append(
            f"  {f['path']}  [{KIND_FR.get(f['kind'], f['kind'])}]  {f['sha256'][:12]}  "
            f"lues {f['rows_read']} / chargées {f['rows_loaded']} / quarantaine {f['rows_quarantined']}  "
            f"{STATUS_FR.get(f['status'], f['status'])}"
        )
        if f["reason"]:
            lines.append(f"      {f['reason']}")
        for q in f.get("quarantine") or []:
            lines.append(f"      quarantaine — ligne {q['line']} : {q['reason']}")
        if f.get("quarantine_not_shown"):
            lines.append(f"      … et {fr.number(f['quarantine_not_shown'])} autre(s) ligne(s) en quarantaine")
    lines += datagouv.render_decp_status(report.get("decp"))
    if report["recent_runs"]:
        lines += ["", "Dernières exécutions"]
        for r in report["recent_runs"]:
            error = (r["error"] or "").splitlines()[0][:200] if r["error"] else ""
            lines.append(f"  {_when(r['started_at'])}  vigie {r['command']}  {RUN_STATUS_FR.get(r['status'], r['status'])}"
                         + (f" — {error}" if error else ""))
    return "\n".join(lines)
