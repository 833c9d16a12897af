"""What every command shares: the lock, the warehouse connection, the run record."""

from __future__ import annotations

import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

import duckdb

from pipelines import lock, warehouse
from pipelines.config import Settings
from pipelines.errors import VigieError
from pipelines.logs import log_step
from pipelines.secrets import redact

# Step statuses that make the run "attention" (exit code 1): something for the user to look at.
LOOK_AT = ("attention", "echec", "bloque")


@dataclass
class StepOutcome:
    status: str  # ok | inchange | ignore | attention | echec | bloque
    message: str  # French, one line
    counts: dict = field(default_factory=dict)
    changed: bool = False


@dataclass
class Job:
    con: duckdb.DuckDBPyConnection
    settings: Settings
    recorder: warehouse.RunRecorder
    status: str = "succes"  # succes | attention | echec
    outcomes: dict[str, StepOutcome] = field(default_factory=dict)

    @property
    def run_id(self) -> str:
        return self.recorder.run_id

    def step(self, name: str, func, *args, **kwargs) -> StepOutcome:
        """Run one step, log one line, record it; a VigieError is recorded then raised."""
        started_wall = self.settings.now()
        started = time.monotonic()
        try:
            outcome = func(self, *args, **kwargs)
        except VigieError as exc:
            self.recorder.step(name, "echec", started_wall, {}, exc.message)
            log_step(
                name, exc.message, 40, statut="echec", duree_s=f"{time.monotonic() - started:.2f}"
            )
            raise
        self.outcomes[name] = outcome
        self.recorder.step(name, outcome.status, started_wall, outcome.counts, outcome.message)
        log_step(
            name,
            outcome.message,
            30 if outcome.status in LOOK_AT else 20,
            statut=outcome.status,
            duree_s=f"{time.monotonic() - started:.2f}",
        )
        if outcome.status in LOOK_AT:
            self.status = "attention"
        return outcome


@contextmanager
def run(
    settings: Settings,
    command: str,
    args: dict | None = None,
    trigger: str = "manuel",
    wait_seconds: float = 0.0,
):
    """Lock, open, record. The caller's data work goes in `warehouse.transaction`."""
    with lock.exclusive(settings.lock_path, command, settings.now(), wait_seconds):
        con = warehouse.open_warehouse(settings)
        recorder = warehouse.RunRecorder(con, settings, command, args, trigger)
        job = Job(con, settings, recorder)
        try:
            yield job
        except VigieError as exc:
            recorder.finish("echec", exc.message)
            raise
        except BrokenPipeError:
            # The reader of our output went away (`vigie check | head -1`): the work
            # already committed stands, the run keeps the status its steps gave it.
            _finish_quietly(recorder, None, job.status)
            raise
        except (duckdb.Error, OSError) as exc:
            # The machine, not the data: disk full, read-only, damaged file.
            sentence = warehouse.explain(exc, settings.db_path)
            if sentence is None:
                detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
                _finish_quietly(recorder, f"Erreur interne : {redact(detail)}")
                raise
            _finish_quietly(recorder, sentence)
            raise VigieError(sentence) from exc
        except BaseException as exc:
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            recorder.finish("echec", f"Erreur interne : {redact(detail)}")
            raise
        else:
            recorder.finish(job.status)
        finally:
            con.close()


def _finish_quietly(recorder, message: str | None, status: str = "echec") -> None:
    """Record the outcome if the warehouse still takes writes (a full disk may refuse)."""
    try:
        recorder.finish(status, message)
    except (duckdb.Error, OSError):
        pass


def record_source(
    con,
    source: str,
    now: datetime,
    status: str,
    data_as_of: datetime | None = None,
    error: str | None = None,
    changed: bool = False,
) -> None:
    """Source freshness bookkeeping, outside the data transaction (a failure is kept)."""
    cur = con.cursor()
    try:
        cur.execute(
            "INSERT INTO meta.source_state (source) VALUES (?) ON CONFLICT DO NOTHING", [source]
        )
        cur.execute(
            "UPDATE meta.source_state SET last_attempt_at = ?, last_status = ? WHERE source = ?",
            [now, status, source],
        )
        if status in ("ok", "inchange"):
            cur.execute(
                "UPDATE meta.source_state SET last_success_at = ?, last_error = NULL, "
                "data_as_of = coalesce(?, data_as_of) WHERE source = ?",
                [now, data_as_of, source],
            )
        else:
            cur.execute(
                "UPDATE meta.source_state SET last_error = ? WHERE source = ?",
                [redact(error or ""), source],
            )
        if changed:
            cur.execute(
                "UPDATE meta.source_state SET last_change_at = ? WHERE source = ?", [now, source]
            )
    finally:
        cur.close()
