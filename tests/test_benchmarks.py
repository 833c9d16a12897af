"""The benchmark generator makes what the spec describes, its contenders keep the same rows
and its checks catch what they are for (no timing is asserted here: speed is measured by
`make bench`, see benchmarks/RESULTS.md)."""

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from benchmarks import floor, generate, run, stages
from pipelines.sources.datagouv import decp_columns, decp_filters, load_decp
from pipelines.sources.orders.importer import read_export
from pipelines.sources.orders.readers import Limits, open_sheet
from tests.conftest import SNAPSHOT, connect, run_vigie
from tests.datagouv_fixture import KEPT, write_decp

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
        columns = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {reader}", [path]).fetchall()]  # noqa: S608 - reader is one of two constants
        assert columns == expected
        assert con.execute(f"SELECT count(*) FROM {reader}", [path]).fetchone()[0] == generate.SCALES["tiny"]["decp_rows"]  # noqa: S608 - reader is one of two constants
    about = con.execute("SELECT count(*) FROM read_parquet(?) WHERE \"idAccordCadre\" = '25_BAM_044_AC02'",
                        [made["decp_parquet"]]).fetchone()[0]
    assert 0 < about < 100  # a few contracts of the 2026 agreement among the rest


def test_every_inbox_file_is_read_whole_by_vigie(tiny):
    _, made = tiny
    folder = made["inbox"]
    results = {}
    for path in sorted(Path(folder).iterdir()):
        result = read_export(path, path.name, "x", Limits.defaults(), AGREEMENT_CODES)
        results[path.name] = result
        assert result.status == "charge", (path.name, result.reason)
        assert result.rows_quarantined == 0, (path.name, result.quarantined[:2])
    kinds = {name.split("_")[0] for name in results}
    assert kinds == {"chorus", "export", "suivi", "commandes", "tourniquet", "declarations"}
    assert sum(r.rows_loaded for r in results.values() if r.kind == "declarations") == made["declarations_written"]
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
    sheet = open_sheet(path, Limits.defaults())
    assert sheet.encoding == "windows-1252" and sheet.separator == ";"


def test_orders_are_mostly_compliant_and_broken_on_purpose(tiny):
    _, made = tiny
    broken = sum(made["orders_broken"].values())
    assert 0.01 * made["orders"] <= broken <= 0.06 * made["orders"]
    assert set(made["orders_broken"]) <= set(generate.ORDER_ANOMALIES)


# Findings the generator does not plant but a run of these inputs may still raise: a source
# never loaded here (datagouv) is SOURCE_PERIMEE, one finding per source at most.
UNPLANTED_ALLOWANCE = {"SOURCE_PERIMEE": 3}
# How far from what was planted a rule's count may be: a few collateral findings (a planted
# anomaly drawn twice on one order, a refusal script cut short), never an explosion.
TOLERANCE_SHARE, TOLERANCE_MIN = 0.10, 2


def slack(rule: str, planted: int) -> int:
    return max(TOLERANCE_MIN, round(TOLERANCE_SHARE * planted)) + UNPLANTED_ALLOWANCE.get(rule, 0)


@pytest.fixture(scope="module")
def checked(tiny, tmp_path_factory):
    """Vigie's findings per rule on the generated inbox: beta.gouv.fr snapshot, the inbox, `vigie check`."""
    _, made = tiny
    folder = tmp_path_factory.mktemp("bench-check")
    env = {"VIGIE_DB": str(folder / "vigie.duckdb"), "VIGIE_BETAGOUV_API": str(SNAPSHOT), "VIGIE_INBOX": made["inbox"]}
    for argv in (("ingest", "--source", "betagouv"), ("ingest", "--source", "orders"), ("check",)):
        done = run_vigie(*argv, env=env)
        assert done.returncode in (0, 1), (argv, done.stderr)
    con = connect(folder / "vigie.duckdb")
    counts = dict(con.execute("SELECT rule, count(*) FROM findings.findings WHERE active GROUP BY rule").fetchall())
    con.close()
    return made, counts


