"""Writing the user's files: a folder tried before any work, a file replaced atomically,
and an OS error said in French (exit 2) rather than a traceback."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from pipelines.errors import UsageError

OS_FR = {errno.ENOENT: "dossier introuvable ou impossible à créer", errno.EACCES: "permission refusée", errno.EPERM: "opération non permise",
         errno.EROFS: "disque en lecture seule", errno.ENOTDIR: "un élément du chemin n'est pas un dossier",
         errno.ENOSPC: "disque plein", errno.EEXIST: "un fichier porte déjà ce nom"}


def cannot_write(path: Path, exc: OSError, option: str) -> UsageError:
    reason = OS_FR.get(exc.errno, exc.strerror or exc.__class__.__name__)
    return UsageError(f"Impossible d'écrire dans {path} ({option}) : {reason}. Choisissez un dossier où vous pouvez écrire.")


def writable_folder(folder: Path, option: str) -> None:
    """Create the output folder and try a write now: a bad --output is a French sentence
    (exit 2) before any work, not an internal error at the end."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".vigie-{os.getpid()}.tmp"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise cannot_write(folder, exc, option) from None


def write_atomically(path: Path, text: str, option: str = "--output") -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise cannot_write(path, exc, option) from None
