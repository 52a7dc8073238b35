"""A Redis lock for work that one process at a time should do (draining, delivering).

SET NX PX with a random token; renewed while the work goes on, released only while still ours.
A holder that dies blocks others for the lock's lifetime at most.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

import redis.asyncio as aioredis

# Compare-and-delete / compare-and-extend: touch the lock only while it is still ours.
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
_EXTEND = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""


@dataclass(slots=True)
class RedisLock:
    redis: aioredis.Redis
    key: str
    ttl_ms: int
    token: str = field(default_factory=lambda: secrets.token_hex(16))

    async def acquire(self) -> bool:
        return bool(await self.redis.set(self.key, self.token, nx=True, px=self.ttl_ms))

    async def renew(self) -> bool:
        return bool(await self.redis.eval(_EXTEND, 1, self.key, self.token, self.ttl_ms))

    async def release(self) -> None:
        await self.redis.eval(_RELEASE, 1, self.key, self.token)
