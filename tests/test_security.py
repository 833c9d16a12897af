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
        text = json.dumps(con.execute(f"SELECT * FROM {table}").fetchall(), default=str)  # noqa: S608 - fixed names
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


SCANNED = ("pipelines", "benchmarks", "tests")  # the product, and every helper that builds SQL too
CODE = "S" + "608"  # split so that this file's own strings are not exemptions
NOQA_S608 = re.compile(r"#\s*noqa:\s*" + CODE + r"\b(?P<after>.*)$")


def unexplained_noqa_s608(text: str) -> list[int]:
    """Lines whose exemption from the check gives no reason: `# noqa: <code> - why it is safe`."""
    lines = []
    for number, line in enumerate(text.splitlines(), 1):
        found = NOQA_S608.search(line)
        if found and not re.match(r"\s+-\s+\S.{4,}", found["after"]):
            lines.append(number)
    return lines


def test_the_noqa_check_sees_an_unexplained_exemption():
    bare = f"# noqa: {CODE}"
    assert unexplained_noqa_s608(f'x = f"SELECT {{a}}"  {bare}\n') == [1]
    assert unexplained_noqa_s608(f'x = f"SELECT {{a}}"  {bare} -\ny = 1  {bare} - constant names') == [1]
    assert unexplained_noqa_s608(f'x = f"SELECT {{a}}"  {bare} - constant names\n') == []


def test_sql_is_always_bound():
    """Every query built from a string is one of a few reviewed constants (ruff S608), and
    each exemption says why it is safe."""
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--select", "S608", *SCANNED],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout
    unexplained = [f"{path.relative_to(ROOT)}:{number}"
                   for folder in SCANNED for path in sorted((ROOT / folder).rglob("*.py"))
                   for number in unexplained_noqa_s608(path.read_text(encoding="utf-8"))]
    assert unexplained == []
    record("Sécurité", "requêtes SQL construites par chaîne", "aucune valeur venue des données : paramètres liés partout")
