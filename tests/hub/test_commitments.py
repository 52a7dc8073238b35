"""Public credit commitments through the API: a subject commits for itself, the commitment is
public at once (API without a token, and the portal's subject page within its cache time); a
unit of the subject's jurisdiction records the breach, which waits in review as a dishonest
record and turns the commitment BREACHED only when a reviewer publishes it. Hostile callers
are refused and change nothing."""

from __future__ import annotations

import asyncio
import time
from datetime import date, timedelta
from typing import Any

import httpx
from neo4j import AsyncDriver

from policies.credit.catalogue import add_months
from policies.rights import default_rights
from tests.conftest import GraphQLClient, mint, unit_token
from tests.subjects import fresh_subjects

UNIT = "NMG152201"
MAKE = """mutation($k: CommitmentKind!, $t: String!, $u: Date, $l: String) {
  makeCommitment(kind: $k, text: $t, validUntil: $u, licence: $l) {
    id kind text licence status madeOn validUntil breachedOn } }"""
PUBLIC = """query($c: String!) { subject(creditCode: $c) {
  commitments { id kind status breachedOn } records { id item status } } }"""
BREACH = """mutation($id: String!, $why: String!, $on: Date!, $doc: String!) {
  recordCommitmentBreach(id: $id, reason: $why, decidedOn: $on, document: $doc) {
    commitment creditCode record recordStatus } }"""
APPROVE = "mutation($id: String!) { approveRecord(id: $id) { id status } }"
TEXT = "本公司承诺所报材料真实有效，按期履行出让合同约定，违诺自愿接受失信惩戒。"


async def _get(url: str, **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as http:
        return await http.get(url, **kwargs)


def subject_token(code: str) -> str:
    return mint("subject", agency=code, credit_code=code, clearance="PUBLIC")


def _error(body: dict[str, Any]) -> dict[str, Any]:
    return body["errors"][0]["extensions"]  # type: ignore[no-any-return]


async def test_a_commitment_is_public_and_its_breach_goes_through_review(
    api: str, driver: AsyncDriver
) -> None:
    ((code, _),) = fresh_subjects(1)
    me = GraphQLClient(api, subject_token(code))
    public = GraphQLClient(api, None)
    today = date.today()
    longest = add_months(today, default_rights().commitment_max_months)
    too_long = me.post(MAKE, {"k": "GENERAL", "t": TEXT, "u": (longest + timedelta(1)).isoformat()})
    assert _error(too_long.json()) == {"code": "BAD_USER_INPUT", "reason": "valid-until"}
    assert _error(me.post(MAKE, {"k": "GENERAL", "t": "守信"}).json())["reason"] == "text"
    for token in (mint("partner"), unit_token("reviewer", UNIT, "cm-reviewer"), None):
        hostile = public.post(MAKE, {"k": "GENERAL", "t": TEXT}, token)
        assert _error(hostile.json())["code"] in ("FORBIDDEN", "UNAUTHENTICATED")
    assert public.data(PUBLIC, {"c": code})["subject"]["commitments"] == []  # type: ignore[index]

    made: dict[str, Any] = me.data(
        MAKE, {"k": "LICENCE_ON_COMMITMENT", "t": TEXT, "l": "C1522012026000017"}
    )["makeCommitment"]  # type: ignore[assignment]
    assert (made["status"], made["madeOn"], made["validUntil"]) == (
        "IN_FORCE", today.isoformat(), longest.isoformat(),
    )  # fmt: skip
    shown = public.data(PUBLIC, {"c": code})["subject"]["commitments"]  # type: ignore[index]
    assert shown == [
        {
            "id": made["id"],
            "kind": "LICENCE_ON_COMMITMENT",
            "status": "IN_FORCE",
            "breachedOn": None,
        }
    ]
    started = time.monotonic()
    while TEXT not in (page := (await _get(f"{api}/subjects/{code}")).text):
        assert time.monotonic() - started < 65, "the portal does not show the commitment"
        await asyncio.sleep(1)
    assert "公开承诺" in page and "告知承诺" in page and "履行中" in page

    breach = {"id": made["id"], "why": "未按承诺期限开工建设", "on": today.isoformat(),
              "doc": "乌自然资违诺〔2026〕1号"}  # fmt: skip
    for token in (
        subject_token(code),
        mint("partner"),
        unit_token("submitter", "NMG150102", "cm-hohhot"),  # outside the jurisdiction
    ):
        refused = public.post(BREACH, breach, token).json()
        assert _error(refused)["code"] in ("FORBIDDEN", "NOT_FOUND"), token
    outside = public.post(BREACH, breach, unit_token("submitter", "NMG150102", "cm-h")).json()
    unknown = public.post(
        BREACH, {**breach, "id": "CM-NOPE"}, unit_token("submitter", "NMG150102", "cm-h")
    ).json()
    assert (
        _error(outside) == _error(unknown) == {"code": "NOT_FOUND", "reason": "unknown-commitment"}
    )
    rows, _, _ = await driver.execute_query(
        "MATCH (c:Commitment {id: $id})-[:BREACH]->(r) RETURN count(r) AS n", id=made["id"]
    )
    assert rows[0]["n"] == 0

    submitter = GraphQLClient(api, unit_token("submitter", UNIT, "cm-clerk"))
    recorded: dict[str, Any] = submitter.data(BREACH, breach)["recordCommitmentBreach"]  # type: ignore[assignment]
    assert (recorded["creditCode"], recorded["recordStatus"]) == (code, "PENDING")
    again = submitter.post(BREACH, breach).json()
    assert _error(again) == {"code": "CONFLICT", "reason": "not-open"}
    pending = public.data(PUBLIC, {"c": code})["subject"]
    assert pending["commitments"][0]["status"] == "IN_FORCE"  # type: ignore[index]
    assert recorded["record"] not in {r["id"] for r in pending["records"]}  # type: ignore[index]

    reviewer = GraphQLClient(api, unit_token("reviewer", UNIT, "cm-reviewer"))
    published = reviewer.data(APPROVE, {"id": recorded["record"]})["approveRecord"]
    assert published["status"] == "PUBLISHED"  # type: ignore[index]
    after = public.data(PUBLIC, {"c": code})["subject"]
    assert after["commitments"] == [  # type: ignore[index]
        {"id": made["id"], "kind": "LICENCE_ON_COMMITMENT", "status": "BREACHED",
         "breachedOn": today.isoformat()}
    ]  # fmt: skip
    assert {"id": recorded["record"], "item": "COMMITMENT_BREACH", "status": "PUBLISHED"} in after[
        "records"
    ]  # type: ignore[index]


def test_a_company_the_hub_does_not_hold_cannot_publish_a_commitment(api: str) -> None:
    unknown = "91110000600037341L"  # valid, and held nowhere in the test graph
    client = GraphQLClient(api, subject_token(unknown))
    refused = client.post(MAKE, {"k": "GENERAL", "t": TEXT}).json()
    assert _error(refused) == {"code": "NOT_FOUND", "reason": "unknown-subject"}
    assert client.data(PUBLIC, {"c": unknown})["subject"] is None
