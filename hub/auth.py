"""Bearer tokens: strict JWT validation into a :class:`Principal`, and dev tokens for local use.

A token's unverified header and ``iss`` only choose who verifies it: a partner issuer listed in
issuers.yaml (RS256/ES256, keys from its JWKS) or, outside production, the built-in dev issuer
(HS256, the local key). Algorithms are pinned per issuer; ``iss``, ``aud``, ``exp``, ``iat`` and
``sub`` are required; an issuer may assert only the agencies and clearance it is trusted with.
Anything else wrong is ``UNAUTHENTICATED`` with a reason.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

from policies.divisions import Level, division
from policies.issuers import Issuer, load_issuers
from policies.principal import LEVELS, ROLES, Clearance, Principal

from .jwks import IssuerKeys, KeysUnavailable
from .keys import dev_jwt_secret
from .settings import Settings

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


def _verified_claims(
    token: str,
    key: jwt.PyJWK | bytes,
    algorithms: Sequence[str],
    audience: str,
    issuer: str,
    leeway: int,
) -> dict[str, Any]:
    try:
        return jwt.decode(
            token,
            key,
            algorithms=list(algorithms),
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
    except jwt.PyJWTError as exc:
        raise AuthError(f"invalid token: {exc}") from None


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
    """A partner's IdP speaks only for the agencies, and up to the clearance, it is trusted with."""
    if issuer.agencies is not None and principal.agency not in issuer.agencies:
        raise AuthError("token issuer may not assert this agency")
    if issuer.max_clearance is not None and principal.clearance > issuer.max_clearance:
        raise AuthError("token clearance is above what its issuer may grant")


@dataclass(frozen=True, slots=True)
class DevIssuer:
    """The built-in development issuer: HS256 with the local key, never in production."""

    issuer: str
    audience: str
    secret: bytes


class TokenVerifier:
    """Verifies bearer tokens with the keys, algorithms and limits of the issuer they name."""

    def __init__(self, issuers: Iterable[IssuerKeys], dev: DevIssuer | None, leeway: int) -> None:
        self._issuers = {keys.issuer.issuer: keys for keys in issuers}
        self._dev = dev
        self._leeway = leeway

    async def verify(self, token: str) -> Principal:
        header, iss = _route(token)
        if self._dev is not None and iss == self._dev.issuer:
            dev = self._dev
            claims = _verified_claims(token, dev.secret, ["HS256"], dev.audience, iss, self._leeway)
            return _claims_to_principal(claims)
        keys = self._issuers.get(iss)
        if keys is None:
            raise AuthError("token issuer is not trusted")
        config = keys.issuer
        key = await _signing_key(keys, header)
        claims = _verified_claims(token, key, config.algorithms, config.audience, iss, self._leeway)
        principal = _claims_to_principal(claims)
        _within_trust(config, principal)
        return principal


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
        dev = DevIssuer(settings.jwt_issuer, settings.jwt_audience, secret)
    keys = [IssuerKeys(i, client, min_refetch=settings.jwks_min_refetch) for i in issuers]
    return TokenVerifier(keys, dev, settings.jwt_leeway)


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


async def authenticate(request: Any) -> Principal:
    """The principal of a Starlette request's bearer token, through the app's token cache
    (``app.state.tokens``) and verifier; raises :class:`AuthError`. One mechanism for GraphQL,
    uploads and exports."""
    state = request.app.state
    token = bearer_token(request.headers.get("authorization"))
    principal: Principal | None = state.tokens.get(token)  # a hit costs no signature check
    if principal is None:
        principal = await state.verifier.verify(token)
        state.tokens.put(token, principal)
    return principal
