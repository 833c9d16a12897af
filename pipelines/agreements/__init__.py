"""Agreements as data: one YAML file per agreement, validated, then loaded into `ref`.

Adding an agreement is adding a file (here, or in a folder named by VIGIE_AGREEMENTS_DIR):
no code changes. The reference lists (ministries, bodies, rule catalogue, listing history)
are loaded alongside.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import yaml

from pipelines import safe_yaml
from pipelines.config import PACKAGE_DIR
from pipelines.errors import UsageError
from pipelines.heavy_imports import skip_iri_grammars
from pipelines.text import norm_key
from pipelines.warehouse import insert_rows

AGREEMENTS_DIR = PACKAGE_DIR / "agreements"
REFERENCE_DIR = PACKAGE_DIR / "reference"
CATALOGUE = PACKAGE_DIR / "rules" / "catalogue.yaml"
LISTING_INTERVALS = REFERENCE_DIR / "startup_listing_intervals.csv"

# Catalogue v2 options: every key is optional in an agreement file, these are the values
# used when it is absent (an agreement written before v2 loads unchanged).
OPTION_DEFAULTS = {
    "listing_grace_days": 90,
    "execution_after_end_months": None,
    "montant_atypique_ht": None,
    "atypical_median_factor": 20,
    "atypical_markers": ["à vérifier", "a verifier"],
    "skip_after_working_days": None,
    "dinum_information_due_day": 15,
    "exception_incubators": [],
    "flag_before_first_phase": True,
    # A row that names no agreement goes, among those that fit its date and holder, to the
    # highest priority first (a side marché such as mentorat says -1: its exports name it).
    "inference_priority": 0,
    "refusal_placeholders": ["-", "--", ".", "..", "...", "n/a", "na", "nc", "ras", "r.a.s.", "aucun",
                             "aucune", "néant", "neant", "?", "x", "/", "0"],
}


def agreement_options(doc: dict) -> dict:
    """The v2 options of one agreement file, defaults filled in."""
    st, am = doc.get("startups") or {}, doc.get("amounts") or {}
    given = {
        "listing_grace_days": st.get("listing_grace_days"),
        "execution_after_end_months": (doc.get("period") or {}).get("execution_after_end_months"),
        "montant_atypique_ht": am.get("montant_atypique_ht"),
        "atypical_median_factor": am.get("atypical_median_factor"),
        "atypical_markers": am.get("atypical_markers"),
        "skip_after_working_days": (doc.get("tourniquet") or {}).get("skip_after_working_days"),
        "dinum_information_due_day": doc.get("dinum_information_due_day"),
        "exception_incubators": (st.get("exception") or {}).get("incubators"),
        "flag_before_first_phase": st.get("flag_before_first_phase"),
        "refusal_placeholders": (doc.get("refusals") or {}).get("placeholders"),
        "inference_priority": doc.get("inference_priority"),
    }
    return {k: OPTION_DEFAULTS[k] if v is None else v for k, v in given.items()}


def lot_options(lot: dict) -> dict:
    return {
        "excluded_incubators": lot.get("excluded_incubators") or [],
        "rules_off": lot.get("rules_off") or [],
        "beneficiaries_published": lot.get("beneficiaries_published", True),
    }


@dataclass(frozen=True)
class Agreement:
    id: str
    doc: dict
    path: Path
    sha256: str

    @property
    def short_title(self) -> str:
        return self.doc["short_title"]


def _jsonable(value):
    """YAML gives dates as `date`; the schema and the warehouse want ISO strings."""
    return json.loads(
        json.dumps(value, default=lambda v: v.isoformat() if isinstance(v, date) else str(v))
    )


@cache
def _schema() -> dict:
    return json.loads((AGREEMENTS_DIR / "schema.json").read_text(encoding="utf-8"))


def _french_schema_error(error) -> str:
    where = "".join(
        f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path
    ).lstrip(".")
    where = f"« {where} »" if where else "la racine du fichier"
    v = error.validator
    if v == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"le champ obligatoire « {missing} » manque dans {where}"
    if v == "additionalProperties":
        extra = error.message.split("'")[1] if "'" in error.message else ""
        return f"le champ « {extra} » n'est pas connu dans {where} (faute de frappe ?)"
    if v == "type":
        return f"{where} doit être de type {error.validator_value} (reçu « {error.instance} »)"
    if v == "enum":
        allowed = ", ".join(str(x) for x in error.validator_value)
        return f"{where} vaut « {error.instance} », valeurs permises : {allowed}"
    if v == "pattern":
        return f"{where} a un format invalide (« {error.instance} »)"
    if v in ("minimum", "exclusiveMinimum", "maximum"):
        return f"{where} est hors des bornes permises (« {error.instance} »)"
    if v == "minItems":
        return f"{where} ne doit pas être vide"
    return f"{where} est invalide ({error.message})"


def parse_agreement(path: Path, known_rules: set[str]) -> Agreement:
    raw = path.read_bytes()
    try:
        doc = safe_yaml.load(raw.decode("utf-8"))  # aliases refused (billion laughs)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise UsageError(f"Le fichier d'accord-cadre {path} est illisible (YAML) : {exc}") from None
    if not isinstance(doc, dict):
        raise UsageError(
            f"Le fichier d'accord-cadre {path} ne décrit pas un accord-cadre (objet YAML attendu)."
        )
    doc = _jsonable(doc)
    skip_iri_grammars()
    import jsonschema  # only when a file changed

    errors = sorted(
        jsonschema.Draft202012Validator(_schema()).iter_errors(doc),
        key=lambda e: list(e.absolute_path),
    )
    if errors:
        raise UsageError(
            f"Le fichier d'accord-cadre {path} est invalide : {_french_schema_error(errors[0])}."
        )
    unknown = [r for r in doc["rules"] if r not in known_rules]
    unknown += [r for lot in doc["lots"] for r in lot.get("rules_off") or [] if r not in known_rules]
    if unknown:
        raise UsageError(
            f"Le fichier d'accord-cadre {path} cite des règles inconnues : {', '.join(unknown)}."
        )
    holder_ids = [h["id"] for h in doc["holders"]]
    if len(set(holder_ids)) != len(holder_ids):
        raise UsageError(f"Le fichier d'accord-cadre {path} déclare deux fois le même titulaire.")
    for h in doc["holders"]:
        if h.get("merged_into") and h["merged_into"] not in holder_ids:
            raise UsageError(
                f"Le fichier d'accord-cadre {path} : le titulaire « {h['id']} » fusionne dans "
                f"« {h['merged_into']} », qui n'est pas un titulaire de l'accord."
            )
    for b in doc["beneficiaries"]:
        if sum(k in b for k in ("body", "ministry", "all_ministries")) != 1:
            raise UsageError(
                f"Le fichier d'accord-cadre {path} : le bénéficiaire « {b['label']} » doit avoir "
                "exactement un de « body », « ministry » ou « all_ministries »."
            )
    return Agreement(doc["id"], doc, path, hashlib.sha256(raw).hexdigest())


def load_catalogue() -> list[dict]:
    """The rule records, checked (pipelines/rules/catalogue.py is their only reader)."""
    from pipelines.rules import catalogue

    return [r.as_dict() for r in catalogue.load()]


def agreement_files(dirs) -> list[Path]:
    paths = []
    for folder in dirs:
        folder = Path(folder)
        if not folder.is_dir():
            raise UsageError(
                f"Le dossier d'accords-cadres {folder} n'existe pas (VIGIE_AGREEMENTS_DIR)."
            )
        paths += sorted(folder.glob("*.yaml"))
    return paths


def load_agreements(dirs) -> list[Agreement]:
    """Every *.yaml of the folders, later folders replacing an agreement of the same id."""
    known_rules = {r["rule"] for r in load_catalogue()}
    found: dict[str, Agreement] = {}
    for path in agreement_files(dirs):
        agreement = parse_agreement(path, known_rules)
        found[agreement.id] = agreement
    if not found:
        raise UsageError("Aucun fichier d'accord-cadre trouvé.")
    codes: dict[str, str] = {}
    for key in agreement_keys(found.values()):
        if codes.get(key.code_key, key.agreement_id) != key.agreement_id:
            raise UsageError(
                f"Le code « {key.code} » désigne à la fois {codes[key.code_key]} et {key.agreement_id} : "
                "chaque code d'accord-cadre doit être unique."
            )
        codes[key.code_key] = key.agreement_id
    return sorted(found.values(), key=lambda a: a.id)


@dataclass(frozen=True)
class AgreementKey:
    agreement_id: str
    origin: str  # id | code | reference
    code: str  # as the agreement file writes it
    code_key: str  # norm_key(code): what order files and DECP are compared with


def agreement_keys(agreements) -> list[AgreementKey]:
    """Every way a file may name an agreement: its id, its codes, its official reference
    (the DECP idAccordCadre). The one definition: stored in ref.agreement_keys when the
    reference files are synced, read by the order import and the DECP filter."""
    keys = []
    for a in agreements:
        named = [("id", a.id), *(("code", c) for c in a.doc["codes"])]
        if a.doc.get("reference"):
            named.append(("reference", a.doc["reference"]))
        keys += [AgreementKey(a.id, origin, str(code), norm_key(code)) for origin, code in named]
    return keys


def load_reference() -> dict:
    return {
        "ministries": yaml.safe_load(
            (REFERENCE_DIR / "ministeres.yaml").read_text(encoding="utf-8")
        ),
        "bodies": yaml.safe_load((REFERENCE_DIR / "organismes.yaml").read_text(encoding="utf-8")),
        "catalogue": load_catalogue(),
        "listing_intervals": list(csv.DictReader(LISTING_INTERVALS.open(encoding="utf-8"))),
    }


def reference_files() -> list[Path]:
    return [
        REFERENCE_DIR / "ministeres.yaml",
        REFERENCE_DIR / "organismes.yaml",
        CATALOGUE,
        LISTING_INTERVALS,
    ]


# ------------------------------------------------------------------ warehouse


def _contacts_choice(contacts: dict) -> tuple[str | None, str | None]:
    """Whom to write to: the group's mailing list first (seed 000), then the main contact."""
    for key, label in (
        ("liste_diffusion", "liste de diffusion"),
        ("principal", "contact principal"),
        ("facturation", "contact facturation"),
    ):
        if contacts.get(key):
            return contacts[key], label
    return None, None


