"""Court documents from outside: a feed served on loopback and pulled with `hub feeds pull`
attaches its documents to their case by number and credit code and moves the case's duty on;
pulling it again adds nothing; bad rows are refused with their line and reason while the good
ones attach; rows no case claims wait in the queue with their reason, where the units whose
jurisdiction covers the subject (and the region) attach or discard them, and no one else sees
or touches them.

Cases are opened through the graph (graph/cases/model.py) and read back, like the queue,
through the API."""

from __future__ import annotations

import json
import os
import secrets
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from neo4j import AsyncDriver

from graph.cases.model import NewCase, NewDocument, add_document_in, open_case_in
from graph.db import Store
from graph.identifiers import uscc_check_char
from policies.cases import default_cases
from policies.credit.feeds import FEEDS_FILE
from tests.conftest import (
    TEST_DATA,
    GraphQLClient,
    free_port,
    hub_command,
    import_file,
    mint,
    unit_token,
)
from tests.connectors.test_pull import ListServer, _Handler
from tests.subjects import fresh_subjects

FEED = "COURT-DOCUMENTS"
UNIT = "NMG152201"
STRANGER = "NMG150102"  # a banner of another league
UNKNOWN = "91110000600037341L"  # a valid code the hub does not hold

QUEUE = """query($status: UnmatchedStatus) { unmatchedDocuments(status: $status, first: 100) {
  edges { node { id creditCode kind number refersTo reason status source case note decidedBy
  received } } pageInfo { hasNextPage } } }"""
ATTACH = """mutation($id: String!, $case: String!) {
  attachUnmatchedDocument(id: $id, caseId: $case) { id status case decidedBy } }"""
DISCARD = """mutation($id: String!, $why: String!) {
  discardUnmatchedDocument(id: $id, reason: $why) { id status note } }"""


@pytest.fixture
def court() -> Iterator[tuple[ListServer, Path]]:
    server = ListServer(("127.0.0.1", free_port()), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    text = FEEDS_FILE.read_text(encoding="utf-8").replace(
        "https://court.nmg.gov.cn/api/share/case-documents",
        f"http://127.0.0.1:{server.server_address[1]}/documents",
    )
    path = TEST_DATA / "feeds-court-documents.yaml"
    path.write_text(text, encoding="utf-8")
    yield server, path
    server.shutdown()
    server.server_close()


def _pull(feeds_file: Path) -> tuple[list[dict[str, Any]], str]:
    done = hub_command(
        "feeds", "pull", FEED, check=False, env={**os.environ, "HUB_FEEDS_FILE": str(feeds_file)}
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()], done.stderr


async def _open_case(store: Store, code: str, record: str | None, transfer: str) -> str:
    """A case of ``code`` transferred to the police under the number ``transfer``."""
    rules, now = default_cases(), datetime.now(UTC)
    records = (record,) if record else ()

    async def work(tx: Any) -> str:
        case = await open_case_in(
            tx, NewCase(code, UNIT, "非法采矿案", None, date(2026, 9, 1), records, "t"), "", now
        )
        for kind, number, on in (
            ("DECISION", f"{transfer}-决定", date(2026, 9, 1)),
            ("TRANSFER", transfer, date(2026, 9, 7)),
        ):
            document = NewDocument(kind, number, on, "锡林郭勒盟自然资源局", "", (), "UNIT", "t")
            await add_document_in(tx, case, document, "", rules, now)
        return case

    return await store.write(work)


CASE = (
    "query($id: String!) { case(id: $id) { duty { kind dueOn } documents { kind number source } } }"
)


def _case(api: str, case: str) -> dict[str, Any]:
    """The case as its unit's reviewer reads it through the API: its duty and its documents."""
    reviewer = GraphQLClient(api, unit_token("reviewer", UNIT, "cd-case-reader"))
    found: dict[str, Any] = reviewer.data(CASE, {"id": case})["case"]  # type: ignore[assignment]
    duty = found["duty"] or {}
    documents = sorted(found["documents"], key=lambda d: d["number"])
    return {
        "duty": duty.get("kind"),
        "due": duty.get("dueOn"),
        "documents": [[d["kind"], d["number"], d["source"]] for d in documents],
    }


async def _count(driver: AsyncDriver, label: str, number_part: str) -> int:
    records, _, _ = await driver.execute_query(
        f"MATCH (n:{label}) WHERE n.number CONTAINS $part RETURN count(n) AS n", part=number_part
    )
    return int(records[0]["n"])


def _row(code: str, kind: str, number: str, on: str, refers: str, **more: str) -> dict[str, str]:
    return {
        "tyshxydm": code, "wslx": kind, "wsh": number, "qfrq": on, "glwsh": refers,
        "qfjg": "锡林浩特市人民法院", "zy": "摘要", **more,
    }  # fmt: skip


def _error(body: dict[str, Any]) -> dict[str, Any]:
    return body["errors"][0]["extensions"]  # type: ignore[no-any-return]


async def test_a_pulled_judgment_attaches_to_its_case_and_the_rest_wait_or_are_refused(
    api: str, driver: AsyncDriver, store: Store, court: tuple[ListServer, Path]
) -> None:
    server, feeds_file = court
    (a, record_a), (b, _) = fresh_subjects(2)
    run = secrets.token_hex(3).upper()  # numbers of this run: the graph outlives a session
    transfer = f"锡自然资移〔2026〕{run}号"
    case = await _open_case(store, a, record_a, transfer)
    before = _case(api, case)
    due = default_cases().duties["TRANSFER"].deadline.due(date(2026, 9, 7))
    assert (before["duty"], before["due"]) == ("TRANSFER", due.isoformat())  # the police's turn

    filing, judgment = f"锡公立字〔2026〕{run}号", f"（2026）内2502刑初{run}号"
    stray, other = f"（2026）内2502刑初{run}-9号", f"（2026）内2502刑初{run}-8号"
    lost = f"（2026）内0102刑初{run}号"
    rows = [
        _row(a, "立案通知书", filing, "2026-09-09", transfer),  # by its Chinese name
        _row(a, "JUDGMENT", judgment, "2026-11-20", filing),  # refers to the row before
        _row(a, "RULING", stray, "2026-11-21", f"公（2026）{run}未知号"),  # no such case
        _row(b, "RULING", other, "2026-11-21", transfer),  # another subject's case
        _row(UNKNOWN, "ENFORCEMENT", lost, "2026-11-22", f"无此号{run}"),  # a subject not held
        _row("91152201MA0DL0000X", "RULING", f"坏码{run}", "2026-11-21", transfer),
        _row(a, "VERDICT", f"坏类{run}", "2026-11-21", transfer),
        _row(a, "DECISION", f"本厅{run}", "2026-11-21", transfer),
        _row(a, "RULING", f"坏日{run}", "2026年11月", transfer),
    ]
    server.body = json.dumps({"data": rows}, ensure_ascii=False).encode()
    rejected, said = _pull(feeds_file)
    assert [(r["line"], r["reason"]) for r in rejected] == [
        (6, "invalid-credit-code"),
        (7, "unknown-kind"),
        (8, "department-kind"),
        (9, "invalid-date"),
    ]
    assert "9 rows; 2 attached, 0 unchanged, 3 queued, 4 rejected" in said, said
    after = _case(api, case)
    held = {d[1]: (d[0], d[2]) for d in after["documents"]}
    assert held == {
        f"{transfer}-决定": ("DECISION", "UNIT"),
        transfer: ("TRANSFER", "UNIT"),
        filing: ("FILING_NOTICE", f"FEED:{FEED}"),
        judgment: ("JUDGMENT", f"FEED:{FEED}"),
    }
    assert after["duty"] is None and after["due"] is None  # the judgment ends the police's duty

    server.body = json.dumps(rows, ensure_ascii=False, indent=1).encode()  # same rows, new ETag
    _, again = _pull(feeds_file)
    assert "9 rows; 0 attached, 2 unchanged, 3 queued, 4 rejected" in again, again
    assert _case(api, case) == after
    assert await _count(driver, "UnmatchedDocument", run) == 3
    assert await _count(driver, "CaseDocument", run) == 4

    # The unit of the subjects' banner sees its two waiting rows, with their reasons.
    reviewer = GraphQLClient(api, unit_token("reviewer", UNIT, "cd-reviewer"))
    waiting = _mine(reviewer.data(QUEUE, {"status": "WAITING"}), run)
    assert {(n["number"], n["reason"]) for n in waiting} == {
        (stray, "no-case"),
        (other, "credit-code-mismatch"),
    }
    assert all(n["source"] == f"FEED:{FEED}" and n["status"] == "WAITING" for n in waiting)
    queued = {n["number"]: n for n in waiting}
    assert json.loads(queued[stray]["received"])["refersTo"] == f"公（2026）{run}未知号"
    region = GraphQLClient(api, unit_token("reviewer", "NMG150000", "cd-region"))
    assert {n["number"] for n in _mine(region.data(QUEUE), run)} == {stray, other, lost}

    # Another subject's row cannot go to this case; the refusal changes nothing.
    refused = reviewer.post(ATTACH, {"id": queued[other]["id"], "case": case}).json()
    assert _error(refused)["code"] == "BAD_USER_INPUT"
    assert _case(api, case)["documents"] == after["documents"]

    attached = reviewer.data(ATTACH, {"id": queued[stray]["id"], "case": case})
    assert attached["attachUnmatchedDocument"] == {
        "id": queued[stray]["id"], "status": "ATTACHED", "case": case, "decidedBy": "cd-reviewer",
    }  # fmt: skip
    held = {d[1]: (d[0], d[2]) for d in _case(api, case)["documents"]}
    assert held[stray] == ("RULING", f"FEED:{FEED}")
    again_refused = reviewer.post(ATTACH, {"id": queued[stray]["id"], "case": case}).json()
    assert _error(again_refused)["code"] == "BAD_USER_INPUT"  # decided once

    submitter = GraphQLClient(api, unit_token("submitter", UNIT, "cd-submitter"))
    discarded = submitter.data(DISCARD, {"id": queued[other]["id"], "why": "非本厅案件"})
    assert discarded["discardUnmatchedDocument"] == {
        "id": queued[other]["id"], "status": "DISCARDED", "note": "非本厅案件",
    }  # fmt: skip
    settled = _mine(reviewer.data(QUEUE, {"status": None}), run)
    assert {(n["number"], n["status"], n["case"], n["note"]) for n in settled} == {
        (stray, "ATTACHED", case, None),
        (other, "DISCARDED", None, "非本厅案件"),
    }
    assert _mine(reviewer.data(QUEUE, {"status": "WAITING"}), run) == []

    # A third pull leaves the person's decisions as they were.
    _, third = _pull_changed(server, rows, feeds_file)
    assert "0 attached, 4 unchanged, 1 queued" in third, third


def _pull_changed(
    server: ListServer, rows: list[dict[str, str]], feeds_file: Path
) -> tuple[list[dict[str, Any]], str]:
    server.body = json.dumps(rows, ensure_ascii=False, indent=2).encode()
    return _pull(feeds_file)


def _mine(data: dict[str, Any], run: str) -> list[dict[str, Any]]:
    return [e["node"] for e in data["unmatchedDocuments"]["edges"] if run in e["node"]["number"]]


async def test_a_unit_of_another_division_neither_sees_nor_settles_a_queued_document(
    api: str, driver: AsyncDriver, store: Store, court: tuple[ListServer, Path]
) -> None:
    server, feeds_file = court
    ((a, record_a),) = fresh_subjects(1)
    run = secrets.token_hex(3).upper()
    case = await _open_case(store, a, record_a, f"锡自然资移〔2026〕{run}号")
    number = f"（2026）内2502刑初{run}号"
    rows = [_row(a, "JUDGMENT", number, "2026-11-20", f"公（2026）{run}未知号")]
    server.body = json.dumps(rows, ensure_ascii=False).encode()
    _, said = _pull(feeds_file)
    assert "1 queued" in said, said
    own = GraphQLClient(api, unit_token("reviewer", UNIT, "cd-own"))
    (row,) = _mine(own.data(QUEUE), run)

    stranger = GraphQLClient(api, unit_token("reviewer", STRANGER, "cd-stranger"))
    assert _mine(stranger.data(QUEUE, {"status": None}), run) == []
    for query, variables in (
        (ATTACH, {"id": row["id"], "case": case}),
        (DISCARD, {"id": row["id"], "why": "越权丢弃"}),
    ):
        body = stranger.post(query, variables).json()
        assert _error(body)["code"] == "NOT_FOUND", body
        assert number not in json.dumps(body, ensure_ascii=False)
        unknown = stranger.post(query, {**variables, "id": "UD-20260101-0000000000"}).json()
        assert body["errors"][0]["message"] == unknown["errors"][0]["message"]
    # The owning unit cannot attach it to a case outside its own jurisdiction either.
    elsewhere = await _open_case_elsewhere(store, run)
    body = own.post(ATTACH, {"id": row["id"], "case": elsewhere}).json()
    assert _error(body)["code"] == "NOT_FOUND", body
    for token in (mint("partner"), mint("investigator"), None):
        for query in (QUEUE, ATTACH, DISCARD):
            variables = {"id": row["id"], "case": case, "why": "越权", "status": None}
            used = {k: v for k, v in variables.items() if f"${k}" in query}
            refused = GraphQLClient(api, token).post(query, used).json()
            assert _error(refused)["code"] == "FORBIDDEN", refused
            assert number not in json.dumps(refused, ensure_ascii=False)
    (still,) = _mine(own.data(QUEUE), run)
    assert still["status"] == "WAITING" and still["decidedBy"] is None
    documents = [d[1] for d in _case(api, case)["documents"]]
    assert number not in documents


async def _open_case_elsewhere(store: Store, run: str) -> str:
    """A case of a subject of a Hohhot district, outside the banner's jurisdiction."""
    first17 = f"91150102MA0C{int(run, 16) % 100000:05d}"
    code = first17 + uscc_check_char(first17)
    subject = {
        "kind": "Subject", "creditCode": code, "name": f"呼市测试{run}有限公司",
        "subjectKind": "COMPANY", "division": "150102", "status": "ACTIVE",
    }  # fmt: skip
    path = TEST_DATA / f"court-documents-{run}.jsonl"
    path.write_text(json.dumps(subject, ensure_ascii=False), "utf-8")
    import_file(path)
    return await _open_case(store, code, None, f"呼自然资移〔2026〕{run}号")


def _file(api: str, token: str | None, body: str, media: str) -> httpx.Response:
    headers = {"Content-Type": media} | ({"Authorization": f"Bearer {token}"} if token else {})
    return httpx.post(f"{api}/court-documents", content=body.encode(), headers=headers, timeout=30)


async def test_a_unit_files_court_documents_and_every_row_is_reported(
    api: str, driver: AsyncDriver, store: Store
) -> None:
    ((a, record_a),) = fresh_subjects(1)
    run = secrets.token_hex(3).upper()
    transfer = f"锡自然资移〔2026〕{run}号"
    case = await _open_case(store, a, record_a, transfer)
    elsewhere = await _open_case_elsewhere(store, run)
    (outside,) = await store.execute(
        "MATCH (c:Case {id: $id}) RETURN c.creditCode AS code", id=elsewhere, read=True
    )
    filing = f"锡公立字〔2026〕{run}号"
    lines = [
        {"creditCode": a, "kind": "FILING_NOTICE", "number": filing, "issuedOn": "2026-09-09",
         "authority": "锡林浩特市公安局", "refersTo": transfer},
        {"creditCode": a, "kind": "PROGRESS", "number": f"进展{run}", "issuedOn": "2026-10-09",
         "refersTo": f"无此号{run}"},
        {"creditCode": outside["code"], "kind": "JUDGMENT", "number": f"外{run}",
         "issuedOn": "2026-10-09", "refersTo": f"呼自然资移〔2026〕{run}号"},
        {"creditCode": a, "kind": "TRANSFER", "number": f"本厅{run}", "issuedOn": "2026-10-09",
         "refersTo": transfer},
    ]  # fmt: skip
    body = "\n".join(json.dumps(x, ensure_ascii=False) for x in lines[:2])
    body += "\n\n{not json\n" + "\n".join(json.dumps(x, ensure_ascii=False) for x in lines[2:])
    submitter = unit_token("submitter", UNIT, "cd-filer")

    for token in (mint("partner"), None):  # refused before a row is read
        refused = _file(api, token, body, "application/x-ndjson")
        assert refused.status_code in (401, 403), refused.text
    assert await _count(driver, "CaseDocument", run) == 4  # the two cases' own documents
    assert _file(api, submitter, body, "text/plain").status_code == 415

    answer = _file(api, submitter, body, "application/x-ndjson")
    assert answer.status_code == 200, answer.text
    report = answer.json()
    source = f"IMPORT:{report['importId']}"
    assert (report["rows"], report["attached"], report["queued"], report["rejected"]) == (
        5,
        1,
        1,
        3,
    )
    assert [(o["line"], o["outcome"], o["reason"]) for o in report["outcomes"]] == [
        (1, "attached", None),
        (2, "queued", "no-case"),
        (4, "rejected", "bad-json"),
        (5, "rejected", "unknown-subject"),  # a subject outside the unit's jurisdiction
        (6, "rejected", "department-kind"),
    ]
    assert report["outcomes"][0]["case"] == case
    held = {d[1]: (d[0], d[2]) for d in _case(api, case)["documents"]}
    assert held[filing] == ("FILING_NOTICE", source)
    assert _case(api, case)["duty"] == "FILING_NOTICE"  # now the police report
    # The case in another division, which this unit may not read: checked in the graph.
    numbers, _, _ = await driver.execute_query(
        "MATCH (d:CaseDocument {case: $id}) RETURN collect(d.number) AS numbers", id=elsewhere
    )
    assert f"外{run}" not in numbers[0]["numbers"]
    reviewer = GraphQLClient(api, unit_token("reviewer", UNIT, "cd-filer-reviewer"))
    (waiting,) = _mine(reviewer.data(QUEUE), run)
    assert (waiting["number"], waiting["source"]) == (f"进展{run}", source)

    csv_body = (
        "creditCode,kind,number,issuedOn,refersTo\n" + f"{a},判决书,判{run},2026-11-20,{filing}\n"
    )
    again = _file(api, submitter, csv_body, "text/csv").json()
    assert [(o["line"], o["outcome"]) for o in again["outcomes"]] == [(2, "attached")]
    assert _case(api, case)["duty"] is None
