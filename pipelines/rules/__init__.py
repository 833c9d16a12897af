"""The rule catalogue (spec/RULES.md), evaluated on the warehouse only.

Each rule is `sql/<CODE>.sql` (a SELECT with the columns of FINDING_COLUMNS), or a Python
module where the logic is sequential (TOURNIQUET, SOURCE_PERIMEE). Thresholds and lists
come from the agreement files through the `ref` tables; each SQL rule joins
`ref.agreement_rules`, so an agreement only gets the rules it declares. Documentation,
with worked examples that are tests: docs/rules/<CODE>.md.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pipelines.agreements import load_catalogue
from pipelines.rules import messages, staleness, tourniquet

SQL_DIR = Path(__file__).parent / "sql"
PYTHON_RULES = {"TOURNIQUET": tourniquet.evaluate, "SOURCE_PERIMEE": staleness.evaluate}
FINDING_COLUMNS = [
    "rule", "agreement_id", "subject_type", "subject", "severity", "numero_bc", "numero_besoin", "holder_id",
    "titulaire", "acheteur", "startup", "amount_ht", "source_file", "source_line", "evidence",
]
PREFIX = {
    "HORS_STARTUP": "HS", "EXCEPTION_DINUM": "ED", "PHASE_NON_ELIGIBLE": "PH", "ACHETEUR_NON_BENEFICIAIRE": "AB",
    "TITULAIRE_INVALIDE": "TI", "HORS_PERIODE": "HP", "PLAFOND": "PL", "REFUS_SEUIL": "RS",
    "REFUS_NON_JUSTIFIE": "RJ", "TOURNIQUET": "TQ", "NON_DECLARE_DINUM": "ND", "MONTANT_INCOHERENT": "MI",
    "SOURCE_PERIMEE": "SP", "MINISTERE_DIFFERENT": "MD", "HORS_PERIMETRE_LOT": "HL",
    "RAPPROCHEMENT_A_REVOIR": "RR", "EXECUTION_APRES_FIN": "EF", "MONTANT_ATYPIQUE": "MA",
}


# Rules whose answer moves with the clock (or with an analyst's review), not only with
# the data: always evaluated. NON_DECLARE_DINUM waits for the half-year's due date;
# PLAFOND leaves out atypical amounts until they are reviewed.
TIME_DEPENDENT = ["SOURCE_PERIMEE", "NON_DECLARE_DINUM", "PLAFOND"]


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
    return [r["rule"] for r in load_catalogue()]


def finding_id(rule: str, agreement_id: str | None, subject: str) -> str:
    """Stable identity: the same rule, agreement and subject always give the same id."""
    digest = hashlib.sha256(f"{rule}|{agreement_id or ''}|{subject}".encode()).hexdigest()[:10].upper()
    return f"{PREFIX[rule]}-{digest}"


def run_rule(con, settings, now, rule: str) -> list[dict]:
    if rule in PYTHON_RULES:
        return PYTHON_RULES[rule](con, settings, now)
    query = (SQL_DIR / f"{rule}.sql").read_text(encoding="utf-8")
    # a rule that depends on the clock reads it as the bound parameter $now
    cursor = con.execute(query, {"now": now}) if "$now" in query else con.execute(query)
    names = [d[0] for d in cursor.description]
    assert names == FINDING_COLUMNS, f"{rule}.sql returns {names}"
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def evaluate(con, settings, now, only: list[str] | None = None) -> list[dict]:
    """Every finding the warehouse supports now, with its id, French message and contact."""
    ctx = messages.Context.load(con)
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
            row["message"] = messages.render(row, ctx)
            out.append(row)
    return out
