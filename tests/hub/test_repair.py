"""Credit repair through the API with a subject's token, a real worker and a partner on loopback:
refused before the minimum period (the date given) and without a required proof (named); filed
once per target; accepted and granted by the unit that listed it, never by the case's proposer
alone, nor by a unit outside its jurisdiction, nor by a partner or another subject; the grant
ends the listing, the partner hears of it and acknowledges, the rating is recomputed and the
portal stops showing it within a minute. Deadlines and the overdue list with an injected clock
across Spring Festival and National Day 2026."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from neo4j import AsyncDriver

from graph.db import Store
from graph.records.abnormal import list_abnormal
from graph.rights.overdue import overdue_items
from graph.rights.repair import Application, Proof, RepairRefused, apply
from graph.rights.repair_decisions import Actor, accept, decide
from policies.credit.catalogue import add_months
from policies.credit.determination import default_rules
from policies.credit.measures import Catalogue
from policies.rights import default_rights
from tests.conftest import GraphQLClient, Workers, mint, unit_token
from tests.partner_registry import registered_partner, wait_for
from tests.partners import PartnerServer
from tests.subjects import fresh_subjects, land_penalty, listed_by_case

UNIT = "NMG152201"
APP = """fragment A on RepairApplication { id status unit creditCode target targetKind statement
  proofKinds filedOn dueOn open opensOn acceptedOn decidedOn reason fee }"""
APPLY = (
    APP
    + """
mutation($s: String, $r: String, $why: String!, $p: [ProofInput!]!) {
  applyForRepair(sanctionId: $s, recordId: $r, statement: $why, proofs: $p) { ...A } }"""
)
ACCEPT = (
    APP
    + """
mutation($id: String!, $ok: Boolean!, $why: String) {
  acceptRepair(id: $id, accept: $ok, reason: $why) { ...A } }"""
)
DECIDE = (
    APP
    + """
mutation($id: String!, $ok: Boolean!, $why: String) {
  decideRepair(id: $id, grant: $ok, reason: $why) { ...A } }"""
)
QUEUE = APP + "{ repairApplications(first: 100) { edges { node { ...A } } } }"
SUBJECT = """query($c: String!) { subject(creditCode: $c) {
  sanctions { id status } rating { grade score computedAt } } }"""
ALL_PROOFS: list[object] = [
    {"kind": "FULFILMENT", "text": "罚款已于2026年3月缴清，缴款书编号 FK-2026-001"},
    {"kind": "COMMITMENT", "text": "本公司承诺依法依规开采，不再越界"},
    {"kind": "TRAINING", "text": "信用修复培训结业证书 PX-2026-17"},
]
STATEMENT = "本公司已全面整改，履行全部法定义务，申请信用修复。"


def subject_token(code: str) -> str:
    """A signed-in subject's token: role subject, level SUBJECT, agency = creditCode = code."""
    return mint("subject", agency=code, credit_code=code, clearance="PUBLIC")


def _error(body: dict[str, Any]) -> dict[str, Any]:
    return body["errors"][0]["extensions"]  # type: ignore[no-any-return]


def _in_csv(api: str, code: str) -> bool:
    text = httpx.get(f"{api}/lists/serious.csv", params={"division": "152201"}, timeout=15).text
    return code in text


