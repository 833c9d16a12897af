"""The beta.gouv.fr source against a loopback server serving the real snapshot."""

import json
from datetime import date

import pytest

from pipelines.sources import betagouv
from tests.conftest import SNAPSHOT, betagouv_counts, connect


def stg_count(con, table: str) -> int:
    return con.execute(f"SELECT count(*) FROM stg.betagouv__{table}").fetchone()[0]  # noqa: S608 - fixed names


@pytest.fixture
def served(workspace, betagouv_server, monkeypatch):
    monkeypatch.setenv("VIGIE_BETAGOUV_API", betagouv_server.url + "/api/v2.7")
    return betagouv_server


def test_real_snapshot_counts(served, cli, workspace):
    code, out, _ = cli("ingest", "--source", "betagouv")
    assert code == 0, out
    con = connect(workspace / "data" / "vigie.duckdb")
    expected = betagouv_counts()
    assert {t: stg_count(con, t) for t in expected} == expected
    snapshot = con.execute("SELECT mode, base_url, startups_count FROM raw.betagouv_snapshots").fetchall()
    assert snapshot == [("http", served.url + "/api/v2.7", expected["startups"])]


def test_phase_on_a_date_when_phases_are_listed_out_of_order(served, cli, workspace):
    cli("ingest", "--source", "betagouv")
    con = connect(workspace / "data" / "vigie.duckdb")
    # athena lists investigation (2021-04-01), consolidation (2022-04-01), construction (2022-11-01)
    assert betagouv.startup_on(con, "athena", date(2022, 6, 1))["phase"] == "consolidation"
    assert betagouv.startup_on(con, "athena", date(2023, 1, 1))["phase"] == "construction"
    assert betagouv.startup_on(con, "athena", date(2021, 3, 31))["phase"] is None
    # listed construction (2025-07-07) before investigation (2025-11-02): the latest start wins
    sid = "adaptation-au-changement-climatique-acc"
    assert betagouv.startup_on(con, sid, date(2025, 8, 1))["phase"] == "construction"
    assert betagouv.startup_on(con, sid, date(2025, 12, 1))["phase"] == "investigation"
    # two phases starting the same day: the most advanced one
    assert betagouv.startup_on(con, "anais", date(2019, 4, 5))["phase"] == "construction"


def test_ministry_of_a_startup_of_the_hidden_sgmas_incubator(served, cli, workspace):
    cli("ingest", "--source", "betagouv")
    con = connect(workspace / "data" / "vigie.duckdb")
    hidden = con.execute("SELECT hidden FROM stg.betagouv__incubators WHERE incubator_id = 'sgmas'").fetchone()
    assert hidden == (True,)  # absent from startups.json's `included`
    row = con.execute("SELECT ministry, ministry_source, sponsors FROM mart.startups "
                      "WHERE startup_id = '1000.jours'").fetchone()
    assert row == ("solidarite-sante", "sponsors", ["dgcs"])
    # catalogue v2: sponsors first, the incubator owner's ministry kept beside
    owner = con.execute("SELECT ministry, ministry_source, incubator_ministry FROM mart.startups "
                        "WHERE startup_id = 'juri-gpt'").fetchone()
    assert owner == ("interieur", "sponsors", "interieur")


def test_entities_are_unescaped(served, cli, workspace):
    cli("ingest", "--source", "betagouv")
    con = connect(workspace / "data" / "vigie.duckdb")
    assert con.execute("SELECT name, acronym FROM stg.betagouv__organisations WHERE organisation_id = 'Préfecture'"
                       ).fetchone() == ("Préfecture de l'Ain", "Préfecture de l'Ain")
    leftovers = con.execute("SELECT count(*) FROM stg.betagouv__organisations WHERE name LIKE '%&#%'").fetchone()[0]
    assert leftovers == 0
    assert "&#" in (SNAPSHOT / "organisations.json").read_text()  # as served


def test_second_fetch_of_unchanged_api_transfers_no_body(served, cli, workspace):
    cli("ingest", "--source", "betagouv")
    served.log.clear()
    code, out, _ = cli("ingest", "--source", "betagouv")
    assert code == 0
    assert "inchangé" in out
    assert [r["status"] for r in served.log] == [304, 304, 304]
    assert sum(r["bytes"] for r in served.log) == 0
    assert all("If-None-Match" in r["headers"] for r in served.log)
    con = connect(workspace / "data" / "vigie.duckdb")
    assert con.execute("SELECT count(*) FROM raw.betagouv_snapshots").fetchone()[0] == 1


def test_unreachable_api_leaves_the_last_snapshot_intact(served, cli, workspace, monkeypatch):
    cli("ingest", "--source", "betagouv")
    db = workspace / "data" / "vigie.duckdb"
    con = connect(db)
    before = con.execute("SELECT snapshot_id FROM raw.betagouv_snapshots").fetchall()
    con.close()
    monkeypatch.setenv("VIGIE_BETAGOUV_API", "http://127.0.0.1:9/api/v2.7")  # nothing listens there
    code, out, err = cli("ingest", "--source", "betagouv")
    assert code == 1
    assert "API beta.gouv.fr" in err and "injoignable" in err and "connexion refusée" in err
    con = connect(db)
    assert con.execute("SELECT snapshot_id FROM raw.betagouv_snapshots").fetchall() == before
    assert stg_count(con, "startups") == betagouv_counts()["startups"]
    state = con.execute("SELECT last_status, last_error FROM meta.source_state WHERE source = 'betagouv'").fetchone()
    assert state[0] == "echec" and "injoignable" in state[1]


