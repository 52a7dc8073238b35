"""Subjects' rights end to end, as a company and the public live them: Chromium signs in through
the loopback OpenID provider (tests/oidc.py) and files on the portal, the unit decides through
the API, a partner played by a real HTTP server receives what follows, and the portal shows the
new state. One test per flow: objection, credit repair, complaint (anonymous), commitment."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from playwright.sync_api import Browser, Page

from connectors.coordination.freshness import generation_bump_at
from graph.db import Neo4jConfig, Store, connect
from hub.settings import get_settings
from policies.credit.measures import Catalogue
from tests.conftest import GraphQLClient, Neo4jServer, Workers, mint, unit_token
from tests.oidc import sign_in
from tests.partner_registry import registered_partner, wait_for
from tests.partners import PartnerServer
from tests.subjects import fresh_subjects, listed_by_case, listed_on

T = TypeVar("T")
UNIT = "NMG152201"  # the banner unit of the fresh subjects' division
PDF = {"name": "复议决定书.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n% e2e\n"}
PNG = {"name": "现场照片.png", "mimeType": "image/png", "buffer": b"\x89PNG\r\n\x1a\n" + bytes(64)}
SEEN = """query($c: String!) { subject(creditCode: $c) {
  records { id status underObjection } sanctions { id status underObjection } } }"""
APPROVE = "mutation($id: String!) { approveRecord(id: $id) { id status } }"


def _graph(server: Neo4jServer, work: Callable[[Store], Awaitable[T]]) -> T:
    """Run graph-level setup from a browser test, on a thread of its own: Playwright's sync API
    keeps an event loop running on the test's thread."""

    async def run() -> T:
        driver = connect(Neo4jConfig(uri=server.uri))
        try:
            return await work(Store(driver, changed=generation_bump_at(get_settings().redis_url)))
        finally:
            await driver.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()


def _partner(server: Neo4jServer, catalogue: Catalogue, code: str) -> PartnerServer:
    events = [
        "sanction.listed", "sanction.modified", "sanction.ended", "record.objected",
        "record.changed",
    ]  # fmt: skip
    return _graph(
        server, lambda store: registered_partner(store, catalogue, code, "LAND_MINING", events)
    )


def _portal_until(api: str, path: str, holds: Callable[[str], bool], what: str) -> float:
    """Seconds until the public page at ``path`` satisfies ``holds`` (the page cache keeps a
    page at most a minute); fails past that."""
    started = time.monotonic()
    while not holds(httpx.get(f"{api}{path}", timeout=15).text):
        assert time.monotonic() - started < 60, f"the portal still does not show {what}"
        time.sleep(1)
    return time.monotonic() - started


def _page(browser: Browser) -> Page:
    return browser.new_context(locale="zh-CN").new_page()


def _one(edges: Any, **match: str) -> dict[str, Any]:
    found = [e["node"] for e in edges if all(e["node"][k] == v for k, v in match.items())]
    assert len(found) == 1, (match, edges)
    return found[0]  # type: ignore[no-any-return]


