"""The one place that opens DuckDB, applies `sql/` and runs work in transactions.

Layers (schemas, docs/ARCHITECTURE-sql.md): `raw` as received; `ref` the agreements and
reference lists loaded from files; `core` derived facts (entity resolution); `stg` views
that rename/cast one source; `int` intermediate views (joins, dedup, matching); `mart`
what the rules, report and notebooks read; `findings`, `alerts`, `validation`; `meta`
run history and source state. Tables are created by `sql/ddl/<schema>.sql`.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb

from pipelines.config import PACKAGE_DIR, Settings
from pipelines.errors import VigieError
from pipelines.secrets import redact

SQL_DIR = PACKAGE_DIR / "sql"
SCHEMAS = ("raw", "ref", "core", "stg", "int", "mart", "findings", "alerts", "validation", "meta")
# Order matters: ddl creates the tables, staging views read raw, intermediate views read
# staging/ref/core, marts read staging/intermediate (a view is bound when created).
LAYERS = ("ddl", "staging", "intermediate", "marts")
VIEW_SCHEMAS = ("stg", "int", "mart")

# The table each inbox kind is loaded into (the kind is data: inbox_files.kind).
INBOX_TABLES = {"commandes": "raw.inbox_orders", "declarations": "raw.inbox_declarations",
                "besoins": "raw.inbox_needs"}

# Tables renamed by issue #20 (French names -> English): (schema, old, new). A warehouse
# written before is renamed in place when opened, rows kept.
RENAMED_TABLES = (
    ("raw", "commandes", "inbox_orders"),
    ("raw", "declarations", "inbox_declarations"),
    ("raw", "besoins", "inbox_needs"),
    ("raw", "quarantine", "inbox_quarantine"),
)


def sql_text(relative: str) -> str:
    return (SQL_DIR / relative).read_text(encoding="utf-8")


def _layer_files(layer: str) -> list[Path]:
    return sorted((SQL_DIR / layer).glob("*.sql"))


def explain(exc: BaseException, path: Path) -> str | None:
    """The French sentence for what the machine did to the warehouse (held by another
    program, damaged, disk full, read-only), or None for anything else."""
    text = str(exc)
    low = text.lower()
    if "conflicting lock" in low or "could not set lock" in low:
        held = re.search(r"held in (.+?) \(PID (\d+)\)", text)
        who = (f"le programme « {Path(held[1]).name} » (processus {held[2]})" if held
               else "un autre programme")
        return (f"L'entrepôt {path} est ouvert par {who} — un notebook, ou une autre exécution de Vigie. "
                "Un notebook qui le lit bloque l'écriture : fermez-le (ou redémarrez son noyau), puis relancez. "
                "Rien n'a été modifié.")
    if not_a_warehouse(exc):
        return (f"L'entrepôt {path} est abîmé ou n'est pas un fichier DuckDB : il n'a pas été modifié. Restaurez la "
                "dernière sauvegarde, ou déplacez-le et relancez « vigie run » pour le reconstruire depuis les sources.")
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC or "no space left" in low:
        return (f"Disque plein à côté de l'entrepôt {path} : l'étape en cours a été annulée, rien n'est perdu. "
                "Libérez de la place puis relancez.")
    if (isinstance(exc, OSError) and exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM)
            or "read-only file system" in low or "permission denied" in low or "read only" in low):
        return (f"L'entrepôt {path} n'est pas accessible en écriture (droits du fichier ou disque en lecture "
                "seule) : rien n'a été modifié. Vérifiez les droits, ou utilisez une copie.")
    return None


def not_a_warehouse(exc: BaseException) -> bool:
    """DuckDB refuses the file itself: damaged, or not a DuckDB file at all."""
    low = str(exc).lower()
    return "not a valid duckdb database" in low or "corrupt" in low or "checksum" in low or "invalid database" in low


def connect(path: Path | str, read_only: bool = False, wait_seconds: float = 0.0) -> duckdb.DuckDBPyConnection:
    """Open the warehouse. Held by another program (a notebook reading it): retried until
    `wait_seconds` have passed, then a French sentence naming the holder."""
    path = Path(path)
    if read_only and not path.exists():
        raise VigieError(
            f"L'entrepôt {path} n'existe pas encore : lancez d'abord « vigie run » ou « vigie demo ».", 2)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise VigieError(explain(exc, path) or f"Impossible de créer le dossier de l'entrepôt {path.parent} : "
                         f"{exc.strerror}.") from None
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except (duckdb.Error, OSError) as exc:
            held = "lock" in str(exc).lower()
            if held and time.monotonic() < deadline:
                time.sleep(0.5)
                continue
            # A file that is not a warehouse is the configuration's fault (exit 2), not the run's.
            raise VigieError(explain(exc, path) or f"Impossible d'ouvrir l'entrepôt {path} : {exc}",
                             2 if not_a_warehouse(exc) else None) from None
    con.execute("SET TimeZone = 'Europe/Paris'")
    # DuckDB draws a progress bar on the terminal for long queries: not in our output.
    # (In Jupyter, DuckDB refuses to change it without ipywidgets: nothing drawn there.)
    with contextlib.suppress(duckdb.Error):
        con.execute("SET enable_progress_bar = false")
    return con


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create schemas and tables if missing, then (re)create every view. Idempotent."""
    with transaction(con):
        for schema in SCHEMAS:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        _migrate(con)
        con.execute(sql_text("macros.sql"))
        for layer in LAYERS:
            for path in _layer_files(layer):
                con.execute(path.read_text(encoding="utf-8"))
            if layer == "ddl":
                _widen_sums(con)


