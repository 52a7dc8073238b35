"""The write barrier: a Redis flag that pauses every graph write while ``hub backup`` reads.

Every :class:`graph.db.Store` the API, the workers and the command line open awaits a gate
from here before each write. While the flag is up, the API refuses a write at once (the
caller sees ``UNAVAILABLE`` and retries) and a worker waits for the flag to go, so a running
import or delivery resumes instead of failing. The flag is a :class:`RedisLock`: its holder
renews it, and a backup that dies leaves it for ``PAUSE_TTL_MS`` at most.

The barrier alone does not make a backup consistent (a write may have passed its gate just
before the flag went up); the backup also proves that nothing committed while it read
(graph/backup/dump.py).
"""

from __future__ import annotations

import asyncio
import time

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError

from connectors.coordination.locks import RedisLock
from graph.db import Gate, WritesPaused

PAUSE_KEY = "hub:writes:paused"
PAUSE_TTL_MS = 30_000  # a dead backup blocks writes this long at most
POLL = 0.5  # seconds between looks at the flag while a worker waits


def pause_lock(redis: aioredis.Redis) -> RedisLock:
    """The flag as a lock: acquire to pause writes, renew while reading, release to resume."""
    return RedisLock(redis, PAUSE_KEY, PAUSE_TTL_MS)


def write_gate(redis: aioredis.Redis, wait: float = 0.0) -> Gate:
    """A gate through a client the caller keeps open: raises :class:`WritesPaused` while the
    flag is up, after waiting up to ``wait`` seconds for it to go."""

    async def gate() -> None:
        deadline = time.monotonic() + wait
        while await redis.exists(PAUSE_KEY):
            if time.monotonic() >= deadline:
                raise WritesPaused(
                    "writes are paused while `hub backup` reads the graph; retry in a few seconds"
                )
            await asyncio.sleep(POLL)

    return gate


def write_gate_at(url: str) -> Gate:
    """The same through a connection of its own each time (the command line), refusing at
    once; an unreachable Redis lets the write go (the backup's own check still catches it)."""

    async def gate() -> None:
        client = aioredis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
        try:
            await write_gate(client)()
        except (ConnectionError, TimeoutError, RedisConnectionError):
            pass
        finally:
            await client.aclose()

    return gate