def test_planted_anomalies_follow_the_documented_rates(tiny):
    """What the generator says it planted, against its own parameters: the order anomalies
    at ANOMALY_RATE (binomial, within four standard deviations), the needs skipped at
    NEED_SKIP_RATE at most plus the refusal scripts, one REFUS_SEUIL alert at most."""
    _, made = tiny
    orders, needs = made["orders"], made["solicitations"]
    rate = generate.ANOMALY_RATE
    sd = (orders * rate * (1 - rate)) ** 0.5
    assert abs(sum(made["orders_broken"].values()) - orders * rate) <= 4 * sd
    injected = made["injected"]
    holders = made["refusal_scripts"]  # ACIM 2021's holders as REFUS_SEUIL counts them
    assert injected.get("TOURNIQUET", 0) <= (made["orders_broken"].get("tourniquet", 0)
                                             + needs * generate.NEED_SKIP_RATE + 4 * (needs * 0.01) ** 0.5
                                             + holders * generate.SKIPPED_PER_HOLDER)
    assert injected.get("REFUS_NON_JUSTIFIE", 0) <= holders * generate.UNJUSTIFIED_PER_HOLDER
    assert injected.get("REFUS_SEUIL", 0) <= 1
    assert made["declarations_written"] >= 0.5 * orders  # most orders are of a half-year already due


def test_findings_per_rule_stay_near_what_the_generator_planted(checked):
    """Mostly compliant inputs: every rule finds about what was planted, no rule explodes
    (a missing declaration file, a startup ordered before it was listed or in a phase its
    agreement does not accept would each raise hundreds)."""
    made, counts = checked
    injected = made["injected"]
    report = {rule: (injected.get(rule, 0), counts.get(rule, 0)) for rule in sorted({*injected, *counts})}
    for rule, (planted, found) in report.items():
        assert abs(found - planted) <= slack(rule, planted), (rule, report)
    # the rules that exploded when the inputs ignored catalogue v2, by name
    for rule in ("NON_DECLARE_DINUM", "TOURNIQUET", "HORS_STARTUP"):
        assert counts.get(rule, 0) <= injected.get(rule, 0) + slack(rule, injected.get(rule, 0)), report
    assert sum(counts.values()) <= 0.1 * (made["orders"] + made["solicitations"]), report


def test_the_generator_is_deterministic(tiny, tmp_path):
    folder, made = tiny
    again = generate.generate("tiny", tmp_path)

    def digest(path):
        return hashlib.sha256(open(path, "rb").read()).hexdigest()

    for name in ("decp/decp.csv",):
        assert digest(folder / name) == digest(tmp_path / name)
    for kind in ("chorus", "export", "tourniquet", "declarations"):
        first = sorted(p for p in (folder / "inbox").iterdir() if p.name.startswith(kind))
        second = sorted(p for p in (tmp_path / "inbox").iterdir() if p.name.startswith(kind))
        assert [digest(p) for p in first] == [digest(p) for p in second]
    for key in ("orders_broken", "injected"):
        assert json.dumps(made[key], sort_keys=True) == json.dumps(again[key], sort_keys=True)


