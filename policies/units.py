"""The department's own units: one natural-resources office per division, at three levels.

The region has the 自然资源厅; each league/city and each banner/county its 自然资源局. Codes are
``NMG`` + the 6-digit division code, so a unit's jurisdiction follows from its code.
"""

from __future__ import annotations

from dataclasses import dataclass

from .divisions import Level, divisions

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
