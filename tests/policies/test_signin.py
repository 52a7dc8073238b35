"""The portal's sign-in providers (signin.yaml) on their own: what a valid entry gives, and
each way an entry is refused with the place of the problem named."""

from __future__ import annotations

import pytest

from policies.loader import PolicyError
from policies.signin import SIGNIN_FILE, Endpoints, load_signin, parse_signin

GOOD = """providers:
  - name: zwfw
    title: 内蒙古自治区政务服务网
    issuer: https://zwfw.example/oidc
    discovery: https://zwfw.example/oidc/.well-known/openid-configuration
    client_id: credit-hub
    credit_code_claim: uscc
    scopes: [openid, uscc, openid]
    algorithms: [ES256, RS256]
    max_session: 1800
"""


def test_a_valid_provider() -> None:
    [p] = parse_signin(GOOD, "signin.yaml")
    assert (p.name, p.title, p.issuer, p.client_id) == (
        "zwfw",
        "内蒙古自治区政务服务网",
        "https://zwfw.example/oidc",
        "credit-hub",
    )
    assert p.discovery == "https://zwfw.example/oidc/.well-known/openid-configuration"
    assert p.endpoints is None
    assert p.scopes == ("openid", "uscc") and p.algorithms == ("ES256", "RS256")
    assert (p.credit_code_claim, p.max_session) == ("uscc", 1800)


def test_endpoints_instead_of_discovery() -> None:
    text = GOOD.replace(
        "    discovery: https://zwfw.example/oidc/.well-known/openid-configuration\n",
        "    endpoints:\n      authorization: https://zwfw.example/auth\n"
        "      token: https://zwfw.example/token\n      jwks: https://zwfw.example/jwks\n",
    )
    [p] = parse_signin(text, "signin.yaml")
    assert p.discovery is None
    assert p.endpoints == Endpoints(
        "https://zwfw.example/auth", "https://zwfw.example/token", "https://zwfw.example/jwks"
    )


@pytest.mark.parametrize("text", ["", "providers:\n", "providers: []\n"])
def test_an_empty_file_offers_no_sign_in(text: str) -> None:
    assert parse_signin(text, "signin.yaml") == ()


def test_the_shipped_file_loads() -> None:
    assert load_signin(SIGNIN_FILE) == ()  # no provider until an operator registers the hub


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("algorithms: [ES256, RS256]", "algorithms: [HS256]", "algorithms must be"),
        ("algorithms: [ES256, RS256]", "algorithms: [none]", "algorithms must be"),
        ("algorithms: [ES256, RS256]", "algorithms: []", "algorithms must be"),
        ("scopes: [openid, uscc, openid]", "scopes: [uscc]", "scopes must include openid"),
        ("max_session: 1800", "max_session: 86401", "max_session must be"),
        ("max_session: 1800", "max_session: true", "max_session must be"),
        ("max_session: 1800", "max_session: 30", "max_session must be"),
        ("issuer: https://zwfw.example/oidc", "issuer: zwfw", "issuer must be an https://"),
        ("discovery: https://", "discovery: file://", "discovery must be an https://"),
        ("name: zwfw", "name: 政务网", "name must be"),
        ("client_id: credit-hub", "client_id: ''", "client_id must be a non-empty"),
        ("    client_id: credit-hub\n", "", "missing key client_id"),
        ("max_session: 1800", "max_session: 1800\n    client_secret: s", "unknown key"),
        (
            "    discovery:",
            "    endpoints: {authorization: https://a, token: https://b, jwks: https://c}\n"
            "    discovery:",
            "either discovery or endpoints",
        ),
    ],
)
def test_a_bad_entry_is_refused_with_its_place(old: str, new: str, problem: str) -> None:
    assert old in GOOD
    with pytest.raises(PolicyError) as refused:
        parse_signin(GOOD.replace(old, new), "signin.yaml")
    assert problem in str(refused.value) and "signin.yaml" in str(refused.value)
    assert "providers[0]" in str(refused.value)


def test_a_provider_listed_twice_is_refused() -> None:
    twice = GOOD + GOOD.removeprefix("providers:\n")
    with pytest.raises(PolicyError, match="provider listed twice: zwfw"):
        parse_signin(twice, "signin.yaml")


def test_endpoints_must_name_all_three() -> None:
    text = GOOD.replace(
        "    discovery: https://zwfw.example/oidc/.well-known/openid-configuration\n",
        "    endpoints: {authorization: https://a.example, token: https://b.example}\n",
    )
    with pytest.raises(PolicyError, match="missing key jwks"):
        parse_signin(text, "signin.yaml")
