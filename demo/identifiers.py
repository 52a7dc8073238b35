"""Valid identifiers for made-up subjects and people: organisation, credit and resident codes.

A resident ID's birthplace is a county that existed in the year of birth.
"""

from __future__ import annotations

from stdnum import numdb

from demo.odds import BIRTH_FIRST_YEAR, BIRTH_LAST_YEAR
from graph.identifiers import uscc_check_char
from policies.divisions import PROVINCE

_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def organisation_code(body: str) -> str:
    """GB 11714 code: 8 body characters and their check character (A=10 … Z=35)."""
    total = sum(int(char, 36) * weight for char, weight in zip(body, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return body + ("X" if check == 10 else "0" if check == 11 else str(check))


def credit_code(prefix: str, division: str, body: str) -> str:
    """A valid USCC: authority and type (``prefix``), division, organisation code, check."""
    first17 = prefix + division + organisation_code(body)
    return first17 + uscc_check_char(first17)


def resident_number(division: str, birth: str, sequence: int) -> str:
    """A valid GB 11643 resident ID from place, ``YYYYMMDD`` birth date and sequence.

    The check is computed here: ``identifiers.resident_id_check_char`` slices a check character
    off its argument, so given 17 characters it checks only 16.
    """
    first17 = f"{division}{birth}{sequence:03d}"
    check = (1 - 2 * int(first17, 13)) % 11
    return first17 + ("X" if check == 10 else str(check))


def _existed(raw: str, year: int) -> bool:
    """Whether a division (stdnum's ``[from-to]name`` history) existed in ``year``."""
    for part in raw.split(","):
        if not part.startswith("["):
            return not part.endswith("市辖区")
        period, name = part[1:].split("]")
        start, end = period.split("-")
        if name.endswith(("市辖区", "市区")):
            continue
        if (not start or int(start) <= year) and (not end or year <= int(end)):
            return True
    return False


def birthplaces() -> dict[int, tuple[str, ...]]:
    """County codes of the region per birth year: an ID's place must have existed at birth."""
    counties: list[tuple[str, str]] = []
    for _length, low, _high, _props, children in numdb.get("cn/loc").prefixes:
        if low != PROVINCE:
            continue
        for _clen, sub, _shigh, props, _grand in children:
            if not sub.endswith("00"):
                counties.append((PROVINCE + sub, props.get("county", "")))
    return {
        year: tuple(code for code, raw in counties if _existed(raw, year))
        for year in range(BIRTH_FIRST_YEAR, BIRTH_LAST_YEAR + 1)
    }
