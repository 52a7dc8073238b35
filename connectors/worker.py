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

from connectors.targets import CheckedResolver, rule_from_env
from graph.db import Neo4jConfig, Store, connect
from policies.targets import TargetRule


@dataclass(frozen=True, slots=True)
class WorkerClients:
    runner: asyncio.Runner
    store: Store
    redis: aioredis.Redis
    http: aiohttp.ClientSession  # keep-alive connections to partners, reused by deliveries
    targets: TargetRule  # where webhooks may go; ``http`` resolves names under this rule


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
    targets = rule_from_env()

    async def open_clients() -> tuple[AsyncDriver, aioredis.Redis, aiohttp.ClientSession]:
        client = aioredis.from_url(redis_url, socket_timeout=10, socket_connect_timeout=2)
        resolver = CheckedResolver(targets)  # connects only to addresses it checked
        http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200, resolver=resolver))
        return connect(config), client, http

    driver, client, http = runner.run(open_clients())
    store = Store(driver, config.database, config.query_timeout)
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


def current(redis_url: str) -> WorkerClients:
    """This worker process's (and thread's) clients."""
    return worker_clients(os.getpid(), threading.get_ident(), redis_url)
