"""Readers for the physical formats of order exports: CSV (any separator, UTF-8 with or
without BOM, Windows-1252, UTF-16, even mixed line by line), Excel .xlsx and
LibreOffice .ods. The format is recognised from the content, not the extension.

A reader yields (line number, cells) for every row of the sheet, blank ones included,
so that line numbers in quarantine match what the analyst sees.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path

from pipelines.sources.orders.headers import SHEET_KINDS
from pipelines.text import norm_key


class FileRejected(Exception):
    """The whole file cannot be read; `message` is French."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Sheet:
    rows: Iterator[tuple[int, list]]
    format: str  # csv | xlsx | ods
    encoding: str | None = None
    separator: str | None = None
    sheet: str | None = None
    sheet_kind: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Limits:
    """The [inbox] limits of settings.toml (values there, with why)."""

    max_file_bytes: int
    max_unzipped_bytes: int
    max_columns: int
    max_cell_chars: int
    header_search_rows: int
    max_amount_ht: int

    @classmethod
    def from_section(cls, conf) -> Limits:
        return cls(**{k: int(getattr(conf, k)) for k in cls.__dataclass_fields__})

    @classmethod
    def from_settings(cls, settings) -> Limits:
        return cls.from_section(settings.inbox_limits)

    @classmethod
    def defaults(cls) -> Limits:
        """The limits settings.toml ships with, read from it (tests, benchmarks)."""
        from pipelines.config import read_toml_settings, typed_sections

        return cls.from_section(typed_sections(read_toml_settings({}))["inbox"])


