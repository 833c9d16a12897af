"""The rule catalogue (catalogue.yaml): one record per rule, read and checked here.

Everything else about a rule is derived from its record: the id prefix, whether it is
evaluated on every check, its Python implementation, its message function. A record
that does not hold together (unknown kind, prefix used twice, SQL file or doc page
missing…) stops the run with a French sentence naming the rule, never a KeyError later.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from pipelines.errors import UsageError
from pipelines.rules import messages

RULES_DIR = Path(__file__).parent
CATALOGUE = RULES_DIR / "catalogue.yaml"
SQL_DIR = RULES_DIR / "sql"
# docs/ is in a source checkout, not in an installed wheel: doc pages are checked where it is
REPO_ROOT = RULES_DIR.parents[1]

SEVERITIES = ("critique", "alerte", "info")
KINDS = ("sql", "python")
REQUIRED = {
    "rule": str, "title": str, "prefix": str, "kind": str, "subject_type": str, "severity": str,
    "severities": list, "alerts_always": bool, "time_dependent": (bool, int), "message": str, "doc": str,
}
OPTIONAL = {"python": str, "severity_label": str}
CODE = re.compile(r"[A-Z][A-Z0-9_]*")
PREFIX = re.compile(r"[A-Z]{2}")


@dataclass(frozen=True)
class Rule:
    rule: str
    title: str
    prefix: str
    kind: str
    subject_type: str
    severity: str
    severities: tuple[str, ...]
    alerts_always: bool
    time_dependent: bool | int  # false, or its rank among the rules evaluated on every check
    message: str
    doc: str
    python: str | None = None
    severity_label: str | None = None

    @property
    def sql_path(self) -> Path | None:
        return SQL_DIR / f"{self.rule}.sql" if self.kind == "sql" else None

    def as_dict(self) -> dict:
        return {**self.__dict__, "severities": list(self.severities)}


def _error(rule: str, what: str) -> UsageError:
    return UsageError(f"Catalogue des règles (pipelines/rules/catalogue.yaml), règle « {rule} » : {what}")


def _fields(entry, index: int) -> Rule:
    """One record's keys and types."""
    if not isinstance(entry, dict):
        raise _error(f"n° {index + 1}", "chaque règle doit être un ensemble de clés (rule, title, prefix…).")
    code = str(entry.get("rule") or f"n° {index + 1}")
    missing = [k for k in REQUIRED if k not in entry]
    if missing:
        raise _error(code, f"clé(s) manquante(s) : {', '.join(missing)}.")
    unknown = sorted(set(entry) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise _error(code, f"clé(s) inconnue(s) : {', '.join(unknown)}.")
    for key, kind in {**REQUIRED, **OPTIONAL}.items():
        if key in entry and not isinstance(entry[key], kind):
            raise _error(code, f"la valeur de « {key} » n'a pas le bon type ({entry[key]!r}).")
    return Rule(**{**entry, "severities": tuple(entry["severities"])})


def _python_target(r: Rule) -> Callable:
    module, _, function = (r.python or "").rpartition(".")
    if not module or not (RULES_DIR / f"{module}.py").is_file():
        raise _error(r.rule, f"« python » doit nommer <module>.<fonction> d'un module de pipelines/rules/ "
                             f"(trouvé : {r.python!r}).")
    target = getattr(importlib.import_module(f"pipelines.rules.{module}"), function, None)
    if not callable(target):
        raise _error(r.rule, f"la fonction « {function} » n'existe pas dans pipelines/rules/{module}.py.")
    return target


def _check_kind(r: Rule) -> None:
    if r.kind not in KINDS:
        raise _error(r.rule, f"le type « {r.kind} » est inconnu (types possibles : {', '.join(KINDS)}).")
    if r.kind == "sql":
        if r.python is not None:
            raise _error(r.rule, "une règle de type sql ne nomme pas de fonction « python ».")
        if not r.sql_path.is_file():
            raise _error(r.rule, f"le fichier SQL pipelines/rules/sql/{r.rule}.sql est introuvable.")
    else:
        _python_target(r)


def _check_record(r: Rule, docs_root: Path | None) -> None:
    if not CODE.fullmatch(r.rule):
        raise _error(r.rule, "le code s'écrit en majuscules, chiffres et « _ ».")
    if not PREFIX.fullmatch(r.prefix):
        raise _error(r.rule, f"le préfixe « {r.prefix} » doit être de deux lettres majuscules.")
    unknown = [s for s in (r.severity, *r.severities) if s not in SEVERITIES]
    if unknown:
        raise _error(r.rule, f"gravité inconnue « {unknown[0]} » (gravités possibles : {', '.join(SEVERITIES)}).")
    if r.time_dependent is True or (r.time_dependent is not False and r.time_dependent < 1):
        raise _error(r.rule, "« time_dependent » vaut false, ou le rang (1, 2…) de la règle parmi celles "
                             "réévaluées à chaque contrôle.")
    if not r.severities or r.severities[0] != r.severity:
        raise _error(r.rule, "« severities » commence par la gravité par défaut (« severity »).")
    _check_kind(r)
    if not callable(getattr(messages, r.message, None)) or r.message.startswith("_"):
        raise _error(r.rule, f"la fonction de message « {r.message} » n'existe pas dans pipelines/rules/messages.py.")
    if docs_root is not None and not (docs_root / r.doc).is_file():
        raise _error(r.rule, f"la page de documentation {r.doc} est introuvable.")


def validate(entries, docs_root: Path | None = None) -> list[Rule]:
    """The records, checked one by one and against each other. `docs_root`: the folder
    the `doc` paths start from (None: doc pages not checked)."""
    if not isinstance(entries, list) or not entries:
        raise UsageError("Catalogue des règles (pipelines/rules/catalogue.yaml) : une liste de règles est attendue.")
    records = [_fields(entry, i) for i, entry in enumerate(entries)]
    codes: set[str] = set()
    prefixes: dict[str, str] = {}
    for r in records:
        _check_record(r, docs_root)
        if r.rule in codes:
            raise _error(r.rule, "la règle est déclarée deux fois.")
        if r.prefix in prefixes:
            raise _error(r.rule, f"le préfixe « {r.prefix} » est déjà celui de la règle {prefixes[r.prefix]}.")
        codes.add(r.rule)
        prefixes[r.prefix] = r.rule
    return records


@cache
def load() -> tuple[Rule, ...]:
    """The catalogue, checked once per process."""
    docs_root = REPO_ROOT if (REPO_ROOT / "docs" / "rules").is_dir() else None
    return tuple(validate(yaml.safe_load(CATALOGUE.read_text(encoding="utf-8")), docs_root))


def by_code() -> dict[str, Rule]:
    return {r.rule: r for r in load()}


def time_dependent() -> list[str]:
    """The rules evaluated on every check, whatever changed, in their rank order."""
    ranked = sorted((r.time_dependent, r.rule) for r in load() if r.time_dependent is not False)
    ranks = [rank for rank, _ in ranked]
    if len(set(ranks)) != len(ranks):
        raise UsageError("Catalogue des règles (pipelines/rules/catalogue.yaml) : deux règles ont le même rang "
                         "« time_dependent ».")
    return [rule for _, rule in ranked]


@cache
def python_rules() -> dict[str, Callable]:
    return {r.rule: _python_target(r) for r in load() if r.kind == "python"}


@cache
def message_writers() -> dict[str, Callable]:
    return {r.rule: getattr(messages, r.message) for r in load()}
