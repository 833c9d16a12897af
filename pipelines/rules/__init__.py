"""The rule catalogue (spec/RULES.md), evaluated on the warehouse only.

A rule is one record of catalogue.yaml (read and checked by catalogue.py): its code,
prefix, severities, kind, message function and doc page. A `sql` rule is
`sql/<CODE>.sql` (a SELECT with the columns of FINDING_COLUMNS); a `python` rule names
its function, where the logic is sequential (TOURNIQUET, SOURCE_PERIMEE). Thresholds and
lists come from the agreement files through the `ref` tables; each SQL rule joins
`ref.agreement_rules`, so an agreement only gets the rules it declares. Documentation,
with worked examples that are tests: docs/rules/<CODE>.md.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pipelines.errors import VigieError
from pipelines.rules import catalogue, messages

SQL_DIR = catalogue.SQL_DIR
FINDING_COLUMNS = [
    "rule", "agreement_id", "subject_type", "subject", "severity", "numero_bc", "numero_besoin", "holder_id",
    "titulaire", "acheteur", "startup", "amount_ht", "source_file", "source_line", "evidence",
]


def __getattr__(name: str):
    """PREFIX, TIME_DEPENDENT and PYTHON_RULES, derived from the catalogue when first read
    (not at import: reading the catalogue is I/O)."""
    derived = {
        "PREFIX": lambda: {r.rule: r.prefix for r in catalogue.load()},
        # rules whose answer moves with the clock (or an analyst's review): always evaluated
        "TIME_DEPENDENT": catalogue.time_dependent,
        "PYTHON_RULES": catalogue.python_rules,
    }
    if name in derived:
        return derived[name]()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def signature(settings) -> str:
    """What, besides the data, decides the findings: the rules' code, the marts they read,
    the settings."""
    from pipelines import materialise

    digest = hashlib.sha256(materialise.signature().encode())
    for path in sorted(Path(__file__).parent.rglob("*")):
        if path.suffix in (".sql", ".py", ".yaml"):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    digest.update(json.dumps(settings.toml, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:16]


def codes() -> list[str]:
    return [r.rule for r in catalogue.load()]


def finding_id(rule: str, agreement_id: str | None, subject: str) -> str:
    """Stable identity: the same rule, agreement and subject always give the same id."""
    digest = hashlib.sha256(f"{rule}|{agreement_id or ''}|{subject}".encode()).hexdigest()[:10].upper()
    return f"{catalogue.by_code()[rule].prefix}-{digest}"


def check_columns(rule: str, names: list[str]) -> None:
    """A SQL rule returns exactly FINDING_COLUMNS, in order: anything else is a broken rule
    file, reported as such rather than as findings with shifted columns."""
    if names != FINDING_COLUMNS:
        raise VigieError(
            f"La règle {rule} (pipelines/rules/sql/{rule}.sql) renvoie les colonnes {', '.join(names)} "
            f"au lieu de {', '.join(FINDING_COLUMNS)}.", exit_code=2)


def run_rule(con, settings, now, rule: str) -> list[dict]:
    python_rules = catalogue.python_rules()
    if rule in python_rules:
        return python_rules[rule](con, settings, now)
    query = (SQL_DIR / f"{rule}.sql").read_text(encoding="utf-8")
    # a rule that depends on the clock reads it as the bound parameter $now
    cursor = con.execute(query, {"now": now}) if "$now" in query else con.execute(query)
    names = [d[0] for d in cursor.description]
    check_columns(rule, names)
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def evaluate(con, settings, now, only: list[str] | None = None) -> list[dict]:
    """Every finding the warehouse supports now, with its id, French message and contact."""
    ctx = messages.Context.load(con)
    writers = catalogue.message_writers()
    contacts = {(a, h): c for a, h, c in con.execute(
        "SELECT agreement_id, holder_id, contact_email FROM ref.holders").fetchall()}
    out, seen = [], set()
    for rule in only or codes():
        for row in run_rule(con, settings, now, rule):
            row["finding_id"] = finding_id(row["rule"], row["agreement_id"], row["subject"])
            if row["finding_id"] in seen:  # one finding per identity, whatever the rows
                continue
            seen.add(row["finding_id"])
            row["contact"] = contacts.get((row["agreement_id"], row["holder_id"]))
            row["message"] = messages.render(row, ctx, writers[row["rule"]])
            out.append(row)
    return out
