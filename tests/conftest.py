"""Shared fixtures: temporary warehouses, loopback sources (beta.gouv.fr, data.gouv.fr),
a real SMTP server (aiosmtpd) and a webhook receiver, and the demo warehouse."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.cli import main as vigie_main
from tests.servers import LoopbackServer, Route

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
SNAPSHOT = ROOT / "pipelines" / "sample" / "betagouv"
SAMPLE_INBOX = ROOT / "pipelines" / "sample" / "inbox"
ARTEFACTS = ROOT / "tests" / "artefacts"
FAST_HTTP = "[http]\nattempts = 3\nbackoff_seconds = 0.01\nconnect_timeout_seconds = 2\nread_timeout_seconds = 2\ntotal_timeout_seconds = 5\n"

# Every test runs at this pinned instant unless it pins its own: the suite must pass
# whatever the machine clock says (checked under libfaketime by `make test-clock`, run by .ci/run).
PINNED_NOW = "2026-11-24T09:00:00"

VIGIE_VARS = ["VIGIE_DB", "VIGIE_INBOX", "VIGIE_BETAGOUV_API", "VIGIE_DATAGOUV_API", "VIGIE_SMTP_URL", "VIGIE_ALERT_TO",
              "VIGIE_WEBHOOK_URL", "VIGIE_CONFIG", "VIGIE_NOW", "VIGIE_AGREEMENTS_DIR", "VIGIE_ALERT_FROM"]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in VIGIE_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("VIGIE_NOW", PINNED_NOW)
    monkeypatch.setenv("GX_ANALYTICS_ENABLED", "False")


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """A warehouse, an inbox and fast HTTP settings in a temporary folder."""
    (tmp_path / "inbox").mkdir()
    config = tmp_path / "vigie.toml"
    config.write_text(FAST_HTTP, encoding="utf-8")
    monkeypatch.setenv("VIGIE_DB", str(tmp_path / "data" / "vigie.duckdb"))
    monkeypatch.setenv("VIGIE_INBOX", str(tmp_path / "inbox"))
    monkeypatch.setenv("VIGIE_CONFIG", str(config))
    monkeypatch.setenv("VIGIE_BETAGOUV_API", str(SNAPSHOT))
    monkeypatch.setenv("VIGIE_DATAGOUV_API", "http://127.0.0.1:9/api/1")  # a closed port: never the internet
    monkeypatch.chdir(tmp_path)
    return tmp_path


class Cli:
    def __init__(self, capsys):
        self.capsys = capsys

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        code = vigie_main(list(argv))
        out, err = self.capsys.readouterr()
        return code, out, err


@pytest.fixture
def cli(capsys):
    return Cli(capsys)


def run_vigie(*argv: str, env: dict | None = None, cwd=None, timeout: float = 300) -> subprocess.CompletedProcess:
    """`vigie` as a user runs it: a separate process."""
    full_env = {k: v for k, v in os.environ.items() if k not in VIGIE_VARS}
    full_env["VIGIE_NOW"] = PINNED_NOW
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "pipelines", *argv], capture_output=True, text=True,
                          env=full_env, cwd=cwd or ROOT, timeout=timeout)


def betagouv_counts() -> dict[str, int]:
    """What the recorded snapshot holds: startups, organisations, and incubators from
    incubators.json or startups.json's `included` (the staging view joins both)."""
    startups = json.loads((SNAPSHOT / "startups.json").read_text(encoding="utf-8"))
    organisations = json.loads((SNAPSHOT / "organisations.json").read_text(encoding="utf-8"))
    incubators = json.loads((SNAPSHOT / "incubators.json").read_text(encoding="utf-8"))
    included = {i["id"] for i in startups.get("included", []) if i.get("type") == "incubator"}
    return {"startups": len({s["id"] for s in startups["data"]}),
            "organisations": len({o["id"] for o in organisations}),
            "incubators": len(set(incubators) | included)}


def connect(path, read_only=True):
    from pipelines import warehouse

    return warehouse.connect(Path(path), read_only=read_only)


@pytest.fixture
def betagouv_server():
    server = LoopbackServer()
    for name in ("startups", "organisations", "incubators"):
        server.routes[f"/api/v2.7/{name}.json"] = Route((SNAPSHOT / f"{name}.json").read_bytes())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def webhook_server():
    server = LoopbackServer().start()
    yield server
    server.stop()


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    class Collector:
        def __init__(self):
            self.messages = []
            self.fail = False

        async def handle_DATA(self, server, session, envelope):
            if self.fail:
                return "451 Service indisponible, réessayez"
            self.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                                  "data": envelope.content})
            return "250 OK"

    handler = Collector()
    handler.logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult

        handler.logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=True)

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # loopback only: authentication without TLS is acceptable here
    controller = Controller(handler, hostname="127.0.0.1", port=port, authenticator=authenticator,
                            auth_require_tls=False)
    controller.start()
    handler.port = port
    yield handler
    controller.stop()


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory):
    """The demo warehouse, built once per session by `vigie demo` in a separate process."""
    folder = tmp_path_factory.mktemp("demo")
    db = folder / "vigie.duckdb"
    result = run_vigie("demo", "--db", str(db), env={"GX_ANALYTICS_ENABLED": "False"}, cwd=folder)
    assert result.returncode == 0, result.stderr
    return db


@pytest.fixture
def demo_copy(demo_db, tmp_path):
    """A private copy of the demo warehouse, for tests that write."""
    target = tmp_path / "demo" / "vigie.duckdb"
    target.parent.mkdir()
    shutil.copyfile(demo_db, target)
    return target


def write_inbox(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture
def datagouv(tmp_path, monkeypatch):
    from tests.datagouv_fixture import DataGouv

    server = DataGouv(tmp_path / "datagouv-src")
    monkeypatch.setenv("VIGIE_DATAGOUV_API", server.api)
    yield server
    server.stop()


def pytest_sessionfinish(session, exitstatus):
    from tests.reliability import RECORDS, markdown

    if RECORDS:
        ARTEFACTS.mkdir(exist_ok=True)
        (ARTEFACTS / "fiabilite.md").write_text(markdown(), encoding="utf-8")
