"""Bearer tokens: strict JWT validation into a :class:`Principal`, and dev tokens for local use.

A token's unverified header and ``iss`` only choose who verifies it: a partner issuer listed in
issuers.yaml (RS256/ES256, keys from its JWKS) or, outside production, the built-in dev issuer
(HS256, the local key). Algorithms are pinned per issuer; ``iss``, ``aud``, ``exp``, ``iat`` and
``sub`` are required, times are JSON numbers and a token lives at most its issuer's
``max_lifetime``; an issuer may assert only the agencies, roles, levels and clearance it is
trusted with; a department unit's level and division are those of its unit. Anything else wrong
is ``UNAUTHENTICATED`` with a reason.

Once a token's signature has verified, a refusal is a :class:`RefusedToken` and is audited (see
:func:`authenticate`): a trusted issuer claiming beyond its trust is the attack worth a trail. A
token that fails before that (garbage, unknown issuer or key, bad signature) is not audited:
anyone can send those, and auditing them would let anyone flood the audit stream.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import redis.exceptions
import structlog

from hub.audit_log import audit_refusal
from hub.http.jwks import IssuerKeys, KeysUnavailable
from hub.keys import dev_jwt_secret
from hub.settings import Settings
from policies.divisions import Level, find_division
from policies.issuers import Issuer, load_issuers
from policies.principal import LEVELS, ROLES, Clearance, Principal
from policies.units import unit_mismatch

REQUIRED_CLAIMS = ("iss", "aud", "exp", "iat", "sub")
# Matched with fullmatch and ASCII digits: `$` would let "150102\n" through, `\d` Arabic digits.
_DIVISION = re.compile(r"[0-9]{6}")
_AGENCY = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
log = structlog.get_logger("hub.http.auth")


class AuthError(Exception):
    """Why a request is not authenticated; the message is safe to show the caller."""


class RefusedToken(AuthError):
    """A token whose signature verified, refused for what it says: audited by
    :func:`authenticate`, with its issuer and claims as the token gives them."""

    def __init__(self, reason: str, issuer: str, claims: dict[str, Any]) -> None:
        super().__init__(reason)
        self.issuer = issuer
        self.claims = claims


def bearer_token(header: str | None) -> str:
    if not header:
        raise AuthError("missing bearer token: send 'Authorization: Bearer <token>'")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("the Authorization header must be 'Bearer <token>'")
    return token.strip()


def _text_claim(claims: dict[str, Any], name: str) -> str | None:
    """An optional short printable string claim (no control characters, which would forge
    lines in logs and exports)."""
    value = claims.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > 200 or not value.isprintable():
        raise AuthError(f"claim {name!r} must be a short string without control characters")
    return value


def _parse_principal(claims: dict[str, Any]) -> Principal:
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


def _agrees_with_unit(principal: Principal) -> Principal:
    """A department token must agree with its unit: refused rather than corrected, so a token
    that says more than it may is seen (and audited), not quietly narrowed."""
    mismatch = unit_mismatch(principal.agency, principal.level, principal.division, principal.roles)
    if mismatch is not None:
        raise AuthError(mismatch)
    return principal


def _claims_to_principal(claims: dict[str, Any]) -> Principal:
    return _agrees_with_unit(_parse_principal(claims))


class TokenCache:
    """Verified principals by token, so a client's keep-alive stream of requests costs one
    signature check, not one per request. An entry is used only until its token's ``exp``.
    It also remembers which refused tokens were audited, so a client retrying one refused token
    leaves one audit event, not one per attempt."""

    def __init__(self, size: int = 10_000) -> None:
        self._size = size
        self._entries: dict[str, Principal] = {}
        self._refused: set[bytes] = set()

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

    def first_refusal(self, token: str) -> bool:
        """True the first time a refused token is seen (then it is audited), False after."""
        digest = hashlib.sha256(token.encode()).digest()
        if digest in self._refused:
            return False
        if len(self._refused) >= self._size:
            self._refused.clear()  # bounded; at worst a token is audited once more
        self._refused.add(digest)
        return True


def _route(token: str) -> tuple[dict[str, Any], str]:
    """The header and ``iss``, read without verification: only to choose who verifies."""
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise AuthError("malformed token") from None
    iss = claims.get("iss")
    if not isinstance(iss, str):
        raise AuthError("token lacks required claim 'iss'")
    return header, iss


def _signed_claims(token: str, key: jwt.PyJWK | bytes, algorithms: Sequence[str]) -> dict[str, Any]:
    """The claims, once the signature is verified with ``key``; nothing else is checked here, so
    that every later refusal is known to concern a token its issuer really signed."""
    try:
        return jwt.decode(
            token,
            key,
            algorithms=list(algorithms),
            options={
                "verify_signature": True,
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
                "verify_aud": False,
                "verify_iss": False,
                "verify_sub": False,
                "verify_jti": False,
            },
        )
    except jwt.PyJWTError as exc:
        raise AuthError(f"invalid token: {exc}") from None


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


def _check_registered(claims: dict[str, Any], expected: Expected) -> None:
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


async def _signing_key(keys: IssuerKeys, header: dict[str, Any]) -> jwt.PyJWK:
    """The issuer's key named by the header's ``kid``; the algorithm is checked first, so a
    token the issuer may not sign never triggers a fetch of its keys."""
    if header.get("alg") not in keys.issuer.algorithms:
        raise AuthError("token algorithm is not allowed for its issuer")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise AuthError("token header lacks 'kid'")
    try:
        key = await keys.get(kid)
    except KeysUnavailable:
        raise AuthError(
            f"the signing keys of issuer {keys.issuer.issuer!r} could not be fetched"
        ) from None
    if key is None:
        raise AuthError("token key id is not published by its issuer")
    return key


def _within_trust(issuer: Issuer, principal: Principal) -> None:
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


@dataclass(frozen=True, slots=True)
class DevIssuer:
    """The built-in development issuer: HS256 with the local key, never in production. It may
    grant any role and level, but a unit's token must still agree with its unit."""

    issuer: str
    audience: str
    secret: bytes
    max_lifetime: int