def _bodies(reference: dict, agreements: list[Agreement]) -> dict[str, dict]:
    bodies = {b["id"]: dict(b) for b in reference["bodies"]}
    for a in agreements:
        for b in a.doc["beneficiaries"]:
            for covered in b.get("covers") or []:
                if isinstance(covered, dict):
                    bodies[covered["id"]] = {**bodies.get(covered["id"], {}), **covered}
                elif covered not in bodies:
                    raise UsageError(
                        f"Le fichier d'accord-cadre {a.path} : « {b['label']} » couvre l'organisme "
                        f"« {covered} », inconnu de pipelines/reference/organismes.yaml : ajoutez-le "
                        "là, ou décrivez-le dans le fichier (covers: [{id, name, kind}])."
                    )
            body = b.get("body")
            if isinstance(body, dict):
                merged = {**bodies.get(body["id"], {}), **body}
                bodies[body["id"]] = merged
            elif isinstance(body, str) and body not in bodies:
                raise UsageError(
                    f"Le fichier d'accord-cadre {a.path} cite l'organisme « {body} », inconnu de "
                    "pipelines/reference/organismes.yaml : ajoutez-le là, ou décrivez-le dans le "
                    "fichier (body: {id, name, kind, spellings})."
                )
    return bodies


def fingerprint(paths: list[Path]) -> dict[str, str]:
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in [*paths, *reference_files()]
    }


