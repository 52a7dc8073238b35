"""Objections over the API, with a real worker and a partner server: a subject objects to its own
record, everyone who sees the record (a partner, the portal) sees it under objection, the owning
unit accepts and decides, a correction or withdrawal goes through the reviewers and reaches the
partner, and the subject reads the outcome and the reasons. Then the attacks: another subject,
a partner, a second objection, the record's own submitter, a unit elsewhere, no sign-in."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import httpx
from neo4j import AsyncDriver

from graph.db import Store
from policies.credit.measures import Catalogue
from policies.rights import default_rights
from tests.conftest import GraphQLClient, Workers, mint, unit_token
from tests.partner_registry import registered_partner, wait_for
from tests.partners import PartnerServer
from tests.subjects import fresh_subjects, listed_on

UNIT = "NMG152201"
EVENTS = ["sanction.listed", "sanction.modified", "sanction.ended", "record.objected"]
FIELDS = "id status open target recordId creditCode unit filedOn dueOn dueRule overdue reasons " \
    "outcome reply change"  # fmt: skip
FILE = f"""mutation($record: String, $sanction: String, $why: String!) {{
  fileObjection(recordId: $record, sanctionId: $sanction, reasons: $why) {{ {FIELDS} }} }}"""
ACCEPT = f"""mutation($id: String!, $ok: Boolean!, $why: String) {{
  acceptObjection(id: $id, accept: $ok, reason: $why) {{ {FIELDS} }} }}"""
DECIDE = f"""mutation($id: String!, $outcome: ObjectionOutcome!, $why: String!,
                     $r: RecordInput) {{
  decideObjection(id: $id, outcome: $outcome, reason: $why, correction: $r) {{ {FIELDS} }} }}"""
MINE = f"{{ myObjections(first: 50) {{ edges {{ node {{ {FIELDS} }} }} }} }}"
QUEUE = """query($overdue: Boolean!) { objections(overdue: $overdue, first: 100) {
  edges { node { id status } } } }"""
WITHDRAW = """mutation($id: String!, $why: String!) {
  proposeWithdrawal(id: $id, reason: $why) { id } }"""
APPROVE = "mutation($id: String!) { approveRecord(id: $id) { id status } }"
SEEN = """query($c: String!) { subject(creditCode: $c) {
  records { id underObjection status } sanctions { id status underObjection } } }"""
REASONS = "处罚决定已被行政复议机关撤销，复议决定书附后"


def subject_client(api: str, code: str) -> GraphQLClient:
    """What ``hub token --role subject --credit-code CODE`` gives a company signed in for itself."""
    return GraphQLClient(api, mint("subject", agency=code, credit_code=code, clearance="PUBLIC"))


def _get(url: str) -> httpx.Response:
    return httpx.get(url, timeout=15)


def _post_form(url: str, data: dict[str, str], files: dict[str, Any]) -> httpx.Response:
    return httpx.post(url, data=data, files=files, timeout=15)


def _error(response: httpx.Response) -> dict[str, Any]:
    return response.json()["errors"][0]  # type: ignore[no-any-return]


def _seen(client: GraphQLClient, code: str, record: str) -> tuple[dict[str, Any] | None, list[Any]]:
    """The record as the client sees it (None: not shown), and the subject's listings."""
    found = client.data(SEEN, {"c": code})["subject"]
    records = [r for r in found["records"] if r["id"] == record]  # type: ignore[index]
    return (records[0] if records else None), found["sanctions"]  # type: ignore[index]


def _objected(partner: PartnerServer, record: str, flag: bool) -> dict[str, Any]:
    return wait_for(
        partner.inbox,
        lambda m: (
            m["type"] == "record.objected"
            and m["data"].get("recordId") == record
            and m["data"]["underObjection"] is flag
        ),
    )


def _mine(client: GraphQLClient, objection: str) -> dict[str, Any]:
    edges = client.data(MINE)["myObjections"]["edges"]  # type: ignore[index]
    (found,) = [e["node"] for e in edges if e["node"]["id"] == objection]
    return found  # type: ignore[no-any-return]


