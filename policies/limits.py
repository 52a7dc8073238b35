"""Request limits (limits.yaml): depth, aliases, tokens, directives, cost and rate, per role."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from .principal import ROLES, Principal

LIMITS_FILE = Path(__file__).with_name("limits.yaml")
_KEYS = {
    "version",
    "depth",
    "aliases",
    "tokens",
    "directives",
    "introspection_roles",
    "cost",
    "rate",
    "trusted_documents_only",
}


class LimitsError(ValueError):
    """The limits file is wrong; the message names the entry."""


@dataclass(frozen=True, slots=True)
class Limits:
    depth_default: int
    depth: dict[str, int]
    aliases: int
    tokens: int
    directives: int
    introspection_roles: frozenset[str]
    page_default: int
    list_size: int
    budget: dict[str, int]
    rate_window: int
    rate_units: dict[str, int]
    trusted_only: frozenset[str]

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


def _positive(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise LimitsError(f"{where}: must be a positive whole number")
    return value


def _roles(value: Any, where: str) -> frozenset[str]:
    if not isinstance(value, list) or not set(value) <= ROLES:
        raise LimitsError(f"{where}: must list known roles ({', '.join(sorted(ROLES))})")
    return frozenset(value)


def _per_role(value: Any, where: str, *, complete: bool) -> dict[str, int]:
    if not isinstance(value, dict) or not set(value) <= ROLES | {"default"}:
        raise LimitsError(f"{where}: keys must be roles")
    if complete and set(value) != ROLES:
        raise LimitsError(f"{where}: give a value for every role")
    return {k: _positive(v, f"{where}.{k}") for k, v in value.items()}


def parse_limits(text: str, source: str = "limits.yaml") -> Limits:
    raw = yaml.safe_load(text)
    if not isinstance(raw, dict) or raw.get("version") != 1 or set(raw) - _KEYS:
        raise LimitsError(f"{source}: expected version: 1 and keys among {sorted(_KEYS)}")
    try:
        depth = _per_role(raw["depth"], "depth", complete=False)
        cost, rate = raw["cost"], raw["rate"]
        return Limits(
            depth_default=depth.pop("default"),
            depth=depth,
            aliases=_positive(raw["aliases"], "aliases"),
            tokens=_positive(raw["tokens"], "tokens"),
            directives=_positive(raw["directives"], "directives"),
            introspection_roles=_roles(raw["introspection_roles"], "introspection_roles"),
            page_default=_positive(cost["page_default"], "cost.page_default"),
            list_size=_positive(cost["list_size"], "cost.list_size"),
            budget=_per_role(cost["budget"], "cost.budget", complete=True),
            rate_window=_positive(rate["window_seconds"], "rate.window_seconds"),
            rate_units=_per_role(rate["units"], "rate.units", complete=True),
            trusted_only=_roles(raw.get("trusted_documents_only", []), "trusted_documents_only"),
        )
    except (KeyError, TypeError) as exc:
        raise LimitsError(f"{source}: missing or malformed entry {exc}") from None


@cache
def default_limits() -> Limits:
    return parse_limits(LIMITS_FILE.read_text(encoding="utf-8"), str(LIMITS_FILE))