def is_current(con, dirs) -> bool:
    """True when the warehouse already holds exactly these files (nothing to parse)."""
    stored = dict(con.execute("SELECT path, sha256 FROM ref.files").fetchall())
    # a warehouse synced before ref.agreement_keys existed is synced again once
    keys_missing = bool(stored) and con.execute("SELECT count(*) = 0 FROM ref.agreement_keys").fetchone()[0]
    return stored == fingerprint(agreement_files(dirs)) and not keys_missing


def load_into_warehouse(con, agreements: list[Agreement]) -> None:
    """Replace the `ref` tables with these agreements and the reference lists.

    Runs inside the caller's transaction.
    """
    files = fingerprint([a.path for a in agreements])
    reference = load_reference()
    bodies = _bodies(reference, agreements)
    for table in (
        "files",
        "agreements",
        "agreement_rules",
        "agreement_lots",
        "holders",
        "holder_members",
        "holder_spellings",
        "ministries",
        "bodies",
        "body_spellings",
        "beneficiaries",
        "beneficiary_exclusions",
        "rules",
        "startup_listing_history",
        "startup_listing_intervals",
        "agreement_options",
        "lot_options",
        "beneficiary_covers",
        "agreement_keys",
    ):
        con.execute(f"DELETE FROM ref.{table}")  # noqa: S608 - fixed table names
    _load_reference(con, reference, bodies, files, {str(a.path) for a in agreements})
    for a in agreements:
        _load_agreement(con, a)
    insert_rows(con, "ref.agreement_keys", [
        [k.agreement_id, k.origin, k.code, k.code_key] for k in agreement_keys(agreements)])


