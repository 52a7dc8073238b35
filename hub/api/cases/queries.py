"""``case`` and ``cases``: the department's units read the cases of their jurisdiction,
investigators every case; one outside reads like an unknown one (null, or not in the page)."""

from __future__ import annotations

from datetime import date
from enum import Enum

import strawberry

from graph.cases.reads import CaseFilter, case_by_id, list_cases
from hub.api.cases.types import Case, CaseConnection, CaseEdge, case_released, case_view
from hub.api.context import (
    RootPolicy,
    audit,
    ctx,
    decode_cursor,
    encode_cursor,
    page_size,
    parse_code,
    resolver,
)
from policies.cases import default_cases

_CURSOR = "cs1:"


@strawberry.enum(description="Whether a case is open or closed.")
class CaseStatus(Enum):
    OPEN = "OPEN"
    CLOSED = "CLOSED"


@strawberry.input(description="Which cases: all fields optional, all given must hold.")
class CasesFilter:
    credit_code: str | None = None
    status: CaseStatus | None = None
    overdue: bool | None = strawberry.field(
        default=None, description="true: open past the due day of their duty; false: not."
    )


@strawberry.type
class CaseQueries:
    @strawberry.field(
        description="One case by id, with its documents and the records it concerns; null "
        "when unknown or outside what you may read.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def case(self, info: strawberry.Info, id: str) -> Case | None:
        context = ctx(info)
        row = await case_by_id(context.store, id, context.scope)
        if row is None:
            audit(info, None, ())
            return None
        audit(info, row["creditCode"], case_released(row))
        return case_view(row, default_cases(), date.today())

    @strawberry.field(
        description="The cases you may read, in id order (ids begin with the day opened).",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def cases(
        self,
        info: strawberry.Info,
        filter: CasesFilter | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> CaseConnection:
        context = ctx(info)
        page_size(first)
        flt = filter or CasesFilter()
        code = parse_code(flt.credit_code) if flt.credit_code else None
        status = flt.status.value if flt.status else None
        start = decode_cursor(after, _CURSOR) if after else ""
        today = date.today()
        rows = await list_cases(
            context.store, CaseFilter(code, status, flt.overdue), context.scope, today, start,
            first + 1,
        )  # fmt: skip
        rules = default_cases()
        edges = [
            CaseEdge(cursor=encode_cursor(r["id"], _CURSOR), node=case_view(r, rules, today))
            for r in rows[:first]
        ]
        audit(info, code, (i for r in rows[:first] for i in case_released(r)))
        return CaseConnection(
            edges=edges,
            has_next_page=len(rows) > first,
            end_cursor=edges[-1].cursor if edges else None,
        )
