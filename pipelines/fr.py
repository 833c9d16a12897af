"""French formats for everything users read: 12 345,67 €, 3 octobre 2026, octobre 2026."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

NNBSP = "\u202f"  # thousands separator (CLDR fr)
NBSP = "\u00a0"  # before the currency sign and %

MONTHS = [
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
]  # fmt: skip


def _group(digits: str) -> str:
    out = []
    while len(digits) > 3:
        out.insert(0, digits[-3:])
        digits = digits[:-3]
    out.insert(0, digits)
    return NNBSP.join(out)


def number(value, decimals: int = 0) -> str:
    if value is None:
        return "—"
    q = Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals)) if decimals else None
    if decimals:
        sign = "-" if q < 0 else ""
        whole, frac = f"{abs(q):.{decimals}f}".split(".")
        return f"{sign}{_group(whole)},{frac}"
    rounded = int(Decimal(str(value)).to_integral_value())
    sign = "-" if rounded < 0 else ""
    return sign + _group(str(abs(rounded)))


def money(value, decimals: int = 2) -> str:
    """12345.67 -> '12 345,67 €' (narrow no-break space, no-break space before €)."""
    if value is None:
        return "—"
    return number(value, decimals) + NBSP + "€"


def money_short(value) -> str:
    """Amounts in charts' hover text and headlines: 1,2 M€, 345 k€."""
    if value is None:
        return "—"
    v = float(value)
    if abs(v) >= 1_000_000:
        return number(v / 1_000_000, 1) + NBSP + "M€"
    if abs(v) >= 10_000:
        return number(v / 1_000) + NBSP + "k€"
    return money(v, 0)


def percent(share, decimals: int = 1) -> str:
    if share is None:
        return "—"
    return number(float(share) * 100, decimals) + NBSP + "%"


def day(value: date | datetime | None) -> str:
    """'03/10/2026' — the short French date used in tables."""
    if value is None:
        return "—"
    return value.strftime("%d/%m/%Y")


def long_day(value: date | datetime | None) -> str:
    """'3 octobre 2026'."""
    if value is None:
        return "—"
    first = "1er" if value.day == 1 else str(value.day)
    return f"{first} {MONTHS[value.month - 1]} {value.year}"


def moment(value: datetime | None) -> str:
    """'24/11/2026 à 06:30'."""
    if value is None:
        return "jamais"
    return value.strftime("%d/%m/%Y à %H:%M")


def month(year: int, month_number: int) -> str:
    return f"{MONTHS[month_number - 1]} {year}"


def duration_hours(hours: float | None) -> str:
    if hours is None:
        return "—"
    if hours < 1:
        return f"{int(round(hours * 60))}{NBSP}min"
    if hours < 48:
        return f"{number(hours, 0)}{NBSP}h"
    return f"{number(hours / 24, 0)}{NBSP}jours"


def plural(n: int, singular: str, plural_form: str | None = None) -> str:
    word = singular if abs(n) < 2 else (plural_form or singular + "s")
    return f"{number(n)} {word}"
