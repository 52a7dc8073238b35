"""The mining-right holders' abnormal list over GraphQL: a unit lists a subject of its
jurisdiction with the reason and the deciding document, and removes it with a reason. Both
publish like any listing (outbox event, partners told, grade capped) and are audited."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import date

import strawberry

from connectors.celery_app import wake_soon
from graph.records.abnormal import AbnormalRefused, AbnormalStep, list_abnormal, remove_abnormal
from hub.api.context import RootPolicy, audit, ctx, parse_code, resolver
from hub.api.records.units import unit_of
from hub.errors import Code, HubError
from hub.settings import catalogue
from policies.credit.determination import StepRefused, check_reason, default_rules
from policies.units import unit_prefix

_DOCUMENT_MAX = 200


@strawberry.type(description="The subject's entry on the abnormal list after the step.")
class AbnormalListing:
    sanction_id: str
    credit_code: str
    status: str = strawberry.field(description="ACTIVE, REPAIRED (removed) or ENDED.")
    start_date: date | None
    end_date: date | None


def _reason(value: str) -> str:
    try:
        return check_reason(default_rules(), value)
    except StepRefused as exc:
        raise HubError(Code.BAD_USER_INPUT, str(exc), reason=exc.reason) from None


def _document(value: str | None, required: bool) -> str | None:
    text = " ".join((value or "").split())
    if required and not text:
        raise HubError(
            Code.BAD_USER_INPUT, "give the deciding document's number", reason="document"
        )
    if len(text) > _DOCUMENT_MAX:
        raise HubError(Code.BAD_USER_INPUT, f"document: at most {_DOCUMENT_MAX} characters")
    return text or None


async def _stepped(
    info: strawberry.Info, code: str, step: Awaitable[AbnormalStep]
) -> AbnormalListing:
    """Run a listing or removal: a refusal is audited and coded; a step done starts delivery."""
    try:
        done = await step
    except AbnormalRefused as exc:
        audit(info, code, (), "DENY", "write")
        raise HubError(Code(exc.code), str(exc), reason=exc.reason) from None
    await wake_soon(done.event)
    audit(info, code, (done.sanction,), action="write")
    return AbnormalListing(
        sanction_id=done.sanction,
        credit_code=code,
        status=done.status,
        start_date=done.start,
        end_date=done.end,
    )


@strawberry.type
class AbnormalMutations:
    @strawberry.mutation(
        description="Put a subject of your jurisdiction on the mining-right holders' abnormal "
        "list (勘查开采信息公示异常名录), with the reason and the deciding document.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def list_abnormal(
        self, info: strawberry.Info, credit_code: str, reason: str, document: str
    ) -> AbnormalListing:
        context = ctx(info)
        unit = unit_of(context.principal)
        code = parse_code(credit_code)
        why, doc = _reason(reason), _document(document, True)
        return await _stepped(
            info,
            code,
            list_abnormal(
                context.store,
                catalogue(),
                default_rules(),
                code=code,
                reason=why,
                document=doc or "",
                unit=unit,
                prefix=unit_prefix(unit),
                by=context.principal.subject,
                today=date.today(),
            ),
        )

    @strawberry.mutation(
        description="Take a subject off the abnormal list with the reason (it filed: REPAIRED; "
        "`mistaken: true`: the listing is WITHDRAWN).",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def remove_abnormal(
        self,
        info: strawberry.Info,
        credit_code: str,
        reason: str,
        document: str | None = None,
        mistaken: bool = False,
    ) -> AbnormalListing:
        context = ctx(info)
        unit = unit_of(context.principal)
        code = parse_code(credit_code)
        why, doc = _reason(reason), _document(document, False)
        return await _stepped(
            info,
            code,
            remove_abnormal(
                context.store,
                catalogue(),
                code=code,
                reason=why,
                document=doc,
                mistaken=mistaken,
                prefix=unit_prefix(unit),
                by=context.principal.subject,
                today=date.today(),
            ),
        )
