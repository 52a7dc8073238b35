"""Credit repair over GraphQL: a subject applies for its own listing or record
(``applyForRepair``, the code from its token); the unit that listed it, or one above, lists
(``repairApplications``), accepts (``acceptRepair``) and decides (``decideRepair``)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

import strawberry

from connectors.celery_app import wake_soon
from graph.rights.repair import Application, Proof, RepairRefused, apply, find_application
from graph.rights.repair_decisions import Actor, Decided, decide, queue
from graph.rights.repair_decisions import accept as accept_application
from hub.api.context import (
    RootPolicy,
    audit,
    ctx,
    decode_day_cursor,
    encode_cursor,
    page_size,
    resolver,
    to_date,
)
from hub.api.records.units import unit_of
from hub.errors import Code, HubError
from hub.settings import catalogue
from policies.credit.determination import default_rules
from policies.principal import Principal
from policies.rights import default_rights
from policies.units import AGENCY_PREFIX, unit_prefix

_CURSOR = "ra1:"
STATUSES = ("FILED", "ACCEPTED", "NOT_ACCEPTED", "GRANTED", "REFUSED")


@strawberry.enum(description="A proof a repair application carries.")
class ProofKind(Enum):
    FULFILMENT = "FULFILMENT"  # obligations fulfilled (a fine paid, land handed back)
    COMMITMENT = "COMMITMENT"  # a signed credit-repair commitment (信用修复承诺书)
    TRAINING = "TRAINING"  # a credit-repair training certificate


@strawberry.input(description="One proof: what it is (the portal also takes files).")
class ProofInput:
    kind: ProofKind
    text: str


@strawberry.type(description="A credit repair application (信用修复申请). Repair is free.")
class RepairApplication:
    id: str
    status: str = strawberry.field(description="FILED, ACCEPTED, NOT_ACCEPTED, GRANTED or REFUSED.")
    unit: str = strawberry.field(description="The unit that decides it (it listed the target).")
    credit_code: str
    target: str = strawberry.field(description="The listing (sanction id) or record id.")
    target_kind: str = strawberry.field(
        description="SERIOUS_DISHONESTY, ABNORMAL_OPERATION or RECORD."
    )
    statement: str
    proof_kinds: list[str]
    evidence: list[str] = strawberry.field(description="Names of the files attached.")
    filed_on: date
    due_on: date = strawberry.field(description="The current step's deadline.")
    open: bool
    opens_on: date | None = strawberry.field(description="When repair could first be applied for.")
    accepted_on: date | None
    decided_on: date | None
    reason: str | None = strawberry.field(description="The unit's reasons.")
    fee: int = strawberry.field(description="Always 0: credit repair is free of charge.")


@strawberry.type
class RepairApplicationEdge:
    cursor: str
    node: RepairApplication


@strawberry.type
class RepairApplicationConnection:
    edges: list[RepairApplicationEdge]
    has_next_page: bool
    end_cursor: str | None


def view(row: dict[str, Any]) -> RepairApplication:
    def text(key: str) -> str | None:
        value = row.get(key)
        return str(value) if value is not None else None

    return RepairApplication(
        id=str(row["id"]),
        status=str(row["status"]),
        unit=str(row["unit"]),
        credit_code=str(row["creditCode"]),
        target=str(row["target"]),
        target_kind=str(row["targetKind"]),
        statement=str(row["statement"]),
        proof_kinds=[str(k) for k in row.get("proofKinds") or []],
        evidence=[str(k) for k in row.get("evidence") or []],
        filed_on=date.fromisoformat(str(row["filedOn"])),
        due_on=date.fromisoformat(str(row["dueOn"])),
        open=bool(row["open"]),
        opens_on=to_date(text("opensOn")),
        accepted_on=to_date(text("acceptedOn")),
        decided_on=to_date(text("decidedOn")),
        reason=text("reason"),
        fee=0,
    )


def refused(exc: RepairRefused) -> HubError:
    return HubError(Code(exc.code), str(exc), reason=exc.reason, **exc.extra)


def own_code(principal: Principal) -> str:
    """The code a signed-in subject speaks for; FORBIDDEN for anyone else."""
    code = principal.own_code()
    if code is None:
        raise HubError(Code.FORBIDDEN, "only a signed-in subject applies, for itself")
    return code


def actor_of(principal: Principal, scope: dict[str, object]) -> Actor:
    unit = unit_of(principal)
    prefix = unit_prefix(unit)
    return Actor(principal.subject, unit, AGENCY_PREFIX + prefix, prefix, scope)


def _page(applications: list[RepairApplication], first: int) -> RepairApplicationConnection:
    edges = [
        RepairApplicationEdge(cursor=encode_cursor(f"{a.filed_on}|{a.id}", _CURSOR), node=a)
        for a in applications[:first]
    ]
    return RepairApplicationConnection(
        edges=edges,
        has_next_page=len(applications) > first,
        end_cursor=edges[-1].cursor if edges else None,
    )


@strawberry.type
class RepairQueries:
    @strawberry.field(
        description="Repair applications routed to your unit or the units below it, oldest "
        "first; `overdue` keeps those open past their deadline (or the others).",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def repair_applications(
        self,
        info: strawberry.Info,
        status: str | None = None,
        overdue: bool | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> RepairApplicationConnection:
        context = ctx(info)
        actor = actor_of(context.principal, context.scope)
        page_size(first)
        if status is not None and status not in STATUSES:
            raise HubError(Code.BAD_USER_INPUT, f"status is one of {', '.join(STATUSES)}")
        rows = await queue(
            context.store, actor.agency_prefix, status=status, overdue=overdue,
            today=date.today(), after=decode_day_cursor(after, _CURSOR), limit=first + 1,
        )  # fmt: skip
        found = _page([view(r) for r in rows], first)
        audit(info, None, (e.node.id for e in found.edges))
        return found


async def _decided(info: strawberry.Info, app_id: str, done: Decided) -> RepairApplication:
    for event in done.events:
        await wake_soon(event)
    audit(info, done.subject, (app_id,), action="write")
    return await _one(info, app_id)


async def _one(info: strawberry.Info, app_id: str) -> RepairApplication:
    row = await find_application(ctx(info).store, app_id)
    if row is None:
        raise HubError(Code.NOT_FOUND, f"no application {app_id}")
    return view(row)


@strawberry.type
class RepairMutations:
    @strawberry.mutation(
        description="Apply for credit repair of your own listing (sanctionId) or dishonest "
        "record (recordId), from the end of its minimum period, with the proofs the rules "
        "require. Free of charge.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def apply_for_repair(
        self,
        info: strawberry.Info,
        statement: str,
        proofs: list[ProofInput],
        sanction_id: str | None = None,
        record_id: str | None = None,
    ) -> RepairApplication:
        context = ctx(info)
        code = own_code(context.principal)
        if (sanction_id is None) == (record_id is None):
            raise HubError(Code.BAD_USER_INPUT, "give either sanctionId or recordId")
        if len(proofs) > 10:
            raise HubError(Code.BAD_USER_INPUT, "at most 10 proofs")
        target = str(sanction_id or record_id)
        application = Application(
            code, target, sanction_id is not None, statement,
            tuple(Proof(p.kind.value, p.text[:2000]) for p in proofs),
        )  # fmt: skip
        try:
            app_id = await apply(
                context.store, default_rights(), default_rules(), application,
                by=context.principal.subject, today=date.today(), now=datetime.now(UTC),
            )  # fmt: skip
        except RepairRefused as exc:
            audit(info, code, (target,), "DENY", "write")
            raise refused(exc) from None
        audit(info, code, (app_id, target), action="write")
        return await _one(info, app_id)

    @strawberry.mutation(
        description="Accept a filed repair application (within repair.accept), or decline it "
        "with reasons.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def accept_repair(
        self, info: strawberry.Info, id: str, accept: bool, reason: str | None = None
    ) -> RepairApplication:
        context = ctx(info)
        actor = actor_of(context.principal, context.scope)
        try:
            done = await accept_application(
                context.store,
                default_rights(),
                id,
                take=accept,
                reason=reason,
                actor=actor,
                today=date.today(),
            )
        except RepairRefused as exc:
            audit(info, None, (id,), "DENY", "write")
            raise refused(exc) from None
        return await _decided(info, id, done)

    @strawberry.mutation(
        description="Grant an accepted repair application (the listing or record ends, "
        "partners are told, the rating is recomputed) or refuse it with reasons.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def decide_repair(
        self, info: strawberry.Info, id: str, grant: bool, reason: str | None = None
    ) -> RepairApplication:
        context = ctx(info)
        actor = actor_of(context.principal, context.scope)
        try:
            done = await decide(
                context.store, default_rights(), default_rules(), catalogue(), id,
                grant=grant, reason=reason, actor=actor, today=date.today(),
            )  # fmt: skip
        except RepairRefused as exc:
            audit(info, None, (id,), "DENY", "write")
            raise refused(exc) from None
        return await _decided(info, id, done)
