"""Objections in the API: a subject files against its own record or listing and reads its own
(``fileObjection``, ``myObjections``); the responsible unit's reviewers work the queue
(``objections``) and accept, refuse and decide them (``acceptObjection``, ``decideObjection``)."""

from __future__ import annotations

from datetime import date
from enum import Enum
from typing import Any

import strawberry

from graph.records.submissions import Submission
from graph.rights.objection_steps import Actor, accept, decide
from graph.rights.objections import Filing, ObjectionRefused, file_objection, mine, queue
from hub.api.context import (
    RootPolicy,
    audit,
    ctx,
    decode_cursor,
    encode_cursor,
    page_size,
    resolver,
    to_date,
)
from hub.api.records.review import refusal
from hub.api.records.submission import RecordInput, submission_of
from hub.api.records.units import unit_of
from hub.errors import Code, HubError
from hub.settings import catalogue
from policies.credit.review import ReviewRefused
from policies.principal import Principal
from policies.rights import default_rights
from policies.units import unit_prefix

_CURSOR = "o1:"


@strawberry.enum(description="How a unit decides an accepted objection.")
class ObjectionOutcome(Enum):
    CORRECT = "CORRECT"
    WITHDRAW = "WITHDRAW"
    CONFIRM = "CONFIRM"


@strawberry.type(description="A file filed with an objection (its bytes stay with the hub).")
class ObjectionFile:
    id: str = strawberry.field(description="The file's SHA-256.")
    name: str
    type: str
    size: int


@strawberry.type(description="A subject's objection (异议) to a record or a listing.")
class Objection:
    id: str
    status: str = strawberry.field(
        description="FILED, ACCEPTED, IN_REVIEW (its correction or withdrawal is with the "
        "reviewers), DECIDED or REFUSED."
    )
    open: bool = strawberry.field(description="While open, the target shows underObjection.")
    target: str = strawberry.field(description="RECORD or LISTING.")
    record_id: str | None
    sanction_id: str | None
    credit_code: str
    subject_name: str | None
    unit: str = strawberry.field(description="The unit that answers for it.")
    filed_on: date
    due_on: date | None = strawberry.field(
        description="The current step's deadline: acceptance, then decision."
    )
    due_rule: str | None = strawberry.field(description="The rule that sets that deadline.")
    overdue: bool
    reasons: str
    outcome: str | None = strawberry.field(description="CORRECT, WITHDRAW or CONFIRM.")
    reply: str | None = strawberry.field(description="The unit's reasons: refusal or decision.")
    change: str | None = strawberry.field(
        description="The correction or withdrawal (RC-…) the decision proposed for review."
    )
    accepted_on: date | None
    decided_on: date | None
    closed_on: date | None
    evidence: list[ObjectionFile]


@strawberry.type
class ObjectionEdge:
    cursor: str
    node: Objection


@strawberry.type(description="A page of objections; pass endCursor as after for the next.")
class ObjectionPage:
    edges: list[ObjectionEdge]
    has_next_page: bool
    end_cursor: str | None


def objection_view(o: dict[str, Any], today: date) -> Objection:
    rules = default_rights()
    due = to_date(o.get("dueOn"))
    step = rules.objection_accept if o["status"] == "FILED" else rules.objection_decide
    record = o["target"] == "RECORD"
    return Objection(
        id=o["id"],
        status=o["status"],
        open=bool(o["open"]),
        target=o["target"],
        record_id=o["targetId"] if record else None,
        sanction_id=None if record else o["targetId"],
        credit_code=o["creditCode"],
        subject_name=o.get("subjectName"),
        unit=o["unit"],
        filed_on=date.fromisoformat(o["filedOn"]),
        due_on=due if o["open"] else None,
        due_rule=step.source if o["open"] else None,
        overdue=bool(o["open"] and due is not None and today > due),
        reasons=o["reasons"],
        outcome=o.get("outcome"),
        reply=o.get("reply"),
        change=o.get("change"),
        accepted_on=to_date(o.get("acceptedOn")),
        decided_on=to_date(o.get("decidedOn")),
        closed_on=to_date(o.get("closedOn")),
        evidence=[ObjectionFile(**e) for e in o.get("evidence") or []],
    )


def _page(rows: list[dict[str, Any]], first: int) -> ObjectionPage:
    today = date.today()
    edges = [
        ObjectionEdge(cursor=encode_cursor(o["id"], _CURSOR), node=objection_view(o, today))
        for o in rows[:first]
    ]
    return ObjectionPage(
        edges=edges, has_next_page=len(rows) > first, end_cursor=edges[-1].cursor if edges else None
    )


