"""What the machine refuses: an inbox sub-folder or file Vigie may not read, a warehouse it
may not write (the file, or its folder), a nearly full disk under the copies of refused files
or under the warehouse. Each gets a French sentence and the contract's exit code; nothing is
lost (the other files load, the warehouse keeps its rows, a later run catches up).

Tests and CI run as root, for whom file modes deny nothing: `vigie` then runs with the
capabilities that bypass them dropped (`setpriv --bounding-set`; it keeps uid 0, so the
interpreter under /root stays reachable, which `nobody` could not reach). For any other user
the modes bind already. A small disk is a tmpfs mounted by root, or, for any other user, one
mounted in a mount namespace of the test's own (`unshare`), reached through /proc/<pid>/root.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PINNED_NOW, ROOT, connect
from tests.reliability import record

HEADER = "N° BC;Date du BC;Bénéficiaire;Startup;Titulaire;Montant HT\n"
# What lets root ignore file modes and immutable flags.
BYPASS = "-dac_override,-dac_read_search,-fowner,-linux_immutable"


def export(number: str, rows: int = 1) -> str:
    return HEADER + "".join(f"{number}-{i};03/10/2026;DINUM;Visio;OCTO;1 000\n" for i in range(rows))


def unprivileged() -> list[str]:
    """The prefix under which file modes bind on `vigie`, whoever runs the tests."""
    return ["setpriv", "--bounding-set", BYPASS, "--"] if os.geteuid() == 0 else []


def vigie(*argv: str, inside: list[str] | None = None) -> subprocess.CompletedProcess:
    """`vigie` in its own process, time pinned, file modes binding (the workspace's settings);
    `inside`: the prefix that puts it where a small disk is mounted."""
    env = {**os.environ, "VIGIE_NOW": PINNED_NOW, "GX_ANALYTICS_ENABLED": "False"}
    return subprocess.run([*(inside or unprivileged()), sys.executable, "-m", "pipelines", *argv],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)


PROBE = """import os, sys
path, mode = sys.argv[1], sys.argv[2]
try:
    if mode == "lire":
        os.listdir(path) if os.path.isdir(path) else open(path, "rb").close()
    else:
        open(os.path.join(path, ".essai") if os.path.isdir(path) else path, "ab").close()
except PermissionError:
    sys.exit(3)
"""


def refused(path: Path, mode: str) -> bool:
    """The test's premise: `vigie`'s process is refused reading (`lire`) or writing `path`."""
    return subprocess.run([*unprivileged(), sys.executable, "-c", PROBE, str(path), mode]).returncode == 3


def inbox_rows(db) -> dict:
    return {path: (status, reason, kept_at) for path, status, reason, kept_at in connect(db).execute(
        "SELECT path, status, reason, kept_at FROM raw.inbox_files").fetchall()}


def orders_like(db, prefix: str) -> int:
    return connect(db).execute("SELECT count(*) FROM raw.inbox_orders WHERE numero_bc LIKE ?", [prefix + "-%"]).fetchone()[0]


def french(result: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in result.stderr and "erreur interne" not in result.stderr, result.stderr


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------- the inbox


def test_an_unreadable_sub_folder_is_reported_and_read_once_readable(workspace):
    inbox, db = workspace / "inbox", workspace / "data" / "vigie.duckdb"
    (inbox / "bon.csv").write_text(export("OK"), encoding="utf-8")
    sub = inbox / "sous_dossier"
    sub.mkdir()
    (sub / "cache.csv").write_text(export("SD", 3), encoding="utf-8")
    sub.chmod(0)
    try:
        assert refused(sub, "lire")
        result = vigie("ingest", "--source", "orders")
    finally:
        sub.chmod(0o755)
    french(result)
    assert result.returncode == 1
    rows = inbox_rows(db)
    assert rows["bon.csv"][0] == "charge" and orders_like(db, "OK") == 1
    status, reason, _ = rows["sous_dossier"]
    assert status == "rejete" and "dossier illisible" in reason and "lecture interdite" in reason
    assert "sous_dossier" in result.stdout + result.stderr
    assert not [p for p in rows if p.startswith("sous_dossier/")] and orders_like(db, "SD") == 0
    # readable again: its files are read at the next run
    result = vigie("ingest", "--source", "orders")
    assert result.returncode == 0, result.stderr
    assert inbox_rows(db)["sous_dossier/cache.csv"][0] == "charge" and orders_like(db, "SD") == 3
    record("Boîte de dépôt", "sous-dossier illisible (droits) dans la boîte de dépôt",
           "signalé avec sa raison, les autres fichiers chargés, code 1 ; lu à l'exécution suivante une fois lisible")


def test_a_file_whose_reading_is_denied_is_reported_and_the_others_load(workspace):
    inbox, db = workspace / "inbox", workspace / "data" / "vigie.duckdb"
    (inbox / "bon.csv").write_text(export("OK"), encoding="utf-8")
    secret = inbox / "secret.csv"
    secret.write_text(export("SE", 2), encoding="utf-8")
    secret.chmod(0)
    try:
        assert refused(secret, "lire")
        result = vigie("ingest", "--source", "orders")
    finally:
        secret.chmod(0o644)
    french(result)
    assert result.returncode == 1
    rows = inbox_rows(db)
    assert rows["bon.csv"][0] == "charge" and orders_like(db, "OK") == 1
    status, reason, kept_at = rows["secret.csv"]
    assert status == "rejete" and "lecture interdite" in reason and kept_at is None
    assert "secret.csv" in result.stdout + result.stderr
    result = vigie("ingest", "--source", "orders")
    assert result.returncode == 0, result.stderr
    assert inbox_rows(db)["secret.csv"][0] == "charge" and orders_like(db, "SE") == 2
    record("Boîte de dépôt", "fichier dont la lecture est interdite (droits)",
           "signalé « lecture interdite », les autres fichiers chargés, code 1 ; lu dès qu'il redevient lisible")


# ---------------------------------------------------------------- a read-only warehouse


def test_a_read_only_warehouse_file_is_said_so_and_left_untouched(workspace):
    inbox, db = workspace / "inbox", workspace / "data" / "vigie.duckdb"
    (inbox / "a.csv").write_text(export("A"), encoding="utf-8")
    assert vigie("ingest", "--source", "orders").returncode == 0
    (inbox / "b.csv").write_text(export("B", 2), encoding="utf-8")
    db.chmod(0o444)
    before = sha(db)
    try:
        assert refused(db, "ecrire")
        result = vigie("ingest", "--source", "orders")
        french(result)
        assert result.returncode == 1 and "n'est pas accessible en écriture" in result.stderr
        assert sha(db) == before
        shown = vigie("status")  # reading still works
        french(shown)
        assert "Fichiers de la boîte de dépôt : 1 " in shown.stdout
    finally:
        db.chmod(0o644)
    assert vigie("ingest", "--source", "orders").returncode == 0
    assert orders_like(db, "B") == 2
    record("Exploitation", "entrepôt en lecture seule (droits du fichier)",
           "phrase en français, code 1, fichier inchangé, « vigie status » le lit encore ; rechargé une fois les "
           "droits rendus")


@pytest.mark.parametrize("lock_left", [True, False], ids=["verrou_present", "sans_verrou"])
def test_a_read_only_warehouse_folder_is_said_so_and_left_untouched(workspace, lock_left):
    inbox, db = workspace / "inbox", workspace / "data" / "vigie.duckdb"
    (inbox / "a.csv").write_text(export("A"), encoding="utf-8")
    assert vigie("ingest", "--source", "orders").returncode == 0
    if not lock_left:
        db.with_name(db.name + ".lock").unlink()
    (inbox / "b.csv").write_text(export("B", 2), encoding="utf-8")
    before, listing = sha(db), sorted(p.name for p in db.parent.iterdir())
    db.parent.chmod(0o555)
    try:
        assert refused(db.parent, "ecrire")
        result = vigie("ingest", "--source", "orders")
    finally:
        db.parent.chmod(0o755)
    french(result)
    assert result.returncode == 1 and "n'est pas accessible en écriture" in result.stderr
    assert "rien n'a été modifié" in result.stderr.lower()
    assert sha(db) == before and sorted(p.name for p in db.parent.iterdir()) == listing
    assert vigie("ingest", "--source", "orders").returncode == 0
    assert orders_like(db, "B") == 2
    record("Exploitation", "dossier de l'entrepôt en lecture seule (avec ou sans verrou déjà créé)",
           "phrase en français, code 1, entrepôt et dossier inchangés ; rechargé une fois les droits rendus")


# ---------------------------------------------------------------- a nearly full disk


class TinyDisk:
    """A small filesystem on `folder`: a tmpfs mounted there by root; for any other user, one
    mounted in a mount namespace of the test's own: `vigie` runs in it (nsenter), the test
    reaches its files through /proc/<pid>/root (DuckDB would resolve that link, hence `copy`)."""

    def __init__(self, folder: Path, size: str, scratch: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.folder, self.scratch, self.holder = folder, scratch, None
        if os.geteuid() == 0:
            subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], check=True)
        else:
            self.holder = subprocess.Popen(
                ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                 f'mount -t tmpfs -o size={size} tmpfs "$0" && echo ready && exec sleep 3600', str(folder)],
                stdout=subprocess.PIPE, text=True)
            assert self.holder.stdout.readline().strip() == "ready"

    def view(self, path: Path) -> Path:
        """`path` as seen with the small disk mounted."""
        return path if self.holder is None else Path(f"/proc/{self.holder.pid}/root") / path.relative_to("/")

    @property
    def inside(self) -> list[str]:
        """The prefix that runs `vigie` with the small disk mounted, file modes binding."""
        if self.holder is None:
            return unprivileged()
        return ["nsenter", f"--target={self.holder.pid}", "--user", "--mount", "--preserve-credentials", f"--wd={ROOT}"]

    def copy(self, db: Path) -> Path:
        """A warehouse on the small disk, for the test to read: itself, or a copy taken through the view."""
        if self.holder is None:
            return db
        self.scratch.mkdir(exist_ok=True)
        for name in (db.name, db.name + ".wal"):
            (self.scratch / name).unlink(missing_ok=True)
            if self.view(db.with_name(name)).exists():
                shutil.copyfile(self.view(db.with_name(name)), self.scratch / name)
        return self.scratch / db.name

    def fill(self, leave: int) -> Path:
        """Take all the free space but `leave` bytes."""
        folder = self.view(self.folder)
        assert os.stat(folder).st_dev != os.stat(folder.parent).st_dev  # the small disk is there
        info = os.statvfs(folder)
        filler = folder / "remplissage"
        with open(filler, "wb") as fh:
            os.posix_fallocate(fh.fileno(), 0, info.f_bavail * info.f_frsize - leave)
        return filler

    def close(self) -> None:
        if self.holder is None:
            subprocess.run(["umount", "--lazy", str(self.folder)], check=True)
        else:
            self.holder.kill()
            self.holder.wait()


@pytest.fixture
def tiny_disk(tmp_path):
    disks = []

    def make(folder: Path, size: str) -> TinyDisk:
        disks.append(TinyDisk(folder, size, tmp_path / f"copie{len(disks)}"))
        return disks[-1]

    yield make
    for disk in disks:
        disk.close()


def test_a_full_disk_under_refused_copies_does_not_stop_the_inbox(workspace, tiny_disk):
    inbox = workspace / "inbox"
    disk = tiny_disk(workspace / "data" / "fichiers_rejetes", "1m")
    db = workspace / "data" / "vigie.duckdb"  # beside the small disk
    (inbox / "bon.csv").write_text(export("OK", 2), encoding="utf-8")
    garbage = inbox / "illisible.csv"
    garbage.write_bytes(random.Random(21).randbytes(300_000))  # refused: no header; larger than the room left
    original = sha(garbage)
    disk.fill(leave=64 * 1024)
    result = vigie("ingest", "--source", "orders", inside=disk.inside)
    french(result)
    assert result.returncode == 1
    rows = inbox_rows(db)
    assert rows["bon.csv"][0] == "charge" and orders_like(db, "OK") == 2
    status, reason, kept_at = rows["illisible.csv"]
    assert status == "rejete" and "disque plein" in reason and "l'original reste dans la boîte de dépôt" in reason
    assert kept_at is None and sha(garbage) == original
    assert not [p.name for p in disk.view(disk.folder).iterdir() if p.name.endswith(".tmp")]  # no half copy
    record("Exploitation", "disque presque plein au moment de mettre de côté la copie d'un fichier refusé",
           "le fichier est signalé (copie impossible, original resté dans la boîte), les autres chargés, code 1, "
           "aucune copie à moitié écrite")


def test_a_full_disk_under_the_warehouse_loses_nothing(workspace, tiny_disk):
    inbox = workspace / "inbox"
    disk = tiny_disk(workspace / "data", "64m")
    db = workspace / "data" / "vigie.duckdb"
    (inbox / "a.csv").write_text(export("A"), encoding="utf-8")
    assert vigie("ingest", "--source", "orders", inside=disk.inside).returncode == 0
    assert os.stat(disk.view(db)).st_dev == os.stat(disk.view(disk.folder)).st_dev != os.stat(workspace).st_dev
    rows = 30_000
    (inbox / "gros.csv").write_text(export("G", rows), encoding="utf-8")
    filler = disk.fill(leave=200 * 1024)
    result = vigie("ingest", "--source", "orders", inside=disk.inside)
    french(result)
    assert result.returncode == 1 and "Disque plein" in result.stderr and "rien n'est perdu" in result.stderr
    kept = disk.copy(db)
    assert orders_like(kept, "A") == 1 and orders_like(kept, "G") == 0 and "gros.csv" not in inbox_rows(kept)
    filler.unlink()
    result = vigie("ingest", "--source", "orders", inside=disk.inside)
    assert result.returncode == 0, result.stderr
    caught_up = disk.copy(db)
    assert orders_like(caught_up, "A") == 1 and orders_like(caught_up, "G") == rows
    record("Exploitation", "disque presque plein sous l'entrepôt pendant le chargement d'un gros fichier",
           "phrase en français, code 1, entrepôt intact et lisible ; tout chargé une fois la place libérée")
