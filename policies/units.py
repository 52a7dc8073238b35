"""The department's own units: one natural-resources office per division, at three levels.

The region has the 自然资源厅; each league/city and each banner/county its 自然资源局. Codes are
``NMG`` + the 6-digit division code, so a unit's jurisdiction follows from its code.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from .divisions import Level, divisions, jurisdiction_prefix

AGENCY_PREFIX = "NMG"


@dataclass(frozen=True, slots=True)
class Unit:
    code: str
    name: str
    level: Level
    division: str


def agency_code(division: str) -> str:
    return AGENCY_PREFIX + division


def units() -> list[Unit]:
    return [
        Unit(
            agency_code(d.code),
            d.name + ("自然资源厅" if d.level is Level.REGION else "自然资源局"),
            d.level,
            d.code,
        )
        for d in divisions().values()
    ]


@cache
def units_by_code() -> dict[str, Unit]:
    """Every unit by its code; built once, read on every submission and review."""
    return {u.code: u for u in units()}


def unit_prefix(agency: str) -> str:
    """The division prefix a unit covers, from its code: a banner its own division, a league
    its 4-digit prefix, the region all (so a token's claims cannot widen it)."""
    return jurisdiction_prefix(agency.removeprefix(AGENCY_PREFIX))


def covers(unit: str, other: str) -> bool:
    """Whether ``other`` (a unit code) is within ``unit``'s jurisdiction."""
    return other.removeprefix(AGENCY_PREFIX).startswith(unit_prefix(unit))