async def test_a_repair_from_application_to_the_partner_and_the_portal(
    api: str, driver: AsyncDriver, store: Store, workers: Workers, rules: tuple[Path, Catalogue]
) -> None:
    land = await registered_partner(
        store, rules[1], "REP-LAND", "LAND_MINING", ["sanction.listed", "sanction.ended"]
    )
    try:
        ((code, record), (other, _)) = fresh_subjects(2)
        decided = date.today() - timedelta(days=400)
        _, sanction = await listed_by_case(store, rules[1], code, record, decided, "rep-proposer")
        me = GraphQLClient(api, subject_token(code))
        unit = GraphQLClient(api, unit_token("reviewer", UNIT, "rep-reviewer"))
        proposer = GraphQLClient(api, unit_token("reviewer", UNIT, "rep-proposer"))
        stranger_unit = GraphQLClient(api, unit_token("reviewer", "NMG150102", "hohhot-1"))
        public = GraphQLClient(api, None)
        before = public.data(SUBJECT, {"c": code})["subject"]
        assert {"id": sanction, "status": "ACTIVE"} in before["sanctions"]  # type: ignore[index]
        assert _in_csv(api, code)
        assert "严重失信" in _listing_part(api, code)

        # A missing proof is named, and nothing is filed.
        short: dict[str, object] = {"s": sanction, "why": STATEMENT, "p": ALL_PROOFS[:2]}
        missing = me.post(APPLY, short).json()
        assert _error(missing) == {
            "code": "BAD_USER_INPUT", "reason": "missing-proof", "missing": ["TRAINING"],
        }  # fmt: skip
        assert "TRAINING" in missing["errors"][0]["message"]
        # A proof given as blank text is no proof.
        blank = [*ALL_PROOFS[:2], {"kind": "TRAINING", "text": "   "}]
        assert _error(me.post(APPLY, {**short, "p": blank}).json())["reason"] == "missing-proof"
        # Hostile callers: another subject (reads like an unknown target), a partner, a unit.
        thief = GraphQLClient(api, subject_token(other)).post(
            APPLY, {"s": sanction, "why": STATEMENT, "p": ALL_PROOFS}
        )
        unknown = GraphQLClient(api, subject_token(other)).post(
            APPLY, {"s": "S-NO-SUCH", "why": STATEMENT, "p": ALL_PROOFS}
        )
        assert _error(thief.json()) == _error(unknown.json()) == {
            "code": "NOT_FOUND", "reason": "unknown-target",
        }  # fmt: skip
        assert thief.json()["errors"][0]["message"].replace(sanction, "X") == unknown.json()[
            "errors"
        ][0]["message"].replace("S-NO-SUCH", "X")
        for token in (mint("partner"), unit_token("reviewer", UNIT, "rep-reviewer")):
            hostile = me.post(APPLY, {"s": sanction, "why": STATEMENT, "p": ALL_PROOFS}, token)
            assert _error(hostile.json())["code"] == "FORBIDDEN"
        rows, _, _ = await driver.execute_query(
            "MATCH (a:RepairApplication {target: $t}) RETURN count(a) AS n", t=sanction
        )
        assert rows[0]["n"] == 0

        filed: dict[str, Any] = me.data(APPLY, {"s": sanction, "why": STATEMENT, "p": ALL_PROOFS})[
            "applyForRepair"
        ]  # type: ignore[assignment]
        today = date.today()
        assert (filed["status"], filed["unit"], filed["creditCode"], filed["fee"]) == (
            "FILED", UNIT, code, 0,
        )  # fmt: skip
        assert filed["targetKind"] == "SERIOUS_DISHONESTY" and filed["open"]
        assert filed["dueOn"] == default_rights().repair_accept.due(today).isoformat()
        assert filed["opensOn"] <= today.isoformat()
        again = me.post(APPLY, {"s": sanction, "why": STATEMENT, "p": ALL_PROOFS}).json()
        assert _error(again) == {"code": "CONFLICT", "reason": "already-open"}

        # A unit outside the jurisdiction neither sees nor takes it.
        seen = stranger_unit.data(QUEUE)["repairApplications"]["edges"]  # type: ignore[index]
        assert filed["id"] not in {e["node"]["id"] for e in seen}
        outside = stranger_unit.post(ACCEPT, {"id": filed["id"], "ok": True}).json()
        assert _error(outside) == {"code": "NOT_FOUND", "reason": "unknown-application"}
        assert _error(me.post(ACCEPT, {"id": filed["id"], "ok": True}).json())["code"] == (
            "FORBIDDEN"
        )
        queued = unit.data(QUEUE)["repairApplications"]["edges"]  # type: ignore[index]
        assert [e["node"]["status"] for e in queued if e["node"]["id"] == filed["id"]] == ["FILED"]

        accepted = unit.data(ACCEPT, {"id": filed["id"], "ok": True})["acceptRepair"]
        assert accepted["status"] == "ACCEPTED"  # type: ignore[index]
        assert accepted["dueOn"] == default_rights().repair_decide.due(today).isoformat()  # type: ignore[index]
        refusal = unit.post(DECIDE, {"id": filed["id"], "ok": False, "why": ""}).json()
        assert _error(refusal) == {"code": "BAD_USER_INPUT", "reason": "reason"}

        # Four eyes: whoever proposed the listing does not lift it.
        own = proposer.post(DECIDE, {"id": filed["id"], "ok": True}).json()
        assert _error(own) == {"code": "FORBIDDEN", "reason": "four-eyes"}
        still = public.data(SUBJECT, {"c": code})["subject"]
        assert {"id": sanction, "status": "ACTIVE"} in still["sanctions"]  # type: ignore[index]

        started = time.monotonic()
        granted = unit.data(DECIDE, {"id": filed["id"], "ok": True, "why": "整改到位，准予修复"})
        assert granted["decideRepair"]["status"] == "GRANTED"  # type: ignore[index]
        assert granted["decideRepair"]["open"] is False  # type: ignore[index]
        ended = wait_for(
            land.inbox,
            lambda m: m["type"] == "sanction.ended" and m["data"]["sanctionId"] == sanction,
        )
        assert ended["data"]["endReason"] == "REPAIRED"
        deadline = time.monotonic() + 20
        while True:  # the partner's 2xx is its acknowledgement, recorded on the delivery
            found, _, _ = await driver.execute_query(
                "MATCH (d:Delivery {id: $id}) RETURN d.status AS status",
                id=f"{ended['id']}|REP-LAND",
            )
            if found and found[0]["status"] == "DELIVERED":
                break
            assert time.monotonic() < deadline, found
            await asyncio.sleep(0.1)

        after = public.data(SUBJECT, {"c": code})["subject"]
        assert {"id": sanction, "status": "REPAIRED"} in after["sanctions"]  # type: ignore[index]
        assert after["rating"]["computedAt"] > before["rating"]["computedAt"]  # type: ignore[index]
        while _in_csv(api, code) or _listing_part(api, code):
            assert time.monotonic() - started < 60, "the portal still shows the listing"
            await asyncio.sleep(1)
        assert time.monotonic() - started < 60
        late = me.post(APPLY, {"s": sanction, "why": STATEMENT, "p": ALL_PROOFS}).json()
        assert _error(late) == {"code": "CONFLICT", "reason": "not-in-force"}
    finally:
        land.stop()
        await driver.execute_query("MATCH (p:Partner {code: 'REP-LAND'}) SET p.status = 'DISABLED'")


