"""Rendered public pages in Redis, keyed by the feed version so that a change shows at once.

Every change the public can see on a list or a subject page (a listing, its end or repair, a
grade change, a 双公示 record) writes an outbox event in the transaction that makes it, and every
event moves the global feed counter (graph/exchange/outbox.py). A page cached under the counter's
value is therefore never served after such a change: the next request reads a new version and
misses. Changes without an event (a publication period running out at midnight, a score that
moved within its grade) wait at most the time-to-live. Redis holds the pages, so every API
process serves the same ones and none depends on which process served the last request.
"""

from __future__ import annotations

import hashlib

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from graph.db import Store

FEED_VERSION = "MATCH (c:Counter {name: 'feed'}) RETURN c.value AS version"
PREFIX = "hub:portal:"


async def feed_version(store: Store) -> int:
    rows = await store.read(FEED_VERSION)
    return int(rows[0]["version"]) if rows else 0


def page_key(version: int, path: str) -> str:
    """The key of one page (path and query) at one feed version."""
    digest = hashlib.sha256(path.encode()).hexdigest()[:32]
    return f"{PREFIX}{version}:{digest}"


async def cached(redis: aioredis.Redis, key: str) -> bytes | None:
    """The page, or None on a miss or when Redis does not answer (the page is then rendered)."""
    try:
        found = await redis.get(key)
    except RedisError:
        return None
    return found.encode() if isinstance(found, str) else found


async def keep(redis: aioredis.Redis, key: str, body: bytes, seconds: int) -> None:
    """Store a rendered page; a Redis outage only costs the next request a render."""
    try:
        await redis.set(key, body, ex=seconds)
    except RedisError:
        return
