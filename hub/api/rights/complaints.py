"""Complaints and reports over GraphQL: anyone files (``fileComplaint``) and follows one with its
tracking number and query code (``complaintStatus``); the responsible unit and the units above
it read their queue (``complaints``), accept or refuse (``acceptComplaint``) and answer
(``answerComplaint``). Attachments come only through the portal's form."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from enum import Enum
from typing import Any

import strawberry

from graph.rights.complaint_handling import Handled, answer, decide, queue
from graph.rights.complaints import ComplaintError
from hub.api.context import (
    RootPolicy,
    audit,
    ctx,
    decode_cursor,
    encode_cursor,
    foreign_cursor,
    page_size,
    resolver,
)
from hub.api.records.units import unit_of
from hub.api.rights.complaint_intake import checked, file, follow
from hub.api.subjects.types import PageInfo
from hub.errors import Code, HubError
from policies.rights import default_rights
from policies.units import unit_prefix, units_by_code

CURSOR = "cq1:"


@strawberry.enum(description="COMPLAINT: about a unit's handling; REPORT: about a subject.")
class ComplaintKind(Enum):
    COMPLAINT = "COMPLAINT"
    REPORT = "REPORT"


@strawberry.enum(description="RECEIVED, then ACCEPTED or REFUSED (closed), then ANSWERED.")
class ComplaintState(Enum):
    RECEIVED = "RECEIVED"
    ACCEPTED = "ACCEPTED"
    REFUSED = "REFUSED"
    ANSWERED = "ANSWERED"


@strawberry.type(
    description="What the filer is told once: keep the query code, it is not shown again."
)
class ComplaintReceipt:
    tracking: str
    query_code: str
    unit: str = strawberry.field(description="The unit that handles it.")
    unit_name: str
    accept_due: date = strawberry.field(description="Accepted or refused by this day.")
    accept_source: str = strawberry.field(description="The rule that sets the deadline.")


@strawberry.type(description="A filing as its filer follows it.")
class ComplaintProgress:
    tracking: str
    kind: ComplaintKind
    status: ComplaintState
    unit_name: str
    filed_on: date
    accept_due: date
    answer_due: date | None
    due_on: date = strawberry.field(description="The current step's deadline.")
    reason: str | None = strawberry.field(description="Why it was refused, or a note.")
    reply: str | None
    decided_on: date | None
    answered_on: date | None
    escalated: bool = strawberry.field(description="Overdue, and sent to a higher unit.")


@strawberry.type(description="One step of a complaint, with its day and unit.")
class ComplaintStep:
    kind: str
    day: date
    unit: str
    by: str | None


@strawberry.type(description="A file attached to a complaint (sha256, as filed).")
class ComplaintAttachment:
    id: str
    name: str
    type: str
    size: int


@strawberry.type(description="A complaint or report as the units handle it.")
class Complaint:
    id: str
    tracking: str
    kind: ComplaintKind
    status: ComplaintState
    unit: str
    credit_code: str | None
    about_unit: str | None
    text: str
    contact: str | None
    filed_on: date
    accept_due: date
    answer_due: date | None
    due_on: date
    open: bool
    overdue: bool
    escalations: int
    escalated_to: str | None
    reason: str | None
    reply: str | None
    steps: list[ComplaintStep]
    attachments: list[ComplaintAttachment]


@strawberry.type
class ComplaintEdge:
    cursor: str
    node: Complaint


@strawberry.type
class ComplaintConnection:
    edges: list[ComplaintEdge]
    page_info: PageInfo


def unit_name(code: str) -> str:
    found = units_by_code().get(code)
    return found.name if found else code


def _view(c: Handled, today: date) -> Complaint:
    return Complaint(
        id=c.id,
        tracking=c.tracking,
        kind=ComplaintKind(c.kind),
        status=ComplaintState(c.status),
        unit=c.unit,
        credit_code=c.credit_code,
        about_unit=c.about_unit,
        text=c.text,
        contact=c.contact,
        filed_on=c.filed_on,
        accept_due=c.accept_due,
        answer_due=c.answer_due,
        due_on=c.due_on,
        open=c.open,
        overdue=c.open and today > c.due_on,
        escalations=c.escalations,
        escalated_to=c.escalated_to,
        reason=c.reason,
        reply=c.reply,
        steps=[ComplaintStep(kind=s.kind, day=s.on, unit=s.unit, by=s.by) for s in c.steps],
        attachments=[
            ComplaintAttachment(id=a.id, name=a.name, type=a.type, size=a.size)
            for a in c.attachments
        ],
    )


def _after(cursor: str | None) -> tuple[date, str] | None:
    if cursor is None:
        return None
    due, _, last = decode_cursor(cursor, CURSOR).partition("~")
    try:
        return date.fromisoformat(due), last
    except ValueError:
        raise foreign_cursor() from None


def _refused(exc: ComplaintError) -> HubError:
    code = {"not-found": Code.NOT_FOUND, "conflict": Code.CONFLICT}.get(exc.reason)
    return HubError(code or Code.BAD_USER_INPUT, str(exc), reason=exc.reason)


async def _step(
    info: strawberry.Info,
    complaint_id: str,
    step: Callable[..., Awaitable[Handled]],
    **arguments: Any,
) -> Complaint:
    """A unit's step on a complaint of its jurisdiction, as the caller's unit, audited."""
    context = ctx(info)
    unit = unit_of(context.principal)
    try:
        done = await step(
            context.store,
            default_rights(),
            complaint_id,
            unit=unit,
            prefix=unit_prefix(unit),
            by=context.principal.subject,
            today=date.today(),
            **arguments,
        )
    except ComplaintError as exc:
        audit(info, None, (complaint_id,), "DENY", "write")
        raise _refused(exc) from None
    audit(info, done.credit_code, (complaint_id,), action="write")
    return _view(done, date.today())


@strawberry.type
class ComplaintQueries:
    @strawberry.field(
        description="Follow a complaint or report: its tracking number and the query code "
        "given when it was filed. A wrong code answers null, like an unknown number; wrong "
        "guesses from one address are limited.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def complaint_status(
        self, info: strawberry.Info, tracking: str, query_code: str
    ) -> ComplaintProgress | None:
        context = ctx(info)
        limit = default_rights().complaint_guesses
        found = await follow(
            context.store, context.redis, context.principal, tracking, query_code, limit
        )
        audit(info, None, (found.tracking,) if found else ())
        if found is None:
            return None
        return ComplaintProgress(
            tracking=found.tracking,
            kind=ComplaintKind(found.kind),
            status=ComplaintState(found.status),
            unit_name=unit_name(found.unit),
            filed_on=found.filed_on,
            accept_due=found.accept_due,
            answer_due=found.answer_due,
            due_on=found.due_on,
            reason=found.reason,
            reply=found.reply,
            decided_on=found.decided_on,
            answered_on=found.answered_on,
            escalated=found.escalations > 0,
        )

    @strawberry.field(
        description="Complaints and reports handled by your unit and the units below it, "
        "most urgent deadline first; `escalated: true` keeps those sent up to your unit.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def complaints(
        self,
        info: strawberry.Info,
        status: ComplaintState | None = None,
        overdue: bool | None = None,
        escalated: bool = False,
        first: int = 20,
        after: str | None = None,
    ) -> ComplaintConnection:
        context = ctx(info)
        unit = unit_of(context.principal)
        size, today = page_size(first), date.today()
        rows = await queue(
            context.store,
            unit_prefix(unit),
            today=today,
            status=status.value if status else None,
            overdue=overdue,
            escalated_to=unit if escalated else None,
            after=_after(after),
            limit=size + 1,
        )
        edges = [
            ComplaintEdge(cursor=encode_cursor(f"{c.due_on}~{c.id}", CURSOR), node=_view(c, today))
            for c in rows[:size]
        ]
        audit(info, None, [e.node.id for e in edges])
        return ComplaintConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(rows) > size,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )


@strawberry.type
class ComplaintMutations:
    @strawberry.mutation(
        description="File a complaint (about a unit: aboutUnit) or a report (about a subject: "
        "creditCode), without signing in. The answer's query code is shown only once.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def file_complaint(
        self,
        info: strawberry.Info,
        kind: ComplaintKind,
        text: str,
        credit_code: str | None = None,
        about_unit: str | None = None,
        contact: str | None = None,
    ) -> ComplaintReceipt:
        context = ctx(info)
        rules = default_rights()
        filing = checked(kind.value, text, credit_code, about_unit, contact, rules)
        receipt = await file(
            context.store,
            context.redis,
            context.principal,
            filing,
            [],
            rules=rules,
            policy=context.policy,
            today=date.today(),
        )
        audit(info, filing.credit_code, (receipt.id,), action="write")
        return ComplaintReceipt(
            tracking=receipt.tracking,
            query_code=receipt.query_code,
            unit=receipt.unit,
            unit_name=unit_name(receipt.unit),
            accept_due=receipt.due_on,
            accept_source=rules.complaint_accept.source,
        )

    @strawberry.mutation(
        description="Accept (the answer deadline starts) or refuse (with reasons) a complaint "
        "of your jurisdiction that is RECEIVED.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def accept_complaint(
        self, info: strawberry.Info, id: str, accept: bool, reason: str | None = None
    ) -> Complaint:
        return await _step(info, id, decide, accept=accept, reason=reason)

    @strawberry.mutation(
        description="Answer an ACCEPTED complaint of your jurisdiction; the filer reads the "
        "reply with the query code.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def answer_complaint(self, info: strawberry.Info, id: str, reply: str) -> Complaint:
        return await _step(info, id, answer, reply=reply)
