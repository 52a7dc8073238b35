"""GraphQL without a token: the public role (policies/access.yaml) reads PUBLIC rows only, calls
only `subject` and `subjects`, is counted per network address against its own lower budget, and
is off with HUB_PUBLIC_API=false. A bad token is still refused, never downgraded to the public."""

from __future__ import annotations

from typing import Any

import httpx

from hub.cli.services import stop_process
from tests.conftest import free_port, mint, start_api

LOOKUP = """query($code: String!) {
  subject(creditCode: $code) {
    name
    records { title disclosure }
    legalRepresentative { name idMasked idNumber }
    contacts { phones }
    sanctions { listing }
  }
}"""
# A page of subjects with their lists: 162 cost units, so 20,000 units last ~124 requests.
HEAVY = (
    "{ subjects(first: 20) { edges { node { name records { title versions { title } } "
    "sanctions { id measures } licences { id } projects { name } restrictions { name } "
    "rating { history { grade } consequences { name } } } } } }"
)


def _post(
    api: str, query: str, variables: dict[str, Any] | None = None, **headers: str
) -> httpx.Response:
    return httpx.post(
        f"{api}/graphql", json={"query": query, "variables": variables or {}}, headers=headers,
        timeout=30,
    )  # fmt: skip


def test_without_a_token_only_public_rows_answer(api: str, code: str) -> None:
    response = _post(api, LOOKUP, {"code": code})
    assert response.status_code == 200, response.text
    body = response.json()
    subject = body["data"]["subject"]
    titles = {r["title"] for r in subject["records"]}
    assert "非法采矿" in titles  # the PUBLIC record, so the absences below mean something
    assert titles.isdisjoint({"年度信息未按期填报", "内部核查线索", "移送公安案件", "待审核"})
    assert {r["disclosure"] for r in subject["records"]} == {"PUBLIC"}
    assert subject["contacts"] is None
    assert subject["legalRepresentative"]["idMasked"] is None
    assert subject["legalRepresentative"]["idNumber"] is None
    assert "0482-8200001" not in response.text and "152201198001010023" not in response.text
    assert any("contacts" in path for path in body["extensions"]["redacted"])


def test_the_public_may_call_lookups_only(api: str) -> None:
    for query in (
        "{ me { agency } }",
        '{ exposure(creditCode: "91150000MA0N00000X") { creditCode } }',
        '{ auditTrail(agency: "NMG150000") { events { seq } } }',
        'mutation { rotatePartnerKeys(code: "X") { verifyingKey } }',
    ):
        response = _post(api, query)
        assert response.status_code == 200, query
        codes = {e["extensions"]["code"] for e in response.json()["errors"]}
        assert codes & {"FORBIDDEN", "BAD_USER_INPUT"}, (query, codes)
        assert response.json().get("data") in (None, {}), query


def test_a_bad_token_is_refused_not_made_public(api: str, code: str) -> None:
    for header in ("Bearer not-a-jwt", "Basic abc", "Bearer"):
        response = _post(api, LOOKUP, {"code": code}, Authorization=header)
        assert response.status_code == 401, header
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_the_public_rate_is_counted_per_address(api: str, code: str) -> None:
    greedy = {"X-Forwarded-For": "203.0.113.7"}  # uvicorn trusts it from loopback, as from a proxy
    refused = None
    for _ in range(300):
        response = _post(api, HEAVY, **greedy)
        if response.status_code == 429:
            refused = response
            break
        assert response.status_code == 200, response.text
    assert refused is not None, "the public budget never ran out"
    assert refused.json()["errors"][0]["extensions"]["code"] == "LIMIT_EXCEEDED"
    assert int(refused.headers["retry-after"]) > 0
    # another address, and a partner with a token, are served as before
    other = _post(api, LOOKUP, {"code": code}, **{"X-Forwarded-For": "198.51.100.4"})
    assert other.status_code == 200 and other.json()["data"]["subject"]
    partner = _post(api, LOOKUP, {"code": code}, Authorization=f"Bearer {mint('partner')}")
    assert partner.status_code == 200 and partner.json()["data"]["subject"]


def test_off_the_public_gets_401(api: str, code: str) -> None:
    port = free_port()
    proc = start_api(port, "api-no-public", HUB_PUBLIC_API="false")
    try:
        response = _post(f"http://127.0.0.1:{port}", LOOKUP, {"code": code})
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    finally:
        stop_process(proc.pid)
