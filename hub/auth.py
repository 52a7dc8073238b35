"""Bearer tokens: strict JWT validation into a :class:`Principal`, and dev tokens for local use.

Algorithms are pinned per key (HS256 only for the local dev key), and ``iss``, ``aud``, ``exp``,
``iat`` and ``sub`` are required. Anything else wrong is ``UNAUTHENTICATED`` with a reason.
"""

from __future__ import annotations

import re
import time
from typing import Any

import jwt

from policies.divisions import Level, division
from policies.principal import LEVELS, ROLES, Clearance, Principal

REQUIRED_CLAIMS = ["iss", "aud", "exp", "iat", "sub"]
_DIVISION = re.compile(r"^\d{6}$")
_AGENCY = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


class AuthError(Exception):
    """Why a request is not authenticated; the message is safe to show the caller."""


def bearer_token(header: str | None) -> str:
    if not header:
        raise AuthError("missing bearer token: send 'Authorization: Bearer <token>'")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("the Authorization header must be 'Bearer <token>'")
    return token.strip()


def _claims_to_principal(claims: dict[str, Any]) -> Principal:
    agency, level, div = claims.get("agency"), claims.get("level"), claims.get("division")
    roles, clearance, purpose = claims.get("roles"), claims.get("clearance"), claims.get("purpose")
    if not isinstance(agency, str) or not _AGENCY.match(agency):
        raise AuthError("claim 'agency' is missing or malformed")
    if level not in LEVELS:
        raise AuthError(f"claim 'level' must be one of {', '.join(sorted(LEVELS))}")
    if not isinstance(div, str) or not _DIVISION.match(div):
        raise AuthError("claim 'division' must be a 6-digit division code")
    if (
        not isinstance(roles, list)
        or not roles
        or not all(isinstance(r, str) and r in ROLES for r in roles)
    ):
        raise AuthError(f"claim 'roles' must be a non-empty list of {', '.join(sorted(ROLES))}")
    if clearance not in Clearance.__members__:
        raise AuthError("claim 'clearance' must be PUBLIC, SHARED, RESTRICTED or CONFIDENTIAL")
    if purpose is not None and (not isinstance(purpose, str) or len(purpose) > 200):
        raise AuthError("claim 'purpose' must be a short string")
    return Principal(
        subject=str(claims["sub"]),
        issuer=str(claims["iss"]),
        agency=agency,
        level=str(level),
        division=div,
        roles=frozenset(roles),
        clearance=Clearance[str(clearance)],
        purpose=purpose,
        expires_at=float(claims["exp"]),
    )


class TokenCache:
    """Verified principals by token, so a client's keep-alive stream of requests costs one
    signature check, not one per request. An entry is used only until its token's ``exp``."""

    def __init__(self, size: int = 10_000) -> None:
        self._size = size
        self._entries: dict[str, Principal] = {}

    def get(self, token: str) -> Principal | None:
        principal = self._entries.get(token)
        if principal is not None and principal.expires_at <= time.time():
            del self._entries[token]
            return None
        return principal

    def put(self, token: str, principal: Principal) -> None:
        if len(self._entries) >= self._size:
            self._entries.clear()  # simple and bounded; a refill costs one check per client
        self._entries[token] = principal


def verify_dev_token(
    token: str, secret: bytes, issuer: str, audience: str, leeway: int
) -> Principal:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            audience=audience,
            issuer=issuer,
            leeway=leeway,
            options={"require": REQUIRED_CLAIMS, "verify_signature": True},
        )
    except jwt.ExpiredSignatureError:
        raise AuthError("token expired") from None
    except jwt.InvalidAudienceError:
        raise AuthError("token audience is not this hub") from None
    except jwt.InvalidIssuerError:
        raise AuthError("token issuer is not trusted") from None
    except jwt.MissingRequiredClaimError as exc:
        raise AuthError(f"token lacks required claim {exc.claim!r}") from None
    except jwt.InvalidTokenError as exc:
        raise AuthError(f"invalid token: {exc}") from None
    return _claims_to_principal(claims)


def default_level(role: str, div: str) -> str:
    if role == "partner":
        return "PARTNER"
    found = division(div)
    return (found.level if found else Level.BANNER).value


def mint_dev_token(
    secret: bytes,
    *,
    issuer: str,
    audience: str,
    role: str,
    agency: str,
    division_code: str,
    clearance: str,
    purpose: str | None,
    ttl: int,
) -> str:
    """A development token, signed with the local key; partners get theirs from their own IdP."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": f"{agency}:{role}",
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
        "agency": agency,
        "level": default_level(role, division_code),
        "division": division_code,
        "roles": [role],
        "clearance": clearance,
    }
    if purpose:
        claims["purpose"] = purpose
    _claims_to_principal(claims)  # refuse to mint what the hub would refuse to read
    return jwt.encode(claims, secret, algorithm="HS256")