async def _objected_and_accepted(
    api: str, store: Store, catalogue: Catalogue, partner: PartnerServer
) -> tuple[str, str, str, str, GraphQLClient, GraphQLClient]:
    """A fresh subject with a record under a listing, objected to and accepted:
    (code, record, sanction, objection, the subject's client, the deciding reviewer's)."""
    ((code, record),) = fresh_subjects(1)
    sanction = await listed_on(store, catalogue, code, record, "OBJ")
    wait_for(partner.inbox, lambda m: m["data"].get("sanctionId") == sanction)
    mine = subject_client(api, code)
    filed = mine.data(FILE, {"record": record, "why": REASONS})["fileObjection"]
    reviewer = GraphQLClient(api, unit_token("reviewer", UNIT, f"reviewer-ob-{record}"))
    accepted = reviewer.data(ACCEPT, {"id": filed["id"], "ok": True})  # type: ignore[index]
    assert accepted["acceptObjection"]["status"] == "ACCEPTED"  # type: ignore[index]
    return code, record, sanction, filed["id"], mine, reviewer  # type: ignore[index]


async def test_a_withdrawal_decided_on_objection_is_reviewed_and_reaches_partner_and_portal(
    api: str, store: Store, workers: Workers, rules: tuple[Path, Catalogue]
) -> None:
    land = await registered_partner(store, rules[1], "OBJ-LAND", "LAND_MINING", EVENTS)
    try:
        ((code, record),) = fresh_subjects(1)
        sanction = await listed_on(store, rules[1], code, record, "OBJ")
        wait_for(land.inbox, lambda m: m["data"].get("sanctionId") == sanction)
        partner = GraphQLClient(api, mint("partner", agency="OBJ-LAND"))
        page = _get(f"{api}/subjects/{code}")
        assert page.status_code == 200 and "异议处理中" not in page.text
        assert _seen(partner, code, record)[0]["underObjection"] is False  # type: ignore[index]

        mine = subject_client(api, code)
        filed: dict[str, Any] = mine.data(FILE, {"record": record, "why": REASONS})["fileObjection"]  # type: ignore[assignment]
        today, deadlines = date.today(), default_rights()
        assert filed["status"] == "FILED" and filed["open"] and filed["unit"] == UNIT
        assert filed["dueOn"] == deadlines.objection_accept.due(today).isoformat()
        assert filed["dueRule"] == deadlines.objection_accept.source

        # Everyone who sees the record sees it under objection: a partner, and the portal at once
        # (the event moved the feed counter its cache keys on).
        seen, listings = _seen(partner, code, record)
        assert seen is not None and seen["underObjection"] is True
        assert {"id": sanction, "status": "ACTIVE", "underObjection": True} in listings
        told = _objected(land, record, True)
        assert told["data"]["creditCode"] == code and "reasons" not in told["data"]
        assert REASONS not in str(told)
        page = _get(f"{api}/subjects/{code}")
        assert page.status_code == 200 and "异议处理中" in page.text

        again = mine.post(FILE, {"record": record, "why": "再次提出异议，理由同前"})
        assert _error(again)["extensions"] == {"code": "CONFLICT", "reason": "open-objection"}

        reviewer = GraphQLClient(api, unit_token("reviewer", UNIT, "reviewer-ob-w1"))
        accepted = reviewer.data(ACCEPT, {"id": filed["id"], "ok": True})["acceptObjection"]
        assert accepted["status"] == "ACCEPTED"  # type: ignore[index]
        assert accepted["dueOn"] == deadlines.objection_decide.due(today).isoformat()  # type: ignore[index]
        why = "复议决定撤销原处罚决定，撤销该信息"
        decided = reviewer.data(DECIDE, {"id": filed["id"], "outcome": "WITHDRAW", "why": why})[
            "decideObjection"
        ]
        assert decided["status"] == "IN_REVIEW" and decided["open"] is True  # type: ignore[index]
        change = decided["change"]  # type: ignore[index]
        assert change.startswith("RC-")

        # The same review as a submission: not by whoever proposed it, two reviewers (serious).
        denied = reviewer.post(APPROVE, {"id": change})
        assert _error(denied)["extensions"]["code"] == "FORBIDDEN"
        first = GraphQLClient(api, unit_token("reviewer", UNIT, "reviewer-ob-w2"))
        assert first.data(APPROVE, {"id": change})["approveRecord"]["status"] == "PENDING"  # type: ignore[index]
        seen, _ = _seen(partner, code, record)
        assert seen is not None and seen["underObjection"] is True  # still published, objected
        second = GraphQLClient(api, unit_token("reviewer", UNIT, "reviewer-ob-w3"))
        assert second.data(APPROVE, {"id": change})["approveRecord"]["status"] == "APPROVED"  # type: ignore[index]

        ended = wait_for(
            land.inbox,
            lambda m: m["type"] == "sanction.ended" and m["data"]["sanctionId"] == sanction,
        )
        assert ended["data"]["endReason"] == "WITHDRAWN"
        _objected(land, record, False)
        assert _seen(partner, code, record)[0] is None
        page = _get(f"{api}/subjects/{code}")
        assert page.status_code == 200 and record not in page.text
        assert "乌自然资罚" not in page.text and "异议处理中" not in page.text

        told_subject = _mine(mine, filed["id"])
        assert (told_subject["status"], told_subject["open"]) == ("DECIDED", False)
        assert told_subject["outcome"] == "WITHDRAW" and told_subject["change"] == change
        assert told_subject["reply"] == why
        assert told_subject["dueOn"] is None and told_subject["overdue"] is False
    finally:
        land.stop()


