"""The order-export corpus (tests/fixtures/inbox_corpus): every file ends up with exactly
the expected rows loaded and quarantined, and the accounting invariant holds."""

import json
from datetime import date
from decimal import Decimal

import pytest

from pipelines import warehouse
from pipelines.sources.orders import COLUMNS
from tests.conftest import SNAPSHOT, connect, run_vigie
from tests.fixtures.inbox_corpus.spec import EXPECTED, FILES


def _plain(value):
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


@pytest.fixture(scope="module")
def corpus_built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    db = folder / "vigie.duckdb"
    result = run_vigie("ingest", "--source", "orders", env={
        "VIGIE_DB": str(db), "VIGIE_INBOX": str(FILES), "VIGIE_BETAGOUV_API": str(SNAPSHOT)})
    assert result.returncode == 1, "the corpus holds rejected files: ingest must say so with exit 1"
    return db


@pytest.fixture
def corpus_db(corpus_built):
    con = connect(corpus_built)
    yield con
    con.close()


@pytest.fixture
def corpus_copy(corpus_built, workspace, monkeypatch):
    """The corpus warehouse copied into the test's workspace, for commands that write."""
    import shutil

    shutil.copyfile(corpus_built, workspace / "data.duckdb")
    monkeypatch.setenv("VIGIE_DB", str(workspace / "data.duckdb"))
    monkeypatch.setenv("VIGIE_INBOX", str(FILES))
    return workspace / "data.duckdb"


def test_corpus_is_big_enough():
    assert len(EXPECTED) >= 20
    assert sorted(p.name for p in FILES.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_file_gives_exactly_the_expected_rows(corpus_db, name):
    expected = EXPECTED[name]
    record = corpus_db.execute(
        "SELECT content_sha256, status, kind, reason, rows_read, rows_loaded, rows_quarantined, rows_skipped, "
        "encoding, separator, sheet, header_line FROM raw.inbox_files WHERE path = ?", [name]).fetchone()
    assert record is not None, f"{name} not recorded"
    sha, status, kind, reason, read, loaded, quarantined, skipped, encoding, separator, sheet, header_line = record
    assert status == expected["status"], reason
    assert read == loaded + quarantined
    if "kind" in expected:
        assert kind == expected["kind"]
    if "reason" in expected:
        assert expected["reason"] in (reason or "")
    for key, value in (("encoding", encoding), ("separator", separator), ("sheet", sheet),
                       ("header_line", header_line), ("skipped", skipped)):
        if key in expected:
            assert value == expected[key], key
    if status != "charge":
        assert read == loaded == quarantined == 0
        return
    columns = COLUMNS[kind]
    rows = corpus_db.execute(
        f"SELECT {', '.join(columns)} FROM {warehouse.INBOX_TABLES[kind]} WHERE file_sha256 = ? ORDER BY line", [sha]).fetchall()  # noqa: S608 - constant names
    got = [{c: _plain(v) for c, v in zip(columns, r, strict=True)} for r in rows]
    want = [{c: r.get(c) for c in columns} for r in expected["loaded"]]
    assert got == want
    assert loaded == len(want)
    q = corpus_db.execute("SELECT line, reason FROM raw.inbox_quarantine WHERE file_sha256 = ? ORDER BY line", [sha]).fetchall()
    assert [line for line, _ in q] == [line for line, _ in expected["quarantine"]]
    for (line, reason_text), (_, fragment) in zip(q, expected["quarantine"], strict=True):
        assert reason_text.startswith(f"ligne {line} : ")
        assert fragment in reason_text
    assert quarantined == len(expected["quarantine"])


def test_rejected_files_are_kept_aside_untouched(corpus_db):
    kept = dict(corpus_db.execute("SELECT path, kept_at FROM raw.inbox_files WHERE status = 'rejete'").fetchall())
    assert set(kept) == {n for n, e in EXPECTED.items() if e["status"] == "rejete"}
    for name, copy in kept.items():
        assert (FILES / name).read_bytes() == open(copy, "rb").read()
        assert "Raison du rejet" in open(copy + ".raison.txt", encoding="utf-8").read()
    # the inbox itself is never modified
    assert sorted(p.name for p in FILES.iterdir()) == sorted(EXPECTED)


def test_a_corrected_order_keeps_its_history(corpus_db):
    versions = corpus_db.execute(
        "SELECT version, montant_ht, is_current, source_file FROM mart.order_versions WHERE numero_bc = '1300000002' "
        "ORDER BY version").fetchall()
    assert versions == [(1, Decimal("1000.00"), False, "c01_chorus_cp1252_pointvirgule.csv"),
                        (2, Decimal("1100.00"), True, "c16_correction_de_c01.csv")]
    current = corpus_db.execute("SELECT montant_ht, versions FROM mart.orders WHERE numero_bc = '1300000002'").fetchone()
    assert current == (Decimal("1100.00"), 2)


def test_ingesting_the_same_inbox_twice_changes_nothing(corpus_copy, cli):
    con = connect(corpus_copy)
    before = warehouse.table_fingerprints(con)
    con.close()
    code, out, _ = cli("ingest", "--source", "orders")
    assert code == 0
    assert "aucun fichier nouveau" in out
    assert warehouse.table_fingerprints(connect(corpus_copy)) == before


def test_status_shows_the_accounting(corpus_copy, cli):
    code, out, _ = cli("status", "--format", "json")
    assert code == 0
    report = json.loads(out)
    files = {f["path"]: f for f in report["files"]}
    assert set(files) == set(EXPECTED)
    c14 = files["c14_lignes_invalides.csv"]
    assert (c14["kind"], c14["rows_read"], c14["rows_loaded"], c14["rows_quarantined"], c14["status"]) == \
        ("commandes", 7, 2, 5, "charge")
    assert len(c14["sha256"]) == 64
    assert files["c12_colonne_manquante.csv"]["status"] == "rejete"
    assert "startup" in files["c12_colonne_manquante.csv"]["reason"]
    assert files["c15_copie_de_c01.csv"]["status"] == "doublon"
    assert {s["source"] for s in report["sources"]} == {"betagouv", "datagouv", "orders"}
    code, text, _ = cli("status")
    assert "c14_lignes_invalides.csv" in text and "lues 7 / chargées 2 / quarantaine 5" in text
    assert "rejeté" in text and "doublon" in text
