"""``GET /schema.graphql``: the caller's own API contract, as SDL.

Partners may not introspect; this is how their token fetches what it may call (the roles of
the token, hub/api/contract.py), to build and check a client against. Authenticated like every
REST endpoint, and audited: which contract was handed to whom.
"""

from __future__ import annotations

from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import Response

from hub.audit_log import audit_request
from hub.errors import Code, HubError, refusal_response
from hub.http.auth import AuthError, authenticate

FIELD = "GET /schema.graphql"


async def role_schema(request: Request) -> Response:
    try:
        principal = await authenticate(request)
    except AuthError as exc:
        return refusal_response(
            HubError(Code.UNAUTHENTICATED, str(exc)), **{"WWW-Authenticate": "Bearer"}
        )
    roles = tuple(sorted(principal.roles))
    sdl = request.app.state.contracts.sdl(roles)
    try:
        await audit_request(
            request,
            principal,
            action="read",
            field=FIELD,
            subject=None,
            released=roles,
            decision="ALLOW",
        )
    except RedisError:
        return refusal_response(HubError(Code.UNAVAILABLE, "the audit store is unavailable"))
    return Response(
        sdl,
        media_type="text/plain; charset=utf-8",
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )
