"""Industry associations (associations.yaml): who they are, their trades, and the self-discipline
actions each may record, every one a catalogue item and tier; what a member's standing shows them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from policies.access import ReadScope
from policies.credit.catalogue import default_catalogue
from policies.loader import POLICY_DIR, Document, PolicyError, Shape, load, mapping, parse
from policies.principal import Clearance
from policies.values import nonempty_text

ASSOCIATIONS_FILE = POLICY_DIR / "associations.yaml"
SHAPE = Shape({"actions", "associations"})
# A token's `agency` (hub/http/auth/claims.py) and a partner's association: capitals, digits,
# hyphens; never a unit's NMG code nor a credit code, so the three kinds of caller never meet.
_CODE = re.compile(r"XH-[A-Z0-9]{2,20}")


@dataclass(frozen=True, slots=True)
class Action:
    code: str  # WARNING, CRITICISM, EXPULSION
    name: str
    item: str  # the catalogue item its record is filed under
    tier: str
    ends_membership: bool


@dataclass(frozen=True, slots=True)
class Association:
    code: str
    name: str
    trade: str
    charter: str  # the legal basis its actions' records cite
    items: frozenset[str]  # the catalogue items it may record


@dataclass(frozen=True, slots=True)
class Associations:
    actions: dict[str, Action]
    associations: dict[str, Association]

    def get(self, code: str) -> Association | None:
        return self.associations.get(code)


def _action(code: str, raw: Any) -> Action:
    where = f"actions.{code}"
    entry = mapping(raw, where, {"name", "item", "tier"}, {"ends_membership"})
    item = default_catalogue().get(entry["item"])
    if item is None:
        raise PolicyError(f"{where}.item: {entry['item']!r} is not in policies/catalogue.yaml")
    if entry["tier"] not in item.tiers:
        raise PolicyError(f"{where}.tier: {item.code} has tiers {', '.join(item.tiers)}")
    ends = entry.get("ends_membership", False)
    if not isinstance(ends, bool):
        raise PolicyError(f"{where}.ends_membership: true or false")
    return Action(
        code, nonempty_text(entry["name"], f"{where}.name"), item.code, entry["tier"], ends
    )


def _association(code: str, raw: Any, actions: dict[str, Action]) -> Association:
    where = f"associations.{code}"
    if not _CODE.fullmatch(code):
        raise PolicyError(f"{where}: a code is XH- and 2-20 capitals or digits")
    entry = mapping(raw, where, {"name", "trade", "charter", "items"})
    items = entry["items"]
    if not isinstance(items, list) or not items:
        raise PolicyError(f"{where}.items: a non-empty list of catalogue items")
    if unknown := sorted(set(items) - {a.item for a in actions.values()}):
        raise PolicyError(f"{where}.items: no action files {', '.join(unknown)}")
    return Association(
        code,
        nonempty_text(entry["name"], f"{where}.name").strip(),
        nonempty_text(entry["trade"], f"{where}.trade").strip(),
        nonempty_text(entry["charter"], f"{where}.charter").strip(),
        frozenset(items),
    )


def _associations(raw: Document) -> Associations:
    if not isinstance(raw["actions"], dict) or not raw["actions"]:
        raise PolicyError("actions must map action codes to entries")
    actions = {code: _action(code, entry) for code, entry in raw["actions"].items()}
    if not isinstance(raw["associations"], dict):
        raise PolicyError("associations must map codes to entries")
    found = {c: _association(c, e, actions) for c, e in raw["associations"].items()}
    return Associations(actions, found)


def parse_associations(text: str, source: str = "associations.yaml") -> Associations:
    return parse(text, source, SHAPE, _associations)


@cache
def default_associations() -> Associations:
    return load(ASSOCIATIONS_FILE, SHAPE, _associations)


def member_scope() -> ReadScope:
    """What an association reads of its own members: what a SHARED partner reads (published
    PUBLIC and SHARED rows, nothing pending, no contacts). Only for reads anchored on a
    current membership of the caller's association, so it never reaches anyone else."""
    shared = (Clearance.PUBLIC.name, Clearance.SHARED.name)
    return ReadScope(
        anywhere=shared,
        local=(),
        owned=(),
        prefix="-",  # starts no division code
        agency="",
        pending_own=False,
        pending_local=False,
    )
