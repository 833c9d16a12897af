"""The commands behind the CLI: parse nothing, print French, return an exit code."""

from __future__ import annotations

import errno
import json
import os
import sys
from pathlib import Path

from pipelines import alerts, aliases, findings, ingest, jobs, materialise, pipeline, rules, status, warehouse
from pipelines.config import load_settings, reviewer
from pipelines.errors import UsageError


def _settings(args, offline: bool = False):
    return load_settings(db=args.db, inbox=args.inbox, offline=offline)


def cmd_ingest(args) -> int:
    settings = _settings(args, offline=args.offline)
    wanted = list(pipeline.SOURCE_STEPS) if args.source == "all" else [args.source]
    if "orders" in wanted:
        ingest.check_inbox(settings)
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
        status, head = "bloque", (f"Validation bloquante : {summary['bloquants']} attente(s) bloquante(s) en échec : "
                                  + " ; ".join(d.removeprefix("BLOQUANT ") for d in summary["details"]
                                               if d.startswith("BLOQUANT ")) + ".")
    elif summary["echecs"]:
        status, head = "ok", f"Validation : {summary['echecs']} attente(s) non bloquante(s) en échec."
    else:
        status, head = "ok", "Validation : toutes les attentes sont satisfaites."
    counts = {k: v for k, v in summary.items() if k != "details"}
    return jobs.StepOutcome(status, f"{head} ({summary['attentes']} attentes, {summary['suites']} suites)", counts)


def cmd_validate(args) -> int:
    settings = _settings(args)
    require_warehouse(settings)
    with jobs.run(settings, "validate") as job:
        outcome = job.step("validate", validate_step)
        print(outcome.message)
        from pipelines.validate import describe

        for line in job.con.execute(
            "SELECT suite, expectation_type, column_name, kwargs, unexpected_count, unexpected_sample, notes, blocking "
            "FROM validation.results WHERE run_id = ? AND NOT success ORDER BY NOT blocking, suite", [job.run_id]
        ).fetchall():
            suite, kind, column, kwargs, count, sample, notes, blocking = line
            flag = "BLOQUANT" if blocking else "à surveiller"
            print(f"  [{flag}] {describe(suite, kind, column, json.loads(kwargs or '{}'), count, json.loads(sample or '[]'), notes)}")
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
        before = {r[0] for r in con.execute("SELECT finding_id FROM findings.findings WHERE active").fetchall()}
        summary = findings.record(con, found, job.run_id, now, rules=only)
        gone = sorted(before - {r[0] for r in con.execute(
            "SELECT finding_id FROM findings.findings WHERE active").fetchall()})
        summary["clos_par_rapprochement"] = aliases.settle(con, gone, now, job.run_id)
        con.execute("INSERT OR REPLACE INTO meta.derived_state (name, data_version, signature) VALUES ('check', ?, ?)",
                    [version, signature])
    summary["regles_evaluees"] = "toutes" if only is None else ", ".join(only)
    head = "Règles évaluées" if only is None else (
        "Données et règles inchangées depuis la dernière évaluation : seules les règles qui dépendent de la date "
        f"sont réévaluées ({', '.join(only)})")
    back = summary.get("reapparus", 0)
    message = (f"{head} : {summary['actifs']} constat(s) actif(s), dont {summary['nouveaux']} nouveau(x)"
               + (f" et {back} réapparu(s)" if back else "") + f" ; {summary['disparus']} disparu(s)"
               + (f", dont {summary['clos_par_rapprochement']} clos par un rapprochement (vigie alias)"
                  if summary["clos_par_rapprochement"] else "") + ".")
    return jobs.StepOutcome("ok", message, summary, bool(summary["nouveaux"] or summary["disparus"] or back))


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
    require_warehouse(settings)
    with jobs.run(settings, "check") as job:
        job.step("reference", ingest.sync_reference)
        pipeline.ensure_resolution(job)
        outcome = job.step("check", check_step)
        print(outcome.message)
        print_findings_summary(job.con)
    return 0


def require_warehouse(settings) -> None:
    """Only the commands that ingest (run, ingest, demo, schedule) may create a warehouse:
    any other one on a path where there is none (a typo in --db / VIGIE_DB) says so, rather
    than answering from a new empty warehouse."""
    if settings.db_path.exists():
        return
    where = "" if str(settings.db_path).endswith("data/vigie.duckdb") and settings.db_path.parent.name == "data" \
        else f" --db {settings.db_path}"
    raise UsageError(
        f"L'entrepôt {settings.db_path} n'existe pas encore (--db / VIGIE_DB) : construisez-le avec « vigie run{where} » "
        f"(« vigie run --offline{where} » sans accès au réseau, « vigie demo{where} » pour l'échantillon embarqué).")


