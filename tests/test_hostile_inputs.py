"""Hostile input: 45 nasty files in one inbox. No traceback, bounded memory, a French
reason for each rejection, the accounting invariant for every file, and nothing in the
data is ever executed (SQL, formulas, paths)."""

import json
import subprocess
import sys

import pytest

from pipelines.warehouse import INBOX_TABLES
from tests import hostile
from tests.conftest import PINNED_NOW, ROOT, SNAPSHOT, connect
from tests.reliability import record

pytestmark = pytest.mark.slow  # 45 nasty files, some large, ingested in a subprocess

FRENCH = ("fichier", "ligne", "colonne", "classeur", "format", "lien", "aucune", "contenu", "vide", "binaire",
          "répétée", "PDF")


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    inbox = folder / "inbox"
    expected = hostile.build(inbox)
    peak = folder / "peak_mb.txt"
    result = subprocess.run(  # through tests/peak.py: the peak of this ingest only, not of pytest or earlier children
        [sys.executable, str(ROOT / "tests" / "peak.py"), str(peak), sys.executable, "-m", "pipelines", "ingest",
         "--source", "orders"], capture_output=True, text=True, cwd=ROOT,
        env={"VIGIE_DB": str(folder / "vigie.duckdb"), "VIGIE_INBOX": str(inbox), "VIGIE_BETAGOUV_API": str(SNAPSHOT),
             "VIGIE_NOW": PINNED_NOW, "PATH": "/usr/bin:/bin", "HOME": str(folder)}, timeout=600)
    return folder, expected, result, float(peak.read_text())


def test_at_least_40_nasty_files(hostile_run):
    assert len(hostile_run[1]) >= 40


def test_no_traceback_and_bounded_memory(hostile_run):
    folder, expected, result, peak_mb = hostile_run
    assert result.returncode == 1, result.stderr  # rejected files: something to look at
    assert "Traceback" not in result.stderr + result.stdout
    assert peak_mb < 1024, f"peak RSS {peak_mb:.0f} MB"
    record("Fichiers hostiles", f"{len(expected)} fichiers dans une même boîte de dépôt",
           f"aucune trace d'exception, mémoire maximale {peak_mb:.0f} Mo")


def test_every_file_ends_as_expected_with_a_french_reason(hostile_run):
    folder, expected, result, _ = hostile_run
    con = connect(folder / "vigie.duckdb")
    got = {p: (s, r) for p, s, r in con.execute("SELECT path, status, reason FROM raw.inbox_files").fetchall()}
    assert set(got) == set(expected)
    rejected = 0
    for name, (outcome, fragment) in expected.items():
        status, reason = got[name]
        assert status == outcome, (name, status, reason)
        if status == "rejete":
            rejected += 1
            assert reason and any(w in reason for w in FRENCH), (name, reason)
        if fragment:
            assert fragment in (reason or ""), (name, reason)
    record("Fichiers hostiles", f"{rejected} refusés en entier", "chacun avec sa raison en français, mis de côté")


def test_the_accounting_invariant_holds_for_every_file(hostile_run):
    folder, _, _, _ = hostile_run
    con = connect(folder / "vigie.duckdb")
    for path, sha, seq, kind, read, loaded, quarantined in con.execute(
            "SELECT path, content_sha256, seq, kind, rows_read, rows_loaded, rows_quarantined FROM raw.inbox_files"
    ).fetchall():
        assert read == loaded + quarantined, path
        if kind and loaded:
            stored = con.execute(f"SELECT count(*) FROM {INBOX_TABLES[kind]} WHERE file_sha256 = ? AND seq = ?",  # noqa: S608 - kind from the table
                                 [sha, seq]).fetchone()[0]
            assert stored == loaded, path
        q = con.execute("SELECT count(*) FROM raw.inbox_quarantine WHERE file_sha256 = ? AND path = ?", [sha, path]).fetchone()[0]
        assert q == quarantined, path
    totals = con.execute("SELECT sum(rows_read), sum(rows_loaded), sum(rows_quarantined) FROM raw.inbox_files").fetchone()
    record("Fichiers hostiles", "lignes lues = chargées + en quarantaine, fichier par fichier",
           f"vrai pour tous ({totals[0]} lues, {totals[1]} chargées, {totals[2]} en quarantaine)")


def test_nothing_in_the_data_is_executed(hostile_run):
    folder, _, _, _ = hostile_run
    con = connect(folder / "vigie.duckdb")
    assert con.execute("SELECT count(*) FROM raw.inbox_orders").fetchone()[0] > 50_000  # the table is still there
    row = con.execute("SELECT acheteur, startup, titulaire FROM raw.inbox_orders WHERE numero_bc = 'H-17'").fetchone()
    assert row == ("'; DROP TABLE raw.inbox_orders; --", "<script>alert(1)</script>", "../../etc/passwd")
    assert con.execute("SELECT acheteur FROM raw.inbox_orders WHERE numero_bc = 'H-18'").fetchone() == ("=cmd|'/C calc'!A0",)
    kept = [k for (k,) in con.execute("SELECT kept_at FROM raw.inbox_files WHERE kept_at IS NOT NULL").fetchall()]
    assert kept and all((folder / "fichiers_rejetes") in __import__("pathlib").Path(k).parents for k in kept)
    # copies keep the file's own name, never a path: all directly in the rejected folder
    assert all(__import__("pathlib").Path(k).parent == folder / "fichiers_rejetes" for k in kept)


def test_the_10_mb_cell_goes_to_quarantine_not_the_file(hostile_run):
    folder, _, _, _ = hostile_run
    con = connect(folder / "vigie.duckdb")
    reasons = [r for (r,) in con.execute("SELECT reason FROM raw.inbox_quarantine WHERE path = 'h09_cellule_10Mo.csv'").fetchall()]
    assert len(reasons) == 1 and "cellule trop longue" in reasons[0]
    assert con.execute("SELECT rows_loaded FROM raw.inbox_files WHERE path = 'h09_cellule_10Mo.csv'").fetchone() == (1,)
    cells = json.loads(con.execute("SELECT cells FROM raw.inbox_quarantine WHERE path = 'h09_cellule_10Mo.csv'").fetchone()[0])
    assert max(len(v) for v in cells.values()) < 1000  # what is kept of it is bounded


def test_amounts_too_large_are_quarantined_not_fatal(hostile_run):
    folder, _, _, _ = hostile_run
    con = connect(folder / "vigie.duckdb")
    assert "montant hors limites" in con.execute(
        "SELECT reason FROM raw.inbox_quarantine WHERE path = 'h31_montant_geant.csv'").fetchone()[0]