def without_visio(served) -> None:
    """Serve a startups.json from which `visio` has gone."""
    document = json.loads((SNAPSHOT / "startups.json").read_text())
    document["data"] = [s for s in document["data"] if s["id"] != "visio"]
    served.routes["/api/v2.7/startups.json"].body = json.dumps(document).encode()


def test_every_snapshot_is_kept_and_listing_can_be_asked_on_a_date(served, cli, workspace, monkeypatch):
    monkeypatch.setenv("VIGIE_NOW", "2026-11-30T08:00:00")
    cli("ingest", "--source", "betagouv")
    without_visio(served)
    monkeypatch.setenv("VIGIE_NOW", "2026-12-01T08:00:00")
    code, out, _ = cli("ingest", "--source", "betagouv")
    assert "nouvel instantané" in out and "Horloge en arrière" not in out
    con = connect(workspace / "data" / "vigie.duckdb")
    assert con.execute("SELECT count(*) FROM raw.betagouv_snapshots").fetchone()[0] == 2
    assert stg_count(con, "startups") == betagouv_counts()["startups"] - 1
    visio = betagouv.startup_on(con, "visio", date(2025, 6, 1))
    assert visio["listed"] and visio["phase"] == "construction"
    assert not betagouv.startup_on(con, "visio", date(2026, 12, 2))["listed"]


def test_a_replay_in_the_past_makes_the_last_ingested_snapshot_current_and_says_so(served, cli, workspace,
                                                                                    monkeypatch):
    """README « Horloge et rejeu »: the last snapshot ingested is current, whatever its date;
    listing on a date still follows the dates the snapshots were fetched."""
    monkeypatch.setenv("VIGIE_NOW", "2026-11-30T08:00:00")
    cli("ingest", "--source", "betagouv")
    without_visio(served)
    monkeypatch.setenv("VIGIE_NOW", "2026-11-01T08:00:00")  # a replay: the clock is a month behind
    code, out, _ = cli("ingest", "--source", "betagouv")
    assert code == 0 and "nouvel instantané" in out
    assert "Horloge en arrière" in out and "01/11/2026 à 08:00" in out and "30/11/2026 à 08:00" in out
    con = connect(workspace / "data" / "vigie.duckdb")
    full = betagouv_counts()["startups"]
    assert stg_count(con, "startups") == full - 1  # the payload ingested last, without visio
    assert con.execute("SELECT count(*) FROM stg.betagouv__startups WHERE startup_id = 'visio'").fetchone()[0] == 0
    assert betagouv.current_snapshot(con)["snapshot_id"] == con.execute(
        "SELECT snapshot_id FROM raw.betagouv_snapshots WHERE startups_count = ?", [full - 1]).fetchone()[0]
    con.close()
    # the first payload served again later is a new snapshot, current again
    served.routes["/api/v2.7/startups.json"].body = (SNAPSHOT / "startups.json").read_bytes()
    monkeypatch.setenv("VIGIE_NOW", "2026-12-02T08:00:00")
    code, out, err = cli("ingest", "--source", "betagouv")
    assert code == 0, err
    assert "nouvel instantané" in out and "Horloge en arrière" not in out
    con = connect(workspace / "data" / "vigie.duckdb")
    assert stg_count(con, "startups") == full
    assert con.execute("SELECT count(*) FROM raw.betagouv_snapshots").fetchone()[0] == 3


def test_older_api_shapes_parse():
    # v2.6: sponsors as '/organisations/<id>', no `incubators` list; v2.5: no sponsors at all
    v26 = {"data": [{"id": "x", "attributes": {"name": "Pr&#233;fecture", "phases": [], "sponsors": ["/organisations/dinum"]},
                     "relationships": {"incubator": {"data": {"type": "incubator", "id": "dinum"}}}}], "included": []}
    parsed = betagouv.parse_startups(v26)[0][0]
    assert betagouv.detect_version(v26) == "v2.6"
    assert parsed["sponsors"] == ["dinum"] and parsed["name"] == "Préfecture" and parsed["incubator_ids"] == ["dinum"]
    v25 = {"data": [{"id": "y", "attributes": {"name": "Y", "phases": [{"name": "construction", "start": "2020-01-01"}]},
                     "relationships": {"incubator": {"data": {"id": "anct"}}}}]}
    assert betagouv.detect_version(v25) == "v2.5"
    assert betagouv.parse_startups(v25)[0][0]["has_sponsors_key"] is False
    orgs = betagouv.parse_organisations({"/organisations/dinum": {"name": "DINUM", "domaine_ministeriel": "spm"}})
    assert orgs == [{"organisation_id": "dinum", "name": "DINUM", "acronym": None, "domaine_ministeriel": "spm",
                     "type": None, "origin": "organisations.json"}]
