"""Great Expectations suites: the sample passes every blocking expectation, and for every
expectation of every suite, one bad row makes exactly that expectation fail, by exactly
the expected count (the bad row is described in the expectation's meta.exemple_invalide)."""

import subprocess
import sys
from datetime import date

import pandas as pd
import pytest

from pipelines import validate
from tests.conftest import ROOT, connect

SUITES = validate.load_suites()


@pytest.fixture(scope="module")
def validator():
    return validate.Validator(SUITES)


@pytest.fixture(scope="module")
def frames(demo_db):
    con = connect(demo_db)
    out = {name: validate.read_frame(con, name) for name in SUITES}
    con.close()
    return out


def test_one_suite_per_staged_table_each_expectation_explained():
    assert set(SUITES) == {"startups", "organisations", "phases", "commandes", "declarations", "besoins", "decp"}
    for name, suite in SUITES.items():
        assert suite["name"] == name
        assert (validate.QUERIES / f"{name}.sql").exists()
        for e in suite["expectations"]:
            assert e["meta"]["notes"].strip(), (name, e["type"])
            assert isinstance(e["meta"]["bloquant"], bool)
            assert e["meta"]["exemple_invalide"]


def test_the_sample_passes_every_blocking_expectation(demo_db):
    con = connect(demo_db)
    failing = con.execute("SELECT suite, notes FROM validation.results WHERE blocking AND NOT success").fetchall()
    assert failing == []
    assert con.execute("SELECT count(DISTINCT suite) FROM validation.results").fetchone()[0] == len(SUITES)
    stored = con.execute("SELECT count(*) FROM validation.results").fetchone()[0]
    assert stored == sum(len(s["expectations"]) for s in SUITES.values())


def _value(column: pd.Series, value):
    """A value from the JSON example, typed like the frame's column."""
    sample = next((v for v in column if v is not None and not (isinstance(v, float) and pd.isna(v))), None)
    if isinstance(value, str) and isinstance(sample, date):
        return date.fromisoformat(value)
    return value


def valid_row_frame(name: str) -> pd.DataFrame:
    """DECP is empty in the demo (never fetched): its suite carries a valid row."""
    row = {k: (date.fromisoformat(v) if isinstance(v, str) and len(v) == 10 and v[4] == "-" else v)
           for k, v in SUITES[name]["meta"]["ligne_valide"].items()}
    return pd.DataFrame([row])


def bad_frame(name: str, frame: pd.DataFrame, example: dict) -> pd.DataFrame:
    suite = SUITES[name]
    if frame.empty:
        frame = valid_row_frame(name)
    if "tronquer" in example:
        return frame.head(example["tronquer"]).copy()
    row = frame.iloc[[0]].copy()
    if not example.get("doublon"):
        for key in suite["meta"]["cle"]:  # a fresh key, so uniqueness is not what fails
            row[key] = f"test-vigie-{key}" if row[key].dtype == object else 987654
    for column, value in (example.get("valeurs") or {}).items():
        row[column] = [_value(frame[column], value)]
    return pd.concat([frame, row], ignore_index=True)


def key_of(expectation: dict) -> tuple[str, str | None]:
    k = expectation["kwargs"]
    column = k.get("column") or (",".join(k["column_list"]) if "column_list" in k else
                                 (f"{k['column_A']},{k['column_B']}" if "column_A" in k else None))
    return expectation["type"], column


def by_key(results) -> dict:
    out = {(r.expectation_type, r.column): r for r in results}
    assert len(out) == len(results), "each (type, column) is unique within a suite"
    return out


CASES = [(name, i) for name, suite in SUITES.items() for i in range(len(suite["expectations"]))]


@pytest.mark.parametrize("name, index", CASES, ids=[f"{n}-{i}-{SUITES[n]['expectations'][i]['type']}" for n, i in CASES])
def test_one_bad_row_fails_exactly_the_intended_expectation(validator, frames, name, index):
    expectation = SUITES[name]["expectations"][index]
    example = expectation["meta"]["exemple_invalide"]
    base = frames[name] if not frames[name].empty else valid_row_frame(name)
    before = by_key(validator.validate(name, base))
    after = by_key(validator.validate(name, bad_frame(name, frames[name], example)))
    target = key_of(expectation)
    # The sample satisfies every blocking expectation; a non-blocking one it breaks on
    # purpose (a negative amount) must break by exactly one more row.
    assert before[target].success or not expectation["meta"]["bloquant"]
    assert not after[target].success
    if "tronquer" not in example:
        previous = before[target].unexpected_count or 0
        assert after[target].unexpected_count - previous == example.get("attendu", 1)
    for key, b in before.items():
        if key != target:
            a = after[key]
            assert (b.success, b.unexpected_count) == (a.success, a.unexpected_count), f"{name}: {key} changed too"