SUPPORTED = {".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".ods"}


def sniff_format(head: bytes, suffix: str) -> str:
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "csv-utf16"
    if b"\x00" in head[:4096]:
        return "binary"
    return "csv"


def open_sheet(path: Path, limits: Limits) -> Sheet:
    size = path.stat().st_size
    if size == 0:
        raise FileRejected("vide", "le fichier est vide")
    if size > limits.max_file_bytes:
        raise FileRejected(
            "trop_gros",
            f"le fichier pèse {size // (1024 * 1024)} Mo, au-delà de la limite de "
            f"{limits.max_file_bytes // (1024 * 1024)} Mo",
        )
    suffix = path.suffix.lower()
    with open(path, "rb") as fh:
        head = fh.read(8192)
    kind = sniff_format(head, suffix)
    if kind == "xls":
        raise FileRejected(
            "format",
            "format Excel 97-2003 (.xls) non pris en charge : enregistrez le fichier au format .xlsx",
        )
    if kind == "pdf":
        raise FileRejected(
            "format", "c'est un PDF, pas un tableau : demandez l'export en .xlsx, .ods ou .csv"
        )
    if kind == "binary":
        raise FileRejected(
            "format",
            f"fichier binaire illisible comme tableau (extension « {suffix or 'aucune'} »)",
        )
    if kind == "zip":
        return _open_zip(path, limits, suffix)
    if suffix not in {".csv", ".txt", ".tsv", ""}:
        note = f"extension « {suffix} » mais contenu texte : lu comme CSV"
    else:
        note = None
    sheet = read_csv(path.read_bytes(), limits)
    if note:
        sheet.notes.append(note)
    return sheet


# ------------------------------------------------------------------ CSV

SEPARATORS = [";", ",", "\t", "|"]


def decode_lines(data: bytes) -> tuple[list[str], str]:
    """Whole-file UTF-8 (BOM or not) when possible; else line by line, UTF-8 then
    Windows-1252, so a file with mixed encodings keeps both halves readable."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16").splitlines(), "utf-16"
        except UnicodeDecodeError:
            raise FileRejected("encodage", "fichier UTF-16 illisible") from None
    try:
        text = data.decode("utf-8-sig")
        return text.splitlines(), "utf-8"
    except UnicodeDecodeError:
        pass
    lines, used = [], set()
    for raw in data.splitlines():
        try:
            lines.append(raw.decode("utf-8"))
            if not raw.isascii():  # ASCII reads the same in both encodings
                used.add("utf-8")
        except UnicodeDecodeError:
            try:
                lines.append(raw.decode("cp1252"))
            except UnicodeDecodeError:
                lines.append(raw.decode("latin-1"))
            used.add("windows-1252")
    return lines, "windows-1252" if used == {"windows-1252"} else "mixte (utf-8 et windows-1252)"


def sniff_separator(lines: list[str]) -> str:
    sample = [ln for ln in lines[:40] if ln.strip()]
    best, best_score = ";", -1
    for sep in SEPARATORS:
        counts = [len(row) for row in csv.reader(sample, delimiter=sep)]
        wide = [c for c in counts if c > 1]
        if not wide:
            continue
        modal = max(set(wide), key=wide.count)
        score = wide.count(modal) * modal
        if score > best_score:
            best, best_score = sep, score
    return best


def read_csv(data: bytes, limits: Limits) -> Sheet:
    lines, encoding = decode_lines(data)
    if not any(ln.strip() for ln in lines):
        raise FileRejected("vide", "le fichier ne contient aucune ligne")
    # any cell the file can hold is read (the file's size is bounded); an oversized cell
    # then sends its row to quarantine instead of rejecting the whole file
    csv.field_size_limit(max(len(data), 131072))
    separator = sniff_separator(lines)

    def rows():
        text = io.StringIO("\n".join(lines))
        reader = csv.reader(text, delimiter=separator)
        start = 1
        try:
            for cells in reader:
                if len(cells) > limits.max_columns:
                    raise FileRejected(
                        "colonnes",
                        f"ligne {start} : {len(cells)} colonnes, au-delà de la limite de {limits.max_columns}",
                    )
                yield start, cells
                start = reader.line_num + 1
        except csv.Error as exc:
            raise FileRejected("csv", f"CSV mal formé vers la ligne {start} ({exc})") from None

    return Sheet(rows(), "csv", encoding=encoding, separator=separator)


# ------------------------------------------------------------------ zip-based


def _check_zip(path: Path, limits: Limits) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise FileRejected("format", "archive .xlsx/.ods endommagée") from None
    total = 0
    for info in archive.infolist():
        total += info.file_size
        if (
            info.compress_size
            and info.file_size / info.compress_size > 1000
            and info.file_size > 10 * 1024 * 1024
        ):
            raise FileRejected(
                "bombe", "classeur suspect : taux de compression anormal (bombe de décompression ?)"
            )
    if total > limits.max_unzipped_bytes:
        raise FileRejected(
            "bombe",
            f"classeur de {total // (1024 * 1024)} Mo une fois décompressé, au-delà de la limite de "
            f"{limits.max_unzipped_bytes // (1024 * 1024)} Mo (bombe de décompression ?)",
        )
    return archive


def _open_zip(path: Path, limits: Limits, suffix: str) -> Sheet:
    archive = _check_zip(path, limits)
    names = set(archive.namelist())
    mimetype = (
        archive.read("mimetype").decode("ascii", "replace").strip() if "mimetype" in names else ""
    )
    archive.close()
    if "xl/workbook.xml" in names:
        sheet = read_xlsx(path, limits)
        if suffix not in {".xlsx", ".xlsm"}:
            sheet.notes.append(f"extension « {suffix} » mais contenu Excel : lu comme .xlsx")
        return sheet
    if mimetype == "application/vnd.oasis.opendocument.spreadsheet":
        sheet = read_ods(path, limits)
        if suffix != ".ods":
            sheet.notes.append(f"extension « {suffix} » mais contenu LibreOffice : lu comme .ods")
        return sheet
    raise FileRejected(
        "format", "archive zip qui n'est ni un classeur Excel ni un classeur LibreOffice"
    )


def _sheet_kind(name: str) -> str | None:
    return SHEET_KINDS.get(norm_key(name))


def _pick(names: list[str]) -> tuple[str, str | None]:
    for name in names:
        kind = _sheet_kind(name)
        if kind:
            return name, kind
    return names[0], None


_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")


def _has_formulas(path: Path) -> bool:
    """Whether any worksheet holds a formula (a <f> element). Read in blocks, never whole."""
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
                continue
            with archive.open(name) as member:
                tail = b""
                for block in iter(lambda: member.read(1 << 20), b""):
                    if _FORMULA.search(tail + block):
                        return True
                    tail = block[-16:]
    return False


def read_xlsx(path: Path, limits: Limits) -> Sheet:
    import openpyxl

    # file objects, not paths: openpyxl judges paths by their extension, we by content.
    # Formulas need a second reading for the values Excel saved; most exports have none.
    handles = [open(path, "rb")]  # noqa: SIM115 - closed by close()
    try:
        with_formulas = _has_formulas(path)
    except (zipfile.BadZipFile, OSError, EOFError):
        with_formulas = True  # let openpyxl say what is wrong
    if with_formulas:
        handles.append(open(path, "rb"))  # noqa: SIM115 - closed by close()

    def close():
        for h in handles:
            h.close()

    try:
        formulas = openpyxl.load_workbook(handles[0], read_only=True, data_only=False)
        cached = openpyxl.load_workbook(handles[1], read_only=True, data_only=True) if with_formulas else formulas
    except Exception as exc:  # openpyxl raises many kinds on broken files
        close()
        raise FileRejected("format", f"classeur Excel illisible ({exc.__class__.__name__})") from None
    try:
        name, kind = _xlsx_sheet(formulas, limits)
    except FileRejected:
        close()
        raise

    def rows():
        try:
            yield from _xlsx_rows(formulas[name], cached[name], with_formulas, limits)
        finally:
            formulas.close()
            cached.close()
            close()

    return Sheet(rows(), "xlsx", sheet=name, sheet_kind=kind)


def _xlsx_sheet(formulas, limits: Limits) -> tuple[str, str | None]:
    """The sheet to read -> (name, kind); FileRejected when none, or too wide."""
    if not formulas.sheetnames:
        raise FileRejected("vide", "le classeur ne contient aucune feuille")
    name, kind = _pick(formulas.sheetnames)
    try:
        max_col = formulas[name].max_column or 0
    except Exception:
        max_col = 0
    if max_col > limits.max_columns:
        raise FileRejected(
            "colonnes",
            f"la feuille « {name} » a {max_col} colonnes, au-delà de la limite de {limits.max_columns}",
        )
    return name, kind


def _xlsx_rows(ws_f, ws_c, with_formulas: bool, limits: Limits):
    pairs = zip(
        ws_f.iter_rows(min_row=1, values_only=True),
        ws_c.iter_rows(min_row=1, values_only=True) if with_formulas else repeat(()),
        strict=False,
    )
    for number, (written, values) in enumerate(pairs, start=1):
        cells = []
        for i, f in enumerate(written):
            # A formula is never evaluated: its cached value if Excel saved one, else its text.
            v = values[i] if i < len(values) else None
            if isinstance(f, str) and f.startswith("=") and v is not None:
                cells.append(v)
            else:
                cells.append(f)
        if len(cells) > limits.max_columns:
            raise FileRejected(
                "colonnes", f"ligne {number} : {len(cells)} colonnes, au-delà de la limite"
            )
        yield number, cells


def read_ods(path: Path, limits: Limits) -> Sheet:
    from odf import opendocument, table
    from odf.namespaces import TABLENS

    try:
        doc = opendocument.load(str(path))
    except Exception as exc:
        raise FileRejected(
            "format", f"classeur LibreOffice illisible ({exc.__class__.__name__})"
        ) from None
    sheets = doc.spreadsheet.getElementsByType(table.Table)
    if not sheets:
        raise FileRejected("vide", "le classeur ne contient aucune feuille")
    names = [s.getAttrNS(TABLENS, "name") for s in sheets]
    name, kind = _pick(names)
    return Sheet(_ods_rows(sheets[names.index(name)], limits), "ods", sheet=name, sheet_kind=kind)


def _ods_rows(sheet, limits: Limits):
    from odf import table
    from odf.namespaces import TABLENS

    number = 0
    for row in sheet.getElementsByType(table.TableRow):
        repeat = int(row.getAttrNS(TABLENS, "number-rows-repeated") or 1)
        cells = _ods_cells(row, limits, number)
        if not cells:
            number += repeat  # empty rows, often repeated to the end of the sheet
            continue
        if repeat > 10_000:  # reading them all would not fit; dropping some would lose rows
            raise FileRejected("repetition", f"ligne {number + 1} répétée {repeat} fois : au-delà de ce qu'un "
                               "export peut contenir, le fichier est refusé")
        for _ in range(repeat):
            number += 1
            yield number, list(cells)


def _ods_cells(row, limits: Limits, number: int) -> list:
    """One row's values, repeated cells expanded, trailing empty ones dropped."""
    from odf.namespaces import TABLENS

    cells = []
    for cell in row.childNodes:
        if cell.qname[1] not in ("table-cell", "covered-table-cell"):
            continue
        value = _ods_value(cell)
        times = int(cell.getAttrNS(TABLENS, "number-columns-repeated") or 1)
        if len(cells) + times > limits.max_columns:
            if value is None:
                continue  # empty cells repeated to the sheet's edge
            raise FileRejected(
                "colonnes", f"ligne {number + 1} : plus de {limits.max_columns} colonnes"
            )
        cells.extend([value] * times)
    while cells and cells[-1] is None:
        cells.pop()
    return cells


def _ods_value(cell):
    from odf import text
    from odf.namespaces import OFFICENS

    vtype = cell.getAttrNS(OFFICENS, "value-type")
    if vtype in ("float", "currency", "percentage"):
        return float(cell.getAttrNS(OFFICENS, "value"))
    if vtype == "date":
        from datetime import datetime

        raw = cell.getAttrNS(OFFICENS, "date-value")
        return datetime.fromisoformat(raw[:19]) if "T" in raw else datetime.fromisoformat(raw)
    if vtype == "boolean":
        return cell.getAttrNS(OFFICENS, "boolean-value") == "true"
    parts = []
    for p in cell.getElementsByType(text.P):
        parts.append("".join(str(n) for n in p.childNodes))
    return "\n".join(parts) if parts else None


def is_ignored(rel_path: str) -> bool:
    """Office lock files and hidden files are not exports."""
    name = rel_path.rsplit("/", 1)[-1]
    return name.startswith((".", "~$", ".~lock")) or bool(re.search(r"(^|/)\.", rel_path))
