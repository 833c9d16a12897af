"""The SQL layers hold (docs/ARCHITECTURE-sql.md), and a warehouse built before them opens.

Layers: sql/ddl creates tables; staging views `stg.<source>__<entity>` rename/cast one
source; `int` views hold the logic; marts read staging and int, never raw; every model
states its grain. Checked by reading the SQL files, not by running them.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from pipelines import materialise, warehouse
from pipelines.config import PACKAGE_DIR
from tests.conftest import FIXTURES

SQL = PACKAGE_DIR / "sql"
BEFORE = FIXTURES / "warehouse_before_20"
SCHEMA_REF = re.compile(r"\b(raw|ref|core|stg|int|mart|findings|alerts|validation|meta)\.([a-z_][a-z0-9_]*)\b")
CREATES = re.compile(r"^CREATE (?:OR REPLACE VIEW|TABLE IF NOT EXISTS) (\w+)\.(\w+)", re.MULTILINE)
STAGING_NAME = re.compile(r"^stg\.([a-z]+)__[a-z_]+$")


def code_only(sql: str) -> str:
    """SQL without comments and string literals (a table name in a comment reads nothing)."""
    sql = re.sub(r"'(?:[^']|'')*'", "''", sql)
    return re.sub(r"--[^\n]*", "", sql)


def models(text: str) -> list[dict]:
    """Each CREATE VIEW / CREATE TABLE … AS of a file: name, the comment just above it, its SQL."""
    out = []
    statements = re.split(r";[ \t]*(?:--[^\n]*)?\n", text)
    for statement in statements:
        match = CREATES.search(statement)
        if not match or (" AS" not in statement[match.end():match.end() + 4] and "VIEW" not in match[0]):
            continue
        comment = [line for line in statement[:match.start()].splitlines() if line.startswith("--")]
        out.append({"name": f"{match[1]}.{match[2]}", "comment": "\n".join(comment),
                    "body": code_only(statement[match.end():])})
    return out


def reads(model: dict) -> set[str]:
    return {f"{schema}.{name}" for schema, name in SCHEMA_REF.findall(model["body"])}


def layer_problems(layer: str, model: dict) -> list[str]:
    """What is wrong with one model of one layer (empty: nothing)."""
    name, body, problems = model["name"], model["body"], []
    if not re.search(r"^-- grain: one row", model["comment"], re.MULTILINE):
        problems.append(f"{name}: no « -- grain: one row … » comment above it")
    read = reads(model)
    if layer == "marts":
        problems += [f"{name} reads {t}: a mart reads staging or int" for t in sorted(read) if t.startswith("raw.")]
        if not name.startswith("mart."):
            problems.append(f"{name}: sql/marts creates mart.* only")
    elif layer == "intermediate":
        problems += [f"{name} reads {t}: int reads stg, int, ref, core" for t in sorted(read)
                     if t.split(".")[0] not in ("stg", "int", "ref", "core")]
        if not name.startswith("int."):
            problems.append(f"{name}: sql/intermediate creates int.* only")
    elif layer == "staging":
        problems += staging_problems(name, body, read)
    return problems


def staging_problems(name: str, body: str, read: set[str]) -> list[str]:
    match = STAGING_NAME.match(name)
    if not match:
        return [f"{name}: a staging view is named stg.<source>__<entity>"]
    source = match[1]
    problems = [f"{name} reads {t}: staging reads raw.{source}_* / stg.{source}__* only" for t in sorted(read)
                if not (t.startswith(f"raw.{source}_") or t.startswith(f"stg.{source}__"))]
    for pattern, what in ((r"\bGROUP\s+BY\b", "GROUP BY"), (r"\bOVER\s*[(\w]", "a window"),
                          (r"\bQUALIFY\b", "QUALIFY"), (r"\bDISTINCT\b", "DISTINCT")):
        if re.search(pattern, body, re.IGNORECASE):
            problems.append(f"{name}: {what} in staging (logic goes to sql/intermediate)")
    return problems


def all_models() -> list[tuple[str, Path, dict]]:
    return [(layer, path, model) for layer in ("staging", "intermediate", "marts")
            for path in sorted((SQL / layer).glob("*.sql")) for model in models(path.read_text(encoding="utf-8"))]


def test_the_layers_are_applied_in_order():
    assert warehouse.LAYERS == ("ddl", "staging", "intermediate", "marts")
    assert sorted(p.stem for p in (SQL / "ddl").glob("*.sql")) == sorted(
        ["meta", "raw", "ref", "core", "findings", "alerts", "validation"])
    assert not (SQL / "raw").exists()


def test_every_model_keeps_to_its_layer():
    found = all_models()
    assert len(found) > 40  # the parser sees the models
    problems = [p for layer, _, model in found for p in layer_problems(layer, model)]
    assert problems == []


def test_ddl_creates_tables_of_its_own_schema_only():
    for path in (SQL / "ddl").glob("*.sql"):
        text = code_only(path.read_text(encoding="utf-8"))
        assert "CREATE OR REPLACE VIEW" not in text, path.name
        created = {m[0] for m in re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)\.(\w+)", text)}
        assert created == {path.stem}, path.name


def test_consumers_read_marts_not_raw_nor_int():
    """Rules and report queries read marts (and ref, findings); only models read int."""
    for folder in (PACKAGE_DIR / "rules" / "sql", PACKAGE_DIR / "report" / "sql"):
        for path in folder.glob("*.sql"):
            read = {t.split(".")[0] for t in reads({"body": code_only(path.read_text(encoding="utf-8"))})}
            assert not read & {"raw", "int"}, path.name


@pytest.mark.parametrize(("layer", "sql", "expected"), [
    ("marts", "-- grain: one row per x\nCREATE OR REPLACE VIEW mart.x AS SELECT * FROM raw.inbox_orders;\n",
     "reads raw.inbox_orders"),
    ("marts", "-- what it is\nCREATE OR REPLACE VIEW mart.x AS SELECT * FROM stg.inbox__orders;\n", "no « -- grain"),
    ("staging", "-- grain: one row per x\nCREATE OR REPLACE VIEW stg.inbox__x AS\n"
                "SELECT * FROM raw.inbox_orders o JOIN raw.betagouv_startups s USING (startup);\n",
     "reads raw.betagouv_startups"),
    ("staging", "-- grain: one row per x\nCREATE OR REPLACE VIEW stg.inbox__x AS\n"
                "SELECT startup, count(*) FROM raw.inbox_orders GROUP BY startup;\n", "GROUP BY"),
    ("staging", "-- grain: one row per x\nCREATE OR REPLACE VIEW stg.inbox__x AS\n"
                "SELECT row_number() OVER (ORDER BY line) FROM raw.inbox_orders;\n", "a window"),
    ("staging", "-- grain: one row per x\nCREATE OR REPLACE VIEW stg.orders AS SELECT * FROM raw.inbox_orders;\n",
     "stg.<source>__<entity>"),
    ("intermediate", "-- grain: one row per x\nCREATE OR REPLACE VIEW int.x AS SELECT * FROM mart.orders;\n",
     "reads mart.orders"),
])
def test_the_checks_catch_a_broken_model(layer, sql, expected):
    (model,) = models(sql)
    assert any(expected in p for p in layer_problems(layer, model))


def test_the_stored_marts_signature_follows_every_layer(tmp_path, monkeypatch):
    """A change to any model (or macro) makes the stored marts, and so the findings, stale."""
    copy = tmp_path / "sql"
    shutil.copytree(SQL, copy)
    monkeypatch.setattr(warehouse, "SQL_DIR", copy)
    base = materialise.signature()
    for relative in ("macros.sql", "staging/inbox.sql", "intermediate/040_enriched.sql", "marts/020_orders.sql"):
        path = copy / relative
        original = path.read_text(encoding="utf-8")
        path.write_text(original + "\n-- changed\n", encoding="utf-8")
        assert materialise.signature() != base, relative
        path.write_text(original, encoding="utf-8")
    assert materialise.signature() == base


# ---------------------------------------------------------------- a warehouse of before #20


# Old names written in pieces: /work/wt/rename.sed, run over the tests, must leave them be.
OLD_NAMES = ("commandes", "declarations", "besoins", "quarantine")
RENAMED = dict(zip([f"raw.{n}" for n in OLD_NAMES],
                   ["raw.inbox_orders", "raw.inbox_declarations", "raw.inbox_needs", "raw.inbox_quarantine"], strict=True))
STALE_VIEWS = {f"{schema}.{name}" for schema, names in (
    ("stg", ("commandes", "besoins", "quarantine", "decp_review", "inbox_files", "betagouv_startups")),
    ("mart", ("besoins", "row_agreement", "orders_enriched_live", "solicitations_live"))) for name in names}


def build_before(db: Path) -> None:
    """A warehouse as today's main built it (tests/fixtures/warehouse_before_20), with rows."""
    con = warehouse.connect(db)
    for schema in ("raw", "ref", "core", "stg", "mart", "findings", "alerts", "validation", "meta"):
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    con.execute((BEFORE / "macros.sql").read_text(encoding="utf-8"))
    for layer in ("raw", "staging", "marts"):
        for path in sorted((BEFORE / layer).glob("*.sql")):
            con.execute(path.read_text(encoding="utf-8"))
    con.execute("INSERT INTO raw.inbox_files VALUES ('sha1', 'a.csv', 1, 10, 'commandes', 'charge', NULL, 3, 2, 1, 0, "
                "1, NULL, 'utf-8', ';', '{}', NULL, NULL, 'run1', TIMESTAMPTZ '2026-10-01 10:00:00+02')")
    insert = {old: f"INSERT INTO raw.{old} VALUES " for old in OLD_NAMES}  # noqa: S608 - constants
    con.execute(insert["commandes"]
                + "('sha1', 1, 2, '1400000001', DATE '2026-09-01', 'DINUM', 'Vigie', 'OCTO', 1200.50, 1440.60, NULL, 1, "
                "'objet', NULL, NULL, 'h1', '{\"N° BC\": \"1400000001\"}', NULL), "
                "('sha1', 1, 3, '1400000002', DATE '2026-09-02', 'DINUM', 'Vigie', 'OCTO', 99.00, NULL, NULL, NULL, "
                "NULL, NULL, NULL, 'h2', '{}', NULL)")
    con.execute(insert["declarations"] + "('sha1', 1, 4, '1400000001', DATE '2026-09-01', 'DINUM', "
                "'Vigie', 'OCTO', 1200.50, NULL, NULL, NULL, NULL, NULL, NULL, DATE '2026-09-10', 'h3', '{}', NULL)")
    con.execute(insert["besoins"] + "('sha1', 1, 5, 'EB-1', DATE '2026-08-01', 'DINUM', 'Vigie', 'OCTO', "
                "1, 'refus', DATE '2026-08-03', 'plan de charge', NULL, 5000.00, NULL, NULL, 'h4', '{}', NULL)")
    con.execute(insert["quarantine"] + "('sha1', 'a.csv', 6, 'commandes', 'date', 'ligne 6 : date illisible', '{}')")
    con.close()