# ------------------------------------------------------------------ the DECP contenders


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A warehouse with the reference and beta.gouv.fr loaded, and the DECP filter lists as JSON."""
    folder = tmp_path_factory.mktemp("bench-base")
    db = folder / "vigie.duckdb"
    done = run_vigie("ingest", "--source", "betagouv", env={"VIGIE_DB": str(db), "VIGIE_BETAGOUV_API": str(SNAPSHOT),
                                                              "VIGIE_INBOX": str(folder / "inbox")})
    assert done.returncode in (0, 1), done.stderr
    con = connect(db)
    filters = decp_filters(con)
    con.close()
    (folder / "filters.json").write_text(json.dumps(filters))
    return db, folder / "filters.json", filters


def contender(how, path, fmt, base, tmp_path, filters_json=None):
    db, default_filters, _ = base
    target = tmp_path / f"{how}-{fmt}.duckdb"
    if how == "vigie":
        shutil.copy2(db, target)
    args = (str(path), fmt, str(target), str(filters_json or default_filters))
    return floor.main(*args) if how == "floor" else stages.main(how, *args)


def test_every_contender_keeps_the_same_rows(tiny, base, tmp_path):
    _, made = tiny
    # what the generated file says concerns the agreements by its framework code, read without any filter code
    by_code = {u for (u,) in duckdb.connect().execute(
        "SELECT uid FROM read_parquet(?) WHERE \"idAccordCadre\" = '25_BAM_044_AC02'", [made["decp_parquet"]]).fetchall()}
    results = {}
    for fmt in ("parquet", "csv"):
        for how in run.CONTENDERS:
            results[f"{how} ({fmt})"] = contender(how, made[f"decp_{fmt}"], fmt, base, tmp_path)
    pairs = {(r["rows"], r["uids_sha256"]) for r in results.values()}
    assert len(pairs) == 1, results
    assert run.check_same_rows({k: {(r["rows"], r["uids_sha256"])} for k, r in results.items()}) == pairs.pop()
    # not an empty agreement: at least every row of the 2026 agreement's code, and not the whole file
    assert len(by_code) <= results["floor (parquet)"]["rows"] < generate.SCALES["tiny"]["decp_rows"]
    con = duckdb.connect(str(tmp_path / "floor-parquet.duckdb"), read_only=True)
    assert by_code <= {u for (u,) in con.execute("SELECT uid FROM decp").fetchall()}
    con.close()


def test_every_contender_keeps_what_the_filter_means(base, tmp_path):
    """The small DECP of the data.gouv.fr fixture has a row for each branch of the filter (framework
    code, code written otherwise, holder with a beneficiary buyer, the same holder with a commune,
    a stranger): every contender keeps exactly the rows the fixture says are kept."""
    parquet, csv_path = write_decp(tmp_path / "decp", noise=50)
    expected = (len(KEPT), stages.uid_digest(KEPT))
    for fmt, path in (("parquet", parquet), ("csv", csv_path)):
        for how in run.CONTENDERS:
            got = contender(how, path, fmt, base, tmp_path)
            assert (got["rows"], got["uids_sha256"]) == expected, (how, fmt, got)


# (uid, acheteur_id, acheteur_nom, titulaire_id, titulaire_nom, idAccordCadre, kept?): the filter's
# word semantics, each row against the lists the warehouse gives (checked below, not assumed)
WORD_ROWS = [
    ("21000000000001AA01", "Ministère de l'Intérieur - DSI", "SAS OCTO TECHNOLOGY", None, True),  # directorate, legal form
    ("21000000000002AA02", "MINISTERE DE L'INTERIEUR", "OCTOPUS CONSEIL", None, False),  # « octo » is not a word of it
    ("21000000000003AA03", "DINUMERIQUE CONSEIL", "THEODO", None, False),  # nor « dinum »
    ("21000000000004AA04", "Direction interministérielle du numérique (DINUM)", "Octo-Technology", None, True),
    ("21000000000005AA05", "MINISTERE DES ARMEES", "CABINET OCTO", None, False),  # the holder is not its first words
    ("21000000000006AA06", "Mairie de Lille", "ACME", "acim-2021 / lot 1", True),  # a code written otherwise
    ("21000000000007AA07", "Mairie de Lille", "ACME", "AC-ACIM2021", False),  # a code not at the start
    ("21000000000008AA08", "Ministère des Armées", "Sté Theodo", None, True),  # an accented legal form
    ("21000000000009AA09", "COMMUNE DE TRIFOUILLIS", "SAS OCTO TECHNOLOGY", None, False),  # not a beneficiary
]


def decp_rows(rows):
    """WORD_ROWS-like tuples as tests.datagouv_fixture.write_decp rows."""
    return [(uid, buyer_id, buyer, holder_id, holder, 1000.0, "2025-03-01", code, "Objet")
            for uid, buyer_id, buyer, holder_id, holder, code, _ in rows]


def test_every_contender_keeps_names_on_whole_words(base, tmp_path):
    _, _, filters = base
    for name in ("octo", "octo technology", "theodo"):
        assert name in filters["holder_names"]
    for name in ("ministere de l interieur", "direction interministerielle du numerique", "ministere des armees",
                 "dinum"):
        assert name in filters["buyer_names"]
    assert "acim2021" in filters["codes"] and not (filters["sirens"] or filters["buyer_sirens"])
    rows = [(uid, uid[:14], buyer, "3" + uid[1:14], holder, code, kept) for uid, buyer, holder, code, kept in WORD_ROWS]
    parquet, csv_path = write_decp(tmp_path / "decp", decp_rows(rows), noise=20)
    kept = [uid for uid, *_, keep in rows if keep]
    expected = (len(kept), stages.uid_digest(kept))
    for fmt, path in (("parquet", parquet), ("csv", csv_path)):
        for how in run.CONTENDERS:
            got = contender(how, path, fmt, base, tmp_path)
            assert (got["rows"], got["uids_sha256"]) == expected, (how, fmt, got)


def test_every_contender_keeps_holders_and_buyers_by_siren(base, tmp_path):
    """SIRENs, which the reference does not give yet: the lists as JSON to the peers, and to
    Vigie's own load (its benchmark contender takes them from the warehouse)."""
    db, _, filters = base
    filters = dict(filters, sirens=["770000001"], buyer_sirens=["880000001"])
    (tmp_path / "sirens.json").write_text(json.dumps(filters))
    rows = [
        ("31000000000001SI01", "88000000100011", "ACHETEUR X", "77000000100022", "TITULAIRE Y", None, True),
        ("31000000000002SI02", "88000000100011", "ACHETEUR X", "77000000200022", "TITULAIRE Y", None, False),
        ("31000000000003SI03", "99000000100011", "Ministère des Armées", "77000000100022", "TITULAIRE Y", None, True),
        ("31000000000004SI04", "88000000100011", "ACHETEUR X", "66000000100022", "SAS OCTO TECHNOLOGY", None, True),
        ("31000000000005SI05", "99000000100011", "ACHETEUR X", "77000000100022", "TITULAIRE Y", None, False),
    ]
    parquet, csv_path = write_decp(tmp_path / "decp", decp_rows(rows), noise=20)
    kept = [uid for uid, *_, keep in rows if keep]
    expected = (len(kept), stages.uid_digest(kept))
    for fmt, path in (("parquet", parquet), ("csv", csv_path)):
        for how in ("floor", "pandas", "polars"):
            got = contender(how, path, fmt, base, tmp_path, tmp_path / "sirens.json")
            assert (got["rows"], got["uids_sha256"]) == expected, (how, fmt, got)
        target = tmp_path / f"vigie-sirens-{fmt}.duckdb"
        shutil.copy2(db, target)
        con = connect(target, read_only=False)
        load_decp(con, path, fmt, filters, {"resource_id": "test", "checksum_value": None})
        assert sorted(u for (u,) in con.execute("SELECT uid FROM raw.decp_contracts").fetchall()) == kept, fmt
        con.close()


