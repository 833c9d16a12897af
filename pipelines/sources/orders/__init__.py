"""Order exports dropped in the inbox: orders (commandes), holders' declarations and the
tourniquet log (besoins). spec/ORDER_EXPORTS.md is the contract.

fetch(job) -> raw          I/O: the inbox listed and hashed (scan), never leaving it; what the
                           warehouse already read; the agreements' keys
parse(raw, today)          the new files, each read by read_export (in worker processes when
                           there is much to read) or recorded as a `doublon`, one at a time as
                           `load` takes them: a file's cells are read then, not before, so
                           that memory stays that of a few files
load(con, parsed)          raw.inbox_files, raw.<kind>, raw.inbox_quarantine (load_one); a refused
                           file is copied aside first

The inbox is read-only for Vigie: a rejected file is copied aside (beside the warehouse,
under its own name, with its reason in `<name>.raison.txt`), never moved or renamed.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import multiprocessing
import os
import re
import shutil
import stat
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pipelines.config import command_hint
from pipelines.errors import UsageError, VigieError
from pipelines.logs import log_step
from pipelines.sources.orders.headers import KINDS
from pipelines.sources.orders.importer import FileResult, read_export
from pipelines.sources.orders.readers import Limits, is_ignored
from pipelines.sources.runner import Loaded
from pipelines.warehouse import INBOX_TABLES, insert_rows

SOURCE = "orders"
LABEL = "boîte de dépôt"

# The staged columns of each kind, in the order of its header specification.
COLUMNS = {kind: list(spec["columns"]) for kind, spec in KINDS.items()}


@dataclass
class InboxFile:
    path: Path
    rel: str  # as shown: control characters and undecodable bytes escaped
    sha256: str
    outside: bool = False  # a link leading out of the inbox
    problem: str | None = None  # refused before reading: the French reason
    deferred: bool = False  # still being written: left for the next run
    size: int = 0
    seen: tuple = field(default=(), repr=False)  # (size, mtime_ns, age in s) when hashed


@dataclass(frozen=True)
class InboxRules:
    """What the listing needs to know: Vigie's own files, and when a file is settled."""

    own_files: tuple[Path, ...]  # the warehouse, its journal and lock
    own_dirs: tuple[Path, ...]  # the folders Vigie writes (copies, downloads, outbox)
    settle_seconds: float  # a recent file is looked at twice, this long apart ([inbox] settings)
    min_age_seconds: float  # a file modified more recently than this waits

    @classmethod
    def from_settings(cls, settings) -> InboxRules:
        conf = settings.inbox_limits
        db = settings.db_path
        return cls((db, db.with_name(db.name + ".wal"), settings.lock_path),
                   (settings.data_dir, settings.rejected_dir, settings.downloads, settings.outbox),
                   float(conf.settle_seconds), float(conf.min_file_age_seconds))