def _load_reference(con, reference: dict, bodies: dict, files: dict, agreement_paths: set) -> None:
    """The reference lists: files, rule catalogue, ministries, bodies and their spellings."""
    insert_rows(
        con,
        "ref.files",
        [[p, h, "agreement" if p in agreement_paths else "reference"] for p, h in files.items()],
    )
    insert_rows(
        con,
        "ref.rules",
        [
            [r["rule"], r["severity"], r["title"], r["subject_type"], r["alerts_always"]]
            for r in reference["catalogue"]
        ],
    )
    insert_rows(
        con,
        "ref.ministries",
        [[m["ministry"], m["label"], m.get("short_label")] for m in reference["ministries"]],
    )
    body_rows, spelling_rows = [], []
    for b in bodies.values():
        origin = "reference" if any(r["id"] == b["id"] for r in reference["bodies"]) else "accord"
        body_rows.append(
            [
                b["id"],
                b["name"],
                b.get("acronym"),
                b.get("ministry"),
                b["kind"],
                b.get("siren"),
                origin,
            ]
        )
        for s in {
            b["name"],
            *(b.get("spellings") or []),
            *([b["acronym"]] if b.get("acronym") else []),
        }:
            spelling_rows.append([b["id"], s, norm_key(s)])
    insert_rows(con, "ref.bodies", body_rows)
    for m in reference["ministries"]:
        for s in {m["label"], *(m.get("spellings") or [])}:
            spelling_rows.append([f"ministere:{m['ministry']}", s, norm_key(s)])
    insert_rows(con, "ref.body_spellings", spelling_rows)
    insert_rows(
        con,
        "ref.startup_listing_intervals",
        [
            [r["startup_id"], r["listed_from"], r["listed_to"] or None]
            for r in reference["listing_intervals"]
        ],
    )