def _listing_part(api: str, code: str) -> str:
    """The subject page's banner naming the lists the subject is on, or ''."""
    page = httpx.get(f"{api}/subjects/{code}", timeout=15).text
    start = page.find('class="alert-banner"')
    return page[start : page.find("</p>", start)] if start >= 0 else ""


async def test_repair_opens_only_at_the_end_of_the_minimum_period(
    api: str, store: Store, rules: tuple[Path, Catalogue]
) -> None:
    ((code, record),) = fresh_subjects(1)
    today = date.today()
    case, sanction = await listed_by_case(store, rules[1], code, record, today, "rep-early")
    opens = default_rules().publication["SERIOUS_DISHONESTY"].min_months
    body = (
        GraphQLClient(api, subject_token(code))
        .post(APPLY, {"s": sanction, "why": STATEMENT, "p": ALL_PROOFS})
        .json()
    )
    day = add_months(today, opens).isoformat()
    assert _error(body) == {"code": "CONFLICT", "reason": "too-early", "opensOn": day}
    assert day in body["errors"][0]["message"]
    assert case.startswith("LC-")
    # One statement too short is refused before anything is read.
    short = GraphQLClient(api, subject_token(code)).post(
        APPLY, {"s": sanction, "why": "请修复", "p": ALL_PROOFS}
    )
    assert _error(short.json()) == {"code": "BAD_USER_INPUT", "reason": "statement"}