def test_an_objection_filed_on_the_portal_withdraws_the_record_everywhere(
    api: str,
    oidc: str,
    browser: Browser,
    neo4j_server: Neo4jServer,
    workers: Workers,
    rules: tuple[Path, Catalogue],
) -> None:
    ((code, record),) = fresh_subjects(1)
    land = _partner(neo4j_server, rules[1], "E2E-OBJ")
    try:
        sanction = _graph(
            neo4j_server, lambda store: listed_on(store, rules[1], code, record, "E2E")
        )
        wait_for(land.inbox, lambda m: m["data"].get("sanctionId") == sanction)
        partner = GraphQLClient(api, mint("partner", agency="E2E-OBJ"))

        page = _page(browser)
        sign_in(page, api, code)
        page.click(f'a[href="/me/objections/new?record={record}"]')
        page.fill("#reasons", "该处罚决定已被行政复议机关撤销，复议决定书附后，请予核查。")
        page.set_input_files("#evidence", files=[PDF])  # type: ignore[list-item]
        page.click("text=提交异议")
        page.wait_for_url(f"{api}/me/objections")
        assert "待受理" in page.inner_text("main")

        # Everyone who can see the record sees it under objection: a partner, and the public.
        flagged = wait_for(
            land.inbox,
            lambda m: m["type"] == "record.objected" and m["data"].get("recordId") == record,
        )
        assert flagged["data"]["underObjection"] is True
        seen = partner.data(SEEN, {"c": code})["subject"]
        assert {"id": record, "status": "PUBLISHED", "underObjection": True} in seen["records"]  # type: ignore[index]
        _portal_until(api, f"/subjects/{code}", lambda html: "异议处理中" in html, "the objection")

        # The unit accepts and decides to withdraw; the withdrawal goes through two reviewers.
        reviewer = GraphQLClient(api, unit_token("reviewer", UNIT, "e2e-obj-reviewer"))
        queue = reviewer.data("{ objections(first: 100) { edges { node { id recordId } } } }")
        objection = _one(queue["objections"]["edges"], recordId=record)["id"]  # type: ignore[index]
        reviewer.data(
            "mutation($id: String!) { acceptObjection(id: $id, accept: true) { id } }",
            {"id": objection},
        )
        decided = reviewer.data(
            """mutation($id: String!, $why: String!) { decideObjection(id: $id,
              outcome: WITHDRAW, reason: $why) { status change } }""",
            {"id": objection, "why": "经核查，原处罚决定已被复议撤销，撤销该信息"},
        )["decideObjection"]
        for person in ("e2e-obj-approver-1", "e2e-obj-approver-2"):
            GraphQLClient(api, unit_token("reviewer", UNIT, person)).data(
                APPROVE,
                {"id": decided["change"]},  # type: ignore[index]
            )

        ended = wait_for(
            land.inbox,
            lambda m: m["type"] == "sanction.ended" and m["data"]["sanctionId"] == sanction,
        )
        assert ended["data"]["endReason"] == "WITHDRAWN"
        withdrawn = wait_for(
            land.inbox,
            lambda m: m["type"] == "record.changed" and m["data"]["recordId"] == record,
        )
        assert withdrawn["data"]["change"] == "WITHDRAWN"
        after = partner.data(SEEN, {"c": code})["subject"]
        assert record not in {r["id"] for r in after["records"]}  # type: ignore[index]

        # The subject reads the outcome and its reasons; the public no longer sees the record.
        page.goto(f"{api}/me/objections")
        told = page.inner_text("main")
        assert "已办结" in told and "撤销" in told and "复议撤销" in told
        page.goto(f"{api}/me")
        assert "已撤销" in page.inner_text("main")
        _portal_until(api, f"/subjects/{code}", lambda html: "异议处理中" not in html, "the end")
    finally:
        land.stop()


def test_a_repair_applied_for_on_the_portal_ends_the_listing_for_every_partner(
    api: str,
    oidc: str,
    browser: Browser,
    neo4j_server: Neo4jServer,
    workers: Workers,
    rules: tuple[Path, Catalogue],
) -> None:
    ((code, record),) = fresh_subjects(1)
    land = _partner(neo4j_server, rules[1], "E2E-REP")
    try:
        decided = date.today() - timedelta(days=400)  # past the one-year minimum
        _, sanction = _graph(
            neo4j_server,
            lambda store: listed_by_case(store, rules[1], code, record, decided, "e2e-proposer"),
        )
        list_page = "/lists/serious.csv?division=152201"
        _portal_until(api, list_page, lambda text: code in text, "the listing")

        page = _page(browser)
        sign_in(page, api, code)
        page.click(f'a[href="/me/repairs/new?sanction={sanction}"]')
        assert "信用修复不收取任何费用" in page.inner_text("main")
        page.fill(
            "#statement", "本公司已缴清全部罚款，退还越界开采矿产品，完成整改，申请信用修复。"
        )
        page.fill("#proof_FULFILMENT", "罚款缴款书 FK-2026-0815")
        page.fill("#proof_COMMITMENT", "本公司承诺依法依规开采，不再越界")
        page.set_input_files('input[name="file_TRAINING"]', files=[PDF])  # type: ignore[list-item]
        page.click("text=提交申请")
        page.wait_for_url(f"{api}/me/repairs")
        assert "已提交，待受理" in page.inner_text("main")

        reviewer = GraphQLClient(api, unit_token("reviewer", UNIT, "e2e-rep-reviewer"))
        queue = reviewer.data("{ repairApplications(first: 100) { edges { node { id target } } } }")
        application = _one(queue["repairApplications"]["edges"], target=sanction)["id"]  # type: ignore[index]
        reviewer.data(
            "mutation($id: String!) { acceptRepair(id: $id, accept: true) { status } }",
            {"id": application},
        )
        started = time.monotonic()
        granted = reviewer.data(
            """mutation($id: String!) { decideRepair(id: $id, grant: true,
              reason: "整改到位，准予修复") { status } }""",
            {"id": application},
        )
        assert granted["decideRepair"] == {"status": "GRANTED"}  # type: ignore[comparison-overlap]

        ended = wait_for(
            land.inbox,
            lambda m: m["type"] == "sanction.ended" and m["data"]["sanctionId"] == sanction,
        )
        assert ended["data"]["endReason"] == "REPAIRED"
        _portal_until(api, list_page, lambda text: code not in text, "the repair")
        assert time.monotonic() - started < 60

        page.goto(f"{api}/me")
        mine = page.inner_text("main")
        assert "准予修复" in mine and "已修复" in mine
    finally:
        land.stop()


