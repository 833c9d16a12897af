"""Order exports dropped in the inbox: orders (commandes), holders' declarations and the
tourniquet log (besoins). spec/ORDER_EXPORTS.md is the contract.

fetch(inbox) -> [InboxFile]                 I/O: list and hash files, never leaving the inbox
parse(file, known, ...) -> FileResult       read_export, or a `doublon` record
load(con, results, run_id, now)             raw.inbox_files, raw.<kind>, raw.quarantine

The inbox is read-only for Vigie: a rejected file is copied aside (beside the warehouse,
under a name made from its content hash) with its reason, never moved or renamed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pipelines.logs import log_step
from pipelines.sources.orders.importer import FileResult, read_export
from pipelines.sources.orders.readers import Limits, is_ignored
from pipelines.warehouse import insert_rows

SOURCE = "orders"
LABEL = "boîte de dépôt"

COLUMNS = {
    "commandes": [
        "numero_bc",
        "date_bc",
        "acheteur",
        "startup",
        "titulaire",
        "montant_ht",
        "montant_ttc",
        "accord_cadre",
        "lot",
        "objet",
        "date_debut",
        "date_fin",
    ],
    "declarations": [
        "numero_bc",
        "date_bc",
        "acheteur",
        "startup",
        "titulaire",
        "montant_ht",
        "montant_ttc",
        "accord_cadre",
        "lot",
        "objet",
        "date_debut",
        "date_fin",
        "date_information_dinum",
    ],
    "besoins": [
        "numero_besoin",
        "date_besoin",
        "acheteur",
        "startup",
        "titulaire",
        "rang",
        "reponse",
        "date_reponse",
        "motif",
        "numero_bc",
        "montant_estime_ht",
        "accord_cadre",
        "lot",
    ],
}


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


def parse(
    files: list[InboxFile],
    known: dict[tuple[str, str], str],
    known_sha: dict[str, str],
    limits: Limits,
    agreement_codes: dict[str, str],
) -> list[FileResult]:
    """Only what is new: a (content, path) already seen is skipped; the same content under
    another name is a `doublon`."""
    results, this_run = [], {}
    for f in files:
        if (f.sha256, f.rel) in known:
            continue
        if f.outside:
            results.append(
                FileResult(
                    f.sha256,
                    f.rel,
                    0,
                    "rejete",
                    reason="lien vers un fichier hors de la boîte de dépôt : ignoré",
                )
            )
            continue
        original = known_sha.get(f.sha256) or this_run.get(f.sha256)
        if original:
            results.append(
                FileResult(
                    f.sha256,
                    f.rel,
                    f.path.stat().st_size,
                    "doublon",
                    duplicate_of=original,
                    reason=f"contenu identique à « {original} », déjà lu : rien de nouveau chargé",
                )
            )
            continue
        this_run[f.sha256] = f.rel
        try:
            results.append(read_export(f.path, f.rel, f.sha256, limits, agreement_codes))
        except Exception as exc:  # one unreadable file must not block the inbox
            log_step("ingest.orders", f"{f.rel} : lecture impossible ({exc.__class__.__name__})", 30, fichier=f.rel)
            results.append(FileResult(f.sha256, f.rel, f.path.stat().st_size, "rejete",
                                      reason=f"fichier illisible ({exc.__class__.__name__} : {str(exc)[:200]}) ; "
                                             "il est mis de côté, signalez-le à l'équipe Vigie"))
    return results


def keep_aside(result: FileResult, source: Path, folder: Path) -> str:
    """Copy a rejected file beside the warehouse, untouched, with its reason."""
    folder.mkdir(parents=True, exist_ok=True)
    suffix = re.sub(r"[^.a-z0-9]", "", Path(result.path).suffix.lower())[:8]
    target = folder / f"{result.sha256[:16]}{suffix}"
    if source.is_file() and not target.exists():
        tmp = target.with_name(target.name + ".tmp")
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    target.with_suffix(target.suffix + ".raison.txt").write_text(
        f"Fichier : {result.path}\nEmpreinte SHA-256 : {result.sha256}\nRaison du rejet : {result.reason}\n",
        encoding="utf-8",
    )
    return str(target)


def load(con, results: list[FileResult], run_id: str, now: datetime) -> int:
    """Write what `parse` produced; returns the number of files recorded."""
    seq = con.execute("SELECT coalesce(max(seq), 0) FROM raw.inbox_files").fetchone()[0]
    for result in results:
        seq += 1
        result.check()
        con.execute(
            "INSERT INTO raw.inbox_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                result.sha256,
                result.path,
                seq,
                result.size,
                result.kind,
                result.status,
                result.reason,
                result.rows_read,
                result.rows_loaded,
                result.rows_quarantined,
                result.rows_skipped,
                result.header_line,
                result.sheet,
                result.encoding,
                result.separator,
                json.dumps(result.columns, ensure_ascii=False),
                result.duplicate_of,
                result.kept_at,
                run_id,
                now,
            ],
        )
        if result.loaded:
            columns = COLUMNS[result.kind]
            rows = [
                {"file_sha256": result.sha256, "seq": seq, "warnings": None, **r}
                for r in result.loaded
            ]
            insert_rows(
                con,
                f"raw.{result.kind}",
                rows,
                ["file_sha256", "seq", "line", *columns, "values_hash", "cells", "warnings"],
            )
        insert_rows(
            con,
            "raw.quarantine",
            [
                {"file_sha256": result.sha256, "path": result.path, "kind": result.kind, **q}
                for q in result.quarantined
            ],
            ["file_sha256", "path", "kind", "line", "reason_code", "reason", "cells"],
        )
    return len(results)