async def test_deadlines_across_spring_festival_and_national_day_and_the_overdue_list(
    driver: AsyncDriver, store: Store, rules: tuple[Path, Catalogue]
) -> None:
    """Spring Festival 2026 (Feb 15-23 off, Saturdays Feb 14 and 28 worked) and National Day
    2026 (Oct 1-7 off, Sep 20 and Oct 10 worked): each deadline on the right working day; the
    application is overdue the day after, and only in its unit's and the units' above list."""
    catalogue = rules[1]
    rights, determination = default_rights(), default_rules()
    actor = Actor("tt-reviewer", UNIT, "NMG152201", "152201", {})
    (one, two) = fresh_subjects(2)
    cases = []
    for (code, record), proposer in ((one, "tt-p1"), (two, "tt-p2")):
        cases.append(
            await listed_by_case(store, catalogue, code, record, date(2025, 1, 6), proposer)
        )
    proofs = (
        Proof("FULFILMENT", "罚款已缴清"),
        Proof("COMMITMENT", "承诺守法"),
        Proof("TRAINING", "培训结业"),
    )

    async def filed(code: str, sanction: str, day: date) -> str:
        app = Application(code, sanction, True, STATEMENT, proofs)
        return await apply(
            store, rights, determination, app, by="tt", today=day, now=datetime.now(UTC)
        )

    spring = await filed(one[0], cases[0][1], date(2026, 2, 13))  # Friday before the holiday
    national = await filed(two[0], cases[1][1], date(2026, 9, 29))
    due = await _due(driver, spring, national)
    assert due == {spring: date(2026, 2, 24), national: date(2026, 10, 8)}

    async def overdue_on(day: date, prefix: str = "NMG152201") -> set[str]:
        rows = await overdue_items(store, prefix, day, (date(1970, 1, 1), ""), 100)
        return {r["id"] for r in rows} & {spring, national}

    assert await overdue_on(date(2026, 2, 24)) == set()
    assert await overdue_on(date(2026, 2, 25)) == {spring}
    assert await overdue_on(date(2026, 2, 25), "NMG1522") == {spring}  # the league above
    assert await overdue_on(date(2026, 2, 25), "NMG150102") == set()  # another banner
    assert await overdue_on(date(2026, 10, 9)) == {spring, national}

    await accept(
        store, rights, spring, take=True, reason=None, actor=actor, today=date(2026, 2, 24)
    )
    # A unit above the one that listed it may act on it; a banner beside it may not.
    league = Actor("tt-league", "NMG152200", "NMG1522", "1522", {})
    beside = Actor("tt-beside", "NMG152202", "NMG152202", "152202", {})
    try:
        await accept(store, rights, national, take=True, reason=None, actor=beside,
                     today=date(2026, 9, 30))  # fmt: skip
        raise AssertionError("a unit beside the one that listed it accepted")
    except RepairRefused as exc:
        assert exc.code == "NOT_FOUND"
    await accept(
        store, rights, national, take=True, reason=None, actor=league, today=date(2026, 9, 30)
    )
    assert await _due(driver, spring, national) == {
        spring: date(2026, 3, 16),
        national: date(2026, 10, 27),
    }
    assert await overdue_on(date(2026, 3, 16)) == set()
    assert await overdue_on(date(2026, 3, 17)) == {spring}
    refused = await decide(
        store, rights, determination, catalogue, spring, grant=False,
        reason="履行义务证明与缴款记录不符", actor=actor, today=date(2026, 3, 17),
    )  # fmt: skip
    assert refused.status == "REFUSED" and refused.events == ()
    assert await overdue_on(date(2026, 10, 28)) == {national}  # a decided one is not overdue
    try:
        await decide(
            store, rights, determination, catalogue, spring, grant=True, reason=None,
            actor=actor, today=date(2026, 3, 18),
        )  # fmt: skip
        raise AssertionError("a refused application was granted")
    except RepairRefused as exc:
        assert exc.reason == "not-accepted"


