"""Files on S3 end to end (issue 18): two API processes and a worker that share nothing but an
S3-compatible bucket (moto, tests/s3.py), Neo4j and Redis. An archive uploaded to one API is
imported by the worker from the bucket; a case document uploaded to one API is handed back by
the other; nothing lands on the local disk; and the bucket falling over answers like any other
outage, then the hub takes files again without a restart."""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from neo4j import GraphDatabase

from connectors.storage.s3 import s3_storage
from connectors.tasks import import_archive
from graph.archive.imports import new_import_id, queue_import
from graph.db import Store
from hub.cli import services
from hub.settings import PROJECT_ROOT, get_settings
from policies.credit.measures import Catalogue
from tests.conftest import (
    TEST_DATA,
    GraphQLClient,
    Neo4jServer,
    free_port,
    start_api,
    unit_token,
    upload_archive,
)
from tests.s3 import BUCKET, MotoServer
from tests.subjects import fresh_subjects

UNIT = "NMG152201"
HEADER = "事项代码,统一社会信用代码,严重程度,标题,决定日期,决定文书号,法律依据\n"
STATUS = "query($id: String!) { archiveImport(id: $id) { status read created error } }"
OPEN = "mutation($i: CaseInput!) { openCase(input: $i) { id } }"
PDF = b"%PDF-1.4\n% a case document kept in S3\n"


@pytest.fixture(scope="module")
def s3_apis(
    neo4j_server: Neo4jServer, redis_server: str, migrated: None, s3_server: MotoServer
) -> Iterator[tuple[str, str]]:
    """Two API processes storing in the bucket, started side by side."""
    ports = (free_port(), free_port())
    with ThreadPoolExecutor(2) as pool:
        procs = list(pool.map(lambda p: start_api(p, f"api-s3-{p}", **s3_server.env()), ports))
    yield f"http://127.0.0.1:{ports[0]}", f"http://127.0.0.1:{ports[1]}"
    services.stop_processes([proc.pid for proc in procs], timeout=15)


@pytest.fixture
def s3_worker(
    s3_server: MotoServer, rules: tuple[Path, Catalogue], shared_worker_stopped: None
) -> Iterator[subprocess.Popen[bytes]]:
    """A worker reading archives from the bucket; the suite's own (filesystem) worker, if it
    runs, is stopped meanwhile so that it cannot take this test's import."""
    log = (TEST_DATA / "logs" / "worker-s3.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "hub", "worker", "--concurrency", "1"],
        cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, **s3_server.env(), "HUB_MEASURES_FILE": str(rules[0])},
    )  # fmt: skip
    yield proc
    services.stop_processes([proc.pid], timeout=20)
    proc.wait(timeout=5)
    log.close()


def _in_bucket(server: MotoServer, prefix: str) -> list[str]:
    storage = s3_storage(server.config(TEST_DATA))
    listed = storage.client.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return [o["Key"] for o in listed.get("Contents", [])]


def _on_disk(name: str) -> list[Path]:
    """Files under the suite's data directory named ``name`` (the filesystem storage's place)."""
    return [p for folder in ("archives", "evidence") for p in (TEST_DATA / folder).rglob(name)]


async def test_an_archive_uploaded_to_one_api_is_imported_from_the_bucket(
    s3_apis: tuple[str, str],
    s3_server: MotoServer,
    s3_worker: subprocess.Popen[bytes],
    store: Store,
    tmp_path: Path,
) -> None:
    first, second = s3_apis
    ((code, _),) = fresh_subjects(1)
    path = _archive(tmp_path / "s3-archive.csv", code, ["S31", "S32", "S33"])
    token = unit_token("submitter", UNIT, "s3-clerk")
    queued = upload_archive(first, token, path)
    assert queued.status_code == 202, queued.text
    import_id = queued.json()["importId"]
    reader, deadline = GraphQLClient(second, token), time.monotonic() + 90
    while (seen := reader.data(STATUS, {"id": import_id})["archiveImport"])["status"] != "DONE":  # type: ignore[index]
        assert seen["status"] in ("QUEUED", "RUNNING"), seen
        assert time.monotonic() < deadline, seen
        await asyncio.sleep(0.3)
    assert (seen["read"], seen["created"]) == (3, 3), seen
    assert _in_bucket(s3_server, f"archives/{import_id}") == []  # imported, then removed
    assert _on_disk(f"{import_id}*") == []  # never on the API's or the worker's disk

    # A task whose file is not in the bucket (a worker that does not share the API's storage),
    # or that carries a path (queued by a hub before storage keys), fails with its reason.
    for sent, reason in (
        (f"archives/{new_import_id()}.csv", "not in storage"),
        (str(path), "older hub"),
    ):
        lost = new_import_id()
        await queue_import(store, import_id=lost, agency=UNIT, by="s3-clerk",
                           file_name=path.name, fmt="csv")  # fmt: skip
        import_archive.delay(lost, sent, UNIT, "s3-clerk", path.name, "csv")
        while (seen := reader.data(STATUS, {"id": lost})["archiveImport"])["status"] != "FAILED":  # type: ignore[index]
            assert seen["status"] == "QUEUED" and time.monotonic() < deadline, seen
            await asyncio.sleep(0.3)
        assert reason in seen["error"], seen


