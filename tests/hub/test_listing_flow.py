"""A listing from proposal to partners, over the API with a real worker and a partner server on
loopback: the rules refuse what is not serious dishonesty, the subject's statement period holds
the decision back until it ends or is waived, an objection is answered, the decision publishes
the listing and the partner receives it signed; repair waits for the minimum period; every step
names who and why and is audited."""

from __future__ import annotations

import asyncio
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from neo4j import AsyncDriver

from connectors.signing import new_credentials
from graph.db import Store
from graph.exchange.partners import Keys, register
from graph.records.determination import advance, expire_listings
from policies.credit.catalogue import add_months
from policies.credit.determination import default_rules
from policies.credit.measures import Catalogue
from policies.targets import TargetRule
from tests.audit import audit_trail
from tests.conftest import GraphQLClient, Workers, free_port, hub_command, mint, unit_token
from tests.partners import Behaviour, Inbox, PartnerServer
from tests.subjects import fresh_subjects

CASE = """fragment C on ListingCase {
  id creditCode listing fault status basedOn statementUntil sanctionId publishUntil
  repairableFrom steps { seq action fromStatus toStatus by unit reason document }
}"""
PROPOSE = (
    CASE
    + """
mutation($c: String!, $r: [String!]!, $f: Fault!, $why: String!) {
  proposeListing(creditCode: $c, records: $r, fault: $f, reason: $why) { ...C } }"""
)
ADVANCE = (
    CASE
    + """
mutation($id: String!, $s: CaseStepKind!, $why: String!, $doc: String, $m: Int, $u: Boolean) {
  advanceListing(id: $id, step: $s, reason: $why, document: $doc, months: $m, upheld: $u) {
    ...C } }"""
)
READ = CASE + "query($id: String!) { listingCase(id: $id) { ...C } }"
UNKNOWN = "91110000600037341L"  # a valid code no subject has


def _error(body: dict[str, Any]) -> dict[str, Any]:
    return body["errors"][0]["extensions"]  # type: ignore[no-any-return]


