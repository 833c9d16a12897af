"""One rule = one record of pipelines/rules/catalogue.yaml, plus its SQL (or Python) and
its doc page. These tests hold the record and the files beside it together: no severity in
a SQL file the record does not allow, no rule without its implementation or page, no
orphan SQL file or page, and a broken record stops with a French sentence naming the rule."""

import re
from pathlib import Path

import pytest
import yaml

from pipelines import rules
from pipelines.errors import UsageError, VigieError
from pipelines.rules import catalogue
from tests.conftest import ROOT

DOCS = ROOT / "docs" / "rules"
SEVERITY = re.compile(r"'(critique|alerte|info)'")
PY_SEVERITY = re.compile(r"""["']severity["']\s*:\s*["'](\w+)["']""")


def raw_records() -> list[dict]:
    return yaml.safe_load(catalogue.CATALOGUE.read_text(encoding="utf-8"))


def sql_severities(path: Path) -> set[str]:
    """Severity literals of the SQL itself, comments left out (they name severities in prose)."""
    code = "\n".join(line.split("--", 1)[0] for line in path.read_text(encoding="utf-8").splitlines())
    return set(SEVERITY.findall(code))


@pytest.mark.parametrize("record", catalogue.load(), ids=lambda r: r.rule)
def test_the_rule_raises_only_the_severities_its_record_allows(record):
    if record.kind == "sql":
        found = sql_severities(record.sql_path)
    else:
        module = record.python.rsplit(".", 1)[0]
        found = set(PY_SEVERITY.findall((catalogue.RULES_DIR / f"{module}.py").read_text(encoding="utf-8")))
    assert found, f"{record.rule}: no severity found in its implementation"
    assert found <= set(record.severities), f"{record.rule} raises {sorted(found)}, record allows {record.severities}"
    assert record.severity in found, f"{record.rule}: its default severity is never raised"


def test_every_rule_has_its_implementation_and_page_and_nothing_is_orphan():
    records = catalogue.load()
    sql_rules = {r.rule for r in records if r.kind == "sql"}
    assert {p.stem for p in catalogue.SQL_DIR.glob("*.sql")} == sql_rules
    pages = {r.doc for r in records}
    assert {f"docs/rules/{p.name}" for p in DOCS.glob("*.md") if p.name != "README.md"} == pages
    for r in records:
        assert (ROOT / r.doc).is_file()
        if r.kind == "python":
            assert callable(rules.PYTHON_RULES[r.rule])


def test_derived_tables_come_from_the_records():
    records = raw_records()
    assert rules.codes() == [r["rule"] for r in records]
    assert rules.PREFIX == {r["rule"]: r["prefix"] for r in records}
    assert set(rules.PYTHON_RULES) == {r["rule"] for r in records if r["kind"] == "python"}
    ranked = sorted((r["time_dependent"], r["rule"]) for r in records if r["time_dependent"] is not False)
    assert rules.TIME_DEPENDENT == [code for _, code in ranked]


def broken(code: str, **change) -> list[dict]:
    records = raw_records()
    target = next(r for r in records if r["rule"] == code)
    target.update(change)
    return records


@pytest.mark.parametrize(("code", "change", "said"), [
    ("PLAFOND", {"kind": "dbt"}, "le type « dbt » est inconnu"),
    ("PLAFOND", {"prefix": "HS"}, "le préfixe « HS » est déjà celui de la règle HORS_STARTUP"),
    ("PLAFOND", {"rule": "PLAFOND_LOT", "message": "plafond"}, "pipelines/rules/sql/PLAFOND_LOT.sql est introuvable"),
    ("PLAFOND", {"doc": "docs/rules/PLAFOND_LOT.md"}, "la page de documentation docs/rules/PLAFOND_LOT.md est introuvable"),
    ("TOURNIQUET", {"python": "tourniquet.nowhere"}, "la fonction « nowhere » n'existe pas"),
    ("PLAFOND", {"message": "plafonds"}, "la fonction de message « plafonds »"),
    ("PLAFOND", {"severities": ["alerte", "grave"]}, "gravité inconnue « grave »"),
    ("PLAFOND", {"time_dependent": True}, "« time_dependent » vaut false"),
    ("PLAFOND", {"colour": "red"}, "clé(s) inconnue(s) : colour"),
])
def test_a_broken_record_is_a_french_sentence_naming_the_rule(code, change, said):
    with pytest.raises(UsageError) as raised:
        catalogue.validate(broken(code, **change), ROOT)
    name = change.get("rule", code)
    assert f"règle « {name} »" in raised.value.message
    assert said in raised.value.message
    assert raised.value.exit_code == 2


def test_the_catalogue_as_shipped_is_valid():
    assert [r.rule for r in catalogue.validate(raw_records(), ROOT)] == rules.codes()


def test_a_sql_rule_with_other_columns_is_an_error_naming_its_file():
    rules.check_columns("PLAFOND", list(rules.FINDING_COLUMNS))
    shifted = [c for c in rules.FINDING_COLUMNS if c != "holder_id"]
    with pytest.raises(VigieError) as raised:
        rules.check_columns("PLAFOND", shifted)
    assert "pipelines/rules/sql/PLAFOND.sql" in raised.value.message