def test_a_case_document_stored_through_one_api_is_handed_back_by_another(
    s3_apis: tuple[str, str], s3_server: MotoServer
) -> None:
    first, second = s3_apis
    clerk = unit_token("submitter", UNIT, "s3-case-clerk")
    case, _, opened_on = _opened_case(first, clerk)
    content = PDF + secrets.token_bytes(64)  # a file no other test sends
    uploaded = _upload(first, case, clerk, content, opened_on + timedelta(days=1))
    assert uploaded.status_code == 201, uploaded.text
    sha = hashlib.sha256(content).hexdigest()
    assert f"evidence/{sha[:2]}/{sha}" in _in_bucket(s3_server, "evidence/")
    assert _on_disk(sha) == []
    got = httpx.get(
        f"{second}/cases/{case}/documents/{uploaded.json()['id']}/file",
        headers={"Authorization": f"Bearer {clerk}"},
        timeout=15,
    )
    assert got.status_code == 200 and got.content == content, got.text
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"].startswith("attachment; filename*=utf-8''")


def test_the_bucket_down_answers_unavailable_and_files_are_taken_once_it_is_back(
    s3_apis: tuple[str, str], s3_server: MotoServer, tmp_path: Path
) -> None:
    first, _ = s3_apis
    clerk = unit_token("submitter", UNIT, "s3-outage-clerk")
    case, code, opened_on = _opened_case(first, clerk)
    path = _archive(tmp_path / "while-down.csv", code, ["DN1"])
    s3_server.kill()
    try:
        answers = [
            upload_archive(first, clerk, path),
            _upload(first, case, clerk, PDF + secrets.token_bytes(64), opened_on),
        ]
        for answer in answers:
            assert answer.status_code == 503, answer.text
            assert answer.headers["retry-after"] == "5"
            assert _error(answer.json())["code"] == "UNAVAILABLE"
    finally:
        s3_server.start()
    assert _imports_named(path.name) == 0  # refused before anything was queued
    content = PDF + secrets.token_bytes(64)
    again = _upload(first, case, clerk, content, opened_on)  # the same API, not restarted
    assert again.status_code == 201, again.text
    sha = hashlib.sha256(content).hexdigest()
    assert f"evidence/{sha[:2]}/{sha}" in _in_bucket(s3_server, "evidence/")


def _imports_named(name: str) -> int:
    with GraphDatabase.driver(get_settings().neo4j_uri) as driver:
        records, _, _ = driver.execute_query(
            "MATCH (i:ArchiveImport {fileName: $name}) RETURN count(i) AS n", name=name
        )
    return int(records[0]["n"])


def _opened_case(api: str, clerk: str) -> tuple[str, str, date]:
    """A case opened 20 days ago on a new subject's record: (case id, credit code, opened on)."""
    ((code, record),) = fresh_subjects(1)
    opened_on = date.today() - timedelta(days=20)
    case = {"creditCode": code, "title": "非法采矿涉嫌犯罪移送案", "records": [record],
            "matter": "ADMIN_PENALTY", "openedOn": opened_on.isoformat()}  # fmt: skip
    opened: Any = GraphQLClient(api, clerk).data(OPEN, {"i": case})
    return opened["openCase"]["id"], code, opened_on


def _archive(path: Path, code: str, numbers: list[str]) -> Path:
    """A CSV archive of one licence row per document number, for the subject ``code``."""
    rows = [
        f"ADMIN_LICENCE,{code},,采矿许可延续,2024-03-05,兴自然资许〔2024〕{n}号,矿产资源法\n"
        for n in numbers
    ]
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return path


def _upload(api: str, case: str, token: str, content: bytes, issued: date) -> httpx.Response:
    data = {"kind": "TRANSFER", "number": f"乌自然资移〔2026〕{secrets.randbelow(10**6)}号",
            "issuedOn": issued.isoformat(), "authority": "乌兰浩特市自然资源局",
            "summary": "依法移送"}  # fmt: skip
    return httpx.post(
        f"{api}/cases/{case}/documents",
        data=data,
        files=[("file", ("移送函.pdf", content, "application/pdf"))],
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )


def _error(body: dict[str, Any]) -> dict[str, Any]:
    assert body.get("errors"), body
    return body["errors"][0]["extensions"]  # type: ignore[no-any-return]
