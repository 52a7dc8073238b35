"""The credit-information catalogue (catalogue.yaml): items, categories, tiers and periods.

Submissions are checked against it: an unknown item, a tier the item does not have, or a
missing required field is refused with the reason. Loading validates the file itself: tiers
must stay inside the legal publication bounds, dishonest items need tiers, others none.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from policies.loader import POLICY_DIR, Document, PolicyError, Shape, load, parse
from policies.principal import Clearance

CATALOGUE_FILE = POLICY_DIR / "catalogue.yaml"
SHAPE = Shape({"items"})
CATEGORIES = ("BASIC", "TRUSTWORTHY", "DISHONEST")
# Publication bounds in months by tier (国办发〔2025〕22号): (lowest minimum, highest maximum).
TIER_BOUNDS = {"MINOR": (0, 3), "GENERAL": (3, 12), "SERIOUS": (12, 36)}
RECORD_FIELDS = frozenset({"title", "decidedOn", "document", "legalBasis"})
_ITEM_KEYS = {"name", "category", "disclosure", "requires", "tiers", "publish_within_working_days"}


@dataclass(frozen=True, slots=True)
class Period:
    min_months: int
    max_months: int


@dataclass(frozen=True, slots=True)
class Item:
    code: str
    name: str
    category: str
    disclosure: Clearance
    requires: frozenset[str]
    tiers: dict[str, Period]
    publish_within_working_days: int | None


def _period(code: str, tier: str, raw: Any) -> Period:
    if tier not in TIER_BOUNDS:
        raise PolicyError(f"items.{code}.tiers: unknown tier {tier!r}")
    if not isinstance(raw, dict) or set(raw) != {"min", "max"}:
        raise PolicyError(f"items.{code}.tiers.{tier}: give min and max in months")
    low, high = TIER_BOUNDS[tier]
    if not (isinstance(raw["min"], int) and isinstance(raw["max"], int)):
        raise PolicyError(f"items.{code}.tiers.{tier}: min and max are whole months")
    if not low <= raw["min"] <= raw["max"] <= high:
        raise PolicyError(
            f"items.{code}.tiers.{tier}: must satisfy {low} <= min <= max <= {high} months"
        )
    return Period(raw["min"], raw["max"])


def _item(code: str, raw: Any) -> Item:
    if not isinstance(raw, dict) or set(raw) - _ITEM_KEYS:
        raise PolicyError(f"items.{code}: expected keys among {sorted(_ITEM_KEYS)}")
    category = raw.get("category")
    if category not in CATEGORIES:
        raise PolicyError(f"items.{code}: category must be one of {CATEGORIES}")
    if raw.get("disclosure") not in Clearance.__members__:
        raise PolicyError(f"items.{code}: disclosure must be a disclosure class")
    requires = raw.get("requires") or []
    if not isinstance(requires, list) or not set(requires) <= RECORD_FIELDS:
        raise PolicyError(f"items.{code}: requires lists fields among {sorted(RECORD_FIELDS)}")
    tiers = {t: _period(code, t, p) for t, p in (raw.get("tiers") or {}).items()}
    if (category == "DISHONEST") != bool(tiers):
        raise PolicyError(f"items.{code}: dishonest items have tiers, other items none")
    within = raw.get("publish_within_working_days")
    if within is not None and (not isinstance(within, int) or within < 1):
        raise PolicyError(f"items.{code}: publish_within_working_days is a positive whole number")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise PolicyError(f"items.{code}: a name is required")
    return Item(
        code, name, category, Clearance[raw["disclosure"]], frozenset(requires), tiers, within
    )


def _catalogue(raw: Document) -> dict[str, Item]:
    if not isinstance(raw["items"], dict) or not raw["items"]:
        raise PolicyError("items must map codes to entries")
    return {code: _item(code, entry) for code, entry in raw["items"].items()}


def parse_catalogue(text: str, source: str = "catalogue.yaml") -> dict[str, Item]:
    return parse(text, source, SHAPE, _catalogue)


@cache
def default_catalogue() -> dict[str, Item]:
    return load(CATALOGUE_FILE, SHAPE, _catalogue)


def check_record(item_code: str, tier: str | None, present: set[str]) -> list[str]:
    """Why a record of this item cannot be accepted (empty when it can)."""
    item = default_catalogue().get(item_code)
    if item is None:
        return [f"unknown catalogue item {item_code!r}"]
    problems = [f"{item_code} requires {field}" for field in sorted(item.requires - present)]
    if item.tiers and tier not in item.tiers:
        problems.append(f"{item_code} takes a tier among {', '.join(item.tiers)}")
    if not item.tiers and tier is not None:
        problems.append(f"{item_code} is {item.category.lower()}: it has no tier")
    return problems


def add_months(day: date, months: int) -> date:
    """Same day ``months`` later, or the month's last day (2024-01-31 + 1 → 2024-02-29)."""
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


@dataclass(frozen=True, slots=True)
class Window:
    """When a published record stops being published, and from when it may be repaired."""

    until: date | None  # None: published while in force (basic and trustworthy items)
    repairable_from: date | None


def publication_window(item: Item, tier: str | None, decided_on: date) -> Window:
    """Periods count from the decision date (国办发〔2025〕22号)."""
    period = item.tiers.get(tier or "")
    if period is None:
        return Window(None, None)
    return Window(
        add_months(decided_on, period.max_months), add_months(decided_on, period.min_months)
    )
