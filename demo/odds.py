"""The demo's fixed points and odds: the reference day, rates, weighted draws, day arithmetic.

The reference day is "today" for every status decision, so output never ages; the rates say how
often each thing happens; the numbers of the seed-1 rating model are here too.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Iterable
from datetime import date
from typing import Generic, NamedTuple, TypeVar

T = TypeVar("T")

SYSTEM = "seed"
MODEL_VERSION = "seed-1"
REFERENCE_DATE = date(2026, 11, 1)  # "today" for every status decision, so output never ages
COMPUTED_AT = "2026-11-01T00:00:00+08:00"
PLANTED_MIN_SUBJECTS = 100

REFERENCE = REFERENCE_DATE.toordinal()
REGISTRATION_FIRST = date(1995, 1, 1).toordinal()
REGISTRATION_LAST = date(2025, 12, 31).toordinal()
MA_ERA = date(2015, 10, 1).toordinal()  # market entities got "MA…" organisation codes from here
RECORDS_FIRST = date(2010, 1, 1).toordinal()
ABNORMAL_FIRST = date(2019, 1, 1).toordinal()
PROJECTS_FIRST = date(2015, 1, 1).toordinal()
PENDING_FROM = REFERENCE - 90  # pending records were decided in the last three months
BIRTH_FIRST_YEAR = 1950
BIRTH_LAST_YEAR = 2000
ADULT_AGE = 20  # a new person is at least this old when the subject is registered

# --- ratios (per subject unless said otherwise) ---------------------------------------------------

PROJECTS_PER_SUBJECT = 1 / 20
MIN_PROJECTS = 5
SERIOUS_RATE = 0.03 / 0.90  # among companies and individual businesses: ~3% of all subjects
ABNORMAL_RATE = 0.02 / 0.78  # among companies: ~2% of all subjects
BRANCH_RATE = 0.01
SUCCESSOR_RATE = 0.005
SHARED_CONTACT_RATE = 0.006  # copies a recent subject's phone or address: ~1% end up sharing
RECENT_CONTACTS = 256
EMAIL_RATE = 0.25
SECOND_PHONE_RATE = 0.1
CORPORATE_HOLDER_RATE = 0.2
BUSY_HOLDER_RATE = 0.5  # a corporate holder is one already holding others (groups grow)
REP_IS_HOLDER_RATE = 0.6
ENDED_RELATION_RATE = 0.08
PENDING_RATE = 0.05
LANDLINE_RATE = 0.35
MONGOLIAN_NAME_RATE = 0.12
MALE_RATE = 0.62
PERSON_PHONE_RATE = 0.4
PERSON_ADDRESS_RATE = 0.3
SUPERVISOR_RATE = 0.4
REPAIRED_RATE = 0.2
BANNER_AGENCY_RATE = 0.7
PERSON_LOAD_CAP = 80  # nobody fronts more companies than this
SERIOUS_TERM_YEARS = 3
ABNORMAL_TERM_YEARS = 1
HUB_RATE = 0.0005
HUB_FLOOR_LARGE = 200  # subjects >= 10,000
HUB_FLOOR_MEDIUM = 30  # subjects >= 1,000


class PersonOdds(NamedTuple):
    """How a role is filled: a new person, a busy one (rich get richer) or anyone known."""

    new: float
    busy: float


REP_ODDS = PersonOdds(new=0.33, busy=0.25)
HOLDER_ODDS = PersonOdds(new=0.12, busy=0.25)
OFFICER_ODDS = PersonOdds(new=0.12, busy=0.25)

# --- rating model "seed-1" ------------------------------------------------------------------------

SCORE_START = 75
SCORE_DELTA = {"TRUSTWORTHY": 5, "GENERAL": -8, "MINOR": -3}
SERIOUS_CAP = 15  # an active serious-dishonesty listing puts the subject in grade C
ABNORMAL_CAP = 49  # an active abnormal-operation listing caps the subject at grade B
GRADE_BANDS = (
    (90, "AAA"),
    (80, "AA"),
    (70, "A"),
    (60, "BBB"),
    (50, "BB"),
    (40, "B"),
    (30, "CCC"),
    (20, "CC"),
    (0, "C"),
)


class Weighted(Generic[T]):
    """Cumulative weights computed once: one ``random()`` and a bisect per draw."""

    __slots__ = ("_cumulative", "_items", "_total")

    def __init__(self, pairs: Iterable[tuple[T, float]]) -> None:
        self._items: list[T] = []
        self._cumulative: list[float] = []
        total = 0.0
        for item, weight in pairs:
            total += weight
            self._items.append(item)
            self._cumulative.append(total)
        self._total = total

    def pick(self, rng: random.Random) -> T:
        return self._items[bisect(self._cumulative, rng.random() * self._total)]


# --- dates ----------------------------------------------------------------------------------------

_DAY_FIRST = date(1940, 1, 1).toordinal()
_ISO_DAYS = tuple(
    date.fromordinal(day).isoformat() for day in range(_DAY_FIRST, date(2100, 1, 1).toordinal())
)


def iso(day: int) -> str:
    """ISO text of a day ordinal (a table lookup: millions of dates are written)."""
    return _ISO_DAYS[day - _DAY_FIRST]


def plus_months(day: int, months: int) -> int:
    """Same day of month ``months`` later, clamped to the month's end."""
    start = date.fromordinal(day)
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    for day_of_month in (start.day, 30, 29, 28):
        try:
            return date(year, month + 1, day_of_month).toordinal()
        except ValueError:
            continue
    raise AssertionError("every month has a 28th")


def plus_years(day: int, years: int) -> int:
    return plus_months(day, 12 * years)
