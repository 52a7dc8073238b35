"""An archive import whose whole worker is killed (SIGKILL to its process group, the main
process too) is taken up again within a minute by another worker, not after the broker's hour
(connectors/reclaim.py), and finishes with the report an uninterrupted import of the same file
gives: rows its first run wrote count as created or updated, not unchanged."""

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
ROWS = 10_000
STORED = 40  # lines whose natural key is stored before the import: half the same, half not
HEADER = ["事项代码", "统一社会信用代码", "严重程度", "标题", "决定日期", "决定文书号", "法律依据"]
REPORT = """query($id: String!) { archiveImport(id: $id) {
  status read created updated unchanged rejected
  rejections(afterLine: 0, first: 100) { line reason message } } }"""


def _row(codes: list[str], n: int, title: str = "采矿许可延续") -> list[str]:
    """Line ``n`` of the file: a licence of one of ``codes``, each with its own document."""
    return [
        "ADMIN_LICENCE",
        codes[n % len(codes)],
        "",
        title,
        "2024-03-05",
        f"兴自然资许〔2024〕RC{n:05d}号",
        "矿产资源法",
    ]


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def _archive(name: str, codes: list[str]) -> Path:
    """The file under test: licences, with a line repeating an earlier one every 1,000 and an
    impossible date every 5,000 (each rejected), for the subjects ``codes``."""
    rows = []
    for n in range(ROWS):
        if n % 1000 == 999:
            rows.append(_row(codes, n - 500))  # the same natural key as 500 lines before
        elif n % 5000 == 4998:
            rows.append([*_row(codes, n)[:4], "2024-02-30", *_row(codes, n)[5:]])
        else:
            rows.append(_row(codes, n))
    return _write(TEST_DATA / name, rows)


def _stored(codes: list[str]) -> list[list[str]]:
    """Records stored before the import under the natural keys of ``STORED`` of its lines,
    spread through the file (so the killed run writes some): half with the content the file
    gives them (unchanged), half with another title (updated)."""
    step = ROWS // STORED
    return [
        _row(codes, n, "采矿许可延续" if k % 2 else "采矿许可首次登记")
        for k, n in enumerate(range(2, ROWS, step))
    ]


def _report(reader: GraphQLClient, import_id: str) -> dict[str, Any]:
    return reader.data(REPORT, {"id": import_id})["archiveImport"]  # type: ignore[return-value]


def _upload(api: str, token: str, path: Path) -> str:
    queued = upload_archive(api, token, path)
    assert queued.status_code == 202, queued.text
    return str(queued.json()["importId"])


def _done(reader: GraphQLClient, import_id: str, wait: float) -> dict[str, Any]:
    deadline = time.monotonic() + wait
    while (report := _report(reader, import_id))["status"] != "DONE":
        assert time.monotonic() < deadline, report
        time.sleep(0.3)
    return report


def test_an_import_whose_whole_worker_is_killed_is_taken_up_and_reports_as_if_never_killed(
    api: str, workers: Workers
) -> None:
    killed_codes = [code for code, _ in fresh_subjects(4)]
    whole_codes = [code for code, _ in fresh_subjects(4)]
    token = unit_token("submitter", UNIT, "reclaim-clerk")
    reader = GraphQLClient(api, token)
    before = _write(TEST_DATA / "reclaim-stored.csv", _stored(killed_codes) + _stored(whole_codes))
    assert _done(reader, _upload(api, token, before), 60)["created"] == 2 * STORED

    import_id = _upload(api, token, _archive("reclaim-killed.csv", killed_codes))
    deadline = time.monotonic() + 120
    while (seen := _report(reader, import_id))["created"] == 0:  # some rows written
        assert time.monotonic() < deadline and seen["status"] != "DONE", seen
        time.sleep(0.1)
    os.killpg(workers.worker.pid, signal.SIGKILL)  # the main process and its pool alike
    workers.worker.wait(timeout=10)
    killed = time.monotonic()
    at_kill = _report(reader, import_id)
    assert at_kill["status"] == "RUNNING" and 0 < at_kill["read"] < ROWS, at_kill
    workers.restart_worker()
    # The same file for other subjects, imported whole by the new worker while the killed
    # import waits to be reclaimed.
    whole_id = _upload(api, token, _archive("reclaim-whole.csv", whole_codes))
    taken = None
    while (now := _report(reader, import_id))["status"] != "DONE":
        if taken is None and now["read"] < at_kill["read"]:  # a new run started over
            taken = time.monotonic() - killed
        assert time.monotonic() - killed < 180, now
        time.sleep(0.5)
    taken = taken if taken is not None else time.monotonic() - killed
    assert taken < 45, f"taken up again after {taken:.0f} s"

    whole = _done(reader, whole_id, 120)
    assert whole["read"] == ROWS and whole["unchanged"] == whole["updated"] == STORED // 2, whole
    assert whole["rejected"] == ROWS // 1000 + ROWS // 5000, whole
    assert now == whole  # the same counts and the same rejections, line by line
