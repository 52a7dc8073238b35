"""The answer cache's rules in Redis (hub/http/response_cache.py), against the suite's Redis:
only answers of the current generation are kept, the first of a new generation drops the rest,
a count and a budget of bytes bound them, and a reconnection moves the generation on.

The generation is only ever moved forward here: the suite's API keeps answers in the same
Redis, and a generation handed back would let it serve one from before a change."""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis

from connectors.coordination.freshness import GENERATION_KEY
from hub.api.context import Audited
from hub.http.response_cache import ANSWERS_KEY, JUMP, Answer, ResponseCache, pack, watched_pool
from hub.settings import get_settings
from policies.limits import AnswerCache

MB = 1024 * 1024


def _cache(entries: int = 1000, megabytes: int = 1) -> ResponseCache:
    return ResponseCache(AnswerCache(frozenset({"subject"}), entries, megabytes))


async def _now(redis: aioredis.Redis) -> int:
    return int(await redis.incr(GENERATION_KEY))  # a fresh generation, nothing kept of it yet


def _answer(generation: int, size: int = 10) -> Answer:
    audited = (Audited("subject", "91150000MA0N000010", ("name", "records")),)
    return Answer(generation, b"x" * size, 3, audited, ("subject.legalRepresentative.idMasked",))


async def _kept(redis: aioredis.Redis, cache: ResponseCache, digest: str, now: int) -> Any:
    return cache.found(await redis.hget(ANSWERS_KEY, digest), now)


async def test_only_the_current_generation_is_kept_and_a_new_one_drops_the_old(
    redis: aioredis.Redis,
) -> None:
    cache = _cache()
    now = await _now(redis)
    assert await cache.keep(redis, "a", _answer(now))
    assert await _kept(redis, cache, "a", now) == _answer(now)  # audit entries and all
    assert not await cache.keep(redis, "b", _answer(now - 1))  # computed before a change
    assert await redis.hget(ANSWERS_KEY, "b") is None
    later = await _now(redis)
    assert await _kept(redis, cache, "a", later) is None  # of an older generation: not served
    assert await cache.keep(redis, "c", _answer(later))
    assert await redis.hget(ANSWERS_KEY, "a") is None  # dropped with its generation
    assert await redis.hlen(ANSWERS_KEY) == 1 + 2  # "c", and whose answers and their bytes


async def test_the_count_and_the_bytes_bound_and_a_huge_answer_is_not_kept(
    redis: aioredis.Redis,
) -> None:
    counted = _cache(entries=3)
    now = await _now(redis)
    kept = [await counted.keep(redis, f"n{n}", _answer(now)) for n in range(5)]
    assert kept == [True, True, True, False, False]

    weighed = _cache(megabytes=1)
    now = await _now(redis)
    size = MB // 10 - len(pack(_answer(now, 0)))  # a tenth of the budget, packed
    kept = [await weighed.keep(redis, f"w{n}", _answer(now, size)) for n in range(11)]
    assert kept == [True] * 10 + [False]
    now = await _now(redis)
    assert not await weighed.keep(redis, "huge", _answer(now, size + 1))
    assert await redis.hget(ANSWERS_KEY, "huge") is None


async def test_a_reconnection_is_vouched_for_by_moving_the_generation_past_a_lost_second(
    redis: aioredis.Redis,
) -> None:
    cache = _cache()
    now = await _now(redis)
    assert await cache.keep(redis, "a", _answer(now))
    cache.reconnected("run-1")
    assert cache.trusted != cache.connected  # a kept answer is not to be trusted yet
    await cache.vouch(redis)
    assert cache.trusted == cache.connected
    moved = int(await redis.get(GENERATION_KEY))
    assert moved == now + JUMP
    assert await _kept(redis, cache, "a", moved) is None
    cache.reconnected("run-1")  # the same server again: it lost nothing
    assert cache.trusted == cache.connected
    for server in ("run-2", None):  # another server, or one that does not say which
        cache.reconnected(server)
        assert cache.trusted != cache.connected
        await cache.vouch(redis)


async def test_a_redis_that_will_not_say_which_server_it_is_counts_every_connection(
    redis: aioredis.Redis,
) -> None:
    """The server is told by INFO's run_id; a user its ACL denies INFO still works, and each of
    its connections counts as one to a server that may have lost its last second."""
    await redis.acl_setuser(
        "no-info", enabled=True, passwords=["+no-info-pw"], keys=["*"], channels=["*"],
        commands=["+@all", "-info"], reset=True,
    )  # fmt: skip
    seen: list[str | None] = []
    url = get_settings().redis_url.replace("redis://", "redis://no-info:no-info-pw@", 1)
    assert "@" in url, url
    client = aioredis.Redis(connection_pool=watched_pool(url, seen.append))
    try:
        assert await client.ping()
        assert await client.get(GENERATION_KEY)  # commands work on the connection
        assert seen == [None]
    finally:
        await client.aclose()
        await redis.acl_deluser("no-info")
