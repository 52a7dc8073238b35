"""Who is calling: Starlette's ``AuthenticationMiddleware`` with the hub's token verification.

A request with a bearer token leaves the middleware authenticated (``request.user`` is a
:class:`Caller` holding the :class:`Principal`, ``request.auth.scopes`` its roles) or refused
(401 ``UNAUTHENTICATED``, the token's fault said). A request without one passes anonymous: the
endpoint decides (health, readiness and the pages need no token; GraphQL and REST refuse).
A refused token whose signature verified is audited once (hub/http/auth/tokens.py says why
only those).
"""

from __future__ import annotations

import redis.exceptions
import structlog
from starlette.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    AuthenticationError,
    BaseUser,
)
from starlette.requests import HTTPConnection
from starlette.responses import Response

from hub.audit_log import audit_refusal
from hub.errors import Code, error_response
from hub.http.auth.claims import AuthError
from hub.http.auth.tokens import RefusedToken
from policies.principal import Principal

log = structlog.get_logger("hub.http.auth.backend")
MISSING = "missing bearer token: send 'Authorization: Bearer <token>'"


class Caller(BaseUser):
    """An authenticated caller: the principal its token states."""

    def __init__(self, principal: Principal) -> None:
        self.principal = principal

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:
        return self.principal.subject

    @property
    def identity(self) -> str:
        return self.principal.subject


def bearer_token(header: str) -> str:
    if not header:
        raise AuthError(MISSING)
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("the Authorization header must be 'Bearer <token>'")
    return token.strip()


class TokenBackend(AuthenticationBackend):
    """Bearer tokens through the app's token cache (``app.state.tokens``) and verifier
    (``app.state.verifier``). Paths in ``own_credentials`` carry a credential of their own in
    the Authorization header (``/metrics``'s scrape token), which is not a hub token."""

    def __init__(self, own_credentials: frozenset[str] = frozenset()) -> None:
        self._own_credentials = own_credentials

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        header = conn.headers.get("authorization")
        if header is None or conn.url.path in self._own_credentials:
            return None
        try:
            principal = await _verified(conn, bearer_token(header))
        except AuthError as exc:
            raise AuthenticationError(str(exc)) from None
        return AuthCredentials(sorted(principal.roles)), Caller(principal)


async def _verified(conn: HTTPConnection, token: str) -> Principal:
    state = conn.app.state
    principal: Principal | None = state.tokens.get(token)  # a hit costs no signature check
    if principal is None:
        try:
            principal = await state.verifier.verify(token)
        except RefusedToken as exc:
            if state.tokens.first_refusal(token):
                await _audit(conn, exc)
            raise
        state.tokens.put(token, principal)
    return principal


async def _audit(conn: HTTPConnection, refused: RefusedToken) -> None:
    """Audit a refusal; if Redis is down the caller is still refused (nothing is released),
    and the log keeps the trace."""
    try:
        await audit_refusal(conn, refused.issuer, refused.claims, str(refused))
    except (redis.exceptions.RedisError, OSError) as exc:
        log.error("refused token not audited", issuer=refused.issuer, error=repr(exc))


def unauthenticated(conn: HTTPConnection, exc: Exception) -> Response:
    """The 401 of a request without a valid token (the middleware's ``on_error``)."""
    return error_response(
        401, Code.UNAUTHENTICATED, str(exc), headers={"WWW-Authenticate": "Bearer"}
    )


def principal_of(conn: HTTPConnection) -> Principal:
    """The caller's principal; :class:`AuthError` for an anonymous request."""
    user = conn.user
    if isinstance(user, Caller):
        return user.principal
    raise AuthError(MISSING)
