"""What every resolver shares: the request context, the resolver skeleton, the root-field policy,
field guards, page sizes, credit-code and cursor parsing, and the audit note of what an answer
released."""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, ParamSpec, TypeVar

import strawberry
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionSetNode,
)
from strawberry.permission import BasePermission

from graph.audit_chain import Decision
from graph.db import Store
from graph.identifiers import InvalidIdentifier, validate_uscc
from hub.audit_log import AuditLog
from hub.errors import Code, HubError, backing_services
from hub.keys import pii_secret
from hub.settings import get_settings
from policies.access import AccessPolicy, ReadScope
from policies.divisions import find_division, jurisdiction_prefix
from policies.limits import default_limits
from policies.principal import Principal

T = TypeVar("T")
P = ParamSpec("P")


@dataclass(frozen=True, slots=True)
class Audited:
    field: str
    subject: str | None
    released: tuple[str, ...]
    decision: Decision = "ALLOW"
    action: Literal["read", "write"] = "read"  # a write names its step in ``field``


@dataclass(slots=True)
class Context:
    principal: Principal
    request_id: str
    access: ReadScope  # what the principal may read (policies/access.py)
    policy: AccessPolicy
    redacted: list[str]  # paths of selected fields withheld from this caller
    store: Store  # the graph as this request reaches it: database, time limit, cache generation
    audit_log: AuditLog | None = None
    redis: Any = None  # the rate store, for fields with limits of their own (complaints)
    audited: list[Audited] = field(default_factory=list)  # what resolvers released or refused
    called: list[str] = field(default_factory=list)  # root fields let through by RootPolicy

    def unaudited(self) -> list[Audited]:
        """An entry for every root field that ran without naming what it released (one that
        failed, or a new field that forgot): no call leaves without a trace."""
        named = {a.field for a in self.audited}
        return [Audited(f, None, ()) for f in dict.fromkeys(self.called) if f not in named]

    @property
    def scope(self) -> dict[str, Any]:
        """The read scope as Cypher parameters."""
        return self.access.params()


def ctx(info: strawberry.Info) -> Context:
    context: Context = info.context
    return context


