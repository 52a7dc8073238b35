"""Typical cases through the API and the portal over HTTP: a unit's submitter proposes its
closed, upheld case, another reviewer approves it, the case shows on /typical-cases and its page
at once (the cached list is not served after the change) and the regional credit platform hears
of it, a reviewer withdraws it and both are gone. Text with personal data, an open or dismissed
case, the proposer approving, another division's unit and the public are refused, and nothing is
stored or shown for them."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from neo4j import AsyncDriver, AsyncManagedTransaction

from graph.cases.closing import Closing, close_in
from graph.cases.model import NewCase, open_case_in
from graph.db import Store
from graph.identifiers import resident_id_check_char, uscc_check_char
from policies.cases import default_cases
from policies.credit.measures import Catalogue, default_measures
from tests.conftest import TEST_DATA, GraphQLClient, Workers, import_file, unit_token
from tests.partner_registry import registered_partner, wait_for
from tests.partners import PartnerServer
from tests.subjects import fresh_subjects

UNIT = "NMG152201"
OTHER = "NMG152501"  # a banner of another league: outside 152201's jurisdiction
PROPOSE = """mutation($case: String!, $input: TypicalCaseInput!) {
  proposeTypicalCase(caseId: $case, input: $input) {
    id caseId creditCode subjectName status proposedBy proposedOn publishedOn } }"""
APPROVE = "mutation($id: String!) { approveTypicalCase(id: $id) { id status publishedOn } }"
RETURN = """mutation($id: String!, $r: String!) { returnTypicalCase(id: $id, reasons: $r) {
  id status returnedReasons } }"""
WITHDRAW = """mutation($id: String!, $r: String!) { withdrawTypicalCase(id: $id, reasons: $r) {
  id status withdrawnOn withdrawnReasons } }"""
UNITS = """query($s: TypicalCaseStatus) { typicalCases(status: $s, first: 100) {
  edges { node { id caseId status } } } }"""
PUBLISHED = """{ publishedTypicalCases(first: 100) { edges { node { id title subjectName
  creditCode division matter summary legalBasis outcome lesson publishedOn } } } }"""
ONE = "query($id: String!) { publishedTypicalCase(id: $id) { id title subjectName creditCode } }"
REP = "乌力吉巴图"  # the legal representative of the company in the flow


def text(title: str, **changes: str) -> dict[str, str]:
    draft = {
        "title": title,
        "summary": "该公司在未取得采矿许可证的情况下越界开采建筑用砂石，破坏矿产资源，"
        "经立案调查后作出行政处罚并移送公安机关，法院判决予以维持。",
        "legalBasis": "《中华人民共和国矿产资源法》第三十九条",
        "outcome": "没收违法所得，并处罚款；列入严重失信主体名单。",
        "lesson": "矿产资源开发必须依法取得许可，越界开采将受到联合惩戒。",
    }
    return {**draft, **changes}


def _error(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert response.status_code == 200 and body.get("errors"), body
    return body["errors"][0]  # type: ignore[no-any-return]


def _resident_id(seq: int) -> str:
    first17 = f"15220119800101{seq:03d}"
    return first17 + resident_id_check_char(first17)


def _load(lines: list[dict[str, Any]]) -> None:
    path = TEST_DATA / f"typical-{secrets.token_hex(4)}.jsonl"
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines), "utf-8")
    import_file(path)


def with_representative(code: str, name: str) -> None:
    """Tie a person, by name, to the subject as its legal representative (through `hub import`)."""
    person = _resident_id(secrets.randbelow(900) + 100)
    _load(
        [
            {"kind": "Person", "idNumber": person, "name": name},
            {"kind": "Relation", "type": "LEGAL_REPRESENTATIVE_OF", "from": {"person": person},
             "to": {"subject": code}, "since": "2015-01-01"},
        ]
    )  # fmt: skip


def individual_business(name: str) -> tuple[str, str]:
    """An individual business (个体工商户, code class 92) with one published record."""
    first17 = f"92152201MA0TY{secrets.randbelow(10000):04d}"
    code, record = first17 + uscc_check_char(first17), f"R-TY-{secrets.token_hex(4)}"
    _load(
        [
            {"kind": "Subject", "creditCode": code, "name": name,
             "subjectKind": "INDIVIDUAL_BUSINESS", "division": "152201", "status": "ACTIVE",
             "registeredOn": "2018-01-01"},
            {"kind": "CreditRecord", "id": record, "subject": code, "agency": UNIT,
             "item": "ADMIN_PENALTY", "category": "DISHONEST", "tier": "SERIOUS",
             "title": "非法占地行政处罚决定", "decidedOn": "2026-06-01",
             "document": f"乌自然资罚〔2026〕{secrets.randbelow(9000) + 1000}号",
             "legalBasis": "《中华人民共和国土地管理法》第七十七条", "publishFrom": "2026-06-02",
             "publishUntil": "2029-06-01", "status": "PUBLISHED", "disclosure": "PUBLIC"},
        ]
    )  # fmt: skip
    return code, record


async def closed_case(
    store: Store, code: str, record: str, *, outcome: str | None = "UPHELD"
) -> str:
    """A case of UNIT on the record, closed with ``outcome`` (None: left OPEN) by another person
    of the unit, through the same closing as ``closeCase`` (re-rating and partners' events
    included)."""
    case = NewCase(
        code, UNIT, "越界开采案", "ADMIN_PENALTY", date(2026, 3, 1), (record,), "ty-clerk"
    )

    async def work(tx: AsyncManagedTransaction) -> str:
        case_id = await open_case_in(tx, case, "152201", datetime.now(UTC))
        if outcome is not None:
            closing = Closing(
                case_id, outcome, "依法审理终结，结论明确", date(2026, 9, 30), "ty-chief"
            )
            await close_in(tx, closing, "152201", default_cases(), default_measures(), date.today())
        return case_id

    return await store.write(work)


async def _stored(driver: AsyncDriver, case: str) -> int:
    records, _, _ = await driver.execute_query(
        "MATCH (t:TypicalCase {case: $case}) RETURN count(t) AS n", case=case
    )
    return int(records[0]["n"])


@pytest.fixture
async def platform(
    store: Store, workers: Workers, rules: tuple[Path, Catalogue]
) -> AsyncIterator[PartnerServer]:
    """The regional credit platform (a record kind), subscribed to typical cases."""
    code = f"TY-PLAT-{secrets.token_hex(3).upper()}"
    server = await registered_partner(
        store, rules[1], code, "REGIONAL_CREDIT_PLATFORM", ["case.typical"]
    )
    yield server
    server.stop()


def _told(platform: PartnerServer, typical: str, status: str) -> dict[str, Any]:
    return wait_for(
        platform.inbox,
        lambda m: (
            m["type"] == "case.typical"
            and m["data"]["typicalCaseId"] == typical
            and m["data"]["status"] == status
        ),
    )


def _portal(api: str, path: str) -> httpx.Response:
    response = httpx.get(f"{api}{path}", timeout=30)
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    return response


async def test_a_typical_case_is_proposed_approved_shown_and_withdrawn(
    api: str, store: Store, driver: AsyncDriver, platform: PartnerServer
) -> None:
    ((code, record),) = fresh_subjects(1)
    with_representative(code, REP)
    case = await closed_case(store, code, record)
    title = f"越界开采典型案例{secrets.token_hex(3)}"
    clerk = GraphQLClient(api, unit_token("submitter", UNIT, "ty-clerk"))
    first = GraphQLClient(api, unit_token("reviewer", UNIT, "ty-first"))
    second = GraphQLClient(api, unit_token("reviewer", UNIT, "ty-second"))
    outsider = GraphQLClient(api, unit_token("reviewer", OTHER, "ty-outsider"))
    public = GraphQLClient(api, None)

    foreign = outsider.post(PROPOSE, {"case": case, "input": text(title)},
                            unit_token("submitter", OTHER, "ty-other-clerk"))  # fmt: skip
    assert _error(foreign)["extensions"]["code"] == "NOT_FOUND"
    assert await _stored(driver, case) == 0

    proposed: dict[str, Any] = clerk.data(PROPOSE, {"case": case, "input": text(title)})[
        "proposeTypicalCase"
    ]  # type: ignore[assignment]
    assert proposed["status"] == "PROPOSED" and proposed["caseId"] == case
    assert proposed["subjectName"].startswith("推送测试")  # a company: its name is shown
    typical = proposed["id"]
    again = clerk.post(PROPOSE, {"case": case, "input": text(title)})
    assert _error(again)["extensions"] == {"code": "CONFLICT", "reason": "already"}

    # Before approval: the public sees nothing of it, the other division neither.
    assert public.data(ONE, {"id": typical}) == {"publishedTypicalCase": None}
    assert _error(public.post(UNITS))["extensions"]["code"] == "FORBIDDEN"
    assert _portal(api, f"/typical-cases/{typical}").status_code == 404
    listed = _portal(api, "/typical-cases")
    assert listed.status_code == 200 and title not in listed.text
    assert typical not in json.dumps(outsider.data(UNITS))
    assert _error(outsider.post(APPROVE, {"id": typical}))["extensions"]["code"] == "NOT_FOUND"
    mine = first.data(UNITS, {"s": "PROPOSED"})["typicalCases"]["edges"]  # type: ignore[index]
    assert typical in {e["node"]["id"] for e in mine}

    # Four eyes: the proposer may not approve (here a submitter who also reviews).
    proposer = unit_token("reviewer", UNIT, "ty-clerk")
    refused = first.post(APPROVE, {"id": typical}, proposer)
    assert _error(refused)["extensions"] == {"code": "FORBIDDEN", "reason": "four-eyes"}

    published = second.data(APPROVE, {"id": typical})["approveTypicalCase"]
    assert published == {"id": typical, "status": "PUBLISHED", "publishedOn": str(date.today())}
    nodes = [e["node"] for e in public.data(PUBLISHED)["publishedTypicalCases"]["edges"]]  # type: ignore[index]
    (shown,) = [n for n in nodes if n["id"] == typical]
    assert (shown["creditCode"], shown["matter"], shown["division"]) == (
        code,
        "行政处罚信息",
        "乌兰浩特市",
    )
    assert shown["summary"] == text(title)["summary"]

    told = _told(platform, typical, "PUBLISHED")["data"]
    assert (told["creditCode"], told["title"], told["publishedOn"]) == (
        code,
        title,
        str(date.today()),
    )
    assert REP not in json.dumps(told, ensure_ascii=False)
    page = _portal(api, f"/typical-cases/{typical}")
    assert page.status_code == 200
    for part in (title, shown["subjectName"], "行政处罚信息", text(title)["summary"],
                 text(title)["legalBasis"], text(title)["outcome"], str(date.today())):  # fmt: skip
        assert part in page.text, part
    fresh = _portal(api, "/typical-cases")  # cached without it a moment ago: not served now
    assert fresh.headers["X-Cache"] == "miss" and title in fresh.text
    assert _portal(api, "/typical-cases").headers["X-Cache"] == "hit"
    assert 'href="/typical-cases"' in _portal(api, "/").text  # the home page links the list

    assert (
        _error(outsider.post(WITHDRAW, {"id": typical, "r": "越权撤下"}))["extensions"]["code"]
        == "NOT_FOUND"
    )
    withdrawn = first.data(WITHDRAW, {"id": typical, "r": "当事人已完成信用修复"})
    assert withdrawn["withdrawTypicalCase"]["status"] == "WITHDRAWN"  # type: ignore[index]
    assert _told(platform, typical, "WITHDRAWN")["data"]["withdrawnOn"] == str(date.today())
    gone = _portal(api, "/typical-cases")
    assert gone.headers["X-Cache"] == "miss" and title not in gone.text
    assert _portal(api, f"/typical-cases/{typical}").status_code == 404
    assert _portal(api, "/typical-cases/TC-20260101-00000000").status_code == 404
    assert public.data(ONE, {"id": typical}) == {"publishedTypicalCase": None}
    assert REP not in page.text


async def test_personal_data_is_refused_and_nothing_is_stored(
    api: str, store: Store, driver: AsyncDriver
) -> None:
    ((code, record),) = fresh_subjects(1)
    with_representative(code, "其木格")
    case = await closed_case(store, code, record)
    clerk = GraphQLClient(api, unit_token("submitter", UNIT, "ty-pd-clerk"))
    person = _resident_id(7)
    hostile = {
        "RESIDENT_ID": ("summary", text("身份证号案例", summary=f"当事人身份证号{person}，" * 3)),
        # full-width digits with spaces read the same to a person
        "MOBILE": ("lesson", text("手机号案例", lesson="举报电话 １３９ １２３４ ５６７８")),
        "EMAIL": ("outcome", text("邮箱案例", outcome="处理结果已发送至 qimuge@example.com")),
        "PERSON_NAME": ("title", text("其 木 格越界开采案")),
    }
    assert hostile
    for kind, (field, draft) in hostile.items():
        error = _error(clerk.post(PROPOSE, {"case": case, "input": draft}))
        assert error["extensions"] == {
            "code": "BAD_USER_INPUT", "reason": "personal-data", "field": field, "kind": kind,
        }  # fmt: skip
        for secret in (person, "5678", "qimuge", "其木格"):
            assert secret not in error["message"], (kind, error)
    assert await _stored(driver, case) == 0

    # An individual business: never named on the portal, nor in the text.
    business = "额尔敦五金店"
    ib_code, ib_record = individual_business(business)
    ib_case = await closed_case(store, ib_code, ib_record)
    named = clerk.post(PROPOSE, {"case": ib_case, "input": text(f"{business}非法占地案")})
    assert _error(named)["extensions"]["kind"] == "PERSON_NAME"
    assert await _stored(driver, ib_case) == 0
    proposed = clerk.data(PROPOSE, {"case": ib_case, "input": text("个体户非法占地典型案例")})
    typical = proposed["proposeTypicalCase"]["id"]  # type: ignore[index]
    reviewer = GraphQLClient(api, unit_token("reviewer", UNIT, "ty-pd-reviewer"))
    reviewer.data(APPROVE, {"id": typical})
    shown = GraphQLClient(api, None).data(ONE, {"id": typical})["publishedTypicalCase"]
    assert shown == {"id": typical, "title": "个体户非法占地典型案例",
                     "subjectName": "某个体工商户", "creditCode": None}  # fmt: skip
    page = _portal(api, f"/typical-cases/{typical}")
    assert "某个体工商户" in page.text and business not in page.text and ib_code not in page.text
    reviewer.data(WITHDRAW, {"id": typical, "r": "测试完毕撤下"})


async def test_only_a_closed_upheld_case_is_proposed_and_a_return_says_why(
    api: str, store: Store, driver: AsyncDriver
) -> None:
    subjects = fresh_subjects(3)
    assert len(subjects) == 3
    (a, ra), (b, rb), (c, rc) = subjects
    still_open = await closed_case(store, a, ra, outcome=None)
    dismissed = await closed_case(store, b, rb, outcome="DISMISSED")
    clerk = GraphQLClient(api, unit_token("submitter", UNIT, "ty-st-clerk"))
    for case in (still_open, dismissed):
        error = _error(clerk.post(PROPOSE, {"case": case, "input": text("不应成为典型的案例")}))
        assert error["extensions"] == {"code": "CONFLICT", "reason": "not-upheld"}
        assert await _stored(driver, case) == 0
    unknown = clerk.post(PROPOSE, {"case": "CASE-20260101-00000000", "input": text("未知案例")})
    assert _error(unknown)["extensions"]["code"] == "NOT_FOUND"

    upheld = await closed_case(store, c, rc)
    proposed = clerk.data(PROPOSE, {"case": upheld, "input": text("待退回的典型案例")})
    typical = proposed["proposeTypicalCase"]["id"]  # type: ignore[index]
    reviewer = GraphQLClient(api, unit_token("reviewer", UNIT, "ty-st-reviewer"))
    returned = reviewer.data(RETURN, {"id": typical, "r": "案情表述不够概括，请修改"})
    assert returned["returnTypicalCase"] == {  # type: ignore[comparison-overlap]
        "id": typical, "status": "RETURNED", "returnedReasons": "案情表述不够概括，请修改",
    }  # fmt: skip
    assert _error(reviewer.post(APPROVE, {"id": typical}))["extensions"]["code"] == "CONFLICT"
    again = clerk.data(PROPOSE, {"case": upheld, "input": text("修改后的典型案例")})
    assert again["proposeTypicalCase"]["status"] == "PROPOSED"  # type: ignore[index]
