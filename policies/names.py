"""Chinese names for search: normalised text, pinyin and initials (pypinyin).

Investigators type a company without its legal form (恒泰矿业 for 乌兰浩特市恒泰矿业有限公司),
with full-width characters, or in pinyin (hengtai, htky); all three are stored beside the name
so the search can use indexes instead of scanning.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from pypinyin import lazy_pinyin

# Company-form suffixes, longest first, removed from the end of a name.
COMPANY_FORMS = (
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "集团公司",
    "分公司",
    "合作社",
    "公司",
    "集团",
    "厂",
)
_NOISE = re.compile(r"[\s·•・.,，。()（）\[\]【】\-_/]+")
_LATIN = re.compile(r"^[a-z]+$")


def normalise(text: str) -> str:
    """NFKC (full-width → half-width), lower case, no spaces or punctuation, no legal form."""
    value = _NOISE.sub("", unicodedata.normalize("NFKC", text)).lower()
    for form in COMPANY_FORMS:
        if value.endswith(form) and len(value) > len(form):
            return value[: -len(form)]
    return value


@dataclass(frozen=True, slots=True)
class NameKeys:
    normalised: str
    pinyin: str  # hengtaikuangye
    initials: str  # htky


def name_keys(name: str) -> NameKeys:
    """One pinyin conversion gives both keys: pypinyin's first-letter style is the first letter
    of its plain style, syllable for syllable (half the cost of a seed's names)."""
    core = normalise(name)
    syllables = [s for s in lazy_pinyin(core, errors="ignore") if s]
    initials = "".join(s[0] for s in syllables)
    return NameKeys(core, "".join(syllables).lower(), initials.lower())


def is_pinyin(text: str) -> bool:
    """Latin letters only, after normalising: search the pinyin keys."""
    return bool(_LATIN.match(_NOISE.sub("", unicodedata.normalize("NFKC", text)).lower()))
