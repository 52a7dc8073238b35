"""Partner tokens verified through their issuer's JWKS, over real HTTP on both sides.

The issuers are those conftest writes into the test issuers file; their keys are generated here
and served by the ``jwks`` server, so every fetch, refetch and outage crosses a real socket.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from hub.http.auth.claims import AuthError
from hub.http.auth.jwks import IssuerKeys
from hub.http.auth.tokens import token_verifier
from hub.keys import dev_jwt_secret
from hub.settings import Settings, get_settings
from policies.issuers import Issuer, load_issuers, parse_issuers
from policies.loader import PolicyError
from tests.conftest import (
    JWKS_PORT,
    PARTNER_ISSUER,
    ROTATING_ISSUER,
    GraphQLClient,
    JwksServer,
    mint,
    partner_claims,
)

Key = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

BANK_RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
BANK_EC = ec.generate_private_key(ec.SECP256R1())
IMPOSTOR = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ROTATED_OUT = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ROTATED_IN = rsa.generate_private_key(public_exponent=65537, key_size=2048)
REFETCH = 2.1  # seconds: past HUB_JWKS_MIN_REFETCH, so the API may fetch again


def _jwk(key: Key, kid: str, **extra: str) -> dict[str, object]:
    public = key.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        data = jwt.algorithms.RSAAlgorithm.to_jwk(public, as_dict=True)
    else:
        data = jwt.algorithms.ECAlgorithm.to_jwk(public, as_dict=True)
    return {**data, "kid": kid, "use": "sig", **extra}


def _claims(**changes: object) -> dict[str, object]:
    return partner_claims(
        **{
            "iss": PARTNER_ISSUER,
            "sub": "BANK-TEST:loan-officer-7",
            "purpose": "loan-review",
            "jti": uuid.uuid4().hex,  # every token distinct: none is served from the cache
            **changes,
        }
    )


def _token(key: Key = BANK_RSA, kid: str | None = "bank-rsa", **changes: object) -> str:
    alg = "RS256" if isinstance(key, rsa.RSAPrivateKey) else "ES256"
    headers = {"kid": kid} if kid else None
    return jwt.encode(_claims(**changes), key, algorithm=alg, headers=headers)


def _b64(data: dict[str, object]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _hs256_signed_with_public_key() -> str:
    """Algorithm confusion: HMAC keyed with the RSA public key, which anyone can download.
    PyJWT refuses to build this, so it is assembled by hand."""
    pem = BANK_RSA.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    signing_input = f"{_b64({'alg': 'HS256', 'typ': 'JWT', 'kid': 'bank-rsa'})}.{_b64(_claims())}"
    mac = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def _alg_none() -> str:
    return jwt.encode(_claims(), "", algorithm="none", headers={"kid": "bank-rsa"})


def _dev_key_for_partner_issuer() -> str:
    secret = dev_jwt_secret(get_settings().keys_dir)
    return jwt.encode(_claims(), secret, algorithm="HS256", headers={"kid": "bank-rsa"})


@pytest.fixture(scope="module")
def idps(jwks: JwksServer) -> Iterator[JwksServer]:
    jwks.sets["/bank"] = [_jwk(BANK_RSA, "bank-rsa", alg="RS256"), _jwk(BANK_EC, "bank-ec")]
    jwks.sets["/rotating"] = [_jwk(ROTATED_OUT, "rot-1")]
    yield jwks
    jwks.sets.clear()


def _me(api: str, token: str) -> httpx.Response:
    return GraphQLClient(api, None).post("{ me { agency clearance } }", token=token)


def _assert_unauthenticated(response: httpx.Response, reason: str) -> None:
    body = response.json()
    assert response.status_code == 401, body
    assert response.headers["www-authenticate"] == "Bearer"
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert reason in body["errors"][0]["message"], body


@pytest.mark.parametrize("key", [BANK_RSA, BANK_EC], ids=["RS256", "ES256"])
def test_partner_tokens_signed_with_the_issuers_keys_are_accepted(
    api: str, idps: JwksServer, key: Key
) -> None:
    kid = "bank-rsa" if isinstance(key, rsa.RSAPrivateKey) else "bank-ec"
    response = _me(api, _token(key, kid))
    assert response.status_code == 200, response.json()
    assert response.json()["data"]["me"] == {"agency": "BANK-TEST", "clearance": "SHARED"}


BAD_TOKENS: list[tuple[str, Callable[[], str], str]] = [
    ("alg-none", _alg_none, "algorithm is not allowed"),
    ("hs256-with-public-key", _hs256_signed_with_public_key, "algorithm is not allowed"),
    ("hs256-with-dev-key", _dev_key_for_partner_issuer, "algorithm is not allowed"),
    ("rs256-header-on-ec-key", lambda: _token(BANK_RSA, "bank-ec"), "does not match"),
    ("wrong-audience", lambda: _token(aud="another-hub"), "audience"),
    ("wrong-issuer", lambda: _token(iss="https://idp.evil.example"), "issuer is not trusted"),
    ("no-exp", lambda: _token(exp=None), "'exp'"),
    ("no-iat", lambda: _token(iat=None), "'iat'"),
    ("expired", lambda: _token(iat=int(time.time()) - 600, exp=int(time.time()) - 60), "expired"),
    ("future-nbf", lambda: _token(nbf=int(time.time()) + 3600), "not yet valid"),
    ("other-key-same-kid", lambda: _token(IMPOSTOR, "bank-rsa"), "Signature verification"),
    ("no-kid", lambda: _token(kid=None), "lacks 'kid'"),
    ("unknown-kid", lambda: _token(kid="never-published"), "not published"),
    ("department-agency", lambda: _token(agency="NMG150000"), "may not assert this agency"),
    ("clearance-above-max", lambda: _token(clearance="RESTRICTED"), "above what its issuer"),
]


@pytest.mark.parametrize(
    ("make", "reason"), [b[1:] for b in BAD_TOKENS], ids=[b[0] for b in BAD_TOKENS]
)
def test_bad_partner_tokens_are_unauthenticated(
    api: str, idps: JwksServer, make: Callable[[], str], reason: str
) -> None:
    _assert_unauthenticated(_me(api, make()), reason)


def _rotating(key: Key, kid: str) -> str:
    return _token(key, kid, iss=ROTATING_ISSUER)


def test_a_rotated_key_works_once_published_and_the_withdrawn_one_stops(
    api: str, idps: JwksServer
) -> None:
    assert _me(api, _rotating(ROTATED_OUT, "rot-1")).status_code == 200
    time.sleep(REFETCH)
    _assert_unauthenticated(_me(api, _rotating(ROTATED_IN, "rot-2")), "not published")
    idps.sets["/rotating"] = [_jwk(ROTATED_IN, "rot-2")]  # rotation: new key in, old key out
    time.sleep(REFETCH)
    assert _me(api, _rotating(ROTATED_IN, "rot-2")).status_code == 200  # fetched again
    _assert_unauthenticated(_me(api, _rotating(ROTATED_OUT, "rot-1")), "not published")


def test_made_up_kids_cost_the_issuer_one_fetch(api: str, idps: JwksServer) -> None:
    time.sleep(REFETCH)
    before = idps.hits["/rotating"]
    for n in range(5):
        _assert_unauthenticated(_me(api, _rotating(ROTATED_IN, f"made-up-{n}")), "not published")
    assert idps.hits["/rotating"] - before == 1


def test_cached_keys_outlive_an_issuer_that_is_down(api: str, idps: JwksServer) -> None:
    idps.sets["/rotating"] = [_jwk(ROTATED_IN, "rot-2")]
    time.sleep(REFETCH)
    assert _me(api, _rotating(ROTATED_IN, "rot-2")).status_code == 200  # cached now
    del idps.sets["/rotating"]  # the IdP answers 503 from here on
    time.sleep(REFETCH)
    try:
        assert _me(api, _rotating(ROTATED_IN, "rot-2")).status_code == 200
        response = _me(api, _rotating(ROTATED_IN, "rot-3"))
        _assert_unauthenticated(
            response, f"keys of issuer '{ROTATING_ISSUER}' could not be fetched"
        )
    finally:
        idps.sets["/rotating"] = [_jwk(ROTATED_IN, "rot-2")]


async def test_a_stale_key_set_is_refetched_and_kept_when_the_issuer_is_down(
    jwks: JwksServer,
) -> None:
    issuer = Issuer("unit", f"http://127.0.0.1:{JWKS_PORT}/unit", ("ES256",), "credit-hub")
    jwks.sets["/unit"] = [_jwk(BANK_EC, "k1"), _jwk(BANK_RSA, "rsa")]  # RS256: not allowed here
    async with httpx.AsyncClient() as client:
        keys = IssuerKeys(issuer, client, min_refetch=0, max_age=0)
        assert await keys.get("rsa") is None
        assert (key := await keys.get("k1")) is not None and key.algorithm_name == "ES256"
        del jwks.sets["/unit"]
        assert await keys.get("k1") is key  # stale, refetch failed: the cached key still serves
        jwks.sets["/unit"] = [_jwk(BANK_EC, "k2")]
        assert await keys.get("k1") is None  # stale, refetched: k1 was withdrawn
    assert jwks.hits["/unit"] == 4


async def test_dev_tokens_are_refused_in_production() -> None:
    token = mint("admin", agency="NMG150000")
    async with httpx.AsyncClient() as client:
        development = token_verifier(Settings(env="development"), client)
        assert (await development.verify(token)).agency == "NMG150000"
        shipped = Settings.model_fields["issuers_file"].default  # no partner issuer in it
        production = token_verifier(Settings(env="production", issuers_file=shipped), client)
        with pytest.raises(AuthError, match="token issuer is not trusted"):
            await production.verify(token)


async def test_production_refuses_jwks_over_plain_http(tmp_path: Path) -> None:
    file = tmp_path / "issuers.yaml"
    file.write_text(
        "issuers:\n  - {issuer: a, jwks_uri: 'http://idp.test/jwks', algorithms: [RS256]}\n"
    )
    async with httpx.AsyncClient() as client:
        token_verifier(Settings(env="development", issuers_file=file), client)
        with pytest.raises(ValueError, match="not over https in production"):
            token_verifier(Settings(env="production", issuers_file=file), client)


def test_the_shipped_issuers_file_trusts_no_partner() -> None:
    assert load_issuers(Settings.model_fields["issuers_file"].default, "credit-hub") == ()


def test_an_issuer_entry_takes_the_hubs_audience_by_default() -> None:
    (issuer,) = parse_issuers(
        "issuers:\n  - {issuer: a, jwks_uri: 'https://a.example/jwks', algorithms: [ES256]}",
        "f.yaml",
        "credit-hub",
    )
    assert issuer == Issuer("a", "https://a.example/jwks", ("ES256",), "credit-hub")


_ENTRY = "issuer: a, jwks_uri: 'https://a.example/jwks', algorithms: [RS256]"


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ("{issuer: a, jwks_uri: 'https://a.example/jwks', algorithms: [HS256]}", "algorithms"),
        ("{issuer: a, jwks_uri: 'https://a.example/jwks', algorithms: [none]}", "algorithms"),
        ("{issuer: a, jwks_uri: 'https://a.example/jwks', algorithms: []}", "algorithms"),
        ("{issuer: a, jwks_uri: 'file:///etc/jwks', algorithms: [RS256]}", "jwks_uri"),
        ("{issuer: a, algorithms: [RS256]}", "missing ['jwks_uri']"),
        ("{" + _ENTRY + ", audiences: [x]}", "unknown keys ['audiences']"),
        ("{" + _ENTRY + ", max_clearance: SECRET}", "max_clearance"),
        ("{" + _ENTRY + ", agencies: BANK-X}", "agencies"),
    ],
)
def test_a_bad_issuer_entry_is_refused_naming_file_and_entry(entry: str, reason: str) -> None:
    with pytest.raises(PolicyError, match=r"f\.yaml: issuers\[0\] \(a\): ") as caught:
        parse_issuers(f"issuers:\n  - {entry}", "f.yaml", "credit-hub")
    assert reason in str(caught.value)


async def test_a_partner_may_not_take_the_dev_issuers_name(tmp_path: Path) -> None:
    path = tmp_path / "issuers.yaml"
    entry = (
        f"issuer: {get_settings().jwt_issuer}, jwks_uri: 'https://x.example', algorithms: [RS256]"
    )
    path.write_text(f"issuers:\n  - {{{entry}}}\n")
    async with httpx.AsyncClient() as client:
        with pytest.raises(ValueError, match="is the dev issuer"):
            token_verifier(Settings(issuers_file=path), client)