def test_validate_command_stores_results_and_blocks(demo_copy, cli, monkeypatch):
    monkeypatch.setenv("VIGIE_DB", str(demo_copy))
    code, out, _ = cli("validate")
    assert code == 0 and "attentes" in out
    con = connect(demo_copy, read_only=False)
    con.execute("UPDATE raw.inbox_orders SET date_bc = DATE '1999-01-01' WHERE numero_bc = '1400000001'")
    con.close()
    code, out, _ = cli("validate")
    assert code == 1 and "Validation bloquante" in out and "[BLOQUANT] commandes" in out
    row = connect(demo_copy).execute(
        "SELECT unexpected_count, unexpected_sample FROM validation.results WHERE suite = 'commandes' AND NOT success "
        "AND blocking ORDER BY validated_at DESC LIMIT 1").fetchone()
    assert row[0] == 1 and "1999-01-01" in row[1]


def test_a_source_never_loaded_names_the_run_of_this_warehouse(demo_copy, cli):
    # A warehouse given with --db: the advice must name it, or « vigie run » would fill another one.
    con = connect(demo_copy, read_only=False)
    con.execute("DELETE FROM raw.betagouv_snapshots")
    con.close()
    code, out, _ = cli("validate", "--db", str(demo_copy))
    assert code == 1
    advice = (f"la source n'a jamais été chargée (lancez « vigie run --db {demo_copy} », "
              f"ou « vigie run --db {demo_copy} --offline » sans réseau)")
    assert out.count(advice) == 2  # the step's line and the listing of failed expectations


@pytest.mark.parametrize("case", ["aucune suite", "suite inconnue", "JSON illisible"])
def test_suites_missing_or_unknown_stop_validation_in_french(demo_copy, tmp_path, case):
    """Validating nothing must never read « toutes les attentes sont satisfaites »."""
    from tests.conftest import run_vigie

    folder = tmp_path / "suites"
    folder.mkdir()
    if case == "suite inconnue":
        (folder / "factures.json").write_text('{"expectations": []}', encoding="utf-8")
    elif case == "JSON illisible":
        (folder / "commandes.json").write_text('{"expectations": [', encoding="utf-8")
    before = connect(demo_copy).execute("SELECT count(*) FROM validation.results").fetchone()[0]
    done = run_vigie("validate", "--db", str(demo_copy), env={"VIGIE_EXPECTATIONS": str(folder)})
    assert done.returncode == 2, done.stdout + done.stderr
    expected = {"aucune suite": "Aucune suite Great Expectations trouvée dans",
                "suite inconnue": "ne correspond à aucune table validée par Vigie",
                "JSON illisible": "n'est pas un JSON lisible"}[case]
    assert expected in done.stderr and "Traceback" not in done.stderr
    assert "satisfaites" not in done.stdout
    assert connect(demo_copy).execute("SELECT count(*) FROM validation.results").fetchone()[0] == before


def test_run_stops_before_checks_and_alerts_when_validation_blocks(demo_copy, cli, monkeypatch):
    monkeypatch.setenv("VIGIE_DB", str(demo_copy))
    monkeypatch.setenv("VIGIE_BETAGOUV_API", str(ROOT / "pipelines" / "sample" / "betagouv"))
    monkeypatch.setenv("VIGIE_INBOX", str(ROOT / "pipelines" / "sample" / "inbox"))
    monkeypatch.setenv("VIGIE_DATAGOUV_API", "http://127.0.0.1:9/api/1")
    con = connect(demo_copy, read_only=False)
    con.execute("UPDATE raw.inbox_needs SET rang = 0 WHERE numero_besoin = 'EB-2021-001'")
    con.execute("INSERT INTO meta.data_versions VALUES (999, 'test', 'test', now())")
    checks_before = con.execute("SELECT count(*) FROM meta.run_steps WHERE step = 'check'").fetchone()[0]
    con.close()
    code, out, err = cli("run")
    assert code == 1
    assert "ne sont pas évaluées" in err and "bloquante" in out
    con = connect(demo_copy)
    assert con.execute("SELECT count(*) FROM meta.run_steps WHERE step = 'check'").fetchone()[0] == checks_before


def test_great_expectations_is_only_imported_where_validation_runs(demo_db):
    code = (f"import sys; from pipelines.cli import main; main(['status', '--db', {str(demo_db)!r}]); "
            "print('GX' if 'great_expectations' in sys.modules else 'NO-GX')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT).stdout
    assert out.strip().endswith("NO-GX")
