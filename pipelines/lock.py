"""One writer at a time: an advisory lock file beside the warehouse.

The kernel releases a flock when its process dies (even by SIGKILL), so a crash never
leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from pipelines.errors import LockBusy, VigieError


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "{}")
        since = datetime.fromisoformat(info["since"]).strftime("%d/%m/%Y à %H:%M:%S")
        return f"« vigie {info.get('command', '?')} » (processus {info.get('pid', '?')}, depuis le {since})"
    except (OSError, ValueError, KeyError):
        return "une autre exécution de Vigie"


@contextmanager
def exclusive(path: Path, command: str, now: datetime, wait_seconds: float = 0.0):
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(path, "a+", encoding="utf-8")
    except OSError as exc:  # a read-only folder or disk: said in French, nothing touched
        raise VigieError(
            f"Le verrou {path} ne peut pas être créé ({exc.strerror or exc.__class__.__name__}) : le dossier de "
            "l'entrepôt n'est pas accessible en écriture (droits du dossier, disque plein ou en lecture seule). "
            "Rien n'a été modifié. Vérifiez les droits et la place libre, ou utilisez une copie de l'entrepôt."
        ) from None
    deadline = time.monotonic() + wait_seconds
    try:
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockBusy(
                        f"L'entrepôt est déjà utilisé par {_holder(path)} : cette commande s'arrête "
                        "sans rien modifier. Relancez-la quand l'autre exécution sera terminée."
                    ) from None
                time.sleep(0.2)
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps({"pid": os.getpid(), "command": command, "since": now.isoformat()}))
        fh.flush()
        yield
    finally:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        finally:
            fh.close()
