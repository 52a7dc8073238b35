"""Submission, review, archive imports and the assessment of units: GraphQL fields.

Who may call each field is in policies/access.yaml (RootPolicy); what a unit may touch is its
jurisdiction, derived from its unit code (``NMG`` + division). Every step is audited.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

import strawberry
from neo4j.exceptions import ConstraintError

from graph.archive.imports import find_import, rejections
from graph.archive.row_fields import RowError
from graph.assessment import assess
from graph.records.corrections import ChangeRefused, propose, review_change
from graph.records.review import QUEUE, StepResult, review
from graph.records.submissions import Submission, parse_submission, submit_one
from graph.subjects import record_by_id
from hub.api.context import Audited, RootPolicy, bounded, ctx, decode_cursor, encode_cursor, to_date
from hub.api.rating import Grade
from hub.api.record_types import CreditRecord, record_view, released_ids
from hub.errors import Code, HubError, backing_services
from hub.settings import catalogue
from policies.credit.review import ReviewRefused
from policies.principal import Principal
from policies.units import covers, unit_prefix, units_by_code

MAX_PAGE = 100
_SUBMIT_REFUSALS = {
    "outside-jurisdiction": Code.FORBIDDEN,
    "conflict": Code.CONFLICT,
    "unknown-subject": Code.BAD_USER_INPUT,
}
_QUEUE_CURSOR = "q1:"


def unit_of(principal: Principal) -> str:
    """The caller's unit code; only the department's units submit and review."""
    if principal.level == "PARTNER" or principal.agency not in units_by_code():
        raise HubError(
            Code.FORBIDDEN, "only the department's units (agency NMG + division code) may do this"
        )
    return principal.agency


@strawberry.input(description="A credit record as a unit submits it (see the catalogue).")
class RecordInput:
    item: str
    subject: str = strawberry.field(description="The subject's unified social credit code.")
    title: str
    decided_on: date
    tier: str | None = None
    document: str | None = None
    legal_basis: str | None = None
    disclosure: str | None = strawberry.field(
        default=None, description="At least the catalogue's default class for the item."
    )


@strawberry.type(description="What a submission did.")
class SubmitResult:
    id: str
    outcome: str = strawberry.field(description="created, updated or unchanged.")
    status: str


@strawberry.type(description="A proposed correction or withdrawal of a published record.")
class ChangeResult:
    id: str = strawberry.field(description="The proposal's id (RC-…): review it by this id.")
    record: str
    kind: str = strawberry.field(description="CORRECTION or WITHDRAWAL.")
    outcome: str = strawberry.field(description="created, or updated (an open one replaced).")
    status: str


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


@strawberry.type(description="A rejected row of an archive file.")
class ImportRejection:
    line: int
    reason: str
    message: str


@strawberry.type(description="An archive import: progress while it runs, the report after.")
class ArchiveImport:
    id: str
    agency: str
    status: str = strawberry.field(description="QUEUED, RUNNING, DONE or FAILED.")
    file_name: str | None
    format: str | None
    read: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    error: str | None
    started_at: datetime | None
    finished_at: datetime | None

    @strawberry.field(description="Rejected rows in line order, 100 at most per page.")
    async def rejections(
        self, info: strawberry.Info, after_line: int = 0, first: int = 100
    ) -> list[ImportRejection]:
        bounded("first", first, 1, MAX_PAGE)
        context = ctx(info)
        with backing_services():
            found = await rejections(context.store, self.id, after_line, first)
        return [ImportRejection(line=r.line, reason=r.reason, message=r.message) for r in found]

    @strawberry.field
    def accepted(self) -> int:
        return self.created + self.updated


@strawberry.type(description="One unit's collection work over a period of decisions.")
class UnitAssessment:
    unit: str
    unit_name: str | None
    level: str | None
    submitted: int
    published: int
    pending: int
    returned: int
    return_rate: float | None
    due: int = strawberry.field(description="Records with a publication deadline.")
    on_time: int
    late: int
    overdue: int
    timeliness_rate: float | None


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


def _refused(exc: ReviewRefused) -> HubError:
    if isinstance(exc, ChangeRefused):
        return HubError(Code(exc.code), str(exc), reason=exc.reason)
    return HubError(Code(exc.code), str(exc))


def _raw_record(record: RecordInput) -> dict[str, str]:
    raw = {
        "item": record.item,
        "subject": record.subject,
        "tier": record.tier,
        "title": record.title,
        "decidedOn": record.decided_on.isoformat(),
        "document": record.document,
        "legalBasis": record.legal_basis,
        "disclosure": record.disclosure,
    }
    return {k: v for k, v in raw.items() if v is not None}


def _parsed(record: RecordInput) -> Submission:
    try:
        return parse_submission(_raw_record(record), date.today())
    except RowError as exc:
        code = Code.INVALID_CREDIT_CODE if exc.reason == "invalid-credit-code" else None
        raise HubError(code or Code.BAD_USER_INPUT, str(exc), reason=exc.reason) from None


async def _propose(
    info: strawberry.Info, record_id: str, kind: str, reason: str, new: Submission | None
) -> ChangeResult:
    context = ctx(info)
    unit = unit_of(context.principal)
    try:
        with backing_services():
            change, outcome, subject = await propose(
                context.store,
                record_id,
                kind=kind,
                reason=reason,
                new=new,
                by=context.principal.subject,
                agency=unit,
                prefix=unit_prefix(unit),
                scope=context.scope,
            )
    except ReviewRefused as exc:
        context.audited.append(Audited(info.field_name, exc.subject, (record_id,), "DENY", "write"))
        raise _refused(exc) from None
    context.audited.append(Audited(info.field_name, subject, (record_id, change), action="write"))
    return ChangeResult(id=change, record=record_id, kind=kind, outcome=outcome, status="PENDING")


async def _review(
    info: strawberry.Info, record_id: str, decision: str, reason: str | None
) -> ReviewStep:
    context = ctx(info)
    unit = unit_of(context.principal)
    # A proposed change (RC-…) goes through the same review as a new record.
    step_of = review_change if record_id.startswith("RC-") else review
    try:
        with backing_services():
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
        context.audited.append(Audited(info.field_name, exc.subject, (record_id,), "DENY", "write"))
        raise _refused(exc) from None
    context.audited.append(Audited(info.field_name, step.subject, (record_id,), action="write"))
    return _step_view(step)


@strawberry.type
class RecordMutations:
    @strawberry.mutation(
        description="Submit one record for review (PENDING until approved).",
        permission_classes=[RootPolicy],
    )
    async def submit_record(self, info: strawberry.Info, record: RecordInput) -> SubmitResult:
        context = ctx(info)
        unit = unit_of(context.principal)
        parsed = _parsed(record)

        try:
            with backing_services():
                outcome = await submit_one(
                    context.store,
                    parsed,
                    agency=unit,
                    prefix=unit_prefix(unit),
                    by=context.principal.subject,
                    scope=context.scope,
                )
        except ConstraintError:
            raise HubError(Code.CONFLICT, "the same record is being submitted; retry") from None
        if outcome.refused:
            context.audited.append(Audited("submitRecord", parsed.subject, (), "DENY", "write"))
            raise HubError(
                _SUBMIT_REFUSALS[outcome.outcome], outcome.message, reason=outcome.outcome
            )
        context.audited.append(
            Audited("submitRecord", parsed.subject, (parsed.id,), action="write")
        )
        return SubmitResult(
            id=parsed.id, outcome=outcome.outcome, status=outcome.status or "PENDING"
        )

    @strawberry.mutation(
        description="Approve a pending record; serious items need two different reviewers.",
        permission_classes=[RootPolicy],
    )
    async def approve_record(self, info: strawberry.Info, id: str) -> ReviewStep:
        return await _review(info, id, "APPROVE", None)

    @strawberry.mutation(
        description="Return a pending record to its unit, saying what to fix.",
        permission_classes=[RootPolicy],
    )
    async def return_record(self, info: strawberry.Info, id: str, reason: str) -> ReviewStep:
        return await _review(info, id, "RETURN", reason)

    @strawberry.mutation(
        description="Credit repair: end a published dishonest record after its minimum period.",
        permission_classes=[RootPolicy],
    )
    async def repair_record(self, info: strawberry.Info, id: str, reason: str) -> ReviewStep:
        return await _review(info, id, "REPAIR", reason)

    @strawberry.mutation(
        description="Propose new content for your unit's published record (same subject, item "
        "and document number); reviewed like a submission, and until approved the published "
        "version stands.",
        permission_classes=[RootPolicy],
    )
    async def propose_correction(
        self, info: strawberry.Info, id: str, record: RecordInput, reason: str
    ) -> ChangeResult:
        return await _propose(info, id, "CORRECTION", reason, _parsed(record))

    @strawberry.mutation(
        description="Propose withdrawing your unit's published record (e.g. the decision was "
        "revoked); reviewed like a submission.",
        permission_classes=[RootPolicy],
    )
    async def propose_withdrawal(self, info: strawberry.Info, id: str, reason: str) -> ChangeResult:
        return await _propose(info, id, "WITHDRAWAL", reason, None)


def _queue_after(after: str | None) -> tuple[datetime, str]:
    if not after:
        return datetime(1970, 1, 1, tzinfo=UTC), ""
    at, _, record_id = decode_cursor(after, _QUEUE_CURSOR).partition("|")
    try:
        return datetime.fromisoformat(at), record_id
    except ValueError:
        raise HubError(Code.BAD_USER_INPUT, "the cursor is not one this API issued") from None


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


def _import_view(row: dict[str, object]) -> ArchiveImport:
    def count(key: str) -> int:
        value = row.get(key)
        return int(value) if isinstance(value, int) else 0

    def when(key: str) -> datetime | None:
        value = row.get(key)
        return datetime.fromisoformat(value) if isinstance(value, str) else None

    return ArchiveImport(
        id=str(row["id"]),
        agency=str(row["agency"]),
        status=str(row["status"]),
        file_name=row.get("fileName"),  # type: ignore[arg-type]
        format=row.get("format"),  # type: ignore[arg-type]
        read=count("read"),
        created=count("created"),
        updated=count("updated"),
        unchanged=count("unchanged"),
        rejected=count("rejected"),
        error=row.get("error"),  # type: ignore[arg-type]
        started_at=when("startedAt"),
        finished_at=when("finishedAt"),
    )


@strawberry.type
class RecordQueries:
    @strawberry.field(
        description="Records waiting for review in your jurisdiction (reviewers), or your own "
        "unit's submissions (submitters); oldest first.",
        permission_classes=[RootPolicy],
    )
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
        bounded("first", first, 1, MAX_PAGE)
        if "reviewer" not in context.principal.roles:
            unit = own  # a submitter sees its own unit's submissions only
        after_at, after_id = _queue_after(after)
        with backing_services():
            records, _, _ = await context.driver.execute_query(
                QUEUE,
                status=status,
                unit=unit,
                unitPrefix=unit_prefix(own),
                afterAt=after_at,
                afterId=after_id,
                limit=first + 1,
                database_=context.database,
                routing_="r",
                **context.scope,
            )
        nodes = [_queued(dict(r["record"]), r["subject"], r["subjectName"]) for r in records]
        page = nodes[:first]
        edges = [
            QueuedRecordEdge(
                cursor=encode_cursor(
                    f"{n.submitted_at.isoformat() if n.submitted_at else ''}|{n.id}",
                    _QUEUE_CURSOR,
                ),
                node=n,
            )
            for n in page
        ]
        context.audited.append(Audited("reviewQueue", None, tuple(n.id for n in page)))
        return ReviewQueue(
            edges=edges,
            has_next_page=len(nodes) > first,
            end_cursor=edges[-1].cursor if edges else None,
        )

    @strawberry.field(
        description="One record by id with its earlier versions and any proposed change, "
        "whatever its status (withdrawn and expired ones too); null when you may not read it.",
        permission_classes=[RootPolicy],
    )
    async def credit_record(self, info: strawberry.Info, id: str) -> CreditRecord | None:
        context = ctx(info)
        with backing_services():
            found = await record_by_id(context.store, id, context.scope)
        if found is None:
            return None
        row, subject = found
        context.audited.append(Audited("creditRecord", subject, tuple(released_ids(row))))
        return record_view(row)

    @strawberry.field(
        description="An archive import of your unit: progress, counts, rejected rows.",
        permission_classes=[RootPolicy],
    )
    async def archive_import(self, info: strawberry.Info, id: str) -> ArchiveImport | None:
        context = ctx(info)
        own = unit_of(context.principal)
        with backing_services():
            row = await find_import(context.store, id)
        if row is None or not covers(own, str(row["agency"])):
            return None  # someone else's import reads as absent
        context.audited.append(Audited("archiveImport", None, (id,)))
        return _import_view(row)

    @strawberry.field(
        description="Collection work per unit for decisions in [from, to] (your jurisdiction).",
        permission_classes=[RootPolicy],
    )
    async def collection_assessment(
        self,
        info: strawberry.Info,
        from_: Annotated[date, strawberry.argument(name="from")],
        to: date,
        unit: str | None = None,
    ) -> list[UnitAssessment]:
        context = ctx(info)
        own = unit_of(context.principal)
        if from_ > to:
            raise HubError(Code.BAD_USER_INPUT, "from is after to")
        with backing_services():
            rows = await assess(context.store, from_, to, date.today(), unit)
        visible = [r for r in rows if covers(own, str(r["unit"]))]
        context.audited.append(
            Audited("collectionAssessment", None, tuple(str(r["unit"]) for r in visible))
        )
        return [
            UnitAssessment(
                unit=r["unit"],
                unit_name=r["unitName"],
                level=r["level"],
                submitted=r["submitted"],
                published=r["published"],
                pending=r["pending"],
                returned=r["returned"],
                return_rate=r["returnRate"],
                due=r["due"],
                on_time=r["onTime"],
                late=r["late"],
                overdue=r["overdue"],
                timeliness_rate=r["timelinessRate"],
            )
            for r in visible
        ]
