"""``submitRecord``: a unit submits one credit record, PENDING until reviewers approve it."""

from __future__ import annotations

from datetime import date

import strawberry
from neo4j.exceptions import ConstraintError

from graph.archive.row_fields import RowError
from graph.records.submissions import Submission, parse_submission, submit_one
from hub.api.context import RootPolicy, audit, ctx, resolver
from hub.api.records.units import unit_of
from hub.errors import Code, HubError
from policies.units import unit_prefix

_SUBMIT_REFUSALS = {
    "outside-jurisdiction": Code.FORBIDDEN,
    "conflict": Code.CONFLICT,
    "unknown-subject": Code.BAD_USER_INPUT,
}


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


def submission_of(record: RecordInput) -> Submission:
    """The record checked as an archive row would be, or the row's refusal as a coded error."""
    try:
        return parse_submission(_raw_record(record), date.today())
    except RowError as exc:
        code = Code.INVALID_CREDIT_CODE if exc.reason == "invalid-credit-code" else None
        raise HubError(code or Code.BAD_USER_INPUT, str(exc), reason=exc.reason) from None


@strawberry.type
class SubmissionMutations:
    @strawberry.mutation(
        description="Submit one record for review (PENDING until approved).",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def submit_record(self, info: strawberry.Info, record: RecordInput) -> SubmitResult:
        context = ctx(info)
        unit = unit_of(context.principal)
        parsed = submission_of(record)
        try:
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
            audit(info, parsed.subject, (), "DENY", "write")
            raise HubError(
                _SUBMIT_REFUSALS[outcome.outcome], outcome.message, reason=outcome.outcome
            )
        audit(info, parsed.subject, (parsed.id,), action="write")
        return SubmitResult(
            id=parsed.id, outcome=outcome.outcome, status=outcome.status or "PENDING"
        )
