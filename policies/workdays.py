"""Working days on the Chinese public-holiday calendar (the ``chinesecalendar`` package).

Licences and penalties must be published within 7 working days of the decision (双公示). The
package carries the State Council's holiday arrangements for the years it knows; beyond them
(the next year's arrangement is announced late in the year) weekends are the only days off, and
:func:`covered` lets callers say so.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar


def covered(day: date) -> bool:
    """Whether the official holiday arrangement for ``day``'s year is known."""
    try:
        chinese_calendar.is_workday(day)
    except NotImplementedError:
        return False
    return True


@lru_cache(maxsize=65536)  # the package scans its tables on every call: ~20 µs a day
def is_working_day(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


@lru_cache(maxsize=65536)  # an archive has many records decided on the same day
def add_working_days(start: date, days: int) -> date:
    """The ``days``-th working day after ``start`` (``start`` itself does not count)."""
    if days < 0:
        raise ValueError("days must not be negative")
    day = start
    while days:
        day += timedelta(days=1)
        if is_working_day(day):
            days -= 1
    return day


def working_days_after(start: date, end: date) -> int:
    """How many working days fall after ``start`` up to and including ``end`` (0 when ``end``
    is not after ``start``): how late something due on ``start`` is on ``end``."""
    return sum(is_working_day(start + timedelta(days=n)) for n in range(1, (end - start).days + 1))
