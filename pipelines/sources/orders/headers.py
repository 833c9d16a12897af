"""The three kinds of order export and the header aliases that name their columns.

Header cells are compared after normalisation: case, accents, spaces, `°`/`o` and
punctuation ignored (`N° BC` = `No BC` = `n°bc`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipelines.text import norm_key

# canonical column -> (type, aliases as spec/ORDER_EXPORTS.md writes them)
_BC = [
    "N° BC",
    "Numéro de bon de commande",
    "N° EJ",
    "Numéro EJ",
    "Engagement juridique",
    "Numéro de pièce de la pièce de référence",
    "N° bon de commande",
    "Numéro BC",
    "Bon de commande",
]
_ACHETEUR = [
    "Bénéficiaire",
    "Administration",
    "Ministère",
    "Entité",
    "Service acheteur",
    "Acheteur",
]
_STARTUP = ["Startup", "Startup d'État", "Produit", "Service numérique", "SE", "Start-up d'État"]
_TITULAIRE = ["Fournisseur", "Prestataire", "Titulaire du marché", "Titulaire"]
_ACCORD = ["Marché", "Accord-cadre", "Accord cadre"]

COMMON_ORDER_COLUMNS = {
    "numero_bc": ("text", _BC),
    "date_bc": (
        "date",
        ["Date du BC", "Date de commande", "Date de création", "Date d'émission", "Date BC"],
    ),
    "acheteur": ("text", _ACHETEUR),
    "startup": ("text", _STARTUP),
    "titulaire": ("text", _TITULAIRE),
    "montant_ht": (
        "money",
        ["Montant HT", "Montant HT (€)", "Total HT", "Montant à contrôler en dev. transaction"],
    ),
    "montant_ttc": ("money", ["Montant TTC", "Total TTC", "Montant TTC (€)"]),
    "accord_cadre": ("agreement", _ACCORD),
    "lot": ("int", ["Lot", "N° lot"]),
    "objet": ("text", ["Objet", "Libellé", "Désignation"]),
    "date_debut": ("date", ["Début", "Date de début de prestation", "Date de début"]),
    "date_fin": ("date", ["Fin", "Date de fin de prestation", "Date de fin"]),
}

KINDS: dict[str, dict] = {
    "commandes": {
        "columns": COMMON_ORDER_COLUMNS,
        "required": ["numero_bc", "date_bc", "acheteur", "startup", "titulaire", "montant_ht"],
        "key": ["numero_bc"],
    },
    "declarations": {
        "columns": {
            **COMMON_ORDER_COLUMNS,
            "date_information_dinum": (
                "date",
                [
                    "Date d'information DINUM",
                    "Transmis à la DINUM le",
                    "Date d'information de la DINUM",
                ],
            ),
        },
        "required": ["numero_bc", "date_bc", "acheteur", "startup", "titulaire", "montant_ht"],
        "key": ["numero_bc", "titulaire"],
    },
    "besoins": {
        "columns": {
            "numero_besoin": (
                "text",
                ["N° besoin", "Expression de besoin", "Référence besoin", "Numéro de besoin"],
            ),
            "date_besoin": (
                "date",
                ["Date de la demande", "Date d'expression du besoin", "Date du besoin"],
            ),
            "acheteur": ("text", _ACHETEUR),
            "startup": ("text", _STARTUP),
            "titulaire": ("text", _TITULAIRE + ["Titulaire sollicité"]),
            "rang": ("int", ["Rang", "Ordre de sollicitation"]),
            "reponse": ("response", ["Réponse", "Décision du titulaire"]),
            "date_reponse": ("date", ["Date de réponse"]),
            "motif": ("text", ["Justification", "Motif du refus", "Motif"]),
            "numero_bc": ("text", _BC),
            "montant_estime_ht": ("money", ["Montant estimé HT", "Montant estimé HT (€)"]),
            "accord_cadre": ("agreement", _ACCORD),
            "lot": ("int", ["Lot"]),
        },
        "required": [
            "numero_besoin",
            "date_besoin",
            "acheteur",
            "startup",
            "titulaire",
            "rang",
            "reponse",
        ],
        "key": ["numero_besoin", "rang"],
    },
}

# How a person would name each canonical column in a French message.
LABELS = {
    "numero_bc": "N° BC",
    "date_bc": "date du BC",
    "acheteur": "acheteur",
    "startup": "startup",
    "titulaire": "titulaire",
    "montant_ht": "montant HT",
    "montant_ttc": "montant TTC",
    "accord_cadre": "accord-cadre",
    "lot": "lot",
    "objet": "objet",
    "date_debut": "date de début",
    "date_fin": "date de fin",
    "date_information_dinum": "date d'information DINUM",
    "numero_besoin": "N° besoin",
    "date_besoin": "date de la demande",
    "rang": "rang",
    "reponse": "réponse",
    "date_reponse": "date de réponse",
    "motif": "justification",
    "montant_estime_ht": "montant estimé HT",
}

BESOINS_MARKERS = {"numero_besoin", "date_besoin", "rang", "reponse"}
SHEET_KINDS = {
    "commandes": "commandes",
    "commande": "commandes",
    "bonsdecommande": "commandes",
    "bdc": "commandes",
    "engagements": "commandes",
    "ej": "commandes",
    "declarations": "declarations",
    "declaration": "declarations",
    "besoins": "besoins",
    "besoin": "besoins",
    "tourniquet": "besoins",
    "sollicitations": "besoins",
    "expressionsdebesoin": "besoins",
}


def header_key(cell) -> str:
    """`N° BC` -> `nobc`; `Montant HT (€)` -> `montantht`."""
    text = str(cell or "").replace("°", "o").replace("º", "o")
    return norm_key(text)


def _variants(key: str) -> set[str]:
    out = {key}
    # N° / No / N / Numéro are the same word in headers
    m = re.match(r"^(no|numero|n)(?=[a-z])", key)
    if m:
        rest = key[m.end() :]
        out |= {"no" + rest, "n" + rest, "numero" + rest, "num" + rest, "numerode" + rest}
    if key.endswith("eur"):
        out.add(key[:-3])
    return out


def _build_alias_index() -> dict[str, dict[str, str]]:
    index: dict[str, dict[str, str]] = {}
    for kind, spec in KINDS.items():
        table: dict[str, str] = {}
        for column, (_, aliases) in spec["columns"].items():
            for alias in [column, *aliases]:
                for variant in _variants(header_key(alias)):
                    table.setdefault(variant, column)
        index[kind] = table
    return index


ALIASES = _build_alias_index()
ANY_ALIAS = {k: v for table in ALIASES.values() for k, v in table.items()}


@dataclass
class HeaderMatch:
    kind: str
    line_index: int  # index in the rows examined
    mapping: dict[int, str]  # column index -> canonical name
    headers: list[str]  # header cells as written
    missing: list[str]  # required columns absent
    duplicates: list[str]  # header cells mapping to an already-mapped column


def score_row(cells: list) -> int:
    return sum(1 for c in cells if header_key(c) in ANY_ALIAS)


def detect_kind(keys: set[str], filename: str) -> str:
    columns = {ANY_ALIAS[k] for k in keys if k in ANY_ALIAS}
    if "date_information_dinum" in columns or norm_key(filename).startswith("declaration"):
        return "declarations"
    if columns & BESOINS_MARKERS:
        return "besoins"
    return "commandes"


def match_header(
    rows: list[list], filename: str, sheet_kind: str | None = None
) -> HeaderMatch | None:
    """Find the header row among the first rows (title rows may come first)."""
    best, best_score = None, 1
    for i, cells in enumerate(rows):
        score = score_row(cells)
        if score > best_score:
            best, best_score = i, score
    if best is None:
        return None
    cells = rows[best]
    keys = {header_key(c) for c in cells}
    kind = sheet_kind if sheet_kind and sheet_kind != "commandes" else detect_kind(keys, filename)
    table = ALIASES[kind]
    mapping, duplicates = {}, []
    for index, cell in enumerate(cells):
        column = table.get(header_key(cell))
        if column is None:
            continue
        if column in mapping.values():
            duplicates.append(str(cell))
            continue
        mapping[index] = column
    missing = [c for c in KINDS[kind]["required"] if c not in mapping.values()]
    return HeaderMatch(
        kind, best, mapping, [str(c) if c is not None else "" for c in cells], missing, duplicates
    )
