"""Fault injection against loopback servers for both APIs. Each fault ends in retries
(with backoff), then a French error naming the source; the last good snapshot stays,
nothing is half-written, and staleness follows."""

import json

import pytest

from pipelines import warehouse
from tests.conftest import SNAPSHOT, betagouv_counts, connect
from tests.reliability import record

FAULTS = {  # fault -> fragment of the French reason
    "500": "a répondu 500",
    "timeout": "délai de réponse dépassé",
    "slow": "réponse trop lente",
    "truncate": "tronquée",
    "html": "page HTML reçue au lieu de JSON",
    "invalid": "JSON invalide ou tronqué",
    "close": "connexion coupée par le serveur",
}
ATTEMPTS = 3


@pytest.fixture
def fast(workspace):
    (workspace / "vigie.toml").write_text(
        "[http]\nattempts = 3\nbackoff_seconds = 0.01\nconnect_timeout_seconds = 2\nread_timeout_seconds = 1\n"
        "total_timeout_seconds = 1.5\n", encoding="utf-8")
    return workspace


def data_fingerprint(db, schemas=("raw",)):
    con = connect(db)
    try:
        return warehouse.table_fingerprints(con, schemas)
    finally:
        con.close()


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_betagouv_faults(fault, fast, betagouv_server, cli, monkeypatch):
    monkeypatch.setenv("VIGIE_BETAGOUV_API", betagouv_server.url + "/api/v2.7")
    assert cli("ingest", "--source", "betagouv")[0] == 0
    db = fast / "data" / "vigie.duckdb"
    before = data_fingerprint(db)
    # the data changed upstream, but every attempt to fetch it fails
    route = betagouv_server.routes["/api/v2.7/organisations.json"]
    route.body = route.body.replace(b"Direction interminist", b"Direction Interminist")
    route.faults = [fault] * ATTEMPTS
    betagouv_server.log.clear()
    code, out, err = cli("ingest", "--source", "betagouv")
    assert code == 1
    assert "La source API beta.gouv.fr" in err and FAULTS[fault] in err and f"après {ATTEMPTS} tentatives" in err
    assert "Traceback" not in err
    assert len(betagouv_server.requests_to("/api/v2.7/organisations.json")) == ATTEMPTS  # retried
    assert data_fingerprint(db) == before  # last good snapshot intact, nothing half-written
    con = connect(db)
    assert con.execute("SELECT count(*) FROM stg.betagouv__startups").fetchone()[0] == betagouv_counts()["startups"]
    con.close()
    # a fault that passes is absorbed by a retry
    route.faults = [fault]
    code, out, err = cli("ingest", "--source", "betagouv")
    assert code == 0 and "nouvel instantané" in out
    record("Pannes de l'API beta.gouv.fr", f"panne « {fault} » à chaque tentative, puis une seule fois",
           f"{ATTEMPTS} tentatives puis erreur en français, dernier instantané intact ; rattrapée par une nouvelle tentative")


def test_betagouv_schema_change_is_refused_and_staleness_follows(fast, betagouv_server, cli, monkeypatch):
    monkeypatch.setenv("VIGIE_BETAGOUV_API", betagouv_server.url + "/api/v2.7")
    cli("ingest", "--source", "betagouv")
    db = fast / "data" / "vigie.duckdb"
    before = data_fingerprint(db)
    document = json.loads((SNAPSHOT / "startups.json").read_bytes())
    for item in document["data"]:
        item["attributes"]["etapes"] = item["attributes"].pop("phases")  # a key renamed
    betagouv_server.routes["/api/v2.7/startups.json"].body = json.dumps(document).encode()
    code, out, err = cli("ingest", "--source", "betagouv")
    assert code == 1 and "la clé « phases » manque" in err and "le format de l'API a changé" in err
    assert data_fingerprint(db) == before
    monkeypatch.setenv("VIGIE_NOW", "2031-01-01T09:00:00")
    cli("check")
    con = connect(db)
    stale = con.execute("SELECT message FROM findings.findings WHERE rule = 'SOURCE_PERIMEE' AND subject = 'betagouv'"
                        ).fetchone()[0]
    assert "Dernière erreur" in stale and "phases" in stale
    record("Pannes de l'API beta.gouv.fr", "changement de format (clé « phases » renommée)",
           "refusé avec la clé en cause, données précédentes gardées, SOURCE_PERIMEE levée quand l'âge dépasse 72 h")


@pytest.mark.parametrize("fault", ["500", "timeout", "html", "invalid", "truncate", "close"])
def test_datagouv_dataset_faults(fault, fast, datagouv, cli):
    assert cli("ingest", "--source", "datagouv")[0] == 0
    db = fast / "data" / "vigie.duckdb"
    before = data_fingerprint(db)
    route = datagouv.server.routes["/api/1/datasets/608c055b35eb4e6ee20eb325/"]
    route.body = route.body.replace(b"fichiers consolid", b"fichiers Consolid")
    route.faults = [fault] * ATTEMPTS
    code, out, err = cli("ingest", "--source", "datagouv")
    assert code == 1 and "La source data.gouv.fr" in err and FAULTS[fault] in err
    assert data_fingerprint(db) == before
    record("Pannes de data.gouv.fr", f"panne « {fault} » sur la fiche du jeu de données DECP",
           "3 tentatives puis erreur en français, contrats DECP précédents intacts")


def test_datagouv_schema_change_and_download_failure(fast, datagouv, cli):
    cli("ingest", "--source", "datagouv")
    db = fast / "data" / "vigie.duckdb"
    before = data_fingerprint(db)
    route = datagouv.server.routes["/api/1/datasets/608c055b35eb4e6ee20eb325/"]
    document = json.loads(route.body)
    document.pop("resources")
    route.body = json.dumps(document).encode()
    code, _, err = cli("ingest", "--source", "datagouv")
    assert code == 1 and "n'a pas la forme d'un jeu de données" in err
    assert data_fingerprint(db) == before
    # the file itself fails: the previous download stays
    datagouv.publish(parquet=datagouv.parquet.read_bytes() + b"\x00")
    datagouv.server.routes["/files/decp.parquet"].faults = ["500"] * ATTEMPTS
    code, _, err = cli("ingest", "--source", "datagouv")
    assert code == 1 and "Le téléchargement de" in err and "Le fichier précédent est conservé" in err
    assert data_fingerprint(db) == before
    record("Pannes de data.gouv.fr", "clé « resources » absente ; fichier DECP en erreur 500",
           "refusés en français, fichier et contrats précédents gardés")
