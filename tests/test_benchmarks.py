"""The benchmark generator makes what the spec describes (no timing is asserted here:
speed is measured by `make bench`, see benchmarks/RESULTS.md)."""

import hashlib
import json
from pathlib import Path

import duckdb
import pytest

from benchmarks import generate
from pipelines.sources.datagouv import decp_columns
from pipelines.sources.orders.importer import read_export
from pipelines.sources.orders.readers import Limits, open_sheet

AGREEMENT_CODES = {"acim2021": "acim-2021", "acim2026": "acim-2026"}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bench")
    return folder, generate.generate("tiny", folder)


def test_decp_files_have_the_published_columns(tiny):
    _, made = tiny
    expected = [name for name, _ in decp_columns()]
    con = duckdb.connect()
    for path, reader in ((made["decp_parquet"], "read_parquet(?)"), (made["decp_csv"], "read_csv(?, header = true)")):
        columns = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {reader}", [path]).fetchall()]  # noqa: S608 - constant readers
        assert columns == expected
        assert con.execute(f"SELECT count(*) FROM {reader}", [path]).fetchone()[0] == generate.SCALES["tiny"]["decp_rows"]  # noqa: S608 - constant readers
    about = con.execute("SELECT count(*) FROM read_parquet(?) WHERE \"idAccordCadre\" = '25_BAM_044_AC02'",
                        [made["decp_parquet"]]).fetchone()[0]
    assert 0 < about < 100  # a few contracts of the 2026 agreement among the rest


def test_every_inbox_file_is_read_whole_by_vigie(tiny):
    _, made = tiny
    folder = made["inbox"]
    results = {}
    for path in sorted(Path(folder).iterdir()):
        result = read_export(path, path.name, "x", Limits(), AGREEMENT_CODES)
        results[path.name] = result
        assert result.status == "charge", (path.name, result.reason)
        assert result.rows_quarantined == 0, (path.name, result.quarantined[:2])
    kinds = {name.split("_")[0] for name in results}
    assert kinds == {"chorus", "export", "suivi", "commandes", "tourniquet"}
    orders = sum(r.rows_loaded for n, r in results.items() if r.kind == "commandes")
    needs = sum(r.rows_loaded for n, r in results.items() if r.kind == "besoins")
    assert orders == made["orders"]
    assert needs == made["solicitations_written"] >= made["solicitations"]
    # the Excel export carries a title above and a TOTAL line below, skipped, not lost
    suivi = next(r for n, r in results.items() if n.startswith("suivi"))
    assert suivi.header_line == 3 and suivi.rows_skipped >= 1


def test_chorus_extracts_are_windows_1252_with_french_money(tiny):
    _, made = tiny
    path = next(p for p in Path(made["inbox"]).iterdir() if p.name.startswith("chorus"))
    data = path.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    text = data.decode("cp1252")
    assert ";" in text.splitlines()[0] and "\u00a0" in text and "€" in text
    sheet = open_sheet(path, Limits())
    assert sheet.encoding == "windows-1252" and sheet.separator == ";"


def test_orders_are_mostly_compliant_and_broken_on_purpose(tiny):
    _, made = tiny
    broken = sum(made["orders_broken"].values())
    assert 0.01 * made["orders"] <= broken <= 0.06 * made["orders"]
    assert set(made["orders_broken"]) <= {"startup", "acheteur", "titulaire", "ttc", "periode"}


def test_the_generator_is_deterministic(tiny, tmp_path):
    folder, made = tiny
    again = generate.generate("tiny", tmp_path)

    def digest(path):
        return hashlib.sha256(open(path, "rb").read()).hexdigest()

    for name in ("decp/decp.csv",):
        assert digest(folder / name) == digest(tmp_path / name)
    for kind in ("chorus", "export", "tourniquet"):
        first = sorted(p for p in (folder / "inbox").iterdir() if p.name.startswith(kind))
        second = sorted(p for p in (tmp_path / "inbox").iterdir() if p.name.startswith(kind))
        assert [digest(p) for p in first] == [digest(p) for p in second]
    assert json.dumps(made["orders_broken"], sort_keys=True) == json.dumps(again["orders_broken"], sort_keys=True)
