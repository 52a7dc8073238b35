"""The cache generation: a Redis counter that every graph write moves on.

An API process keeps answers tagged with the generation it read before computing them, and
serves one only while the counter still holds that value (hub/http/response_cache.py). A
writer moves the counter on after its transaction and before it acknowledges anything, so
once a change is acknowledged no process serves an answer from before it. The API, the
workers and the command line all write through a :class:`graph.db.Store` whose ``changed``
is one of these.
"""

from __future__ import annotations

import logging

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError

from connectors.coordination.causal import keep
from graph.db import Changed

log = logging.getLogger(__name__)

GENERATION_KEY = "hub:cache:generation"


def generation_bump(redis: aioredis.Redis) -> Changed:
    """Move the generation on through a client the caller keeps open (API, worker); in the
    same round trip, keep the bookmarks of the caller whose request wrote
    (connectors/coordination/causal.py)."""

    async def changed() -> None:
        async with redis.pipeline(transaction=False) as pipe:
            pipe.incr(GENERATION_KEY)
            keep(pipe)
            await pipe.execute()

    return changed


def generation_bump_at(url: str) -> Changed:
    """The same through a connection of its own each time: for short-lived processes (the
    command line, tests) with no client of their own on the running loop.

    A command whose Redis is unreachable goes on, with a warning: an API process cannot answer
    without Redis either, and forgets what it kept when it reconnects (hub/http/response_cache.py);
    so `hub migrate` may run before Redis is up."""

    async def changed() -> None:
        client = aioredis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
        try:
            await client.incr(GENERATION_KEY)
        except (ConnectionError, TimeoutError, RedisConnectionError) as exc:
            log.warning(
                "cache generation not moved on: Redis unreachable (%s); API processes that "
                "reach it keep their answers until they reconnect",
                exc.__class__.__name__,
            )
        finally:
            await client.aclose()

    return changed
