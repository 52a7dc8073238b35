"""Pull connectors against outside lists served on loopback: a JSON list and a GB18030 CSV list
are applied as snapshots with provenance; bad rows are reported and the good ones kept; an
unchanged list (ETag) costs one 304; a changed row is modified, a row gone from the list ends its
listing, and partners hear of each change."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from neo4j import AsyncDriver

from policies.credit.feeds import FEEDS_FILE
from tests.conftest import PROJECT_ROOT, TEST_DATA, free_port, hub_command
from tests.subjects import fresh_subjects


class ListServer(ThreadingHTTPServer):
    """An outside list: serves ``body`` with an ETag, 304 when the client already has it."""

    daemon_threads = True
    body: bytes = b"[]"
    requests: int = 0
    stall: float = 0.0  # seconds before answering: a pull in flight

    @property
    def etag(self) -> str:
        return f'"{hash(self.body) & 0xFFFFFFFF:x}"'


class _Handler(BaseHTTPRequestHandler):
    server: ListServer

    def do_GET(self) -> None:
        self.server.requests += 1
        time.sleep(self.server.stall)
        if self.headers.get("If-None-Match") == self.server.etag:
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("ETag", self.server.etag)
        self.send_header("Content-Length", str(len(self.server.body)))
        self.end_headers()
        self.wfile.write(self.server.body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def lists() -> Iterator[tuple[ListServer, ListServer, Path]]:
    regional, court = (ListServer(("127.0.0.1", free_port()), _Handler) for _ in range(2))
    for server in (regional, court):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    text = FEEDS_FILE.read_text(encoding="utf-8")
    text = text.replace(
        "https://credit.nmg.gov.cn/api/share/serious-dishonesty",
        f"http://127.0.0.1:{regional.server_address[1]}/list",
    ).replace(
        "https://zxgk.court.gov.cn/export/shixin.csv",
        f"http://127.0.0.1:{court.server_address[1]}/shixin.csv",
    )
    path = TEST_DATA / "feeds-loopback.yaml"
    path.write_text(text, encoding="utf-8")
    yield regional, court, path
    for server in (regional, court):
        server.shutdown()
        server.server_close()


def _pull(code: str, feeds_file: Path, check: bool = True) -> tuple[list[dict[str, Any]], str]:
    done = hub_command(
        "feeds", "pull", code, check=False, env={**os.environ, "HUB_FEEDS_FILE": str(feeds_file)}
    )
    assert done.returncode == 0 or not check, done.stderr
    rejected = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    return rejected, done.stderr


async def _listings(driver: AsyncDriver, feed: str) -> dict[str, dict[str, Any]]:
    records, _, _ = await driver.execute_query(
        "MATCH (n:Sanction {sourceSystem: $f})-[:SANCTIONED]->(s:Subject) "
        "RETURN n.sourceId AS id, n.status AS status, s.creditCode AS subject, "
        "n.sourceUrl AS url, n.firstSeen IS NOT NULL AS seen, n.listing AS listing, "
        "toString(n.endDate) AS end",
        f=feed,
    )
    return {r["id"]: dict(r) for r in records}


async def test_a_json_list_is_applied_as_snapshots(
    driver: AsyncDriver, lists: tuple[ListServer, ListServer, Path], redis_server: str
) -> None:
    regional, _, feeds_file = lists
    (a, _), (b, _) = fresh_subjects(2)
    entries = [
        {
            "xh": "NMXY-1",
            "tyshxydm": a,
            "ztmc": "甲",
            "lrrq": "2026-10-01",
            "yjycrq": "2029-10-01",
            "lrwsh": "内发改信〔2026〕1号",
            "lrjg": "自治区发改委",
        },
        {
            "xh": "NMXY-2",
            "tyshxydm": b,
            "ztmc": "乙",
            "lrrq": "2026-10-02",
            "yjycrq": None,
            "lrwsh": "内发改信〔2026〕2号",
            "lrjg": "自治区发改委",
        },
        {"xh": "NMXY-3", "tyshxydm": "91110000600037341N", "lrrq": "2026-10-03"},
        {"xh": "NMXY-4", "tyshxydm": "91110000600037341L", "lrrq": "2026-10-03"},
        {"xh": "NMXY-1", "tyshxydm": a, "lrrq": "2026-10-01"},
        {"xh": "NMXY-5", "tyshxydm": a, "lrrq": "十月"},
    ]
    regional.body = json.dumps({"data": entries}, ensure_ascii=False).encode()
    rejected, said = _pull("REGIONAL-CREDIT", feeds_file)
    assert [(r["line"], r["reason"]) for r in rejected] == [
        (3, "invalid-credit-code"),
        (4, "unknown-subject"),
        (5, "duplicate"),
        (6, "invalid-date"),
    ]
    assert "2 listed, 0 modified, 0 unchanged, 0 ended, 4 rejected" in said
    held = await _listings(driver, "REGIONAL-CREDIT")
    assert {k: (v["subject"], v["status"]) for k, v in held.items()} == {
        "REGIONAL-CREDIT:NMXY-1": (a, "ACTIVE"),
        "REGIONAL-CREDIT:NMXY-2": (b, "ACTIVE"),
    }
    assert all(v["url"].endswith("/list") and v["seen"] for v in held.values())

    before = regional.requests
    _, again = _pull("REGIONAL-CREDIT", feeds_file)
    assert "not modified" in again and regional.requests == before + 1

    entries[0]["yjycrq"] = "2030-10-01"  # changed
    regional.body = json.dumps([entries[0]], ensure_ascii=False).encode()  # NMXY-2 gone
    _, changed = _pull("REGIONAL-CREDIT", feeds_file)
    assert "0 listed, 1 modified, 0 unchanged, 1 ended" in changed
    held = await _listings(driver, "REGIONAL-CREDIT")
    assert held["REGIONAL-CREDIT:NMXY-2"]["status"] == "ENDED"
    assert held["REGIONAL-CREDIT:NMXY-1"]["end"] == "2030-10-01"
    records, _, _ = await driver.execute_query(
        "MATCH (e:OutboxEvent) WHERE e.sanction STARTS WITH 'X-' AND e.subject IN $s "
        "RETURN e.type AS t ORDER BY e.version",
        s=[a, b],
    )
    assert [r["t"] for r in records] == [
        "sanction.listed",
        "sanction.listed",
        "sanction.modified",
        "sanction.ended",
    ]

    regional.body = b"[]"  # an empty list looks like a broken feed: nothing is ended
    _, empty = _pull("REGIONAL-CREDIT", feeds_file)
    assert "nothing ended" in empty
    assert (await _listings(driver, "REGIONAL-CREDIT"))["REGIONAL-CREDIT:NMXY-1"]["status"] == (
        "ACTIVE"
    )


async def test_a_gb18030_csv_list_and_a_broken_one(
    driver: AsyncDriver, lists: tuple[ListServer, ListServer, Path], redis_server: str
) -> None:
    _, court, feeds_file = lists
    ((c, _),) = fresh_subjects(1)
    court.body = (
        "案号,统一社会信用代码,被执行人名称,发布时间,执行法院\r\n"
        f"（2026）内0502执1号,{c},丙公司,2026-09-09,通辽市科尔沁区人民法院\r\n"
    ).encode("gb18030")
    rejected, said = _pull("COURT-DEBTORS", feeds_file)
    assert rejected == [] and "1 listed" in said
    held = await _listings(driver, "COURT-DEBTORS")
    assert [v["listing"] for v in held.values()] == ["DISHONEST_JUDGMENT_DEBTOR"]
    court.body = b"\xff\xfe not a list"
    failed = _pull("COURT-DEBTORS", feeds_file, check=False)[1]
    assert "nothing was applied" in failed


def test_the_scheduled_pull_runs_enabled_feeds_when_due(
    lists: tuple[ListServer, ListServer, Path],
    redis_server: str,
    migrated: None,
) -> None:
    """The beat's task pulls an enabled feed, then not again until its interval has passed;
    disabled feeds are left alone."""
    from connectors import pull, tasks, worker
    from connectors.config import configure
    from hub.settings import get_settings

    regional, court, feeds_file = lists
    text = feeds_file.read_text(encoding="utf-8")
    enabled = text.replace("    enabled: false", "    enabled: true", 1)
    feeds_file.write_text(enabled, encoding="utf-8")
    configure(get_settings().model_copy(update={"feeds_file": feeds_file}).worker_config)
    pull.read_feeds.cache_clear()
    redis_client = __import__("redis").Redis.from_url(redis_server)
    redis_client.delete("hub:feed:REGIONAL-CREDIT", "hub:feed:COURT-DEBTORS")
    ((code, _),) = fresh_subjects(1)
    regional.body = json.dumps([{"xh": "SCHED-1", "tyshxydm": code, "lrrq": "2026-11-01"}]).encode()
    try:
        first = tasks.pull_feeds()["REGIONAL-CREDIT"]
        assert (first["listed"], first["rejected"]) == (1, 0)
        assert court.requests == 0  # disabled
        assert tasks.pull_feeds() == {}  # not due again for an hour
    finally:
        configure(get_settings().worker_config)
        pull.read_feeds.cache_clear()
        worker.close_worker_clients()


# The beat's task, alone in a process of its own (a worker's, as far as the lock goes).
_PULL_ONCE = """
from connectors.config import configure
from hub.settings import get_settings
configure(get_settings().worker_config)
from connectors import tasks
tasks.pull_feeds()
"""


def test_a_puller_killed_mid_pull_frees_the_feed_within_seconds(
    lists: tuple[ListServer, ListServer, Path],
    redis_server: str,
    migrated: None,
) -> None:
    """The lock on a feed lives seconds and is renewed beside the pull: a worker SIGKILLed in
    the middle of one leaves the feed to the next pull within those seconds, not after the
    longest pull could take (it was ten minutes)."""
    from connectors import pull, tasks, worker
    from connectors.config import configure
    from hub.settings import get_settings

    regional, _, feeds_file = lists
    enabled = feeds_file.read_text(encoding="utf-8").replace(
        "    enabled: false", "    enabled: true", 1
    )
    feeds_file.write_text(enabled, encoding="utf-8")
    redis_client = __import__("redis").Redis.from_url(redis_server)
    lock = "hub:feed:REGIONAL-CREDIT:lock"
    redis_client.delete("hub:feed:REGIONAL-CREDIT", lock)
    regional.stall = 60.0
    puller = subprocess.Popen(
        [sys.executable, "-c", _PULL_ONCE],
        cwd=PROJECT_ROOT,
        env={**os.environ, "HUB_FEEDS_FILE": str(feeds_file)},
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not (redis_client.exists(lock) and regional.requests):
            assert time.monotonic() < deadline, "the pull never started"
            assert puller.poll() is None, "the puller exited before pulling"
            time.sleep(0.1)
        time.sleep(2)  # renewed meanwhile: the pull outlives the lock's first lifetime
        assert redis_client.exists(lock)
        os.killpg(puller.pid, signal.SIGKILL)
        killed = time.monotonic()
        while redis_client.exists(lock):
            assert time.monotonic() - killed < 6.5, "the dead puller's lock is still held"
            time.sleep(0.1)
    finally:
        if puller.poll() is None:
            os.killpg(puller.pid, signal.SIGKILL)
        puller.wait(timeout=10)

    regional.stall = 0.0
    configure(get_settings().model_copy(update={"feeds_file": feeds_file}).worker_config)
    pull.read_feeds.cache_clear()
    try:
        assert "REGIONAL-CREDIT" in tasks.pull_feeds()  # pulled, not skipped as locked
    finally:
        configure(get_settings().worker_config)
        pull.read_feeds.cache_clear()
        worker.close_worker_clients()
