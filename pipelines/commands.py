"""The commands behind the CLI: parse nothing, print French, return an exit code."""

from __future__ import annotations

import sys

from pipelines import ingest, jobs, warehouse
from pipelines.cli import not_available
from pipelines.config import load_settings
from pipelines.errors import VigieError


def _settings(args, offline: bool = False):
    return load_settings(db=args.db, inbox=args.inbox, offline=offline)


SOURCES = {
    "betagouv": ingest.ingest_betagouv,
    "orders": ingest.ingest_orders,
}


def run_ingest(job, sources: list[str]) -> int:
    """Each source in its own transaction; one failing source does not stop the others."""
    failures = 0
    changed = job.step("reference", ingest.sync_reference).changed
    for name in sources:
        try:
            outcome = job.step(f"ingest.{name}", SOURCES[name])
            changed |= outcome.changed
            failures += outcome.status == "echec"
        except VigieError as exc:
            failures += 1
            job.status = "attention"
            print(f"vigie : {exc.message}", file=sys.stderr)
    if changed or not warehouse.scalar(job.con, "SELECT count(*) FROM core.startup_resolution"):
        job.step("resolution", ingest.refresh_resolution)
    return failures


def cmd_ingest(args) -> int:
    settings = _settings(args, offline=args.offline)
    wanted = list(SOURCES) if args.source == "all" else [args.source]
    missing = [s for s in wanted if s not in SOURCES]
    if missing:
        return not_available(f"ingest --source {missing[0]}", "source à venir")
    with jobs.run(settings, "ingest", {"source": args.source, "offline": args.offline}) as job:
        failures = run_ingest(job, wanted)
        for name, outcome in job.outcomes.items():
            print(f"{name} : {outcome.message}")
    return 1 if failures else 0


def cmd_demo(args) -> int:
    return not_available("demo", "à venir")


def cmd_validate(args) -> int:
    return not_available("validate", "à venir")


def cmd_check(args) -> int:
    return not_available("check", "à venir")


def cmd_alert(args) -> int:
    return not_available("alert", "à venir")


def cmd_findings(args) -> int:
    return not_available("findings", "à venir")


def cmd_status(args) -> int:
    return not_available("status", "à venir")


def cmd_review(args) -> int:
    return not_available("review", "à venir")


def cmd_report(args) -> int:
    return not_available("report", "à venir")


def cmd_run(args) -> int:
    return not_available("run", "à venir")


def cmd_schedule(args) -> int:
    return not_available("schedule", "à venir")
