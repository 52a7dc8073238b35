"""Issue 4 end to end: archive files from a unit, review by two reviewers, the grade after.

Real API, Neo4j and `hub` command line. Subjects are registered here through `hub import`, so
every number below is computed by hand from these rows, not read back from the code.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from neo4j import AsyncDriver

from graph.identifiers import uscc_check_char
from policies.credit.catalogue import add_months
from tests.conftest import GraphQLClient, graphql, hub_command, import_file, mint, unit_token

UNIT = "NMG152201"  # 乌兰浩特市自然资源局 (banner level, Xing'an League)
OTHER_DIVISION = "150102"  # 新城区, Hohhot: outside the unit's jurisdiction


def _code(body: str) -> str:
    return body + uscc_check_char(body)


A = _code("91152201MA0Q00A01")
B = _code("91152201MA0Q00B01")
C = _code("91152201MA0Q00C01")
OUTSIDE = _code("91150102MA0Q00D01")


def _subject(code: str, division: str, registered: str) -> dict[str, Any]:
    return {
        "kind": "Subject",
        "creditCode": code,
        "name": f"测试矿业有限公司{code[-4:]}",
        "subjectKind": "COMPANY",
        "division": division,
        "status": "ACTIVE",
        "registeredOn": registered,
        "disclosure": "PUBLIC",
    }


@pytest.fixture(scope="module")
def subjects(api: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    rows = [
        _subject(A, "152201", "2014-03-01"),
        _subject(B, "152201", "2018-07-01"),
        _subject(C, "152201", "2020-01-01"),
        _subject(OUTSIDE, OTHER_DIVISION, "2015-01-01"),
    ]
    path = tmp_path_factory.mktemp("archives") / "subjects.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    import_file(path)


HEADER = ["事项代码", "统一社会信用代码", "严重程度", "标题", "决定日期", "决定文书号", "法律依据"]


def _archive(tmp_path: Path) -> Path:
    rows = [
        HEADER,  # line 1
        [
            "ADMIN_LICENCE",
            A,
            "",
            "采矿许可延续",
            "2024-03-05",
            "兴自然资许〔2024〕1号",
            "矿产资源法",
        ],
        [
            "ADMIN_PENALTY",
            B,
            "GENERAL",
            "未按期缴纳",
            "2023-06-01",
            "兴自然资罚〔2023〕7号",
            "土地管理法",
        ],
        ["COMMENDATION", C, "", "绿色矿山表彰", "2022-12-01", "兴自然资〔2022〕30号", ""],
        ["ADMIN_PENALTY", "91152201MA0Q00B0XX", "GENERAL", "代码错误", "2023-06-01", "罚1号", "法"],
        ["GOLD_STAR", A, "", "不存在的事项", "2023-01-01", "X1", ""],
        ["ADMIN_PENALTY", A, "GENERAL", "缺少文书号", "2023-02-01", "", ""],
        [
            "ADMIN_PENALTY",
            B,
            "GENERAL",
            "未按期缴纳",
            "2023-06-01",
            "兴自然资罚〔2023〕7号",
            "土地管理法",
        ],
        ["ADMIN_PENALTY", OUTSIDE, "MINOR", "辖区外", "2023-06-01", "兴自然资罚〔2023〕9号", "法"],
    ]
    path = tmp_path / "archive.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def _import(path: Path) -> dict[str, Any]:
    done = hub_command("archive", "import", str(path), "--agency", UNIT, check=False)
    assert done.returncode == 3, done.stderr  # partial success
    report: dict[str, Any] = json.loads(done.stdout)
    return report


EXPECTED_REJECTIONS = [
    (5, "invalid-credit-code"),
    (6, "unknown-item"),
    (7, "missing-field"),
    (8, "duplicate"),
    (9, "outside-jurisdiction"),
]


async def test_archive_file_counts_every_row_and_reimport_changes_nothing(
    subjects: None, tmp_path: Path, driver: AsyncDriver
) -> None:
    path = _archive(tmp_path)
    first = _import(path)
    assert (first["read"], first["created"], first["unchanged"], first["rejected"]) == (8, 3, 0, 5)
    assert [(r["line"], r["reason"]) for r in first["rejections"]] == EXPECTED_REJECTIONS
    assert "line 3" in first["rejections"][3]["message"]  # the duplicate names the first line
    assert "legalBasis" in first["rejections"][2]["message"]
    assert "document" in first["rejections"][2]["message"]

    second = _import(path)
    assert (second["read"], second["created"], second["updated"], second["unchanged"]) == (
        8,
        0,
        0,
        3,
    )
    assert [(r["line"], r["reason"]) for r in second["rejections"]] == EXPECTED_REJECTIONS
    query = (
        "MATCH (s:Subject)-[:HAS_RECORD]->(r:CreditRecord) WHERE s.creditCode IN $codes "
        "RETURN r.status AS status, r.sourceAgency AS agency, count(*) AS n"
    )
    records, _, _ = await driver.execute_query(query, codes=[A, B, C, OUTSIDE])
    assert [(r["status"], r["agency"], r["n"]) for r in records] == [("PENDING", UNIT, 3)]


SUBMIT = """
mutation($r: RecordInput!) { submitRecord(record: $r) { id outcome status } }
"""
APPROVE = """
mutation($id: String!) { approveRecord(id: $id) { status approvals approvalsNeeded grade score } }
"""
LOOKUP = """
query($c: String!) {
  subject(creditCode: $c) {
    grade
    records { id status tier publishFrom publishUntil }
    rating { grade score modelVersion caps explanation { code points input } consequences { code } }
  }
}
"""


def test_serious_record_needs_two_reviewers_then_shows_and_lowers_the_grade(
    subjects: None, api: str
) -> None:
    submitter = unit_token("submitter", UNIT, "clerk-wang")
    first_reviewer = unit_token("reviewer", UNIT, "reviewer-li")
    second_reviewer = unit_token("reviewer", UNIT, "reviewer-zhao")
    partner = GraphQLClient(api, mint("partner"))
    decided = date.today().replace(day=1)
    record = {
        "item": "ADMIN_PENALTY",
        "subject": A,
        "tier": "SERIOUS",
        "title": "非法占用耕地",
        "decidedOn": decided.isoformat(),
        "document": "兴自然资罚〔2026〕99号",
        "legalBasis": "土地管理法第七十七条",
    }
    # The grade before: A has only public records of its registration; rate it now.
    hub_command("rate", A)
    before = partner.data(LOOKUP, {"c": A})["subject"]
    submitted = graphql(api, submitter, SUBMIT, r=record)["data"]["submitRecord"]
    assert submitted["outcome"] == "created" and submitted["status"] == "PENDING"
    record_id = submitted["id"]

    def partner_sees() -> bool:
        found = partner.data(LOOKUP, {"c": A})["subject"]["records"]
        return any(r["id"] == record_id for r in found)

    assert not partner_sees()
    own = graphql(api, unit_token("reviewer", UNIT, "clerk-wang"), APPROVE, id=record_id)
    assert own["errors"][0]["extensions"]["code"] == "FORBIDDEN"  # nobody reviews their own
    by_submitter = graphql(api, submitter, APPROVE, id=record_id)
    assert by_submitter["errors"][0]["extensions"]["code"] == "FORBIDDEN"  # not a reviewer

    step = graphql(api, first_reviewer, APPROVE, id=record_id)["data"]["approveRecord"]
    assert (step["status"], step["approvals"], step["approvalsNeeded"]) == ("PENDING", 1, 2)
    assert not partner_sees()
    again = graphql(api, first_reviewer, APPROVE, id=record_id)
    assert again["errors"][0]["extensions"]["code"] == "CONFLICT"

    step = graphql(api, second_reviewer, APPROVE, id=record_id)["data"]["approveRecord"]
    assert (step["status"], step["approvals"]) == ("PUBLISHED", 2)
    after = partner.data(LOOKUP, {"c": A})["subject"]
    shown = next(r for r in after["records"] if r["id"] == record_id)
    assert shown["publishFrom"] == date.today().isoformat()
    assert shown["publishUntil"] == add_months(decided, 36).isoformat()  # serious: 3 years max
    penalty = next(c for c in after["rating"]["explanation"] if c["code"] == "DISHONEST_RECORDS")
    before_penalty = next(
        c for c in before["rating"]["explanation"] if c["code"] == "DISHONEST_RECORDS"
    )
    age_days = (date.today() - decided).days
    expected = round(-40 * 0.5 ** (age_days / 30.4375 / 24), 2)
    assert penalty["points"] == pytest.approx(expected, abs=0.01)
    assert before_penalty["points"] == 0

    def clean_years(rating: dict[str, Any]) -> float:
        return next(
            c["points"] for c in rating["explanation"] if c["code"] == "YEARS_WITHOUT_DISHONESTY"
        )

    assert clean_years(after["rating"]) == 0  # the years without dishonesty start again
    lost = clean_years(before["rating"])
    assert after["rating"]["score"] == pytest.approx(
        before["rating"]["score"] + expected - lost, abs=0.02
    )
    assert after["grade"] != before["grade"] and after["grade"] == step["grade"]

    # Every step is in the audit chain, the refusals too.
    hub_command("audit", "drain")
    admin = GraphQLClient(api, mint("admin", agency="NMG150000"))
    trail = admin.data(
        """query($c: String!) { auditTrail(subject: $c, first: 100) {
             field action decision principal released } }""",
        {"c": A},
    )["auditTrail"]
    steps = [
        (e["field"], e["decision"], e["principal"])
        for e in trail  # type: ignore[union-attr]
        if e["action"] == "write" and record_id in e["released"]  # type: ignore[index]
    ]
    assert steps == [
        ("submitRecord", "ALLOW", "clerk-wang"),
        ("approveRecord", "DENY", "clerk-wang"),
        ("approveRecord", "ALLOW", "reviewer-li"),
        ("approveRecord", "DENY", "reviewer-li"),
        ("approveRecord", "ALLOW", "reviewer-zhao"),
    ]


def test_a_unit_submits_only_within_its_jurisdiction(subjects: None, api: str) -> None:
    submitter = unit_token("submitter", UNIT, "clerk-wang")
    record = {
        "item": "ADMIN_LICENCE",
        "subject": OUTSIDE,
        "title": "采矿许可",
        "decidedOn": "2025-01-02",
        "document": "许〔2025〕1号",
        "legalBasis": "矿产资源法",
    }
    answer = graphql(api, submitter, SUBMIT, r=record)
    assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    bad = graphql(api, submitter, SUBMIT, r={**record, "subject": A, "item": "NOPE"})
    assert bad["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "reason": "unknown-item"}
    partner = graphql(api, mint("partner"), SUBMIT, r=record)
    assert partner["errors"][0]["extensions"]["code"] == "FORBIDDEN"
