"""What a server sends is bounded: file names stay in the download folder, bodies have a
byte cap (counted after decompression), JSON a depth, pagination an end; agreement YAML
refuses aliases; a certificate error says it is one; a drip of headers meets a deadline."""

from __future__ import annotations

import gzip
import json
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

from pipelines.config import load_settings
from pipelines.errors import SourceError
from pipelines.http import HttpClient
from tests.conftest import ROOT, connect
from tests.datagouv_fixture import DECP_ID
from tests.reliability import record
from tests.servers import Route
from tests.tls import self_signed


def client(tmp_path, text: str = "") -> HttpClient:
    config = tmp_path / "http.toml"
    config.write_text("[http]\nattempts = 1\nconnect_timeout_seconds = 2\nread_timeout_seconds = 2\n"
                      "total_timeout_seconds = 2\n" + text, encoding="utf-8")
    return HttpClient(load_settings(db=tmp_path / "data" / "v.duckdb", inbox=tmp_path,
                                    env={"VIGIE_CONFIG": str(config)}))


class Bodies(BaseHTTPRequestHandler):
    """GET /<name>: the answers of the class attribute `answers` (bytes, headers)."""

    protocol_version = "HTTP/1.1"
    answers: dict = {}

    def log_message(self, *args):
        pass

    def do_GET(self):
        body, headers = self.answers[self.path]
        self.send_response(200)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that gives up mid-answer is what these tests provoke


@pytest.fixture
def bodies():
    server = Server(("127.0.0.1", 0), Bodies)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def decp_document(datagouv) -> dict:
    return json.loads(datagouv.server.routes[f"/api/1/datasets/{DECP_ID}/"].body)


def republish(datagouv, doc: dict) -> None:
    datagouv.server.routes[f"/api/1/datasets/{DECP_ID}/"] = Route(json.dumps(doc).encode())


# ------------------------------------------------------------------ file names


def test_a_resource_id_cannot_place_a_download_outside_the_download_folder(workspace, datagouv, cli):
    doc = decp_document(datagouv)
    for r in doc["resources"]:
        r["id"] = "../../../../evade-" + r["title"]
    republish(datagouv, doc)
    code, out, err = cli("ingest", "--source", "datagouv")
    assert code == 0, err
    downloads = workspace / "data" / "telechargements"
    every = {p.resolve() for p in workspace.rglob("*") if p.is_file()}
    assert not [p for p in every if "evade" in p.name]
    kept = [p for p in downloads.rglob("*.parquet")]
    assert len(kept) == 1 and kept[0].name.startswith("id-")
    assert connect(workspace / "data" / "vigie.duckdb").execute("SELECT count(*) FROM raw.decp_contracts").fetchone()[0]
    record("Téléchargements", "identifiant de ressource data.gouv.fr « ../../../../evade »",
           "nom de fichier fait par Vigie (empreinte), écrit dans data/telechargements seulement")


def test_a_destination_outside_the_download_folder_is_refused(tmp_path, bodies):
    Bodies.answers = {"/f": (b"x" * 10, {})}
    http = client(tmp_path)
    with pytest.raises(SourceError, match="hors du dossier des téléchargements"):
        http.download(bodies + "/f", tmp_path / "data" / "telechargements" / ".." / "ailleurs.bin", "test")
    assert not (tmp_path / "data" / "ailleurs.bin").exists()


# ------------------------------------------------------------------ sizes, depth, pages


def test_a_gzip_bomb_is_stopped_at_the_byte_cap(tmp_path, bodies):
    bomb = gzip.compress(b"0" * (64 * 1024 * 1024), 9)  # 64 Mo once inflated, ~64 Ko on the wire
    Bodies.answers = {"/bombe.json": (bomb, {"Content-Encoding": "gzip", "Content-Type": "application/json"})}
    http = client(tmp_path, "max_response_bytes = 1048576\n")
    with pytest.raises(SourceError, match="réponse trop volumineuse"):
        http.get(bodies + "/bombe.json", "test")
    assert len(bomb) < 1048576  # the cap counts inflated bytes, not bytes on the wire
    record("Téléchargements", "bombe gzip (64 Mo décompressés pour 64 Ko reçus)",
           "lecture arrêtée au plafond http.max_response_bytes, compté après décompression")


def test_a_download_bigger_than_announced_is_cut(tmp_path, bodies):
    Bodies.answers = {"/gros.csv": (b"a;b\n" * 100_000, {"Content-Type": "text/csv"})}
    http = client(tmp_path, "max_download_bytes = 100000\n")
    dest = tmp_path / "data" / "telechargements" / "gros.csv"
    with pytest.raises(SourceError, match="plus gros que prévu"):
        http.download(bodies + "/gros.csv", dest, "test")
    assert not dest.exists() and not dest.with_name("gros.csv.part").exists()


def test_deeply_nested_json_is_a_recorded_source_failure_and_the_run_goes_on(workspace, betagouv_server, cli,
                                                                              monkeypatch):
    betagouv_server.routes["/api/v2.7/startups.json"] = Route(b"[" * 1_000_000 + b"]" * 1_000_000)
    monkeypatch.setenv("VIGIE_BETAGOUV_API", betagouv_server.url + "/api/v2.7")
    code, out, err = cli("ingest")
    assert code == 1 and "imbriquée sur plus de 64 niveaux" in err and "Traceback" not in err
    con = connect(workspace / "data" / "vigie.duckdb")
    assert con.execute("SELECT last_status, last_error FROM meta.source_state WHERE source = 'betagouv'"
                       ).fetchone()[0] not in ("ok", "inchange")
    steps = dict(con.execute("SELECT step, status FROM meta.run_steps").fetchall())
    assert steps["ingest.betagouv"] == "echec" and "ingest.orders" in steps and "ingest.datagouv" in steps
    record("Téléchargements", "JSON d'un million de tableaux imbriqués (beta.gouv.fr)",
           "refusé sans être analysé (http.max_json_depth), échec de source enregistré, les autres sources continuent")


