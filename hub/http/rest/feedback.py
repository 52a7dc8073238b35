"""``POST /feedback``: a partner reports a measure it applies, for partners that do not speak
GraphQL; the same fields, checks and record as ``reportMeasure`` (hub/api/feedback.py)."""

from __future__ import annotations

import json
from datetime import date

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hub.api.feedback import record_report
from hub.errors import Code, HubError
from hub.http.bodies import BodyTooLarge, read_body
from hub.http.rest.endpoint import Rest
from policies.principal import Principal

MAX_BODY = 4096
_KEYS = {"sanctionId", "measure", "applied", "on", "note"}


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


def _refusal(request: Request, principal: Principal) -> str | None:
    """The roles the ``reportMeasure`` field allows: partners."""
    if request.app.state.policy.may_call(principal, "reportMeasure"):
        return None
    return "only partners report measures"


FEEDBACK = Rest("POST /feedback", "write", _refusal)


@FEEDBACK.endpoint
async def post_feedback(request: Request, principal: Principal) -> Response:
    try:
        body = await read_body(request, MAX_BODY, "a report")
    except BodyTooLarge as exc:
        return exc.response()
    sanction, measure, applied, on, note = _parsed(body)
    state = request.app.state
    await record_report(
        state.store,
        principal,
        sanction,
        measure,
        applied,
        on,
        note,
    )
    await FEEDBACK.audit(request, principal, "ALLOW", released=(sanction,))
    return JSONResponse({"recorded": True})
