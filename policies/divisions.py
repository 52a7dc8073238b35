"""Administrative divisions (GB/T 2260) of Inner Mongolia and the three levels built on them.

Names come from python-stdnum's table, which keeps historical names as ``[1983-1999]郊区,
[2000-]赛罕区``; we keep the current name and drop divisions that no longer exist and the
``市辖区`` placeholders, which no unit administers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from stdnum import numdb

PROVINCE = "15"  # Inner Mongolia Autonomous Region
REGION_CODE = "150000"
_PERIOD = re.compile(r"^\[(\d{4})?-(\d{4})?\](.*)$")


class Level(StrEnum):
    REGION = "REGION"
    LEAGUE = "LEAGUE"
    BANNER = "BANNER"


@dataclass(frozen=True, slots=True)
class Division:
    code: str
    name: str
    level: Level

    @property
    def parent(self) -> str | None:
        """The code of the division above: banner → league → region."""
        if self.level is Level.REGION:
            return None
        if self.level is Level.LEAGUE:
            return REGION_CODE
        return self.code[:4] + "00"


def _current_name(raw: str) -> str | None:
    """The name in force today, or None when the division was abolished."""
    name: str | None = None
    for part in raw.split(","):
        match = _PERIOD.match(part)
        if match is None:
            name = part
        elif match.group(2) is None:
            name = match.group(3)
        else:
            name = None
    return name


def _level(code: str) -> Level:
    if code == REGION_CODE:
        return Level.REGION
    if code.endswith("00"):
        return Level.LEAGUE
    return Level.BANNER


@cache
def divisions() -> dict[str, Division]:
    """All current divisions of the region, keyed by 6-digit code."""
    table = numdb.get("cn/loc")
    found: dict[str, Division] = {}
    for _length, low, _high, _props, children in table.prefixes:
        if low != PROVINCE:
            continue
        for _clen, sub, _shigh, props, _grand in children:
            code = PROVINCE + sub
            name = _current_name(props.get("county", ""))
            if name is None or name == "市辖区" or name.endswith("市区"):
                continue
            found[code] = Division(code, name, _level(code))
    return found


def find_division(code: str) -> Division | None:
    """The current division of this code, or None (abolished, a placeholder, not ours)."""
    return divisions().get(code)


def leagues() -> list[Division]:
    return [d for d in divisions().values() if d.level is Level.LEAGUE]


def banners(league: str | None = None) -> list[Division]:
    return [
        d
        for d in divisions().values()
        if d.level is Level.BANNER and (league is None or d.code[:4] == league[:4])
    ]


def jurisdiction_prefix(code: str) -> str:
    """The code prefix a unit at ``code`` covers: region '15', league '1502', banner itself."""
    level = _level(code)
    if level is Level.REGION:
        return code[:2]
    if level is Level.LEAGUE:
        return code[:4]
    return code
