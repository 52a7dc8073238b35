"""Cases over the API with real tokens: a unit opens a case and adds its documents (GraphQL and
the PDF upload), reads them back; hostile callers (a unit of another division, a partner, no
token, a file that is no PDF or too big) are refused and nothing is written. A case counts once
in the rating; closed DISMISSED it stops lowering the grade, and partners hear of it."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from neo4j import AsyncDriver

from graph.db import Store
from graph.rating import rate
from hub.evidence import evidence_key, evidence_storage
from policies.cases import default_cases
from policies.credit.measures import Catalogue
from policies.credit.rating import RatingInputs, RecordFact, Source
from policies.credit.rating_file import default_model
from tests.audit import audit_trail
from tests.conftest import (
    TEST_DATA,
    GraphQLClient,
    Workers,
    import_file,
    mint,
    unit_token,
)
from tests.partner_registry import registered_partner, wait_for
from tests.subjects import fresh_subjects, listed_on

UNIT = "NMG152201"
PDF = b"%PDF-1.4\n% transfer of a suspected crime\n"
CASE_FIELDS = """id creditCode unit title matter status outcome outcomeName counts openedOn
  closedOn closedBy reasons
  duty { kind kindName party since dueOn source overdue }
  documents { id kind kindName number issuedOn authority summary source
              file { name size sha256 } }
  records { id title status }"""
OPEN = f"""mutation($i: CaseInput!) {{ openCase(input: $i) {{ {CASE_FIELDS} }} }}"""
ADD = f"""mutation($c: String!, $i: CaseDocumentInput!) {{
  addCaseDocument(caseId: $c, input: $i) {{ id created case {{ {CASE_FIELDS} }} }} }}"""
CLOSE = f"""mutation($c: String!, $o: CaseOutcome!, $r: String!) {{
  closeCase(caseId: $c, outcome: $o, reasons: $r) {{ {CASE_FIELDS} }} }}"""
ONE = f"""query($id: String!) {{ case(id: $id) {{ {CASE_FIELDS} }} }}"""
MANY = """query($f: CasesFilter) { cases(filter: $f, first: 100) {
  edges { node { id creditCode status } } hasNextPage endCursor } }"""
FILE_FIELD = "GET /cases/{caseId}/documents/{documentId}/file"
GRADE = """query($c: String!) { subject(creditCode: $c) { rating { grade score } } }"""
SANCTIONS = """query($c: String!) { subject(creditCode: $c) { sanctions { id status } } }"""


def _error(body: dict[str, Any]) -> dict[str, Any]:
    assert body.get("errors"), body
    return body["errors"][0]["extensions"]  # type: ignore[no-any-return]


def _opened(code: str, records: list[str], day: date) -> dict[str, object]:
    return {"creditCode": code, "title": "非法采矿涉嫌犯罪移送案", "matter": "ADMIN_PENALTY",
            "records": records, "openedOn": day.isoformat()}  # fmt: skip


def _document(
    kind: str, number: str, day: date, records: list[str] | None = None
) -> dict[str, object]:
    return {"kind": kind, "number": number, "issuedOn": day.isoformat(),
            "authority": "乌兰浩特市自然资源局", "summary": "依法移送",
            "records": records or []}  # fmt: skip


async def _count(driver: AsyncDriver, cypher: str, **params: Any) -> int:
    records, _, _ = await driver.execute_query(cypher, **params)
    return int(records[0]["n"])


def _upload(
    api: str, case: str, token: str | None, file: tuple[str, bytes] | None, **fields: str
) -> httpx.Response:
    filed_on = (date.today() - timedelta(days=8)).isoformat()  # after the transfer
    data = {"kind": "FILING_NOTICE", "number": "兴公立字〔2026〕7号", "issuedOn": filed_on,
            "authority": "乌兰浩特市公安局", "summary": "决定立案侦查", **fields}  # fmt: skip
    files = [("file", (file[0], file[1], "application/pdf"))] if file else []
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(
        f"{api}/cases/{case}/documents", data=data, files=files, headers=headers, timeout=60
    )


def _file(api: str, case: str, document: str, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    url = f"{api}/cases/{case}/documents/{document}/file"
    return httpx.get(url, headers=headers, timeout=15)


async def test_a_unit_opens_a_case_adds_its_documents_and_only_those_who_may_read_it_do(
    api: str, driver: AsyncDriver
) -> None:
    ((code, record),) = fresh_subjects(1)
    clerk = unit_token("submitter", UNIT, "clerk-case-a")
    submitter = GraphQLClient(api, clerk)
    reviewer = GraphQLClient(api, unit_token("reviewer", UNIT, "reviewer-case-a"))
    investigator = GraphQLClient(api, mint("investigator", agency="NMG150000"))
    elsewhere_token = unit_token("submitter", "NMG150102", "clerk-hohhot-case")
    elsewhere = GraphQLClient(api, elsewhere_token)
    partner_token = mint("partner")
    partner = GraphQLClient(api, partner_token)
    opened_on = date.today() - timedelta(days=20)

    # Another division's unit cannot open a case on the subject: it reads like an unknown one.
    outside = elsewhere.post(OPEN, {"i": _opened(code, [record], opened_on)}).json()
    assert _error(outside)["code"] == "NOT_FOUND"
    refused = partner.post(OPEN, {"i": _opened(code, [record], opened_on)}).json()
    assert _error(refused)["code"] == "FORBIDDEN"
    foreign = submitter.post(OPEN, {"i": _opened(code, ["R-NOT-THEIRS"], opened_on)}).json()
    assert _error(foreign)["code"] == "NOT_FOUND"
    cases_of = "MATCH (c:Case {creditCode: $code}) RETURN count(c) AS n"
    assert await _count(driver, cases_of, code=code) == 0

    case: dict[str, Any] = submitter.data(OPEN, {"i": _opened(code, [record], opened_on)})[
        "openCase"
    ]  # type: ignore[assignment]
    case_id = case["id"]
    assert case_id.startswith("CASE-") and case["status"] == "OPEN" and case["duty"] is None
    assert case["unit"] == UNIT and [r["id"] for r in case["records"]] == [record]

    # A transfer to the police sets its duty going: Decree 310's three working days.
    moved_on = date.today() - timedelta(days=10)
    transfer = _document("TRANSFER", "乌自然资移〔2026〕1号", moved_on)
    added: dict[str, Any] = submitter.data(ADD, {"c": case_id, "i": transfer})["addCaseDocument"]  # type: ignore[assignment]
    assert added["created"] is True
    duty = added["case"]["duty"]
    rule = default_cases().duties["TRANSFER"]
    assert duty["kind"] == "TRANSFER" and duty["party"] == "POLICE"
    assert duty["dueOn"] == rule.deadline.due(moved_on).isoformat()
    assert "第310号" in duty["source"] and duty["overdue"] is True
    late_ones = submitter.data(MANY, {"f": {"creditCode": code, "overdue": True}})["cases"]
    assert [e["node"]["id"] for e in late_ones["edges"]] == [case_id]  # type: ignore[index]
    again = submitter.data(ADD, {"c": case_id, "i": transfer})["addCaseDocument"]
    assert again["created"] is False and again["id"] == added["id"]  # type: ignore[index]
    unknown = submitter.post(ADD, {"c": case_id, "i": _document("LETTER", "X-1", moved_on)})
    assert _error(unknown.json()) == {"code": "BAD_USER_INPUT", "reason": "kind"}
    tomorrow = date.today() + timedelta(days=1)
    late = submitter.post(ADD, {"c": case_id, "i": _document("PROGRESS", "X-2", tomorrow)})
    assert _error(late.json()) == {"code": "BAD_USER_INPUT", "reason": "issuedOn"}
    hostile = elsewhere.post(ADD, {"c": case_id, "i": _document("PROGRESS", "X-3", moved_on)})
    assert _error(hostile.json()) == {"code": "NOT_FOUND", "reason": "unknown"}
    documents_of = "MATCH (d:CaseDocument {case: $id}) RETURN count(d) AS n"
    assert await _count(driver, documents_of, id=case_id) == 1

    # The PDF upload: refused for a file that is no PDF, too big, another division, a partner,
    # no token; nothing is written, not even the bytes.
    fake = b"MZ\x90\x00 not a pdf" + secrets.token_bytes(16)
    big = b"%PDF-" + secrets.token_bytes(default_cases().file.max_bytes)
    mine = PDF + secrets.token_bytes(16)  # a file no other test sends
    for token, file, status in (
        (clerk, ("scan.pdf", fake), 400),
        (clerk, ("scan.pdf", big), 400),
        (elsewhere_token, ("立案通知书.pdf", mine), 404),
        (partner_token, ("立案通知书.pdf", mine), 403),
        (None, ("立案通知书.pdf", mine), 401),
    ):
        answer = _upload(api, case_id, token, file)
        assert answer.status_code == status, (token, answer.text)
        if status == 400:
            assert answer.json()["errors"][0]["extensions"] == {
                "code": "BAD_USER_INPUT", "reason": "file",
            }  # fmt: skip
    wrong_kind = _upload(api, case_id, clerk, ("立案通知书.pdf", mine), kind="LETTER")
    assert wrong_kind.status_code == 400
    assert wrong_kind.json()["errors"][0]["extensions"] == {
        "code": "BAD_USER_INPUT", "reason": "kind",
    }  # fmt: skip
    assert await _count(driver, documents_of, id=case_id) == 1
    for data in (fake, big, mine):
        assert not evidence_storage().exists(evidence_key(hashlib.sha256(data).hexdigest()))

    uploaded = _upload(api, case_id, clerk, ("立案通知书.pdf", mine))
    assert uploaded.status_code == 201, uploaded.text
    sha = hashlib.sha256(mine).hexdigest()
    assert uploaded.json()["created"] is True and uploaded.json()["file"] == sha
    document = uploaded.json()["id"]

    read: dict[str, Any] = reviewer.data(ONE, {"id": case_id})["case"]  # type: ignore[assignment]
    assert [d["kind"] for d in read["documents"]] == ["TRANSFER", "FILING_NOTICE"]
    filed = read["documents"][1]
    assert filed["kindName"] == "立案通知书" and filed["source"] == "UNIT"
    assert filed["file"] == {"name": "立案通知书.pdf", "size": len(mine), "sha256": sha}
    assert read["duty"]["kind"] == "FILING_NOTICE" and read["duty"]["party"] == "POLICE"
    assert investigator.data(ONE, {"id": case_id})["case"]["id"] == case_id  # type: ignore[index]

    got = _file(api, case_id, document, clerk)
    assert got.status_code == 200 and got.content == mine
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["cache-control"] == "no-store"
    for token, status in ((elsewhere_token, 404), (partner_token, 403), (None, 401)):
        denied = _file(api, case_id, document, token)
        assert denied.status_code == status and mine not in denied.content
    assert _file(api, case_id, added["id"], clerk).status_code == 404  # a document without file

    # Lists and lookups: outside the jurisdiction the case reads like an unknown one.
    listed = submitter.data(MANY, {"f": {"creditCode": code}})["cases"]["edges"]  # type: ignore[index]
    assert [e["node"]["id"] for e in listed] == [case_id]
    overdue = submitter.data(MANY, {"f": {"creditCode": code, "overdue": True}})["cases"]
    assert overdue["edges"] == []  # type: ignore[index] # the filing notice ended the transfer's duty
    assert elsewhere.data(ONE, {"id": case_id})["case"] is None
    assert elsewhere.data(MANY, {"f": {"creditCode": code}})["cases"]["edges"] == []  # type: ignore[index]
    assert _error(partner.post(ONE, {"id": case_id}).json())["code"] == "FORBIDDEN"
    no_token = GraphQLClient(api, None).post(ONE, {"id": case_id})
    assert case_id not in no_token.text and "非法采矿涉嫌犯罪移送案" not in no_token.text

    # Closing: a reviewer's step, not the opener's, and only once.
    assert (
        _error(submitter.post(CLOSE, {"c": case_id, "o": "UPHELD", "r": "依法判决"}).json())["code"]
        == "FORBIDDEN"
    )
    own: dict[str, Any] = reviewer.data(OPEN, {"i": _opened(code, [], opened_on)})["openCase"]  # type: ignore[assignment]
    mine_closed = reviewer.post(CLOSE, {"c": own["id"], "o": "UPHELD", "r": "维持原处理决定"})
    assert _error(mine_closed.json()) == {"code": "FORBIDDEN", "reason": "own-case"}
    page = """query($f: CasesFilter, $a: String) { cases(filter: $f, first: 1, after: $a) {
      edges { node { id } } hasNextPage endCursor } }"""
    first = submitter.data(page, {"f": {"creditCode": code}})["cases"]
    assert first["hasNextPage"] is True  # type: ignore[index]
    rest = submitter.data(page, {"f": {"creditCode": code}, "a": first["endCursor"]})["cases"]  # type: ignore[index]
    paged = [e["node"]["id"] for e in first["edges"] + rest["edges"]]  # type: ignore[index]
    assert sorted(paged) == sorted([case_id, own["id"]]) and rest["hasNextPage"] is False  # type: ignore[index]
    outsider = GraphQLClient(api, unit_token("reviewer", "NMG150102", "reviewer-hohhot-case"))
    far = outsider.post(CLOSE, {"c": case_id, "o": "DISMISSED", "r": "公安机关撤案"}).json()
    assert _error(far) == {"code": "NOT_FOUND", "reason": "unknown"}
    closed: dict[str, Any] = reviewer.data(
        CLOSE, {"c": case_id, "o": "UPHELD", "r": "法院判决维持原处理决定"}
    )["closeCase"]  # type: ignore[assignment]
    assert (closed["status"], closed["outcome"], closed["counts"]) == ("CLOSED", "UPHELD", True)
    assert closed["closedBy"] == "reviewer-case-a" and closed["duty"] is None
    twice = reviewer.post(CLOSE, {"c": case_id, "o": "DISMISSED", "r": "公安机关撤案"})
    assert _error(twice.json()) == {"code": "CONFLICT", "reason": "closed"}
    assert reviewer.data(ONE, {"id": case_id})["case"]["outcome"] == "UPHELD"  # type: ignore[index]

    # Every step is in the subject's audit trail: the writes, the upload and the file handed out.
    trail = {(e["field"], e["decision"]) for e in audit_trail(api, code)}
    upload, download = "POST /cases/{caseId}/documents", FILE_FIELD
    for step in ("openCase", "addCaseDocument", "closeCase", "case", upload, download):
        assert (step, "ALLOW") in trail, (step, trail)


def _judgment(code: str, n: int) -> str:
    """A published serious court judgment on ``code``, decided after fresh_subjects' penalty,
    loaded through the real import; its id."""
    record = f"R-CJ-{n:04d}"
    line = {"kind": "CreditRecord", "id": record, "subject": code, "agency": UNIT,
            "item": "COURT_JUDGMENT", "category": "DISHONEST", "tier": "SERIOUS",
            "title": "非法采矿罪刑事判决", "decidedOn": "2026-09-01",
            "document": f"（2026）内2201刑初{n}号",
            "legalBasis": "《中华人民共和国刑法》第三百四十三条",
            "publishFrom": "2026-09-02", "publishUntil": "2029-09-01", "status": "PUBLISHED",
            "disclosure": "RESTRICTED"}  # fmt: skip
    path = TEST_DATA / f"case-judgment-{n}.jsonl"
    path.write_text(json.dumps(line, ensure_ascii=False), "utf-8")
    import_file(path)
    return record


def _score_of_one(fact: RecordFact) -> float:
    """What the model gives a subject like fresh_subjects' with just this record."""
    inputs = RatingInputs("ACTIVE", date(2015, 1, 1), (fact,), (), (), ())
    return default_model().rate(inputs, date.today()).score


