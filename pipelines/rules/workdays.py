"""French working days (jours ouvrés): Monday to Friday, public holidays excluded.

Holidays come from the `holidays` package (metropolitan France), not from a list kept
here. Pure functions; the package is imported when first needed.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache


@cache
def _holidays(year: int) -> frozenset[date]:
    import holidays

    return frozenset(holidays.country_holidays("FR", years=year))


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def working_days_between(start: date, end: date) -> int:
    """Working days strictly after `start` and strictly before `end`: the full working
    days that went by between a request and a later day."""
    count, day = 0, start + timedelta(days=1)
    while day < end:
        count += is_working_day(day)
        day += timedelta(days=1)
    return count
