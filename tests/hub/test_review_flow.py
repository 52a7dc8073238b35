"""Review queues, returns, historical records, expiry, repair, the assessment and uploads.

A unit of its own (阿尔山市, 152202) keeps these counts apart from the other tests.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from neo4j import AsyncDriver
from openpyxl import Workbook

from graph.identifiers import uscc_check_char
from hub.cli.services import stop_process
from hub.settings import PROJECT_ROOT
from policies.credit.rating_file import default_model
from policies.workdays import add_working_days
from tests.conftest import (
    TEST_DATA,
    free_port,
    graphql,
    hub_command,
    import_file,
    mint,
    start_api,
    unit_token,
    upload_archive,
)

UNIT = "NMG152202"
E = "91152202MA0R00E01" + uscc_check_char("91152202MA0R00E01")
F = "91152202MA0R00F01" + uscc_check_char("91152202MA0R00F01")

SUBMIT = "mutation($r: RecordInput!) { submitRecord(record: $r) { id outcome status } }"
APPROVE = "mutation($id: String!) { approveRecord(id: $id) { status grade score } }"
RETURN = "mutation($id: String!, $why: String!) { returnRecord(id: $id, reason: $why) { status } }"
REPAIR = "mutation($id: String!, $why: String!) { repairRecord(id: $id, reason: $why) { status } }"
QUEUE = """
query($status: String!) {
  reviewQueue(status: $status, first: 50) {
    edges { node { id subject title approvals publishDeadline returnReason submittedBy } }
  }
}
"""
RECORDS = """
query($c: String!) {
  subject(creditCode: $c) {
    records { id status }
    rating { modelVersion explanation { code points } }
  }
}
"""


def ok(body: dict[str, Any]) -> dict[str, Any]:
    assert not body.get("errors"), body
    data: dict[str, Any] = body["data"]
    return data


def code_of(body: dict[str, Any]) -> str:
    return str(body["errors"][0]["extensions"]["code"])


@pytest.fixture(scope="module")
def unit_subjects(api: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    rows = [
        {
            "kind": "Subject",
            "creditCode": code,
            "name": name,
            "subjectKind": "COMPANY",
            "division": "152202",
            "status": "ACTIVE",
            "registeredOn": "2016-05-01",
            "disclosure": "PUBLIC",
        }
        for code, name in ((E, "阿尔山测绘有限公司"), (F, "阿尔山建设有限公司"))
    ]
    path = tmp_path_factory.mktemp("review") / "subjects.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    import_file(path)


SUBMITTER = "clerk-zhang"


def _record(decided: date, number: int, **changes: str) -> dict[str, str]:
    return {
        "item": "ADMIN_PENALTY",
        "subject": E,
        "tier": "GENERAL",
        "title": "违法占地",
        "decidedOn": decided.isoformat(),
        "document": f"阿自然资罚〔{decided.year}〕{number}号",
        "legalBasis": "土地管理法",
        **changes,
    }


def test_queue_return_resubmit_and_the_assessment(api: str, unit_subjects: None) -> None:
    submitter = unit_token("submitter", UNIT, SUBMITTER)
    reviewer = unit_token("reviewer", UNIT, "reviewer-sun")
    elsewhere = unit_token("reviewer", "NMG150102", "reviewer-hohhot")
    today = date.today()
    late, overdue, timely = (today - timedelta(days=d) for d in (60, 59, 1))
    first = ok(graphql(api, submitter, SUBMIT, r=_record(late, 1)))["submitRecord"]["id"]
    ok(graphql(api, submitter, SUBMIT, r=_record(overdue, 2)))
    third = ok(graphql(api, submitter, SUBMIT, r=_record(timely, 3)))["submitRecord"]["id"]

    queue = ok(graphql(api, reviewer, QUEUE, status="PENDING"))["reviewQueue"]["edges"]
    mine = {e["node"]["id"]: e["node"] for e in queue}
    assert first in mine and mine[first]["submittedBy"] == SUBMITTER
    assert mine[first]["publishDeadline"] == add_working_days(late, 7).isoformat()
    assert ok(graphql(api, elsewhere, QUEUE, status="PENDING"))["reviewQueue"]["edges"] == []
    assert code_of(graphql(api, elsewhere, APPROVE, id=first)) == "NOT_FOUND"

    assert code_of(graphql(api, reviewer, RETURN, id=first, why="no")) == "BAD_USER_INPUT"
    returned = ok(graphql(api, reviewer, RETURN, id=first, why="缺少法律依据条款"))
    assert returned["returnRecord"]["status"] == "RETURNED"
    back = ok(graphql(api, submitter, QUEUE, status="RETURNED"))["reviewQueue"]["edges"]
    assert [(e["node"]["id"], e["node"]["returnReason"]) for e in back] == [
        (first, "缺少法律依据条款")
    ]
    fixed = _record(late, 1, legalBasis="土地管理法第七十七条")
    again = ok(graphql(api, submitter, SUBMIT, r=fixed))["submitRecord"]
    assert (again["id"], again["outcome"], again["status"]) == (first, "updated", "PENDING")
    assert ok(graphql(api, reviewer, APPROVE, id=first))["approveRecord"]["status"] == "PUBLISHED"
    assert ok(graphql(api, reviewer, APPROVE, id=third))["approveRecord"]["status"] == "PUBLISHED"

    query = """query($from: Date!, $to: Date!, $unit: String) {
      collectionAssessment(from: $from, to: $to, unit: $unit) {
        unit submitted published pending returned returnRate due onTime late overdue
        timelinessRate
      }
    }"""
    window = {"from": late.isoformat(), "to": date.today().isoformat(), "unit": UNIT}
    (row,) = ok(graphql(api, reviewer, query, **window))["collectionAssessment"]
    assert row == {
        "unit": UNIT,
        "submitted": 3,
        "published": 2,
        "pending": 1,
        "returned": 1,
        "returnRate": round(1 / 3, 4),
        "due": 3,
        "onTime": 1,  # published the day after its decision
        "late": 1,  # decided two months ago, published today
        "overdue": 1,  # still pending long after its deadline
        "timelinessRate": round(1 / 3, 4),
    }
    exported = hub_command(
        "assess", "--from", window["from"], "--to", window["to"], "--unit", UNIT, "--csv", "-"
    ).stdout
    (line,) = list(csv.DictReader(io.StringIO(exported.lstrip("\ufeff"))))
    assert (line["unit"], line["submitted"], line["late"], line["overdue"]) == (UNIT, "3", "1", "1")
    partner = graphql(api, mint("partner"), query, **window)
    assert code_of(partner) == "FORBIDDEN"


def test_historical_record_is_archived_expiry_and_repair_rerate(
    api: str, unit_subjects: None, driver: AsyncDriver
) -> None:
    submitter = unit_token("submitter", UNIT, SUBMITTER)
    reviewer = unit_token("reviewer", UNIT, "reviewer-sun")
    partner = mint("partner")
    # General tier: at most 12 months from the decision, so a 2019 record is archived at once.
    old = ok(graphql(api, submitter, SUBMIT, r=_record(date(2019, 4, 1), 9, subject=F)))
    step = ok(graphql(api, reviewer, APPROVE, id=old["submitRecord"]["id"]))["approveRecord"]
    assert step["status"] == "EXPIRED"
    seen = ok(graphql(api, partner, RECORDS, c=F))["subject"]["records"]
    assert old["submitRecord"]["id"] not in {r["id"] for r in seen}

    # Serious, decided 2024-06-03: repairable from 2025-06-03, published until 2027-06-03.
    serious = _record(date(2024, 6, 3), 10, subject=F, tier="SERIOUS")
    record_id = ok(graphql(api, submitter, SUBMIT, r=serious))["submitRecord"]["id"]
    ok(graphql(api, reviewer, APPROVE, id=record_id))
    published = ok(
        graphql(api, unit_token("reviewer", UNIT, "reviewer-qian"), APPROVE, id=record_id)
    )
    assert published["approveRecord"]["status"] == "PUBLISHED"
    rated = ok(graphql(api, partner, RECORDS, c=F))["subject"]
    assert record_id in {r["id"] for r in rated["records"]}
    points = {c["code"]: c["points"] for c in rated["rating"]["explanation"]}
    assert points["DISHONEST_RECORDS"] < -10
    assert rated["rating"]["modelVersion"] == default_model().version

    assert code_of(graphql(api, submitter, REPAIR, id=record_id, why="已整改")) == "FORBIDDEN"
    repaired = ok(graphql(api, reviewer, REPAIR, id=record_id, why="已履行义务并作出信用承诺"))
    assert repaired["repairRecord"]["status"] == "REPAIRED"
    after = ok(graphql(api, partner, RECORDS, c=F))["subject"]
    assert record_id not in {r["id"] for r in after["records"]}
    points = {c["code"]: c["points"] for c in after["rating"]["explanation"]}
    assert points["DISHONEST_RECORDS"] == 0


async def test_expiry_ends_publication_and_rerates(
    api: str, unit_subjects: None, driver: AsyncDriver
) -> None:
    submitter = unit_token("submitter", UNIT, SUBMITTER)
    reviewer = unit_token("reviewer", UNIT, "reviewer-sun")
    record = _record(date.today() - timedelta(days=30), 11, subject=F, tier="MINOR")
    record_id = ok(graphql(api, submitter, SUBMIT, r=record))["submitRecord"]["id"]
    assert (
        ok(graphql(api, reviewer, APPROVE, id=record_id))["approveRecord"]["status"] == "PUBLISHED"
    )
    # Time passes: the minor tier's three months are over.
    await driver.execute_query(
        "MATCH (r:CreditRecord {id: $id}) SET r.publishUntil = $past",
        id=record_id,
        past=date.today() - timedelta(days=1),
    )
    due, _, _ = await driver.execute_query(
        "MATCH (:Subject)-[:HAS_RECORD]->(r:CreditRecord) "
        "WHERE r.status = 'PUBLISHED' AND r.publishUntil < date() RETURN count(DISTINCT r) AS n"
    )
    done = hub_command("archive", "expire")
    assert f"{due[0]['n']} record(s) and " in done.stderr
    records, _, _ = await driver.execute_query(
        "MATCH (r:CreditRecord {id: $id})<-[:HAS_RECORD]-(s)<-[:RATED]-(rt) "
        "RETURN r.status AS status, rt.inputs AS inputs",
        id=record_id,
    )
    assert records[0]["status"] == "EXPIRED"
    assert record["decidedOn"] not in records[0]["inputs"]  # the rating no longer reads it


@pytest.fixture(scope="module")
def worker(redis_server: str, neo4j_server: object) -> Iterator[None]:
    logs = TEST_DATA / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "hub", "worker"],
        cwd=PROJECT_ROOT,
        stdout=(logs / "archive-worker.log").open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    yield
    stop_process(proc.pid, timeout=20)
    proc.wait(timeout=5)


def _xlsx(path: Path) -> Path:
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["事项代码", "统一社会信用代码", "标题", "决定日期", "决定文书号", "法律依据"])
    sheet.append(["ADMIN_LICENCE", E, "测绘资质", date(2025, 3, 3), "阿许〔2025〕1号", "测绘法"])
    sheet.append(["COMMENDATION", F, "守信表彰", date(2024, 12, 2), "阿〔2024〕5号", None])
    sheet.append(["ADMIN_LICENCE", "NOT-A-CODE", "错误代码", date(2025, 3, 3), "阿许2号", "法"])
    book.save(path)
    return path


STATUS = """query($id: String!) { archiveImport(id: $id) {
  status read created unchanged rejected accepted rejections { line reason } } }"""


def test_uploaded_xlsx_is_imported_by_a_worker(
    api: str, unit_subjects: None, worker: None, tmp_path: Path
) -> None:
    submitter = unit_token("submitter", UNIT, SUBMITTER)
    path = _xlsx(tmp_path / "档案.xlsx")
    assert upload_archive(api, mint("partner"), path).status_code == 403
    answer = upload_archive(api, submitter, path)
    assert answer.status_code == 202, answer.text
    import_id = answer.json()["importId"]
    deadline = time.monotonic() + 60
    while True:
        found = ok(graphql(api, submitter, STATUS, id=import_id))["archiveImport"]
        if found["status"] in ("DONE", "FAILED"):
            break
        assert time.monotonic() < deadline, f"see {TEST_DATA / 'logs' / 'archive-worker.log'}"
        time.sleep(0.5)
    assert found == {
        "status": "DONE",
        "read": 3,
        "created": 2,
        "unchanged": 0,
        "rejected": 1,
        "accepted": 2,
        "rejections": [{"line": 4, "reason": "invalid-credit-code"}],
    }
    other_unit = unit_token("submitter", "NMG150102", "clerk-hohhot")
    assert ok(graphql(api, other_unit, STATUS, id=import_id))["archiveImport"] is None


def test_upload_limits(api: str, tmp_path: Path) -> None:
    port = free_port()
    proc = start_api(port, "api-small-archives", HUB_ARCHIVE_MAX_BYTES="2000")
    try:
        big = tmp_path / "big.csv"
        big.write_text("item,subject\n" + "ADMIN_LICENCE,X\n" * 500)
        token = unit_token("submitter", UNIT, SUBMITTER)
        refused = upload_archive(f"http://127.0.0.1:{port}", token, big)
        assert refused.status_code == 413
        assert refused.json()["errors"][0]["extensions"]["code"] == "LIMIT_EXCEEDED"
        not_multipart = httpx.post(
            f"{api}/archives",
            content=b"{}",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        assert not_multipart.status_code == 415
        assert httpx.post(f"{api}/archives", files={"file": ("a.csv", b"x")}).status_code == 401
    finally:
        stop_process(proc.pid)


async def test_rate_all_rates_every_subject_with_the_model(
    unit_subjects: None, driver: AsyncDriver
) -> None:
    query = "MATCH (s:Subject) WHERE s.status IS NOT NULL RETURN s.creditCode AS c"
    before = {r["c"] for r in (await driver.execute_query(query))[0]}
    started = datetime.now(UTC)
    done = hub_command("rate", "--all", "--batch", "500")
    records, _, _ = await driver.execute_query(
        "MATCH (rt:Rating)-[:RATED]->(s:Subject) WHERE rt.computedAt >= $started "
        "AND rt.modelVersion = $v AND rt.grade = s.grade RETURN s.creditCode AS c",
        v=default_model().version,
        started=started,
    )
    rated = {r["c"] for r in records}
    assert rated == before, (sorted(before - rated), sorted(rated - before))
    assert f"rated {len(rated)} subjects" in done.stderr
