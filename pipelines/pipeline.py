"""The scheduled job: ingest every source, validate, check, alert — one idempotent run.

Only what changed is processed again: sources answer 304 or are already known, the
resolution is recomputed only after a change, validation only when the data version
moved since the last validation. Validation that blocks stops the run before checks and
alerts, and says why. The steps themselves are in pipelines/steps.py; `run_check` and
`run_report` are the shorter chains behind `vigie check` and `vigie report`.
"""

from __future__ import annotations

import sys
from dataclasses import replace

from pipelines import ingest, resolve, steps, warehouse
from pipelines.config import command_hint
from pipelines.errors import VigieError
from pipelines.jobs import LOOK_AT, Job, StepOutcome

SOURCE_STEPS = {name: ingest.source_step(name) for name in ingest.SOURCES}


def run_sources(job: Job, sources: list[str], err=None) -> int:
    """Each source in its own transaction; one failing source does not stop the others: the
    runner turns any failure of a source into its SourceError, recorded by `job.step`."""
    err = err or sys.stderr
    failures = 0
    changed = job.step("reference", steps.sync_reference).changed
    settings, new = job.settings, is_new(job)
    if new and not settings.offline:  # nothing to protect yet: one try per source, not minutes of retries
        job.settings = replace(settings, http=replace(settings.http, attempts=1))
    unreachable = []
    try:
        for name in sources:
            try:
                outcome = job.step(f"ingest.{name}", SOURCE_STEPS[name])
            except VigieError as exc:
                failures += 1
                job.status = "attention"
                print(f"vigie : {exc.message}", file=err)
                unreachable += [name] if name in REMOTE else []
                continue
            changed |= outcome.changed
            failures += outcome.status in LOOK_AT
    finally:
        job.settings = settings
    if new and "betagouv" in unreachable:
        print(first_run_advice(settings), file=err)
    ensure_resolution(job, changed)
    return failures


REMOTE = ("betagouv", "datagouv")


def is_new(job: Job) -> bool:
    """No remote source has ever been loaded into this warehouse."""
    return not warehouse.scalar(job.con, "SELECT count(*) FROM meta.source_state WHERE last_success_at IS NOT NULL "
                                         "AND list_contains(?, source)", [list(REMOTE)])


def first_run_advice(settings) -> str:
    from pipelines.logs import redact

    return (f"vigie : l'entrepôt est neuf et beta.gouv.fr n'a pas pu être joint à {redact(settings.betagouv_api)} : sans "
            "réseau, lancez « vigie run --offline » (il part de l'instantané embarqué de beta.gouv.fr) ; sinon "
            "vérifiez l'adresse de l'API (variable VIGIE_BETAGOUV_API) et l'accès au réseau (proxy).")


def ensure_resolution(job: Job, changed: bool = False) -> None:
    """Resolve names again when the data, the aliases or the resolution code changed."""
    resolved = job.con.execute(
        "SELECT data_version, signature FROM meta.derived_state WHERE name = 'resolution'").fetchone()
    if changed or resolved != (warehouse.data_version(job.con), resolve.signature(job.settings)):
        job.step("resolution", steps.refresh_resolution)


def validation_needed(job: Job) -> bool:
    last = warehouse.scalar(job.con, "SELECT max(data_version) FROM validation.results")
    return last is None or last < warehouse.data_version(job.con)


def run_all(job: Job, err=None, sources=None) -> int:
    """The whole chain: sources, validation, rules, alerts (the report is the caller's:
    it needs a month and a folder). Returns the number of things the user must look at."""
    err = err or sys.stderr
    failures = run_sources(job, sources or list(SOURCE_STEPS), err)
    if validation_needed(job):
        outcome = job.step("validate", steps.validate_step)
    else:
        outcome = StepOutcome("inchange", "Validation : données inchangées depuis la dernière validation.")
        job.recorder.step("validate", outcome.status, job.settings.now(), {}, outcome.message)
        job.outcomes["validate"] = outcome
    if outcome.status == "bloque":
        print(f"vigie : {outcome.message} Les règles et les alertes ne sont pas évaluées tant que "
              f"ces données ne sont pas corrigées (voir « {command_hint(job.settings, 'validate')} »).", file=err)
        return failures + 1
    job.step("check", steps.check_step)
    alert = job.step("alert", steps.alert_step)
    return failures + (alert.status == "echec")


def run_check(job: Job) -> StepOutcome:
    """`vigie check` on its own: reference lists and name resolution up to date, then the rules."""
    job.step("reference", steps.sync_reference)
    ensure_resolution(job)
    return job.step("check", steps.check_step)


def run_report(job: Job, month: str, folder, agreement: str | None = None, pdf: bool = False) -> StepOutcome:
    """`vigie report` on its own: reference lists up to date, then the month's report in `folder`."""
    job.step("reference", steps.sync_reference)
    return job.step("report", steps.report_step, month=month, folder=folder, agreement=agreement, pdf=pdf)
