"""Who a joint-sanction recommendation may be printed for, and whom it is addressed to
(letters.yaml): pure and validated at load, against the listings and the partner kinds."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from policies.credit.listings import LISTINGS

LETTERS_FILE = Path(__file__).resolve().parent.parent / "letters.yaml"


class LettersConfigError(ValueError):
    """The letters file is wrong; the message names the entry."""


@dataclass(frozen=True, slots=True)
class Letters:
    listings: frozenset[str]  # listings a letter may be printed for
    addressees: dict[str, str]  # partner kind → the generic addressee
    everyone: str  # the addressee of a letter to all kinds

    def addressee(self, kind: str | None) -> str:
        return self.addressees[kind] if kind else self.everyone


def parse_letters(text: str, kinds: Iterable[str], source: str = "letters.yaml") -> Letters:
    """The letters file, checked: every listing known, one addressee per partner kind."""
    raw: Any = yaml.safe_load(text)
    keys = {"version", "listings", "addressees", "everyone"}
    if not isinstance(raw, dict) or raw.get("version") != 1 or set(raw) != keys:
        raise LettersConfigError(f"{source}: expected version: 1 and {sorted(keys - {'version'})}")
    listings = raw["listings"]
    if not isinstance(listings, list) or not listings or not set(listings) <= set(LISTINGS):
        raise LettersConfigError(f"{source}: listings are some of {', '.join(LISTINGS)}")
    addressees = raw["addressees"]
    wanted = set(kinds)
    if not isinstance(addressees, dict) or set(addressees) != wanted:
        raise LettersConfigError(
            f"{source}: addressees has one entry per partner kind: {', '.join(sorted(wanted))}"
        )
    for kind, name in [*addressees.items(), ("everyone", raw["everyone"])]:
        if not isinstance(name, str) or not 2 <= len(name.strip()) <= 60:
            raise LettersConfigError(f"{source}: addressees.{kind}: a name of 2-60 characters")
    return Letters(
        frozenset(listings),
        {str(k): v.strip() for k, v in addressees.items()},
        raw["everyone"].strip(),
    )


@cache
def default_letters(kinds: tuple[str, ...]) -> Letters:
    return parse_letters(LETTERS_FILE.read_text(encoding="utf-8"), kinds, str(LETTERS_FILE))