def open_existing(settings):
    """The warehouse, read-only; if there is none yet, say which command builds this one."""
    require_warehouse(settings)
    return warehouse.connect(settings.db_path, read_only=True)


def check_rule(rule: str | None) -> None:
    if rule and rule not in rules.codes():
        raise UsageError(f"Règle inconnue « {rule} ». Règles possibles : {', '.join(rules.codes())}.")


def cmd_findings(args) -> int:
    settings = _settings(args)
    if args.format == "xlsx" and not args.output:
        raise UsageError("Le format xlsx s'écrit dans un fichier : ajoutez --output constats.xlsx.")
    check_rule(args.rule)
    con = open_existing(settings)
    try:
        rows = findings.export_rows(con, args.rule, args.status)
    finally:
        con.close()
    if args.format == "xlsx":
        path = Path(args.output)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp")
            findings.to_xlsx(rows, tmp)
            os.replace(tmp, path)
        except OSError as exc:
            raise cannot_write(path, exc, "--output") from None
    elif args.output:
        text = findings.to_csv(rows, bom=True) if args.format == "csv" else findings.to_json(rows) + "\n"
        write_atomically(Path(args.output), text)
    else:
        sys.stdout.write(findings.to_csv(rows) if args.format == "csv" else findings.to_json(rows) + "\n")
    if args.output:
        print(f"{len(rows)} constat(s) écrit(s) dans {args.output}.", file=sys.stderr)
    return 0


OS_FR = {errno.ENOENT: "dossier introuvable ou impossible à créer", errno.EACCES: "permission refusée", errno.EPERM: "opération non permise",
         errno.EROFS: "disque en lecture seule", errno.ENOTDIR: "un élément du chemin n'est pas un dossier",
         errno.ENOSPC: "disque plein", errno.EEXIST: "un fichier porte déjà ce nom"}


def cannot_write(path: Path, exc: OSError, option: str) -> UsageError:
    reason = OS_FR.get(exc.errno, exc.strerror or exc.__class__.__name__)
    return UsageError(f"Impossible d'écrire dans {path} ({option}) : {reason}. Choisissez un dossier où vous pouvez écrire.")


