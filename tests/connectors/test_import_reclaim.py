"""An archive import whose whole worker is killed (SIGKILL to its process group, the main
process too) is taken up again within a minute by another worker, not after the broker's hour
(connectors/reclaim.py), and finishes with every row."""

from __future__ import annotations

import csv
import os
import signal
import time
from pathlib import Path
from typing import Any

from tests.conftest import (
    TEST_DATA,
    GraphQLClient,
    Workers,
    unit_token,
    upload_archive,
)
from tests.subjects import fresh_subjects

UNIT = "NMG152201"
ROWS = 20_000
HEADER = ["事项代码", "统一社会信用代码", "严重程度", "标题", "决定日期", "决定文书号", "法律依据"]
STATUS = """query($id: String!) { archiveImport(id: $id) {
  status read created updated unchanged rejected } }"""


def _archive(code: str) -> Path:
    path = TEST_DATA / "reclaim.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        rows = csv.writer(out)
        rows.writerow(HEADER)
        for n in range(ROWS):
            rows.writerow(["ADMIN_LICENCE", code, "", "采矿许可延续", "2024-03-05",
                           f"兴自然资许〔2024〕RC{n:05d}号", "矿产资源法"])  # fmt: skip
    return path


def _status(reader: GraphQLClient, import_id: str) -> dict[str, Any]:
    return reader.data(STATUS, {"id": import_id})["archiveImport"]  # type: ignore[return-value]


def test_an_import_whose_whole_worker_is_killed_is_taken_up_within_a_minute(
    api: str, workers: Workers
) -> None:
    ((code, _),) = fresh_subjects(1)
    token = unit_token("submitter", UNIT, "reclaim-clerk")
    reader = GraphQLClient(api, token)
    queued = upload_archive(api, token, _archive(code))
    assert queued.status_code == 202, queued.text
    import_id = queued.json()["importId"]
    deadline = time.monotonic() + 120
    while (seen := _status(reader, import_id))["read"] == 0:  # written in part
        assert time.monotonic() < deadline and seen["status"] != "DONE", seen
        time.sleep(0.2)
    os.killpg(workers.worker.pid, signal.SIGKILL)  # the main process and its pool alike
    workers.worker.wait(timeout=10)
    killed = time.monotonic()
    at_kill = _status(reader, import_id)
    assert at_kill["status"] == "RUNNING" and 0 < at_kill["read"] < ROWS, at_kill
    workers.restart_worker()
    taken = None
    while (now := _status(reader, import_id))["status"] != "DONE":
        if taken is None and now["read"] < at_kill["read"]:  # a new run started over
            taken = time.monotonic() - killed
        assert time.monotonic() - killed < 180, now
        time.sleep(0.5)
    taken = taken if taken is not None else time.monotonic() - killed
    assert taken < 45, f"taken up again after {taken:.0f} s"
    assert now["read"] == ROWS and now["rejected"] == 0
    assert now["created"] + now["updated"] + now["unchanged"] == ROWS
