"""The partners registry: who receives sanctions, where, signed how, and how much they may see.

A partner's ``code`` is the ``agency`` claim of its tokens, so the registry also tells the feed
what a polling partner may read. Signing keys are made by the caller (connectors/signing.py) and
shown once; the registry keeps what the hub needs to sign and what the partner verifies with
(policies/measures.yaml lists the kinds and the events).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from graph.db import Store
from graph.exchange.snapshot import queue_active_set
from policies.associations import default_associations
from policies.credit.measures import Catalogue
from policies.principal import Clearance
from policies.targets import TargetError, TargetRule, check_host

Status = Literal["ACTIVE", "PAUSED", "DISABLED"]
STATUSES: tuple[Status, ...] = ("ACTIVE", "PAUSED", "DISABLED")
SCHEMES = ("HMAC_SHA256", "ED25519")
ASSOCIATION_KIND = "ASSOCIATION"  # policies/measures.yaml partner_kinds


@dataclass(frozen=True, slots=True)
class Keys:
    """A partner's signing keys: the hub signs with ``signing``, the partner verifies with
    ``verifying`` (the same ``whsec_`` secret for HMAC, the ``whpk_`` public key for Ed25519)."""

    scheme: str
    signing: str
    verifying: str


_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{2,39}$")


class PartnerError(ValueError):
    """A partner definition the registry refuses; ``reason`` is stable, the message says why."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Partner:
    code: str
    name: str
    kind: str
    endpoint: str | None  # None: the partner only polls the feed
    events: tuple[str, ...]
    clearance: str
    scheme: str
    verifying_key: str  # what the partner verifies with (whsec_… shared, or whpk_…)
    status: str
    created_at: str
    updated_at: str
    association: str | None = None  # kind ASSOCIATION: the association it hears of members of