async def test_a_correction_decided_on_objection_reaches_the_partner(
    api: str, store: Store, workers: Workers, rules: tuple[Path, Catalogue]
) -> None:
    land = await registered_partner(store, rules[1], "OBJ-CORR", "LAND_MINING", EVENTS)
    try:
        code, record, sanction, objection, mine, reviewer = await _objected_and_accepted(
            api, store, rules[1], land
        )
        number = int(record.rsplit("-", 1)[1])
        corrected = {
            "item": "ADMIN_PENALTY", "subject": code, "tier": "SERIOUS",
            "title": "非法采矿行政处罚决定", "decidedOn": "2026-06-01",
            "document": f"乌自然资罚〔2026〕{number}号",
            "legalBasis": "《中华人民共和国矿产资源法》第四十条",
        }  # fmt: skip
        missing = reviewer.post(
            DECIDE, {"id": objection, "outcome": "CORRECT", "why": "法律依据条款引用有误，予以更正"}
        )  # fmt: skip
        assert _error(missing)["extensions"] == {"code": "BAD_USER_INPUT", "reason": "correction"}
        decided = reviewer.data(
            DECIDE,
            {"id": objection, "outcome": "CORRECT", "why": "法律依据条款引用有误，予以更正",
             "r": corrected},
        )["decideObjection"]  # fmt: skip
        change = decided["change"]  # type: ignore[index]
        for n in (1, 2):
            approver = GraphQLClient(api, unit_token("reviewer", UNIT, f"reviewer-oc-{n}"))
            approver.data(APPROVE, {"id": change})

        modified = wait_for(
            land.inbox,
            lambda m: m["type"] == "sanction.modified" and m["data"]["sanctionId"] == sanction,
        )
        assert modified["data"]["basedOn"] == [record]
        _objected(land, record, False)
        partner = GraphQLClient(api, mint("partner", agency="OBJ-CORR"))
        seen, listings = _seen(partner, code, record)
        assert seen is not None and seen["underObjection"] is False
        assert {"id": sanction, "status": "ACTIVE", "underObjection": False} in listings
        told = _mine(mine, objection)
        assert (told["status"], told["outcome"], told["open"]) == ("DECIDED", "CORRECT", False)
    finally:
        land.stop()


async def test_a_confirmed_objection_lifts_the_flag_and_the_subject_reads_why(
    api: str, store: Store, workers: Workers, rules: tuple[Path, Catalogue]
) -> None:
    land = await registered_partner(store, rules[1], "OBJ-CONF", "LAND_MINING", EVENTS)
    try:
        code, record, _, objection, mine, _ = await _objected_and_accepted(
            api, store, rules[1], land
        )
        # The league's unit, above the banner that owns the record, decides it.
        reviewer = GraphQLClient(api, unit_token("reviewer", "NMG152200", "reviewer-league"))
        queued = reviewer.data(QUEUE, {"overdue": False})["objections"]["edges"]  # type: ignore[index]
        assert objection in [e["node"]["id"] for e in queued]
        why = "经核查，原处罚决定事实清楚、证据确凿，维持原信息"
        decided = reviewer.data(DECIDE, {"id": objection, "outcome": "CONFIRM", "why": why})
        assert decided["decideObjection"]["status"] == "DECIDED"  # type: ignore[index]
        partner = GraphQLClient(api, mint("partner", agency="OBJ-CONF"))
        seen, _ = _seen(partner, code, record)
        assert (
            seen is not None and seen["underObjection"] is False and seen["status"] == "PUBLISHED"
        )
        _objected(land, record, False)
        told = _mine(mine, objection)
        assert (told["outcome"], told["reply"], told["open"]) == ("CONFIRM", why, False)
        late = reviewer.post(DECIDE, {"id": objection, "outcome": "WITHDRAW", "why": why})
        assert _error(late)["extensions"] == {"code": "CONFLICT", "reason": "wrong-status"}
        # Closed: the subject may object again.
        assert mine.data(FILE, {"record": record, "why": REASONS})["fileObjection"]["open"]  # type: ignore[index]
    finally:
        land.stop()


async def _objections_against(driver: AsyncDriver, record: str) -> int:
    records, _, _ = await driver.execute_query(
        "MATCH (o:Objection)-[:AGAINST]->(:CreditRecord {id: $id}) RETURN count(o) AS n", id=record
    )
    return int(records[0]["n"])


async def test_objections_refuse_strangers_partners_submitters_and_other_units(
    api: str, driver: AsyncDriver
) -> None:
    (mine_code, mine_record), (other_code, other_record) = fresh_subjects(2)
    other = subject_client(api, other_code)
    stranger = _error(other.post(FILE, {"record": mine_record, "why": REASONS}))
    unknown = _error(other.post(FILE, {"record": "R-NO-SUCH-1", "why": REASONS}))
    assert stranger["extensions"] == unknown["extensions"] == {
        "code": "NOT_FOUND", "reason": "unknown-target",
    }  # fmt: skip
    assert stranger["message"].replace(mine_record, "X") == unknown["message"].replace(
        "R-NO-SUCH-1", "X"
    )
    partner = GraphQLClient(api, mint("partner"))
    assert (
        _error(partner.post(FILE, {"record": mine_record, "why": REASONS}))["extensions"]["code"]
        == "FORBIDDEN"
    )
    anonymous = GraphQLClient(api, None)
    assert _error(anonymous.post(FILE, {"record": mine_record, "why": REASONS}))["extensions"][
        "code"
    ] in ("FORBIDDEN", "UNAUTHENTICATED")
    reviewer = GraphQLClient(api, unit_token("reviewer", UNIT, "reviewer-ob-h"))
    assert (
        _error(reviewer.post(FILE, {"record": mine_record, "why": REASONS}))["extensions"]["code"]
        == "FORBIDDEN"
    )
    both = _error(other.post(FILE, {"record": other_record, "sanction": "S-X", "why": REASONS}))
    assert both["extensions"]["code"] == "BAD_USER_INPUT"
    short = _error(other.post(FILE, {"record": other_record, "why": "不对"}))
    assert short["extensions"] == {"code": "BAD_USER_INPUT", "reason": "reasons"}
    assert await _objections_against(driver, mine_record) == 0
    assert await _objections_against(driver, other_record) == 0

    # The record was submitted by clerk-ob-h, who now holds a reviewer's token too.
    await driver.execute_query(
        "MATCH (r:CreditRecord {id: $id}) SET r.submittedBy = 'clerk-ob-h'", id=mine_record
    )
    mine = subject_client(api, mine_code)
    objection = mine.data(FILE, {"record": mine_record, "why": REASONS})["fileObjection"]["id"]  # type: ignore[index]
    assert all(
        e["node"]["id"] != objection
        for e in other.data(MINE)["myObjections"]["edges"]  # type: ignore[index]
    )
    submitter = GraphQLClient(api, unit_token("reviewer", UNIT, "clerk-ob-h"))
    own = _error(submitter.post(ACCEPT, {"id": objection, "ok": True}))
    assert own["extensions"] == {"code": "FORBIDDEN", "reason": "four-eyes"}
    elsewhere = GraphQLClient(api, unit_token("reviewer", "NMG150102", "reviewer-hohhot"))
    outside = _error(elsewhere.post(ACCEPT, {"id": objection, "ok": False, "why": REASONS}))
    assert outside["extensions"] == {"code": "NOT_FOUND", "reason": "unknown-objection"}
    queued = elsewhere.data(QUEUE, {"overdue": False})["objections"]["edges"]  # type: ignore[index]
    assert objection not in [e["node"]["id"] for e in queued]
    assert _error(other.post(QUEUE, {"overdue": False}))["extensions"]["code"] == "FORBIDDEN"
    assert _mine(mine, objection)["status"] == "FILED"  # nothing changed

    # The unit's reviewer (not the submitter) refuses it, with reasons: closed, flag gone.
    refused = reviewer.post(ACCEPT, {"id": objection, "ok": False})
    assert _error(refused)["extensions"] == {"code": "BAD_USER_INPUT", "reason": "reasons"}
    queued = reviewer.data(QUEUE, {"overdue": False})["objections"]["edges"]  # type: ignore[index]
    assert objection in [e["node"]["id"] for e in queued]
    why = "异议所附材料与该处罚决定无关，不予受理"
    done = reviewer.data(ACCEPT, {"id": objection, "ok": False, "why": why})["acceptObjection"]
    assert (done["status"], done["open"], done["reply"]) == ("REFUSED", False, why)  # type: ignore[index]
    assert _mine(mine, objection)["reply"] == why
    seen, _ = _seen(GraphQLClient(api, mint("partner")), mine_code, mine_record)
    assert seen is not None and seen["underObjection"] is False


async def test_the_portal_pages_refuse_without_a_sign_in(api: str, driver: AsyncDriver) -> None:
    ((_, record),) = fresh_subjects(1)
    listed = _get(f"{api}/me/objections")
    assert listed.status_code == 401 and "请先" in listed.text
    assert listed.headers["cache-control"] == "no-store"
    form = _get(f"{api}/me/objections/new?record={record}")
    assert form.status_code == 401 and "reasons" not in form.text
    posted = _post_form(
        f"{api}/me/objections/new",
        {"record": record, "reasons": REASONS, "csrf_token": "forged"},
        {"evidence": ("proof.pdf", b"%PDF-1.4 proof", "application/pdf")},
    )
    assert posted.status_code == 401 and "reasons" not in posted.text
    assert await _objections_against(driver, record) == 0


async def test_an_objection_to_a_listing_withdrawn_ends_it_for_the_partners(
    api: str, store: Store, workers: Workers, rules: tuple[Path, Catalogue]
) -> None:
    land = await registered_partner(store, rules[1], "OBJ-LIST", "LAND_MINING", EVENTS)
    try:
        ((code, record),) = fresh_subjects(1)
        sanction = await listed_on(store, rules[1], code, record, "OBJ")
        wait_for(land.inbox, lambda m: m["data"].get("sanctionId") == sanction)
        mine = subject_client(api, code)
        filed = mine.data(FILE, {"sanction": sanction, "why": REASONS})["fileObjection"]
        assert filed["target"] == "LISTING"  # type: ignore[index]
        partner = GraphQLClient(api, mint("partner", agency="OBJ-LIST"))
        seen, listings = _seen(partner, code, record)
        assert {"id": sanction, "status": "ACTIVE", "underObjection": True} in listings
        assert seen is not None and seen["underObjection"] is False  # the record itself is not
        wait_for(
            land.inbox,
            lambda m: m["type"] == "record.objected" and m["data"].get("sanctionId") == sanction,
        )
        reviewer = GraphQLClient(api, unit_token("reviewer", UNIT, "reviewer-ol-1"))
        reviewer.data(ACCEPT, {"id": filed["id"], "ok": True})  # type: ignore[index]
        why = "认定所依据的事实已由复议决定否定，撤销该名单"
        wrong = reviewer.post(DECIDE, {"id": filed["id"], "outcome": "CORRECT", "why": why})  # type: ignore[index]
        assert _error(wrong)["extensions"] == {
            "code": "BAD_USER_INPUT", "reason": "listing-correction",
        }  # fmt: skip
        done = reviewer.data(DECIDE, {"id": filed["id"], "outcome": "WITHDRAW", "why": why})  # type: ignore[index]
        assert done["decideObjection"]["status"] == "DECIDED"  # type: ignore[index]
        ended = wait_for(
            land.inbox,
            lambda m: m["type"] == "sanction.ended" and m["data"]["sanctionId"] == sanction,
        )
        assert ended["data"]["endReason"] == "WITHDRAWN"
        _, listings = _seen(partner, code, record)
        assert {"id": sanction, "status": "ENDED", "underObjection": False} in listings
        assert _mine(mine, filed["id"])["outcome"] == "WITHDRAW"  # type: ignore[index]
    finally:
        land.stop()


async def test_a_record_the_unit_withdraws_on_its_own_closes_the_objection_to_it(
    api: str, workers: Workers
) -> None:
    ((code, record),) = fresh_subjects(1)
    mine = subject_client(api, code)
    objection = mine.data(FILE, {"record": record, "why": REASONS})["fileObjection"]["id"]  # type: ignore[index]
    submitter = GraphQLClient(api, unit_token("submitter", UNIT, "clerk-ob-own"))
    withdrawal = submitter.data(WITHDRAW, {"id": record, "why": "处罚决定已被依法撤销"})
    change = withdrawal["proposeWithdrawal"]["id"]  # type: ignore[index]
    for n in (1, 2):
        approver = GraphQLClient(api, unit_token("reviewer", UNIT, f"reviewer-oo-{n}"))
        approver.data(APPROVE, {"id": change})
    told = _mine(mine, objection)
    assert (told["status"], told["open"], told["outcome"]) == ("DECIDED", False, "WITHDRAW")
    assert told["change"] == change
