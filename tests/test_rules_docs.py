"""Each rule's documentation page (docs/rules/CODE.md) carries a worked example: its
input files are dropped in an empty inbox, Vigie runs, and the findings it lists as
`attendus` must be raised (with their severity) and those listed as `absents` must not.
The boundaries the rules turn on are in these examples: 9 vs 10 refusals, Benext on
2022-03-31 vs 2022-04-01, the DINUM exception, a listed startup written with another case
and without accents."""

import re

import pytest
import yaml

from pipelines.rules import codes
from tests.conftest import ROOT, connect

DOCS = ROOT / "docs" / "rules"
SECTIONS = ["## Définition", "## Texte de référence", "## Méthode", "## Pourquoi c'est un signal d'alerte",
            "## Configuration", "## Exclusions", "## Sortie", "## Hypothèses", "## Exemple"]
FENCE = re.compile(r"```(csv fichier=(?P<name>\S+)|yaml resultat)\n(?P<body>.*?)```", re.S)


def example(code: str) -> tuple[dict[str, str], dict]:
    text = (DOCS / f"{code}.md").read_text(encoding="utf-8")
    files, result = {}, None
    for m in FENCE.finditer(text):
        if m.group("name"):
            files[m.group("name")] = m.group("body")
        else:
            result = yaml.safe_load(m.group("body"))
    return files, result


@pytest.mark.parametrize("code", codes())
def test_every_rule_has_a_complete_page(code):
    text = (DOCS / f"{code}.md").read_text(encoding="utf-8")
    assert text.startswith("# ") and f"({code})" in text.splitlines()[0]
    for section in SECTIONS:
        assert section in text, f"{code}: « {section} » manque"
    files, result = example(code)
    assert files and result and result.get("attendus")
    assert any(a["regle"] == code for a in result["attendus"])


@pytest.mark.parametrize("code", codes())
def test_worked_example(code, workspace, cli, monkeypatch):
    files, result = example(code)
    for name, body in files.items():
        (workspace / "inbox" / name).write_text(body, encoding="utf-8")
    if result.get("horloge"):
        monkeypatch.setenv("VIGIE_NOW", str(result["horloge"]))
    for source in ("betagouv", "orders"):
        code_ingest, out, err = cli("ingest", "--source", source)
        assert code_ingest == 0, out + err
    check = cli("check")
    assert check[0] == 0, check[2]
    con = connect(workspace / "data" / "vigie.duckdb")
    raised = {(r, s): sev for r, s, sev in con.execute(
        "SELECT rule, subject, severity FROM findings.findings WHERE active").fetchall()}
    for want in result["attendus"]:
        key = (want["regle"], str(want["sujet"]))
        assert key in raised, f"{key} attendu ; levés : {sorted(k for k in raised if k[0] == want['regle'])}"
        assert raised[key] == want["gravite"]
    for absent in result.get("absents") or []:
        assert (absent["regle"], str(absent["sujet"])) not in raised
    quarantined = con.execute("SELECT count(*) FROM raw.inbox_quarantine").fetchone()[0]
    assert quarantined == 0, "an example's input must load entirely"


def test_readme_table_is_the_catalogue():
    from pipelines.rules import catalogue, readme

    text = (DOCS / "README.md").read_text(encoding="utf-8")
    assert readme.render(text, catalogue.load()) == text, "python -m pipelines.rules.readme"
    for code in codes():
        assert f"[{code}]({code}.md)" in text
