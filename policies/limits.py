"""Request limits (limits.yaml): depth, aliases, tokens, directives, cost and rate, per role."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from policies.loader import POLICY_DIR, Document, PolicyError, Shape, load, parse
from policies.principal import ROLES, Principal

LIMITS_FILE = POLICY_DIR / "limits.yaml"
SHAPE = Shape(
    {
        "depth",
        "aliases",
        "tokens",
        "directives",
        "page_max",
        "introspection_roles",
        "cost",
        "rate",
    },
    {"trusted_documents_only", "cache"},
)

_COST_KEYS = {
    "page_default",
    "list_size",
    "list_sizes",
    "list_lengths",
    "fields",
    "refusal",
    "budget",
}
_FIELD = re.compile(r"^[A-Z][A-Za-z0-9]*\.[a-z][A-Za-z0-9]*$")  # Type.field, as in the schema
_NAME = re.compile(r"^[a-z][A-Za-z0-9]*$")


@dataclass(frozen=True, slots=True)
class ArgumentPrice:
    """How one argument of an expensive field scales its price: ``per`` units for each unit of
    the value, and the whole price times ``growth`` for each unit above 1 (a variable-length
    path grows about geometrically with its depth). A value that cannot be read, or one past
    ``max`` (which the field refuses), is charged as ``max``."""

    max: int
    per: int
    growth: float


@dataclass(frozen=True, slots=True)
class FieldPrice:
    """What a field costs on top of what it returns, because of the Neo4j work behind it;
    ``lists`` sizes the lists it returns by one of its arguments (Network.nodes by ``limit``)."""

    base: int
    arguments: dict[str, ArgumentPrice]
    lists: dict[str, str]
    scopes: dict[str, dict[str, float]]  # argument → value → factor (mostExposed's region)

    def units(self, values: dict[str, int], scopes: dict[str, object]) -> int:
        """The price for these argument values (each already resolved and capped at ``max``)
        and these scope arguments' values; a scope value not in the table counts 1, an unread
        one (None) the table's largest factor."""
        linear = self.base + sum(a.per * values[n] for n, a in self.arguments.items())
        factor = math.prod(a.growth ** (values[n] - 1) for n, a in self.arguments.items())
        for name, table in self.scopes.items():
            given = scopes.get(name)
            factor *= max(table.values()) if given is None else table.get(str(given), 1.0)
        return math.ceil(linear * factor)


@dataclass(frozen=True, slots=True)
class AnswerCache:
    """Which root fields' answers the API keeps in Redis, and how many answers at most
    (hub/http/response_cache.py): only fields whose answer is a function of the document, its
    variables, the caller's read scope and the day."""

    fields: frozenset[str]
    entries: int  # of one generation, at most
    megabytes: int  # the answers' bytes kept of one generation, at most


@dataclass(frozen=True, slots=True)
class Limits:
    depth_default: int
    depth: dict[str, int]
    aliases: int
    tokens: int
    directives: int
    introspection_roles: frozenset[str]
    page_max: int  # the API's hard cap on a page
    page_default: int
    list_size: int
    list_sizes: dict[str, int]  # Type.field → most items of that list
    list_lengths: dict[str, str]  # Type.field → the list argument whose length sizes its answer
    prices: dict[str, FieldPrice]  # Type.field → the price of its work
    refusal: int  # units a refused document costs the client's rate window
    budget: dict[str, int]
    rate_window: int
    rate_units: dict[str, int]
    trusted_only: frozenset[str]
    cache: AnswerCache

    def max_depth(self, principal: Principal) -> int:
        return max(
            (self.depth.get(r, self.depth_default) for r in principal.roles),
            default=self.depth_default,
        )

    def max_cost(self, principal: Principal) -> int:
        return max((self.budget[r] for r in principal.roles), default=0)

    def rate_limit(self, principal: Principal) -> int:
        return max((self.rate_units[r] for r in principal.roles), default=0)

    def may_introspect(self, principal: Principal) -> bool:
        return bool(self.introspection_roles & principal.roles)

    def trusted_documents_only(self, principal: Principal) -> bool:
        """Only when every role of the caller is restricted; one free role frees the caller."""
        return bool(principal.roles) and principal.roles <= self.trusted_only


def _answer_cache(value: Any, where: str) -> AnswerCache:
    if not isinstance(value, dict) or set(value) != {"fields", "entries", "megabytes"}:
        raise PolicyError(f"{where} has exactly the keys fields, entries and megabytes")
    fields = value["fields"]
    if not isinstance(fields, list) or not all(
        isinstance(f, str) and f.isidentifier() for f in fields
    ):
        raise PolicyError(f"{where}.fields is a list of root field names")
    return AnswerCache(
        frozenset(fields),
        _positive(value["entries"], f"{where}.entries"),
        _positive(value["megabytes"], f"{where}.megabytes"),
    )


