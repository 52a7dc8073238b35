"""Who a joint-sanction recommendation may be printed for, and whom it is addressed to
(letters.yaml): pure and validated at load, against the listings and the partner kinds."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from policies.credit.listings import LISTINGS
from policies.loader import POLICY_DIR, Document, PolicyError, Shape, load

LETTERS_FILE = POLICY_DIR / "letters.yaml"
SHAPE = Shape({"listings", "addressees", "everyone"})


@dataclass(frozen=True, slots=True)
class Letters:
    listings: frozenset[str]  # listings a letter may be printed for
    addressees: dict[str, str]  # partner kind → the generic addressee
    everyone: str  # the addressee of a letter to all kinds

    def addressee(self, kind: str | None) -> str:
        return self.addressees[kind] if kind else self.everyone


def _letters(raw: Document, kinds: Iterable[str]) -> Letters:
    listings = raw["listings"]
    if not isinstance(listings, list) or not listings or not set(listings) <= set(LISTINGS):
        raise PolicyError(f"listings are some of {', '.join(LISTINGS)}")
    addressees = raw["addressees"]
    wanted = set(kinds)
    if not isinstance(addressees, dict) or set(addressees) != wanted:
        raise PolicyError(f"addressees has one entry per partner kind: {', '.join(sorted(wanted))}")
    for kind, name in [*addressees.items(), ("everyone", raw["everyone"])]:
        if not isinstance(name, str) or not 2 <= len(name.strip()) <= 60:
            raise PolicyError(f"addressees.{kind}: a name of 2-60 characters")
    return Letters(
        frozenset(listings),
        {str(k): v.strip() for k, v in addressees.items()},
        raw["everyone"].strip(),
    )


@cache
def default_letters(kinds: tuple[str, ...]) -> Letters:
    return load(LETTERS_FILE, SHAPE, lambda raw: _letters(raw, kinds))
