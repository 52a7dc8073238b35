"""What a Celery worker process holds open: one event loop, Neo4j driver, Redis client and HTTP
session, reused by every task it runs, and closed when the process shuts down.

Its own module so that the API and the command line, which import the audit drain, do not load
the workers' HTTP client.
"""

from __future__ import annotations

import asyncio
import os
import threading
from dataclasses import dataclass
from functools import cache

import aiohttp
import redis.asyncio as aioredis
from neo4j import AsyncDriver

from connectors.config import WorkerConfig, configured
from connectors.coordination.freshness import generation_bump
from connectors.coordination.maintenance import write_gate
from connectors.coordination.reconnect import once
from connectors.targets import CheckedResolver
from graph.db import Store, connect
from policies.targets import TargetRule


@dataclass(frozen=True, slots=True)
class WorkerClients:
    runner: asyncio.Runner
    store: Store
    redis: aioredis.Redis
    http: aiohttp.ClientSession  # keep-alive connections to partners, reused by deliveries
    targets: TargetRule  # where webhooks may go; ``http`` resolves names under this rule


# While `hub backup` pauses writes, a task's write waits this long for them to resume (an
# import or a delivery carries on after it) before it fails and is retried as usual.
WRITES_WAIT = 600.0


@cache
def worker_clients(pid: int, thread: int, config: WorkerConfig) -> WorkerClients:
    """One event loop, driver and Redis client per worker process (and thread): a driver's
    connections belong to the loop that opened them, so every run reuses the same loop."""
    runner = asyncio.Runner()
    targets = config.targets

    async def open_clients() -> tuple[AsyncDriver, aioredis.Redis, aiohttp.ClientSession]:
        # One retry on a fresh connection: pooled ones a Redis restart closed fail once each.
        client = aioredis.from_url(
            config.redis_url, socket_timeout=10, socket_connect_timeout=2, retry=once()
        )
        resolver = CheckedResolver(targets)  # connects only to addresses it checked
        http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200, resolver=resolver))
        return connect(config.neo4j), client, http

    driver, client, http = runner.run(open_clients())
    store = Store(
        driver,
        config.neo4j.database,
        config.neo4j.query_timeout,
        generation_bump(client),
        write_gate(client, wait=WRITES_WAIT),
    )
    opened = WorkerClients(runner, store, client, http, targets)
    _opened.append(opened)
    return opened


_opened: list[WorkerClients] = []


def close_worker_clients() -> None:
    """Close what ``worker_clients`` opened in this process (a worker process shutting down)."""

    async def close(clients: WorkerClients) -> None:
        await clients.http.close()
        await clients.redis.aclose()
        await clients.store.driver.close()

    while _opened:
        clients = _opened.pop()
        clients.runner.run(close(clients))
        clients.runner.close()
    worker_clients.cache_clear()


def current() -> WorkerClients:
    """This worker process's (and thread's) clients."""
    return worker_clients(os.getpid(), threading.get_ident(), configured())
