"""Admins manage the partners registry and watch deliveries: register, change, pause, rotate
keys, read delivery state per event and partner, and replay a partner from a point in time.

A partner's signing secret is shown once, in the answer that made it; no query returns it.
"""

from __future__ import annotations

import time
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry

from connectors.onboarding import onboard, rotate
from graph.exchange.outbox import deliveries, delivery_counts, replay
from graph.exchange.partners import Partner, PartnerError, all_partners, find, update_partner
from hub.api.context import (
    Context,
    RootPolicy,
    audit,
    ctx,
    decode_number_cursor,
    encode_cursor,
    page_size,
    resolver,
)
from hub.errors import Code, HubError
from hub.settings import catalogue, get_settings

_DELIVERY_CURSOR = "d1:"


@strawberry.enum
class SigningScheme(Enum):
    HMAC_SHA256 = "HMAC_SHA256"
    ED25519 = "ED25519"


@strawberry.enum
class PartnerStatus(Enum):
    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"
    DISABLED = "DISABLED"


@strawberry.enum
class DeliveryStatus(Enum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    DEAD = "DEAD"


@strawberry.type(description="A partner in the registry (its secret is never shown again).")
class PartnerInfo:
    code: str
    name: str
    kind: str
    endpoint: str | None = strawberry.field(description="Null: it polls sanctionFeed instead.")
    events: list[str]
    clearance: str
    scheme: str
    public_key: str | None = strawberry.field(
        description="The whpk_ key to verify Ed25519 signatures with; null for HMAC."
    )
    status: str
    created_at: str
    updated_at: str
    pending: int
    delivered: int
    dead: int = strawberry.field(description="Deliveries given up on (the dead-letter set).")
    association: str | None = strawberry.field(
        description="Kind ASSOCIATION: the industry association whose members' events it hears."
    )


@strawberry.type(description="A partner and the key it verifies with, shown this once.")
class PartnerKeys:
    partner: PartnerInfo
    verifying_key: str = strawberry.field(
        description="whsec_… (HMAC, keep it secret) or whpk_… (Ed25519 public key)."
    )


@strawberry.type(description="One event's delivery to one partner.")
class Delivery:
    event: str
    type: str
    subject: str
    status: str
    attempts: int
    last_status: int | None = strawberry.field(description="The partner's last HTTP status.")
    last_error: str | None = strawberry.field(description="Why the last try failed.")
    created_at: str
    last_attempt_at: float | None
    delivered_at: float | None


@strawberry.type
class DeliveryPage:
    items: list[Delivery]
    end_cursor: str | None
    has_next_page: bool


@strawberry.input(description="A new partner.")
class PartnerInput:
    code: str
    name: str
    kind: str
    events: list[str]
    endpoint: str | None = None
    clearance: str = "SHARED"
    scheme: SigningScheme = SigningScheme.HMAC_SHA256
    association: str | None = strawberry.field(
        default=None,
        description="With kind ASSOCIATION (and only then): the association's code "
        "(policies/associations.yaml); it hears only of that association's members.",
    )


@strawberry.input(description="What to change; left out stays as it is.")
class PartnerChange:
    name: str | None = None
    kind: str | None = None
    endpoint: str | None = None
    events: list[str] | None = None
    clearance: str | None = None
    status: PartnerStatus | None = None
    association: str | None = None


async def _info(context: Context, partner: Partner) -> PartnerInfo:
    counts = await delivery_counts(context.store, partner.code)
    return PartnerInfo(
        code=partner.code,
        name=partner.name,
        kind=partner.kind,
        endpoint=partner.endpoint,
        events=list(partner.events),
        clearance=partner.clearance,
        scheme=partner.scheme,
        public_key=partner.verifying_key if partner.scheme == "ED25519" else None,
        status=partner.status,
        created_at=partner.created_at,
        updated_at=partner.updated_at,
        pending=counts.get("PENDING", 0),
        delivered=counts.get("DELIVERED", 0),
        dead=counts.get("DEAD", 0),
        association=partner.association,
    )


def _refused(exc: PartnerError) -> HubError:
    code = Code.CONFLICT if exc.reason == "exists" else Code.BAD_USER_INPUT
    return HubError(code, str(exc), reason=exc.reason)


def _delivery(d: dict[str, Any]) -> Delivery:
    return Delivery(
        event=d["event"],
        type=d["type"],
        subject=d["subject"],
        status=d["status"],
        attempts=d["attempts"],
        last_status=d.get("lastStatus"),
        last_error=d.get("lastError"),
        created_at=d["createdAt"],
        last_attempt_at=d.get("lastAttemptAt"),
        delivered_at=d.get("deliveredAt"),
    )


@strawberry.type
class PartnerQueries:
    @strawberry.field(description="Every registered partner.", permission_classes=[RootPolicy])
    @resolver
    async def partners(self, info: strawberry.Info) -> list[PartnerInfo]:
        context = ctx(info)
        found = await all_partners(context.store)
        infos = [await _info(context, p) for p in found]
        audit(info, None, (p.code for p in found))
        return infos

    @strawberry.field(
        description="A partner's deliveries, newest first; filter by status (DEAD: the "
        "dead-letter set, each with the reason of its last try) or by event id.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def deliveries(
        self,
        info: strawberry.Info,
        partner: str,
        status: DeliveryStatus | None = None,
        event: str | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> DeliveryPage:
        context = ctx(info)
        size = page_size(first)
        before = decode_number_cursor(after, _DELIVERY_CURSOR) if after else 2**62
        rows = await deliveries(
            context.store,
            partner,
            status.value if status else None,
            before,
            size + 1,
            event,
        )
        page = rows[:size]
        audit(info, None, (partner, *(str(d["event"]) for d in page)))
        return DeliveryPage(
            items=[_delivery(d) for d in page],
            end_cursor=encode_cursor(str(page[-1]["version"]), _DELIVERY_CURSOR) if page else None,
            has_next_page=len(rows) > size,
        )


@strawberry.type
class PartnerMutations:
    @strawberry.mutation(
        description="Register a partner; the answer carries its key, shown this once.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def register_partner(self, info: strawberry.Info, partner: PartnerInput) -> PartnerKeys:
        context = ctx(info)
        fields = {
            "code": partner.code,
            "name": partner.name,
            "kind": partner.kind,
            "events": partner.events,
            "endpoint": partner.endpoint,
            "clearance": partner.clearance,
            "association": partner.association,
        }
        try:
            saved, keys = await onboard(
                context.store,
                catalogue(),
                fields,
                partner.scheme.value,
                get_settings().webhook_targets,
            )
        except PartnerError as exc:
            raise _refused(exc) from None
        audit(info, None, (saved.code,), action="write")
        return PartnerKeys(partner=await _info(context, saved), verifying_key=keys.verifying)

    @strawberry.mutation(
        description="Change a partner's endpoint, events, clearance, kind, name or status "
        "(PAUSED holds its deliveries; ACTIVE resumes them).",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def update_partner(
        self, info: strawberry.Info, code: str, change: PartnerChange
    ) -> PartnerInfo:
        context = ctx(info)
        fields = {
            k: v
            for k, v in {
                "name": change.name,
                "kind": change.kind,
                "endpoint": change.endpoint,
                "events": change.events,
                "clearance": change.clearance,
                "status": change.status.value if change.status else None,
                "association": change.association,
            }.items()
            if v is not None
        }
        try:
            saved = await update_partner(
                context.store,
                catalogue(),
                code,
                fields,
                get_settings().webhook_targets,
            )
        except PartnerError as exc:
            raise _refused(exc) from None
        if saved is None:
            raise HubError(Code.NOT_FOUND, f"no partner {code}")
        audit(info, None, (code,), action="write")
        return await _info(context, saved)

    @strawberry.mutation(
        description="New signing keys for a partner (the old ones stop at once); shown once.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def rotate_partner_keys(
        self, info: strawberry.Info, code: str, scheme: SigningScheme | None = None
    ) -> PartnerKeys:
        context = ctx(info)
        rotated = await rotate(context.store, code, scheme.value if scheme else None)
        if rotated is None:
            raise HubError(Code.NOT_FOUND, f"no partner {code}")
        saved, keys = rotated
        audit(info, None, (code,), action="write")
        return PartnerKeys(partner=await _info(context, saved), verifying_key=keys.verifying)

    @strawberry.mutation(
        description="Send a partner every event since a moment again, in order (it lost its "
        "copy or joined late); returns how many deliveries were queued.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def replay_partner(self, info: strawberry.Info, code: str, since: datetime) -> int:
        context = ctx(info)
        if since.tzinfo is None:
            raise HubError(
                Code.BAD_USER_INPUT, "since needs a time zone, e.g. 2026-11-01T00:00+08:00"
            )
        if await find(context.store, code) is None:
            raise HubError(Code.NOT_FOUND, f"no partner {code}")
        queued = await replay(context.store, code, since, time.time())
        audit(info, None, (code,), action="write")
        return queued