async def test_a_listing_from_proposal_to_the_partner(
    api: str, driver: AsyncDriver, store: Store, workers: Workers, rules: tuple[Path, Catalogue]
) -> None:
    catalogue = rules[1]
    keys = new_credentials("HMAC_SHA256")
    await register(
        store,
        catalogue,
        {
            "code": "LF-LAND",
            "name": "自治区自然资源厅不动产登记局",
            "kind": "LAND_MINING",
            "events": ["sanction.listed", "sanction.ended"],
            "endpoint": f"http://127.0.0.1:{(port := free_port())}/hub-events",
        },
        Keys(keys.scheme, keys.signing, keys.verifying),
        targets=TargetRule(public_only=False, https_only=True),
    )
    partner = PartnerServer(port, Inbox(keys.verifying, Behaviour())).start()
    unit = "NMG152201"
    submitter = GraphQLClient(api, unit_token("submitter", unit, "clerk-1"))
    first = GraphQLClient(api, unit_token("reviewer", unit, "reviewer-1"))
    second = GraphQLClient(api, unit_token("reviewer", unit, "reviewer-2"))
    try:
        ((code, record),) = fresh_subjects(1)
        light = submitter.post(
            PROPOSE, {"c": code, "r": [record], "f": "NEGLIGENCE", "why": "过失所致"}
        )
        assert _error(light.json()) == {"code": "BAD_USER_INPUT", "reason": "not-listable"}

        case: dict[str, Any] = submitter.data(
            PROPOSE, {"c": code, "r": [record], "f": "INTENT", "why": "故意越界开采，情节严重"}
        )["proposeListing"]  # type: ignore[assignment]
        assert case["status"] == "PROPOSED" and case["creditCode"] == code
        cid = case["id"]

        undocumented = first.post(ADVANCE, {"id": cid, "s": "NOTIFY", "why": "事先告知"})
        assert _error(undocumented.json())["reason"] == "document"
        notified = first.data(
            ADVANCE, {"id": cid, "s": "NOTIFY", "why": "事先告知", "doc": "乌自然资告〔2026〕3号"}
        )["advanceListing"]
        assert notified["statementUntil"] > date.today().isoformat()  # type: ignore[index]
        decision = {"id": cid, "s": "DECIDE", "why": "认定严重失信", "doc": "乌自然资决〔2026〕3号"}
        early = second.post(ADVANCE, decision)
        assert _error(early.json())["reason"] == "statement-open"
        first.data(ADVANCE, {"id": cid, "s": "OBJECT", "why": "当事人提出异议：面积有误"})
        second.data(ADVANCE, {"id": cid, "s": "ANSWER", "why": "经核查面积无误", "u": False})
        first.data(ADVANCE, {"id": cid, "s": "WAIVE", "why": "当事人书面放弃陈述申辩"})
        started = time.time()
        listed: dict[str, Any] = second.data(ADVANCE, decision)["advanceListing"]  # type: ignore[assignment]
        assert listed["status"] == "LISTED" and listed["sanctionId"]
        assert listed["publishUntil"] == add_months(date.today(), 36).isoformat()

        deadline = time.monotonic() + 20
        # Registered just now, the partner was first sent the listings already in force.
        while listed["sanctionId"] not in {m["data"]["sanctionId"] for m in partner.inbox.applied}:
            assert time.monotonic() < deadline, "the partner heard nothing"
            await asyncio.sleep(0.05)
        (received,) = [
            m for m in partner.inbox.applied if m["data"]["sanctionId"] == listed["sanctionId"]
        ]
        assert received["type"] == "sanction.listed"
        assert received["data"]["sanctionId"] == listed["sanctionId"]
        assert {m["code"] for m in received["data"]["measures"]} == {
            "LAND_AUCTION_BARRED",
            "MINING_RIGHT_BARRED",
        }  # what land and mining administration applies
        assert received["receivedAt"] - started < 5

        too_early = first.post(ADVANCE, {"id": cid, "s": "REPAIR", "why": "已履行义务"})
        assert _error(too_early.json()) == {"code": "CONFLICT", "reason": "too-early"}
        steps = first.data(READ, {"id": cid})["listingCase"]["steps"]  # type: ignore[index]
        assert [(s["action"], s["by"]) for s in steps] == [
            ("PROPOSE", "clerk-1"),
            ("NOTIFY", "reviewer-1"),
            ("OBJECT", "reviewer-1"),
            ("ANSWER", "reviewer-2"),
            ("WAIVE", "reviewer-1"),
            ("DECIDE", "reviewer-2"),
        ]
        assert all(s["unit"] == unit and s["reason"] for s in steps)

        # A year later the unit grants repair; at the end of publication, expiry (graph level:
        # the API's clock is today's).
        later = date.fromisoformat(listed["repairableFrom"])
        repaired = await advance(
            store,
            default_rules(),
            catalogue,
            case_id=cid,
            action="REPAIR",
            by="reviewer-1",
            unit=unit,
            prefix="152201",
            today=later,
            reason="信用修复",
        )
        assert repaired.status == "ENDED" and repaired.event is not None
        fields = [(e["field"], e["decision"]) for e in audit_trail(api, code)]
        assert ("advanceListing", "ALLOW") in fields and ("advanceListing", "DENY") in fields
    finally:
        partner.stop()
        await driver.execute_query("MATCH (p:Partner {code: 'LF-LAND'}) SET p.status = 'DISABLED'")


async def test_expiry_ends_the_listing_and_tells_partners(
    api: str, driver: AsyncDriver, store: Store, rules: tuple[Path, Catalogue]
) -> None:
    catalogue = rules[1]
    unit = "NMG152201"
    ((code, record),) = fresh_subjects(1)
    submitter = GraphQLClient(api, unit_token("submitter", unit, "clerk-1"))
    cid = submitter.data(PROPOSE, {"c": code, "r": [record], "f": "MALICE", "why": "恶意串通投标"})[
        "proposeListing"
    ]["id"]  # type: ignore[index]
    for action, by, reason, document in (
        ("NOTIFY", "r1", "事先告知书送达", "告1号"),
        ("WAIVE", "r1", "放弃陈述申辩", None),
        ("DECIDE", "r2", "认定严重失信", "决1号"),
    ):
        await advance(
            store,
            default_rules(),
            catalogue,
            case_id=cid,
            action=action,
            by=by,
            unit=unit,
            prefix="152201",
            today=date.today(),
            reason=reason,
            document=document,
            months=12,
        )
    case = GraphQLClient(api, unit_token("reviewer", unit, "r1")).data(READ, {"id": cid})
    until = date.fromisoformat(case["listingCase"]["publishUntil"])  # type: ignore[index]
    assert await expire_listings(store, catalogue, until) == []  # still in force
    ended = await expire_listings(store, catalogue, until + timedelta(days=1))
    assert [e.subject for e in ended] == [code]
    records, _, _ = await driver.execute_query(
        "MATCH (n:Sanction)-[:SANCTIONED]->(:Subject {creditCode: $c}) "
        "RETURN n.status AS status, n.endReason AS why",
        c=code,
    )
    assert [dict(r) for r in records] == [{"status": "ENDED", "why": "EXPIRED"}]


