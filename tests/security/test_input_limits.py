"""Issue 11, part 4: input cannot exhaust the service.

Every attack is sent as an outsider would, over a real socket to a real API process (and the
archive ones to a real Celery worker), and each test checks both the refusal and that nothing
was stored or grew: no import, no file, no memory peak, the servers still answering.
"""

from __future__ import annotations

import asyncio
import io
import json
import select
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from neo4j import AsyncDriver
from openpyxl import Workbook

from connectors.storage.config import open_storage
from graph.archive.imports import find_import, new_import_id
from graph.db import Store
from hub.cli.services import stop_process
from hub.http.rest.uploads import archive_key
from hub.settings import PROJECT_ROOT, get_settings
from tests.conftest import (
    TEST_DATA,
    free_port,
    hub_command,
    mint,
    start_api,
    unit_token,
    upload_archive,
)

UNIT = "NMG152201"
HEADER_TIMEOUT = 2.0  # seconds, the dedicated API's settings below
BODY_TIMEOUT = 2.0
MB = 1024 * 1024


@pytest.fixture(scope="module")
def server(api: str) -> Iterator[tuple[int, int]]:
    """(port, pid) of an API with short slow-client timeouts, so the tests wait seconds."""
    port = free_port()
    proc = start_api(
        port,
        "api-input-limits",
        HUB_HEADER_TIMEOUT=str(HEADER_TIMEOUT),
        HUB_BODY_TIMEOUT=str(BODY_TIMEOUT),
    )
    yield port, proc.pid
    proc.terminate()
    proc.wait(timeout=15)


@pytest.fixture(scope="module")
def worker(api: str) -> Iterator[int]:
    logs = TEST_DATA / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "hub", "worker", "--concurrency", "1"],
        cwd=PROJECT_ROOT,
        stdout=(logs / "input-limits-worker.log").open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    yield proc.pid
    stop_process(proc.pid, timeout=20)
    proc.wait(timeout=5)


def _healthy(port: int) -> bool:
    return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200


def _peak_kb(pid: int) -> int:
    """The highest peak resident memory (VmHWM) of a process and its descendants."""
    peak = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            peak = int(line.split()[1])
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            peak = max(peak, _peak_kb(int(child)))
    return peak


# --- workbooks ---------------------------------------------------------------------------


def _workbook() -> dict[str, bytes]:
    """The parts of a small valid workbook, by name."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["事项代码", "统一社会信用代码", "标题", "决定日期", "决定文书号"])
    sheet.append(["ADMIN_LICENCE", "NOT-A-CODE", "测试", date(2025, 3, 3), "许1号"])
    buffer = io.BytesIO()
    book.save(buffer)
    with zipfile.ZipFile(buffer) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _bomb(path: Path, inflated: int) -> Path:
    """A real workbook whose worksheet inflates to ``inflated`` bytes of well-formed XML
    (blank space inside sheetData) from a file of a few hundred KB."""
    parts = _workbook()
    sheet = "xl/worksheets/sheet1.xml"
    assert sheet in parts, sorted(parts)
    blank = b" " * MB
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in parts.items():
            if name != sheet:
                archive.writestr(name, data)
        with archive.open(sheet, "w", force_zip64=True) as out:
            out.write(
                b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas'
                b'.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            )
            for _ in range(inflated // MB):
                out.write(blank)
            out.write(b"</sheetData></worksheet>")
    return path


def _crowded(path: Path, entries: int) -> Path:
    """A real workbook padded with ``entries`` tiny extra zip entries."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in _workbook().items():
            archive.writestr(name, data)
        for index in range(entries):
            archive.writestr(f"xl/media/pad{index}.bin", b"")
    return path


def _stored() -> set[str]:
    folder = get_settings().data_dir / "archives"  # where the filesystem storage keeps them
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


async def _imports_named(driver: AsyncDriver, name: str) -> int:
    records, _, _ = await driver.execute_query(
        "MATCH (i:ArchiveImport {fileName: $name}) RETURN count(i) AS n", name=name
    )
    return int(records[0]["n"])


async def _records(driver: AsyncDriver) -> int:
    records, _, _ = await driver.execute_query("MATCH (r:CreditRecord) RETURN count(r) AS n")
    return int(records[0]["n"])


