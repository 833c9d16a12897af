"""One export file -> rows to load, rows to quarantine, and the file's accounting.

`read_export` is pure apart from reading the file: it never touches the warehouse, so it
can be tested on the corpus in tests/fixtures/inbox and fuzzed with hostile files.
Invariant, for every file: rows_read = rows_loaded + rows_quarantined. Blank lines and
total lines are not orders: counted apart (rows_skipped), never silently.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from pipelines import fr
from pipelines.errors import SourceError
from pipelines.sources.orders import parsers
from pipelines.sources.orders.headers import KINDS, LABELS, match_header
from pipelines.sources.orders.readers import FileRejected, Limits, open_sheet
from pipelines.text import clean_cell, norm_key


@dataclass
class FileResult:
    sha256: str
    path: str
    size: int
    status: str  # charge | rejete | doublon
    kind: str | None = None
    reason: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_skipped: int = 0
    header_line: int | None = None
    sheet: str | None = None
    encoding: str | None = None
    separator: str | None = None
    columns: dict = field(default_factory=dict)
    duplicate_of: str | None = None
    kept_at: str | None = None
    loaded: list[dict] = field(default_factory=list)
    quarantined: list[dict] = field(default_factory=list)
    table: object = None  # `loaded` as an Arrow table (see columnar), ready for DuckDB

    def check(self) -> None:
        """The accounting invariant: every row read is loaded or quarantined, none lost."""
        if self.rows_read != self.rows_loaded + self.rows_quarantined:
            raise SourceError(
                f"Fichier « {self.path} » : {self.rows_read} ligne(s) lue(s) mais {self.rows_loaded} chargée(s) et "
                f"{self.rows_quarantined} en quarantaine — le compte ne tombe pas juste, rien n'est chargé. "
                "Signalez-le à l'équipe Vigie.")


PARSERS = {
    "text": parsers.parse_text,
    "date": parsers.parse_date,
    "money": parsers.parse_money,
    "int": parsers.parse_int,
    "response": parsers.parse_response,
}
TOTAL_WORDS = ("total", "soustotal", "totaux", "totalgeneral")


def _show_cell(value) -> str | None:
    if value is None:
        return None
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return text if len(text) <= 500 else text[:500] + f"… ({len(text)} caractères)"


def _cleaned(cells: list) -> list:
    """Text cells cleaned once per row; other cells (numbers, dates) as they are."""
    return [clean_cell(c) if isinstance(c, str) else c for c in cells]


def _is_blank(cells: list) -> bool:
    """On cleaned cells."""
    return all(c is None or c == "" for c in cells)


def _is_total(cells: list, mapping: dict[int, str], key_columns: list[str]) -> bool:
    """On cleaned cells."""
    if not any(isinstance(c, str) and c and norm_key(c).startswith(TOTAL_WORDS) for c in cells):
        return False
    keys = [cells[i] for i, col in mapping.items() if col in key_columns and i < len(cells)]
    return all(
        k is None or not clean_cell(str(k)) or norm_key(k).startswith(TOTAL_WORDS) for k in keys
    )


def parse_row(
    kind: str, mapping: dict[int, str], cells: list, agreement_codes: dict[str, str], limits: Limits
) -> tuple[dict, list[str]]:
    """`cells` already cleaned (see _cleaned): an empty text cell is ""."""
    spec = KINDS[kind]
    values: dict = {}
    errors: list[str] = []
    for index, column in mapping.items():
        raw = cells[index] if index < len(cells) else None
        if isinstance(raw, str) and len(raw) > limits.max_cell_chars:
            errors.append(
                f"{LABELS[column]} : cellule trop longue ({len(raw)} caractères, maximum {limits.max_cell_chars})"
            )
            continue
        kind_of_cell, _ = spec["columns"][column]
        if raw is None or raw == "":
            if column in spec["required"]:
                errors.append(f"{LABELS[column]} vide")
            values[column] = None
            continue
        try:
            if kind_of_cell == "agreement":
                key = norm_key(parsers.parse_text(raw))
                if key not in agreement_codes:
                    known = ", ".join(sorted(set(agreement_codes.values())))
                    raise parsers.CellError(
                        f"accord-cadre « {parsers.parse_text(raw)} » inconnu (connus : {known})"
                    )
                values[column] = agreement_codes[key]
            else:
                values[column] = PARSERS[kind_of_cell](raw)
                if kind_of_cell == "money" and abs(values[column]) > limits.max_amount_ht:
                    raise parsers.CellError(
                        f"montant invraisemblable « {parsers.parse_text(raw)} » (plus de "
                        f"{fr.money(limits.max_amount_ht, 0)} ; réglage inbox.max_amount_ht)")
        except parsers.CellError as exc:
            errors.append(f"{LABELS[column]} : {exc}")
    if kind == "besoins" and values.get("rang") is not None and values["rang"] < 1:
        errors.append("rang : doit être supérieur ou égal à 1")
    return values, errors


def values_hash(values: dict) -> str:
    canonical = json.dumps(
        {k: str(v) for k, v in sorted(values.items()) if v is not None}, ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:20]


def read_export(
    path: Path, rel: str, sha256: str, limits: Limits, agreement_codes: dict[str, str]
) -> FileResult:
    result = FileResult(sha256=sha256, path=rel, size=path.stat().st_size, status="charge")
    sheet = None
    try:
        sheet = open_sheet(path, limits)
        match, head = _header(sheet, rel, limits, result)
        notes = list(sheet.notes)
        if match.duplicates:
            notes.append(
                "colonnes en double ignorées (gardées dans le détail des lignes) : "
                + ", ".join(match.duplicates)
            )
        _read_rows(result, match, [*head[match.line_index + 1 :]], sheet.rows, notes, agreement_codes, limits)
        result.reason = " ; ".join(notes) if notes else None
        if result.rows_read == 0:
            result.reason = "aucune ligne de données sous l'en-tête" + (
                f" ; {result.reason}" if result.reason else ""
            )
    except FileRejected as exc:
        return FileResult(
            sha256=sha256,
            path=rel,
            size=result.size,
            status="rejete",
            kind=result.kind,
            reason=exc.message,
            header_line=result.header_line,
            sheet=result.sheet,
            encoding=result.encoding,
            separator=result.separator,
            columns=result.columns,
        )
    finally:
        if sheet is not None:
            sheet.rows.close()  # release the file now, even when reading stopped early
    result.check()
    return result


def _header(sheet, rel: str, limits: Limits, result: FileResult):
    """The header among the first rows -> (match, rows read so far); the file's reading
    details kept in `result`. FileRejected when no header or a required column is missing."""
    head: list[tuple[int, list]] = []
    for number, cells in sheet.rows:
        head.append((number, cells))
        if len(head) >= limits.header_search_rows:
            break
    result.encoding, result.separator, result.sheet = sheet.encoding, sheet.separator, sheet.sheet
    match = match_header([c for _, c in head], Path(rel).name, sheet.sheet_kind)
    if match is None:
        raise FileRejected(
            "entete",
            f"aucune ligne d'en-tête reconnue dans les {limits.header_search_rows} premières lignes "
            "(colonnes attendues : N° BC, Date du BC, Acheteur, Startup, Titulaire, Montant HT…)",
        )
    result.kind = match.kind
    result.header_line = head[match.line_index][0]
    result.columns = {match.headers[i]: col for i, col in match.mapping.items()}
    if match.missing:
        names = ", ".join(f"« {LABELS[c]} »" for c in match.missing)
        plural = "colonnes obligatoires absentes" if len(match.missing) > 1 else "colonne obligatoire absente"
        raise FileRejected("colonne", f"{plural} : {names} (fichier de type {match.kind})")
    return match, head


def _read_rows(result: FileResult, match, head: list, rows, notes: list[str], agreement_codes: dict[str, str],
               limits: Limits) -> None:
    """Every row under the header: skipped (blank, total), loaded or quarantined."""
    spec = KINDS[match.kind]
    seen: dict[tuple, tuple[int, str]] = {}

    def body():
        yield from head
        yield from rows

    for number, cells in body():
        texts = _cleaned(cells)
        if _is_blank(texts):
            result.rows_skipped += 1
            continue
        if _is_total(texts, match.mapping, spec["key"]):
            result.rows_skipped += 1
            notes.append(f"ligne {number} : ligne de total, ignorée (ce n'est pas une commande)")
            continue
        result.rows_read += 1
        shown = json.dumps(_shown(cells, match.headers), ensure_ascii=False)
        values, errors = parse_row(match.kind, match.mapping, texts, agreement_codes, limits)
        digest = None
        if not errors:
            digest = values_hash(values)
            errors = _duplicate(seen, match.kind, spec["key"], values, number, digest)
        if errors:
            result.rows_quarantined += 1
            result.quarantined.append({"line": number, "reason_code": "ligne",
                                       "reason": f"ligne {number} : " + " ; ".join(errors), "cells": shown})
        else:
            result.rows_loaded += 1
            values.update(line=number, values_hash=digest, cells=shown)
            result.loaded.append(values)


def _shown(cells: list, headers: list) -> dict:
    """The row as the file wrote it, by header (None and "" are not shown)."""
    shown = {}
    for i, v in enumerate(cells):
        text = _show_cell(v)
        if text:
            shown[headers[i] if i < len(headers) and headers[i] else f"colonne {i + 1}"] = text
    return shown


def _duplicate(seen: dict, kind: str, key_columns: list[str], values: dict, number: int, digest: str) -> list[str]:
    """[] for a row whose key is new (then remembered); else why it is quarantined."""
    key = tuple(norm_key(values[k]) if k == "titulaire" else values[k] for k in key_columns)
    if key not in seen:
        seen[key] = (number, digest)
        return []
    first_line, first_digest = seen[key]
    if first_digest == digest:
        return [f"ligne en double : identique à la ligne {first_line}"]
    what = "N° besoin et rang" if kind == "besoins" else "N° BC"
    return [f"{what} déjà présent ligne {first_line} avec d'autres valeurs : "
            "corrigez le fichier, ou déposez la correction dans un nouveau fichier"]