async def _due(driver: AsyncDriver, *ids: str) -> dict[str, date]:
    rows, _, _ = await driver.execute_query(
        "MATCH (a:RepairApplication) WHERE a.id IN $ids RETURN a.id AS id, a.dueOn AS due",
        ids=list(ids),
    )
    return {r["id"]: r["due"].to_native() for r in rows}


SUBMIT = "mutation($r: RecordInput!) { submitRecord(record: $r) { id outcome status } }"
APPROVE = "mutation($id: String!) { approveRecord(id: $id) { status } }"
RECORDS = "query($c: String!) { subject(creditCode: $c) { records { id status } } }"


async def test_a_dishonest_record_is_repaired_by_the_unit_that_recorded_it(
    api: str, store: Store, workers: Workers, rules: tuple[Path, Catalogue]
) -> None:
    """A general penalty published through review, repairable 3 months after its decision: the
    subject applies with the two proofs a record needs, the recording unit grants, the record
    is REPAIRED, leaves the public's view, and a partner hears it is no longer to be used."""
    bank = await registered_partner(store, rules[1], "REP-REC-BANK", "BANK", ["record.changed"])
    try:
        await _repair_a_record(api, bank)
    finally:
        bank.stop()


async def _repair_a_record(api: str, bank: PartnerServer) -> None:
    ((code, _),) = fresh_subjects(1)
    decided = date.today() - timedelta(days=200)
    submitter = GraphQLClient(api, unit_token("submitter", UNIT, "rec-clerk"))
    reviewer = GraphQLClient(api, unit_token("reviewer", UNIT, "rec-reviewer"))
    record = land_penalty(code, "R", decided)
    record_id = str(submitter.data(SUBMIT, {"r": record})["submitRecord"]["id"])  # type: ignore[index]
    assert reviewer.data(APPROVE, {"id": record_id})["approveRecord"]["status"] == "PUBLISHED"  # type: ignore[index]
    public = GraphQLClient(api, None)
    shown = public.data(RECORDS, {"c": code})["subject"]["records"]  # type: ignore[index]
    assert {"id": record_id, "status": "PUBLISHED"} in shown

    me = GraphQLClient(api, subject_token(code))
    two = ALL_PROOFS[:2]
    filed = me.data(APPLY, {"r": record_id, "why": STATEMENT, "p": two})["applyForRepair"]
    assert (filed["targetKind"], filed["unit"]) == ("RECORD", UNIT)  # type: ignore[index]
    assert filed["opensOn"] == add_months(decided, 3).isoformat()  # type: ignore[index]
    app_id = filed["id"]  # type: ignore[index]
    reviewer.data(ACCEPT, {"id": app_id, "ok": True})
    granted = reviewer.data(DECIDE, {"id": app_id, "ok": True, "why": "罚款已缴清，准予修复"})
    assert granted["decideRepair"]["status"] == "GRANTED"  # type: ignore[index]
    after = public.data(RECORDS, {"c": code})["subject"]["records"]  # type: ignore[index]
    assert record_id not in {r["id"] for r in after}
    kept = reviewer.data(
        "query($id: String!) { creditRecord(id: $id) { status } }", {"id": record_id}
    )
    assert kept["creditRecord"] == {"status": "REPAIRED"}
    told = wait_for(
        bank.inbox,
        lambda m: m["type"] == "record.changed" and m["data"]["recordId"] == record_id,
    )
    assert (told["data"]["change"], told["data"]["status"]) == ("REPAIRED", "REPAIRED")
    assert "title" not in told["data"]  # a repaired record is not to be used, not restated


