"""Security: what must never leak or be executed."""

import json
import re
import subprocess
import sys

from tests.conftest import ROOT, SNAPSHOT, connect, run_vigie
from tests.reliability import record


def startup_contacts() -> set[str]:
    doc = json.loads((SNAPSHOT / "startups.json").read_text(encoding="utf-8"))
    return {s["attributes"].get("contact", "").strip() for s in doc["data"]} - {""}


def test_personal_contacts_of_the_startups_api_are_not_shown(demo_db):
    contacts = startup_contacts()
    assert len(contacts) > 100
    html = (demo_db.parent / "rapports" / "2026-10" / "rapport_conformite_2026-10.html").read_text(encoding="utf-8")
    emails = set(re.findall(r"[\w.+-]+@[\w-]+\.[\w.-]+", html))
    assert not emails & contacts
    con = connect(demo_db)
    assert "contact" not in {r[0] for r in con.execute("DESCRIBE raw.betagouv_startups").fetchall()}
    for table in ("findings.findings", "mart.startups"):
        text = json.dumps(con.execute(f"SELECT * FROM {table}").fetchall(), default=str)  # noqa: S608
        assert not any(c in text for c in contacts), table
    record("Sécurité", "contacts personnels de l'API des startups (plus de 100 adresses)",
           "absents du rapport, des constats et des tables dérivées")


def test_credentials_in_source_urls_are_redacted(tmp_path):
    env = {"VIGIE_DB": str(tmp_path / "v.duckdb"), "VIGIE_INBOX": str(tmp_path),
           "VIGIE_BETAGOUV_API": "http://agent:MotDePasse123@127.0.0.1:9/api/v2.7",
           "VIGIE_CONFIG": str(tmp_path / "c.toml")}
    (tmp_path / "c.toml").write_text("[http]\nattempts = 1\n", encoding="utf-8")
    result = run_vigie("ingest", "--source", "betagouv", env=env)
    assert result.returncode == 1
    assert "MotDePasse123" not in result.stderr + result.stdout and "agent:***@" in result.stderr
    con = connect(tmp_path / "v.duckdb")
    stored = json.dumps(con.execute("SELECT * FROM meta.source_state").fetchall(), default=str)
    stored += json.dumps(con.execute("SELECT * FROM meta.runs").fetchall(), default=str)
    assert "MotDePasse123" not in stored
    record("Sécurité", "mot de passe dans l'adresse d'une source, jeton de webhook, mot de passe SMTP",
           "masqués (***) dans les journaux, les erreurs et l'entrepôt")


def test_sql_is_always_bound():
    """Every query built from a string is one of a few reviewed constants (ruff S608)."""
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--select", "S608", "pipelines"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout
    justified = subprocess.run(["grep", "-rn", "noqa: S608", str(ROOT / "pipelines")], capture_output=True, text=True)
    for line in justified.stdout.splitlines():
        assert " - " in line.split("noqa: S608", 1)[1] or "noqa: S608\n" not in line, line
    record("Sécurité", "requêtes SQL construites par chaîne", "aucune valeur venue des données : paramètres liés partout")