def views(con) -> set[str]:
    return {f"{s}.{v}" for s, v in con.execute(
        "SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal").fetchall()}


def rows(con, table: str) -> list[tuple]:
    return con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()  # noqa: S608 - constant names


def test_a_warehouse_built_before_the_layers_keeps_its_rows(tmp_path):
    db = tmp_path / "avant.duckdb"
    build_before(db)
    con = warehouse.connect(db, read_only=True)
    before = {old: rows(con, old) for old in RENAMED}
    assert STALE_VIEWS <= views(con)
    con.close()
    assert all(before.values())

    con = warehouse.connect(db)
    warehouse.ensure_schema(con)
    warehouse.ensure_schema(con)  # idempotent: a second open changes nothing
    for old, new in RENAMED.items():
        assert rows(con, new) == before[old], new
    tables = {f"{s}.{t}" for s, t in con.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()}
    assert not tables & set(RENAMED)
    assert not views(con) & STALE_VIEWS
    # the new layers read the renamed tables
    assert con.execute("SELECT numero_bc, montant_ht FROM mart.orders ORDER BY 1").fetchall() == [
        ("1400000001", pytest.approx(1200.50)), ("1400000002", pytest.approx(99.00))]
    assert con.execute("SELECT numero_besoin, motif FROM mart.needs").fetchall() == [("EB-1", "plan de charge")]
    assert con.execute("SELECT source_file, line FROM stg.inbox__quarantine").fetchall() == [("a.csv", 6)]
    con.close()
