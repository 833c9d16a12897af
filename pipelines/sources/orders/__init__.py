"""Order exports dropped in the inbox: orders (commandes), holders' declarations and the
tourniquet log (besoins). spec/ORDER_EXPORTS.md is the contract.

fetch(inbox) -> [InboxFile]                 I/O: list and hash files, never leaving the inbox
parse(file, known, ...) -> FileResult       read_export, or a `doublon` record
load(con, results, run_id, now)             raw.inbox_files, raw.<kind>, raw.quarantine

The inbox is read-only for Vigie: a rejected file is copied aside (beside the warehouse,
under its own name, with its reason in `<name>.raison.txt`), never moved or renamed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import os
import re
import shutil
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pipelines.logs import log_step
from pipelines.sources.orders.headers import KINDS
from pipelines.sources.orders.importer import FileResult, read_export
from pipelines.sources.orders.readers import Limits, is_ignored
from pipelines.warehouse import insert_rows

SOURCE = "orders"
LABEL = "boîte de dépôt"

# The staged columns of each kind, in the order of its header specification.
COLUMNS = {kind: list(spec["columns"]) for kind, spec in KINDS.items()}


@dataclass
class InboxFile:
    path: Path
    rel: str
    sha256: str
    outside: bool = False  # a link leading out of the inbox


def fetch(inbox: Path) -> list[InboxFile]:
    """Every regular file under the inbox, in path order. Links that lead outside the
    inbox are listed (to be reported) but never followed."""
    inbox = inbox.resolve()
    found = []
    for root, dirs, files in os.walk(inbox, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(root) / name
            rel = path.relative_to(inbox).as_posix()
            if is_ignored(rel):
                continue
            target = path.resolve()
            if path.is_symlink() and not target.is_relative_to(inbox):
                found.append(
                    InboxFile(path, rel, hashlib.sha256(rel.encode()).hexdigest(), outside=True)
                )
                continue
            if not target.is_file():
                continue
            h = hashlib.sha256()
            with open(target, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
            found.append(InboxFile(target, rel, h.hexdigest()))
    return found


ARROW_TYPES = {"text": "string", "response": "string", "agreement": "string", "date": "date32", "int": "int64"}


def columnar(result: FileResult) -> FileResult:
    """The loaded rows as one Arrow table in the raw table's column order: built where the
    file was read (a worker), inserted by DuckDB without a row-by-row conversion."""
    import pyarrow as pa

    if not result.loaded:
        return result
    spec = KINDS[result.kind]["columns"]
    fields = [pa.field("line", pa.int32())]
    for column in COLUMNS[result.kind]:
        kind = spec[column][0]
        fields.append(pa.field(column, pa.decimal128(18, 2) if kind == "money" else getattr(pa, ARROW_TYPES[kind])()))
    fields += [pa.field("values_hash", pa.string()), pa.field("cells", pa.string())]
    schema = pa.schema(fields)
    result.table = pa.Table.from_pylist(
        [{name: row.get(name) for name in schema.names} for row in result.loaded], schema=schema)
    result.loaded = []
    return result


def _read(task: tuple) -> FileResult:
    """read_export in a worker process, with the same safety net as in-process."""
    path, rel, sha256, size, limits, agreement_codes = task
    try:
        return columnar(read_export(path, rel, sha256, limits, agreement_codes))
    except Exception as exc:  # one unreadable file must not block the inbox
        return FileResult(sha256, rel, size, "rejete",
                          reason=f"fichier illisible ({exc.__class__.__name__} : {str(exc)[:200]}) ; "
                                 "il est mis de côté, signalez-le à l'équipe Vigie")


def workers_for(tasks: list[tuple], configured: int = 0) -> int:
    """Processes to read with: one below a few megabytes (starting workers costs ~0.5 s),
    else one per core, at most one per file."""
    if configured > 0:
        return max(1, min(configured, len(tasks)))
    size = sum(t[3] for t in tasks)
    if len(tasks) < 2 or size < 4 * 1024 * 1024:
        return 1
    return max(1, min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1,
                      len(tasks)))


def parse(
    files: list[InboxFile],
    known: dict[tuple[str, str], str],
    known_sha: dict[str, str],
    limits: Limits,
    agreement_codes: dict[str, str],
    workers: int = 0,
) -> Iterator[FileResult]:
    """Only what is new, in path order: a (content, path) already seen is skipped; the same
    content under another name is a `doublon`. Files are read in worker processes when
    there is enough to read; results come back one at a time, in order, so that the
    caller can load each and let it go (memory stays that of a few files)."""
    plan, this_run = [], {}
    for f in files:
        if (f.sha256, f.rel) in known:
            continue
        if f.outside:
            plan.append(FileResult(f.sha256, f.rel, 0, "rejete",
                                   reason="lien vers un fichier hors de la boîte de dépôt : ignoré"))
            continue
        original = known_sha.get(f.sha256) or this_run.get(f.sha256)
        if original:
            plan.append(FileResult(f.sha256, f.rel, f.path.stat().st_size, "doublon", duplicate_of=original,
                                   reason=f"contenu identique à « {original} », déjà lu : rien de nouveau chargé"))
            continue
        this_run[f.sha256] = f.rel
        plan.append((f.path, f.rel, f.sha256, f.path.stat().st_size, limits, agreement_codes))
    tasks = [t for t in plan if isinstance(t, tuple)]
    count = workers_for(tasks, workers)
    if count == 1:
        results = map(_read, tasks)
        pool = None
    else:
        # spawn, not fork: the parent holds DuckDB's threads and open warehouse
        pool = ProcessPoolExecutor(count, mp_context=multiprocessing.get_context("spawn"))
        results = pool.map(_read, tasks)
    try:
        for item in plan:
            result = next(results) if isinstance(item, tuple) else item
            if result.status == "rejete" and result.reason and result.reason.startswith("fichier illisible"):
                log_step("ingest.orders", f"{result.path} : lecture impossible", 30, fichier=result.path)
            yield result
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)


KEEP_ASIDE_MAX_BYTES = 5 * 1024 * 1024  # beyond this, a refused file is kept as an excerpt
EXCERPT_BYTES = 1024 * 1024


def _aside_name(rel: str) -> str:
    """The file's own name, made safe to write (no folder, no control character)."""
    name = re.sub(r"[\x00-\x1f\x7f/\\]", "_", Path(rel).name).strip(" .") or "fichier"
    return name[:200]


def _aside_target(folder: Path, name: str, sha256: str) -> Path:
    """`name`, or `name (2)`, `name (3)`… when another refused file already took it; the
    same content refused again gets its earlier place back."""
    stem, suffix = Path(name).stem, Path(name).suffix
    for n in range(1, 1000):
        candidate = folder / (name if n == 1 else f"{stem} ({n}){suffix}")
        note = candidate.with_name(candidate.name + ".raison.txt")
        if not note.exists() and not candidate.exists():
            return candidate
        if note.exists() and sha256 in note.read_text(encoding="utf-8", errors="replace"):
            return candidate
    return folder / f"{sha256[:16]}{suffix}"


def keep_aside(result: FileResult, source: Path, folder: Path, max_bytes: int = KEEP_ASIDE_MAX_BYTES) -> str:
    """Copy a rejected file beside the warehouse under its own name, with its reason in
    `<name>.raison.txt`. A file larger than `max_bytes` is not copied in full: an excerpt
    (its first bytes) is kept, and the note gives its size and hash to find the original."""
    folder.mkdir(parents=True, exist_ok=True)
    target = _aside_target(folder, _aside_name(result.path), result.sha256)
    note = target.with_name(target.name + ".raison.txt")
    size = source.stat().st_size if source.is_file() else 0
    excerpt = size > max_bytes
    kept = target.with_name(target.name + ".extrait") if excerpt else target
    if source.is_file() and not kept.exists():
        tmp = kept.with_name(kept.name + ".tmp")
        with open(source, "rb") as src, open(tmp, "wb") as out:
            if excerpt:
                out.write(src.read(min(EXCERPT_BYTES, max_bytes)))
            else:
                shutil.copyfileobj(src, out)
        os.replace(tmp, kept)
    lines = [f"Fichier : {result.path}", f"Empreinte SHA-256 : {result.sha256}", f"Taille : {size} octets",
             f"Raison du rejet : {result.reason}"]
    if excerpt:
        lines.append(f"Copie : extrait des {min(EXCERPT_BYTES, max_bytes)} premiers octets seulement ({kept.name}) : le fichier "
                     "dépasse la taille copiée ; l'original reste dans la boîte de dépôt (retrouvez-le par son "
                     "empreinte).")
    note.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(kept if kept.exists() else note)  # nothing to copy (a link out of the inbox): the note


def load(con, results: Iterable[FileResult], run_id: str, now: datetime) -> int:
    """Write what `parse` produced; returns the number of files recorded."""
    seq = con.execute("SELECT coalesce(max(seq), 0) FROM raw.inbox_files").fetchone()[0]
    count = 0
    for result in results:
        seq += 1
        load_one(con, result, seq, run_id, now)
        count += 1
    return count


def load_one(con, result: FileResult, seq: int, run_id: str, now: datetime) -> None:
    """One file's record, rows and quarantine; its rows are let go once written."""
    result.check()
    con.execute(
        "INSERT INTO raw.inbox_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            result.sha256, result.path, seq, result.size, result.kind, result.status, result.reason,
            result.rows_read, result.rows_loaded, result.rows_quarantined, result.rows_skipped,
            result.header_line, result.sheet, result.encoding, result.separator,
            json.dumps(result.columns, ensure_ascii=False), result.duplicate_of, result.kept_at, run_id, now,
        ],
    )
    if result.loaded:
        columnar(result)
    if result.table is not None:
        columns = ", ".join(["line", *COLUMNS[result.kind], "values_hash", "cells"])
        con.register("_loaded_rows", result.table)
        try:
            con.execute(f"INSERT INTO raw.{result.kind} (file_sha256, seq, {columns}, warnings) "  # noqa: S608 - constants
                        f"SELECT $sha, $seq, {columns}, NULL FROM _loaded_rows", {"sha": result.sha256, "seq": seq})
        finally:
            with contextlib.suppress(Exception):  # an aborted transaction refuses even this
                con.unregister("_loaded_rows")
    insert_rows(con, "raw.quarantine", [
        {"file_sha256": result.sha256, "path": result.path, "kind": result.kind, **q} for q in result.quarantined
    ], ["file_sha256", "path", "kind", "line", "reason_code", "reason", "cells"])
    result.loaded, result.quarantined, result.table = [], [], None
