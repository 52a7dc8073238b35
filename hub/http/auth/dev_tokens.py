"""Development tokens: signed with the local key by `hub token` and `hub up`; partners get theirs
from their own IdP."""

from __future__ import annotations

import time
from typing import Any

import jwt

from hub.http.auth.claims import claims_to_principal
from policies.divisions import Level, find_division
from policies.principal import ASSOCIATION_ROLE, SUBJECT_ROLE


def default_level(role: str, div: str) -> str:
    """A partner's, a subject's or an association's level, or that of the unit at ``div`` (the
    hub refuses any other)."""
    if role == "partner":
        return "PARTNER"
    if role == SUBJECT_ROLE:
        return "SUBJECT"
    if role == ASSOCIATION_ROLE:
        return "ASSOCIATION"
    found = find_division(div)
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
    credit_code: str | None = None,
) -> str:
    """A development token, signed with the local key; partners get theirs from their own IdP,
    subjects sign in on the portal."""
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
    if credit_code is not None:
        claims["creditCode"] = credit_code
    claims_to_principal(claims)  # refuse to mint what the hub would refuse to read
    return jwt.encode(claims, secret, algorithm="HS256")
