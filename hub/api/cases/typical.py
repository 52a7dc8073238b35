"""Typical cases over GraphQL: a unit's submitter proposes its closed, upheld case
(``proposeTypicalCase``), a reviewer of that unit or above approves it for the portal, returns
it or withdraws it; units list theirs (``typicalCases``), anyone reads the published ones
(``publishedTypicalCases``, ``publishedTypicalCase``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

import strawberry

from graph.cases import typical
from graph.cases.typical import Draft, TypicalRefused
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
from policies.credit.catalogue import default_catalogue
from policies.divisions import find_division
from policies.units import unit_prefix

_UNIT_CURSOR = "tc1:"
_PUBLIC_CURSOR = "tp1:"


@strawberry.enum(description="Where a typical case stands.")
class TypicalCaseStatus(Enum):
    PROPOSED = "PROPOSED"  # waiting for a reviewer
    RETURNED = "RETURNED"  # sent back with reasons; the case may be proposed again
    PUBLISHED = "PUBLISHED"  # on the portal
    WITHDRAWN = "WITHDRAWN"  # taken off the portal


@strawberry.input(description="The text to publish; no personal data (docs/cases.md).")
class TypicalCaseInput:
    title: str
    summary: str
    legal_basis: str
    outcome: str
    lesson: str | None = None


@strawberry.type(description="A typical case as its units work on it.")
class TypicalCase:
    id: str
    case_id: str
    credit_code: str
    subject_name: str = strawberry.field(
        description="The subject as the portal names it: an organisation's name, else 某个体工商户."
    )
    unit: str
    matter: str | None
    title: str
    summary: str
    legal_basis: str
    outcome: str
    lesson: str | None
    status: TypicalCaseStatus
    proposed_by: str
    proposed_on: date
    reviewed_by: str | None
    published_on: date | None
    returned_reasons: str | None
    withdrawn_on: date | None
    withdrawn_reasons: str | None


@strawberry.type(
    description="A published typical dishonesty case (典型失信案例), as on the portal."
)
class PublishedTypicalCase:
    id: str
    title: str
    subject_name: str = strawberry.field(
        description="An organisation's name; for an individual business 某个体工商户."
    )
    credit_code: str | None = strawberry.field(description="Only for an organisation.")
    division: str
    matter: str | None
    summary: str
    legal_basis: str
    outcome: str
    lesson: str | None
    published_on: date


@strawberry.type
class TypicalCaseEdge:
    cursor: str
    node: TypicalCase


@strawberry.type
class TypicalCaseConnection:
    edges: list[TypicalCaseEdge]
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class PublishedTypicalCaseEdge:
    cursor: str
    node: PublishedTypicalCase


@strawberry.type
class PublishedTypicalCaseConnection:
    edges: list[PublishedTypicalCaseEdge]
    has_next_page: bool
    end_cursor: str | None


def matter_name(item: str | None) -> str | None:
    found = default_catalogue().get(item or "")
    return found.name if found else item


def unit_view(t: dict[str, Any]) -> TypicalCase:
    return TypicalCase(
        id=t["id"],
        case_id=t["case"],
        credit_code=t["creditCode"],
        subject_name=typical.shown_name(t["subjectName"], t["subjectKind"], t["creditCode"]),
        unit=t["unit"],
        matter=matter_name(t["matter"]),
        title=t["title"],
        summary=t["summary"],
        legal_basis=t["legalBasis"],
        outcome=t["outcome"],
        lesson=t["lesson"],
        status=TypicalCaseStatus(t["status"]),
        proposed_by=t["proposedBy"],
        proposed_on=date.fromisoformat(t["proposedOn"]),
        reviewed_by=t["reviewedBy"],
        published_on=to_date(t["publishedOn"]),
        returned_reasons=t["returnedReasons"],
        withdrawn_on=to_date(t["withdrawnOn"]),
        withdrawn_reasons=t["withdrawnReasons"],
    )


def public_view(t: dict[str, Any]) -> PublishedTypicalCase:
    """What anyone reads: no credit code, and a placeholder name, unless an organisation."""
    shown = typical.organisation(t["subjectKind"], t["creditCode"])
    division = find_division(t["division"] or "")
    return PublishedTypicalCase(
        id=t["id"],
        title=t["title"],
        subject_name=typical.shown_name(t["subjectName"], t["subjectKind"], t["creditCode"]),
        credit_code=t["creditCode"] if shown else None,
        division=division.name if division else "",
        matter=matter_name(t["matter"]),
        summary=t["summary"],
        legal_basis=t["legalBasis"],
        outcome=t["outcome"],
        lesson=t["lesson"],
        published_on=date.fromisoformat(t["publishedOn"]),
    )


def _refused(exc: TypicalRefused) -> HubError:
    return HubError(Code(exc.code), str(exc), reason=exc.reason, **exc.extra)


def _after(after: str | None, prefix: str) -> tuple[date, str]:
    return decode_day_cursor(after, prefix) if after else typical.TOP


async def _unit_case(info: strawberry.Info, id: str) -> TypicalCase:
    """The typical case after a step, as the caller's unit reads it."""
    context = ctx(info)
    found = await typical.one(context.store, id, unit_prefix(unit_of(context.principal)))
    if found is None:  # gone between the step and this read: say so, as for an unknown one
        raise HubError(Code.NOT_FOUND, f"no typical case {id} in your jurisdiction")
    return unit_view(found)


