"""Issue 11.1: a trusted issuer grants only what its entry allows, and refusals are audited.

A second partner issuer publishes its keys over HTTPS on loopback, with a certificate from a CA
made here; an API of its own trusts that CA (``HUB_JWKS_CA_FILE``) and that issuer (its own
issuers file). The issuer's tokens that claim more than its entry allows are refused with 401,
leave a DENY event with the reason, and return none of the data they reached for.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hub.http.auth.jwks import IssuerKeys, KeysUnavailable, jwks_client
from hub.keys import dev_jwt_secret
from hub.settings import get_settings
from policies.issuers import (
    DEFAULT_MAX_LIFETIME,
    parse_issuers,
)
from policies.loader import PolicyError
from tests.conftest import (
    GraphQLClient,
    free_port,
    hub_command,
    mint,
    partner_claims,
    start_api,
)

SECOND = "https://idp.second-bank.example"  # the second partner issuer, ES256 over TLS
AGENCY = "BANK-SECOND"
KEY = ec.generate_private_key(ec.SECP256R1())
IMPOSTOR = ec.generate_private_key(ec.SECP256R1())
PHONE = "0482-8200001"  # the test subject's contact data (conftest ROWS)
DAY = 86400

AUDIT = '{ auditTrail(agency: "BANK-SECOND") { seq principal } }'
PARTNERS = "{ partners { code name endpoint } }"
CONTACTS = "query($c: String!) { subject(creditCode: $c) { creditCode contacts { phones } } }"


# --- a CA, a server certificate for 127.0.0.1 and the issuer's JWKS over TLS ----------------


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A CA (ca.pem) and a loopback server certificate it signed (server.pem, server.key)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("issuer-test CA"))
        .issuer_name(_name("issuer-test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


class TlsJwks(ThreadingHTTPServer):
    """The second issuer's key set at /jwks, over TLS; ``hits`` counts the fetches."""

    def __init__(self, port: int, context: ssl.SSLContext, jwks: dict[str, Any]) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.socket = context.wrap_socket(self.socket, server_side=True)
        self.jwks = jwks
        self.hits: Counter[str] = Counter()


class _Handler(BaseHTTPRequestHandler):
    server: TlsJwks

    def do_GET(self) -> None:
        self.server.hits[self.path] += 1
        found = self.path == "/jwks"
        body = json.dumps(self.server.jwks if found else {}).encode()
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the tests assert on ``hits``."""


@dataclass
class Idp:
    uri: str
    ca_file: Path
    server: TlsJwks


@pytest.fixture(scope="module")
def idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Idp]:
    ca_file, cert, key = _certificates(tmp_path_factory.mktemp("tls"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    public = jwt.algorithms.ECAlgorithm.to_jwk(KEY.public_key(), as_dict=True)
    jwks = {"keys": [{**public, "kid": "second-1", "use": "sig", "alg": "ES256"}]}
    port = free_port()
    server = TlsJwks(port, context, jwks)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield Idp(f"https://127.0.0.1:{port}/jwks", ca_file, server)
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def api2(
    idp: Idp, tmp_path_factory: pytest.TempPathFactory, redis_server: str, migrated: None
) -> Iterator[str]:
    """An API trusting the second issuer (defaults: partner role, PARTNER level, an hour) and
    its CA; the shipped trust store alone would refuse the loopback certificate."""
    issuers = tmp_path_factory.mktemp("issuers") / "issuers.yaml"
    issuers.write_text(
        f"""issuers:
  - issuer: {SECOND}
    jwks_uri: {idp.uri}
    algorithms: [ES256]
    agencies: [{AGENCY}]
    max_clearance: SHARED