async def test_an_abnormal_listing_without_a_case_ends_repaired(
    driver: AsyncDriver, store: Store, rules: tuple[Path, Catalogue]
) -> None:
    """The abnormal list has no case and no minimum (0 months): applied for the day it starts,
    with the two proofs it needs; granted, it ends REPAIRED with its event in the same
    transaction."""
    catalogue, rights, determination = rules[1], default_rights(), default_rules()
    ((code, _),) = fresh_subjects(1)
    today = date.today()
    step = await list_abnormal(
        store, catalogue, determination, code=code, reason="未按期公示勘查开采信息",
        document="乌自然资异〔2026〕1号", unit=UNIT, prefix="152201", by="ab-1", today=today,
    )  # fmt: skip
    needs_training = Application(
        code, step.sanction, True, STATEMENT, (Proof("FULFILMENT", "已公示"),)
    )
    try:
        await apply(
            store, rights, determination, needs_training, by="s", today=today, now=datetime.now(UTC)
        )
        raise AssertionError("filed without the commitment")
    except RepairRefused as exc:
        assert (exc.reason, exc.extra) == ("missing-proof", {"missing": ["COMMITMENT"]})
    proofs = (Proof("FULFILMENT", "已补报年度信息"), Proof("COMMITMENT", "承诺按期公示"))
    app = Application(code, step.sanction, True, STATEMENT, proofs)
    app_id = await apply(
        store, rights, determination, app, by="s", today=today, now=datetime.now(UTC)
    )
    actor = Actor("ab-2", UNIT, "NMG152201", "152201", {})
    await accept(store, rights, app_id, take=True, reason=None, actor=actor, today=today)
    done = await decide(
        store, rights, determination, catalogue, app_id, grant=True, reason=None, actor=actor,
        today=today,
    )  # fmt: skip
    assert done.status == "GRANTED" and [e.subject for e in done.events] == [code]
    rows, _, _ = await driver.execute_query(
        "MATCH (n:Sanction {id: $id}) RETURN n.status AS status, n.endReason AS why, "
        "COLLECT { MATCH (e:OutboxEvent {sanction: $id}) RETURN e.type } AS events",
        id=step.sanction,
    )
    assert rows[0]["status"] == "REPAIRED" and rows[0]["why"] == "REPAIRED"
    assert sorted(rows[0]["events"]) == ["sanction.ended", "sanction.listed"]


async def test_a_granted_repair_closes_the_objection_to_its_listing(
    api: str, store: Store, rules: tuple[Path, Catalogue]
) -> None:
    """An objection to a listing still open when the listing ends otherwise (here a repair) is
    closed with the reason, not left open to turn overdue on the unit's list."""
    ((code, record),) = fresh_subjects(1)
    decided = date.today() - timedelta(days=400)
    _, sanction = await listed_by_case(store, rules[1], code, record, decided, "rep-obj-proposer")
    me = GraphQLClient(api, subject_token(code))
    objected = me.data(
        "mutation($s: String!) { fileObjection(sanctionId: $s, "
        'reasons: "认定依据的处罚决定已被复议撤销，请核查") { id open } }',
        {"s": sanction},
    )["fileObjection"]
    assert objected["open"] is True  # type: ignore[index]
    filed = me.data(APPLY, {"s": sanction, "why": STATEMENT, "p": ALL_PROOFS})["applyForRepair"]
    unit = GraphQLClient(api, unit_token("reviewer", UNIT, "rep-obj-reviewer"))
    unit.data(ACCEPT, {"id": filed["id"], "ok": True})  # type: ignore[index]
    granted = unit.data(DECIDE, {"id": filed["id"], "ok": True, "why": "整改到位，准予修复"})  # type: ignore[index]
    assert granted["decideRepair"]["status"] == "GRANTED"  # type: ignore[index]

    mine = me.data("{ myObjections(first: 20) { edges { node { id open status reply } } } }")
    (closed,) = [e["node"] for e in mine["myObjections"]["edges"]]  # type: ignore[index]
    assert (closed["id"], closed["open"], closed["status"]) == (objected["id"], False, "DECIDED")  # type: ignore[index]
    assert "信用修复" in closed["reply"]
    seen = GraphQLClient(api, None).data(
        "query($c: String!) { subject(creditCode: $c) { sanctions { id underObjection } } }",
        {"c": code},
    )["subject"]
    assert {"id": sanction, "underObjection": False} in seen["sanctions"]  # type: ignore[index]
