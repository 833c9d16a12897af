"""The steps of a run around the sources: reference, resolution, validate, check, alert, report.

Each step takes the Job (connection, settings, run record) and returns a StepOutcome whose
message is one French line; `Job.step` records and logs it. The steps print nothing and
read no command-line option: `pipeline.run_all` chains them, `commands` and `demo` call
them with plain values (a month, a folder) and print their messages.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pipelines import agreements, alerts, aliases, findings, materialise, resolve, rules, warehouse
from pipelines.config import command_hint
from pipelines.errors import UsageError
from pipelines.jobs import Job, StepOutcome
from pipelines.output import writable_folder


def sync_reference(job: Job) -> StepOutcome:
    """Agreement files and reference lists into `ref` (only when a file changed)."""
    dirs = job.settings.agreements_dirs
    if agreements.is_current(job.con, dirs):
        names = _agreement_ids(job.con)
        return StepOutcome(
            "inchange", f"Accords-cadres inchangés ({', '.join(names)}).", {"accords": len(names)}
        )
    found = agreements.load_agreements(dirs)
    with warehouse.transaction(job.con):
        agreements.load_into_warehouse(job.con, found)
        warehouse.bump_data_version(job.con, job.run_id, "accords-cadres", job.settings.now())
    names = ", ".join(a.id for a in found)
    return StepOutcome("ok", f"Accords-cadres chargés : {names}.", {"accords": len(found)}, True)


def _agreement_ids(con) -> list[str]:
    return [r[0] for r in con.execute("SELECT agreement_id FROM ref.agreements ORDER BY 1").fetchall()]


def refresh_resolution(job: Job) -> StepOutcome:
    with warehouse.transaction(job.con):
        counts = resolve.refresh(job.con, job.settings)
        materialise.refresh(job.con)
        job.con.execute("INSERT OR REPLACE INTO meta.derived_state (name, data_version, signature) "
                        "VALUES ('resolution', ?, ?)", [warehouse.data_version(job.con), resolve.signature(job.settings)])
    return StepOutcome("ok", f"Résolution des startups, titulaires et acheteurs : {counts['a_revoir']} valeur(s) à revoir.",
                       counts, True)


def validate_step(job) -> StepOutcome:
    from pipelines import validate  # great_expectations, loaded only when validating

    now = job.settings.now()
    with warehouse.transaction(job.con):
        summary = validate.run(job.con, job.run_id, now, warehouse.data_version(job.con),
                               command_hint(job.settings, "run"))
    if summary["bloquants"]:
        status, head = "bloque", (f"Validation bloquante : {summary['bloquants']} attente(s) bloquante(s) en échec : "
                                  + " ; ".join(d.removeprefix("BLOQUANT ") for d in summary["details"]
                                               if d.startswith("BLOQUANT ")) + ".")
    elif summary["echecs"]:
        status, head = "ok", f"Validation : {summary['echecs']} attente(s) non bloquante(s) en échec."
    else:
        status, head = "ok", "Validation : toutes les attentes sont satisfaites."
    counts = {k: v for k, v in summary.items() if k != "details"}
    return StepOutcome(status, f"{head} ({summary['attentes']} attentes, {summary['suites']} suites)", counts)


def check_step(job) -> StepOutcome:
    """Every rule; or, when neither the data nor the rules changed since the last
    evaluation, only the rules that move with the clock (the others would answer the same)."""
    con, now = job.con, job.settings.now()
    materialise.ensure_current(con)
    version, signature = warehouse.data_version(con), rules.signature(job.settings)
    last = con.execute("SELECT data_version, signature FROM meta.derived_state WHERE name = 'check'").fetchone()
    only = rules.TIME_DEPENDENT if last == (version, signature) else None
    with warehouse.transaction(con):
        found = rules.evaluate(con, job.settings, now, only=only)
        before = _active_ids(con)
        summary = findings.record(con, found, job.run_id, now, rules=only)
        gone = sorted(before - _active_ids(con))
        summary["clos_par_rapprochement"] = aliases.settle(con, gone, now, job.run_id)
        con.execute("INSERT OR REPLACE INTO meta.derived_state (name, data_version, signature) VALUES ('check', ?, ?)",
                    [version, signature])
    summary["regles_evaluees"] = "toutes" if only is None else ", ".join(only)
    back = summary.get("reapparus", 0)
    return StepOutcome("ok", _check_message(summary, only), summary,
                       bool(summary["nouveaux"] or summary["disparus"] or back))


def _active_ids(con) -> set[str]:
    return {r[0] for r in con.execute("SELECT finding_id FROM findings.findings WHERE active").fetchall()}


def _check_message(summary: dict, only) -> str:
    head = "Règles évaluées" if only is None else (
        "Données et règles inchangées depuis la dernière évaluation : seules les règles qui dépendent de la date "
        f"sont réévaluées ({', '.join(only)})")
    back = summary.get("reapparus", 0)
    return (f"{head} : {summary['actifs']} constat(s) actif(s), dont {summary['nouveaux']} nouveau(x)"
            + (f" et {back} réapparu(s)" if back else "") + f" ; {summary['disparus']} disparu(s)"
            + (f", dont {summary['clos_par_rapprochement']} clos par un rapprochement (vigie alias)"
               if summary["clos_par_rapprochement"] else "") + ".")


def findings_summary(con) -> list[str]:
    """The active findings per rule and severity, as the lines `vigie check` and the demo print."""
    rows = con.execute(
        "SELECT rule, severity, count(*), count(*) FILTER (WHERE status = 'reviewed') "
        "FROM findings.findings WHERE active GROUP BY rule, severity "
        "ORDER BY CASE severity WHEN 'critique' THEN 0 WHEN 'alerte' THEN 1 ELSE 2 END, rule"
    ).fetchall()
    if not rows:
        return ["Aucun constat actif."]
    lines = [f"{'Règle':<28}{'Gravité':<10}{'Constats':>9}{'Revus':>7}"]
    lines += [f"{rule:<28}{severity:<10}{n:>9}{reviewed:>7}" for rule, severity, n, reviewed in rows]
    by_severity: dict[str, int] = {}
    for _, severity, n, _ in rows:
        by_severity[severity] = by_severity.get(severity, 0) + n
    detail = ", ".join(f"{by_severity[k]} {k}" for k in ("critique", "alerte", "info") if k in by_severity)
    lines.append(f"Total : {sum(by_severity.values())} constat(s) actif(s) ({detail}).")
    return lines


def alert_step(job, dry_run: bool = False) -> StepOutcome:
    # The channels print what a dry run would send: that listing is the command's output.
    summary = alerts.send_all(job.con, job.settings, job.settings.now(), job.run_id, dry_run, out=sys.stdout)
    status = "echec" if summary["echecs"] else "ok"
    return StepOutcome(status, "Alertes : " + " ; ".join(summary["canaux"]) + ".", summary)


def report_step(job, month: str, folder: Path, agreement: str | None = None, pdf: bool = False,
                option: str = "--output") -> StepOutcome:
    """The month's HTML report (and PDF) in `folder`, which the caller chooses; `option` names
    where that folder came from in the French error when it cannot be written."""
    from pipelines.report import render  # plotly, loaded only when reporting

    if agreement and not warehouse.scalar(job.con, "SELECT count(*) FROM ref.agreements WHERE agreement_id = ?",
                                          [agreement]):
        raise UsageError(f"Accord-cadre inconnu « {agreement} ». Accords-cadres possibles : "
                         f"{', '.join(_agreement_ids(job.con))}.")
    materialise.ensure_current(job.con)
    writable_folder(folder, option)
    path = render.render(job.con, job.settings, month, folder, agreement)
    if pdf:
        from pipelines.report.pdf import print_pdf

        pdf_path = print_pdf(path)
        return StepOutcome("ok", f"Rapport de {month} écrit : {path} et {pdf_path}",
                           {"fichier": str(path), "pdf": str(pdf_path)})
    return StepOutcome("ok", f"Rapport de {month} écrit : {path}", {"fichier": str(path)})
