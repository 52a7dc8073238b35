"""Partners report the measures they apply: GraphQL ``reportMeasure`` or ``POST /feedback``
(the same JSON fields, for partners that do not speak GraphQL). What they report is what the
hourly reconciliation compares with the hub's listings (graph/exchange/feedback.py)."""

from __future__ import annotations

from datetime import date

import strawberry

from graph.db import Store
from graph.exchange.feedback import FeedbackError, report
from hub.api.context import RootPolicy, audit, ctx
from hub.errors import Code, HubError, backing_services
from hub.settings import catalogue
from policies.principal import Principal


async def record_report(
    store: Store,
    principal: Principal,
    sanction: str,
    measure: str,
    applied: bool,
    on: date | None,
    note: str | None,
) -> None:
    try:
        with backing_services():
            await report(
                store,
                catalogue(),
                partner=principal.agency,
                sanction=sanction,
                measure=measure,
                active=applied,
                on=on or date.today(),
                note=note,
            )
    except FeedbackError as exc:
        code = Code.NOT_FOUND if exc.reason == "unknown-sanction" else Code.BAD_USER_INPUT
        raise HubError(code, str(exc), reason=exc.reason) from None


@strawberry.type
class FeedbackMutations:
    @strawberry.mutation(
        description="Report that you apply (applied: true) or stopped applying a measure of a "
        "listing; the reconciliation re-sends what your reports and the hub's listings "
        "disagree on.",
        permission_classes=[RootPolicy],
    )
    async def report_measure(
        self,
        info: strawberry.Info,
        sanction_id: str,
        measure: str,
        applied: bool,
        on: date | None = None,
        note: str | None = None,
    ) -> bool:
        context = ctx(info)
        await record_report(
            context.store,
            context.principal,
            sanction_id,
            measure,
            applied,
            on,
            note,
        )
        audit(info, None, (sanction_id,), action="write")
        return True
