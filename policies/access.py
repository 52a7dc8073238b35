"""Who may see what: the access policy (access.yaml) and what it means for one principal.

The policy is data, validated when it is loaded: an unknown role, class, type or field is an
error, never a silent allow. :func:`read_scope` turns a principal into the few values the graph
layer compiles into every Cypher ``WHERE``, so rows a caller may not see never leave Neo4j.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from policies.divisions import REGION_CODE, jurisdiction_prefix
from policies.loader import POLICY_DIR, Document, PolicyError, Shape, load, parse
from policies.principal import ROLES, Clearance, Principal
from policies.units import units_by_code

POLICY_FILE = POLICY_DIR / "access.yaml"
SHAPE = Shape({"roles", "confidential_purpose"}, {"root_fields", "fields"})
_ROLE_KEYS = {"max_clearance", "department", "everywhere", "pending", "page_max"}
_PENDING = {None, "own", "jurisdiction"}


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


def _policy(raw: Document) -> AccessPolicy:
    roles = {name: _role(name, value) for name, value in (raw.get("roles") or {}).items()}
    if set(roles) != ROLES:
        raise PolicyError(f"roles must define exactly {sorted(ROLES)}")
    try:
        purpose = re.compile(str(raw["confidential_purpose"]))
    except re.error as exc:
        raise PolicyError(f"confidential_purpose: {exc}") from None
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


def parse_policy(text: str, source: str = "access.yaml") -> AccessPolicy:
    """Validate a policy document; raise :class:`PolicyError` naming what is wrong."""
    return parse(text, source, SHAPE, _policy)


@cache
def default_policy() -> AccessPolicy:
    return load(POLICY_FILE, SHAPE, _policy)


@dataclass(frozen=True, slots=True)
class ReadScope:
    """What one principal may read, as Cypher parameters and as the same rule in Python.

    A row with class ``c`` of a subject in division ``d`` owned by agency ``a`` is readable when
    ``c in anywhere`` or (``c in local`` and ``d`` starts with ``prefix``) or (``c in owned`` and
    ``a == agency``). Pending rows additionally need ``pending_own`` (and ``a == agency``) or
    ``pending_local`` (and ``d`` in the jurisdiction). Contact values (phones, addresses,
    e-mails) shared between subjects belong to no one division: they are read only where their
    class (``contacts``, the class of ``Subject.contacts``) is readable anywhere.

    This class and the ``cypher_*`` functions below are the only statement of the rule: the
    graph layer compiles the functions into every ``WHERE``, resolvers and derived values call
    the methods, and a test holds the two to the same answers on a real Neo4j.
    """

    anywhere: tuple[str, ...]
    local: tuple[str, ...]
    owned: tuple[str, ...]
    prefix: str
    agency: str
    pending_own: bool
    pending_local: bool
    contacts: str = Clearance.RESTRICTED.name

    def params(self) -> dict[str, Any]:
        return {
            "anywhere": list(self.anywhere),
            "local": list(self.local),
            "owned": list(self.owned),
            "prefix": self.prefix,
            "agency": self.agency,
            "pendingOwn": self.pending_own,
            "pendingLocal": self.pending_local,
            "contacts": self.contacts,
        }

    def readable(self, clearance: Clearance | str, division: str | None, owner: str | None) -> bool:
        """Whether a row of this class, subject division and owner may be read; a row of no
        division (a licence, a sanction met on a traversal) is never read by jurisdiction."""
        name = clearance.name if isinstance(clearance, Clearance) else clearance
        return (
            name in self.anywhere
            or (name in self.local and division is not None and division.startswith(self.prefix))
            or (name in self.owned and owner == self.agency)
        )

    def pending_readable(self, division: str, owner: str | None) -> bool:
        """Whether an unreviewed (pending or returned) row may be read, besides its class."""
        return (self.pending_own and owner == self.agency) or (
            self.pending_local and division.startswith(self.prefix)
        )

    def classes(self, division: str, owner: str | None) -> tuple[str, ...]:
        """The classes readable on a subject row: decides the fields above PUBLIC."""
        return tuple(c.name for c in Clearance if self.readable(c, division, owner))


def cypher_readable(row: str, division: str | None, owner: str) -> str:
    """:meth:`ReadScope.readable` as a Cypher predicate over :meth:`ReadScope.params`, for the
    row variable ``row`` whose subject division and owner are the expressions given."""
    local = (
        f" OR ({row}.disclosure IN $local AND {division} STARTS WITH $prefix)" if division else ""
    )
    owned = f"({row}.disclosure IN $owned AND {owner} = $agency)"
    return f"({row}.disclosure IN $anywhere{local} OR {owned})"


def cypher_pending(division: str, owner: str) -> str:
    """:meth:`ReadScope.pending_readable` as a Cypher predicate."""
    return (
        f"(($pendingOwn AND {owner} = $agency)"
        f" OR ($pendingLocal AND {division} STARTS WITH $prefix))"
    )


def cypher_classes(division: str, owner: str) -> str:
    """:meth:`ReadScope.classes` as a Cypher list expression."""
    names = [c.name for c in Clearance]
    return (
        f"[c IN {names!r} WHERE c IN $anywhere"
        f" OR (c IN $local AND {division} STARTS WITH $prefix)"
        f" OR (c IN $owned AND {owner} = $agency)]"
    )


def cypher_node(n: str) -> str:
    """The rule for a node met on a traversal: a subject by its own row rule, a contact value
    by the contacts class, a sanction, licence or project by its class anywhere or as its
    owner's (such rows have no division of their own); people and other nodes carry only
    public fields and pass."""
    return (
        f"(CASE WHEN {n}:Subject THEN {cypher_readable(n, f'{n}.division', f'{n}.sourceAgency')}"
        f" WHEN {n}:Phone OR {n}:Address OR {n}:Email THEN $contacts IN $anywhere"
        f" WHEN {n}:Sanction THEN {cypher_readable(n, None, f'{n}.authority')}"
        f" WHEN {n}:Licence OR {n}:Project THEN {cypher_readable(n, None, f'{n}.sourceAgency')}"
        " ELSE true END)"
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
        contacts=policy.field_class("Subject", "contacts").name,
    )


def unit_scope(agency: str) -> ReadScope:
    """What a unit's own submitter reads: the view a background import of that unit's file
    answers with, since no caller waits on it (an unknown unit reads only PUBLIC rows)."""
    unit = units_by_code().get(agency)
    principal = Principal(
        subject=f"{agency}:import",
        issuer="hub",
        agency=agency,
        level=unit.level.value if unit else "PARTNER",
        division=unit.division if unit else REGION_CODE,
        roles=frozenset({"submitter"} if unit else {"partner"}),
        clearance=Clearance.RESTRICTED if unit else Clearance.PUBLIC,
    )
    return read_scope(principal)


def own_archive_scope() -> ReadScope:
    """What a signed-in subject reads of its own archive: every class, unreviewed rows too.

    Only for reads anchored on :meth:`Principal.own_code` (root fields that take no code
    argument), so it never reaches another subject's rows."""
    every = tuple(c.name for c in Clearance)
    return ReadScope(
        anywhere=every,
        local=(),
        owned=(),
        prefix="",  # every division starts with "": the pending rule holds for its own rows
        agency="",
        pending_own=False,
        pending_local=True,
        contacts=Clearance.PUBLIC.name,
    )
