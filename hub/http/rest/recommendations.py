"""``GET /recommendations/{sanction}``: a unit prints the joint-sanction recommendation, as a
PDF letter from that unit: to a registered partner (``?partner=CODE``, its kind's measures), to a
kind of partner (``?kind=BANK``, the kind's generic addressee), or to all (neither).

Who may: the roles ``listingCase`` allows, for dishonesty listings in force of subjects in their
jurisdiction (policies/letters.yaml names the listings); the refusal is GraphQL-shaped, and
every recommendation printed is audited against its subject.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from graph.exchange.partners import find
from graph.records.listings import listing_facts
from hub.documents.recommendation import render
from hub.errors import Code, HubError, backing_services
from hub.http.rest.endpoint import Rest
from hub.settings import catalogue, letters
from policies.access import read_scope
from policies.principal import Principal
from policies.units import unit_prefix, units_by_code

FIELD = "GET /recommendations"


def _refusal(request: Request, principal: Principal) -> str | None:
    """The department's units the ``listingCase`` field allows, not partners."""
    if (
        request.app.state.policy.may_call(principal, "listingCase")
        and principal.level != "PARTNER"
        and principal.agency in units_by_code()
    ):
        return None
    return "only the department's units print recommendations"


RECOMMEND = Rest(FIELD, "read", _refusal)


@RECOMMEND.endpoint
async def recommendation(request: Request, principal: Principal) -> Response:
    sanction = request.path_params["sanction"]
    state = request.app.state
    kind = request.query_params.get("kind")
    if kind is not None and kind not in catalogue().partner_kinds:
        raise HubError(
            Code.BAD_USER_INPUT, f"kind is one of {', '.join(catalogue().partner_kinds)}"
        )
    with backing_services():
        addressee = letters().addressee(kind)
        if code := request.query_params.get("partner"):
            partner = await find(state.store, code)
            if partner is None:
                raise HubError(Code.NOT_FOUND, f"no registered partner {code}")
            if kind is not None and kind != partner.kind:
                raise HubError(Code.BAD_USER_INPUT, f"partner {code} is of kind {partner.kind}")
            addressee, kind = partner.name, partner.kind
        scope = read_scope(principal, state.policy).params()
        facts = await listing_facts(state.store, sanction, scope)
    prefix = unit_prefix(principal.agency)
    if facts is None or not (facts["subject"].get("division") or "").startswith(prefix):
        raise HubError(Code.NOT_FOUND, f"no listing {sanction} in your jurisdiction")
    listing, status = facts["sanction"]["listing"], facts["sanction"]["status"]
    if listing not in letters().listings:
        raise HubError(
            Code.CONFLICT,
            f"{listing} is not a dishonesty listing: no joint-sanction letter is sent for it",
            reason="not-a-dishonesty-listing",
        )
    if status != "ACTIVE":
        raise HubError(Code.CONFLICT, f"the listing is {status}", reason="not-in-force")
    issuer = units_by_code()[principal.agency].name
    body = render(facts, catalogue(), kind, date.today(), addressee=addressee, issuer=issuer)
    subject = facts["subject"]["creditCode"]
    await RECOMMEND.audit(request, principal, "ALLOW", subject=subject, released=(sanction,))
    name = quote(f"联合惩戒建议函-{sanction}{'-' + kind if kind else ''}.pdf")
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )
