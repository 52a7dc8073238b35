"""Corrections and withdrawals of published records, over the API with a real worker and a
partner server: the same review as a submission (two reviewers for serious), the published
version stands until then, the old version stays readable, the rating follows, and the partners
of a listing resting on the record hear of the change."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from neo4j import AsyncDriver

from graph.db import Store
from policies.credit.measures import Catalogue
from tests.conftest import GraphQLClient, Workers, mint, unit_token
from tests.partner_registry import registered_partner, wait_for
from tests.subjects import fresh_subjects, listed_on

UNIT = "NMG152201"
CORRECT = """mutation($id: String!, $r: RecordInput!, $why: String!) {
  proposeCorrection(id: $id, record: $r, reason: $why) { id record kind outcome status } }"""
WITHDRAW = """mutation($id: String!, $why: String!) {
  proposeWithdrawal(id: $id, reason: $why) { id record kind outcome status } }"""
APPROVE = """mutation($id: String!) {
  approveRecord(id: $id) { id status approvals approvalsNeeded } }"""
RETURN = """mutation($id: String!, $why: String!) {
  returnRecord(id: $id, reason: $why) { status } }"""
RECORDS = """query($c: String!) { subject(creditCode: $c) {
  rating { score }
  sanctions { id status }
  records { id title legalBasis version status
            versions { id version title legalBasis changeReason }
            pendingChange { id kind status title approvals } } } }"""
ONE = """query($id: String!) { creditRecord(id: $id) {
  id status title version withdrawnOn versions { version title } pendingChange { id } } }"""
QUEUE = """query($after: String) { reviewQueue(first: 100, after: $after) {
  edges { node { id change record changeReason title } } hasNextPage endCursor } }"""
FEED = """query($after: String) { sanctionFeed(after: $after, first: 100) {
  entries { op sanctionId listing status } endCursor hasNextPage } }"""


def _record(code: str, n: int, **changes: str) -> dict[str, str]:
    """The content of fresh_subjects' record, as a unit would type it again."""
    return {
        "item": "ADMIN_PENALTY",
        "subject": code,
        "tier": "SERIOUS",
        "title": "非法采矿行政处罚决定",
        "decidedOn": "2026-06-01",
        "document": f"乌自然资罚〔2026〕{n}号",
        "legalBasis": "《中华人民共和国矿产资源法》第三十九条",
        **changes,
    }


def _error(body: dict[str, Any]) -> dict[str, Any]:
    return body["errors"][0]["extensions"]  # type: ignore[no-any-return]


def _record_of(data: dict[str, Any], record: str) -> dict[str, Any] | None:
    found = [r for r in data["subject"]["records"] if r["id"] == record]
    return found[0] if found else None


async def test_a_correction_is_reviewed_then_replaces_the_record_and_partners_hear_of_it(
    api: str, driver: AsyncDriver, store: Store, workers: Workers, rules: tuple[Path, Catalogue]
) -> None:
    land = await registered_partner(
        store, rules[1], "CORR-LAND", "LAND_MINING",
        ["sanction.listed", "sanction.modified", "sanction.ended", "record.changed"],
    )  # fmt: skip
    try:
        ((code, record),) = fresh_subjects(1)
        number = int(record.rsplit("-", 1)[1])
        sanction = await listed_on(store, rules[1], code, record, "CORR")
        wait_for(land.inbox, lambda m: m["data"]["sanctionId"] == sanction)
        submitter = GraphQLClient(api, unit_token("submitter", UNIT, "clerk-corr"))
        first = GraphQLClient(api, unit_token("reviewer", UNIT, "reviewer-corr-1"))
        second = GraphQLClient(api, unit_token("reviewer", UNIT, "reviewer-corr-2"))
        partner = GraphQLClient(api, mint("partner", agency="CORR-LAND"))
        corrected = _record(code, number, legalBasis="《中华人民共和国矿产资源法》第四十条")

        elsewhere = GraphQLClient(api, unit_token("submitter", "NMG150102", "clerk-hohhot"))
        outside = elsewhere.post(CORRECT, {"id": record, "r": corrected, "why": "法律依据条款有误"})
        assert _error(outside.json())["code"] == "NOT_FOUND"
        other_item = _record(code, number, item="IDLE_LAND")
        refused = submitter.post(CORRECT, {"id": record, "r": other_item, "why": "事项有误"})
        assert _error(refused.json()) == {"code": "BAD_USER_INPUT", "reason": "other-record"}
        short = submitter.post(CORRECT, {"id": record, "r": corrected, "why": "错"})
        assert _error(short.json()) == {"code": "BAD_USER_INPUT", "reason": "reason"}

        proposed: dict[str, Any] = submitter.data(
            CORRECT, {"id": record, "r": corrected, "why": "法律依据条款有误"}
        )["proposeCorrection"]  # type: ignore[assignment]
        assert proposed["outcome"] == "created" and proposed["status"] == "PENDING"
        change = proposed["id"]

        # Pending: the partner still reads the published version and nothing of the proposal.
        seen = _record_of(partner.data(RECORDS, {"c": code}), record)
        assert seen is not None and seen["legalBasis"] == _record(code, number)["legalBasis"]
        assert seen["pendingChange"] is None and seen["version"] == 1
        mine = _record_of(submitter.data(RECORDS, {"c": code}), record)
        assert mine is not None and mine["pendingChange"]["id"] == change
        queue = first.every(QUEUE, "reviewQueue", "edges")
        (queued,) = [e["node"] for e in queue if e["node"]["id"] == change]
        assert queued["change"] == "CORRECTION" and queued["record"] == record

        # Returned, then proposed again: the same proposal, updated.
        first.data(RETURN, {"id": change, "why": "请附更正决定书"})
        again = submitter.data(CORRECT, {"id": record, "r": corrected, "why": "依更正决定书更正"})
        assert again["proposeCorrection"] == {  # type: ignore[comparison-overlap]
            "id": change, "record": record, "kind": "CORRECTION", "outcome": "updated",
            "status": "PENDING",
        }  # fmt: skip

        step = first.data(APPROVE, {"id": change})["approveRecord"]
        assert step == {"id": change, "status": "PENDING", "approvals": 1, "approvalsNeeded": 2}  # type: ignore[comparison-overlap]
        assert _error(first.post(APPROVE, {"id": change}).json())["code"] == "CONFLICT"
        seen = _record_of(partner.data(RECORDS, {"c": code}), record)
        assert seen is not None and seen["version"] == 1  # one approval of two publishes nothing
        assert second.data(APPROVE, {"id": change})["approveRecord"]["status"] == "APPROVED"  # type: ignore[index]

        seen = _record_of(partner.data(RECORDS, {"c": code}), record)
        assert seen is not None
        assert (seen["version"], seen["legalBasis"]) == (2, corrected["legalBasis"])
        (old,) = seen["versions"]
        assert old["version"] == 1 and old["legalBasis"] == _record(code, number)["legalBasis"]
        assert old["changeReason"] == "依更正决定书更正"
        one = first.data(ONE, {"id": record})["creditRecord"]
        assert one["version"] == 2 and [v["version"] for v in one["versions"]] == [1]  # type: ignore[index]

        modified = wait_for(
            land.inbox,
            lambda m: m["type"] == "sanction.modified" and m["data"]["sanctionId"] == sanction,
        )
        assert modified["data"]["basedOn"] == [record]
        changed = wait_for(
            land.inbox,
            lambda m: m["type"] == "record.changed" and m["data"]["recordId"] == record,
        )
        assert changed["data"]["change"] == "CORRECTED" and changed["data"]["version"] == 2
        assert changed["data"]["legalBasis"] == corrected["legalBasis"]
        feed = partner.every(FEED, "sanctionFeed", "entries")
        assert {"op": "MOD", "sanctionId": sanction, "listing": "SERIOUS_DISHONESTY",
                "status": "ACTIVE"} in feed  # fmt: skip
    finally:
        land.stop()


async def test_a_withdrawal_takes_the_record_and_the_listing_resting_on_it_away(
    api: str, driver: AsyncDriver, store: Store, workers: Workers, rules: tuple[Path, Catalogue]
) -> None:
    land = await registered_partner(
        store, rules[1], "WDR-LAND", "LAND_MINING",
        ["sanction.listed", "sanction.ended", "record.changed"],
    )  # fmt: skip
    try:
        ((code, record),) = fresh_subjects(1)
        sanction = await listed_on(store, rules[1], code, record, "CORR")
        submitter = GraphQLClient(api, unit_token("submitter", UNIT, "clerk-wdr"))
        first = GraphQLClient(api, unit_token("reviewer", UNIT, "reviewer-wdr-1"))
        second = GraphQLClient(api, unit_token("reviewer", UNIT, "reviewer-wdr-2"))
        partner = GraphQLClient(api, mint("partner", agency="WDR-LAND"))
        before = partner.data(RECORDS, {"c": code})["subject"]
        assert {"id": sanction, "status": "ACTIVE"} in before["sanctions"]  # type: ignore[index]

        change = submitter.data(WITHDRAW, {"id": record, "why": "处罚决定已被复议机关撤销"})
        cid = change["proposeWithdrawal"]["id"]  # type: ignore[index]
        assert _error(submitter.post(APPROVE, {"id": cid}).json())["code"] == "FORBIDDEN"
        first.data(APPROVE, {"id": cid})
        assert _record_of(partner.data(RECORDS, {"c": code}), record) is not None  # still there
        second.data(APPROVE, {"id": cid})

        after = partner.data(RECORDS, {"c": code})["subject"]
        assert _record_of({"subject": after}, record) is None
        assert {"id": sanction, "status": "ENDED"} in after["sanctions"]  # type: ignore[index]
        assert after["rating"]["score"] > before["rating"]["score"]  # type: ignore[index]
        ended = wait_for(
            land.inbox,
            lambda m: m["type"] == "sanction.ended" and m["data"]["sanctionId"] == sanction,
        )
        assert ended["data"]["endReason"] == "WITHDRAWN"
        withdrawn = wait_for(
            land.inbox,
            lambda m: m["type"] == "record.changed" and m["data"]["recordId"] == record,
        )
        assert (withdrawn["data"]["change"], withdrawn["data"]["on"]) == (
            "WITHDRAWN", date.today().isoformat(),
        )  # fmt: skip
        kept = first.data(ONE, {"id": record})["creditRecord"]
        assert kept["status"] == "WITHDRAWN" and kept["withdrawnOn"] == date.today().isoformat()  # type: ignore[index]
        # A withdrawn record is no longer published: nothing more to change.
        late = submitter.post(WITHDRAW, {"id": record, "why": "再次撤回"})
        assert _error(late.json()) == {"code": "CONFLICT", "reason": "not-published"}
        assert _error(partner.post(ONE, {"id": record}).json())["code"] == "FORBIDDEN"
    finally:
        land.stop()