""",
        encoding="utf-8",
    )
    port = free_port()
    proc = start_api(
        port,
        "api-issuers",
        HUB_ISSUERS_FILE=str(issuers),
        HUB_JWKS_CA_FILE=str(idp.ca_file),
    )
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=15)


# --- tokens ------------------------------------------------------------------------------------


def _second(
    sub: str, changes: dict[str, object] | None = None, key: ec.EllipticCurvePrivateKey = KEY
) -> str:
    """A token of the second issuer; ``changes`` as in partner_claims (None drops a claim)."""
    claims = partner_claims(
        iss=SECOND, sub=sub, agency=AGENCY, purpose="loan-review", jti=uuid.uuid4().hex
    )
    claims.update(changes or {})
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm="ES256", headers={"kid": "second-1"})


def _now() -> int:
    return int(time.time())


def attacks() -> dict[str, tuple[dict[str, object], str]]:
    """name → (claims the issuer's IdP signs, what the refusal must say), timed from now: made
    at collection, the times would have run out by the time a long suite gets here."""
    return {
        "admin": ({"roles": ["admin"]}, "may not grant the roles admin"),
        "investigator": ({"roles": ["investigator"]}, "may not grant the roles investigator"),
        "reviewer": ({"roles": ["reviewer"]}, "may not grant the roles reviewer"),
        "admin-beside-partner": ({"roles": ["partner", "admin"]}, "may not grant the roles admin"),
        "region-level": ({"level": "REGION"}, "may not grant the level REGION"),
        "department-agency": (
            {"agency": "NMG150000", "level": "REGION", "roles": ["admin"]},
            "may not assert this agency",
        ),
        "confidential": ({"clearance": "CONFIDENTIAL"}, "above what its issuer may grant"),
        "thirty-days": ({"exp": _now() + 30 * DAY}, f"over the {DEFAULT_MAX_LIFETIME} s"),
        "exp-string": ({"exp": str(_now() + 300)}, "'exp' must be a number"),
        "division-newline": ({"division": "150102\n"}, "'division' must be a known"),
        "division-seven-digits": ({"division": "1501020"}, "'division' must be a known"),
        "iat-bool": ({"iat": True}, "'iat' must be a number"),
        "iat-future": ({"iat": _now() + 600, "exp": _now() + 900}, "'iat' is in the future"),
        "purpose-newline": ({"purpose": "loan-review\nadmin"}, "'purpose' must be a short string"),
    }


def _post(api: str, token: str, query: str, **variables: object) -> httpx.Response:
    return GraphQLClient(api, None).post(query, variables, token=token)


def _refused(response: httpx.Response, reason: str) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    assert response.status_code == 401, body
    assert response.headers["www-authenticate"] == "Bearer"
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", body
    assert reason in body["errors"][0]["message"], body
    assert body.get("data") is None, body  # nothing was answered
    return body


def _trail(api: str, agency: str, since: datetime.datetime) -> list[dict[str, Any]]:
    """The audit trail of one agency since a moment, read as a real admin (a region unit)."""
    hub_command("audit", "drain")  # what the worker does every 2 s
    admin = GraphQLClient(api, mint("admin", agency="NMG150000"))
    query = """query($a: String!, $s: DateTime!) { auditTrail(agency: $a, since: $s, first: 100) {
        principal issuer agency roles action field decision reason } }"""
    events = admin.data(query, {"a": agency, "s": since.isoformat()})["auditTrail"]
    assert isinstance(events, list)
    return events


def test_a_well_formed_partner_token_of_the_second_issuer_works(
    api2: str, idp: Idp, code: str
) -> None:
    token = _second("BANK-SECOND:officer-1")
    me = _post(api2, token, "{ me { agency level division roles clearance } }")
    assert me.status_code == 200, me.json()
    assert me.json()["data"]["me"] == {
        "agency": AGENCY,
        "level": "PARTNER",
        "division": "150000",
        "roles": ["partner"],
        "clearance": "SHARED",
    }
    assert idp.server.hits["/jwks"] >= 1  # the key came over TLS from the issuer
    subject = _post(api2, token, CONTACTS, c=code).json()
    assert subject["data"]["subject"] == {"creditCode": code, "contacts": None}
    assert PHONE not in json.dumps(subject)
    assert _post(api2, token, AUDIT).json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_tokens_beyond_the_issuers_entry_are_refused_audited_and_get_nothing(
    api2: str, idp: Idp, code: str
) -> None:
    attempts = attacks()
    assert attempts, "no attacks to try"
    since = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=2)
    for name, (changes, reason) in attempts.items():
        token = _second(f"attack-{name}", changes)
        for query, variables in ((AUDIT, {}), (PARTNERS, {}), (CONTACTS, {"c": code})):
            response = _post(api2, token, query, **variables)
            _refused(response, reason)
            assert PHONE not in response.text
    events = _trail(api2, AGENCY, since) + _trail(api2, "NMG150000", since)
    for name, (_changes, reason) in attempts.items():
        mine = [e for e in events if e["principal"] == f"attack-{name}"]
        assert len(mine) == 1, (name, mine)  # three refused requests, one event: no flood
        event = mine[0]
        assert event["decision"] == "DENY" and event["action"] == "authenticate", event
        assert event["issuer"] == SECOND and event["field"] == "POST /graphql", event
        assert reason in event["reason"], event
    admin = next(e for e in events if e["principal"] == "attack-admin")
    assert admin["agency"] == AGENCY and admin["roles"] == ["admin"]


def test_unsigned_noise_is_refused_but_not_audited(api2: str, idp: Idp) -> None:
    since = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=2)
    forged = _second("noise-impostor", {"roles": ["admin"]}, IMPOSTOR)
    _refused(_post(api2, forged, AUDIT), "Signature verification failed")
    _refused(_post(api2, "not-a-jwt", AUDIT), "malformed token")
    signed = _second("signed-marker", {"roles": ["admin"]})  # proves the trail is being written
    _refused(_post(api2, signed, AUDIT), "may not grant the roles admin")
    principals = {e["principal"] for e in _trail(api2, AGENCY, since)}
    assert "signed-marker" in principals
    assert "noise-impostor" not in principals


def _dev_unit_token(sub: str, **changes: object) -> str:
    claims = partner_claims(sub=sub, agency="NMG152201", level="BANNER", division="152201")
    claims.update(roles=["reviewer"], clearance="RESTRICTED", **changes)
    return jwt.encode(claims, dev_jwt_secret(get_settings().keys_dir), algorithm="HS256")


def test_a_dev_unit_token_must_carry_its_units_division_and_level(api2: str, code: str) -> None:
    since = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=2)
    own = _post(api2, _dev_unit_token("clerk-own"), CONTACTS, c=code)
    assert own.status_code == 200 and own.json()["data"]["subject"]["contacts"] is not None
    wider = {
        "clerk-region": ({"division": "150000", "level": "REGION"}, "must be those of unit"),
        "clerk-league": ({"division": "152200", "level": "LEAGUE"}, "must be those of unit"),
        "clerk-division": ({"division": "150102"}, "must be those of unit NMG152201"),
        "clerk-partner": ({"level": "PARTNER"}, "carries the role 'partner' only"),
    }
    for sub, (changes, reason) in wider.items():
        response = _post(api2, _dev_unit_token(sub, **changes), CONTACTS, c=code)
        _refused(response, reason)
        assert PHONE not in response.text
    not_a_unit = _dev_unit_token("clerk-bank", agency="BANK-TEST", level="REGION")
    _refused(_post(api2, not_a_unit, CONTACTS, c=code), "is not a department unit")
    events = _trail(api2, "NMG152201", since)
    refused = {e["principal"]: e for e in events if e["decision"] == "DENY"}
    assert set(wider) <= set(refused), refused
    assert refused["clerk-region"]["issuer"] == get_settings().jwt_issuer


def test_a_dev_token_lives_at_most_the_configured_lifetime(api2: str) -> None:
    now = _now()
    token = _dev_unit_token("clerk-long", iat=now, exp=now + get_settings().jwt_max_lifetime + 60)
    _refused(_post(api2, token, "{ me { agency } }"), "lifetime")
    cli = hub_command(
        "token", "--role", "partner", "--agency", "BANK-X", "--ttl", "90000", check=False
    )
    assert cli.returncode != 0 and cli.stdout == ""
    assert "--ttl must be from 1 to 86400 (HUB_JWT_MAX_LIFETIME)" in cli.stderr


async def test_the_jwks_ca_file_is_what_makes_the_loopback_certificate_trusted(
    idp: Idp,
) -> None:
    (issuer,) = parse_issuers(
        f"issuers:\n  - {{issuer: {SECOND}, jwks_uri: '{idp.uri}', algorithms: [ES256]}}",
        "t.yaml",
        "credit-hub",
    )
    async with jwks_client(None) as plain:
        with pytest.raises(KeysUnavailable):
            await IssuerKeys(issuer, plain, min_refetch=0).get("second-1")
    async with jwks_client(idp.ca_file) as trusting:
        assert await IssuerKeys(issuer, trusting, min_refetch=0).get("second-1") is not None


def test_an_entry_defaults_to_partner_role_partner_level_and_an_hour() -> None:
    (issuer,) = parse_issuers(
        "issuers:\n  - {issuer: a, jwks_uri: 'https://a.example/jwks', algorithms: [ES256]}",
        "f.yaml",
        "credit-hub",
    )
    assert issuer.roles == {"partner"} and issuer.levels == {"PARTNER"}
    assert issuer.max_lifetime == DEFAULT_MAX_LIFETIME == 3600


_ENTRY = "issuer: a, jwks_uri: 'https://a.example/jwks', algorithms: [RS256]"


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ("roles: [superuser]", "roles must be a non-empty list"),
        ("roles: []", "roles must be a non-empty list"),
        ("roles: admin", "roles must be a non-empty list"),
        ("levels: [COUNTY]", "levels must be a non-empty list"),
        ("max_lifetime: 0", "max_lifetime"),
        ("max_lifetime: 86401", "max_lifetime"),
        ("max_lifetime: true", "max_lifetime"),
        ("max_lifetime: '3600'", "max_lifetime"),
    ],
)
def test_a_bad_roles_levels_or_lifetime_entry_stops_the_start(extra: str, reason: str) -> None:
    with pytest.raises(PolicyError, match=r"f\.yaml: issuers\[0\] \(a\): ") as caught:
        parse_issuers(f"issuers:\n  - {{{_ENTRY}, {extra}}}", "f.yaml", "credit-hub")
    assert reason in str(caught.value)


def test_an_entry_may_grant_department_roles_and_levels_when_it_says_so() -> None:
    (issuer,) = parse_issuers(
        f"issuers:\n  - {{{_ENTRY}, roles: [reviewer, submitter], levels: [BANNER], "
        "max_lifetime: 600}",
        "f.yaml",
        "credit-hub",
    )
    assert issuer.roles == {"reviewer", "submitter"} and issuer.levels == {"BANNER"}
    assert issuer.max_lifetime == 600
