"""``collectionAssessment``: each unit's collection work over a period of decisions."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from graph.assessment import assess
from hub.api.context import RootPolicy, audit, ctx, resolver
from hub.api.records.units import unit_of
from hub.errors import Code, HubError
from policies.units import covers


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
    overdue_objections: int = strawberry.field(
        description="Open objections past their deadline today (graph/rights/overdue.py)."
    )
    overdue_complaints: int = strawberry.field(
        description="Open complaints and reports past their deadline today."
    )
    overdue_repairs: int = strawberry.field(
        description="Open credit repair applications past their deadline today."
    )
    overdue_cases: int = strawberry.field(
        description="Open cases whose current duty (a transfer's deadline) is past its day today."
    )


@strawberry.type
class AssessmentQueries:
    @strawberry.field(
        description="Collection work per unit for decisions in [from, to] (your jurisdiction).",
        permission_classes=[RootPolicy],
    )
    @resolver
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
        rows = await assess(context.store, from_, to, date.today(), unit)
        visible = [r for r in rows if covers(own, str(r["unit"]))]
        audit(info, None, (str(r["unit"]) for r in visible))
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
                overdue_objections=r["overdueObjections"],
                overdue_complaints=r["overdueComplaints"],
                overdue_repairs=r["overdueRepairs"],
                overdue_cases=r["overdueCases"],
            )
            for r in visible
        ]