def test_only_units_take_cases_forward(api: str, migrated: None) -> None:
    for role in ("partner", "investigator", "admin"):
        body = (
            GraphQLClient(api, mint(role))
            .post(PROPOSE, {"c": UNKNOWN, "r": ["R-1"], "f": "INTENT", "why": "理由充分"})
            .json()
        )
        assert _error(body)["code"] == "FORBIDDEN", role
    for role in ("partner", "investigator", "submitter"):
        body = (
            GraphQLClient(api, mint(role))
            .post(ADVANCE, {"id": "LC-1", "s": "NOTIFY", "why": "事先告知"})
            .json()
        )
        assert _error(body)["code"] == "FORBIDDEN", role


def test_four_eyes_no_single_person_lists_a_subject(api: str, migrated: None) -> None:
    """Two reviewers of one unit: the one who proposed and gave notice can neither answer the
    objection to it nor decide; each refusal is FORBIDDEN, changes nothing and is audited."""
    unit = "NMG152201"
    first = GraphQLClient(api, unit_token("reviewer", unit, "eyes-1"))
    second = GraphQLClient(api, unit_token("reviewer", unit, "eyes-2"))
    ((code, record),) = fresh_subjects(1)
    cid = first.data(PROPOSE, {"c": code, "r": [record], "f": "MALICE", "why": "恶意越界开采"})[
        "proposeListing"
    ]["id"]  # type: ignore[index]
    notice = {"id": cid, "s": "NOTIFY", "why": "事先告知", "doc": "乌自然资告〔2026〕7号"}
    first.data(ADVANCE, notice)
    second.data(ADVANCE, {"id": cid, "s": "OBJECT", "why": "当事人提出异议：事实有误"})

    answer = {"id": cid, "s": "ANSWER", "why": "经核查事实无误", "u": False}
    own_answer = first.post(ADVANCE, answer).json()
    assert _error(own_answer) == {"code": "FORBIDDEN", "reason": "four-eyes"}
    assert "eyes-1" in own_answer["errors"][0]["message"]
    unchanged = first.data(READ, {"id": cid})["listingCase"]
    assert unchanged["status"] == "OBJECTED" and len(unchanged["steps"]) == 3  # type: ignore[index]
    second.data(ADVANCE, answer)

    first.data(ADVANCE, {"id": cid, "s": "WAIVE", "why": "当事人书面放弃陈述申辩"})
    decision = {"id": cid, "s": "DECIDE", "why": "认定严重失信", "doc": "乌自然资决〔2026〕7号"}
    own_decision = first.post(ADVANCE, decision).json()
    assert _error(own_decision) == {"code": "FORBIDDEN", "reason": "four-eyes"}
    still = first.data(READ, {"id": cid})["listingCase"]
    assert still["status"] == "NOTIFIED" and still["sanctionId"] is None  # type: ignore[index]
    listed = second.data(ADVANCE, decision)["advanceListing"]
    assert listed["status"] == "LISTED"  # type: ignore[index]

    hub_command("audit", "drain")
    admin = GraphQLClient(api, mint("admin", agency="NMG150000"))
    trail = admin.data(
        """query($c: String!) { auditTrail(subject: $c, first: 100) {
             field action decision principal } }""",
        {"c": code},
    )["auditTrail"]
    steps = [(e["decision"], e["principal"]) for e in trail if e["field"] == "advanceListing"]  # type: ignore[union-attr,index]
    assert steps == [
        ("ALLOW", "eyes-1"),  # NOTIFY
        ("ALLOW", "eyes-2"),  # OBJECT
        ("DENY", "eyes-1"),  # ANSWER to their own notice
        ("ALLOW", "eyes-2"),
        ("ALLOW", "eyes-1"),  # WAIVE
        ("DENY", "eyes-1"),  # DECIDE what they proposed
        ("ALLOW", "eyes-2"),
    ]
