"""Secrets and network conversations: a configured secret never reaches any output, the
SMTP password only travels encrypted, and every conversation ends by its deadline
(a real aiosmtpd server with STARTTLS, loopback webhook and socket servers)."""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pipelines.secrets import redact, remember, url_secrets
from tests.conftest import connect
from tests.reliability import record
from tests.tls import self_signed

PASSWORD = "p@ss/w0rd:Secr3t"  # '@', '/' and ':' fool a naive URL parser
SOURCE_PASSWORD = "S0urceMdp%2Fx9"
HOOK_TOKEN = "Tk9secretWebhookXYZ"
QUERY_TOKEN = "Qsecret77access"


@pytest.fixture
def demo_env(demo_copy, monkeypatch, tmp_path):
    monkeypatch.setenv("VIGIE_DB", str(demo_copy))
    monkeypatch.setenv("VIGIE_INBOX", str(tmp_path / "inbox"))
    (tmp_path / "inbox").mkdir()
    monkeypatch.setenv("VIGIE_BETAGOUV_API", str(demo_copy.parent))
    monkeypatch.setenv("VIGIE_ALERT_TO", "compta@beta.gouv.fr")
    return demo_copy


def config(monkeypatch, tmp_path, text: str) -> None:
    path = tmp_path / "vigie-test.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("VIGIE_CONFIG", str(path))


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1, made here (nothing leaves the machine)."""
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def tls_smtp(certificate):
    """aiosmtpd offering STARTTLS and refusing AUTH before it (auth_require_tls)."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    class Collector:
        messages: list = []
        logins: list = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append(envelope.content)
            return "250 OK"

    handler = Collector()
    handler.messages, handler.logins = [], []

    def authenticator(server, session, envelope, mechanism, auth_data):
        handler.logins.append((auth_data.login.decode(), auth_data.password.decode(), session.ssl is not None))
        return AuthResult(success=True)

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(certificate[0]), str(certificate[1]))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port, authenticator=authenticator,
                            tls_context=context, require_starttls=True, auth_require_tls=True)
    controller.start()
    handler.port = port
    yield handler
    controller.stop()


def deliveries(db) -> dict:
    return dict(connect(db).execute(
        "SELECT channel, max(last_error) FROM alerts.deliveries WHERE channel IN ('email', 'webhook') "
        "GROUP BY channel").fetchall())


def statuses(db) -> set:
    return {r[0] for r in connect(db).execute(
        "SELECT DISTINCT status FROM alerts.deliveries WHERE channel IN ('email', 'webhook')").fetchall()}


# ------------------------------------------------------------------ SMTP and TLS


def test_smtp_password_goes_through_starttls(demo_env, tls_smtp, certificate, cli, monkeypatch, tmp_path):
    # The README's own form: smtp://user:password@host:port, no starttls option.
    monkeypatch.setenv("VIGIE_SMTP_URL", f"smtp://vigie:{PASSWORD.replace('/', '%2F')}@127.0.0.1:{tls_smtp.port}")
    config(monkeypatch, tmp_path, f'[alerts]\nsmtp_ca_file = "{certificate[0]}"\n')
    code, out, err = cli("alert")
    assert tls_smtp.logins == [("vigie", PASSWORD, True)]  # AUTH only once encrypted
    assert len(tls_smtp.messages) == 1 and statuses(demo_env) == {"envoye"}
    record("Sécurité", "mot de passe SMTP sous la forme du README (smtp://utilisateur:motdepasse@hôte:587)",
           "envoyé seulement après STARTTLS, certificat vérifié")


def test_smtp_certificate_is_checked(demo_env, tls_smtp, cli, monkeypatch):
    monkeypatch.setenv("VIGIE_SMTP_URL", f"smtp://vigie:motdepasse@127.0.0.1:{tls_smtp.port}")
    code, out, err = cli("alert")  # the self-signed certificate is not trusted by default
    assert tls_smtp.logins == [] and tls_smtp.messages == []
    assert "certificat TLS du serveur SMTP refusé" in deliveries(demo_env)["email"]


