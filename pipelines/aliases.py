"""Aliases: how a startup, holder or buyer name resolves, as an analyst said.

`vigie alias KIND RAW TARGET --reason TEXT [--by NAME]` records one (checked against the
reference), `--list` shows them, `--remove KIND RAW` forgets one, `--export F` / `--import F`
share them as a CSV file (UTF-8, `;`). Entity resolution applies them before any fuzzy
matching (`pipelines.resolve.aliased`); the check that first uses one closes the findings it settles
with its reason (`settle`).
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

from rapidfuzz import process

from pipelines.errors import UsageError
from pipelines.resolve import buyer_index
from pipelines.shell import NONE
from pipelines.text import norm_key

KINDS = ("startup", "titulaire", "acheteur")
FILE_COLUMNS = ["type", "nom", "cible", "raison", "par", "le"]
KIND_LABEL = {"startup": "startup", "titulaire": "titulaire", "acheteur": "acheteur"}


NONE_OF = {"startup": "aucune startup connue", "titulaire": "aucun titulaire connu", "acheteur": "aucun acheteur connu"}


def none_of(kind: str) -> str:
    """What an alias to « - » says: « aucune startup connue »…"""
    return NONE_OF.get(kind, "aucun d'eux")


# -- reference checks ----------------------------------------------------------------------

def _startup_ids(con) -> dict[str, str | None]:
    ids = dict(con.execute("SELECT startup_id, name FROM stg.betagouv__startups").fetchall())
    for (sid,) in con.execute("SELECT DISTINCT startup_id FROM ref.startup_listing_history").fetchall():
        ids.setdefault(sid, None)
    return ids


def _holder_ids(con) -> dict[str, set[str]]:
    """holder or member id -> the agreements it holds."""
    out: dict[str, set[str]] = {}
    for agreement, holder, member in con.execute(
            "SELECT DISTINCT agreement_id, holder_id, member_id FROM ref.holder_spellings").fetchall():
        for target in (holder, member):
            if target:
                out.setdefault(target, set()).add(agreement)
    return out


def _buyer_ids(con, settings) -> dict[str, str]:
    return {b.body_id: b.name for b in buyer_index(con, settings).bodies.values()}


def known_targets(con, settings, kind: str) -> dict:
    if kind == "startup":
        return _startup_ids(con)
    if kind == "titulaire":
        return _holder_ids(con)
    return _buyer_ids(con, settings)


def check_target(con, settings, kind: str, target: str) -> str | None:
    """The canonical target, or a French usage error naming the closest valid ones."""
    if kind not in KINDS:
        raise UsageError(f"Type de rapprochement inconnu « {kind} » : choisissez parmi {', '.join(KINDS)}.")
    if target in (None, "", NONE):
        return None
    known = known_targets(con, settings, kind)
    if kind == "acheteur" and target not in known and f"betagouv:{target}" in known:
        target = f"betagouv:{target}"
    if target in known:
        return target
    if not known:
        raise UsageError("Le référentiel est vide : lancez d'abord « vigie run » (ou « vigie run --offline ») "
                         "pour charger beta.gouv.fr et les accords-cadres.")
    close = [c for c, _, _ in process.extract(target, list(known), limit=5)]
    what = {"startup": "Identifiant de startup inconnu de beta.gouv.fr",
            "titulaire": "Titulaire inconnu des accords-cadres",
            "acheteur": "Organisme inconnu du référentiel"}[kind]
    raise UsageError(f"{what} : « {target} ». Identifiants proches : {', '.join(close)} "
                     f"(ou « {NONE} » pour dire que ce n'en est aucun).")


# -- storage ---------------------------------------------------------------------------------

def record(con, settings, kind: str, raw: str, target: str | None, reason: str, by: str,
           now: datetime) -> dict:
    """Insert or replace one alias. Runs inside the caller's transaction."""
    raw = (raw or "").strip()
    reason = (reason or "").strip()
    if not norm_key(raw):
        raise UsageError("Le nom à rapprocher est vide : donnez-le tel qu'il est écrit dans les fichiers.")
    if not reason:
        raise UsageError("Donnez la raison du rapprochement avec --reason « … » : elle reste dans l'historique.")
    target = check_target(con, settings, kind, target)
    con.execute("INSERT OR REPLACE INTO findings.aliases VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
                [kind, norm_key(raw), raw, target, reason, by, now])
    return {"kind": kind, "raw": raw, "target": target, "reason": reason, "by": by}


