"""What a verified token must say: exact registered claims, and a :class:`Principal` parsed from
the rest, every claim of exactly its type and within what its issuer is trusted with."""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from typing import Any

from graph.identifiers import InvalidIdentifier, validate_uscc
from policies.associations import default_associations
from policies.divisions import find_division
from policies.issuers import Issuer
from policies.principal import (
    ASSOCIATION_ROLE,
    LEVELS,
    ROLES,
    SUBJECT_ROLE,
    Clearance,
    Principal,
)
from policies.units import unit_mismatch

REQUIRED_CLAIMS = ("iss", "aud", "exp", "iat", "sub")
# Matched with fullmatch and ASCII digits: `$` would let "150102\n" through, `\d` Arabic digits.
_DIVISION = re.compile(r"[0-9]{6}")
_AGENCY = re.compile(r"[A-Za-z0-9_.\-]{1,64}")


class AuthError(Exception):
    """Why a request is not authenticated; the message is safe to show the caller."""


def _text_claim(claims: dict[str, Any], name: str) -> str | None:
    """An optional short printable string claim (no control characters, which would forge
    lines in logs and exports)."""
    value = claims.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > 200 or not value.isprintable():
        raise AuthError(f"claim {name!r} must be a short string without control characters")
    return value


def _credit_code(claims: dict[str, Any], roles: frozenset[str]) -> str | None:
    """A subject's own credit code (claim ``creditCode``), valid and equal to its ``agency``;
    no other caller may carry one, so a code never widens a unit's or a partner's reads."""
    code = claims.get("creditCode")
    if SUBJECT_ROLE not in roles:
        if code is not None:
            raise AuthError("claim 'creditCode' belongs to a subject's token only")
        return None
    if not isinstance(code, str):
        raise AuthError("a subject's token must carry claim 'creditCode'")
    try:
        valid = validate_uscc(code)
    except InvalidIdentifier:
        raise AuthError("claim 'creditCode' is not a valid unified social credit code") from None
    if valid != code or claims.get("agency") != code:
        raise AuthError("claims 'creditCode' and 'agency' of a subject's token must be its code")
    return code


def parse_principal(claims: dict[str, Any]) -> Principal:
    """The principal as the token states it, every claim of exactly its type."""
    agency, level, div = claims.get("agency"), claims.get("level"), claims.get("division")
    roles, clearance = claims.get("roles"), claims.get("clearance")
    if not isinstance(agency, str) or not _AGENCY.fullmatch(agency):
        raise AuthError("claim 'agency' is missing or malformed")
    if not isinstance(level, str) or level not in LEVELS:
        raise AuthError(f"claim 'level' must be one of {', '.join(sorted(LEVELS))}")
    if not isinstance(div, str) or not _DIVISION.fullmatch(div) or find_division(div) is None:
        raise AuthError("claim 'division' must be a known 6-digit division code")
    if (
        not isinstance(roles, list)
        or not roles
        or not all(isinstance(r, str) and r in ROLES for r in roles)
        or len(set(roles)) != len(roles)
    ):
        raise AuthError(
            f"claim 'roles' must be a non-empty list of distinct {', '.join(sorted(ROLES))}"
        )
    if not isinstance(clearance, str) or clearance not in Clearance.__members__:
        raise AuthError("claim 'clearance' must be PUBLIC, SHARED, RESTRICTED or CONFIDENTIAL")
    subject = _text_claim(claims, "sub")
    if subject is None:
        raise AuthError("token lacks required claim 'sub'")
    return Principal(
        credit_code=_credit_code(claims, frozenset(roles)),
        subject=subject,
        issuer=str(claims["iss"]),
        agency=agency,
        level=level,
        division=div,
        roles=frozenset(roles),
        clearance=Clearance[clearance],
        purpose=_text_claim(claims, "purpose"),
        expires_at=float(claims["exp"]),
    )


def agrees_with_unit(principal: Principal) -> Principal:
    """A department token must agree with its unit: refused rather than corrected, so a token
    that says more than it may is seen (and audited), not quietly narrowed."""
    mismatch = unit_mismatch(principal.agency, principal.level, principal.division, principal.roles)
    if mismatch is not None:
        raise AuthError(mismatch)
    if ASSOCIATION_ROLE in principal.roles and default_associations().get(principal.agency) is None:
        # Only an association the department registered speaks as one: a made-up code would
        # otherwise be a principal nobody answers for.
        raise AuthError(f"agency {principal.agency} is not a registered industry association")
    return principal


def claims_to_principal(claims: dict[str, Any]) -> Principal:
    return agrees_with_unit(parse_principal(claims))


def _seconds(claims: dict[str, Any], name: str) -> float | None:
    """A time claim as JSON gives it: a number, never a string or a boolean (Python would read
    ``true`` as 1 and ``"9999999999"`` through ``int()``)."""
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise AuthError(f"claim {name!r} must be a number of seconds since the epoch")
    return float(value)


@dataclass(frozen=True, slots=True)
class Expected:
    """What a verified token must say of itself: for whom, by whom, for how long."""

    issuer: str
    audience: str
    max_lifetime: int
    leeway: int


def check_registered(claims: dict[str, Any], expected: Expected) -> None:
    """The registered claims (iss, aud, exp, iat, nbf), checked here rather than by PyJWT so
    that their types are exact and the lifetime is bounded."""
    for name in REQUIRED_CLAIMS:
        if name not in claims:
            raise AuthError(f"token lacks required claim {name!r}")
    if claims["iss"] != expected.issuer:
        raise AuthError("token issuer is not trusted")
    aud = claims["aud"]
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if expected.audience not in [a for a in audiences if isinstance(a, str)]:
        raise AuthError("token audience is not this hub")
    exp, iat, nbf = _seconds(claims, "exp"), _seconds(claims, "iat"), _seconds(claims, "nbf")
    assert exp is not None and iat is not None  # required above
    now, leeway = time.time(), expected.leeway
    if exp <= now - leeway:
        raise AuthError("token expired")
    if iat > now + leeway:
        raise AuthError("token is not yet valid: 'iat' is in the future")
    if nbf is not None and nbf > now + leeway:
        raise AuthError("token is not yet valid (nbf)")
    if exp - iat > expected.max_lifetime:
        raise AuthError(
            f"token lifetime (exp - iat) is over the {expected.max_lifetime} s its issuer may grant"
        )


def within_trust(issuer: Issuer, principal: Principal) -> None:
    """A partner's IdP speaks only for the agencies, roles and levels, and up to the clearance,
    it is trusted with: a bank's IdP signing an admin token is refused, not believed."""
    if issuer.agencies is not None and principal.agency not in issuer.agencies:
        raise AuthError("token issuer may not assert this agency")
    beyond = sorted(principal.roles - issuer.roles)
    if beyond:
        raise AuthError(f"token issuer may not grant the roles {', '.join(beyond)}")
    if principal.level not in issuer.levels:
        raise AuthError(f"token issuer may not grant the level {principal.level}")
    if issuer.max_clearance is not None and principal.clearance > issuer.max_clearance:
        raise AuthError("token clearance is above what its issuer may grant")
