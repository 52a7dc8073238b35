"""Who may see what: the access policy (access.yaml) and what it means for one principal.

The policy is data, validated when it is loaded: an unknown role, class, type or field is an
error, never a silent allow. :func:`read_scope` turns a principal into the few values the graph
layer compiles into every Cypher ``WHERE``, so rows a caller may not see never leave Neo4j.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from .divisions import REGION_CODE, jurisdiction_prefix
from .principal import ROLES, Clearance, Principal

POLICY_FILE = Path(__file__).with_name("access.yaml")
_ROLE_KEYS = {"max_clearance", "department", "everywhere", "pending", "page_max"}
_PENDING = {None, "own", "jurisdiction"}


class PolicyError(ValueError):
    """The policy file is wrong; the message names the entry."""


@dataclass(frozen=True, slots=True)
class RolePolicy:
    name: str
    max_clearance: Clearance
    department: bool
    everywhere: bool
    pending: str | None
    page_max: int


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    roles: dict[str, RolePolicy]
    confidential_purpose: re.Pattern[str]
    root_fields: dict[str, frozenset[str]]
    fields: dict[str, dict[str, Clearance]]

    def field_class(self, type_name: str, field: str) -> Clearance:
        return self.fields[type_name][field]

    def may_call(self, principal: Principal, root_field: str) -> bool:
        allowed = self.root_fields.get(root_field, frozenset())
        return bool(allowed & principal.roles)

    def page_max(self, principal: Principal) -> int:
        return max((self.roles[r].page_max for r in principal.roles), default=0)


def _clearance(value: Any, where: str) -> Clearance:
    if value not in Clearance.__members__:
        raise PolicyError(f"{where}: {value!r} is not a disclosure class")
    return Clearance[value]


def _role(name: str, raw: Any) -> RolePolicy:
    if name not in ROLES:
        raise PolicyError(f"roles.{name}: unknown role (known: {', '.join(sorted(ROLES))})")
    if not isinstance(raw, dict) or set(raw) - _ROLE_KEYS:
        raise PolicyError(f"roles.{name}: expected keys among {', '.join(sorted(_ROLE_KEYS))}")
    pending = raw.get("pending")
    if pending not in _PENDING:
        raise PolicyError(f"roles.{name}.pending: must be own or jurisdiction")
    page_max = raw.get("page_max", 100)
    if not isinstance(page_max, int) or not 1 <= page_max <= 100:
        raise PolicyError(f"roles.{name}.page_max: must be 1-100 (the API's hard cap)")
    department = bool(raw.get("department", False))
    clearance = _clearance(raw.get("max_clearance"), f"roles.{name}.max_clearance")
    if not department and clearance > Clearance.SHARED:
        raise PolicyError(f"roles.{name}: a role outside the department stops at SHARED")
    return RolePolicy(
        name, clearance, department, bool(raw.get("everywhere", False)), pending, page_max
    )


def parse_policy(text: str, source: str = "access.yaml") -> AccessPolicy:
    """Validate a policy document; raise :class:`PolicyError` naming what is wrong."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict) or raw.get("version") != 1:
        raise PolicyError(f"{source}: expected a mapping with version: 1")
    unknown = set(raw) - {"version", "roles", "confidential_purpose", "root_fields", "fields"}
    if unknown:
        raise PolicyError(f"{source}: unknown keys {sorted(unknown)}")
    roles = {name: _role(name, value) for name, value in (raw.get("roles") or {}).items()}
    if set(roles) != ROLES:
        raise PolicyError(f"{source}: roles must define exactly {sorted(ROLES)}")
    try:
        purpose = re.compile(str(raw["confidential_purpose"]))
    except (KeyError, re.error) as exc:
        raise PolicyError(f"{source}: confidential_purpose: {exc}") from None
    root_fields: dict[str, frozenset[str]] = {}
    for field, allowed in (raw.get("root_fields") or {}).items():
        if not isinstance(allowed, list) or not set(allowed) <= ROLES:
            raise PolicyError(f"root_fields.{field}: must list known roles")
        root_fields[field] = frozenset(allowed)
    fields: dict[str, dict[str, Clearance]] = {}
    for type_name, entries in (raw.get("fields") or {}).items():
        if not isinstance(entries, dict):
            raise PolicyError(f"fields.{type_name}: must map field names to classes")
        fields[type_name] = {
            f: _clearance(c, f"fields.{type_name}.{f}") for f, c in entries.items()
        }
    return AccessPolicy(roles, purpose, root_fields, fields)


@cache
def default_policy() -> AccessPolicy:
    return parse_policy(POLICY_FILE.read_text(encoding="utf-8"), str(POLICY_FILE))


@dataclass(frozen=True, slots=True)
class ReadScope:
    """What one principal may read, as Cypher parameters.

    A row with class ``c`` of a subject in division ``d`` owned by agency ``a`` is readable when
    ``c in anywhere`` or (``c in local`` and ``d`` starts with ``prefix``) or (``c in owned`` and
    ``a == agency``). Pending rows additionally need ``pending_own`` (and ``a == agency``) or
    ``pending_local`` (and ``d`` in the jurisdiction).
    """

    anywhere: tuple[str, ...]
    local: tuple[str, ...]
    owned: tuple[str, ...]
    prefix: str
    agency: str
    pending_own: bool
    pending_local: bool

    def params(self) -> dict[str, Any]:
        return {
            "anywhere": list(self.anywhere),
            "local": list(self.local),
            "owned": list(self.owned),
            "prefix": self.prefix,
            "agency": self.agency,
            "pendingOwn": self.pending_own,
            "pendingLocal": self.pending_local,
        }

    def readable(self, clearance: Clearance, division: str, owner: str | None) -> bool:
        """The same rule in Python, for fields and for tests."""
        name = clearance.name
        return (
            name in self.anywhere
            or (name in self.local and division.startswith(self.prefix))
            or (name in self.owned and owner == self.agency)
        )


def _names(classes: set[Clearance]) -> tuple[str, ...]:
    return tuple(c.name for c in sorted(classes))


def read_scope(principal: Principal, policy: AccessPolicy | None = None) -> ReadScope:
    policy = policy or default_policy()
    roles = [policy.roles[r] for r in sorted(principal.roles) if r in policy.roles]
    ceiling = min(principal.clearance, max((r.max_clearance for r in roles), default=0))
    department = principal.level != "PARTNER" and any(r.department for r in roles)
    everywhere = department and any(r.everywhere for r in roles)
    purpose_ok = bool(principal.purpose and policy.confidential_purpose.match(principal.purpose))
    anywhere = {c for c in (Clearance.PUBLIC, Clearance.SHARED) if c <= ceiling}
    local: set[Clearance] = set()
    owned: set[Clearance] = set()
    if department and ceiling >= Clearance.RESTRICTED:
        (anywhere if everywhere else local).add(Clearance.RESTRICTED)
        owned.add(Clearance.RESTRICTED)
        if ceiling >= Clearance.CONFIDENTIAL and purpose_ok:
            (anywhere if everywhere else owned).add(Clearance.CONFIDENTIAL)
    division = principal.division if department else REGION_CODE
    return ReadScope(
        anywhere=_names(anywhere),
        local=_names(local),
        owned=_names(owned),
        prefix=jurisdiction_prefix(division) if department else "-",  # "-" starts no code
        agency=principal.agency,
        pending_own=department and any(r.pending == "own" for r in roles),
        pending_local=department and any(r.pending == "jurisdiction" for r in roles),
    )