def test_the_row_set_check_stops_the_benchmark_on_a_mismatch(tiny, base, tmp_path):
    _, made = tiny
    _, _, filters = base
    # pandas not told the holder names that begin « OCTO TECHNOLOGY » (« octo », « octo technology »):
    # a contender that keeps other rows
    narrower = dict(filters, holder_names=[n for n in filters["holder_names"]
                                           if not "octo technology ".startswith(n + " ")])
    assert len(narrower["holder_names"]) == len(filters["holder_names"]) - 2
    (tmp_path / "narrower.json").write_text(json.dumps(narrower))
    fair = contender("floor", made["decp_parquet"], "parquet", base, tmp_path)
    unfair = contender("pandas", made["decp_parquet"], "parquet", base, tmp_path, tmp_path / "narrower.json")
    assert unfair["rows"] < fair["rows"]
    with pytest.raises(run.RowSetMismatch, match="pas les mêmes lignes"):
        run.check_same_rows({"floor": {(fair["rows"], fair["uids_sha256"])},
                             "pandas": {(unfair["rows"], unfair["uids_sha256"])}})
    # same count, other rows: the digest tells them apart
    with pytest.raises(run.RowSetMismatch):
        run.check_same_rows({"floor": {(fair["rows"], fair["uids_sha256"])},
                             "vigie": {(fair["rows"], stages.uid_digest(["autre", "chose"]))}})
    # one contender that does not keep the same rows from one run to the next
    with pytest.raises(run.RowSetMismatch):
        run.check_same_rows({"floor": {(fair["rows"], fair["uids_sha256"]), (fair["rows"], "0" * 64)}})


