"""``GET /schema.graphql``: the caller's own API contract, as SDL.

Partners may not introspect; this is how their token fetches what it may call (the roles of
the token, hub/api/contract.py), to build and check a client against. Authenticated like every
REST endpoint, and audited: which contract was handed to whom.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from hub.http.rest.endpoint import Rest
from policies.principal import Principal

CONTRACT = Rest("GET /schema.graphql", "read")


@CONTRACT.endpoint
async def role_schema(request: Request, principal: Principal) -> Response:
    roles = tuple(sorted(principal.roles))
    sdl = request.app.state.contracts.sdl(roles)
    await CONTRACT.audit(request, principal, "ALLOW", released=roles)
    return Response(
        sdl,
        media_type="text/plain; charset=utf-8",
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )
