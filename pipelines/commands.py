"""The commands behind the CLI: parse nothing, print French, return an exit code."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from pipelines import alerts, findings, ingest, jobs, materialise, pipeline, rules, status, warehouse
from pipelines.config import load_settings
from pipelines.errors import UsageError


def _settings(args, offline: bool = False):
    return load_settings(db=args.db, inbox=args.inbox, offline=offline)


def cmd_ingest(args) -> int:
    settings = _settings(args, offline=args.offline)
    wanted = list(pipeline.SOURCE_STEPS) if args.source == "all" else [args.source]
    with jobs.run(settings, "ingest", {"source": args.source, "offline": args.offline}) as job:
        failures = pipeline.run_sources(job, wanted)
        for name, outcome in job.outcomes.items():
            print(f"{name} : {outcome.message}")
    return 1 if failures else 0


def cmd_demo(args) -> int:
    from pipelines import demo

    return demo.run(args)


def validate_step(job) -> jobs.StepOutcome:
    from pipelines import validate

    now = job.settings.now()
    with warehouse.transaction(job.con):
        summary = validate.run(job.con, job.run_id, now, warehouse.data_version(job.con))
    if summary["bloquants"]:
        status, head = "bloque", f"Validation bloquante : {summary['bloquants']} attente(s) bloquante(s) en échec."
    elif summary["echecs"]:
        status, head = "ok", f"Validation : {summary['echecs']} attente(s) non bloquante(s) en échec."
    else:
        status, head = "ok", "Validation : toutes les attentes sont satisfaites."
    counts = {k: v for k, v in summary.items() if k != "details"}
    return jobs.StepOutcome(status, f"{head} ({summary['attentes']} attentes, {summary['suites']} suites)", counts)


def cmd_validate(args) -> int:
    settings = _settings(args)
    with jobs.run(settings, "validate") as job:
        outcome = job.step("validate", validate_step)
        print(outcome.message)
        for line in job.con.execute(
            "SELECT suite, notes, unexpected_count, blocking, unexpected_sample FROM validation.results "
            "WHERE run_id = ? AND NOT success ORDER BY NOT blocking, suite", [job.run_id]
        ).fetchall():
            suite, notes, count, blocking, sample = line
            flag = "BLOQUANT" if blocking else "à surveiller"
            print(f"  [{flag}] {suite} : {notes} — {count if count is not None else '?'} valeur(s) en cause, "
                  f"ex. {sample}")
    return 1 if outcome.status == "bloque" else 0


def check_step(job) -> jobs.StepOutcome:
    """Every rule; or, when neither the data nor the rules changed since the last
    evaluation, only the rules that move with the clock (the others would answer the same)."""
    con, now = job.con, job.settings.now()
    materialise.ensure_current(con)
    version, signature = warehouse.data_version(con), rules.signature(job.settings)
    last = con.execute("SELECT data_version, signature FROM meta.derived_state WHERE name = 'check'").fetchone()
    only = rules.TIME_DEPENDENT if last == (version, signature) else None
    with warehouse.transaction(con):
        found = rules.evaluate(con, job.settings, now, only=only)
        summary = findings.record(con, found, job.run_id, now, rules=only)
        con.execute("INSERT OR REPLACE INTO meta.derived_state (name, data_version, signature) VALUES ('check', ?, ?)",
                    [version, signature])
    summary["regles_evaluees"] = "toutes" if only is None else ", ".join(only)
    head = "Règles évaluées" if only is None else (
        "Données et règles inchangées depuis la dernière évaluation : seule la fraîcheur des sources est réévaluée")
    message = (f"{head} : {summary['actifs']} constat(s) actif(s), dont {summary['nouveaux']} nouveau(x) ; "
               f"{summary['disparus']} disparu(s).")
    return jobs.StepOutcome("ok", message, summary, bool(summary["nouveaux"] or summary["disparus"]))


def print_findings_summary(con, out=None) -> None:
    out = out or sys.stdout
    rows = con.execute(
        "SELECT rule, severity, count(*), count(*) FILTER (WHERE status = 'reviewed') "
        "FROM findings.findings WHERE active GROUP BY rule, severity "
        "ORDER BY CASE severity WHEN 'critique' THEN 0 WHEN 'alerte' THEN 1 ELSE 2 END, rule"
    ).fetchall()
    if not rows:
        print("Aucun constat actif.", file=out)
        return
    print(f"{'Règle':<28}{'Gravité':<10}{'Constats':>9}{'Revus':>7}", file=out)
    for rule, severity, n, reviewed in rows:
        print(f"{rule:<28}{severity:<10}{n:>9}{reviewed:>7}", file=out)
    by_severity: dict[str, int] = {}
    for _, severity, n, _ in rows:
        by_severity[severity] = by_severity.get(severity, 0) + n
    detail = ", ".join(f"{by_severity[k]} {k}" for k in ("critique", "alerte", "info") if k in by_severity)
    print(f"Total : {sum(by_severity.values())} constat(s) actif(s) ({detail}).", file=out)


def cmd_check(args) -> int:
    settings = _settings(args)
    with jobs.run(settings, "check") as job:
        job.step("reference", ingest.sync_reference)
        outcome = job.step("check", check_step)
        print(outcome.message)
        print_findings_summary(job.con)
    return 0


def cmd_findings(args) -> int:
    settings = _settings(args)
    con = warehouse.connect(settings.db_path, read_only=True)
    try:
        if args.rule and args.rule not in rules.codes():
            raise UsageError(f"Règle inconnue « {args.rule} ». Règles : {', '.join(rules.codes())}.")
        rows = findings.export_rows(con, args.rule)
    finally:
        con.close()
    text = findings.to_csv(rows) if args.format == "csv" else findings.to_json(rows) + "\n"
    if args.output:
        write_atomically(Path(args.output), text)
        print(f"{len(rows)} constat(s) écrit(s) dans {args.output}.", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def cmd_review(args) -> int:
    settings = _settings(args)
    by = args.by or os.environ.get("USER") or os.environ.get("USERNAME") or "inconnu"
    with jobs.run(settings, "review", {"finding_id": args.finding_id}) as job:
        with warehouse.transaction(job.con):
            done = findings.review(job.con, args.finding_id, args.reason, by, settings.now(), job.run_id)
    print(f"Constat {done['finding_id']} ({done['rule']}, {done['subject']}) marqué revu par {by} : "
          f"il reste dans l'historique et n'alertera plus.")
    return 0


def cmd_status(args) -> int:
    settings = _settings(args)
    con = warehouse.connect(settings.db_path, read_only=True)
    try:
        report = status.collect(con, settings)
    finally:
        con.close()
    if args.format == "json":
        print(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    else:
        print(status.render_text(report))
    return 0


def alert_step(job, dry_run: bool = False) -> jobs.StepOutcome:
    summary = alerts.send_all(job.con, job.settings, job.settings.now(), job.run_id, dry_run, out=sys.stdout)
    status = "echec" if summary["echecs"] else "ok"
    return jobs.StepOutcome(status, "Alertes : " + " ; ".join(summary["canaux"]) + ".", summary)


def cmd_alert(args) -> int:
    settings = _settings(args)
    with jobs.run(settings, "alert", {"dry_run": args.dry_run}) as job:
        outcome = job.step("alert", alert_step, dry_run=args.dry_run)
    print(outcome.message)
    return 1 if outcome.status == "echec" else 0


def report_step(job, month: str, output: str | None, agreement: str | None = None,
                pdf: bool = False) -> jobs.StepOutcome:
    from pipelines.report import render

    if agreement and not warehouse.scalar(job.con, "SELECT count(*) FROM ref.agreements WHERE agreement_id = ?",
                                          [agreement]):
        raise UsageError(f"Accord-cadre inconnu « {agreement} » : voir les fichiers de pipelines/agreements/.")
    materialise.ensure_current(job.con)
    target = Path(output) if output else (
        job.settings.data_dir / "rapports" / month if job.recorder.command == "demo" else Path("reports") / month)
    path = render.render(job.con, job.settings, month, target, agreement)
    if pdf:
        from pipelines.report.pdf import print_pdf

        pdf_path = print_pdf(path)
        return jobs.StepOutcome("ok", f"Rapport de {month} écrit : {path} et {pdf_path}",
                                {"fichier": str(path), "pdf": str(pdf_path)})
    return jobs.StepOutcome("ok", f"Rapport de {month} écrit : {path}", {"fichier": str(path)})


def cmd_report(args) -> int:
    settings = _settings(args)
    with jobs.run(settings, "report", {"month": args.month}) as job:
        job.step("reference", ingest.sync_reference)
        outcome = job.step("report", report_step, month=args.month, output=args.output, agreement=args.agreement,
                           pdf=getattr(args, "pdf", False))
    print(outcome.message)
    return 0


def cmd_run(args) -> int:
    settings = _settings(args)
    with jobs.run(settings, "run", trigger=os.environ.get("VIGIE_TRIGGER", "manuel")) as job:
        problems = pipeline.run_all(job, validate_step, check_step, alert_step)
        for name, outcome in job.outcomes.items():
            print(f"{name} : {outcome.message}")
    return 1 if problems else 0


def cmd_schedule(args) -> int:
    from pipelines import schedule

    return schedule.serve(_settings(args))