def writable_folder(folder: Path, option: str) -> None:
    """Create the output folder and try a write now: a bad --output is a French sentence
    (exit 2) before any work, not an internal error at the end."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".vigie-{os.getpid()}.tmp"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise cannot_write(folder, exc, option) from None


def write_atomically(path: Path, text: str, option: str = "--output") -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise cannot_write(path, exc, option) from None


def cmd_review(args) -> int:
    settings = _settings(args)
    args.finding_id = args.finding_id.strip().upper()  # ids are written upper case (HS-6BF13453BB)
    require_warehouse(settings)
    by = reviewer(args.by)
    with jobs.run(settings, "review", {"finding_id": args.finding_id}) as job:
        with warehouse.transaction(job.con):
            done = findings.review(job.con, args.finding_id, args.reason, by, settings.now(), job.run_id)
    print(f"Constat {done['finding_id']} ({done['rule']}, {done['subject']}) marqué revu par {by} : "
          f"il reste dans l'historique et n'alertera plus.")
    if done["previous_reason"]:
        print(f"La raison précédente (« {done['previous_reason']} », par {done['previous_by']}) est remplacée ; "
              "elle reste dans l'historique.")
    return 0


def cmd_alias(args) -> int:
    settings = _settings(args)
    require_warehouse(settings)
    modes = [bool(args.list), bool(args.remove), bool(args.export), bool(args.import_file),
             bool(args.kind or args.raw or args.target)]
    if sum(modes) != 1:
        raise UsageError("Utilisation : « vigie alias KIND RAW TARGET --reason TEXTE », « vigie alias --list », "
                         "« vigie alias --remove KIND RAW », « vigie alias --export FICHIER » ou "
                         "« vigie alias --import FICHIER » (une seule à la fois).")
    if args.list or args.export:
        con = open_existing(settings)
        try:
            rows = aliases.listing(con)
        finally:
            con.close()
        if args.export:
            write_atomically(Path(args.export), aliases.to_csv(rows), "--export")
            print(f"{len(rows)} rapprochement(s) écrit(s) dans {args.export}.")
        elif not rows:
            print("Aucun rapprochement enregistré.")
        else:
            from pipelines import fr

            for r in rows:
                print(f"{r['kind']} « {r['raw']} » → {r['target'] or '- (aucun)'} — {r['reason']} "
                      f"(par {r['by']}, {fr.moment(r['at'])}"
                      + ("" if r["applied_at"] else ", pas encore appliqué : lancez « vigie check »") + ")")
        return 0
    if args.kind and not (args.raw and args.target):
        raise UsageError("Donnez le type, le nom et la cible : vigie alias KIND RAW TARGET --reason TEXTE "
                         "(TARGET « - » pour « aucun d'eux »).")
    if args.import_file:
        path = Path(args.import_file)
        try:
            entries = aliases.parse_csv(path.read_text(encoding="utf-8-sig"))
        except FileNotFoundError:
            raise UsageError(f"Le fichier {path} est introuvable.") from None
        except UnicodeDecodeError:
            raise UsageError(f"Le fichier {path} n'est pas en UTF-8 : réenregistrez-le en « CSV UTF-8 ».") from None
    by = reviewer(args.by)
    with jobs.run(settings, "alias") as job:
        job.step("reference", ingest.sync_reference)
        now = settings.now()
        with warehouse.transaction(job.con):
            if args.remove:
                kind, raw = args.remove
                if not aliases.remove(job.con, kind, raw):
                    raise UsageError(f"Aucun rapprochement {kind} « {raw} » (voir « vigie alias --list »).")
                message = (f"Rapprochement {kind} « {raw} » retiré. Le prochain « vigie check » résout ce nom sans "
                           "lui et rouvre les constats que ce rapprochement avait clos.")
            elif args.import_file:
                for e in entries:
                    try:
                        aliases.record(job.con, settings, e["kind"], e["raw"], e["target"], e["reason"],
                                       e["by"] or by, now)
                    except UsageError as exc:
                        raise UsageError(f"{path}, ligne {e['line']} : {exc.message}") from None
                message = f"{len(entries)} rapprochement(s) importé(s) de {path}."
            else:
                done = aliases.record(job.con, settings, args.kind, args.raw, args.target, args.reason, by, now)
                message = (f"Rapprochement enregistré par {by} : {done['kind']} « {done['raw']} » → "
                           f"{done['target'] or aliases.none_of(done['kind'])}.")
            warehouse.bump_data_version(job.con, job.run_id, "rapprochements", now)
    if not args.remove:
        message += " Le prochain « vigie check » l'applique et clôt les constats qu'il règle."
    print(message)
    return 0


def cmd_status(args) -> int:
    settings = _settings(args)
    con = open_existing(settings)
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
    require_warehouse(settings)
    with jobs.run(settings, "alert", {"dry_run": args.dry_run}) as job:
        outcome = job.step("alert", alert_step, dry_run=args.dry_run)
    print(outcome.message)
    return 1 if outcome.status == "echec" else 0


def report_step(job, month: str, output: str | None, agreement: str | None = None,
                pdf: bool = False) -> jobs.StepOutcome:
    from pipelines.report import render

    if agreement and not warehouse.scalar(job.con, "SELECT count(*) FROM ref.agreements WHERE agreement_id = ?",
                                          [agreement]):
        known = [r[0] for r in job.con.execute("SELECT agreement_id FROM ref.agreements ORDER BY 1").fetchall()]
        raise UsageError(f"Accord-cadre inconnu « {agreement} ». Accords-cadres possibles : {', '.join(known)}.")
    materialise.ensure_current(job.con)
    target = Path(output) if output else (
        job.settings.data_dir / "rapports" / month if job.recorder.command == "demo" else Path("reports") / month)
    writable_folder(target, "--output")
    path = render.render(job.con, job.settings, month, target, agreement)
    if pdf:
        from pipelines.report.pdf import print_pdf

        pdf_path = print_pdf(path)
        return jobs.StepOutcome("ok", f"Rapport de {month} écrit : {path} et {pdf_path}",
                                {"fichier": str(path), "pdf": str(pdf_path)})
    return jobs.StepOutcome("ok", f"Rapport de {month} écrit : {path}", {"fichier": str(path)})


def cmd_report(args) -> int:
    settings = _settings(args)
    require_warehouse(settings)
    with jobs.run(settings, "report", {"month": args.month}) as job:
        job.step("reference", ingest.sync_reference)
        outcome = job.step("report", report_step, month=args.month, output=args.output, agreement=args.agreement,
                           pdf=getattr(args, "pdf", False))
    print(outcome.message)
    return 0


def cmd_run(args) -> int:
    settings = _settings(args, offline=getattr(args, "offline", False))
    ingest.check_inbox(settings)
    with jobs.run(settings, "run", {"offline": settings.offline},
                  trigger=settings.trigger) as job:
        problems = pipeline.run_all(job, validate_step, check_step, alert_step)
        for name, outcome in job.outcomes.items():
            print(f"{name} : {outcome.message}")
    return 1 if problems else 0


def cmd_schedule(args) -> int:
    from pipelines import schedule

    settings = _settings(args)
    ingest.check_inbox(settings)
    return schedule.serve(settings)
