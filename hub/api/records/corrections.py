"""``proposeCorrection``, ``proposeWithdrawal``: a unit proposes changing its published record."""

from __future__ import annotations

import strawberry

from graph.records.corrections import propose
from graph.records.submissions import Submission
from hub.api.context import RootPolicy, audit, ctx, resolver
from hub.api.records.review import refusal
from hub.api.records.submission import RecordInput, submission_of
from hub.api.records.units import unit_of
from policies.credit.review import ReviewRefused
from policies.units import unit_prefix


@strawberry.type(description="A proposed correction or withdrawal of a published record.")
class ChangeResult:
    id: str = strawberry.field(description="The proposal's id (RC-…): review it by this id.")
    record: str
    kind: str = strawberry.field(description="CORRECTION or WITHDRAWAL.")
    outcome: str = strawberry.field(description="created, or updated (an open one replaced).")
    status: str


async def _propose(
    info: strawberry.Info, record_id: str, kind: str, reason: str, new: Submission | None
) -> ChangeResult:
    context = ctx(info)
    unit = unit_of(context.principal)
    try:
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
        audit(info, exc.subject, (record_id,), "DENY", "write")
        raise refusal(exc) from None
    audit(info, subject, (record_id, change), action="write")
    return ChangeResult(id=change, record=record_id, kind=kind, outcome=outcome, status="PENDING")


@strawberry.type
class CorrectionMutations:
    @strawberry.mutation(
        description="Propose new content for your unit's published record (same subject, item "
        "and document number); reviewed like a submission, and until approved the published "
        "version stands.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def propose_correction(
        self, info: strawberry.Info, id: str, record: RecordInput, reason: str
    ) -> ChangeResult:
        return await _propose(info, id, "CORRECTION", reason, submission_of(record))

    @strawberry.mutation(
        description="Propose withdrawing your unit's published record (e.g. the decision was "
        "revoked); reviewed like a submission.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def propose_withdrawal(self, info: strawberry.Info, id: str, reason: str) -> ChangeResult:
        return await _propose(info, id, "WITHDRAWAL", reason, None)
