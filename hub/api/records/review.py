"""Review: the queue of records waiting, and approving, returning or repairing one."""

from __future__ import annotations

from datetime import UTC, date, datetime

import strawberry

from graph.records.corrections import ChangeRefused, review_change
from graph.records.review import QUEUE, StepResult, review
from hub.api.context import (
    RootPolicy,
    audit,
    ctx,
    decode_cursor,
    encode_cursor,
    foreign_cursor,
    page_size,
    resolver,
    to_date,
)
from hub.api.rating import Grade
from hub.api.records.units import unit_of
from hub.errors import Code, HubError
from hub.settings import catalogue
from policies.credit.review import ReviewRefused
from policies.units import unit_prefix

_QUEUE_CURSOR = "q1:"


@strawberry.type(description="A record's state after a review step.")
class ReviewStep:
    id: str
    subject: str
    status: str
    approvals: int
    approvals_needed: int
    grade: Grade | None = strawberry.field(description="The subject's grade after publication.")
    score: float | None


@strawberry.type(description="A record waiting for review, or returned to its unit.")
class QueuedRecord:
    id: str
    subject: str
    subject_name: str
    item: str
    category: str
    tier: str | None
    title: str
    document: str | None
    legal_basis: str | None
    disclosure: str
    decided_on: date | None
    submitted_by: str
    submitted_at: datetime | None
    agency: str
    approvals: int
    publish_deadline: date | None
    return_reason: str | None
    change: str | None = strawberry.field(
        description="CORRECTION or WITHDRAWAL when this proposes a change to a published record "
        "(then the content shown is the proposed one)."
    )
    record: str | None = strawberry.field(description="The published record it would change.")
    change_reason: str | None


@strawberry.type
class QueuedRecordEdge:
    cursor: str
    node: QueuedRecord


@strawberry.type
class ReviewQueue:
    edges: list[QueuedRecordEdge]
    has_next_page: bool
    end_cursor: str | None


def _step_view(step: StepResult) -> ReviewStep:
    return ReviewStep(
        id=step.id,
        subject=step.subject,
        status=step.status,
        approvals=step.approvals,
        approvals_needed=step.needed,
        grade=Grade(step.rating.grade) if step.rating else None,
        score=step.rating.score if step.rating else None,
    )


def refusal(exc: ReviewRefused) -> HubError:
    """A refused review step or change as a coded error (a change names its reason too)."""
    if isinstance(exc, ChangeRefused):
        return HubError(Code(exc.code), str(exc), reason=exc.reason)
    return HubError(Code(exc.code), str(exc))


async def _review(
    info: strawberry.Info, record_id: str, decision: str, reason: str | None
) -> ReviewStep:
    context = ctx(info)
    unit = unit_of(context.principal)
    # A proposed change (RC-…) goes through the same review as a new record.
    step_of = review_change if record_id.startswith("RC-") else review
    try:
        step = await step_of(
            context.store,
            record_id,
            catalogue=catalogue(),
            decision=decision,
            reason=reason,
            by=context.principal.subject,
            agency=unit,
            prefix=unit_prefix(unit),
            scope=context.scope,
            record_kinds=catalogue().record_kinds,
        )
    except ReviewRefused as exc:
        audit(info, exc.subject, (record_id,), "DENY", "write")
        raise refusal(exc) from None
    audit(info, step.subject, (record_id,), action="write")
    return _step_view(step)


@strawberry.type
class ReviewMutations:
    @strawberry.mutation(
        description="Approve a pending record; serious items need two different reviewers.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def approve_record(self, info: strawberry.Info, id: str) -> ReviewStep:
        return await _review(info, id, "APPROVE", None)

    @strawberry.mutation(
        description="Return a pending record to its unit, saying what to fix.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def return_record(self, info: strawberry.Info, id: str, reason: str) -> ReviewStep:
        return await _review(info, id, "RETURN", reason)

    @strawberry.mutation(
        description="Credit repair: end a published dishonest record after its minimum period.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def repair_record(self, info: strawberry.Info, id: str, reason: str) -> ReviewStep:
        return await _review(info, id, "REPAIR", reason)


def _queue_after(after: str | None) -> tuple[datetime, str]:
    if not after:
        return datetime(1970, 1, 1, tzinfo=UTC), ""
    at, _, record_id = decode_cursor(after, _QUEUE_CURSOR).partition("|")
    try:
        return datetime.fromisoformat(at), record_id
    except ValueError:
        raise foreign_cursor() from None


def _queued(row: dict[str, object], subject: str, name: str) -> QueuedRecord:
    def text(key: str) -> str | None:
        value = row.get(key)
        return str(value) if value is not None else None

    submitted = text("submittedAt")
    return QueuedRecord(
        id=str(row["id"]),
        subject=subject,
        subject_name=name,
        item=str(row["item"]),
        category=str(row["category"]),
        tier=text("tier"),
        title=str(row["title"]),
        document=text("document"),
        legal_basis=text("legalBasis"),
        disclosure=str(row["disclosure"]),
        decided_on=to_date(text("decidedOn")),
        submitted_by=text("submittedBy") or "",
        submitted_at=datetime.fromisoformat(submitted) if submitted else None,
        agency=text("sourceAgency") or "",
        approvals=len(row.get("approvals") or []),  # type: ignore[arg-type]
        publish_deadline=to_date(text("publishDeadline")),
        return_reason=text("returnReason"),
        change=text("change"),
        record=text("record"),
        change_reason=text("changeReason"),
    )


def _queue_cursor(n: QueuedRecord) -> str:
    return encode_cursor(
        f"{n.submitted_at.isoformat() if n.submitted_at else ''}|{n.id}", _QUEUE_CURSOR
    )


@strawberry.type
class ReviewQueries:
    @strawberry.field(
        description="Records waiting for review in your jurisdiction (reviewers), or your own "
        "unit's submissions (submitters); oldest first.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def review_queue(
        self,
        info: strawberry.Info,
        unit: str | None = None,
        status: str = "PENDING",
        first: int = 20,
        after: str | None = None,
    ) -> ReviewQueue:
        context = ctx(info)
        own = unit_of(context.principal)
        if status not in ("PENDING", "RETURNED"):
            raise HubError(Code.BAD_USER_INPUT, "status is PENDING or RETURNED")
        page_size(first)
        if "reviewer" not in context.principal.roles:
            unit = own  # a submitter sees its own unit's submissions only
        after_at, after_id = _queue_after(after)
        records = await context.store.execute(
            QUEUE,
            status=status,
            unit=unit,
            unitPrefix=unit_prefix(own),
            afterAt=after_at,
            afterId=after_id,
            limit=first + 1,
            read=True,
            **context.scope,
        )
        nodes = [_queued(dict(r["record"]), r["subject"], r["subjectName"]) for r in records]
        edges = [QueuedRecordEdge(cursor=_queue_cursor(n), node=n) for n in nodes[:first]]
        audit(info, None, (e.node.id for e in edges))
        return ReviewQueue(
            edges=edges,
            has_next_page=len(nodes) > first,
            end_cursor=edges[-1].cursor if edges else None,
        )
