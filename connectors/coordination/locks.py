"""A Redis lock for work that one process at a time should do (draining, delivering, pulling).

SET NX PX with a random token and a short lifetime, released only while still ours. While the
work runs (:meth:`RedisLock.hold`), a keeper task beside it renews the lock every fifth of its
lifetime, however long one step of the work takes, so a holder that dies frees the lock within
``LIFETIME_MS`` and a live one never loses it to a slow batch. If a renewal finds the lock gone
or another's, or no renewal got through while there was still time, the work is cancelled and
:class:`LockLost` raised: it never goes on unguarded. A holder alive but stuck (an await that
never returns) gives the lock up after the limit its caller sets, the same way.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import redis.asyncio as aioredis
from redis.exceptions import RedisError

LIFETIME_MS = 5_000  # how long a dead holder keeps others out, at most
RENEWALS = 5  # renewals per lifetime: Redis slow or away for a second does not stop the work

T = TypeVar("T")

# Compare-and-delete / compare-and-extend: touch the lock only while it is still ours.
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
_EXTEND = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""


class LockLost(Exception):
    """The lock lapsed or was taken while its holder worked, or the work outran its limit;
    the work was stopped."""


@dataclass(slots=True)
class RedisLock:
    redis: aioredis.Redis
    key: str
    ttl_ms: int = LIFETIME_MS
    token: str = field(default_factory=lambda: secrets.token_hex(16))

    async def acquire(self) -> bool:
        return bool(await self.redis.set(self.key, self.token, nx=True, px=self.ttl_ms))

    async def renew(self) -> bool:
        return bool(await self.redis.eval(_EXTEND, 1, self.key, self.token, self.ttl_ms))

    async def release(self) -> None:
        await self.redis.eval(_RELEASE, 1, self.key, self.token)

    async def hold(self, work: Coroutine[Any, Any, T], limit: float) -> T:
        """Run ``work`` (the lock acquired) while a keeper renews the lock beside it, for
        ``limit`` seconds at most; its result, or :class:`LockLost` once the keeper found the
        lock lost or the limit passed, and the work was cancelled."""
        job = asyncio.ensure_future(work)
        keeper = asyncio.ensure_future(self._keep())
        try:
            await asyncio.wait((job, keeper), timeout=limit, return_when=asyncio.FIRST_COMPLETED)
        finally:
            job.cancel()  # nothing when it finished; else the lock is lost, or time is up
            keeper.cancel()
            await asyncio.wait((job, keeper))
        if not job.cancelled():
            return job.result()
        if not keeper.cancelled():
            keeper.result()  # an error of the keeper's own is raised as it is
            raise LockLost(f"{self.key} was lost")
        raise LockLost(f"{self.key} was held {limit:g} s, the work's limit: given up")

    async def _keep(self) -> None:
        """Renew every fifth of the lifetime; return once the lock is lost: a renewal found it
        gone or another's, or none got through and the next might come too late."""
        loop = asyncio.get_running_loop()
        every = self.ttl_ms / 1000 / RENEWALS
        confirmed = loop.time()  # the lock is ours until a lifetime after this, at least
        while True:
            await asyncio.sleep(every)
            sent = loop.time()
            try:
                async with asyncio.timeout(every):
                    if not await self.renew():
                        return
                confirmed = sent
            except (TimeoutError, RedisError):
                if loop.time() + 2 * every >= confirmed + self.ttl_ms / 1000:
                    return
