"""The one runner of every source (the shape of dlt's verified sources).

A source is a module with `SOURCE` (its key in meta.source_state), `DATA_LABEL` (how
meta.data_versions names it) and three functions:

    fetch(job) -> raw            all I/O: HTTP, files, what the warehouse already holds
    parse(raw, today) -> parsed  pure: no I/O, no clock (`today` is given)
    load(con, parsed) -> Loaded  SQL inserts into raw.*, inside the runner's transaction

The runner owns, for every source, what used to be written once per source: the
transaction (a failed load leaves the warehouse as it was), meta.source_state (a failure
is recorded, so staleness follows), the data version and the step's outcome.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from types import ModuleType

import duckdb

from pipelines import warehouse
from pipelines.errors import SourceError, VigieError
from pipelines.jobs import Job, StepOutcome, record_source
from pipelines.secrets import redact


@dataclass
class Loaded:
    """What a source's `load` did, for the runner to record and say."""

    status: str  # the step's status: ok | inchange | attention
    message: str  # French, for the step's line
    counts: dict = field(default_factory=dict)
    changed: bool = False  # the warehouse's data changed: its data version moves
    data_as_of: datetime | None = None  # the date the data describes, when known
    state: str | None = None  # meta.source_state's status when not `status` (ok | inchange)


class Skip(Exception):  # noqa: N818 - not an error: the step is skipped
    """Raised by `fetch` when there is nothing to read this run (offline): the step says
    why, and the source's state is left as it was."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def run(job: Job, source: ModuleType) -> StepOutcome:
    """fetch, parse, then load in one transaction; the source's state and the data
    version follow the outcome. Any failure, even one nobody foresaw (a payload of the
    wrong shape, a RecursionError), is recorded as the source's failure and raised as a
    SourceError with a French reason, never the end of the run."""
    con, now = job.con, job.settings.now()
    try:
        raw = source.fetch(job)
        parsed = source.parse(raw, now.date())
        with warehouse.transaction(con):
            loaded = source.load(con, parsed)
            if loaded.changed:
                warehouse.bump_data_version(con, job.run_id, source.DATA_LABEL, now)
    except Skip as skip:
        return StepOutcome("ignore", skip.message)
    except SourceError as exc:
        record_source(con, source.SOURCE, now, "echec", error=exc.message)
        raise
    except VigieError:
        raise  # the user's to fix (an inbox that is not a folder): not the source's failure
    except Exception as exc:  # noqa: BLE001 - every failure of one source stays that source's
        message = unexpected(exc, source.SOURCE, job.settings.db_path)
        record_source(con, source.SOURCE, now, "echec", error=message)
        raise SourceError(message) from exc
    record_source(con, source.SOURCE, now, loaded.state or loaded.status, data_as_of=loaded.data_as_of,
                  changed=loaded.changed)
    return StepOutcome(loaded.status, loaded.message, loaded.counts, loaded.changed)


def unexpected(exc: Exception, source: str, db_path) -> str:
    """French, for a failure no source foresaw: the machine's (disk, damaged file) said as
    such, anything else named with its kind."""
    machine = warehouse.explain(exc, db_path) if isinstance(exc, duckdb.Error | OSError) else None
    if machine:
        return (f"La source « {source} » a échoué : {machine} Les autres sources, les règles et les alertes "
                "continuent.")
    detail = redact(str(exc))[:300] or "sans détail"
    return (f"La source « {source} » a échoué sur une erreur inattendue ({exc.__class__.__name__} : "
            f"{detail}) : ses données précédentes restent en place ; les autres sources, les règles "
            "et les alertes continuent. Signalez-le à l'équipe Vigie.")