def _positive(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise PolicyError(f"{where}: must be a positive whole number")
    return value


def _roles(value: Any, where: str) -> frozenset[str]:
    if not isinstance(value, list) or not set(value) <= ROLES:
        raise PolicyError(f"{where}: must list known roles ({', '.join(sorted(ROLES))})")
    return frozenset(value)


def _per_role(value: Any, where: str, *, complete: bool) -> dict[str, int]:
    if not isinstance(value, dict) or not set(value) <= ROLES | {"default"}:
        raise PolicyError(f"{where}: keys must be roles")
    if complete and set(value) != ROLES:
        raise PolicyError(f"{where}: give a value for every role")
    return {k: _positive(v, f"{where}.{k}") for k, v in value.items()}


def _by_field(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and _FIELD.match(k) for k in value
    ):
        raise PolicyError(f"{where}: keys are Type.field")
    return value


def _sizes(value: Any, where: str) -> dict[str, int]:
    value = _by_field(value, where)
    return {k: _positive(v, f"{where}.{k}") for k, v in value.items()}


def _lengths(value: Any, where: str) -> dict[str, str]:
    value = _by_field(value, where)
    if not all(isinstance(a, str) and _NAME.match(a) for a in value.values()):
        raise PolicyError(f"{where}: each list field names one of its arguments")
    return dict(value)


def _argument(value: Any, where: str) -> ArgumentPrice:
    if not isinstance(value, dict) or not {"max"} <= set(value) <= {"max", "per", "growth"}:
        raise PolicyError(f"{where}: give max, and per and/or growth")
    per = value.get("per", 0)
    if not isinstance(per, int) or isinstance(per, bool) or per < 0:
        raise PolicyError(f"{where}.per: a whole number, 0 or more")
    growth = value.get("growth", 1)
    if not isinstance(growth, int | float) or isinstance(growth, bool) or not 1 <= growth <= 10:
        raise PolicyError(f"{where}.growth: a number from 1 to 10")
    return ArgumentPrice(_positive(value["max"], f"{where}.max"), per, float(growth))


def _price(value: Any, where: str) -> FieldPrice:
    if not isinstance(value, dict) or not {"base"} <= set(value) <= {
        "base",
        "arguments",
        "lists",
        "scopes",
    }:
        raise PolicyError(f"{where}: give base, and arguments, lists and scopes if any")
    arguments = value.get("arguments", {})
    lists = value.get("lists", {})
    scopes = value.get("scopes", {})
    if not isinstance(scopes, dict) or not all(
        isinstance(n, str) and _NAME.match(n) and isinstance(t, dict) and t
        for n, t in scopes.items()
    ):
        raise PolicyError(f"{where}.scopes: argument names map values to factors")
    if not isinstance(arguments, dict) or not all(
        isinstance(n, str) and _NAME.match(n) for n in arguments
    ):
        raise PolicyError(f"{where}.arguments: argument names map to their prices")
    if not isinstance(lists, dict) or not all(
        isinstance(n, str) and _NAME.match(n) and a in arguments for n, a in lists.items()
    ):
        raise PolicyError(f"{where}.lists: list fields map to one of the priced arguments")
    return FieldPrice(
        _positive(value["base"], f"{where}.base"),
        {n: _argument(a, f"{where}.arguments.{n}") for n, a in arguments.items()},
        dict(lists),
        {
            n: {str(v): _factor(f, f"{where}.scopes.{n}.{v}") for v, f in t.items()}
            for n, t in scopes.items()
        },
    )


def _factor(value: Any, where: str) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or not 1 <= value <= 100:
        raise PolicyError(f"{where}: a number from 1 to 100")
    return float(value)


def _prices(value: Any, where: str) -> dict[str, FieldPrice]:
    value = _by_field(value, where)
    return {k: _price(v, f"{where}.{k}") for k, v in value.items()}


def _limits(raw: Document) -> Limits:
    depth = _per_role(raw["depth"], "depth", complete=False)
    cost, rate = raw["cost"], raw["rate"]
    if not isinstance(cost, dict) or set(cost) - _COST_KEYS:
        raise PolicyError(f"cost keys among {sorted(_COST_KEYS)}")
    return Limits(
        depth_default=depth.pop("default"),
        depth=depth,
        aliases=_positive(raw["aliases"], "aliases"),
        tokens=_positive(raw["tokens"], "tokens"),
        directives=_positive(raw["directives"], "directives"),
        introspection_roles=_roles(raw["introspection_roles"], "introspection_roles"),
        page_max=_positive(raw["page_max"], "page_max"),
        page_default=_positive(cost["page_default"], "cost.page_default"),
        list_size=_positive(cost["list_size"], "cost.list_size"),
        list_sizes=_sizes(cost.get("list_sizes", {}), "cost.list_sizes"),
        list_lengths=_lengths(cost.get("list_lengths", {}), "cost.list_lengths"),
        prices=_prices(cost.get("fields", {}), "cost.fields"),
        refusal=_positive(cost["refusal"], "cost.refusal"),
        budget=_per_role(cost["budget"], "cost.budget", complete=True),
        rate_window=_positive(rate["window_seconds"], "rate.window_seconds"),
        rate_units=_per_role(rate["units"], "rate.units", complete=True),
        trusted_only=_roles(raw.get("trusted_documents_only", []), "trusted_documents_only"),
        cache=_answer_cache(
            raw.get("cache", {"fields": [], "entries": 1, "megabytes": 1}), "cache"
        ),
    )


def parse_limits(text: str, source: str = "limits.yaml") -> Limits:
    return parse(text, source, SHAPE, _limits)


def load_limits(path: Path = LIMITS_FILE) -> Limits:
    """The limits in ``path``: the shipped file, or the one ``HUB_LIMITS_FILE`` names."""
    return load(path, SHAPE, _limits)


@cache
def default_limits() -> Limits:
    return load_limits()
