"""Cell parsers for order exports: French money and dates as people type them.

Each parser takes what a reader gave (str, number, date, None) and returns a value or
raises CellError with a French reason. Pure functions: property-tested in
tests/test_parsers_properties.py.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from pipelines.text import clean_cell, norm_key


class CellError(ValueError):
    """A cell that cannot be read; the message is French and names the value."""


def _show(value) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "…"


# ------------------------------------------------------------------ money

_CURRENCY = re.compile(r"(€|eur(?:os?)?\b|euros?)", re.I)
_MONEY_CHARS = re.compile(r"^-?[0-9.,' ]+$")
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("1e15")  # a thousand billion euros: beyond, it is not an amount


def _bounded(amount: Decimal, raw) -> Decimal:
    if abs(amount) >= MAX_AMOUNT:
        raise CellError(f"montant hors limites « {_show(raw)} »")
    return amount


def parse_money(value) -> Decimal:
    """`12345.67`, `12 345,67`, `12 345,67 €`, `12.345,67`, `€ 12345`, `-1 200,00`.

    Negative amounts only with a leading '-'. A lone '.' followed by exactly three
    digits (`12.345`) is ambiguous in French exports and refused.
    """
    if value is None or (isinstance(value, str) and not clean_cell(value)):
        raise CellError("montant vide")
    if isinstance(value, bool):
        raise _unreadable(value)
    if isinstance(value, int | float | Decimal):
        return _money_number(value)
    sign, body = _money_text(value)
    body = _decimal_point(body, value)
    if not re.fullmatch(r"\d+(\.\d+)?|\.\d+", body):
        raise _unreadable(value)
    if "." in body and len(body.split(".")[1]) > 2:
        raise CellError(f"montant « {_show(value)} » : plus de deux décimales")
    return _bounded(Decimal(sign + body), value).quantize(CENT, ROUND_HALF_UP)


def _unreadable(value) -> CellError:
    return CellError(f"montant illisible « {_show(value)} »")


def _money_number(value) -> Decimal:
    """A cell the spreadsheet already holds as a number."""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise _unreadable(value) from None
    if not number.is_finite():
        raise _unreadable(value)
    return _bounded(number, value).quantize(CENT, ROUND_HALF_UP)


def _money_text(value) -> tuple[str, str]:
    """-> (sign, digits and separators): currency, spaces and a leading '+' removed."""
    text = clean_cell(value)
    # every kind of space (no-break, narrow no-break) is a thousands separator
    text = re.sub(r"[\s\u00a0\u202f\u2009]", " ", text)
    stripped = _CURRENCY.sub("", text).strip()
    if stripped.startswith("-"):
        sign, body = "-", stripped[1:].strip()
    else:
        sign, body = "", stripped
    if body.startswith("+"):
        body = body[1:].strip()
    if not body or not _MONEY_CHARS.match(body) or "-" in body:
        raise _unreadable(value)
    body = body.replace(" ", "").replace("'", "")
    if not body or not re.search(r"\d", body):
        raise _unreadable(value)
    return sign, body


def _decimal_point(body: str, value) -> str:
    """Thousands separators removed, the decimal separator made a '.'."""
    has_comma, has_dot = "," in body, "." in body
    if has_comma and has_dot:
        # the last separator is the decimal one: 12.345,67 or 12,345.67
        decimal_sep = "," if body.rfind(",") > body.rfind(".") else "."
        thousands = "." if decimal_sep == "," else ","
        int_part, _, frac = body.rpartition(decimal_sep)
        if not re.fullmatch(r"\d{1,3}(" + re.escape(thousands) + r"\d{3})*", int_part):
            raise _unreadable(value)
        return int_part.replace(thousands, "") + "." + frac
    if has_comma:
        if body.count(",") == 1:
            return body.replace(",", ".")
        if not re.fullmatch(r"\d{1,3}(,\d{3})+", body):
            raise _unreadable(value)
        return body.replace(",", "")
    if has_dot:
        if body.count(".") > 1:
            if not re.fullmatch(r"\d{1,3}(\.\d{3})+", body):
                raise _unreadable(value)
            return body.replace(".", "")
        if re.fullmatch(r"\d{1,3}\.\d{3}", body):
            raise CellError(
                f"montant ambigu « {_show(value)} » (séparateur de milliers ou décimales ?)"
            )
    return body


# ------------------------------------------------------------------ dates

MIN_DATE = date(1990, 1, 1)
MAX_DATE = date(2100, 12, 31)
EXCEL_EPOCH = date(1899, 12, 30)
_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})$")
_ISO = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)
_DMY_TIME = re.compile(r"^(\d{1,2}/\d{1,2}/\d{2,4})[ T]\d{1,2}:\d{2}(?::\d{2})?$")


def _checked(d: date, raw) -> date:
    if not (MIN_DATE <= d <= MAX_DATE):
        raise CellError(f"date hors plage « {_show(raw)} »")
    return d


def parse_date(value) -> date:
    """`2026-10-03`, `03/10/2026`, `3/10/2026`, `03/10/26`, Excel date cells and serial
    numbers, ISO datetimes (time dropped). Day first, always."""
    if value is None or (isinstance(value, str) and not clean_cell(value)):
        raise CellError("date vide")
    if isinstance(value, datetime):
        return _checked(value.date(), value)
    if isinstance(value, date):
        return _checked(value, value)
    if isinstance(value, bool):
        raise CellError(f"date illisible « {_show(value)} »")
    if isinstance(value, int | float | Decimal):
        serial = float(value)
        # an Excel serial (1990..2100) in a cell not formatted as a date
        if not math.isfinite(serial) or serial != int(serial) or not (32874 <= serial <= 73415):
            raise CellError(f"date illisible « {_show(value)} »")
        return _checked(EXCEL_EPOCH + timedelta(days=int(serial)), value)
    text = clean_cell(value)
    m = _DMY_TIME.match(text)
    if m:
        text = m.group(1)
    m = _ISO.match(text)
    if m:
        y, mo, d = (int(x) for x in m.groups())
        return _checked(_make(y, mo, d, value), value)
    m = _DMY.match(text)
    if m:
        d, mo, y = m.groups()
        year = int(y)
        if len(y) == 2:
            year += 2000  # '26 is 2026: these agreements started in the 2020s
        return _checked(_make(year, int(mo), int(d), value), value)
    if re.fullmatch(r"\d{5}(\.0+)?", text):
        return parse_date(float(text))
    raise CellError(f"date illisible « {_show(value)} » (attendu JJ/MM/AAAA)")


def _make(y: int, m: int, d: int, raw) -> date:
    try:
        return date(y, m, d)
    except ValueError:
        raise CellError(f"date impossible « {_show(raw)} »") from None


# ------------------------------------------------------------------ others


_INT = re.compile(r"(?:lot\s*(?:n\s*[°o]?\s*)?)?(\d+)\s*(?:er|re|ère|e|ème|eme|nd|nde)?(?:[.,]0+)?")


def parse_int(value, label: str = "nombre") -> int:
    if value is None or (isinstance(value, str) and not clean_cell(value)):
        raise CellError(f"{label} vide")
    if isinstance(value, bool):
        raise CellError(f"{label} illisible « {_show(value)} »")
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal):
        if not math.isfinite(float(value)) or float(value) != int(value):
            raise CellError(f"{label} « {_show(value)} » n'est pas un entier")
        return int(value)
    m = _INT.fullmatch(clean_cell(value).lower())
    if not m:
        raise CellError(f"{label} illisible « {_show(value)} »")
    return int(m.group(1))


RESPONSES = {
    "accepte": "accepte",
    "acceptee": "accepte",
    "accepter": "accepte",
    "accord": "accepte",
    "oui": "accepte",
    "refus": "refus",
    "refuse": "refus",
    "refusee": "refus",
    "refuser": "refus",
    "non": "refus",
    "desistement": "desistement",
    "desiste": "desistement",
    "desistee": "desistement",
    "sansreponse": "sans_reponse",
    "pasdereponse": "sans_reponse",
    "aucunereponse": "sans_reponse",
    "nonrepondu": "sans_reponse",
    "noreponse": "sans_reponse",
    "sansretour": "sans_reponse",
    "droitdesuite": "droit_de_suite",
}


def parse_response(value) -> str:
    key = norm_key(value)
    if not key:
        raise CellError("réponse vide")
    if key in RESPONSES:
        return RESPONSES[key]
    raise CellError(
        f"réponse « {_show(value)} » inconnue (attendu : accepté, refus, désistement, sans réponse, droit de suite)"
    )


def parse_text(value) -> str:
    """Text cells keep their text (formula prefixes included), never evaluated."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    return clean_cell(value)
