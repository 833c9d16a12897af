"""The sources, by name: the registry the pipeline runs.

Every source is a module of pipelines/sources with the same shape (fetch, parse, load)
run by the one runner, pipelines/sources/runner.py: its transaction, its state in
meta.source_state, the data version and the step's outcome. Adding a source is adding its
module and one line here.
"""

from __future__ import annotations

from functools import partial

from pipelines.sources import betagouv, datagouv, orders, runner

SOURCES = {"betagouv": betagouv, "datagouv": datagouv, "orders": orders}  # step ingest.<name>


def source_step(name: str):
    """The step that runs source `name` (a function of the job, as `Job.step` takes)."""
    return partial(runner.run, source=SOURCES[name])
