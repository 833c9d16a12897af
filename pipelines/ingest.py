"""The sources, by name, and the steps around them (reference files, name resolution).

Every source is a module of pipelines/sources with the same shape (fetch, parse, load)
run by the one runner, pipelines/sources/runner.py: its transaction, its state in
meta.source_state, the data version and the step's outcome. Adding a source is adding its
module and one line here.
"""

from __future__ import annotations

from functools import partial

from pipelines import agreements, materialise, resolve, warehouse
from pipelines.jobs import Job, StepOutcome
from pipelines.sources import betagouv, datagouv, orders, runner
from pipelines.sources.orders import check_inbox  # noqa: F401 - commands and demo check the inbox first

SOURCES = {"betagouv": betagouv, "datagouv": datagouv, "orders": orders}  # step ingest.<name>


def source_step(name: str):
    """The step that runs source `name` (a function of the job, as `Job.source_step` takes)."""
    return partial(runner.run, source=SOURCES[name])


def sync_reference(job: Job) -> StepOutcome:
    """Agreement files and reference lists into `ref` (only when a file changed)."""
    dirs = job.settings.agreements_dirs
    if agreements.is_current(job.con, dirs):
        names = [
            r[0]
            for r in job.con.execute(
                "SELECT agreement_id FROM ref.agreements ORDER BY 1"
            ).fetchall()
        ]
        return StepOutcome(
            "inchange", f"Accords-cadres inchangés ({', '.join(names)}).", {"accords": len(names)}
        )
    found = agreements.load_agreements(dirs)
    with warehouse.transaction(job.con):
        agreements.load_into_warehouse(job.con, found)
        warehouse.bump_data_version(job.con, job.run_id, "accords-cadres", job.settings.now())
    names = ", ".join(a.id for a in found)
    return StepOutcome("ok", f"Accords-cadres chargés : {names}.", {"accords": len(found)}, True)


def refresh_resolution(job: Job) -> StepOutcome:
    with warehouse.transaction(job.con):
        counts = resolve.refresh(job.con, job.settings)
        materialise.refresh(job.con)
        job.con.execute("INSERT OR REPLACE INTO meta.derived_state (name, data_version, signature) "
                        "VALUES ('resolution', ?, ?)", [warehouse.data_version(job.con), resolve.signature(job.settings)])
    return StepOutcome("ok", f"Résolution des startups, titulaires et acheteurs : {counts['a_revoir']} valeur(s) à revoir.",
                       counts, True)
