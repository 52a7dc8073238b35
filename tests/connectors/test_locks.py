"""The Redis lock against the suite's Redis: a live holder keeps it however long one step of
its work takes, and work whose lock is taken stops. (A dead holder freeing its lock within its
lifetime is tests/connectors/test_delivery.py's, with a worker killed mid-batch.)"""

from __future__ import annotations

import asyncio
import time
from uuid import uuid4

import pytest
import redis.asyncio as aioredis

from connectors.coordination.locks import LockLost, RedisLock

TTL_MS = 600  # short, so that a step of the work outlasts several lifetimes


def _lock(redis: aioredis.Redis) -> RedisLock:
    return RedisLock(redis, f"test:lock:{uuid4().hex[:12]}", TTL_MS)


async def test_a_live_holder_keeps_its_lock_through_a_step_longer_than_its_lifetime(
    redis: aioredis.Redis,
) -> None:
    lock = _lock(redis)
    rival = RedisLock(redis, lock.key, TTL_MS)
    assert await lock.acquire()

    async def slow_step() -> str:
        await asyncio.sleep(4 * TTL_MS / 1000)  # one await spanning four lifetimes
        return "done"

    try:
        assert await lock.hold(slow_step(), limit=60) == "done"
        assert await redis.get(lock.key) == lock.token.encode()
        assert not await rival.acquire()
    finally:
        await lock.release()
    assert await rival.acquire()  # released at once, not left to lapse
    await rival.release()


async def test_work_whose_lock_is_taken_is_stopped_not_left_unguarded(
    redis: aioredis.Redis,
) -> None:
    lock = _lock(redis)
    assert await lock.acquire()
    steps: list[float] = []

    async def work() -> None:
        while True:
            steps.append(time.monotonic())
            await asyncio.sleep(0.01)

    async def steal() -> float:
        await asyncio.sleep(0.3)
        await redis.set(lock.key, "another-holder", px=5000)  # it lapsed and was taken
        return time.monotonic()

    try:
        thief = asyncio.ensure_future(steal())
        with pytest.raises(LockLost):
            await lock.hold(work(), limit=60)
        stolen = await thief
        assert steps and max(steps) - stolen < TTL_MS / 1000  # stopped at the next renewal
        await asyncio.sleep(0.1)
        assert max(steps) - stolen < TTL_MS / 1000  # and nothing ran after
        assert await redis.get(lock.key) == b"another-holder"
    finally:
        await lock.release()  # not ours: left alone
    assert await redis.get(lock.key) == b"another-holder"
    await redis.delete(lock.key)


async def test_a_holder_stuck_past_its_limit_gives_the_lock_up(redis: aioredis.Redis) -> None:
    lock = _lock(redis)
    assert await lock.acquire()
    cancelled = asyncio.Event()

    async def stuck() -> None:
        try:
            await asyncio.Event().wait()  # an await that never returns
        except asyncio.CancelledError:
            cancelled.set()
            raise

    started = time.monotonic()
    try:
        with pytest.raises(LockLost, match="limit"):
            await lock.hold(stuck(), limit=1.0)
        assert 1.0 <= time.monotonic() - started < 1.0 + TTL_MS / 1000
        assert cancelled.is_set()
    finally:
        await lock.release()
    assert await redis.get(lock.key) is None
