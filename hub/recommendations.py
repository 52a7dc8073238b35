"""``GET /recommendations/{sanction}``: a unit prints the joint-sanction recommendation for a
partner kind not yet connected (``?kind=BANK``; all kinds without it), as a PDF.

Who may: the roles ``listingCase`` allows, for listings of subjects in their jurisdiction; the
refusal is GraphQL-shaped, and every recommendation printed is audited against its subject.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import Response

from connectors.recommendation import render
from graph.audit import Decision
from graph.listings import listing_facts
from policies.access import read_scope
from policies.principal import Principal
from policies.units import unit_prefix, units_by_code

from .audit import audit_request
from .auth import AuthError, authenticate
from .errors import Code, HubError, backing_services, refusal_response
from .settings import catalogue

FIELD = "GET /recommendations"


async def _audit(
    request: Request, principal: Principal, subject: str | None, sanction: str, decision: Decision
) -> None:
    await audit_request(
        request,
        principal,
        action="read",
        field=FIELD,
        subject=subject,
        released=(sanction,),
        decision=decision,
    )


async def recommendation(request: Request) -> Response:
    sanction = request.path_params["sanction"]
    try:
        principal = await authenticate(request)
    except AuthError as exc:
        return refusal_response(
            HubError(Code.UNAUTHENTICATED, str(exc)), **{"WWW-Authenticate": "Bearer"}
        )
    state = request.app.state
    try:
        allowed = (
            state.policy.may_call(principal, "listingCase")
            and principal.level != "PARTNER"
            and principal.agency in units_by_code()
        )
        if not allowed:
            await _audit(request, principal, None, sanction, "DENY")
            raise HubError(Code.FORBIDDEN, "only the department's units print recommendations")
        kind = request.query_params.get("kind")
        if kind is not None and kind not in catalogue().partner_kinds:
            raise HubError(
                Code.BAD_USER_INPUT, f"kind is one of {', '.join(catalogue().partner_kinds)}"
            )
        with backing_services():
            scope = read_scope(principal, state.policy).params()
            facts = await listing_facts(
                state.driver, state.settings.neo4j_database, sanction, scope
            )
        prefix = unit_prefix(principal.agency)
        if facts is None or not (facts["subject"].get("division") or "").startswith(prefix):
            raise HubError(Code.NOT_FOUND, f"no listing {sanction} in your jurisdiction")
        body = render(facts, catalogue(), kind, date.today())
        await _audit(request, principal, facts["subject"]["creditCode"], sanction, "ALLOW")
    except RedisError:
        return refusal_response(HubError(Code.UNAVAILABLE, "the audit store is unavailable"))
    except HubError as error:
        return refusal_response(error)
    name = quote(f"联合惩戒建议函-{sanction}{'-' + kind if kind else ''}.pdf")
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )
