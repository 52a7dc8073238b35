"""An upload whose import task runs while Neo4j is away (found by `make soak`: the task failed
on its first read, nothing retried it and the import stayed QUEUED for good) is imported once
Neo4j is back, with every row."""

from __future__ import annotations

import csv
import os
import signal
import time
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import (
    TEST_DATA,
    GraphQLClient,
    Neo4jServer,
    Workers,
    unit_token,
    upload_archive,
)
from tests.subjects import fresh_subjects

UNIT = "NMG152201"
ROWS = 30
HEADER = ["事项代码", "统一社会信用代码", "严重程度", "标题", "决定日期", "决定文书号", "法律依据"]
STATUS = """query($id: String!) { archiveImport(id: $id) {
  status read created updated unchanged rejected } }"""


def _archive(code: str) -> Path:
    """Licence renewals of the subject ``code``, each with its own document number."""
    path = TEST_DATA / "outage.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        rows = csv.writer(out)
        rows.writerow(HEADER)
        for n in range(ROWS):
            rows.writerow(["ADMIN_LICENCE", code, "", "采矿许可延续", "2024-03-05",
                           f"兴自然资许〔2024〕OU{n:05d}号", "矿产资源法"])  # fmt: skip
    return path


def _status(reader: GraphQLClient, import_id: str) -> dict[str, Any] | None:
    try:
        response = reader.post(STATUS, {"id": import_id})
    except httpx.TimeoutException:
        return None  # the API itself is still reconnecting to Neo4j
    if response.status_code != 200 or response.json().get("errors"):
        return None
    return response.json()["data"]["archiveImport"]  # type: ignore[no-any-return]


def test_an_import_that_meets_neo4j_away_runs_once_it_is_back(
    api: str, workers: Workers, neo4j_server: Neo4jServer
) -> None:
    ((code, _),) = fresh_subjects(1)
    token = unit_token("submitter", UNIT, "outage-clerk")
    reader = GraphQLClient(api, token)
    os.killpg(workers.worker.pid, signal.SIGSTOP)  # the task waits in the broker meanwhile
    try:
        queued = upload_archive(api, token, _archive(code))
        assert queued.status_code == 202, queued.text
        import_id = queued.json()["importId"]
        neo4j_server.stop()
    finally:
        os.killpg(workers.worker.pid, signal.SIGCONT)
    try:
        time.sleep(8)  # the worker takes the task and meets Neo4j away
    finally:
        neo4j_server.start()
    deadline = time.monotonic() + 120
    while (seen := _status(reader, import_id)) is None or seen["status"] != "DONE":
        assert time.monotonic() < deadline, seen
        time.sleep(1)
    assert seen["read"] == ROWS and seen["rejected"] == 0, seen
    assert seen["created"] + seen["updated"] + seen["unchanged"] == ROWS, seen