def resolver(body: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """A resolver that reads or writes the graph: an outage or an overlong query anywhere in its
    body answers as a coded error (UNAVAILABLE, LIMIT_EXCEEDED), never as a crash."""

    @functools.wraps(body)
    async def run(*args: P.args, **kwargs: P.kwargs) -> T:
        with backing_services():
            return await body(*args, **kwargs)

    return run


def audit(
    info: strawberry.Info,
    subject: str | None,
    items: Iterable[str],
    decision: Decision = "ALLOW",
    action: Literal["read", "write"] = "read",
) -> None:
    """Note for the audit what this root field handed out (or refused), under its own name."""
    named = tuple(map(audit_name, items))
    ctx(info).audited.append(Audited(info.field_name, subject, named, decision, action))


CONTACTS = ("Phone:", "Address:", "Email:")  # ``Kind:key`` ids whose key is the value itself


def audit_name(item: str) -> str:
    """How the audit names a released item: as it is, but a phone, address or e-mail by a
    keyed hash of its value. The entry still says exactly what was released to whoever holds
    the value, and shows it to no reader of the trail (an admin may read the trail without
    the clearance contacts need: the trail is a read too)."""
    if not item.startswith(CONTACTS):
        return item
    kind, _, value = item.partition(":")
    return f"{kind}:{hmac.new(_pii_key(), value.encode(), hashlib.sha256).hexdigest()[:16]}"


@functools.cache
def _pii_key() -> bytes:
    return pii_secret(get_settings().keys_dir)


Selected = dict[str, "Selected"]  # field name -> what is selected under it

_SELECTIONS: dict[int, tuple[FieldNode, Selected]] = {}  # by the resolver's field node
# Twice the documents ParserCache keeps parsed (128): an entry holds its document's nodes, and
# past that many, entries are mostly of documents parsed again since.
_MOST = 256


def selection(info: strawberry.Info) -> Selected:
    """What the query selects under the resolver's field, by name (aliases, fragments and
    repeats merged; ``@skip``/``@include`` not applied, so at most more is read).

    Worked out once per field of a parsed document: documents are parsed once (ParserCache),
    so the same field node comes back; Strawberry's ``selected_fields``, built again on every
    request, was 7% of a computed lookup's instructions. The entry holds its node, so its
    ``id`` is not reused while it is kept. Read the tree, do not change it."""
    raw = info._raw_info  # Strawberry's Info exposes no public way to the field nodes
    node = raw.field_nodes[0]
    kept = _SELECTIONS.get(id(node))
    if kept is not None and kept[0] is node:
        return kept[1]
    tree: Selected = {}
    for field_node in raw.field_nodes:
        _merge(field_node.selection_set, raw.fragments, tree)
    if len(_SELECTIONS) >= _MOST:  # documents come and go: start afresh rather than grow
        _SELECTIONS.clear()
    _SELECTIONS[id(node)] = (node, tree)
    return tree


def _merge(
    selections: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    into: Selected,
) -> None:
    for node in selections.selections if selections is not None else ():
        if isinstance(node, FieldNode):
            _merge(node.selection_set, fragments, into.setdefault(node.name.value, {}))
        elif isinstance(node, InlineFragmentNode):
            _merge(node.selection_set, fragments, into)
        elif isinstance(node, FragmentSpreadNode) and node.name.value in fragments:
            _merge(fragments[node.name.value].selection_set, fragments, into)


def guard(
    info: strawberry.Info, readable: frozenset[str], type_name: str, field: str, value: T
) -> T | None:
    """A field above PUBLIC: its value when the row allows it, else null and a redaction note.

    The graph layer already left the value out when not allowed; this reports it."""
    context = ctx(info)
    if context.policy.field_class(type_name, field).name in readable:
        return value
    context.redacted.append(".".join(str(p) for p in info.path.as_list()))
    return None


class RootPolicy(BasePermission):
    """Deny by default: a root field answers only the roles access.yaml lists for it."""

    message = "your role may not use this field"
    error_extensions = {"code": Code.FORBIDDEN.value}  # noqa: RUF012 - Strawberry's interface

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        context = ctx(info)
        allowed = context.policy.may_call(context.principal, info.field_name)
        if not allowed:
            context.audited.append(Audited(info.field_name, None, (), "DENY"))
        else:
            context.called.append(info.field_name)
        return allowed


def bounded(name: str, value: int, low: int, high: int) -> int:
    """A size or depth argument, or LIMIT_EXCEEDED naming its bounds (``max`` in extensions)."""
    if not low <= value <= high:
        raise HubError(Code.LIMIT_EXCEEDED, f"{name} must be {low}-{high}", max=high)
    return value


def page_size(first: int) -> int:
    """A page's ``first``: 1 up to the API's hard cap (``page_max`` in policies/limits.yaml)."""
    return bounded("first", first, 1, default_limits().page_max)


def division_prefix(code: str) -> str:
    """The code prefix a division argument selects (a banner, a league's banners, or all), or
    BAD_USER_INPUT for a code GB/T 2260 does not know."""
    if find_division(code) is None:
        raise HubError(Code.BAD_USER_INPUT, f"unknown division code {code!r}")
    return jurisdiction_prefix(code)


def to_date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def to_datetime(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def parse_code(text: str) -> str:
    """The normalised code, or INVALID_CREDIT_CODE saying which rule it breaks."""
    try:
        return validate_uscc(text)
    except InvalidIdentifier as exc:
        raise HubError(Code.INVALID_CREDIT_CODE, str(exc), reason=exc.reason) from None


def encode_cursor(key: str, prefix: str = "s1:") -> str:
    """An opaque cursor: the key under its kind's prefix (s1: subjects, f1: the feed, ...)."""
    return base64.urlsafe_b64encode((prefix + key).encode()).decode().rstrip("=")


def foreign_cursor() -> HubError:
    """The answer to a cursor this API did not issue (or issued for another list)."""
    return HubError(Code.BAD_USER_INPUT, "the cursor is not one this API issued")


def decode_cursor(cursor: str, prefix: str = "s1:") -> str:
    """The key a cursor of this kind carries, or BAD_USER_INPUT for any other text."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    if not raw.startswith(prefix):
        raise foreign_cursor()
    return raw[len(prefix) :]


def decode_number_cursor(cursor: str, prefix: str) -> int:
    """The number a cursor of this kind carries (a feed version, an outbox position)."""
    try:
        return int(decode_cursor(cursor, prefix))
    except ValueError:
        raise foreign_cursor() from None


def decode_day_cursor(cursor: str | None, prefix: str) -> tuple[date, str]:
    """The (day, id) a cursor of this kind carries (lists ordered by a date, then an id);
    before everything when there is none."""
    if not cursor:
        return date(1970, 1, 1), ""
    day, _, key = decode_cursor(cursor, prefix).partition("|")
    try:
        return date.fromisoformat(day), key
    except ValueError:
        raise foreign_cursor() from None
