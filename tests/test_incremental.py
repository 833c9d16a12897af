"""What makes Vigie fast at scale must not change what it finds: incremental checks,
marts stored as tables, files read in parallel, bulk inserts, capped report tables."""

import os
from decimal import Decimal

import duckdb
import pandas as pd
import pytest

from pipelines import materialise, rules, warehouse
from tests.conftest import FIXTURES, connect

CORPUS = FIXTURES / "inbox_corpus" / "files"


def findings_state(db) -> list[tuple]:
    """Findings of the rules that depend on the data only (a source's age moves with the clock)."""
    return connect(db).execute(
        "SELECT finding_id, rule, severity, active, status, message, evidence FROM findings.findings "
        "WHERE NOT list_contains(?, rule) ORDER BY 1", [rules.TIME_DEPENDENT]).fetchall()


def test_check_on_unchanged_data_reevaluates_only_the_clock_and_finds_the_same(demo_copy, cli, monkeypatch):
    monkeypatch.setenv("VIGIE_DB", str(demo_copy))
    before = findings_state(demo_copy)
    code, out, _ = cli("check")
    assert "seules les règles qui dépendent de la date sont réévaluées" in out
    assert findings_state(demo_copy) == before
    con = connect(demo_copy)
    run_id = con.execute("SELECT run_id FROM meta.runs WHERE command = 'check' ORDER BY started_at DESC, rowid DESC LIMIT 1"
                         ).fetchone()[0]
    # every active finding, of every rule, counts as seen by this check
    unseen = con.execute("SELECT count(*) FROM findings.findings f JOIN meta.finding_sightings s USING (finding_id) "
                         "WHERE f.active AND s.last_seen_run <> ?", [run_id]).fetchone()[0]
    assert unseen == 0
    con.close()
    # forcing a full evaluation (as if the rules had changed) gives the very same findings
    con = connect(demo_copy, read_only=False)
    con.execute("DELETE FROM meta.derived_state WHERE name = 'check'")
    con.close()
    code, out, _ = cli("check")
    assert out.startswith("Règles évaluées")
    assert findings_state(demo_copy) == before


def test_new_data_or_new_settings_mean_every_rule_again(demo_copy, cli, monkeypatch, tmp_path):
    monkeypatch.setenv("VIGIE_DB", str(demo_copy))
    cli("check")
    config = tmp_path / "vigie.toml"
    config.write_text("[sources.orders]\nmax_age_hours = 2000\n", encoding="utf-8")
    monkeypatch.setenv("VIGIE_CONFIG", str(config))
    code, out, _ = cli("check")
    assert out.startswith("Règles évaluées")
    code, out, _ = cli("check")
    assert "seules les règles qui dépendent de la date" in out
    con = connect(demo_copy, read_only=False)
    warehouse.bump_data_version(con, "test", "test", pd.Timestamp("2026-11-24", tz="Europe/Paris"))
    con.close()
    code, out, _ = cli("check")
    assert out.startswith("Règles évaluées")


def test_stored_marts_follow_the_data(demo_copy):
    con = warehouse.connect(demo_copy)
    assert materialise.is_current(con)
    for name in materialise.TABLES:
        stored = con.execute(f"SELECT count(*), sum(hash(t)) FROM mart.{name} t").fetchone()  # noqa: S608 - constant names
        live = con.execute(f"SELECT count(*), sum(hash(t)) FROM int.{name} t").fetchone()  # noqa: S608 - constant names
        assert stored == live and stored[0] > 0
    # a change of data makes them stale, and a check refreshes them before judging
    con.execute("DELETE FROM raw.inbox_orders WHERE numero_bc = '1400000001'")
    warehouse.bump_data_version(con, "test", "test", pd.Timestamp("2026-11-24", tz="Europe/Paris"))
    assert not materialise.is_current(con)
    assert materialise.ensure_current(con)
    assert con.execute("SELECT count(*) FROM mart.orders_enriched WHERE numero_bc = '1400000001'").fetchone()[0] == 0
    con.close()


def test_a_warehouse_whose_marts_were_views_is_migrated(tmp_path):
    db = tmp_path / "ancien.duckdb"
    con = warehouse.connect(db)
    warehouse.ensure_schema(con)
    con.execute("DROP TABLE mart.orders_enriched")
    con.execute("CREATE VIEW mart.orders_enriched AS SELECT * FROM int.orders_enriched")
    warehouse.ensure_schema(con)
    kind = con.execute("SELECT table_type FROM information_schema.tables WHERE table_schema = 'mart' "
                       "AND table_name = 'orders_enriched'").fetchone()[0]
    assert kind == "BASE TABLE"
    con.close()