def check_endpoint(url: str, targets: TargetRule) -> str:
    """An endpoint the hub may post to (policies/targets.py); refusals say which rule."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise PartnerError("invalid-endpoint", "endpoint is an absolute https:// URL")
    try:
        check_host(parts.hostname, targets)
    except TargetError as exc:
        raise PartnerError("non-public-endpoint", f"endpoint refused: {exc}") from None
    plain_ok = not targets.https_only or parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme == "http" and not plain_ok:
        raise PartnerError("invalid-endpoint", "endpoint must use https outside development")
    if parts.username or parts.password or parts.fragment:
        raise PartnerError("invalid-endpoint", "endpoint carries no credentials or fragment")
    return url


def check_fields(
    catalogue: Catalogue, fields: dict[str, Any], targets: TargetRule
) -> dict[str, Any]:
    """The registry's rules for a partner's fields (any subset); refusals name the field."""
    checked: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "code":
            if not isinstance(value, str) or not _CODE.match(value):
                raise PartnerError("invalid-code", "code is 3-40 capitals, digits and hyphens")
        elif name == "name":
            if not isinstance(value, str) or not 1 <= len(value.strip()) <= 100:
                raise PartnerError("invalid-name", "name is 1-100 characters")
            value = value.strip()
        elif name == "kind":
            if value not in catalogue.partner_kinds:
                kinds = ", ".join(catalogue.partner_kinds)
                raise PartnerError("unknown-kind", f"kind is one of {kinds}")
        elif name == "endpoint":
            value = None if value is None else check_endpoint(str(value), targets)
        elif name == "events":
            unknown = set(value) - set(catalogue.events)
            if unknown or not value:
                raise PartnerError(
                    "unknown-event", f"events are some of {', '.join(catalogue.events)}"
                )
            value = sorted(set(value))
        elif name == "clearance":
            if value not in Clearance.__members__:
                raise PartnerError("invalid-clearance", "clearance is PUBLIC, SHARED or RESTRICTED")
            if Clearance[value] > Clearance.RESTRICTED:
                raise PartnerError("invalid-clearance", "no partner is cleared for CONFIDENTIAL")
        elif name == "status":
            if value not in STATUSES:
                raise PartnerError("invalid-status", f"status is one of {', '.join(STATUSES)}")
        elif name == "association":
            if value is not None and default_associations().get(value) is None:
                raise PartnerError(
                    "unknown-association", "association is a code of policies/associations.yaml"
                )
        elif name == "scheme":
            if value not in SCHEMES:
                raise PartnerError("invalid-scheme", f"scheme is one of {', '.join(SCHEMES)}")
        else:
            raise PartnerError("unknown-field", f"partners have no field {name!r}")
        checked[name] = value
    return checked


def check_tie(kind: str, association: str | None) -> None:
    """A partner of kind ASSOCIATION names its association, and no other partner does: the
    outbox sends an association's partner only events of that association's members."""
    if (kind == ASSOCIATION_KIND) != (association is not None):
        raise PartnerError(
            "association-kind",
            f"a partner names an association exactly when its kind is {ASSOCIATION_KIND}",
        )


def _partner(p: dict[str, Any]) -> Partner:
    return Partner(
        code=p["code"],
        name=p["name"],
        kind=p["kind"],
        endpoint=p.get("endpoint"),
        events=tuple(p.get("events") or ()),
        clearance=p["clearance"],
        scheme=p["scheme"],
        verifying_key=p["verifyingKey"],
        status=p["status"],
        created_at=p["createdAt"],
        updated_at=p["updatedAt"],
        association=p.get("association"),
    )


REGISTER = """
OPTIONAL MATCH (old:Partner {code: $code})
CALL (old) {
  WITH old WHERE old IS NULL
  CREATE (p:Partner {code: $code}) SET p += $props
  RETURN p
}
RETURN properties(p) AS partner
"""
UPDATE = """
MATCH (p:Partner {code: $code}) SET p += $props, p.updatedAt = $at RETURN properties(p) AS partner
"""
FIND = "MATCH (p:Partner {code: $code}) RETURN properties(p) AS partner"
ALL = "MATCH (p:Partner) RETURN properties(p) AS partner ORDER BY p.code"
SIGNING_KEY = "MATCH (p:Partner {code: $code}) RETURN p.signingKey AS key"


async def register(
    store: Store,
    catalogue: Catalogue,
    fields: dict[str, Any],
    keys: Keys,
    targets: TargetRule,
    send_active_set: bool = True,
) -> Partner:
    """A new partner, ACTIVE unless said otherwise, with the listings in force queued for its
    endpoint (unless ``send_active_set`` is False: a partner that holds them already hears only
    of what changes from now on); PartnerError when the code is taken."""
    required = {"code", "name", "kind", "events"}
    if missing := required - set(fields):
        raise PartnerError("missing-field", f"a partner needs {', '.join(sorted(missing))}")
    wanted = {"endpoint": None, "clearance": "SHARED", "status": "ACTIVE", "association": None}
    checked = check_fields(catalogue, {**wanted, **fields, "scheme": keys.scheme}, targets)
    check_tie(checked["kind"], checked["association"])
    at = datetime.now(UTC).isoformat()
    props = {
        **{k: v for k, v in checked.items() if k != "code"},
        "signingKey": keys.signing,
        "verifyingKey": keys.verifying,
        "createdAt": at,
        "updatedAt": at,
        "keyRotatedAt": at,
    }
    records = await store.execute(REGISTER, code=checked["code"], props=props)
    if not records or records[0]["partner"] is None:
        raise PartnerError("exists", f"partner {checked['code']} is already registered")
    # A partner registered today hears first of what is in force today (graph/exchange/snapshot.py).
    if send_active_set:
        await queue_active_set(store, checked["code"])
    return _partner(records[0]["partner"])


async def update_partner(
    store: Store,
    catalogue: Catalogue,
    code: str,
    fields: dict[str, Any],
    targets: TargetRule,
) -> Partner | None:
    """Change a partner's endpoint, events, clearance, status, name or kind; None if unknown."""
    if "code" in fields or "scheme" in fields:
        raise PartnerError("immutable-field", "a partner's code and scheme do not change")
    checked = check_fields(catalogue, fields, targets)
    if {"kind", "association"} & set(checked):
        current = await find(store, code)
        if current is None:
            return None
        tied = {"kind": current.kind, "association": current.association, **checked}
        check_tie(tied["kind"], tied["association"])
    at = datetime.now(UTC).isoformat()
    records = await store.execute(UPDATE, code=code, props=checked, at=at)
    return _partner(records[0]["partner"]) if records else None


async def rotate_keys(store: Store, code: str, keys: Keys) -> Partner | None:
    """New signing keys (the old ones stop at once); None if the partner is unknown."""
    if keys.scheme not in SCHEMES:
        raise PartnerError("invalid-scheme", f"scheme is one of {', '.join(SCHEMES)}")
    at = datetime.now(UTC).isoformat()
    props = {
        "scheme": keys.scheme,
        "signingKey": keys.signing,
        "verifyingKey": keys.verifying,
        "keyRotatedAt": at,
    }
    records = await store.execute(UPDATE, code=code, props=props, at=at)
    return _partner(records[0]["partner"]) if records else None


async def find(store: Store, code: str) -> Partner | None:
    records = await store.execute(FIND, code=code, read=True)
    return _partner(records[0]["partner"]) if records else None


async def all_partners(store: Store) -> list[Partner]:
    records = await store.execute(ALL, read=True)
    return [_partner(r["partner"]) for r in records]


async def signing_key(store: Store, code: str) -> str | None:
    records = await store.execute(SIGNING_KEY, code=code, read=True)
    return records[0]["key"] if records else None
