"""The GraphQL contract over real HTTP: lookups, error codes, and what never leaves the hub."""

from __future__ import annotations

import time

import httpx
import jwt
import pytest

from hub.keys import dev_jwt_secret, dev_metrics_token
from hub.settings import get_settings
from tests.conftest import GraphQLClient, mint, partner_claims

SUBJECT = """
query($code: String!) {
  subject(creditCode: $code) {
    creditCode name kind status division { code name }
    legalRepresentative { name idMasked }
    rating { grade score modelVersion computedAt measures consequenceCodes
             consequences { code name } }
    records { id item category tier title decidedOn disclosure status }
    sanctions { id listing measures startDate status }
    licences { id kind number }
    projects { id name role }
  }
}
"""


def test_partner_reads_a_subject_with_public_and_shared_information(
    partner: GraphQLClient, code: str
) -> None:
    subject = partner.data(SUBJECT, {"code": code})["subject"]
    assert isinstance(subject, dict)
    assert subject["name"] == "兴安盟接口测试矿业有限公司"
    assert subject["division"] == {"code": "152201", "name": "乌兰浩特市"}
    assert subject["legalRepresentative"] == {"name": "王五", "idMasked": "1522**********0023"}
    rating = subject["rating"]
    codes = {"BIDDING_RESTRICTED", "KEY_SUPERVISION_TARGET", "CREDIT_RISK_WARNING"}
    assert rating["grade"] == "C" and set(rating["consequenceCodes"]) == codes
    assert rating["measures"] == rating["consequenceCodes"]  # the deprecated alias
    # An imported rating keeps codes only; the model names them in the seed's words.
    names = {c["code"]: c["name"] for c in rating["consequences"]}
    assert names["CREDIT_RISK_WARNING"] == "较大信用风险的警示"
    assert {r["id"] for r in subject["records"]} == {"R-API-PUBLIC", "R-API-SHARED"}
    assert subject["sanctions"][0]["measures"] == ["BID_RESTRICTED", "LAND_AUCTION_BARRED"]
    assert subject["licences"][0]["number"] == "C1522002012041120120001"
    assert subject["projects"] == [
        {"id": "P-API-1", "name": "乌兰浩特市2024年土地整治项目", "role": "BIDDER"}
    ]


def test_typed_codes_are_normalised(partner: GraphQLClient, code: str) -> None:
    typed = f" {code[:8]}-{code[8:].lower()} "
    subject = partner.data(SUBJECT, {"code": typed})["subject"]
    assert subject["creditCode"] == code  # type: ignore[index]


def test_unknown_code_is_null(partner: GraphQLClient) -> None:
    assert partner.data(SUBJECT, {"code": "91110000600037341L"}) == {"subject": None}


@pytest.mark.parametrize(
    ("bad", "reason"),
    [("91110000600037341N", "checksum"), ("9111000060003IOZSV", "charset"), ("123", "length")],
)
def test_malformed_code_is_invalid_credit_code(
    partner: GraphQLClient, bad: str, reason: str
) -> None:
    body = partner.post(SUBJECT, {"code": bad}).json()
    error = body["errors"][0]
    assert error["extensions"] == {"code": "INVALID_CREDIT_CODE", "reason": reason}
    assert body["data"] == {"subject": None}


def _forged(**changes: object) -> str:
    secret = dev_jwt_secret(get_settings().keys_dir)
    return jwt.encode(partner_claims(**changes), secret, algorithm="HS256")