async def test_a_dismissed_case_stops_lowering_the_grade_and_partners_hear_of_it(
    api: str, store: Store, workers: Workers, rules: tuple[Path, Catalogue]
) -> None:
    bidding = await registered_partner(
        store, rules[1], "CASE-BID", "BIDDING", ["record.changed", "rating.changed"]
    )
    try:
        ((code, record),) = fresh_subjects(1)
        judgment = _judgment(code, int(record.rsplit("-", 1)[1]))
        await rate(store, [code])
        submitter = GraphQLClient(api, unit_token("submitter", UNIT, "clerk-case-b"))
        reviewer = GraphQLClient(api, unit_token("reviewer", UNIT, "reviewer-case-b"))
        both = submitter.data(GRADE, {"c": code})["subject"]["rating"]  # type: ignore[index]
        assert both["grade"] == "C"  # two serious records, each counted

        day = date(2026, 6, 1)
        case: dict[str, Any] = submitter.data(OPEN, {"i": _opened(code, [record], day)})["openCase"]  # type: ignore[assignment]
        verdict = _document("JUDGMENT", "（2026）内2201刑初9号", date(2026, 9, 1), [judgment])
        submitter.data(ADD, {"c": case["id"], "i": verdict})
        once = submitter.data(GRADE, {"c": code})["subject"]["rating"]  # type: ignore[index]
        # One fact for the case: the judgment, decided last; not both.
        latest = RecordFact("COURT_JUDGMENT", "DISHONEST", "SERIOUS", date(2026, 9, 1),
                            Source("RESTRICTED", UNIT))  # fmt: skip
        assert once["score"] == _score_of_one(latest) and once["score"] > both["score"]
        assert once["grade"].startswith("C")  # still class C: it counts, once

        closed: dict[str, Any] = reviewer.data(
            CLOSE, {"c": case["id"], "o": "DISMISSED", "r": "公安机关撤销案件，终止侦查"}
        )["closeCase"]  # type: ignore[assignment]
        assert (closed["outcome"], closed["counts"]) == ("DISMISSED", False)
        assert {r["id"] for r in closed["records"]} == {record, judgment}
        after = submitter.data(GRADE, {"c": code})["subject"]["rating"]  # type: ignore[index]
        assert after["grade"] == "BBB" and after["score"] > once["score"]

        changed = wait_for(
            bidding.inbox,
            lambda m: m["type"] == "record.changed" and m["data"]["recordId"] == record,
        )
        assert changed["data"]["change"] == "CASE_DISMISSED"
        assert changed["data"]["creditCode"] == code
        regraded = wait_for(
            bidding.inbox,
            lambda m: m["type"] == "rating.changed" and m["data"]["creditCode"] == code
            and m["data"]["grade"] == "BBB",
        )  # fmt: skip
        assert regraded["data"]["previousGrade"].startswith("C")
        # The judgment is RESTRICTED: a bidding platform never held it, and hears nothing of it.
        with bidding.inbox.lock:
            assert not [m for m in bidding.inbox.applied if m["data"].get("recordId") == judgment]
    finally:
        bidding.stop()