def test_smtp_password_is_never_sent_in_clear(demo_env, smtp_server, cli, monkeypatch, tmp_path):
    monkeypatch.setenv("VIGIE_SMTP_URL", f"smtp://vigie:motdepasse@127.0.0.1:{smtp_server.port}")
    code, out, err = cli("alert")  # this server offers no STARTTLS
    assert code == 1 and smtp_server.logins == [] and smtp_server.messages == []
    error = deliveries(demo_env)["email"]
    assert "ne propose pas STARTTLS" in error and "mot_de_passe_smtp_en_clair" in error
    config(monkeypatch, tmp_path, "[alerts]\nmot_de_passe_smtp_en_clair = true\n")
    code, out, err = cli("alert")  # explicitly allowed: a trusted network
    assert smtp_server.logins == [("vigie", "motdepasse")] and len(smtp_server.messages) == 1
    record("Sécurité", "serveur SMTP sans STARTTLS, mot de passe configuré",
           "mot de passe jamais envoyé en clair (sauf réglage explicite mot_de_passe_smtp_en_clair)")


# ------------------------------------------------------------------ secrets in every output


def test_six_forms_of_secrets_never_leave_the_configuration(demo_env, smtp_server, cli, monkeypatch, tmp_path):
    closed = "127.0.0.1:9"
    monkeypatch.setenv("VIGIE_SMTP_URL", f"smtp://vigie:{PASSWORD}@127.0.0.1:{smtp_server.port}")  # raw '@' '/'
    monkeypatch.setenv("VIGIE_WEBHOOK_URL", f"http://{closed}/webhook-recv/{HOOK_TOKEN}?access_token={QUERY_TOKEN}")
    monkeypatch.setenv("VIGIE_BETAGOUV_API", f"http://agent:{SOURCE_PASSWORD}@{closed}/api/v2.7")
    config(monkeypatch, tmp_path, "[http]\nattempts = 1\nbackoff_seconds = 0.01\n")
    outputs = []
    for argv in (("ingest", "--source", "betagouv"), ("alert",), ("status", "--format", "json"), ("status",)):
        code, out, err = cli(*argv)
        outputs.append(out + err)
    secrets = [PASSWORD, PASSWORD.replace("/", "%2F"), SOURCE_PASSWORD, HOOK_TOKEN, QUERY_TOKEN]
    text = "\n".join(outputs)
    assert "injoignable" in text  # the failures were reported…
    assert not [s for s in secrets if s in text]  # …without their secrets
    con = connect(demo_env)
    for schema, table, column in con.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            "WHERE data_type = 'VARCHAR' AND table_schema NOT IN ('stg', 'int', 'mart')").fetchall():
        for secret in secrets:
            hits = con.execute(
                f'SELECT count(*) FROM "{schema}"."{table}" WHERE contains("{column}", ?)',  # noqa: S608 - catalogue
                [secret]).fetchone()[0]
            assert hits == 0, f"secret in {schema}.{table}.{column}"
    assert con.execute("SELECT count(*) FROM alerts.digests WHERE target LIKE '%***%'").fetchone()[0] >= 1
    record("Sécurité", "6 formes de secrets (mot de passe SMTP avec @ / :, encodé ou non ; mot de passe d'une "
           "source ; jeton dans le chemin et dans la requête d'un webhook ; en-tête Authorization)",
           "masqués (***) dans les journaux, les erreurs, l'entrepôt, l'état JSON et les alertes")


def test_redact_masks_secret_shapes_it_was_not_told_about():
    remember(*url_secrets("https://h.example/api/webhooks/123/AbCdEf0123456789?x=1", webhook=True))
    cases = {
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.c2VjcmV0": "eyJhbGciOiJIUzI1NiJ9",
        "{'Authorization': 'Basic dmlnaWU6bW90ZGVwYXNzZQ=='}": "dmlnaWU6bW90ZGVwYXNzZQ",
        "https://u:pa/ss@word@host.example/x": "pa/ss@word",
        "url: /hooks/abcdef0123 (Caused by)": "abcdef0123",
        "https://x.example/p?api_key=KEY123456&b=2": "KEY123456",
        "POST /api/webhooks/123/AbCdEf0123456789 failed": "AbCdEf0123456789",
    }
    for text, secret in cases.items():
        assert secret not in redact(text), text
    assert redact("https://www.data.gouv.fr/api/1/datasets/608c055b") == "https://www.data.gouv.fr/api/1/datasets/608c055b"


