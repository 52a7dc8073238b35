"""Partners report the measures they apply: GraphQL ``reportMeasure`` or ``POST /feedback``
(the same JSON fields, for partners that do not speak GraphQL). What they report is what the
hourly reconciliation compares with the hub's listings (graph/exchange/feedback.py)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import strawberry
from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from graph.exchange.feedback import FeedbackError, report
from hub.api.context import RootPolicy, audit, ctx
from hub.audit_log import audit_request
from hub.errors import Code, HubError, backing_services, error_response, refusal_response
from hub.http.auth import AuthError, authenticate
from hub.http.bodies import BodyTooLarge, read_body
from hub.settings import catalogue
from policies.principal import Principal

FIELD = "POST /feedback"
MAX_BODY = 4096
_KEYS = {"sanctionId", "measure", "applied", "on", "note"}


async def _report(
    driver: Any,
    database: str,
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
                driver,
                database,
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
        await _report(
            context.driver,
            context.database,
            context.principal,
            sanction_id,
            measure,
            applied,
            on,
            note,
        )
        audit(info, None, (sanction_id,), action="write")
        return True


def _parsed(body: bytes) -> tuple[str, str, bool, date | None, str | None]:
    try:
        raw = json.loads(body)
    except ValueError:
        raise HubError(Code.BAD_USER_INPUT, "the body is JSON") from None
    if not isinstance(raw, dict) or not {"sanctionId", "measure", "applied"} <= set(raw):
        raise HubError(Code.BAD_USER_INPUT, "give sanctionId, measure and applied")
    if set(raw) - _KEYS:
        raise HubError(Code.BAD_USER_INPUT, f"unknown fields: {sorted(set(raw) - _KEYS)}")
    sanction, measure, applied = raw["sanctionId"], raw["measure"], raw["applied"]
    if not (isinstance(sanction, str) and isinstance(measure, str) and isinstance(applied, bool)):
        raise HubError(Code.BAD_USER_INPUT, "sanctionId and measure are text, applied true/false")
    try:
        on = date.fromisoformat(raw["on"]) if raw.get("on") is not None else None
    except (TypeError, ValueError):
        raise HubError(Code.BAD_USER_INPUT, "on is a date, YYYY-MM-DD") from None
    note = raw.get("note")
    if note is not None and not isinstance(note, str):
        raise HubError(Code.BAD_USER_INPUT, "note is text")
    return sanction, measure, applied, on, note


async def _audit(request: Request, principal: Principal, sanction: str, decision: Any) -> None:
    await audit_request(
        request,
        principal,
        action="write",
        field=FIELD,
        subject=None,
        released=(sanction,) if sanction else (),
        decision=decision,
    )


async def post_feedback(request: Request) -> Response:
    try:
        principal = await authenticate(request)
    except AuthError as exc:
        return error_response(
            401, Code.UNAUTHENTICATED, str(exc), headers={"WWW-Authenticate": "Bearer"}
        )
    try:
        if not request.app.state.policy.may_call(principal, "reportMeasure"):
            await _audit(request, principal, "", "DENY")
            return error_response(403, Code.FORBIDDEN, "only partners report measures")
        body = await read_body(request, MAX_BODY, "a report")
        sanction, measure, applied, on, note = _parsed(body)
        state = request.app.state
        await _report(
            state.driver,
            state.settings.neo4j_database,
            principal,
            sanction,
            measure,
            applied,
            on,
            note,
        )
        await _audit(request, principal, sanction, "ALLOW")
    except RedisError:
        return error_response(503, Code.UNAVAILABLE, "the audit store is unavailable; retry")
    except HubError as error:
        return refusal_response(error)
    except BodyTooLarge as exc:
        return exc.response()
    return JSONResponse({"recorded": True})