def test_a_next_page_equal_to_itself_ends_the_pagination(workspace, datagouv, cli):
    doc = decp_document(datagouv)
    page = "/api/2/datasets/decp/resources/?page=1"
    items = doc["resources"]
    doc["resources"] = {"href": datagouv.server.url + page, "total": len(items)}
    republish(datagouv, doc)
    datagouv.server.routes[page] = Route(json.dumps(
        {"data": items, "next_page": datagouv.server.url + page}).encode())
    code, out, err = cli("ingest", "--source", "datagouv")
    assert code == 1 and "pagination en boucle" in err
    assert len(datagouv.server.requests_to(page.split("?")[0])) == 1
    record("Téléchargements", "pagination data.gouv.fr dont la page suivante est elle-même",
           "boucle détectée à la deuxième demande, erreur en français, données précédentes gardées")


# ------------------------------------------------------------------ deadlines and certificates


def test_a_status_line_that_drips_meets_the_total_deadline(tmp_path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def drip():
        conn, _ = listener.accept()
        with conn:
            try:
                conn.sendall(b"HTTP/1.1 200 ")
                while not stop.is_set():  # a reason phrase that never ends, one byte at a time
                    conn.sendall(b"O")
                    time.sleep(0.1)
            except OSError:
                pass

    threading.Thread(target=drip, daemon=True).start()
    http = client(tmp_path)
    started = time.monotonic()
    with pytest.raises(SourceError, match="réponse non terminée après 2 s"):
        http.get(f"http://127.0.0.1:{listener.getsockname()[1]}/api", "test")
    stop.set()
    listener.close()
    assert time.monotonic() - started < 30  # each byte came well within the 2 s read timeout
    record("Réseau", "API dont la ligne d'état arrive un octet toutes les 0,1 s",
           "abandonnée à l'échéance totale http.total_timeout_seconds")


def test_a_certificate_error_says_it_is_one(tmp_path):
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    Bodies.answers = {"/x.json": (b"{}", {"Content-Type": "application/json"})}
    server = Server(("127.0.0.1", 0), Bodies)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(SourceError) as caught:
            client(tmp_path).get(f"https://127.0.0.1:{server.server_address[1]}/x.json", "test")
    finally:
        server.shutdown()
        server.server_close()
    assert "certificat TLS du serveur refusé (certificat auto-signé)" in caught.value.message
    assert "injoignable" not in caught.value.message
    record("Réseau", "certificat TLS auto-signé", "« certificat TLS du serveur refusé », pas « serveur injoignable »")


# ------------------------------------------------------------------ YAML


def test_agreement_yaml_with_aliases_is_refused(workspace, cli, monkeypatch, tmp_path):
    doc = yaml.safe_load((ROOT / "pipelines" / "agreements" / "acim-2021.yaml").read_text(encoding="utf-8"))
    text = yaml.safe_dump(doc, allow_unicode=True)
    laughs = "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 9))
    folder = tmp_path / "accords"
    folder.mkdir()
    (folder / "acim-2021.yaml").write_text('l0: &l0 "ha"\n' + laughs + text, encoding="utf-8")
    monkeypatch.setenv("VIGIE_AGREEMENTS_DIR", str(folder))
    code, out, err = cli("ingest", "--source", "orders")
    assert code == 2 and "acim-2021.yaml" in err and "alias YAML" in err
    record("Téléchargements", "fichier d'accord-cadre YAML à alias imbriqués (« billion laughs »)",
           "refusé au premier alias, avant toute expansion")


# ------------------------------------------------------------------ one source fails alone


def test_a_payload_of_the_wrong_shape_fails_its_source_only(workspace, betagouv_server, cli, monkeypatch):
    from tests.conftest import SNAPSHOT

    monkeypatch.setenv("VIGIE_BETAGOUV_API", betagouv_server.url + "/api/v2.7")
    assert cli("ingest", "--source", "betagouv")[0] == 0  # yesterday's good data
    doc = json.loads((SNAPSHOT / "startups.json").read_text(encoding="utf-8"))
    doc["data"][0]["relationships"] = "pas un objet"
    betagouv_server.routes["/api/v2.7/startups.json"] = Route(json.dumps(doc).encode())
    (workspace / "inbox" / "bon.csv").write_text(
        "N° BC;Date du BC;Bénéficiaire;Startup;Titulaire;Montant HT\nB-1;03/10/2026;DINUM;Visio;OCTO;1 000\n",
        encoding="utf-8")
    code, out, err = cli("run")
    assert code == 1 and "Traceback" not in err
    con = connect(workspace / "data" / "vigie.duckdb")
    steps = dict(con.execute("SELECT step, status FROM meta.run_steps").fetchall())
    assert steps["ingest.betagouv"] == "echec" and steps["ingest.orders"] == "ok"
    assert {"check", "alert"} <= set(steps)
    status, error = con.execute(
        "SELECT last_status, last_error FROM meta.source_state WHERE source = 'betagouv'").fetchone()
    assert status == "echec" and error.startswith("La source")
    assert con.execute("SELECT count(*) FROM raw.inbox_orders").fetchone()[0] == 1
    record("Sources", "réponse beta.gouv.fr de forme inattendue (« relationships » en texte)",
           "échec de cette source enregistré avec sa raison en français ; les autres sources, les règles et "
           "les alertes passent")