def test_the_floor_imports_nothing_of_vigie(tiny, base, tmp_path):
    _, made = tiny
    _, filters_json, _ = base
    probe = ("import runpy, sys; sys.argv = ['benchmarks/floor.py', *sys.argv[1:]]; "
             "runpy.run_path(sys.argv[0], run_name='__main__'); "
             "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('pipelines', 'benchmarks', 'tests')); "
             "print('IMPORTED', bad)")
    done = subprocess.run([sys.executable, "-c", probe, made["decp_parquet"], "parquet", str(tmp_path / "f.duckdb"),
                           str(filters_json)], capture_output=True, text=True, cwd=run.ROOT, check=True)
    assert done.stdout.strip().splitlines()[-1] == "IMPORTED []"
    assert json.loads(done.stdout.strip().splitlines()[0])["rows"] > 0


# ------------------------------------------------------------------ memory of a process tree


def test_the_spawner_counts_the_memory_of_the_whole_process_tree(tmp_path):
    """A parent holding 200 MB while its child holds 300 MB: the tree peaks at their sum,
    which wait4's peak (the largest single process) does not see."""
    hold = "b = bytearray({mb} * 1024 * 1024); b[::4096] = b'x' * len(b[::4096])"
    child = "import time; " + hold.format(mb=300) + "; time.sleep(1.0)"
    parent = f"import subprocess, sys; {hold.format(mb=200)}; subprocess.run([sys.executable, '-c', {child!r}], check=True)"
    spawner = run.Spawner()
    try:
        answer, _, err = spawner.run([sys.executable, "-c", parent], {"PATH": "/usr/bin:/bin"}, tmp_path)
    finally:
        spawner.close()
    assert answer["returncode"] == 0, err
    assert 300 <= answer["rss_mb"] < 450  # one process at a time
    assert answer["tree_rss_mb"] >= 500 and answer["tree_processes"] >= 2


# ------------------------------------------------------------------ reading the figures


def test_growth_that_is_not_linear_is_said():
    steady = run.growth_remarks([(25, 50, 0.10), (50, 100, 0.11), (100, 200, 0.105)], "commandes")
    assert len(steady) == 1 and "linéaire à 25 % près" in steady[0]
    steeper = run.growth_remarks([(25, 50, 0.10), (50, 100, 0.10), (100, 200, 0.20)], "commandes")
    assert len(steeper) == 1 and "plus que linéaire" in steeper[0] and "100 et 200" in steeper[0]


def test_a_missed_goal_is_printed_as_missed():
    assert run.verdict(False, "13,0 s", "12 s").startswith("**MANQUÉ**")
    assert run.verdict(True, "11,0 s", "12 s").startswith("atteint")
