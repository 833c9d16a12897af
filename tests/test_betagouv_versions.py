"""beta.gouv.fr as it really was: the real v2.5 API of 2023-01-31 (tests/fixtures/betagouv/
api-v2.5-2023-01-31, recorded, see tests/fixtures/README.md) served on 127.0.0.1, and
payloads of the wrong shape or depth."""

import json

import pytest

from pipelines.sources import betagouv
from tests.conftest import connect
from tests.servers import LoopbackServer, Route

V25 = betagouv.PACKAGE_DIR.parent / "tests" / "fixtures" / "betagouv" / "api-v2.5-2023-01-31"


def _fixture(name: str):
    return json.loads((V25 / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture
def v25_server(workspace, monkeypatch):
    server = LoopbackServer()
    for name in ("startups", "incubators"):  # v2.5 had no organisations.json: a bare 404
        server.routes[f"/api/v2.5/{name}.json"] = Route((V25 / f"{name}.json").read_bytes())
    server.start()
    monkeypatch.setenv("VIGIE_BETAGOUV_API", server.url + "/api/v2.5")
    monkeypatch.setenv("VIGIE_NOW", "2023-01-31T09:00:00+01:00")
    yield server
    server.stop()


def test_real_v25_payload_ingests(v25_server, cli, workspace):
    code, out, err = cli("ingest", "--source", "betagouv")
    assert code == 0, out + err
    assert "organisations.json absent (API v2.5)" in out and "déduits" in out
    startups, incubators = _fixture("startups"), _fixture("incubators")
    con = connect(workspace / "data" / "vigie.duckdb")
    assert con.execute("SELECT api_version, organisations_origin FROM stg.betagouv__current").fetchone() == (
        "v2.5", "deduit")
    assert con.execute("SELECT count(*) FROM stg.betagouv__startups").fetchone()[0] == len(startups["data"])
    # "/incubators/ademe" in `included` and "ademe" in incubators.json are one incubator
    ids = {r[0] for r in con.execute("SELECT incubator_id FROM stg.betagouv__incubators").fetchall()}
    assert ids == set(incubators)
    # the real typo: anct-pni-34 starts an investigation on 2120-06-01
    typo = [(s["id"], i, p["start"]) for s in startups["data"] for i, p in enumerate(s["attributes"]["phases"])
            if p.get("start", "")[:4] > "2024"]
    assert typo == [("anct-pni-34", 0, "2120-06-01")]
    row = con.execute("SELECT startup_id, position, field, value, reason FROM stg.betagouv__quarantine").fetchall()
    assert [r[:4] for r in row] == [("anct-pni-34", 0, "phases[0].start", "2120-06-01")]
    assert "date de phase impossible" in row[0][4]
    assert con.execute("SELECT count(*) FROM stg.betagouv__phases WHERE start_date > DATE '2024-12-31'"
                       ).fetchone()[0] == 0
    assert "1 phase(s) mise(s) de côté" in out
    # organisations derived from the incubators' owners, said so in the data
    origins = {r[0] for r in con.execute("SELECT DISTINCT origin FROM stg.betagouv__organisations").fetchall()}
    assert origins == {"deduit:incubateurs"}
    owners = {inc["owner"].removeprefix("/organisations/") for inc in incubators.values() if inc.get("owner")}
    orgs = {r[0] for r in con.execute("SELECT organisation_id FROM stg.betagouv__organisations").fetchall()}
    assert orgs == owners
    # sgmas belongs to /organisations/solidarite-sante: its startups get that ministry
    assert incubators["sgmas"]["owner"] == "/organisations/solidarite-sante"
    assert con.execute("SELECT ministry, ministry_source FROM mart.startups WHERE startup_id = '1000.jours'"
                       ).fetchone() == ("solidarite-sante", "incubateur")
    # the Justice incubator's owner is a name, not an id: found by name
    assert con.execute("SELECT domaine_ministeriel FROM stg.betagouv__organisations "
                       "WHERE organisation_id = 'Ministère de la Justice'").fetchone() == ("justice",)
    assert not v25_server.requests_to("/api/v2.5/organisations.json")


def test_v26_api_without_organisations_names_the_version(betagouv_server, workspace, cli, monkeypatch):
    document = json.loads(betagouv_server.routes["/api/v2.7/startups.json"].body)
    for item in document["data"]:
        item["relationships"].pop("incubators", None)  # the v2.6 shape
    betagouv_server.routes["/api/v2.7/startups.json"].body = json.dumps(document).encode()
    del betagouv_server.routes["/api/v2.7/organisations.json"]
    monkeypatch.setenv("VIGIE_BETAGOUV_API", betagouv_server.url + "/api/v2.7")
    code, out, err = cli("ingest", "--source", "betagouv")
    assert code == 1
    assert "404" in err and "API v2.6" in err and "organisations.json" in err


def _hostile(folder, startups_body: bytes):
    folder.mkdir()
    (folder / "startups.json").write_bytes(startups_body)
    (folder / "incubators.json").write_bytes((V25 / "incubators.json").read_bytes())
    return folder


@pytest.mark.parametrize("case", ["relationships_string", "deep_nesting", "phase_list_of_lists"])
def test_wrong_shape_is_a_french_source_failure(case, workspace, cli, monkeypatch):
    document = _fixture("startups")
    if case == "relationships_string":
        document["data"][3]["relationships"] = "incubator"
        body, expected = json.dumps(document).encode(), ["« relationships »", document["data"][3]["id"]]
    elif case == "phase_list_of_lists":
        document["data"][5]["attributes"]["phases"] = [["construction", "2020-01-01"]]
        body, expected = json.dumps(document).encode(), ["« attributes.phases[0] »", document["data"][5]["id"]]
    else:
        body, expected = b"[" * 1_000_000 + b"]" * 1_000_000, ["imbriqué"]
    monkeypatch.setenv("VIGIE_BETAGOUV_API", str(_hostile(workspace / "capture", body)))
    code, out, err = cli("ingest", "--source", "betagouv")
    assert code == 1
    assert "Traceback" not in err and "Error" not in err
    for text in expected:
        assert text in err
    con = connect(workspace / "data" / "vigie.duckdb")
    state = con.execute("SELECT last_status, last_error FROM meta.source_state WHERE source = 'betagouv'").fetchone()
    assert state[0] == "echec" and expected[0] in state[1]


def test_wrong_shape_over_http_is_a_source_failure(betagouv_server, workspace, cli, monkeypatch):
    document = json.loads(betagouv_server.routes["/api/v2.7/startups.json"].body)
    document["data"][0]["relationships"]["incubators"] = {"data": "MEN"}
    betagouv_server.routes["/api/v2.7/startups.json"].body = json.dumps(document).encode()
    monkeypatch.setenv("VIGIE_BETAGOUV_API", betagouv_server.url + "/api/v2.7")
    code, out, err = cli("ingest", "--source", "betagouv")
    assert code == 1
    assert "« relationships.incubators.data »" in err and f"« {document['data'][0]['id']} »" in err


def test_impossible_date_depends_on_today():
    doc = {"data": [{"id": "x", "attributes": {"name": "X", "phases": [
        {"name": "investigation", "start": "2024-06-01"}, {"name": "construction", "start": "2025-01-01"}]}}]}
    from datetime import date
    _, kept, _, put_aside = betagouv.parse_startups(doc, date(2023, 1, 31))
    assert [p["phase"] for p in kept] == ["investigation"]  # 2024 is today + 1: possible
    assert [p["field"] for p in put_aside] == ["phases[1].start"]


def test_the_typo_date_no_longer_blocks_validation(v25_server, cli, workspace):
    cli("ingest", "--source", "betagouv")
    code, out, err = cli("validate")
    text = out + err
    # old phase names (alumni…) are the rules' mapping (RULES.md v2), not this test's concern
    assert "2120" not in text
    assert "Une phase commence entre 2010 et 2035" not in text


def test_the_version_is_read_from_the_payload_not_the_url(workspace, cli, monkeypatch):
    server = LoopbackServer()
    for name in ("startups", "incubators"):  # a v2.5 payload behind a v2.7 address
        server.routes[f"/api/v2.7/{name}.json"] = Route((V25 / f"{name}.json").read_bytes())
    server.start()
    try:
        monkeypatch.setenv("VIGIE_BETAGOUV_API", server.url + "/api/v2.7")
        monkeypatch.setenv("VIGIE_NOW", "2023-01-31T09:00:00+01:00")
        code, out, err = cli("ingest", "--source", "betagouv")
        assert code == 0, err
        assert "organisations.json absent (API v2.5)" in out
        assert not server.requests_to("/api/v2.7/organisations.json")
    finally:
        server.stop()