async def test_an_overturned_case_ends_the_listing_resting_on_its_record(
    api: str, store: Store, workers: Workers, rules: tuple[Path, Catalogue]
) -> None:
    land = await registered_partner(
        store, rules[1], "CASE-LAND", "LAND_MINING", ["sanction.ended", "record.changed"]
    )
    try:
        ((code, record),) = fresh_subjects(1)
        sanction = await listed_on(store, rules[1], code, record, "CASE")
        submitter = GraphQLClient(api, unit_token("submitter", UNIT, "clerk-case-c"))
        reviewer = GraphQLClient(api, unit_token("reviewer", UNIT, "reviewer-case-c"))
        case = submitter.data(OPEN, {"i": _opened(code, [record], date(2026, 6, 1))})["openCase"]
        reviewer.data(
            CLOSE,
            {"c": case["id"], "o": "OVERTURNED", "r": "行政复议撤销原处罚决定"},  # type: ignore[index]
        )
        sanctions = submitter.data(SANCTIONS, {"c": code})["subject"]["sanctions"]  # type: ignore[index]
        assert {"id": sanction, "status": "ENDED"} in sanctions
        ended = wait_for(
            land.inbox,
            lambda m: m["type"] == "sanction.ended" and m["data"]["sanctionId"] == sanction,
        )
        assert ended["data"]["endReason"] == "CASE_OVERTURNED"
        changed = wait_for(
            land.inbox,
            lambda m: m["type"] == "record.changed" and m["data"]["recordId"] == record,
        )
        assert changed["data"]["change"] == "CASE_OVERTURNED"
        grade = submitter.data(GRADE, {"c": code})["subject"]["rating"]["grade"]  # type: ignore[index]
        assert grade == "BBB"
    finally:
        land.stop()
