"""Listing cases over GraphQL: a unit proposes a listing from published records, reviewers
notify the subject, record its waiver or objection, answer it, decide (which publishes the
listing and pushes it to partners), withdraw or repair. Every step names who and why."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

import strawberry

from connectors.celery_app import wake_soon
from graph.records.determination import CaseView, advance, find_case, propose, sanction_id
from hub.api.context import Context, RootPolicy, audit, ctx, parse_code, resolver
from hub.api.records.units import unit_of
from hub.errors import Code, HubError
from hub.settings import catalogue
from policies.credit.determination import StepRefused, default_rules
from policies.units import unit_prefix


@strawberry.enum(description="The fault found: negligence, intent or malice.")
class Fault(Enum):
    NEGLIGENCE = "NEGLIGENCE"
    INTENT = "INTENT"
    MALICE = "MALICE"


@strawberry.enum(description="A step of a listing case.")
class CaseStepKind(Enum):
    NOTIFY = "NOTIFY"  # the notice before the decision (needs its document number)
    WAIVE = "WAIVE"  # the subject waives stating its case
    OBJECT = "OBJECT"  # the subject objects (within the statement period)
    ANSWER = "ANSWER"  # the objection answered: upheld withdraws the case
    DECIDE = "DECIDE"  # decided and published (needs the decision's document number)
    WITHDRAW = "WITHDRAW"
    REPAIR = "REPAIR"  # credit repair after the minimum period: the listing ends


@strawberry.type(description="One recorded change of a case.")
class CaseStep:
    seq: int
    action: str
    from_status: str | None
    to_status: str
    by: str
    unit: str
    reason: str
    document: str | None
    at: str


@strawberry.type(description="A proposed, notified, listed or ended listing of a subject.")
class ListingCase:
    id: str
    credit_code: str
    name: str
    listing: str
    fault: str
    status: str
    based_on: list[str]
    statement_until: date | None
    sanction_id: str | None = strawberry.field(description="Set once decided.")
    publish_until: date | None
    repairable_from: date | None
    steps: list[CaseStep]


def _day(value: Any) -> date | None:
    native = value.to_native() if hasattr(value, "to_native") else value
    return native if isinstance(native, date) else None


def _text(value: Any) -> str:
    native = value.to_native() if hasattr(value, "to_native") else value
    return native.isoformat() if isinstance(native, datetime) else str(native)


async def _found(context: Context, case_id: str, prefix: str) -> ListingCase:
    found = await find_case(context.store, case_id, prefix)
    if found is None:
        raise HubError(Code.NOT_FOUND, f"no case {case_id} in your jurisdiction")
    return case_view(found)


def case_view(found: CaseView) -> ListingCase:
    c = found.case
    listed = c["status"] in ("LISTED", "ENDED")
    return ListingCase(
        id=c["id"],
        credit_code=c["subject"],
        name=found.name,
        listing=c["listing"],
        fault=c["fault"],
        status=c["status"],
        based_on=list(c["basedOn"]),
        statement_until=_day(c.get("statementUntil")),
        sanction_id=sanction_id(c["id"]) if listed else None,
        publish_until=_day(c.get("publishUntil")),
        repairable_from=_day(c.get("repairableFrom")),
        steps=[
            CaseStep(
                seq=s["seq"],
                action=s["action"],
                from_status=s.get("from"),
                to_status=s["to"],
                by=s["by"],
                unit=s["unit"],
                reason=s["reason"],
                document=s.get("document"),
                at=_text(s["at"]),
            )
            for s in found.steps
        ],
    )


def _refused(exc: StepRefused) -> HubError:
    return HubError(Code(exc.code), str(exc), reason=exc.reason)


@strawberry.type
class ListingQueries:
    @strawberry.field(
        description="A listing case of your jurisdiction with every step.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def listing_case(self, info: strawberry.Info, id: str) -> ListingCase | None:
        context = ctx(info)
        prefix = unit_prefix(unit_of(context.principal))
        found = await find_case(context.store, id, prefix)
        if found is None:
            return None
        view = case_view(found)
        audit(info, view.credit_code, (id,))
        return view


@strawberry.type
class ListingMutations:
    @strawberry.mutation(
        description="Propose listing a subject as seriously dishonest, from published "
        "dishonest records and the fault found; refused when the rules say otherwise.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def propose_listing(
        self,
        info: strawberry.Info,
        credit_code: str,
        records: list[str],
        fault: Fault,
        reason: str,
    ) -> ListingCase:
        context = ctx(info)
        unit = unit_of(context.principal)
        code = parse_code(credit_code)
        if not 1 <= len(records) <= 20:
            raise HubError(Code.BAD_USER_INPUT, "a case rests on 1-20 records")
        try:
            case_id = await propose(
                context.store,
                default_rules(),
                subject=code,
                records=records,
                fault=fault.value,
                reason=reason,
                by=context.principal.subject,
                unit=unit,
                prefix=unit_prefix(unit),
                now=datetime.now(UTC),
            )
            view = await _found(context, case_id, unit_prefix(unit))
        except StepRefused as exc:
            audit(info, code, records, "DENY", "write")
            raise _refused(exc) from None
        audit(info, view.credit_code, (case_id,), action="write")
        return view

    @strawberry.mutation(
        description="Take a case one step: NOTIFY, WAIVE, OBJECT, ANSWER (upheld or not), "
        "DECIDE (publishes the listing to partners), WITHDRAW or REPAIR; with the reason and, "
        "for a notice or a decision, the document number.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def advance_listing(
        self,
        info: strawberry.Info,
        id: str,
        step: CaseStepKind,
        reason: str,
        document: str | None = None,
        months: int | None = None,
        upheld: bool = False,
    ) -> ListingCase:
        context = ctx(info)
        unit = unit_of(context.principal)
        prefix = unit_prefix(unit)
        try:
            advanced = await advance(
                context.store,
                default_rules(),
                catalogue(),
                case_id=id,
                action=step.value,
                by=context.principal.subject,
                unit=unit,
                prefix=prefix,
                today=date.today(),
                reason=reason,
                document=document,
                months=months,
                upheld=upheld,
            )
            view = await _found(context, id, prefix)
        except StepRefused as exc:
            audit(info, exc.subject, (id,), "DENY", "write")
            raise _refused(exc) from None
        await wake_soon(advanced.event)
        audit(info, view.credit_code, (id,), action="write")
        return view