def remove(con, kind: str, raw: str) -> bool:
    if kind not in KINDS:
        raise UsageError(f"Type de rapprochement inconnu « {kind} » : choisissez parmi {', '.join(KINDS)}.")
    found = con.execute("SELECT count(*) FROM findings.aliases WHERE kind = ? AND raw_key = ?",
                        [kind, norm_key(raw)]).fetchone()[0]
    con.execute("DELETE FROM findings.aliases WHERE kind = ? AND raw_key = ?", [kind, norm_key(raw)])
    return bool(found)


def listing(con) -> list[dict]:
    cursor = con.execute("SELECT kind, raw_value, target, reason, created_by, created_at, applied_at "
                         "FROM findings.aliases ORDER BY kind, raw_key")
    names = ["kind", "raw", "target", "reason", "by", "at", "applied_at"]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


# -- sharing as a file -----------------------------------------------------------------------

def to_csv(rows: list[dict]) -> str:
    from pipelines.findings import neutralise

    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(FILE_COLUMNS)
    for r in rows:
        writer.writerow([neutralise(v) for v in (r["kind"], r["raw"], r["target"] or NONE, r["reason"], r["by"],
                                                 r["at"].isoformat(timespec="seconds") if r["at"] else "")])
    return "\ufeff" + out.getvalue()


def _unneutralise(value: str) -> str:
    from pipelines.findings import unneutralise

    return unneutralise(value)


def parse_csv(text: str) -> list[dict]:
    text = text.lstrip("\ufeff")
    sample = text.split("\n", 1)[0]
    delimiter = ";" if sample.count(";") >= sample.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    missing = [c for c in ("type", "nom", "cible", "raison") if c not in (reader.fieldnames or [])]
    if missing:
        raise UsageError(f"Fichier de rapprochements illisible : colonne(s) absente(s) : {', '.join(missing)} "
                         f"(attendu : {';'.join(FILE_COLUMNS)}, comme l'écrit « vigie alias --export »).")
    rows = []
    for line, r in enumerate(reader, start=2):
        kind = (r.get("type") or "").strip()
        if kind not in KINDS:
            raise UsageError(f"Fichier de rapprochements, ligne {line} : type « {kind} » inconnu "
                             f"({', '.join(KINDS)}).")
        rows.append({"kind": kind, "raw": _unneutralise(r.get("nom") or ""),
                     "target": _unneutralise((r.get("cible") or "").strip()) or NONE, "reason": _unneutralise(r.get("raison") or ""),
                     "by": (r.get("par") or "").strip(), "line": line})
    return rows


FINDING_COLUMN = {"startup": "startup", "titulaire": "titulaire", "acheteur": "acheteur"}


def settle(con, gone: list[str], now: datetime, run_id: str) -> int:
    """Findings that disappeared in this check because of an alias not yet applied: reviewed,
    with the alias's reason. Runs inside the check's transaction. Returns how many."""
    pending = con.execute("SELECT kind, raw_key, raw_value, target, reason, created_by FROM findings.aliases "
                          "WHERE applied_at IS NULL").fetchall()
    closed = 0
    if pending and gone:
        rows = con.execute("SELECT finding_id, startup, titulaire, acheteur, coalesce(evidence, '') "
                           "FROM findings.findings WHERE list_contains(?, finding_id)", [gone]).fetchall()
        for fid, startup, titulaire, acheteur, evidence in rows:
            values = {"startup": startup, "titulaire": titulaire, "acheteur": acheteur}
            for kind, key, raw, target, reason, by in pending:
                if norm_key(values[kind]) == key or (raw and raw in evidence):
                    from pipelines.findings import close_by_alias

                    said = f"= {target}" if target else f"n'est {none_of(kind)}"
                    text = f"rapprochement : {kind} « {raw} » {said} — {reason}"
                    close_by_alias(con, fid, text, by, now, run_id)
                    closed += 1
                    break
    con.execute("UPDATE findings.aliases SET applied_at = ? WHERE applied_at IS NULL", [now])
    return closed
