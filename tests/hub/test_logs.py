"""Logs are JSON lines carrying the request id from the API into the worker that ran the
request's task (hub/logs.py, connectors/celery_app.py), and `hub up`'s log pipe rotates files
by size (hub/logpipe.py)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from hub.settings import PROJECT_ROOT
from tests.conftest import TEST_DATA, GraphQLClient, Workers, unit_token, upload_archive
from tests.subjects import fresh_subjects

UNIT = "NMG152201"
HEADER = "事项代码,统一社会信用代码,严重程度,标题,决定日期,决定文书号,法律依据\n"
STATUS = "query($id: String!) { archiveImport(id: $id) { status } }"


def _events(log: Path, event: str) -> list[dict[str, Any]]:
    found = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("{") and f'"{event}"' in line:
            entry = json.loads(line)
            if entry.get("event") == event:
                found.append(entry)
    return found


def test_an_uploads_request_id_is_in_the_api_log_and_the_workers(
    api: str, workers: Workers, tmp_path: Path
) -> None:
    ((code, _),) = fresh_subjects(1)
    path = tmp_path / "logged.csv"
    path.write_text(
        HEADER
        + f"ADMIN_LICENCE,{code},,采矿许可延续,2024-03-05,兴自然资许〔2024〕LG1号,矿产资源法\n",
        encoding="utf-8",
    )
    token = unit_token("submitter", UNIT, "log-clerk")
    queued = upload_archive(api, token, path)
    assert queued.status_code == 202, queued.text
    request_id, import_id = queued.headers["x-request-id"], queued.json()["importId"]
    reader, deadline = GraphQLClient(api, token), time.monotonic() + 60
    while reader.data(STATUS, {"id": import_id})["archiveImport"]["status"] != "DONE":  # type: ignore[index]
        assert time.monotonic() < deadline
        time.sleep(0.2)
    logs = TEST_DATA / "logs"
    api_side = [
        e for e in _events(logs / "api.log", "archive queued") if e["import_id"] == import_id
    ]
    assert [e["request_id"] for e in api_side] == [request_id]
    deadline = time.monotonic() + 10  # the worker writes its line as the task returns
    while not (
        worker_side := [
            e for e in _events(logs / "delivery-worker.log", "archive imported")
            if e["import_id"] == import_id
        ]
    ):  # fmt: skip
        assert time.monotonic() < deadline, "the worker logged no 'archive imported'"
        time.sleep(0.2)
    (done,) = worker_side
    assert done["request_id"] == request_id and done["task"] == "connectors.tasks.import_archive"
    assert done["created"] == 1 and done["level"] == "info" and done["timestamp"]


def test_the_log_pipe_keeps_a_few_files_of_bounded_size(tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    lines = "".join(json.dumps({"event": "tick", "n": n}) + "\n" for n in range(2000))
    assert len(lines.encode()) > 10 * 4000  # enough to roll over well past the backups
    subprocess.run(
        [sys.executable, "-m", "hub.logpipe", str(log), "--max-bytes", "4000", "--backups", "3"],
        input=lines.encode(), check=True, cwd=PROJECT_ROOT,
    )  # fmt: skip
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["worker.log", "worker.log.1", "worker.log.2", "worker.log.3"]
    assert all((tmp_path / f).stat().st_size <= 4000 for f in files)
    newest = (tmp_path / "worker.log").read_text().splitlines()
    assert json.loads(newest[-1]) == {"event": "tick", "n": 1999}  # nothing lost at the end
