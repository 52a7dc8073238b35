"""Draining the audit stream into the Neo4j hash chain.

The API hands each audit entry to the Redis stream ``hub:audit`` before it answers; this module
moves entries, oldest first, into ``graph.audit``'s chain and deletes them from the stream only
after the chain transaction committed. A crash in between leaves entries that are already
chained; ``append`` skips them by event id, so the next run just deletes them.

A Redis lock keeps one drainer at a time (renewed before each batch), which saves duplicate
work. Order does not even depend on it: every batch is read from the start of the stream, and
an entry is deleted only once it and all before it are chained, so the chain is in stream order
even if a lock expired while a batch was being written.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache

import aiohttp
import redis.asyncio as aioredis
from neo4j import AsyncDriver
from redis.typing import EncodableT, FieldT

from graph.audit import DEFAULT_CHAIN, AuditEvent, append
from graph.db import Neo4jConfig, connect

from .locks import RedisLock

AUDIT_STREAM = "hub:audit"
BATCH = 2000  # stream entries per append transaction
LOCK_TTL_MS = 10_000  # a drainer killed with the lock blocks others this long at most
BUDGET = 5.0  # seconds a scheduled run keeps draining, well inside the lock's lifetime

log = logging.getLogger(__name__)
Entry = tuple[bytes | str | None, Mapping[bytes | str, bytes | str] | None]


def lock_key(stream: str) -> str:
    return f"{stream}:drain-lock"


def _text(value: bytes | str | None) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def dead_letters(stream: str) -> str:
    """Where entries that are not audit events go, kept for a human instead of blocking."""
    return f"{stream}:dead"


async def _events(redis: aioredis.Redis, stream: str, entries: Sequence[Entry]) -> list[AuditEvent]:
    """The entries as events; malformed ones are copied to the dead-letter stream."""
    events = []
    for entry_id, fields in entries:
        try:
            events.append(AuditEvent.from_fields(_text(entry_id), fields or {}))
        except ValueError as exc:
            log.error(
                "audit entry %s is malformed (%s): moved to %s", entry_id, exc, dead_letters(stream)
            )
            letter: dict[FieldT, EncodableT] = {k: v for k, v in (fields or {}).items()}
            letter.update(streamId=_text(entry_id), error=str(exc))
            await redis.xadd(dead_letters(stream), letter)
    return events


async def _drain(
    lock: RedisLock,
    driver: AsyncDriver,
    database: str,
    stream: str,
    chain: str,
    budget: float,
) -> int:
    redis, deadline, moved = lock.redis, time.monotonic() + budget, 0
    while await lock.renew():
        entries = await redis.xrange(stream, count=BATCH) or []
        if not entries:
            return moved
        await append(driver, database, await _events(redis, stream, entries), chain=chain)
        await redis.xdel(stream, *(entry_id for entry_id, _ in entries if entry_id is not None))
        moved += len(entries)
        if len(entries) < BATCH or time.monotonic() >= deadline:
            return moved
    log.warning("audit drain of %s lost its lock after %d entries", stream, moved)
    return moved


async def drain(
    redis: aioredis.Redis,
    driver: AsyncDriver,
    database: str,
    *,
    stream: str = AUDIT_STREAM,
    chain: str = DEFAULT_CHAIN,
    budget: float = BUDGET,
) -> int | None:
    """Move entries from the stream into the chain until it is empty or ``budget`` seconds
    have passed; how many moved, or None when another drainer holds the lock."""
    lock = RedisLock(redis, lock_key(stream), LOCK_TTL_MS)
    if not await lock.acquire():
        return None
    try:
        return await _drain(lock, driver, database, stream, chain, budget)
    finally:
        await lock.release()


# --- in a Celery worker -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WorkerClients:
    runner: asyncio.Runner
    driver: AsyncDriver
    redis: aioredis.Redis
    http: aiohttp.ClientSession  # keep-alive connections to partners, reused by deliveries
    database: str


def _neo4j_from_env() -> Neo4jConfig:
    """The API's settings (``HUB_NEO4J_*``), read directly: connectors do not import hub."""
    env = os.environ.get
    return Neo4jConfig(
        uri=env("HUB_NEO4J_URI", "bolt://127.0.0.1:7687"),
        user=env("HUB_NEO4J_USER", ""),
        password=env("HUB_NEO4J_PASSWORD", ""),
        database=env("HUB_NEO4J_DATABASE", "neo4j"),
    )


@cache
def worker_clients(pid: int, thread: int, redis_url: str) -> WorkerClients:
    """One event loop, driver and Redis client per worker process (and thread): a driver's
    connections belong to the loop that opened them, so every run reuses the same loop."""
    runner = asyncio.Runner()
    config = _neo4j_from_env()

    async def open_clients() -> tuple[AsyncDriver, aioredis.Redis, aiohttp.ClientSession]:
        client = aioredis.from_url(redis_url, socket_timeout=10, socket_connect_timeout=2)
        http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200))
        return connect(config), client, http

    driver, client, http = runner.run(open_clients())
    opened = WorkerClients(runner, driver, client, http, config.database)
    _opened.append(opened)
    return opened


_opened: list[WorkerClients] = []


def close_worker_clients() -> None:
    """Close what ``worker_clients`` opened in this process (a worker process shutting down)."""

    async def close(clients: WorkerClients) -> None:
        await clients.http.close()
        await clients.redis.aclose()
        await clients.driver.close()

    while _opened:
        clients = _opened.pop()
        clients.runner.run(close(clients))
        clients.runner.close()
    worker_clients.cache_clear()


def drain_in_worker(redis_url: str) -> int | None:
    """One scheduled drain, with this worker process's clients."""
    worker = worker_clients(os.getpid(), threading.get_ident(), redis_url)
    return worker.runner.run(drain(worker.redis, worker.driver, worker.database))
