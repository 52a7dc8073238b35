"""The department's own units: one natural-resources office per division, at three levels.

The region has the 自然资源厅; each league/city and each banner/county its 自然资源局. Codes are
``NMG`` + the 6-digit division code, so a unit's jurisdiction follows from its code.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from policies.divisions import REGION_CODE, Level, divisions, find_division, jurisdiction_prefix

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


def responsible_unit(division: str) -> str:
    """The unit that answers for what concerns a subject of ``division``: its own division's,
    or the nearest one above when no unit administers it (an abolished or unknown code)."""
    for code in (division, division[:4] + "00", REGION_CODE):
        if agency_code(code) in units_by_code():
            return agency_code(code)
    return agency_code(REGION_CODE)


def superior(unit: str) -> str:
    """The unit above ``unit`` (banner → league → region); the region answers for itself."""
    division = find_division(unit.removeprefix(AGENCY_PREFIX))
    parent = division.parent if division is not None else None
    return responsible_unit(parent) if parent is not None else agency_code(REGION_CODE)


def unit_mismatch(agency: str, level: str, division: str, roles: frozenset[str]) -> str | None:
    """Why a token's agency, level, division and roles do not belong together, or None.

    A department token's level and division are its unit's (read from the agency code), never
    its own say: otherwise a banner clerk's token claiming the region's division would read the
    whole region. A partner (level PARTNER) carries the partner role only, and no department
    role runs outside a unit.
    """
    unit = units_by_code().get(agency)
    if level == "SUBJECT" or "subject" in roles:
        if level != "SUBJECT" or roles != {"subject"}:
            return "a subject's token has level SUBJECT and the role 'subject' only"
        if unit is not None:
            return f"agency {agency} is a department unit, not a subject"
        return None
    if level == "ASSOCIATION" or "association" in roles:
        if level != "ASSOCIATION" or roles != {"association"}:
            return "an association's token has level ASSOCIATION and the role 'association' only"
        if unit is not None:
            return f"agency {agency} is a department unit, not an association"
        return None
    if level == "PARTNER":
        if roles != {"partner"}:
            return "a PARTNER-level token carries the role 'partner' only"
        if unit is not None:
            return f"agency {agency} is a department unit, not a partner"
        return None
    if "partner" in roles:
        return "the role 'partner' belongs to level PARTNER"
    if unit is None:
        return f"agency {agency!r} is not a department unit, so it cannot have level {level}"
    if level != unit.level.value or division != unit.division:
        return (
            f"claims 'level' and 'division' must be those of unit {agency}: "
            f"{unit.level.value} and {unit.division}"
        )
    return None