def _defined_views() -> set[str]:
    """Every view the SQL files create, as schema.name."""
    pattern = re.compile(r"CREATE OR REPLACE VIEW (\w+\.\w+)", re.IGNORECASE)
    return {name.lower() for layer in LAYERS for path in _layer_files(layer)
            for name in pattern.findall(path.read_text(encoding="utf-8"))}


def _migrate(con: duckdb.DuckDBPyConnection) -> None:
    """A warehouse written by an older Vigie: tables renamed in place (rows kept), views
    no SQL file defines any more dropped. Runs in ensure_schema's transaction."""
    existing = {(s, t) for s, t in con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables()").fetchall()}
    for schema, old, new in RENAMED_TABLES:
        if (schema, old) in existing and (schema, new) not in existing:
            con.execute(f'ALTER TABLE "{schema}"."{old}" RENAME TO "{new}"')
    defined = _defined_views()
    for schema, name in con.execute(
            "SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal "
            "AND list_contains(?, schema_name)", [list(VIEW_SCHEMAS)]).fetchall():
        # also the marts that were views before being stored as tables (materialise.py)
        if f"{schema}.{name}".lower() not in defined:
            con.execute(f'DROP VIEW "{schema}"."{name}"')


# Columns that may hold a sum of amounts: DECIMAL(38, 2) (up to 10^36 €) cannot overflow for
# any accepted input, where DECIMAL(18, 2) stops at 10^16 € — twenty orders near the bound.
WIDE_AMOUNTS = (("findings", "findings", "amount_ht"),)


def _widen_sums(con: duckdb.DuckDBPyConnection) -> None:
    """Warehouses created before the columns were widened are widened in place."""
    for schema, table, column in WIDE_AMOUNTS:
        current = scalar(con, "SELECT data_type FROM information_schema.columns WHERE table_schema = ? "
                              "AND table_name = ? AND column_name = ?", [schema, table, column])
        if current is not None and current != "DECIMAL(38,2)":
            con.execute(f'ALTER TABLE "{schema}"."{table}" ALTER COLUMN "{column}" TYPE DECIMAL(38, 2)')


def open_warehouse(settings: Settings, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    wait = float(settings.warehouse.lock_wait_seconds)
    con = connect(settings.db_path, read_only=read_only, wait_seconds=wait)
    if not read_only:
        try:
            ensure_schema(con)
        except (duckdb.Error, OSError) as exc:  # the file opens but its folder refuses the journal
            con.close()
            sentence = explain(exc, settings.db_path)
            if sentence is None:
                raise
            raise VigieError(sentence) from None
    return con


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All or nothing: on any exception the warehouse is left as it was."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    else:
        con.execute("COMMIT")


def insert_rows(
    con: duckdb.DuckDBPyConnection, table: str, rows: list, columns: list[str] | None = None
) -> int:
    """Bulk INSERT through a DataFrame (DuckDB's executemany goes row by row).

    `rows` are lists in the table's column order, or dicts when `columns` is given.
    `table` and `columns` are code constants, never user input.
    """
    if rows is None or len(rows) == 0:
        return 0
    import pandas as pd

    if columns:
        frame = pd.DataFrame(rows, columns=columns)
        target = f"{table} ({', '.join(columns)})"
        select = ", ".join(columns)
    else:
        frame = pd.DataFrame(rows, columns=[f"c{i}" for i in range(len(rows[0]))], dtype=object)
        target, select = table, "*"
    for column in frame.columns:
        # DuckDB guesses a DECIMAL's width from the first values of an object column, then
        # fails on a wider one (12 345,67 then 278 509 874,00): pass decimals as text, the
        # INSERT casts them to the table's own type, exactly.
        if frame[column].dtype == object:
            index = frame[column].first_valid_index()
            if index is not None and isinstance(frame[column][index], Decimal):
                frame[column] = frame[column].map(lambda v: None if pd.isna(v) else str(v)).astype(object)
    name = f"_insert_{abs(hash(table))}"
    con.register(name, frame)
    try:
        con.execute(f"INSERT INTO {target} SELECT {select} FROM {name}")  # noqa: S608 - constants only
    except duckdb.Error:
        with contextlib.suppress(duckdb.Error):  # an aborted transaction refuses even this
            con.unregister(name)
        raise
    con.unregister(name)
    return len(frame)


def scalar(con: duckdb.DuckDBPyConnection, query: str, params=None):
    row = con.execute(query, params or []).fetchone()
    return None if row is None else row[0]


def table_fingerprints(
    con: duckdb.DuckDBPyConnection, schemas=("raw", "ref", "core", "findings")
) -> dict:
    """A content hash per table: two equal fingerprints mean identical contents.

    Used by the idempotence tests and by `vigie run` to tell whether anything changed.
    """
    rows = con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_type = 'BASE TABLE' AND list_contains(?, table_schema) "
        "ORDER BY 1, 2",
        [list(schemas)],
    ).fetchall()
    out = {}
    for schema, table in rows:
        # Identifiers come from the catalogue, not from users.
        out[f"{schema}.{table}"] = scalar(
            con,
            f"SELECT count(*) || ':' || coalesce(sum(hash(t))::VARCHAR, '0') FROM \"{schema}\".\"{table}\" t",  # noqa: S608 - catalogue names
        )
    return out


# ---------------------------------------------------------------- run history


class RunRecorder:
    """Writes `meta.runs` / `meta.run_steps` on a cursor of its own, so a run that
    fails (and rolls its work back) is still recorded with its error."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        settings: Settings,
        command: str,
        args: dict | None = None,
        trigger: str = "manuel",
    ):
        self.cur = con.cursor()
        self.settings = settings
        self.command = command
        self.run_id = uuid.uuid4().hex[:16]
        self.counts: dict = {}
        self.started = settings.now()
        self._mark_interrupted()
        self.cur.execute(
            "INSERT INTO meta.runs (run_id, command, args, trigger, started_at, status, pid) "
            "VALUES (?, ?, ?, ?, ?, 'en_cours', ?)",
            [
                self.run_id,
                command,
                redact(json.dumps(args or {}, default=str)),
                trigger,
                self.started,
                os.getpid(),
            ],
        )

    def _mark_interrupted(self) -> None:
        # A run still 'en_cours' while we hold the lock was killed: say so.
        self.cur.execute(
            "UPDATE meta.runs SET status = 'interrompue', ended_at = NULL, "
            "error = 'Exécution interrompue (processus arrêté avant la fin).' "
            "WHERE status = 'en_cours'"
        )

    def step(
        self,
        name: str,
        status: str,
        started: datetime,
        counts: dict | None = None,
        message: str = "",
    ) -> None:
        ended = self.settings.now()
        self.cur.execute(
            "INSERT INTO meta.run_steps (run_id, step, started_at, ended_at, status, counts, message) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                self.run_id,
                name,
                started,
                ended,
                status,
                redact(json.dumps(counts or {}, default=str)),
                redact(message),
            ],
        )
        for key, value in (counts or {}).items():
            self.counts[f"{name}.{key}"] = value

    def finish(self, status: str, error: str | None = None) -> None:
        self.cur.execute(
            "UPDATE meta.runs SET ended_at = ?, status = ?, counts = ?, error = ? WHERE run_id = ?",
            [
                self.settings.now(),
                status,
                json.dumps(self.counts, default=str),
                redact(error) if error else None,
                self.run_id,
            ],
        )
        self.cur.close()


def data_version(con: duckdb.DuckDBPyConnection) -> int:
    return scalar(con, "SELECT coalesce(max(version), 0) FROM meta.data_versions") or 0


def bump_data_version(
    con: duckdb.DuckDBPyConnection, run_id: str, reason: str, at: datetime
) -> int:
    """Called inside a data transaction whenever an ingest changed something."""
    version = data_version(con) + 1
    con.execute(
        "INSERT INTO meta.data_versions (version, run_id, reason, created_at) VALUES (?, ?, ?, ?)",
        [version, run_id, reason, at],
    )
    return version


def relative_to_home(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