async def _finished(store: Store, import_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 90
    while True:
        found = await find_import(store, import_id)
        if found is not None and found["status"] in ("DONE", "FAILED"):
            return found
        assert time.monotonic() < deadline, f"see {TEST_DATA / 'logs' / 'input-limits-worker.log'}"
        await asyncio.sleep(0.5)


async def test_an_honest_workbook_is_still_imported(
    server: tuple[int, int], worker: int, store: Store, tmp_path: Path
) -> None:
    """The limits let a real workbook through, and warm the worker up for the peaks below."""
    path = tmp_path / "honest.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in _workbook().items():
            archive.writestr(name, data)
    answer = upload_archive(
        f"http://127.0.0.1:{server[0]}", unit_token("submitter", UNIT, "clerk-limits"), path
    )
    assert answer.status_code == 202, answer.text
    found = await _finished(store, answer.json()["importId"])
    assert (found["status"], found["read"], found["rejected"]) == ("DONE", 1, 1), found
    assert not any(name.startswith(found["id"]) for name in _stored())


@pytest.mark.parametrize(
    ("build", "reason"),
    [
        (lambda p: _bomb(p, 300 * MB), "too-large-uncompressed"),
        (lambda p: _crowded(p, 10_001), "too-many-entries"),
    ],
    ids=["inflates-to-300MB", "10001-entries"],
)
async def test_a_zip_bomb_upload_is_refused_and_nothing_is_kept(
    build: Any,
    reason: str,
    server: tuple[int, int],
    worker: int,
    driver: AsyncDriver,
    tmp_path: Path,
) -> None:
    path = build(tmp_path / f"bomb-{reason}.xlsx")
    assert path.stat().st_size < 4 * MB  # small on the wire: the danger is what it unpacks to
    stored, records = _stored(), await _records(driver)
    peak = _peak_kb(server[1])
    answer = upload_archive(
        f"http://127.0.0.1:{server[0]}", unit_token("submitter", UNIT, "clerk-limits"), path
    )
    assert answer.status_code == 413, answer.text
    error = answer.json()["errors"][0]
    assert error["extensions"] == {"code": "LIMIT_EXCEEDED", "reason": reason}, error
    assert path.name in error["message"]
    assert _stored() == stored  # the file never reached storage
    assert await _imports_named(driver, path.name) == 0  # nothing queued
    assert await _records(driver) == records
    assert _peak_kb(server[1]) - peak < 64 * 1024  # the API never inflated it
    assert _healthy(server[0])


async def test_the_worker_refuses_a_bomb_that_did_not_come_through_the_upload(
    worker: int, driver: AsyncDriver, store: Store, tmp_path: Path
) -> None:
    """A file can reach the reader without the upload's check (a queued task, the command
    line): the reader checks again, the import fails with the reason, the file is removed,
    and the worker's memory stays flat."""
    from connectors.tasks import import_archive

    import_id = new_import_id()
    key = archive_key(import_id, "xlsx")
    path = _bomb(tmp_path / "queued-bomb.xlsx", 300 * MB)
    with path.open("rb") as bomb_file:
        open_storage(get_settings().storage_config).put(key, bomb_file)
    path = get_settings().data_dir / key  # the filesystem storage's copy
    records, peak = await _records(driver), _peak_kb(worker)
    import_archive.delay(import_id, key, UNIT, "tester", "queued-bomb.xlsx", "xlsx")
    found = await _finished(store, import_id)
    assert found["status"] == "FAILED", found
    assert "unpacks to 300 MB, more than 200 MB" in found["error"], found
    assert (found["read"], found["created"]) == (0, 0), found
    assert not path.exists()
    assert await _records(driver) == records
    assert _peak_kb(worker) - peak < 64 * 1024, "the worker inflated the bomb"

    bomb = _bomb(tmp_path / "cli-bomb.xlsx", 300 * MB)
    cli = hub_command("archive", "import", str(bomb), "--agency", UNIT, check=False)
    assert cli.returncode != 0
    assert "unpacks to 300 MB" in cli.stderr, cli.stderr


# --- bodies --------------------------------------------------------------------------------


def _answer(sock: socket.socket, seconds: float = 10) -> bytes:
    """Everything the server sends until it closes the connection or goes quiet."""
    sock.setblocking(True)
    sock.settimeout(seconds)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return data


def _flood(port: int, head: bytes, total: int, chunked: bool) -> tuple[bytes, int]:
    """Send ``head`` then up to ``total`` body bytes as fast as the server takes them, and
    stop as soon as it answers. Returns (answer, body bytes the server took)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(head)
    sock.setblocking(False)
    block = b"x" * 65536
    frame = b"%x\r\n%s\r\n" % (len(block), block) if chunked else block
    pending, sent = b"", 0
    deadline = time.monotonic() + 120
    while sent < total and time.monotonic() < deadline:
        readable, writable, _ = select.select([sock], [sock], [], 1)
        if readable:
            break
        if writable:
            pending = pending or frame
            try:
                n = sock.send(pending)
            except (BrokenPipeError, ConnectionResetError):
                break
            pending, sent = pending[n:], sent + n
    answer = _answer(sock)
    sock.close()
    return answer, sent


def _status(answer: bytes) -> int:
    assert answer.startswith(b"HTTP/1.1 "), answer[:200]
    return int(answer.split(b" ", 2)[1])


def _error(answer: bytes) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    return body["errors"][0]  # type: ignore[no-any-return]


def _post_head(path: str, token: str, framing: str, media: str = "application/json") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: {media}\r\n{framing}\r\n\r\n"
    ).encode()


@pytest.mark.parametrize(
    ("path", "limit"), [("/feedback", 4096), ("/graphql", 16 * 1024)], ids=["feedback", "graphql"]
)
def test_a_400_MB_body_is_cut_off_at_the_limit(
    path: str, limit: int, server: tuple[int, int]
) -> None:
    port, pid = server
    token = mint("partner")
    peak = _peak_kb(pid)
    started = time.monotonic()
    answer, sent = _flood(
        port, _post_head(path, token, "Transfer-Encoding: chunked"), 400 * MB, chunked=True
    )
    assert _status(answer) == 413, answer[:300]
    assert _error(answer)["extensions"] == {"code": "LIMIT_EXCEEDED", "limit": limit}
    # The server stopped reading near the limit: what it took is what socket buffers hold.
    assert sent < 16 * MB, f"the server read {sent / MB:.0f} MB before refusing"
    assert time.monotonic() - started < 10
    assert _peak_kb(pid) - peak < 32 * 1024
    assert b"connection: close" in answer.lower()  # the unread rest is not read later

    # Declared too long: refused on the header, before a byte of the body.
    answer, sent = _flood(
        port, _post_head(path, token, f"Content-Length: {400 * MB}"), 400 * MB, chunked=False
    )
    assert _status(answer) == 413, answer[:300]
    assert sent < 16 * MB
    assert _healthy(port)


def test_an_upload_stops_at_its_own_limit(server: tuple[int, int]) -> None:
    port, _ = server
    token = unit_token("submitter", UNIT, "clerk-limits")
    media = "multipart/form-data; boundary=b"
    answer, sent = _flood(
        port,
        _post_head("/archives", token, f"Content-Length: {400 * MB}", media),
        400 * MB,
        chunked=False,
    )
    assert _status(answer) == 413, answer[:300]
    assert _error(answer)["extensions"]["code"] == "LIMIT_EXCEEDED"
    assert sent < 16 * MB
    # Without a declared length (chunked), nothing is read at all.
    answer, sent = _flood(
        port, _post_head("/archives", token, "Transfer-Encoding: chunked", media), 400 * MB, True
    )
    assert _status(answer) == 411, answer[:300]
    assert sent < 16 * MB


# --- slow clients ----------------------------------------------------------------------------


def _trickle(port: int, data: bytes, gap: float, *, preamble: bytes = b"") -> tuple[bytes, float]:
    """Send ``preamble`` at once, then ``data`` a byte every ``gap`` seconds until the server
    closes the connection. Returns what it answered and after how many seconds it closed."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    started = time.monotonic()
    sock.sendall(preamble)
    answer = b""
    for byte in data:
        readable, _, _ = select.select([sock], [], [], gap)
        if readable:
            break
        try:
            sock.send(bytes([byte]))
        except (BrokenPipeError, ConnectionResetError):
            break
    answer = _answer(sock, 30)
    closed = time.monotonic() - started
    sock.close()
    return answer, closed


def test_headers_sent_a_byte_at_a_time_are_cut_off(server: tuple[int, int]) -> None:
    port, _ = server
    head = b"GET /healthz HTTP/1.1\r\nHost: hub\r\nX-Padding: " + b"a" * 200 + b"\r\n\r\n"
    answer, closed = _trickle(port, head, gap=0.25)  # the whole head would take 57 s
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert HEADER_TIMEOUT - 0.5 < closed < HEADER_TIMEOUT + 2, closed

    # A connection that sends nothing at all is dropped as well.
    answer, closed = _trickle(port, b"", gap=0)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert HEADER_TIMEOUT - 0.5 < closed < HEADER_TIMEOUT + 2, closed
    assert _healthy(port)


def test_a_body_sent_a_byte_at_a_time_is_cut_off(server: tuple[int, int]) -> None:
    port, _ = server
    report = json.dumps({"sanctionId": "S-NONE", "measure": "BID_RESTRICTED", "applied": True})
    body = report.encode().ljust(1000)
    head = _post_head("/feedback", mint("partner"), f"Content-Length: {len(body)}")
    answer, closed = _trickle(port, body, gap=0.25, preamble=head)  # would take 250 s
    assert _status(answer) == 408, answer[:300]
    assert _error(answer)["extensions"]["code"] == "LIMIT_EXCEEDED"
    assert b"connection: close" in answer.lower()
    assert BODY_TIMEOUT - 0.5 < closed < BODY_TIMEOUT + 2, closed
    assert _healthy(port)
