"""``overdueItems``: the objections, complaints, repair applications and cases of your unit and
the units below it that are open past their deadline, earliest due first."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from graph.rights.overdue import overdue_items
from hub.api.context import (
    RootPolicy,
    audit,
    ctx,
    decode_day_cursor,
    encode_cursor,
    page_size,
    resolver,
)
from hub.api.records.units import unit_of
from policies.units import AGENCY_PREFIX, unit_prefix

_CURSOR = "od1:"


@strawberry.type(description="An open filing or case past the deadline of its current step.")
class OverdueItem:
    kind: str = strawberry.field(description="Objection, Complaint, RepairApplication or Case.")
    id: str
    status: str
    unit: str
    credit_code: str | None
    filed_on: date
    due_on: date
    duty: str | None = strawberry.field(
        description="A case's: the document kind whose deadline passed (policies/cases.yaml)."
    )
    party: str | None = strawberry.field(
        description="A case's: who must act (DEPARTMENT, POLICE, PROCURATORATE or COURT)."
    )


@strawberry.type
class OverdueItemEdge:
    cursor: str
    node: OverdueItem


@strawberry.type
class OverdueItemConnection:
    edges: list[OverdueItemEdge]
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class OverdueQueries:
    @strawberry.field(
        description="Open objections, complaints, repair applications and cases past their "
        "deadline, of your unit and the units below it; earliest due first.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def overdue_items(
        self,
        info: strawberry.Info,
        first: int = 20,
        after: str | None = None,
        as_of: Annotated[
            date | None,
            strawberry.argument(
                description="The day to judge by (default today): a later day shows what "
                "falls overdue by then if nothing moves."
            ),
        ] = None,
    ) -> OverdueItemConnection:
        context = ctx(info)
        unit = unit_of(context.principal)
        page_size(first)
        after_day = decode_day_cursor(after, _CURSOR)
        agency_prefix = AGENCY_PREFIX + unit_prefix(unit)
        today = as_of or date.today()
        rows = await overdue_items(context.store, agency_prefix, today, after_day, first + 1)
        nodes = [
            OverdueItem(
                kind=r["kind"],
                id=r["id"],
                status=str(r["status"]),
                unit=r["unit"],
                credit_code=r["creditCode"],
                filed_on=date.fromisoformat(r["filedOn"]),
                due_on=date.fromisoformat(r["dueOn"]),
                duty=r["duty"],
                party=r["party"],
            )
            for r in rows
        ]
        edges = [
            OverdueItemEdge(cursor=encode_cursor(f"{n.due_on}|{n.id}", _CURSOR), node=n)
            for n in nodes[:first]
        ]
        audit(info, None, (e.node.id for e in edges))
        return OverdueItemConnection(
            edges=edges,
            has_next_page=len(nodes) > first,
            end_cursor=edges[-1].cursor if edges else None,
        )