async def _step(
    info: strawberry.Info, id: str, step: Callable[..., Awaitable[None]], **details: Any
) -> TypicalCase:
    """A reviewer's step on a typical case of the caller's unit or one below, audited as a write
    whether it goes through or is refused."""
    context = ctx(info)
    try:
        await step(
            context.store, id, unit_prefix=unit_prefix(unit_of(context.principal)),
            by=context.principal.subject, now=datetime.now(UTC), **details,
        )  # fmt: skip
    except TypicalRefused as exc:
        audit(info, None, (id,), "DENY", "write")
        raise _refused(exc) from None
    audit(info, None, (id,), action="write")
    return await _unit_case(info, id)


@strawberry.type
class TypicalCaseQueries:
    @strawberry.field(
        description="Typical cases of your unit and the units below it, newest proposal first.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def typical_cases(
        self,
        info: strawberry.Info,
        status: TypicalCaseStatus | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> TypicalCaseConnection:
        context = ctx(info)
        prefix = unit_prefix(unit_of(context.principal))
        size = page_size(first)
        rows = await typical.of_units(
            context.store,
            prefix,
            status.value if status else None,
            _after(after, _UNIT_CURSOR),
            size + 1,
        )
        edges = [
            TypicalCaseEdge(cursor=encode_cursor(f"{r['proposedOn']}|{r['id']}", _UNIT_CURSOR),
                            node=unit_view(r))
            for r in rows[:size]
        ]  # fmt: skip
        audit(info, None, (e.node.id for e in edges))
        return TypicalCaseConnection(
            edges=edges,
            has_next_page=len(rows) > size,
            end_cursor=edges[-1].cursor if edges else None,
        )

    @strawberry.field(
        description="Published typical dishonesty cases, newest first: what the portal shows.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def published_typical_cases(
        self, info: strawberry.Info, first: int = 20, after: str | None = None
    ) -> PublishedTypicalCaseConnection:
        size = page_size(first)
        rows = await typical.published(ctx(info).store, _after(after, _PUBLIC_CURSOR), size + 1)
        edges = [
            PublishedTypicalCaseEdge(
                cursor=encode_cursor(f"{r['publishedOn']}|{r['id']}", _PUBLIC_CURSOR),
                node=public_view(r),
            )
            for r in rows[:size]
        ]
        audit(info, None, (e.node.id for e in edges))
        return PublishedTypicalCaseConnection(
            edges=edges,
            has_next_page=len(rows) > size,
            end_cursor=edges[-1].cursor if edges else None,
        )

    @strawberry.field(
        description="One published typical case; null when unknown, withdrawn or not published.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def published_typical_case(
        self, info: strawberry.Info, id: str
    ) -> PublishedTypicalCase | None:
        found = await typical.published_one(ctx(info).store, id)
        audit(info, None, (id,) if found else ())
        return public_view(found) if found else None


@strawberry.type
class TypicalCaseMutations:
    @strawberry.mutation(
        description="Propose a closed case of your unit whose outcome was upheld as a typical "
        "case; its text may hold no personal data. PROPOSED until a reviewer approves it.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def propose_typical_case(
        self, info: strawberry.Info, case_id: str, input: TypicalCaseInput
    ) -> TypicalCase:
        context = ctx(info)
        unit = unit_of(context.principal)
        draft = Draft(input.title, input.summary, input.legal_basis, input.outcome, input.lesson)
        try:
            new_id = await typical.propose(
                context.store, case_id, draft, unit=unit, by=context.principal.subject,
                today=date.today(), now=datetime.now(UTC),
            )  # fmt: skip
        except TypicalRefused as exc:
            audit(info, None, (case_id,), "DENY", "write")
            raise _refused(exc) from None
        audit(info, None, (case_id, new_id), action="write")
        return await _unit_case(info, new_id)

    @strawberry.mutation(
        description="Approve a proposed typical case of your unit or one below it: published on "
        "the portal at once. Not by its proposer.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def approve_typical_case(self, info: strawberry.Info, id: str) -> TypicalCase:
        return await _step(
            info, id, typical.approve, kinds=catalogue().record_kinds, today=date.today()
        )

    @strawberry.mutation(
        description="Return a proposed typical case to its unit with the reasons.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def return_typical_case(
        self, info: strawberry.Info, id: str, reasons: str
    ) -> TypicalCase:
        return await _step(info, id, typical.send_back, reasons=reasons)

    @strawberry.mutation(
        description="Withdraw a published typical case: gone from the portal at once.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def withdraw_typical_case(
        self, info: strawberry.Info, id: str, reasons: str
    ) -> TypicalCase:
        return await _step(
            info, id, typical.withdraw, reasons=reasons, kinds=catalogue().record_kinds,
            today=date.today(),
        )  # fmt: skip