def own_code(principal: Principal) -> str:
    """The code a signed-in subject speaks for; only subjects file and read their own."""
    code = principal.own_code()
    if code is None:
        raise HubError(Code.FORBIDDEN, "only a subject signed in for itself may do this")
    return code


def coded(exc: ObjectionRefused | ReviewRefused) -> HubError:
    if isinstance(exc, ObjectionRefused):
        return HubError(Code(exc.code), str(exc), reason=exc.reason)
    return refusal(exc)


def _actor(info: strawberry.Info) -> Actor:
    context = ctx(info)
    unit = unit_of(context.principal)
    return Actor(context.principal.subject, unit, unit_prefix(unit), context.scope)


async def _step(info: strawberry.Info, objection: str, **step: Any) -> Objection:
    context = ctx(info)
    actor, rules = _actor(info), default_rights()
    try:
        if "outcome" in step:
            row = await decide(
                context.store, catalogue(), rules, objection, actor=actor, today=date.today(),
                **step,
            )  # fmt: skip
        else:
            row = await accept(
                context.store, catalogue(), rules, objection, actor=actor, today=date.today(),
                **step,
            )  # fmt: skip
    except (ObjectionRefused, ReviewRefused) as exc:
        audit(info, exc.subject, (objection,), "DENY", "write")
        raise coded(exc) from None
    audit(info, row["creditCode"], (objection, *([row["change"]] if row.get("change") else [])),
          action="write")  # fmt: skip
    return objection_view(row, date.today())


@strawberry.type
class ObjectionQueries:
    @strawberry.field(
        description="Your own objections, newest first (a signed-in subject).",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def my_objections(
        self, info: strawberry.Info, first: int = 20, after: str | None = None
    ) -> ObjectionPage:
        context = ctx(info)
        code = own_code(context.principal)
        after_id = decode_cursor(after, _CURSOR) if after else ""
        rows = await mine(context.store, code, after_id, page_size(first) + 1)
        page = _page(rows, first)
        audit(info, code, (e.node.id for e in page.edges))
        return page

    @strawberry.field(
        description="Objections your unit (or a unit below it) answers for, oldest first; "
        "overdue: only open ones past their current step's deadline.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def objections(
        self,
        info: strawberry.Info,
        status: str | None = None,
        overdue: bool = False,
        first: int = 20,
        after: str | None = None,
    ) -> ObjectionPage:
        context = ctx(info)
        unit = unit_of(context.principal)
        rows = await queue(
            context.store, prefix=unit_prefix(unit), status=status, overdue=overdue,
            today=date.today(), after=decode_cursor(after, _CURSOR) if after else "",
            limit=page_size(first) + 1,
        )  # fmt: skip
        page = _page(rows, first)
        audit(info, None, (e.node.id for e in page.edges))
        return page


@strawberry.type
class ObjectionMutations:
    @strawberry.mutation(
        description="Object to your own published record (recordId) or active listing "
        "(sanctionId), with your reasons; it shows as under objection until decided.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def file_objection(
        self,
        info: strawberry.Info,
        reasons: str,
        record_id: str | None = None,
        sanction_id: str | None = None,
    ) -> Objection:
        context = ctx(info)
        code = own_code(context.principal)
        if (record_id is None) == (sanction_id is None):
            raise HubError(Code.BAD_USER_INPUT, "name either recordId or sanctionId")
        target = record_id or sanction_id or ""
        filing = Filing(
            code, "RECORD" if record_id else "LISTING", target, reasons, context.principal.subject
        )
        try:
            row = await file_objection(
                context.store, catalogue(), default_rights(), filing, date.today()
            )
        except ObjectionRefused as exc:
            audit(info, code, (target,), "DENY", "write")
            raise coded(exc) from None
        audit(info, code, (row["id"], target), action="write")
        return objection_view(row, date.today())

    @strawberry.mutation(
        description="Accept an objection (the decision is then due) or refuse it with reasons "
        "(it closes).",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def accept_objection(
        self, info: strawberry.Info, id: str, accept: bool, reason: str | None = None
    ) -> Objection:
        return await _step(info, id, accepted=accept, reason=reason)

    @strawberry.mutation(
        description="Decide an accepted objection: CORRECT (with the corrected record) or "
        "WITHDRAW propose that change for review, and the objection closes when it is "
        "published; CONFIRM closes it. Your reasons are shown to the subject.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def decide_objection(
        self,
        info: strawberry.Info,
        id: str,
        outcome: ObjectionOutcome,
        reason: str,
        correction: RecordInput | None = None,
    ) -> Objection:
        new: Submission | None = submission_of(correction) if correction else None
        return await _step(info, id, outcome=outcome.value, reason=reason, correction=new)
