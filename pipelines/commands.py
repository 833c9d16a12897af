"""The commands behind the CLI: turn options into settings, call the pipeline or a step
(pipelines/steps.py), print French, return an exit code. No orchestration here."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from pipelines import aliases, demo, findings, jobs, pipeline, rules, status, steps, warehouse
from pipelines.config import command_hint, load_settings, reviewer
from pipelines.errors import UsageError
from pipelines.output import cannot_write, write_atomically
from pipelines.sources import orders


def _settings(args, offline: bool = False):
    return load_settings(db=args.db, inbox=args.inbox, offline=offline)


def cmd_ingest(args) -> int:
    settings = _settings(args, offline=args.offline)
    wanted = list(pipeline.SOURCE_STEPS) if args.source == "all" else [args.source]
    if "orders" in wanted:
        orders.check_inbox(settings)
    with jobs.run(settings, "ingest", {"source": args.source, "offline": args.offline}) as job:
        failures = pipeline.run_sources(job, wanted)
        for name, outcome in job.outcomes.items():
            print(f"{name} : {outcome.message}")
    return 1 if failures else 0


def cmd_demo(args) -> int:
    return demo.run(args)


def cmd_validate(args) -> int:
    settings = _settings(args)
    require_warehouse(settings)
    with jobs.run(settings, "validate") as job:
        outcome = job.step("validate", steps.validate_step)
        print(outcome.message)
        from pipelines.validate import describe

        run_hint = command_hint(settings, "run")
        for line in job.con.execute(
            "SELECT suite, expectation_type, column_name, kwargs, unexpected_count, unexpected_sample, notes, blocking "
            "FROM validation.results WHERE run_id = ? AND NOT success ORDER BY NOT blocking, suite", [job.run_id]
        ).fetchall():
            suite, kind, column, kwargs, count, sample, notes, blocking = line
            flag = "BLOQUANT" if blocking else "à surveiller"
            print(f"  [{flag}] {describe(suite, kind, column, json.loads(kwargs or '{}'), count, json.loads(sample or '[]'), notes, run_hint=run_hint)}")
    return 1 if outcome.status == "bloque" else 0


def cmd_check(args) -> int:
    settings = _settings(args)
    require_warehouse(settings)
    with jobs.run(settings, "check") as job:
        outcome = pipeline.run_check(job)
        print(outcome.message)
        print("\n".join(steps.findings_summary(job.con)))
    return 0


def require_warehouse(settings) -> None:
    """Only the commands that ingest (run, ingest, demo, schedule) may create a warehouse:
    any other one on a path where there is none (a typo in --db / VIGIE_DB) says so, rather
    than answering from a new empty warehouse."""
    if settings.db_path.exists():
        return
    default = Path(settings.paths.db).expanduser().parts  # settings.toml's warehouse, wherever vigie runs
    where = "" if settings.db_path.parts[-len(default):] == default else f" --db {settings.db_path}"
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
        return _alias_list(settings, args)
    if args.kind and not (args.raw and args.target):
        raise UsageError("Donnez le type, le nom et la cible : vigie alias KIND RAW TARGET --reason TEXTE "
                         "(TARGET « - » pour « aucun d'eux »).")
    entries = _alias_entries(Path(args.import_file)) if args.import_file else None
    by = reviewer(args.by)
    with jobs.run(settings, "alias") as job:
        job.step("reference", steps.sync_reference)
        now = settings.now()
        with warehouse.transaction(job.con):
            message = _alias_write(job.con, settings, args, entries, by, now)
            warehouse.bump_data_version(job.con, job.run_id, "rapprochements", now)
    if not args.remove:
        message += " Le prochain « vigie check » l'applique et clôt les constats qu'il règle."
    print(message)
    return 0


def _alias_list(settings, args) -> int:
    """--list prints the aliases, --export writes them to a CSV file."""
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


def _alias_entries(path: Path) -> list[dict]:
    """The rows of an --import file, read before the warehouse is locked."""
    try:
        return aliases.parse_csv(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise UsageError(f"Le fichier {path} est introuvable.") from None
    except UnicodeDecodeError:
        raise UsageError(f"Le fichier {path} n'est pas en UTF-8 : réenregistrez-le en « CSV UTF-8 ».") from None


def _alias_write(con, settings, args, entries, by: str, now) -> str:
    """Remove, import or record, inside the caller's transaction; returns the French message."""
    if args.remove:
        kind, raw = args.remove
        if not aliases.remove(con, kind, raw):
            raise UsageError(f"Aucun rapprochement {kind} « {raw} » (voir « vigie alias --list »).")
        return (f"Rapprochement {kind} « {raw} » retiré. Le prochain « vigie check » résout ce nom sans "
                "lui et rouvre les constats que ce rapprochement avait clos.")
    if entries is not None:
        path = Path(args.import_file)
        for e in entries:
            try:
                aliases.record(con, settings, e["kind"], e["raw"], e["target"], e["reason"], e["by"] or by, now)
            except UsageError as exc:
                raise UsageError(f"{path}, ligne {e['line']} : {exc.message}") from None
        return f"{len(entries)} rapprochement(s) importé(s) de {path}."
    done = aliases.record(con, settings, args.kind, args.raw, args.target, args.reason, by, now)
    return (f"Rapprochement enregistré par {by} : {done['kind']} « {done['raw']} » → "
            f"{done['target'] or aliases.none_of(done['kind'])}.")


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


def cmd_alert(args) -> int:
    settings = _settings(args)
    require_warehouse(settings)
    with jobs.run(settings, "alert", {"dry_run": args.dry_run}) as job:
        outcome = job.step("alert", steps.alert_step, dry_run=args.dry_run)
    print(outcome.message)
    return 1 if outcome.status == "echec" else 0


def cmd_report(args) -> int:
    settings = _settings(args)
    require_warehouse(settings)
    with jobs.run(settings, "report", {"month": args.month}) as job:
        outcome = pipeline.run_report(job, args.month, report_folder(settings, args), args.agreement,
                                      pdf=getattr(args, "pdf", False))
    print(outcome.message)
    return 0


def report_folder(settings, args) -> Path:
    """--output, else the month's folder under settings.toml's [schedule] reports_dir."""
    if args.output:
        return Path(args.output)
    return Path(settings.schedule.reports_dir).expanduser() / args.month


def cmd_run(args) -> int:
    settings = _settings(args, offline=getattr(args, "offline", False))
    orders.check_inbox(settings)
    with jobs.run(settings, "run", {"offline": settings.offline},
                  trigger=settings.trigger) as job:
        problems = pipeline.run_all(job)
        for name, outcome in job.outcomes.items():
            print(f"{name} : {outcome.message}")
    return 1 if problems else 0


def cmd_schedule(args) -> int:
    from pipelines import schedule

    settings = _settings(args)
    orders.check_inbox(settings)
    return schedule.serve(settings)