def _none_alg_token() -> str:
    return jwt.encode(jwt.decode(_forged(), options={"verify_signature": False}), None, "none")


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda: "not-a-jwt", id="garbage"),
        pytest.param(_none_alg_token, id="alg-none"),
        pytest.param(lambda: _forged(exp=int(time.time()) - 3600), id="expired"),
        pytest.param(lambda: _forged(exp=None), id="no-exp"),
        pytest.param(lambda: _forged(aud="someone-else"), id="wrong-audience"),
        pytest.param(lambda: _forged(iss="evil"), id="wrong-issuer"),
        pytest.param(lambda: _forged(roles=["superuser"]), id="unknown-role"),
        pytest.param(lambda: _forged(nbf=int(time.time()) + 3600), id="future-nbf"),
        pytest.param(
            lambda: jwt.encode({"sub": "x"}, "another-key-another-key-another-key!", "HS256"),
            id="other-key",
        ),
    ],
)
def test_bad_tokens_are_unauthenticated(api: str, token: object) -> None:
    value = token()  # type: ignore[operator]
    response = GraphQLClient(api, None).post("{ me { agency } }", token=value)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_me_reports_the_principal(api: str) -> None:
    client = GraphQLClient(api, mint("reviewer", agency="NMG152200", division_code="152200"))
    me = client.data("{ me { agency level division roles clearance purpose } }")["me"]
    assert me == {
        "agency": "NMG152200",
        "level": "LEAGUE",
        "division": "152200",
        "roles": ["reviewer"],
        "clearance": "RESTRICTED",
        "purpose": None,
    }


def test_transport_rules(api: str) -> None:
    token = mint()
    auth = {"Authorization": f"Bearer {token}"}
    get = httpx.get(f"{api}/graphql", params={"query": "{ me { agency } }"}, headers=auth)
    assert get.status_code == 405
    form = httpx.post(f"{api}/graphql", data={"query": "{ me { agency } }"}, headers=auth)
    assert form.status_code == 415
    big = httpx.post(
        f"{api}/graphql", json={"query": "{ me { agency } }" + " " * 17000}, headers=auth
    )
    assert big.status_code == 413
    assert big.json()["errors"][0]["extensions"]["code"] == "LIMIT_EXCEEDED"


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({"variables": ["91110000600037341L"]}, "`variables` must be an object"),
        ({"extensions": "persisted"}, "`extensions` must be an object"),
        ({"operationName": "Other"}, 'Unknown operation named "Other"'),
    ],
    ids=["variables-a-list", "extensions-a-string", "no-such-operation"],
)
def test_a_malformed_request_is_refused_before_anything_runs(
    api: str, partner: GraphQLClient, extra: dict[str, object], reason: str
) -> None:
    """A request whose parts have the wrong types, or that names an operation its document
    lacks, is refused, even right after its well-formed twin's answer was kept (the guard
    looks for kept answers before Strawberry's view reads the parts)."""
    query = "query Lookup($code: String!) { subject(creditCode: $code) { name } }"
    good = {"query": query, "variables": {"code": "91110000600037341L"}, "operationName": "Lookup"}
    auth = {"Authorization": f"Bearer {partner.token}"}
    for _ in range(2):  # the second is served as kept
        ran = httpx.post(f"{api}/graphql", json=good, headers=auth)
        assert ran.status_code == 200 and "errors" not in ran.json()
    assert ran.headers.get("X-Cache") == "hit"
    response = httpx.post(f"{api}/graphql", json={**good, **extra}, headers=auth)
    assert response.status_code == 400 and reason in response.text, response.text


def test_document_errors_are_bad_user_input_without_suggestions(partner: GraphQLClient) -> None:
    body = partner.post('{ subject(creditCode: "91110000600037341L") { nam } }').json()
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "Did you mean" not in error["message"]
    syntax = partner.post("{ subject(").json()["errors"][0]
    assert syntax["extensions"]["code"] == "BAD_USER_INPUT"


def test_health_and_metrics(api: str) -> None:
    assert httpx.get(f"{api}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{api}/readyz")
    assert ready.status_code == 200 and ready.json()["neo4j"] == "ok"
    token = dev_metrics_token(get_settings().keys_dir)  # the scrape token (hub/http/metrics.py)
    metrics = httpx.get(f"{api}/metrics", headers={"Authorization": f"Bearer {token}"}).text
    assert "hub_http_requests_total" in metrics


def test_a_token_stops_working_when_it_expires_even_after_use(api: str) -> None:
    client = GraphQLClient(api, mint(ttl=2))  # type: ignore[arg-type]
    assert client.post("{ me { agency } }").status_code == 200
    time.sleep(3)
    response = client.post("{ me { agency } }")
    assert response.status_code == 401
    assert response.json()["errors"][0]["message"] == "token expired"