# ------------------------------------------------------------------ deadlines and redirects


class EndlessGreeting:
    """An SMTP server that never finishes its greeting: one `220-` line after another."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.lines = 0
        self.stop = threading.Event()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            while not self.stop.is_set():
                try:
                    conn.sendall(b"220-bienvenue, encore une ligne\r\n")
                except OSError:
                    return
                self.lines += 1
                time.sleep(0.05)

    def close(self):
        self.stop.set()
        self.sock.close()


class SlowWebhook(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    mode = "drip"

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.mode == "redirect":
            self.send_response(301)
            self.send_header("Location", "http://127.0.0.1:9/hooks/ailleurs")  # never leaves the machine
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", "100000")
        self.end_headers()
        try:
            for _ in range(100000):
                self.wfile.write(b"o")
                self.wfile.flush()
                time.sleep(0.2)
        except OSError:
            pass


@pytest.fixture
def slow_webhook():
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowWebhook)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_endless_smtp_greeting_and_dripping_webhook_end_by_the_deadline(demo_env, slow_webhook, cli, monkeypatch,
                                                                         tmp_path):
    greeting = EndlessGreeting()
    monkeypatch.setenv("VIGIE_SMTP_URL", f"smtp://127.0.0.1:{greeting.port}")
    monkeypatch.setenv("VIGIE_WEBHOOK_URL", f"http://127.0.0.1:{slow_webhook.server_address[1]}/hooks/abc")
    config(monkeypatch, tmp_path, "[alerts]\ntotal_timeout_seconds = 2\nsmtp_timeout_seconds = 1\n"
                                  "webhook_timeout_seconds = 1\n")
    started = time.monotonic()
    code, out, err = cli("alert")
    elapsed = time.monotonic() - started
    greeting.close()
    assert greeting.lines > 20  # the server was still talking when each read was well under its timeout
    assert code == 1 and statuses(demo_env) == {"echec"}
    errors = deliveries(demo_env)
    assert "serveur SMTP : échange non terminé après 2 s" in errors["email"]
    assert "webhook : échange non terminé après 2 s" in errors["webhook"]
    assert elapsed < 30  # a hang would be stopped by pytest's own timeout much later
    record("Réseau", "serveur SMTP qui envoie des lignes « 220- » sans fin ; webhook qui égrène sa réponse",
           "conversation abandonnée à l'échéance totale (alerts.total_timeout_seconds), échec enregistré, "
           "nouvel essai à la prochaine exécution")


def test_webhook_redirect_is_not_followed(demo_env, slow_webhook, cli, monkeypatch):
    monkeypatch.setattr(SlowWebhook, "mode", "redirect")
    monkeypatch.setenv("VIGIE_WEBHOOK_URL", f"http://127.0.0.1:{slow_webhook.server_address[1]}/hooks/abc")
    code, out, err = cli("alert")
    assert code == 1 and statuses(demo_env) == {"echec"}
    error = deliveries(demo_env)["webhook"]
    assert "301" in error and "non suivie" in error and "ailleurs" not in error
    record("Réseau", "webhook qui répond 301 vers un autre serveur", "redirection non suivie, envoi enregistré en échec")


def test_status_json_carries_no_secret(demo_env, cli, monkeypatch):
    monkeypatch.setenv("VIGIE_DATAGOUV_API", f"https://agent:{SOURCE_PASSWORD}@data.example/api/1")
    code, out, _ = cli("status", "--format", "json")
    assert SOURCE_PASSWORD not in out and json.loads(out)["sources"]
