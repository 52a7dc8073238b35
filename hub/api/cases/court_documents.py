"""The queue of court documents no case claimed, over GraphQL: the department's submitters and
reviewers read the rows their jurisdiction covers (``unmatchedDocuments``), attach one to a case
(``attachUnmatchedDocument``) or discard it with a reason (``discardUnmatchedDocument``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import strawberry

from graph.cases.model import CaseRefused
from graph.cases.unmatched import attach_unmatched_in, discard_unmatched_in, unmatched_documents
from hub.api.context import (
    RootPolicy,
    audit,
    ctx,
    decode_cursor,
    encode_cursor,
    page_size,
    resolver,
)
from hub.api.records.units import unit_of
from hub.api.subjects.types import PageInfo
from hub.errors import Code, HubError
from policies.cases import default_cases
from policies.units import unit_prefix

_CURSOR = "ud1:"


@strawberry.enum(description="Where a queued court document stands.")
class UnmatchedStatus(Enum):
    WAITING = "WAITING"  # no case claimed it: a person decides
    ATTACHED = "ATTACHED"  # now a document of a case
    DISCARDED = "DISCARDED"  # of no case of the department's


@strawberry.type(description="A court or police document that matched no case, as received.")
class UnmatchedDocument:
    id: str
    credit_code: str
    kind: str = strawberry.field(description="A document kind of policies/cases.yaml.")
    number: str
    issued_on: str
    authority: str | None
    summary: str | None
    refers_to: str = strawberry.field(description="The number of the document it answers.")
    received: str = strawberry.field(description="The row as it arrived (JSON).")
    source: str = strawberry.field(description="FEED:<feed> or IMPORT:<import id>.")
    reason: str = strawberry.field(
        description="Why it waited: no-case, credit-code-mismatch or several-cases."
    )
    status: UnmatchedStatus
    received_at: str
    case: str | None = strawberry.field(description="The case it was attached to.")
    note: str | None = strawberry.field(description="Why it was discarded.")
    decided_by: str | None
    decided_at: str | None


@strawberry.type
class UnmatchedDocumentEdge:
    cursor: str
    node: UnmatchedDocument


@strawberry.type
class UnmatchedDocumentConnection:
    edges: list[UnmatchedDocumentEdge]
    page_info: PageInfo


def _view(row: dict[str, Any]) -> UnmatchedDocument:
    return UnmatchedDocument(
        id=row["id"],
        credit_code=row["creditCode"],
        kind=row["kind"],
        number=row["number"],
        issued_on=row["issuedOn"],
        authority=row["authority"] or None,
        summary=row["summary"] or None,
        refers_to=row["refersTo"],
        received=row["received"],
        source=row["source"],
        reason=row["reason"],
        status=UnmatchedStatus(row["status"]),
        received_at=row["receivedAt"],
        case=row["case"],
        note=row["note"],
        decided_by=row["decidedBy"],
        decided_at=row["decidedAt"],
    )


def _text(name: str, value: str, limit: int) -> str:
    value = value.strip()
    if not value or len(value) > limit:
        raise HubError(Code.BAD_USER_INPUT, f"{name}: 1-{limit} characters")
    return value


@strawberry.type
class CourtDocumentQueries:
    @strawberry.field(
        description="Court documents no case claimed, of subjects your jurisdiction covers (the "
        "region also sees those of subjects the hub does not hold); in id order.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def unmatched_documents(
        self,
        info: strawberry.Info,
        status: UnmatchedStatus | None = UnmatchedStatus.WAITING,
        first: int = 20,
        after: str | None = None,
    ) -> UnmatchedDocumentConnection:
        context = ctx(info)
        prefix = unit_prefix(unit_of(context.principal))
        size = page_size(first)
        start = decode_cursor(after, _CURSOR) if after else None
        rows = await unmatched_documents(
            context.store, prefix, status.value if status else None, start, size + 1
        )
        edges = [
            UnmatchedDocumentEdge(cursor=encode_cursor(r["id"], _CURSOR), node=_view(r))
            for r in rows[:size]
        ]
        audit(info, None, [e.node.id for e in edges])
        return UnmatchedDocumentConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(rows) > size,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )


async def _settle(
    info: strawberry.Info,
    asked: tuple[str, ...],
    work: Callable[..., Awaitable[dict[str, Any]]],
    *args: Any,
) -> UnmatchedDocument:
    """Run one settling write; a refusal is audited with what was asked and answered coded."""
    try:
        row = await ctx(info).store.write(work, *args)
    except CaseRefused as exc:
        audit(info, None, asked, "DENY", "write")
        raise HubError(Code(exc.code), str(exc), reason=exc.reason) from None
    audit(info, row["creditCode"], asked, action="write")
    return _view(row)


@strawberry.type
class CourtDocumentMutations:
    @strawberry.mutation(
        description="Attach a waiting court document to a case of your jurisdiction and of the "
        "document's credit code; the case's duty follows.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def attach_unmatched_document(
        self, info: strawberry.Info, id: str, case_id: str
    ) -> UnmatchedDocument:
        principal = ctx(info).principal
        prefix = unit_prefix(unit_of(principal))
        return await _settle(
            info, (id, case_id), attach_unmatched_in, id, case_id, prefix, default_cases(),
            principal.subject, datetime.now(UTC),
        )  # fmt: skip

    @strawberry.mutation(
        description="Discard a waiting court document of your jurisdiction, saying why.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def discard_unmatched_document(
        self, info: strawberry.Info, id: str, reason: str
    ) -> UnmatchedDocument:
        principal = ctx(info).principal
        prefix = unit_prefix(unit_of(principal))
        note = _text("reason", reason, 500)
        return await _settle(
            info, (id,), discard_unmatched_in, id, note, prefix, principal.subject,
            datetime.now(UTC),
        )  # fmt: skip
