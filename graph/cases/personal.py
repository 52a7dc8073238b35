"""Personal data in text meant for the public: what a typical case's published text may not
carry, found before it is stored (resident IDs, mobile numbers, e-mail addresses, the names of
the people tied to the subject).

The scan reads the text as a reader would: full-width digits and letters folded to ASCII
(NFKC), and again with the spaces and dashes between digits taken out, so ``138 1234 5678`` or
``１５０１０２…`` are found too. It says which kind of personal data it found, never where or
what: the refusal must not repeat the value.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date

from graph.identifiers import InvalidIdentifier, validate_resident_id

_ID18 = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx])(?![0-9A-Za-z])")
# First-generation IDs (15 digits: area, yymmdd, sequence), still on old files.
_ID15 = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{2})(\d{2})(\d{2})\d{3}(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86)?1[3-9]\d{9}(?!\d)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_BETWEEN_DIGITS = re.compile(r"(?<=\d)[\s\-‐-―−]+(?=\d)")
_SPACES = re.compile(r"\s+")


def _folded(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _resident_id(text: str) -> bool:
    for match in _ID18.finditer(text):
        try:
            validate_resident_id(match.group(1).upper())
        except InvalidIdentifier:
            continue
        return True
    for match in _ID15.finditer(text):
        _, yy, mm, dd = match.groups()
        try:
            date(1900 + int(yy), int(mm), int(dd))
        except ValueError:
            continue
        return True
    return False


def personal_data(text: str, names: Iterable[str]) -> str | None:
    """The kind of personal data ``text`` carries (RESIDENT_ID, MOBILE, EMAIL, PERSON_NAME), or
    None. ``names`` are the names no published text may hold: the people tied to the subject,
    and the subject's own name when it is a person (an individual business)."""
    folded = _folded(text)
    joined = _BETWEEN_DIGITS.sub("", folded)
    if _resident_id(folded) or _resident_id(joined):
        return "RESIDENT_ID"
    if _MOBILE.search(joined):
        return "MOBILE"
    if _EMAIL.search(folded):
        return "EMAIL"
    compact = _SPACES.sub("", folded)
    for name in names:
        wanted = _SPACES.sub("", _folded(name))
        if len(wanted) >= 2 and wanted in compact:
            return "PERSON_NAME"
    return None
