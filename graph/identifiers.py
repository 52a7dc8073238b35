"""Identifier rules: the unified social credit code (GB 32100) and the resident ID (GB 11643).

python-stdnum carries the right check-character arithmetic, but its ``cn.uscc.validate`` refuses
codes whose first eight characters are not all digits, so letter-prefixed authority codes
(``N`` rural collectives, ``Y`` others, ...) would be lost. We reuse its pieces and apply the
standard's own structure instead.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_CHARS = frozenset(USCC_ALPHABET)
# Spaces of every width and the hyphen family people paste from documents.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]+")


class InvalidIdentifier(ValueError):
    """An identifier that fails its standard; ``reason`` is a stable machine-readable word."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def normalise(text: str) -> str:
    """What people type, as the standard writes it: half-width, upper-case, no separators."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).upper()


def uscc_check_char(first17: str) -> str:
    """The 18th character for 17 characters of a credit code."""
    return uscc.calc_check_digit(first17)


@lru_cache(maxsize=1 << 16)
def validate_uscc(text: str) -> str:
    """Return the normalised credit code or raise :class:`InvalidIdentifier`.

    Remembered for the last 65,536 codes: an archive or a seed names each subject many times
    (a row, its records, licences, relations), and stdnum's check costs ~20 µs a call.

    Structure: authority (1) · entity type (1) · division (6 digits) · organisation code (9) ·
    check (1). Any character of the 31-symbol set is allowed in the authority, type and
    organisation positions, so letter-prefixed codes are accepted.
    """
    code = normalise(text)
    if len(code) != 18:
        raise InvalidIdentifier("length", f"a credit code has 18 characters, got {len(code)}")
    bad = sorted({c for c in code if c not in _USCC_CHARS})
    if bad:
        raise InvalidIdentifier(
            "charset",
            f"character(s) {''.join(bad)!r} are not used in credit codes "
            "(I, O, S, V and Z never appear)",
        )
    if not code[2:8].isdigit():
        raise InvalidIdentifier("division", "characters 3-8 must be a 6-digit division code")
    if code[17] != uscc_check_char(code[:17]):
        raise InvalidIdentifier("checksum", "the check character does not match")
    return code


@dataclass(frozen=True, slots=True)
class ResidentId:
    """A validated resident ID, in the forms the hub may keep."""

    key: str  # keyed hash: matches the same person across sources, reveals nothing
    masked: str  # first 4 and last 4 characters, for display
    number: str  # full number: CONFIDENTIAL, never shown below that class


def validate_resident_id(text: str) -> str:
    """Return the normalised 18-character resident ID or raise :class:`InvalidIdentifier`."""
    number = normalise(text)
    if len(number) != 18:
        raise InvalidIdentifier("length", f"a resident ID has 18 characters, got {len(number)}")
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise InvalidIdentifier("charset", "a resident ID is 17 digits and a digit or X")
    if number[17] != resident_id_check_char(number[:17]):
        raise InvalidIdentifier("checksum", "the check character of the resident ID does not match")
    try:
        ric.get_birth_date(number)
    except ValidationError as exc:
        raise InvalidIdentifier("birth-date-or-place", _NO_BIRTH) from exc
    if not _birthplace_known(number[:10]):
        raise InvalidIdentifier("birth-date-or-place", _NO_BIRTH)
    return number


_NO_BIRTH = "the birth date or the birthplace code of the resident ID does not exist"


@lru_cache(maxsize=1 << 14)
def _birthplace_known(place_and_year: str) -> bool:
    """Whether stdnum's table has the birthplace code (the first 6 digits) in the birth year
    (the next 4): its lookup walks a table (80 µs), the same for every number sharing both."""
    try:
        ric.get_birth_place(place_and_year + "01010000")
    except ValidationError:
        return False
    return True


def resident_id_check_char(first17: str) -> str:
    """The 18th character (ISO 7064 MOD 11-2) for the first 17 digits of a resident ID."""
    return ric.calc_check_digit(first17 + "0")  # stdnum expects the check position present


def person_key(number: str, secret: bytes) -> str:
    """Keyed hash of a resident ID: without the key, the 18-digit space cannot be enumerated."""
    return hmac.new(secret, number.encode(), hashlib.sha256).hexdigest()[:32]


def mask_resident_id(number: str) -> str:
    return f"{number[:4]}{'*' * (len(number) - 8)}{number[-4:]}"


def resident_id(text: str, secret: bytes) -> ResidentId:
    number = validate_resident_id(text)
    return ResidentId(person_key(number, secret), mask_resident_id(number), number)