def inbox_state(db) -> tuple:
    con = connect(db)
    tables = {t: con.execute(f"SELECT count(*), sum(hash(x)) FROM {t} x").fetchone()  # noqa: S608 - constants
              for t in ("raw.inbox_orders", "raw.inbox_declarations", "raw.inbox_needs", "raw.inbox_quarantine")}
    files = con.execute("SELECT path, content_sha256, status, kind, rows_read, rows_loaded, rows_quarantined, "
                        "rows_skipped, reason FROM raw.inbox_files ORDER BY seq").fetchall()
    con.close()
    return tables, files


def test_reading_in_parallel_loads_exactly_what_reading_alone_does(tmp_path, cli, monkeypatch):
    monkeypatch.setenv("VIGIE_INBOX", str(CORPUS))
    states = []
    for workers in (1, 2):
        config = tmp_path / f"vigie-{workers}.toml"
        config.write_text(f"[inbox]\nworkers = {workers}\n", encoding="utf-8")
        monkeypatch.setenv("VIGIE_CONFIG", str(config))
        db = tmp_path / f"w{workers}" / "vigie.duckdb"
        cli("ingest", "--source", "orders", "--db", str(db))
        states.append(inbox_state(db))
    assert states[0] == states[1]
    tables, files = states[0]
    assert tables["raw.inbox_orders"][0] > 20 and any(f[2] == "rejete" for f in files)


def test_workers_are_only_started_when_there_is_enough_to_read():
    from pipelines.sources.orders import workers_for

    small = [("f", "f", "sha", 10_000, None, None)] * 30
    big = [("f", "f", "sha", 3_000_000, None, None)] * 4
    assert workers_for(small) == 1
    assert workers_for(big[:1]) == 1
    cores = len(os.sched_getaffinity(0))  # the rule: one per core, at most one per file
    assert workers_for(big) == min(cores, len(big)) and workers_for(big, configured=3) == 3
    two_of = [("f", "f", "sha", 2 * 1024 * 1024, None, None)] * 2  # 4 MB in all: the threshold
    assert workers_for([(*t[:3], t[3] - 1, *t[4:]) for t in two_of]) == 1
    assert workers_for(two_of) == min(cores, 2)
    assert workers_for(big, configured=9) == 4


def test_bulk_insert_keeps_wide_amounts_after_narrow_ones(tmp_path):
    """Found by the benchmark: DuckDB sized the DECIMAL from the first values (12,00) and
    then refused 278 509 874,00."""
    con = duckdb.connect(str(tmp_path / "t.duckdb"))
    con.execute("CREATE TABLE t (id INTEGER, amount DECIMAL(18, 2))")
    rows = [{"id": i, "amount": Decimal("12.00")} for i in range(3000)] + [{"id": 3000, "amount": None},
                                                                          {"id": 3001, "amount": Decimal("278509874.00")}]
    assert warehouse.insert_rows(con, "t", rows, ["id", "amount"]) == 3002
    assert con.execute("SELECT max(amount), count(amount) FROM t").fetchone() == (Decimal("278509874.00"), 3001)


def test_an_error_inside_a_bulk_insert_is_the_one_reported(tmp_path):
    con = duckdb.connect(str(tmp_path / "t.duckdb"))
    con.execute("CREATE TABLE t (id INTEGER NOT NULL)")
    con.execute("BEGIN TRANSACTION")
    with pytest.raises(duckdb.ConstraintException):
        warehouse.insert_rows(con, "t", [{"id": None}], ["id"])


def test_report_tables_stop_at_a_readable_length_and_say_how_many_more():
    from pipelines.report.render import MAX_ROWS, environment, table

    frame = pd.DataFrame({"Besoin": [f"EB-{i}" for i in range(MAX_ROWS + 1234)], "Montant HT": range(MAX_ROWS + 1234)})
    t = table(frame, "tableau-test", "Essai")
    assert len(t["rows"]) == MAX_ROWS and t["more"] == 1234 and t["count"] == MAX_ROWS + 1234
    html = environment().from_string("{% from 'macros.html.j2' import data_table %}{{ data_table(t) }}").render(t=t)
    assert html.count("<tr>") == MAX_ROWS + 1  # the header and the rows shown
    assert "… et 1\u202f234 autres lignes sur 1\u202f434" in html  # plural agreed, as the report now writes it
