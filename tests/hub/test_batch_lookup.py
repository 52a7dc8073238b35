"""Issue 17, screening a portfolio: ``subjectsByCode`` through the real API with real tokens.

Answers in the order asked, each equal to ``subject(creditCode)``'s for the same selection; a
code unknown or not visible is null alike; an invalid code is null with its own error at its
index while the others are answered; more than 100 codes are refused before anything is read;
every released subject leaves its audit entry.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from graph.identifiers import uscc_check_char
from tests.conftest import TEST_DATA, GraphQLClient, graphql, hub_command, import_file, mint
from tests.subjects import fresh_subjects

FIELDS = """creditCode name status grade division { code name }
  legalRepresentative { name idMasked idNumber } rating { grade score }
  records { id title disclosure tier } sanctions { id listing measures status }
  licences { id number } projects { id role } contacts { phones }"""
BATCH = f"query($c: [String!]!) {{ subjectsByCode(creditCodes: $c) {{ {FIELDS} }} }}"
SCREEN = """query($c: [String!]!) { subjectsByCode(creditCodes: $c) {
  creditCode name grade sanctions { listing measures status } } }"""  # fits 100 in a budget
SINGLE = f"query($c: String!) {{ subject(creditCode: $c) {{ {FIELDS} }} }}"
UNKNOWN = "91110000600037341L"  # valid, not in the graph


def _valid(first17: str) -> str:
    return first17 + uscc_check_char(first17)


def _restricted_subject() -> str:
    """A subject only the department may see: for a partner it must answer like an unknown."""
    code = _valid("91152201MA0BT0001")
    row = {
        "kind": "Subject",
        "creditCode": code,
        "name": "批量查询非公开矿业有限公司",
        "subjectKind": "COMPANY",
        "division": "152201",
        "status": "ACTIVE",
        "registeredOn": "2015-01-01",
        "disclosure": "RESTRICTED",
    }
    path = TEST_DATA / "batch-restricted-subject.jsonl"
    path.write_text(json.dumps(row, ensure_ascii=False), "utf-8")
    import_file(path)
    return code


def _batch(api: str, token: str, codes: list[str], query: str = BATCH) -> dict[str, Any]:
    return graphql(api, token, query, c=codes)


def test_answers_keep_the_order_and_equal_single_lookups(api: str, code: str) -> None:
    others = [c for c, _ in fresh_subjects(3)]
    codes = [others[2], code, others[0], others[1]]
    for token in (mint("partner"), mint("investigator", clearance="CONFIDENTIAL")):
        body = _batch(api, token, codes)
        assert "errors" not in body, body
        answers = body["data"]["subjectsByCode"]
        assert [a["creditCode"] for a in answers] == codes
        for asked, answer in zip(codes, answers, strict=True):
            single = graphql(api, token, SINGLE, c=asked)
            assert answer == single["data"]["subject"], asked
    rich = _batch(api, mint("partner"), [code])["data"]["subjectsByCode"][0]
    assert rich["sanctions"] and rich["records"] and rich["legalRepresentative"]["idMasked"]
    assert rich["legalRepresentative"]["idNumber"] is None  # above a partner's clearance


def test_unknown_and_invisible_codes_are_null_alike(api: str) -> None:
    hidden = _restricted_subject()
    [(known, _)] = fresh_subjects(1)
    department = _batch(api, mint("investigator"), [hidden])
    assert department["data"]["subjectsByCode"][0]["creditCode"] == hidden  # it exists
    partner = mint("partner")
    body = _batch(api, partner, [hidden, known, UNKNOWN])
    assert "errors" not in body, body
    assert [a and a["creditCode"] for a in body["data"]["subjectsByCode"]] == [None, known, None]
    # Nothing tells the two apart: the same answer, word for word, either way round.
    assert _batch(api, partner, [hidden]) == _batch(api, partner, [UNKNOWN])
    assert "批量查询非公开" not in json.dumps(body, ensure_ascii=False)


def test_invalid_codes_fail_at_their_index_and_the_rest_is_answered(api: str) -> None:
    [(first, _), (second, _)] = fresh_subjects(2)
    wrong_check = first[:17] + ("0" if first[17] != "0" else "1")
    codes = ["not-a-code", first, wrong_check, second]
    body = _batch(api, mint("partner"), codes)
    answers = body["data"]["subjectsByCode"]
    assert [a and a["creditCode"] for a in answers] == [None, first, None, second]
    errors = sorted(body["errors"], key=lambda e: e["path"])
    assert [e["path"] for e in errors] == [["subjectsByCode", 0], ["subjectsByCode", 2]]
    assert {e["extensions"]["code"] for e in errors} == {"BAD_USER_INPUT"}
    assert all(e["extensions"]["reason"] for e in errors), errors


def test_more_than_100_codes_are_refused_and_nothing_is_read(api: str) -> None:
    [(known, _)] = fresh_subjects(1)
    bank = mint("partner", agency="BANK-BATCH-101")
    since = datetime.now(UTC)
    body = _batch(api, bank, [known] * 101, SCREEN)
    assert body["data"] is None, body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["extensions"]["max"] == 100
    assert error["path"] == ["subjectsByCode"]
    assert known not in json.dumps(body)
    events = _audit(api, "BANK-BATCH-101", since)
    assert events and all(not e["released"] for e in events), events
    full = _batch(api, bank, [known] * 100, SCREEN)["data"]["subjectsByCode"]
    assert [s["creditCode"] for s in full] == [known] * 100


def test_duplicated_codes_are_answered_at_each_position(api: str) -> None:
    [(a, _), (b, _)] = fresh_subjects(2)
    body = _batch(api, mint("partner"), [a, b, a, "bad", a])
    answers = body["data"]["subjectsByCode"]
    assert [x and x["creditCode"] for x in answers] == [a, b, a, None, a]
    assert answers[0] == answers[2] == answers[4]
    assert [e["path"] for e in body["errors"]] == [["subjectsByCode", 3]]


def test_each_released_subject_is_audited_and_nothing_else(api: str, code: str) -> None:
    hidden = _restricted_subject()
    [(known, _)] = fresh_subjects(1)
    since = datetime.now(UTC)
    body = _batch(api, mint("partner", agency="BANK-BATCH"), [code, hidden, known, UNKNOWN, "x"])
    assert [a and a["creditCode"] for a in body["data"]["subjectsByCode"]] == [
        code,
        None,
        known,
        None,
        None,
    ]
    events = [e for e in _audit(api, "BANK-BATCH", since) if e["field"] == "subjectsByCode"]
    by_subject = {e["subject"]: e for e in events}
    assert set(by_subject) == {code, known}, events
    assert (
        "S-API-1" in by_subject[code]["released"] and "R-API-PUBLIC" in by_subject[code]["released"]
    )
    assert "R-API-RESTRICTED" not in by_subject[code]["released"]
    assert by_subject[known]["released"][0] == known


def _audit(api: str, agency: str, since: datetime) -> list[dict[str, Any]]:
    """The agency's audit entries since ``since`` (the test store outlives a session)."""
    hub_command("audit", "drain")  # what the worker does every 2 s
    admin = GraphQLClient(api, mint("admin", agency="NMG150000"))
    query = """query($g: String!, $s: DateTime!) { auditTrail(agency: $g, since: $s, first: 100) {
        field subject released decision } }"""
    found = admin.data(query, {"g": agency, "s": since.isoformat()})["auditTrail"]
    assert isinstance(found, list)
    return found
