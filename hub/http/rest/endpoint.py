"""The frame of a REST endpoint: who may call it, its audit entries, its errors GraphQL-shaped.

Each REST endpoint declares one :class:`Rest`: the field its audit entries name, their action,
and the rule that refuses a caller. Wrapped by :meth:`Rest.endpoint`, the handler runs only for
an authenticated caller (401 otherwise) the rule allows (403 otherwise, audited first), on the
caller's causal chain (its reads see its earlier writes through any API process); a
:class:`HubError` it raises is answered with the status its code means.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import Response

from connectors.coordination.causal import caller_chain, caller_key
from graph.audit_chain import Action, Decision
from graph.bookmarks import Chain, following
from hub.audit_log import audit_request
from hub.errors import Code, HubError, refusal_response
from hub.http.auth.backend import principal_of, unauthenticated
from hub.http.auth.claims import AuthError
from policies.principal import Principal

Handler = Callable[[Request, Principal], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]
# Why a caller may not call the endpoint, or None when it may.
Rule = Callable[[Request, Principal], str | None]


def anyone(request: Request, principal: Principal) -> str | None:
    """Every authenticated caller may (what it gets is its own, e.g. its roles' contract)."""
    return None


@dataclass(frozen=True, slots=True)
class Rest:
    field: str  # what audit entries name, e.g. "GET /exports/network"
    action: Action
    refusal: Rule = anyone

    async def audit(
        self,
        request: Request,
        principal: Principal,
        decision: Decision,
        *,
        subject: str | None = None,
        released: tuple[str, ...] = (),
    ) -> None:
        """One entry, acknowledged by Redis before anything is answered; when Redis refuses,
        nothing is: ``UNAVAILABLE``."""
        try:
            await audit_request(
                request,
                principal,
                action=self.action,
                field=self.field,
                subject=subject,
                released=released,
                decision=decision,
            )
        except RedisError:
            raise HubError(
                Code.UNAVAILABLE, "the audit store is unavailable; retry shortly"
            ) from None

    def endpoint(self, handler: Handler) -> Endpoint:
        """The Starlette endpoint: ``handler`` called with the allowed caller's principal. A
        refusal is audited with what was asked for (the path's parameters)."""

        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            try:
                principal = principal_of(request)
            except AuthError as exc:
                return unauthenticated(request, exc)
            try:
                reason = self.refusal(request, principal)
                if reason is not None:
                    asked = tuple(str(value) for value in request.path_params.values())
                    await self.audit(request, principal, "DENY", released=asked)
                    raise HubError(Code.FORBIDDEN, reason)
                with following(await _chain(request, principal)):
                    return await handler(request, principal)
            except HubError as error:
                return refusal_response(error)

        return endpoint


async def _chain(request: Request, principal: Principal) -> Chain:
    """The caller's causal chain: its reads see its writes through any API process, and the
    tasks it queues carry them (connectors/coordination/causal.py)."""
    key = caller_key(principal)
    try:
        return caller_chain(key, await request.app.state.redis.smembers(key))
    except RedisError:
        raise HubError(Code.UNAVAILABLE, "Redis is unavailable; retry shortly") from None