RECENT_SECONDS = 2.0
_SHOWN_ESCAPED = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def shown_name(name: str) -> str:
    """A file name as Vigie shows and stores it: a newline (or any control character) is
    written as an escape, so a name can never fake a line of `vigie status` or a log;
    bytes that are not UTF-8 are shown as \\xNN."""
    text = os.fsencode(name).decode("utf-8", "backslashreplace")
    return _SHOWN_ESCAPED.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def _decodable(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # surrogate escapes: bytes that are not UTF-8
        return False
    return True


def _why(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "fichier disparu entre la liste et la lecture"
    if isinstance(exc, PermissionError):
        return "lecture interdite (droits du fichier)"
    return f"lecture impossible ({exc.strerror or exc.__class__.__name__})"


def _own_inodes(rules: InboxRules, inbox: Path) -> set[tuple[int, int]]:
    """(device, inode) of the files Vigie wrote (the warehouse, the copies it keeps):
    a hard link to one of them in the inbox is not an export."""
    paths = list(rules.own_files)
    for folder in rules.own_dirs[1:]:  # the warehouse folder itself may hold anything
        if folder.is_dir() and not inbox.is_relative_to(folder.resolve()):
            with contextlib.suppress(OSError):
                paths += [p for p in folder.rglob("*")]
    found: set[tuple[int, int]] = set()
    for path in paths:
        with contextlib.suppress(OSError):
            st = os.lstat(path)
            found.add((st.st_dev, st.st_ino))
    return found


def _refused(path: Path, rel: str, reason: str) -> InboxFile:
    # Keyed by name: reported once, not again at every run while it stays there.
    return InboxFile(path, rel, hashlib.sha256(rel.encode()).hexdigest(), problem=reason)


def scan(inbox: Path, rules: InboxRules) -> list[InboxFile]:
    """Every regular file under the inbox, in path order, with its content hash. Each
    entry that is not one (a link, a named pipe, an unreadable folder, a name that is not
    UTF-8, a hard link to the warehouse, Vigie's own folder) is listed with its reason,
    never followed; one bad entry never stops the others. A file still being written is
    listed as deferred."""
    inbox = inbox.resolve()
    # Vigie's folders found inside the inbox are never read (the inbox itself may sit in
    # the warehouse folder: that one is not refused).
    own_dirs = {d.resolve() for d in rules.own_dirs if d.resolve() != inbox and d.resolve().is_relative_to(inbox)}
    own = _own_inodes(rules, inbox)
    found: list[InboxFile] = []
    _walk(inbox, inbox, "", own_dirs, own, found)
    # Written a moment ago: one short wait for all of them, then a second look (a file
    # being copied still grows). A negative age is a skewed clock: the second look decides.
    recent = [f for f in found if f.seen and f.seen[2] < RECENT_SECONDS]
    if recent and rules.settle_seconds > 0:
        time.sleep(rules.settle_seconds)
    for i, f in enumerate(found):
        if not f.seen or f.deferred:
            continue
        if f in recent:
            found[i] = f = _second_look(f)
        if 0 <= f.seen[2] < rules.min_age_seconds:
            f.deferred = True
    for f in found:
        if f.deferred:
            log_step("ingest.orders", f"{f.rel} : fichier en cours d'écriture, lu à la prochaine exécution", 30,
                     fichier=f.rel)
    return found


def _walk(folder: Path, inbox: Path, prefix: str, own_dirs: set[Path], own, found: list) -> None:
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: os.fsencode(e.name))
    except OSError as exc:
        rel = prefix.rstrip("/") or "."
        found.append(_refused(folder, rel, f"dossier illisible ({_why(exc)}) : son contenu n'est pas lu"))
        return
    for entry in entries:
        path = Path(entry.path)
        rel = prefix + shown_name(entry.name)
        if is_ignored(rel):
            continue
        if not _decodable(entry.name):
            found.append(_refused(path, rel, "nom de fichier illisible (caractères hors UTF-8) : renommez le "
                                             "fichier pour qu'il soit lu"))
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError as exc:
            found.append(_refused(path, rel, _why(exc)))
            continue
        if stat.S_ISLNK(st.st_mode):
            found.append(_link(path, rel, inbox))
        elif stat.S_ISDIR(st.st_mode):
            if path.resolve() in own_dirs:
                found.append(_refused(path, rel, "dossier de l'entrepôt de Vigie dans la boîte de dépôt : ignoré "
                                                 "(placez l'entrepôt hors de la boîte)"))
            else:
                _walk(path, inbox, rel + "/", own_dirs, own, found)
        elif not stat.S_ISREG(st.st_mode):
            found.append(_refused(path, rel, "ni un fichier ni un dossier (tube nommé, socket ou périphérique) : "
                                             "ignoré"))
        elif (st.st_dev, st.st_ino) in own:
            found.append(_refused(path, rel, "lien physique vers un fichier de Vigie (entrepôt, copie mise de "
                                             "côté, téléchargement) : ignoré"))
        else:
            found.append(_hashed(path, rel, st))


def _link(path: Path, rel: str, inbox: Path) -> InboxFile:
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return _refused(path, rel, "lien symbolique cassé (sa cible n'existe pas) : ignoré")
    if not target.is_relative_to(inbox):
        f = _refused(path, rel, "lien vers un fichier hors de la boîte de dépôt : ignoré")
        f.outside = True
        return f
    kind = "un dossier" if target.is_dir() else "un fichier"
    return _refused(path, rel, f"lien symbolique vers {kind} de la boîte de dépôt : ignoré (déposez le "
                               "fichier lui-même)")


def _hashed(path: Path, rel: str, before: os.stat_result) -> InboxFile:
    h = hashlib.sha256()
    try:
        # Swapped for a link or a pipe since it was listed: never followed, never waited on.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                return _refused(path, rel, "remplacé par autre chose qu'un fichier pendant la lecture : ignoré")
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        after = os.stat(path, follow_symlinks=False)
    except OSError as exc:
        return _refused(path, rel, _why(exc))
    age = time.time() - after.st_mtime  # file times are the real clock's, whatever VIGIE_NOW says
    changed = (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns)
    return InboxFile(path, rel, h.hexdigest(), size=after.st_size, deferred=changed,
                     seen=(after.st_size, after.st_mtime_ns, age))


def _second_look(f: InboxFile) -> InboxFile:
    try:
        now = os.stat(f.path, follow_symlinks=False)
    except OSError as exc:
        return _refused(f.path, f.rel, _why(exc))
    if (now.st_size, now.st_mtime_ns) != f.seen[:2]:
        f.deferred = True
    return f


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
    except OSError as exc:  # deleted or made unreadable since it was listed
        # Keyed apart from its content: if it comes back readable, it is read then.
        key = hashlib.sha256(f"indisponible:{rel}:{sha256}".encode()).hexdigest()
        return FileResult(key, rel, size, "rejete", reason=_why(exc) + " ; il sera lu s'il redevient lisible")
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


def read_new(
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
        if f.deferred or (f.sha256, f.rel) in known:
            continue
        if f.problem:
            plan.append(FileResult(f.sha256, f.rel, 0, "rejete", reason=f.problem))
            continue
        original = known_sha.get(f.sha256) or this_run.get(f.sha256)
        if original:
            plan.append(FileResult(f.sha256, f.rel, f.size, "doublon", duplicate_of=original,
                                   reason=f"contenu identique à « {original} », déjà lu : rien de nouveau chargé"))
            continue
        this_run[f.sha256] = f.rel
        plan.append((f.path, f.rel, f.sha256, f.size, limits, agreement_codes))
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
        try:
            with open(source, "rb") as src, open(tmp, "wb") as out:
                if excerpt:
                    out.write(src.read(min(EXCERPT_BYTES, max_bytes)))
                else:
                    shutil.copyfileobj(src, out)
            os.replace(tmp, kept)
        except BaseException:  # a full disk: no half copy left behind
            tmp.unlink(missing_ok=True)
            raise
    lines = [f"Fichier : {result.path}", f"Empreinte SHA-256 : {result.sha256}", f"Taille : {size} octets",
             f"Raison du rejet : {result.reason}"]
    if excerpt:
        lines.append(f"Copie : extrait des {min(EXCERPT_BYTES, max_bytes)} premiers octets seulement ({kept.name}) : le fichier "
                     "dépasse la taille copiée ; l'original reste dans la boîte de dépôt (retrouvez-le par son "
                     "empreinte).")
    note.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(kept if kept.exists() else note)  # nothing to copy (a link out of the inbox): the note


def keep_aside_or_say(result: FileResult, source: Path, folder: Path) -> None:
    """keep_aside, but a copy the disk refuses (full, read-only) never stops the inbox step:
    the original stays in the inbox, and the file's reason says the copy is missing."""
    try:
        result.kept_at = keep_aside(result, source, folder)
    except OSError as exc:
        why = "disque plein" if exc.errno == errno.ENOSPC else (exc.strerror or exc.__class__.__name__)
        result.reason = (f"{result.reason} ; sa copie n'a pas pu être mise de côté dans {folder} ({why}) : "
                         "l'original reste dans la boîte de dépôt")


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
            con.execute(f"INSERT INTO {INBOX_TABLES[result.kind]} (file_sha256, seq, {columns}, warnings) "  # noqa: S608 - constants
                        f"SELECT $sha, $seq, {columns}, NULL FROM _loaded_rows", {"sha": result.sha256, "seq": seq})
        finally:
            with contextlib.suppress(Exception):  # an aborted transaction refuses even this
                con.unregister("_loaded_rows")
    insert_rows(con, "raw.inbox_quarantine", [
        {"file_sha256": result.sha256, "path": result.path, "kind": result.kind, **q} for q in result.quarantined
    ], ["file_sha256", "path", "kind", "line", "reason_code", "reason", "cells"])
    result.loaded, result.quarantined, result.table = [], [], None


# ------------------------------------------------------------------ the source (see sources/runner.py)

DATA_LABEL = LABEL


def check_inbox(settings) -> None:
    """A misspelt --inbox / VIGIE_INBOX is said, not silently created and read as empty;
    only the default inbox (data/inbox) is created on first use."""
    if settings.inbox_given and not settings.inbox.exists():
        raise UsageError(f"La boîte de dépôt {settings.inbox} n'existe pas (--inbox / VIGIE_INBOX) : vérifiez le "
                         "chemin, ou créez ce dossier s'il doit recevoir les exports de commandes.")


def agreement_lookup(con) -> dict[str, str]:
    """Every way an order file may name an agreement (ref.agreement_keys, norm_key'd) -> its id."""
    return dict(con.execute(
        "SELECT code_key, agreement_id FROM ref.agreement_keys ORDER BY agreement_id, code_key").fetchall())


def fetch(job) -> dict:
    settings, con = job.settings, job.con
    inbox = settings.inbox
    check_inbox(settings)
    if not inbox.exists():
        inbox.mkdir(parents=True)
    if not inbox.is_dir():
        raise VigieError(f"La boîte de dépôt {inbox} n'est pas un dossier (--inbox / VIGIE_INBOX).")
    known = {(sha, path): status for sha, path, status in con.execute(
        "SELECT content_sha256, path, status FROM raw.inbox_files").fetchall()}
    known_sha = dict(con.execute(
        "SELECT content_sha256, arg_min(path, seq) FROM raw.inbox_files WHERE status <> 'doublon' GROUP BY 1"
    ).fetchall())
    return {"now": settings.now(), "run_id": job.run_id, "inbox": inbox,
            "files": scan(inbox, InboxRules.from_settings(settings)), "known": known, "known_sha": known_sha,
            "codes": agreement_lookup(con), "limits": Limits.from_settings(settings),
            "workers": int(settings.inbox_limits.workers), "rejected_dir": settings.rejected_dir,
            "status_command": command_hint(settings, "status")}


def parse(raw: dict, today) -> dict:
    """The new files' results, lazily (see the module's docstring)."""
    results = read_new(raw["files"], raw["known"], raw["known_sha"], raw["limits"], raw["codes"], raw["workers"])
    return {**raw, "results": results}


def load(con, parsed: dict) -> Loaded:
    files, inbox, now = parsed["files"], parsed["inbox"], parsed["now"]
    unread = {f.rel for f in files if f.problem}  # links, pipes, hard links to the warehouse: never copied
    results = []  # each file's accounting; its rows are let go once loaded
    notes = []  # what the user must read, per file
    seq = con.execute("SELECT coalesce(max(seq), 0) FROM raw.inbox_files").fetchone()[0]
    for result in parsed["results"]:
        if result.status == "rejete" and not result.path.startswith("..") and result.path not in unread:
            source = inbox / result.path
            keep_aside_or_say(result, source if not source.is_symlink() else Path(), parsed["rejected_dir"])
        seq += 1
        notes += file_notes(result, parsed["status_command"])
        load_one(con, result, seq, parsed["run_id"], now)
        results.append(result)
    return _outcome(files, results, notes, now)


def _outcome(files: list[InboxFile], results: list[FileResult], notes: list[str], now: datetime) -> Loaded:
    loaded = [r for r in results if r.status == "charge" and r.rows_loaded]
    counts = {
        "fichiers_vus": len(files),
        "fichiers_nouveaux": len(results),
        "charges": sum(r.status == "charge" for r in results),
        "rejetes": sum(r.status == "rejete" for r in results),
        "doublons": sum(r.status == "doublon" for r in results),
        "lignes_lues": sum(r.rows_read for r in results),
        "lignes_chargees": sum(r.rows_loaded for r in results),
        "lignes_en_quarantaine": sum(r.rows_quarantined for r in results),
    }
    deferred = [f.rel for f in files if f.deferred]
    later = (f" {len(deferred)} fichier(s) en cours d'écriture, lu(s) à la prochaine exécution : "
             + ", ".join(f"« {name} »" for name in deferred) + ".") if deferred else ""
    counts["differes"] = len(deferred)
    as_of = now if loaded else None
    if not results:
        return Loaded("inchange", f"Boîte de dépôt : aucun fichier nouveau ({len(files)} fichiers déjà lus)."
                      + later, counts, False, as_of)
    msg = (f"Boîte de dépôt : {counts['fichiers_nouveaux']} fichier(s) nouveau(x) — {counts['charges']} chargé(s), "
           f"{counts['rejetes']} rejeté(s), {counts['doublons']} doublon(s) ; {counts['lignes_chargees']} ligne(s) "
           f"chargée(s), {counts['lignes_en_quarantaine']} en quarantaine." + later)
    msg += "".join(f"\n  {note}" for note in notes)
    # Files refused while others loaded: the step did its work, and there is something to look at.
    status = "attention" if counts["rejetes"] else "ok"
    return Loaded(status, msg, counts, True, as_of, state="ok")


def file_notes(result, status_command: str = "vigie status") -> list[str]:
    """« fichier : raison » for a refused file; its quarantined rows counted, with their first reasons."""
    if result.status == "rejete":
        kept = f" (copie : {result.kept_at})" if result.kept_at else ""
        return [f"refusé — {result.path} : {result.reason}{kept}"]
    if result.rows_quarantined:
        reasons = list(dict.fromkeys(q.get("reason") or q.get("reason_code") for q in result.quarantined))
        shown = " ; ".join(str(r) for r in reasons[:2]) + (" ; …" if len(reasons) > 2 else "")
        return [f"quarantaine — {result.path} : {result.rows_quarantined} ligne(s) sur {result.rows_read} "
                f"({shown}) — détail : « {status_command} »"]
    return []