def _agreement_row(a: Agreement) -> list:
    """The agreement's ref.agreements record."""
    d = a.doc
    st = d.get("startups") or {}
    rf = d.get("refusals") or {}
    pf = d.get("plafond") or {}
    am = d.get("amounts") or {}
    period = d.get("period") or {}
    return [
        a.id,
        d["codes"],
        d.get("reference"),
        d["title"],
        d["short_title"],
        d.get("family"),
        d.get("buyer"),
        period.get("start"),
        period.get("end"),
        period.get("orders_end"),
        period.get("note"),
        (d.get("datagouv") or {}).get("slug"),
        (d.get("datagouv") or {}).get("id"),
        am.get("vat_rate", 0.20),
        am.get("tolerance_eur", 1.0),
        st.get("required", False),
        st.get("eligible_phases") or [],
        st.get("critical_phases") or [],
        (st.get("exception") or {}).get("buyer"),
        rf.get("responses") or [],
        rf.get("alert_at"),
        rf.get("critical_at"),
        (d.get("tourniquet") or {}).get("mode"),
        pf.get("alert_share"),
        pf.get("critical_share"),
        d.get("dinum_information", False),
        str(a.path),
        json.dumps(d, ensure_ascii=False),
    ]


def _load_agreement(con, a: Agreement) -> None:
    """One agreement's rows: its record, rules, options, lots; then its holders and beneficiaries."""
    d = a.doc
    insert_rows(con, "ref.agreements", [_agreement_row(a)])
    insert_rows(con, "ref.agreement_rules", [[a.id, r] for r in d["rules"]])
    options = agreement_options(d)
    insert_rows(con, "ref.agreement_options", [[a.id, *options.values()]])
    insert_rows(
        con,
        "ref.lot_options",
        [[a.id, lot["lot"], *lot_options(lot).values()] for lot in d["lots"]],
    )
    insert_rows(
        con,
        "ref.beneficiary_covers",
        [
            [a.id, b.get("lot"), b["label"], c["id"] if isinstance(c, dict) else c]
            for b in d["beneficiaries"]
            for c in b.get("covers") or []
        ],
    )
    insert_rows(
        con,
        "ref.agreement_lots",
        [
            [
                a.id,
                lot["lot"],
                lot.get("title"),
                lot.get("execution"),
                lot.get("estimated_ht"),
                lot.get("maximum_ht"),
            ]
            for lot in d["lots"]
        ],
    )
    _load_holders(con, a)
    _load_beneficiaries(con, a)


def _load_holders(con, a: Agreement) -> None:
    for h in a.doc["holders"]:
        contacts = h.get("contacts") or {}
        email, label = _contacts_choice(contacts)
        con.execute(
            "INSERT INTO ref.holders VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                a.id,
                h["id"],
                h["name"],
                h.get("rank"),
                h.get("lot"),
                h.get("form"),
                h.get("valid_from"),
                h.get("valid_to"),
                h.get("merged_into"),
                email,
                label,
                json.dumps(contacts, ensure_ascii=False),
            ],
        )
        spellings = [
            [a.id, h["id"], None, s, norm_key(s)]
            for s in {h["name"], *(h.get("spellings") or [])}
        ]
        for m in h["members"]:
            con.execute(
                "INSERT INTO ref.holder_members VALUES (?, ?, ?, ?, ?, ?)",
                [a.id, h["id"], m["id"], m["name"], m.get("role"), m.get("siren")],
            )
            spellings += [
                [a.id, h["id"], m["id"], s, norm_key(s)]
                for s in {m["name"], *(m.get("spellings") or [])}
            ]
        insert_rows(con, "ref.holder_spellings", sorted(spellings, key=str))


def _load_beneficiaries(con, a: Agreement) -> None:
    d = a.doc
    for b in d["beneficiaries"]:
        body = b.get("body")
        body_id = body["id"] if isinstance(body, dict) else body
        scope = (
            "organisme"
            if body_id
            else ("tous_ministeres" if b.get("all_ministries") else "ministere")
        )
        con.execute(
            "INSERT INTO ref.beneficiaries VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                a.id,
                b.get("lot"),
                b["label"],
                scope,
                body_id,
                b.get("ministry"),
                b.get("condition"),
            ],
        )
    insert_rows(
        con,
        "ref.beneficiary_exclusions",
        [
            [a.id, e.get("body"), e.get("ministry"), e["reason"]]
            for e in d.get("exclusions") or []
        ],
    )