class TokenVerifier:
    """Verifies bearer tokens with the keys, algorithms and limits of the issuer they name."""

    def __init__(self, issuers: Iterable[IssuerKeys], dev: DevIssuer | None, leeway: int) -> None:
        self._issuers = {keys.issuer.issuer: keys for keys in issuers}
        self._dev = dev
        self._leeway = leeway

    async def verify(self, token: str) -> Principal:
        """The token's principal; :class:`RefusedToken` when it is signed but refused."""
        header, iss = _route(token)
        if self._dev is not None and iss == self._dev.issuer:
            dev = self._dev
            claims = _signed_claims(token, dev.secret, ["HS256"])
            expected = Expected(iss, dev.audience, dev.max_lifetime, self._leeway)
            try:
                _check_registered(claims, expected)
                return _claims_to_principal(claims)
            except AuthError as exc:
                raise RefusedToken(str(exc), iss, claims) from None
        keys = self._issuers.get(iss)
        if keys is None:
            raise AuthError("token issuer is not trusted")
        config = keys.issuer
        key = await _signing_key(keys, header)
        claims = _signed_claims(token, key, config.algorithms)
        try:
            _check_registered(
                claims, Expected(iss, config.audience, config.max_lifetime, self._leeway)
            )
            principal = _parse_principal(claims)
            _within_trust(config, principal)  # the issuer's own limits name the refusal first
            return _agrees_with_unit(principal)
        except AuthError as exc:
            raise RefusedToken(str(exc), iss, claims) from None


def token_verifier(settings: Settings, client: httpx.AsyncClient) -> TokenVerifier:
    """The verifier the settings describe: the issuers in ``issuers_file``, plus the dev issuer
    unless ``env`` is "production". A bad issuers file raises ``ValueError``: the hub must not
    start trusting less, or more, than the operator wrote."""
    issuers = load_issuers(settings.issuers_file, settings.jwt_audience)
    if any(i.issuer == settings.jwt_issuer for i in issuers):
        raise ValueError(f"{settings.issuers_file}: {settings.jwt_issuer!r} is the dev issuer")
    production = settings.env == "production"
    plain = [i.issuer for i in issuers if not i.jwks_uri.startswith("https://")]
    if production and plain:
        # Keys fetched over plain HTTP could be swapped on the way: no trust without TLS.
        raise ValueError(f"{settings.issuers_file}: JWKS of {plain} not over https in production")
    dev = None
    if not production:
        secret = dev_jwt_secret(settings.keys_dir)
        dev = DevIssuer(
            settings.jwt_issuer, settings.jwt_audience, secret, settings.jwt_max_lifetime
        )
    keys = [IssuerKeys(i, client, min_refetch=settings.jwks_min_refetch) for i in issuers]
    return TokenVerifier(keys, dev, settings.jwt_leeway)


def default_level(role: str, div: str) -> str:
    """A partner's level, or that of the unit at ``div`` (the hub refuses any other)."""
    if role == "partner":
        return "PARTNER"
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


async def authenticate(request: Any) -> Principal:
    """The principal of a Starlette request's bearer token, through the app's token cache
    (``app.state.tokens``) and verifier; raises :class:`AuthError`. One mechanism for GraphQL,
    uploads, exports, feedback and recommendations, so each audits a refused signed token."""
    state = request.app.state
    token = bearer_token(request.headers.get("authorization"))
    principal: Principal | None = state.tokens.get(token)  # a hit costs no signature check
    if principal is None:
        try:
            principal = await state.verifier.verify(token)
        except RefusedToken as exc:
            if state.tokens.first_refusal(token):
                await _audit(request, exc)
            raise
        state.tokens.put(token, principal)
    return principal


async def _audit(request: Any, refused: RefusedToken) -> None:
    """Audit a refusal; if Redis is down the caller is still refused (nothing is released),
    and the log keeps the trace."""
    try:
        await audit_refusal(request, refused.issuer, refused.claims, str(refused))
    except (redis.exceptions.RedisError, OSError) as exc:
        log.error("refused token not audited", issuer=refused.issuer, error=repr(exc))
