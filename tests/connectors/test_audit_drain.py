"""From the API's XADD to the Neo4j chain: the drain, directly and through a real worker.

The direct tests use a stream and a chain of their own; the worker test uses the real ones
(``hub:audit`` → ``main``) and checks only the events it emitted, plus the whole chain.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from uuid import uuid4

import pytest
import redis.asyncio as aioredis
from neo4j import AsyncDriver
from neo4j.exceptions import ServiceUnavailable

from connectors.audit_drain import AUDIT_STREAM, dead_letters, drain_stream, lock_key
from graph.audit_chain import AuditEntry, AuditEvent, append, trail, verify_chain
from graph.db import Neo4jConfig, Store, connect
from hub.audit_log import AuditLog
from hub.cli.services import stop_process
from hub.settings import PROJECT_ROOT
from tests.audit import audit_entries
from tests.conftest import TEST_DATA, free_port

DB = "neo4j"


def _entries(count: int) -> list[AuditEntry]:
    """Entries about a subject of their own, so the trail read back is this call's alone."""
    return audit_entries(count, subject=f"TEST{uuid4().hex[:14].upper()}")


@pytest.fixture
def stream() -> str:
    return f"test:audit:{uuid4().hex[:12]}"


async def _chain_ids(store: Store, subject: str | None, chain: str) -> list[str]:
    links = await trail(store, subject=subject, chain=chain, limit=100_000)
    return [link.event.event_id for link in links]


async def test_drain_chains_every_entry_in_stream_order(
    redis: aioredis.Redis, driver: AsyncDriver, store: Store, stream: str
) -> None:
    log, chain, entries = AuditLog(redis, stream), f"test-{uuid4().hex[:12]}", _entries(5)
    ids = [await log.emit(entries[0]), *await log.emit_all(entries[1:])]
    assert await drain_stream(redis, store, stream=stream, chain=chain) == 5
    assert await redis.xlen(stream) == 0
    assert await _chain_ids(store, entries[0].subject, chain) == ids
    assert (await verify_chain(store, chain=chain)).ok


async def test_a_batch_chained_but_not_deleted_is_not_chained_twice(
    redis: aioredis.Redis, driver: AsyncDriver, store: Store, stream: str
) -> None:
    """A drainer that dies between the Neo4j commit and XDEL leaves entries the next run
    must delete without chaining them again."""
    log, chain, entries = AuditLog(redis, stream), f"test-{uuid4().hex[:12]}", _entries(3)
    ids = await log.emit_all(entries)
    waiting = await redis.xrange(stream) or []
    crashed = [AuditEvent.from_fields(i.decode(), fields) for i, fields in waiting]  # type: ignore[union-attr, arg-type]
    assert await append(store, crashed[:2], chain=chain) == 2  # then "killed"
    assert await drain_stream(redis, store, stream=stream, chain=chain) == 3
    assert await redis.xlen(stream) == 0
    assert await _chain_ids(store, entries[0].subject, chain) == ids
    assert (await verify_chain(store, chain=chain)).ok


async def test_malformed_entries_go_to_dead_letters_and_do_not_block(
    redis: aioredis.Redis, driver: AsyncDriver, store: Store, stream: str
) -> None:
    log, chain, entries = AuditLog(redis, stream), f"test-{uuid4().hex[:12]}", _entries(2)
    first = await log.emit(entries[0])
    junk = await redis.xadd(stream, {"hello": "world"})
    last = await log.emit(entries[1])
    assert await drain_stream(redis, store, stream=stream, chain=chain) == 3
    assert await _chain_ids(store, entries[0].subject, chain) == [first, last]
    dead = await redis.xrange(dead_letters(stream)) or []
    assert [fields[b"streamId"] for _, fields in dead] == [junk]  # type: ignore[index]


async def test_one_drainer_at_a_time(redis: aioredis.Redis, store: Store, stream: str) -> None:
    await AuditLog(redis, stream).emit(_entries(1)[0])
    await redis.set(lock_key(stream), "someone-else", px=5000)
    assert await drain_stream(redis, store, stream=stream) is None
    assert await redis.xlen(stream) == 1
    await redis.delete(lock_key(stream))


async def test_neo4j_down_keeps_entries_and_frees_the_lock(
    redis: aioredis.Redis, stream: str
) -> None:
    await AuditLog(redis, stream).emit(_entries(1)[0])
    nowhere = connect(Neo4jConfig(uri=f"bolt://127.0.0.1:{free_port()}", connect_timeout=0.5))
    try:
        for _ in range(2):  # the second run is not locked out by the first
            with pytest.raises(ServiceUnavailable):
                await drain_stream(redis, Store(nowhere, DB), stream=stream)
    finally:
        await nowhere.close()
    assert await redis.xlen(stream) == 1


@dataclass
class Worker:
    """`hub worker` in its own process group, so SIGKILL takes the pool children too."""

    log: Path = TEST_DATA / "logs" / "audit-worker.log"
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, name: str = "worker") -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "hub", name]
        self.procs.append(
            subprocess.Popen(
                command,
                cwd=PROJECT_ROOT,
                stdout=self.log.open("ab"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )

    def kill9(self, proc: subprocess.Popen[bytes]) -> None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                stop_process(proc.pid, timeout=20)
                proc.wait(timeout=5)


@pytest.fixture
def worker(redis_server: str, migrated: None) -> Iterator[Worker]:
    processes = Worker()
    yield processes
    processes.stop_all()


async def _wait_for(check: Callable[[], Awaitable[bool]], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, f"{what}: see {TEST_DATA / 'logs'}"
        await asyncio.sleep(0.05)


async def test_worker_killed_mid_drain_loses_and_duplicates_nothing(
    redis: aioredis.Redis, driver: AsyncDriver, store: Store, worker: Worker
) -> None:
    count, batch = 30_000, 5000
    entries = _entries(count)
    log = AuditLog(redis)
    ids = [i for at in range(0, count, batch) for i in await log.emit_all(entries[at : at + batch])]

    async def chained() -> int:
        records, _, _ = await driver.execute_query(
            "MATCH (e:AuditEvent {subject: $subject}) RETURN count(e) AS n",
            subject=entries[0].subject,
            database_=DB,
        )
        return int(records[0]["n"])

    async def started() -> bool:
        return await chained() > 0

    async def finished() -> bool:
        return await chained() == count and await redis.xlen(AUDIT_STREAM) == 0

    worker.start("beat")
    worker.start("worker")
    await _wait_for(started, 90, "the worker never drained")
    worker.kill9(worker.procs[-1])
    at_kill = await chained()
    assert 0 < at_kill < count, "the drain finished before the kill: raise count"
    worker.start("worker")
    await _wait_for(finished, 120, "the restarted worker did not finish")
    assert await _chain_ids(store, entries[0].subject, "main") == ids  # once each, in order
    result = await verify_chain(store)
    assert result.ok, result
