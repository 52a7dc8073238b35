"""Bearer token verification: each token checked with the keys, algorithms and limits of its issuer.

A token's unverified header and ``iss`` only choose who verifies it: a partner issuer listed in
issuers.yaml (RS256/ES256, keys from its JWKS) or, outside production, the built-in dev issuer
(HS256, the local key). Algorithms are pinned per issuer; ``iss``, ``aud``, ``exp``, ``iat`` and
``sub`` are required, times are JSON numbers and a token lives at most its issuer's
``max_lifetime``; an issuer may assert only the agencies, roles, levels and clearance it is
trusted with; a department unit's level and division are those of its unit. Anything else wrong
is ``UNAUTHENTICATED`` with a reason.

Once a token's signature has verified, a refusal is a :class:`RefusedToken` and is audited
(hub/http/auth/backend.py): a trusted issuer claiming beyond its trust is the attack worth a
trail. A token that fails before that (garbage, unknown issuer or key, bad signature) is not
audited: anyone can send those, and auditing them would let anyone flood the audit stream.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

from hub.http.auth.claims import (
    AuthError,
    Expected,
    agrees_with_unit,
    check_registered,
    claims_to_principal,
    parse_principal,
    within_trust,
)
from hub.http.auth.jwks import IssuerKeys, KeysUnavailable
from hub.keys import dev_jwt_secret
from hub.settings import Settings
from policies.issuers import load_issuers
from policies.principal import Principal


class RefusedToken(AuthError):
    """A token whose signature verified, refused for what it says: audited by
    hub/http/auth/backend.py, with its issuer and claims as the token gives them."""

    def __init__(self, reason: str, issuer: str, claims: dict[str, Any]) -> None:
        super().__init__(reason)
        self.issuer = issuer
        self.claims = claims


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
                check_registered(claims, expected)
                return claims_to_principal(claims)
            except AuthError as exc:
                raise RefusedToken(str(exc), iss, claims) from None
        keys = self._issuers.get(iss)
        if keys is None:
            raise AuthError("token issuer is not trusted")
        config = keys.issuer
        key = await _signing_key(keys, header)
        claims = _signed_claims(token, key, config.algorithms)
        try:
            check_registered(
                claims, Expected(iss, config.audience, config.max_lifetime, self._leeway)
            )
            principal = parse_principal(claims)
            within_trust(config, principal)  # the issuer's own limits name the refusal first
            return agrees_with_unit(principal)
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