@pytest.mark.usefixtures("fresh_complaint_counts")
def test_a_report_filed_without_signing_in_is_answered_and_followed_with_its_code(
    api: str, browser: Browser
) -> None:
    ((code, _),) = fresh_subjects(1)
    page = _page(browser)
    page.goto(f"{api}/complaints/new")
    page.check('input[value="REPORT"]')
    page.fill("#credit_code", code)
    page.fill("#text", "该企业在采矿许可范围外越界开采，附现场照片，请依法查处。")
    page.set_input_files("#files", files=[PNG])  # type: ignore[list-item]
    page.click('form.complaint button[type="submit"]')
    assert page.locator("#tracking").count() == 1, page.inner_text("main")
    tracking, secret = page.inner_text("#tracking"), page.inner_text("#query-code")
    assert tracking and secret

    reviewer = GraphQLClient(api, unit_token("reviewer", UNIT, "e2e-cmp-reviewer"))
    queue = reviewer.data("{ complaints(first: 100) { edges { node { id tracking } } } }")
    complaint = _one(queue["complaints"]["edges"], tracking=tracking)["id"]  # type: ignore[index]
    reviewer.data(
        """mutation($id: String!) { acceptComplaint(id: $id, accept: true,
          reason: "属本局管辖，予以受理") { status } }""",
        {"id": complaint},
    )
    reviewer.data(
        """mutation($id: String!) { answerComplaint(id: $id,
          reply: "经现场核查，举报属实，已立案查处") { status } }""",
        {"id": complaint},
    )

    page.goto(f"{api}/complaints/track")
    page.fill("#tracking", tracking)
    page.fill("#query_code", secret)
    page.click('form.complaint button[type="submit"]')
    assert page.inner_text("#status") == "已办结"
    assert page.inner_text("#reply") == "经现场核查，举报属实，已立案查处"
    page.goto(f"{api}/complaints/track")  # a wrong code reads like an unknown number
    page.fill("#tracking", tracking)
    page.fill("#query_code", secret[:-1] + ("A" if secret[-1] != "A" else "B"))
    page.click('form.complaint button[type="submit"]')
    assert "不正确" in page.inner_text("main") and "举报属实" not in page.content()


def test_a_commitment_made_on_the_portal_is_public_and_its_breach_is_recorded(
    api: str, oidc: str, browser: Browser
) -> None:
    ((code, _),) = fresh_subjects(1)
    page = _page(browser)
    sign_in(page, api, code)
    page.click('a[href="/me/commitments/new"]')
    page.select_option("#kind", "LICENCE_ON_COMMITMENT")
    page.fill("#text", "本公司承诺在取得采矿许可证后六个月内完成矿山地质环境治理方案备案。")
    page.fill("#licence", "C1522012026057130161")
    page.click("text=提交并公开")
    page.wait_for_url(f"{api}/me#commitments-title")
    assert "完成矿山地质环境治理方案备案" in page.inner_text("#commitments-title + p + table")
    _portal_until(
        api, f"/subjects/{code}", lambda html: "完成矿山地质环境治理方案备案" in html, "it"
    )

    public = GraphQLClient(api, None)
    made = public.data(
        "query($c: String!) { subject(creditCode: $c) { commitments { id status } } }",
        {"c": code},
    )["subject"]["commitments"]  # type: ignore[index]
    assert [c["status"] for c in made] == ["IN_FORCE"]  # type: ignore[union-attr]
    submitter = GraphQLClient(api, unit_token("submitter", UNIT, "e2e-cm-clerk"))
    breach = submitter.data(
        """mutation($id: String!, $on: Date!) { recordCommitmentBreach(id: $id,
          reason: "逾期未完成治理方案备案", decidedOn: $on, document: "兴自然资〔2026〕9号")
          { record } }""",
        {"id": made[0]["id"], "on": date.today().isoformat()},  # type: ignore[index]
    )["recordCommitmentBreach"]
    reviewer = GraphQLClient(api, unit_token("reviewer", UNIT, "e2e-cm-reviewer"))
    assert reviewer.data(APPROVE, {"id": breach["record"]})["approveRecord"]["status"] == (  # type: ignore[index]
        "PUBLISHED"
    )
    page.goto(f"{api}/me")
    assert "已违诺" in page.inner_text("#commitments-title + p + table")
