"""The mining-right holders' abnormal list kept over the API, with a real worker and a partner
server: a unit lists a subject of its jurisdiction with reason and document, partners of the
measures' kinds hear of it, the grade is capped as policies/rating.yaml says, and removal ends
it with an event; refusals are coded and every step is audited."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from graph.db import Store
from graph.identifiers import uscc_check_char
from policies.credit.catalogue import add_months
from policies.credit.determination import default_rules
from policies.credit.measures import Catalogue
from policies.credit.rating_file import default_model
from tests.audit import audit_trail
from tests.conftest import (
    TEST_DATA,
    GraphQLClient,
    Workers,
    hub_command,
    import_file,
    mint,
    unit_token,
)
from tests.partner_registry import registered_partner, wait_for

UNIT = "NMG152201"
LIST = """mutation($c: String!, $why: String!, $doc: String!) {
  listAbnormal(creditCode: $c, reason: $why, document: $doc) {
    sanctionId creditCode status startDate endDate } }"""
REMOVE = """mutation($c: String!, $why: String!) {
  removeAbnormal(creditCode: $c, reason: $why) { sanctionId status endDate } }"""
SUBJECT = """query($c: String!) { subject(creditCode: $c) {
  grade sanctions { id listing status } rating { grade caps } } }"""
GRADES = ("AAA", "AA", "A", "BBB", "BB", "B", "CCC", "CC", "C")


def _clean_subject() -> str:
    """A long-registered holder with no records at all: its grade stands above the list's cap."""
    code = "91152201MA0AB0001" + uscc_check_char("91152201MA0AB0001")
    row = {
        "kind": "Subject", "creditCode": code, "name": "乌兰浩特市异常名录测试矿业有限公司",
        "subjectKind": "COMPANY", "division": "152201", "status": "ACTIVE",
        "registeredOn": "2008-03-01",
    }  # fmt: skip
    path = TEST_DATA / "abnormal-subject.jsonl"
    path.write_text(json.dumps(row, ensure_ascii=False), "utf-8")
    import_file(path)
    hub_command("rate", code)
    return code


def _error(body: dict[str, Any]) -> dict[str, Any]:
    return body["errors"][0]["extensions"]  # type: ignore[no-any-return]


def _listed(code: str, client: GraphQLClient) -> dict[str, Any]:
    return client.data(SUBJECT, {"c": code})["subject"]  # type: ignore[return-value]


async def test_a_unit_keeps_the_abnormal_list(
    api: str, store: Store, workers: Workers, rules: tuple[Path, Catalogue]
) -> None:
    land = await registered_partner(
        store, rules[1], "ABN-LAND", "LAND_MINING", ["sanction.listed", "sanction.ended"]
    )
    try:
        code = _clean_subject()
        reviewer = GraphQLClient(api, unit_token("reviewer", UNIT, "reviewer-abn"))
        partner = GraphQLClient(api, mint("partner", agency="ABN-LAND"))
        args = {"c": code, "why": "未按期公示2025年度勘查开采信息", "doc": "乌自然资异〔2026〕5号"}

        submitter = GraphQLClient(api, unit_token("submitter", UNIT, "clerk-abn"))
        assert _error(submitter.post(LIST, args).json())["code"] == "FORBIDDEN"
        hohhot = GraphQLClient(api, unit_token("reviewer", "NMG150102", "reviewer-hohhot-abn"))
        assert _error(hohhot.post(LIST, args).json())["code"] == "NOT_FOUND"
        undocumented = reviewer.post(LIST, {**args, "doc": " "})
        assert _error(undocumented.json()) == {"code": "BAD_USER_INPUT", "reason": "document"}
        assert _error(reviewer.post(LIST, {**args, "c": "91110000600037341N"}).json())["code"] == (
            "INVALID_CREDIT_CODE"
        )
        before = _listed(code, partner)
        assert before["sanctions"] == []  # refusals stored nothing
        cap = default_model().caps["ABNORMAL_OPERATION"]
        assert GRADES.index(before["grade"]) < GRADES.index(cap)  # a grade the list will cap

        listed: dict[str, Any] = reviewer.data(LIST, args)["listAbnormal"]  # type: ignore[assignment]
        assert listed["status"] == "ACTIVE" and listed["creditCode"] == code
        maximum = default_rules().publication["ABNORMAL_OPERATION"].max_months
        start = date.fromisoformat(listed["startDate"])
        assert listed["endDate"] == add_months(start, maximum).isoformat()
        sanction = listed["sanctionId"]
        seen = _listed(code, partner)
        assert {"id": sanction, "listing": "ABNORMAL_OPERATION", "status": "ACTIVE"} in seen[
            "sanctions"
        ]
        assert seen["rating"]["caps"] == ["ABNORMAL_OPERATION"]
        assert seen["grade"] == seen["rating"]["grade"] == cap
        event = wait_for(land.inbox, lambda m: m["data"]["sanctionId"] == sanction)
        assert event["type"] == "sanction.listed"
        assert [m["code"] for m in event["data"]["measures"]] == ["MINING_RIGHT_BARRED"]

        again = reviewer.post(LIST, args)
        assert _error(again.json()) == {"code": "CONFLICT", "reason": "already-listed"}

        removed = reviewer.data(REMOVE, {"c": code, "why": "已补报并公示年度信息"})[
            "removeAbnormal"
        ]
        assert removed["sanctionId"] == sanction and removed["status"] == "REPAIRED"  # type: ignore[index]
        after = _listed(code, partner)
        assert {"id": sanction, "listing": "ABNORMAL_OPERATION", "status": "REPAIRED"} in after[
            "sanctions"
        ]
        assert after["rating"]["caps"] == [] and after["grade"] == before["grade"]
        ended = wait_for(
            land.inbox,
            lambda m: m["type"] == "sanction.ended" and m["data"]["sanctionId"] == sanction,
        )
        assert ended["data"]["endReason"] == "REPAIRED"
        twice = reviewer.post(REMOVE, {"c": code, "why": "已补报并公示年度信息"})
        assert _error(twice.json()) == {"code": "CONFLICT", "reason": "not-listed"}

        steps = [(e["field"], e["decision"]) for e in audit_trail(api, code)]
        assert ("listAbnormal", "ALLOW") in steps and ("removeAbnormal", "ALLOW") in steps
        assert ("listAbnormal", "DENY") in steps  # the second listing, refused
    finally:
        land.stop()
