"""Grades and their consequences through the API (issue 12): consequences named in the seed's
words, class A earned by evidence and BBB for a subject with nothing on file, the grade history
with the two-year exemption counted from the start of the unbroken A run, and `rating.changed`
reaching the partners whose duties change (webhooks to a real partner server, and the feed).

Subjects are made for this module (``91152201MA0RG…``) through the real ``hub import``; dated
re-ratings go through graph.rating ``rate`` with the day given, as the review and listing
transactions do with theirs.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from neo4j import AsyncDriver

from graph.db import Store
from graph.identifiers import uscc_check_char
from graph.rating import rate
from policies.credit.catalogue import add_months
from policies.credit.measures import Catalogue
from tests.conftest import (
    TEST_DATA,
    GraphQLClient,
    Workers,
    free_port,
    graphql,
    hub_command,
    import_file,
    mint,
    unit_token,
)
from tests.partner_registry import register_partner
from tests.partners import Behaviour, Inbox, PartnerServer

RATING = """query($c: String!) { subject(creditCode: $c) { grade rating {
  grade score modelVersion consequenceCodes measures
  consequences { code name partnerKinds until }
  history { grade effectiveFrom modelVersion }
  exemptUntil explanation { code points } } } }"""
FEED = """query($a: String) { sanctionFeed(after: $a, first: 100) {
  entries { op creditCode name grade previousGrade startDate sanctionId listing status
            consequences { code name } }
  endCursor hasNextPage } }"""
CLASS_A = ["BIDDING_PRIORITY", "INSPECTION_EXEMPT", "GOOD_CREDIT_PUBLISHED"]
CLASS_B = ["ORDINARY_TERMS", "ROUTINE_INSPECTION", "CREDIT_ATTENTION"]
NAMES_B = ["招标投标活动中按一般条件对待、不予优先", "常规检查、加强监管", "轻微信用风险、信用关注"]
_MADE = 0


def _code(n: int) -> str:
    first17 = f"91152201MA0RG{n:04d}"
    return first17 + uscc_check_char(first17)


def _subject(code: str, registered: str) -> dict[str, Any]:
    return {
        "kind": "Subject",
        "creditCode": code,
        "name": f"评级测试{code[-5:]}有限公司",
        "subjectKind": "COMPANY",
        "division": "152201",
        "status": "ACTIVE",
        "registeredOn": registered,
    }


def _commendation(code: str, n: int, decided: date) -> dict[str, Any]:
    return {
        "kind": "CreditRecord",
        "id": f"R-RG-{code[-6:]}-C{n}",
        "subject": code,
        "agency": "NMG152201",
        "item": "COMMENDATION",
        "category": "TRUSTWORTHY",
        "title": "自治区诚信示范企业",
        "decidedOn": decided.isoformat(),
        "document": f"内自然资发〔{decided.year}〕{n}号",
        "publishFrom": decided.isoformat(),
        "status": "PUBLISHED",
        "disclosure": "PUBLIC",
    }


def _penalty(code: str, decided: date, until: date) -> dict[str, Any]:
    return {
        "kind": "CreditRecord",
        "id": f"R-RG-{code[-6:]}-P",
        "subject": code,
        "agency": "NMG152201",
        "item": "ADMIN_PENALTY",
        "category": "DISHONEST",
        "tier": "GENERAL",
        "title": "违法占地行政处罚决定",
        "decidedOn": decided.isoformat(),
        "document": f"乌自然资罚〔{decided.year}〕88号",
        "legalBasis": "《中华人民共和国土地管理法》第七十七条",
        "publishFrom": decided.isoformat(),
        "publishUntil": until.isoformat(),
        "status": "PUBLISHED",
        "disclosure": "PUBLIC",
    }


def _import(rows: list[dict[str, Any]]) -> None:
    global _MADE
    _MADE += 1
    path = TEST_DATA / f"rating-api-{_MADE}.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "utf-8")
    import_file(path)


_CODES = iter(range(1, 10000))


def _new_codes(count: int) -> list[str]:
    """Codes no other test uses (the test graph is new each session)."""
    return [_code(next(_CODES)) for _ in range(count)]


def test_nothing_on_file_is_bbb_and_a_commendation_earns_class_a(api: str) -> None:
    bare, earned = _new_codes(2)
    last_month = (date.today() - timedelta(days=30)).isoformat()
    _import([_subject(bare, last_month), _subject(earned, "2015-01-01")])
    hub_command("rate", bare)
    partner = GraphQLClient(api, mint("partner"))

    rating = partner.data(RATING, {"c": bare})["subject"]["rating"]  # type: ignore[index]
    assert (rating["grade"], rating["score"], rating["modelVersion"]) == ("BBB", 60.0, "2026.2")
    assert rating["consequenceCodes"] == CLASS_B == rating["measures"]  # the deprecated alias
    assert [c["name"] for c in rating["consequences"]] == NAMES_B
    assert rating["consequences"][0]["partnerKinds"] == ["BIDDING"]
    assert rating["exemptUntil"] is None
    assert rating["history"] == [
        {"grade": "BBB", "effectiveFrom": date.today().isoformat(), "modelVersion": "2026.2"}
    ]
    assert rating["explanation"]
    assert all(c["points"] == 0 for c in rating["explanation"])

    # A commendation submitted and approved through the API earns class A.
    record = {
        "item": "COMMENDATION",
        "subject": earned,
        "title": "自治区诚信示范企业",
        "decidedOn": date.today().isoformat(),
        "document": "内自然资发〔2026〕7号",
    }
    submitter = unit_token("submitter", "NMG152201", "clerk-rating")
    reviewer = unit_token("reviewer", "NMG152201", "reviewer-rating")
    made = graphql(
        api, submitter, "mutation($r: RecordInput!) { submitRecord(record: $r) { id } }", r=record
    )
    assert not made.get("errors"), made
    step = graphql(
        api,
        reviewer,
        "mutation($id: String!) { approveRecord(id: $id) { status grade score } }",
        id=made["data"]["submitRecord"]["id"],
    )
    assert step["data"]["approveRecord"] == {"status": "PUBLISHED", "grade": "A", "score": 71.0}
    rating = partner.data(RATING, {"c": earned})["subject"]["rating"]  # type: ignore[index]
    last_day = (add_months(date.today(), 24) - timedelta(days=1)).isoformat()
    assert rating["consequenceCodes"] == CLASS_A
    assert rating["consequences"][1] == {
        "code": "INSPECTION_EXEMPT",
        "name": "二年内免予行政执法检查和专案检查",
        "partnerKinds": [],
        "until": last_day,
    }
    assert rating["exemptUntil"] == last_day


def test_a_grade_alone_skips_the_stored_terms_and_any_selection_of_them_gets_them(
    api: str,
) -> None:
    """The graph leaves a rating's stored JSON out when only its grade is asked: a query that
    asks for the rest (through an alias, a fragment, a batch) must still get all of it."""
    (code,) = _new_codes(1)
    _import([_subject(code, "2015-01-01")])
    hub_command("rate", code)
    partner = GraphQLClient(api, mint("partner"))
    full = partner.data(RATING, {"c": code})["subject"]["rating"]  # type: ignore[index]
    assert full["history"] and full["explanation"] and full["consequences"]

    bare = "query($c: String!) { subject(creditCode: $c) { rating { grade score } } }"
    rating = partner.data(bare, {"c": code})["subject"]["rating"]  # type: ignore[index]
    assert rating == {"grade": full["grade"], "score": full["score"]}

    terms = """history { grade effectiveFrom modelVersion }
      consequences { code name partnerKinds until } consequenceCodes measures exemptUntil"""
    hidden = f"""query($c: String!) {{ subject(creditCode: $c) {{ rating {{ grade }} ...R }} }}
      fragment R on Subject {{ again: rating {{ {terms} explanation {{ code points }} }} }}"""
    again = partner.data(hidden, {"c": code})["subject"]["again"]  # type: ignore[index]
    assert again == {k: full[k] for k in again}
    assert set(again) == {"history", "consequences", "consequenceCodes", "measures",
                          "exemptUntil", "explanation"}  # fmt: skip

    batch = (
        f"query($c: [String!]!) {{ subjectsByCode(creditCodes: $c) {{ rating {{ {terms} }} }} }}"
    )
    listed = partner.data(batch, {"c": [code]})["subjectsByCode"][0]["rating"]  # type: ignore[index]
    assert listed == {k: full[k] for k in listed}


def test_the_grade_enum_and_the_deprecated_measures_field(api: str) -> None:
    investigator = GraphQLClient(api, mint("investigator"))
    query = """{ rating: __type(name: "Rating") { fields(includeDeprecated: true) {
      name isDeprecated deprecationReason } }
      step: __type(name: "ReviewStep") { fields { name type { name ofType { name } } } } }"""
    data = investigator.data(query)
    fields = {f["name"]: f for f in data["rating"]["fields"]}  # type: ignore[index]
    assert fields["measures"]["isDeprecated"] is True
    assert "consequenceCodes" in fields["measures"]["deprecationReason"]
    assert fields["consequenceCodes"]["isDeprecated"] is False
    grade = next(f for f in data["step"]["fields"] if f["name"] == "grade")  # type: ignore[index]
    assert grade["type"]["name"] == "Grade"


async def test_history_and_the_exemption_from_the_start_of_the_unbroken_a_run(
    api: str, store: Store
) -> None:
    broken, unbroken = _new_codes(2)
    t0 = date.today() - timedelta(days=800)  # two commendations: 60 + 5 clean years + 12 = A
    t1 = t0 + timedelta(days=416)  # a general penalty: clean years back to 0, 54.23: BB
    t2 = t1 + timedelta(days=184)  # its publication over: A again, a new run
    rows = [_subject(broken, "2015-01-01"), _subject(unbroken, "2015-01-01")]
    rows += [_commendation(c, n, t0) for c in (broken, unbroken) for n in (1, 2)]
    _import(rows)
    await rate(store, [broken, unbroken], t0)
    _import([_penalty(broken, t1, t1 + timedelta(days=183))])
    await rate(store, [broken, unbroken], t1)
    await rate(store, [broken, unbroken], t2)
    partner = GraphQLClient(api, mint("partner"))

    rating = partner.data(RATING, {"c": broken})["subject"]["rating"]  # type: ignore[index]
    assert [(h["grade"], h["effectiveFrom"]) for h in rating["history"]] == [
        ("A", t0.isoformat()),
        ("BB", t1.isoformat()),
        ("A", t2.isoformat()),
    ]
    until = (add_months(t2, 24) - timedelta(days=1)).isoformat()  # from t2, not from t0
    assert rating["exemptUntil"] == until
    assert {c["code"]: c["until"] for c in rating["consequences"]}["INSPECTION_EXEMPT"] == until

    # A since t0 without a break: one history entry; the two years ran out, so no exemption.
    rating = partner.data(RATING, {"c": unbroken})["subject"]["rating"]  # type: ignore[index]
    assert [(h["grade"], h["effectiveFrom"]) for h in rating["history"]] == [("A", t0.isoformat())]
    assert rating["exemptUntil"] == (add_months(t0, 24) - timedelta(days=1)).isoformat()
    assert rating["exemptUntil"] < date.today().isoformat()
    assert rating["consequenceCodes"] == CLASS_A
    assert "INSPECTION_EXEMPT" not in [c["code"] for c in rating["consequences"]]


def _drain(client: GraphQLClient, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    entries: list[dict[str, Any]] = []
    while True:
        page: dict[str, Any] = client.data(FEED, {"a": cursor})["sanctionFeed"]  # type: ignore[assignment]
        entries += page["entries"]
        cursor = page["endCursor"]
        if not page["hasNextPage"]:
            return entries, cursor


async def test_a_change_of_class_reaches_bidding_partners_by_webhook_and_feed(
    api: str, driver: AsyncDriver, store: Store, workers: Workers, rules: tuple[Path, Catalogue]
) -> None:
    catalogue = rules[1]
    bidding = PartnerServer(free_port(), Inbox("", Behaviour()))
    bank = PartnerServer(free_port(), Inbox("", Behaviour()))
    events = ["rating.changed", "sanction.listed", "sanction.ended"]
    bidding.inbox.secret = await register_partner(
        store, catalogue, "RG-BID", "BIDDING", bidding.url, events, "SHARED"
    )
    bank.inbox.secret = await register_partner(
        store, catalogue, "RG-BANK", "BANK", bank.url, events, "SHARED"
    )
    bidding.start()
    bank.start()
    bidder_feed = GraphQLClient(api, mint("partner", agency="RG-BID"))
    bank_feed = GraphQLClient(api, mint("partner", agency="RG-BANK"))
    _, bid_start = _drain(bidder_feed, None)
    _, bank_start = _drain(bank_feed, None)
    try:
        (code,) = _new_codes(1)
        t0 = date.today() - timedelta(days=800)
        t1 = t0 + timedelta(days=416)
        t2 = t1 + timedelta(days=184)
        _import([_subject(code, "2015-01-01"), *(_commendation(code, n, t0) for n in (1, 2))])
        await rate(store, [code], t0)  # a first grade: nobody to tell
        _import([_penalty(code, t1, t1 + timedelta(days=183))])
        await rate(store, [code], t1)  # A to BB: bidding priority lost
        await rate(store, [code], t1 + timedelta(days=30))  # still BB: nothing new
        await rate(store, [code], t2)  # BB to A: priority again

        deadline = time.monotonic() + 30
        while len(bidding.inbox.applied) < 2:
            assert time.monotonic() < deadline, "rating.changed did not arrive"
            await asyncio.sleep(0.2)
        await asyncio.sleep(1.5)  # a third (wrong) one would be here by now
        got = [m for m in bidding.inbox.applied if m["data"]["creditCode"] == code]
        assert [m["type"] for m in got] == ["rating.changed", "rating.changed"]
        assert [(m["data"]["previousGrade"], m["data"]["grade"]) for m in got] == [
            ("A", "BB"),
            ("BB", "A"),
        ]
        assert got[1]["data"]["effectiveFrom"] == t2.isoformat()
        assert [c["code"] for c in got[1]["data"]["consequences"]] == CLASS_A
        assert bidding.inbox.bad_signatures == 0
        assert bank.inbox.applied == []  # a bank's duties do not follow the grade class

        seen, _ = _drain(bidder_feed, bid_start)
        mine = [e for e in seen if e["creditCode"] == code]
        assert [(e["op"], e["previousGrade"], e["grade"]) for e in mine] == [
            ("GRADE", "A", "BB"),
            ("GRADE", "BB", "A"),
        ]
        assert mine[0]["consequences"] == [
            {"code": "ORDINARY_TERMS", "name": "招标投标活动中按一般条件对待、不予优先"}
        ]
        assert mine[1]["consequences"] == [
            {"code": "BIDDING_PRIORITY", "name": "招标投标活动中优先"}
        ]
        assert (mine[1]["startDate"], mine[1]["sanctionId"], mine[1]["listing"]) == (
            t2.isoformat(),
            None,
            None,
        )
        banked, _ = _drain(bank_feed, bank_start)
        assert [e for e in banked if e["creditCode"] == code] == []
    finally:
        bidding.stop()
        bank.stop()
        await driver.execute_query(
            "MATCH (p:Partner) WHERE p.code STARTS WITH 'RG-' SET p.status = 'DISABLED'"
        )
