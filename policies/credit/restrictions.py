"""Record restrictions (restrictions.yaml): which published records bar what, for how long.

Pure and validated at load: an unknown measure, item or tier, or a period that is neither the
publication period nor a whole number of months, stops the start with the entry named.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from policies.credit.catalogue import add_months, default_catalogue
from policies.credit.measures import default_measures
from policies.loader import POLICY_DIR, Document, PolicyError, Shape, load, parse
from policies.values import whole

RESTRICTIONS_FILE = POLICY_DIR / "restrictions.yaml"
SHAPE = Shape({"restrictions"})
_KEYS = {"name", "items", "tiers", "until"}


@dataclass(frozen=True, slots=True)
class Restriction:
    code: str  # a measure of measures.yaml
    name: str
    items: frozenset[str]
    tiers: frozenset[str] | None  # None: every tier of the items
    months: int | None  # None: the record's publication period

    def applies(self, item: str, tier: str | None) -> bool:
        return item in self.items and (self.tiers is None or tier in self.tiers)

    def until(self, decided: date, publish_until: date | None) -> date | None:
        """The last day it holds: the publication's end, or ``months`` from the decision if
        that comes first."""
        if self.months is None:
            return publish_until
        end = add_months(decided, self.months)
        return min(end, publish_until) if publish_until else end


def _restriction(code: str, raw: Any, measures: set[str]) -> Restriction:
    where = f"restrictions.{code}"
    if code not in measures:
        raise PolicyError(f"{where}: not a measure of measures.yaml")
    if not isinstance(raw, dict) or not {"name", "items", "until"} <= set(raw) <= _KEYS:
        raise PolicyError(f"{where}: expected name, items, until (and tiers)")
    if not isinstance(raw["name"], str) or not raw["name"]:
        raise PolicyError(f"{where}.name: a name is required")
    catalogue = default_catalogue()
    items = raw["items"]
    if not isinstance(items, list) or not items:
        raise PolicyError(f"{where}.items: a list of catalogue items")
    for item in items:
        if item not in catalogue or not catalogue[item].tiers:
            raise PolicyError(f"{where}.items: {item!r} is not a dishonest item")
    tiers = raw.get("tiers")
    if tiers is not None:
        known = {t for i in items for t in catalogue[i].tiers}
        if not isinstance(tiers, list) or not tiers or not set(tiers) <= known:
            raise PolicyError(f"{where}.tiers: some of {sorted(known)}")
    until = raw["until"]
    months = None
    if isinstance(until, dict) and set(until) == {"months"}:
        months = whole(until["months"], f"{where}.until.months", 1, 36)
    elif until != "publication":
        raise PolicyError(f"{where}.until: `publication` or `months: N`")
    return Restriction(
        code, raw["name"], frozenset(items), frozenset(tiers) if tiers else None, months
    )


def _restrictions(raw: Document) -> dict[str, Restriction]:
    entries = raw["restrictions"] or {}
    if not isinstance(entries, dict):
        raise PolicyError("restrictions maps measure codes to entries")
    known = set(default_measures().measures)
    return {code: _restriction(code, entry, known) for code, entry in entries.items()}


def parse_restrictions(text: str, source: str = "restrictions.yaml") -> dict[str, Restriction]:
    return parse(text, source, SHAPE, _restrictions)


@cache
def default_restrictions() -> dict[str, Restriction]:
    return load(RESTRICTIONS_FILE, SHAPE, _restrictions)


def restrictions_for(item: str, tier: str | None) -> list[Restriction]:
    return [r for r in default_restrictions().values() if r.applies(item, tier)]
