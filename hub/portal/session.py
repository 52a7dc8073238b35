"""Who is signed in on the portal: a subject, after its OpenID Connect sign-in, held in a signed
session cookie (Starlette's ``SessionMiddleware``, key in ``.data/keys``), and the form token
that ties every form post to that session.

The cookie holds only what the sign-in established (the credit code, the provider's ``sub`` and
issuer, when it ends); pages rebuild the subject's :class:`Principal` from it on each request,
so a subject reads exactly what a subject's API token would let it read.
"""

from __future__ import annotations

import hmac
import secrets
import time
from typing import Any

from starlette.requests import Request

from policies.divisions import REGION_CODE
from policies.principal import SUBJECT_ROLE, Clearance, Principal

COOKIE = "hub_portal"
SIGNED_IN = "subject"
CSRF = "csrf"
FORM_FIELD = "csrf_token"  # the hidden field every portal form carries


def sign_in(request: Request, *, credit_code: str, sub: str, issuer: str, ttl: int) -> None:
    """Start a subject's session for ``ttl`` seconds (a new form token with it)."""
    request.session.clear()
    request.session[SIGNED_IN] = {
        "code": credit_code,
        "sub": sub,
        "iss": issuer,
        "exp": int(time.time()) + ttl,
    }
    request.session[CSRF] = secrets.token_urlsafe(24)


def sign_out(request: Request) -> None:
    request.session.clear()


def signed_in(request: Request) -> Principal | None:
    """The signed-in subject's principal, or None (no session, or it has ended)."""
    if "session" not in request.scope:
        return None
    held: Any = request.session.get(SIGNED_IN)
    if not isinstance(held, dict) or not isinstance(held.get("exp"), int):
        return None
    if held["exp"] <= time.time():
        sign_out(request)
        return None
    code = str(held["code"])
    return Principal(
        subject=f"oidc:{held['sub']}",
        issuer=str(held["iss"]),
        agency=code,
        level="SUBJECT",
        division=REGION_CODE,
        roles=frozenset({SUBJECT_ROLE}),
        clearance=Clearance.PUBLIC,
        expires_at=float(held["exp"]),
        credit_code=code,
    )


def csrf_token(request: Request) -> str:
    """The session's form token, for the hidden ``csrf_token`` field of a portal form."""
    token = request.session.get(CSRF)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(24)
        request.session[CSRF] = token
    return token


def csrf_ok(request: Request, sent: object) -> bool:
    """Whether a posted form carries this session's token (compared in constant time)."""
    token = request.session.get(CSRF) if "session" in request.scope else None
    return (
        isinstance(token, str)
        and isinstance(sent, str)
        and hmac.compare_digest(token.encode(), sent.encode())
    )
