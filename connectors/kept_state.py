"""The Redis state a backup keeps, read out as JSON lines and written back on restore.

Kept, because the graph alone would lose something:

- ``hub:audit``: audit entries not yet drained into the chain (audited answers already given);
  their stream ids are their event ids, so they come back with the same ids.
- ``hub:audit:dead``: malformed audit entries set aside for a person.
- ``hub:feed:{code}``: each pulled list's state (etag, last outcome, next due time).
- ``hub:import:{id}:task``: the arguments of an import under way, so that reclaim takes it up.

Left out, because they rebuild themselves or only matter to running processes: the Celery
queues (deliveries are driven from the outbox in the graph), rate and filing windows, locks,
the workers' heartbeat, the portal's page cache, the kept answers and liveness keys. The
cache generation is not copied but moved on past both sides' values, so no kept answer
outlives a restore.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import redis.asyncio as aioredis

from connectors.audit_drain import AUDIT_STREAM, dead_letters
from connectors.coordination.freshness import GENERATION_KEY

STREAMS = (AUDIT_STREAM, dead_letters(AUDIT_STREAM))
PATTERNS = ("hub:feed:*", "hub:import:*:task")
PAGE = 1000


class StateConflict(RuntimeError):
    """Redis already holds an entry a restore would write (an API is running against it)."""


def _text(value: bytes | str) -> str:
    """Redis bytes as JSON text; bytes that are not UTF-8 survive (surrogate escapes)."""
    return value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else value


def _bytes(value: str) -> bytes:
    return value.encode("utf-8", "surrogateescape")


async def kept_keys(redis: aioredis.Redis) -> list[str]:
    """The kept keys this Redis holds now."""
    keys = [name for name in STREAMS if await redis.exists(name)]
    for pattern in PATTERNS:
        async for key in redis.scan_iter(match=pattern, count=500):
            kind = _text(await redis.type(key))
            # a feed's lock shares the prefix: only its state (a hash) and import arguments
            if (kind == "hash") or (kind == "string" and _text(key).endswith(":task")):
                keys.append(_text(key))
    return sorted(keys)


async def read_state(redis: aioredis.Redis) -> AsyncIterator[dict[str, Any]]:
    """The kept state as lines: one per stream entry, hash or string."""
    for key in await kept_keys(redis):
        if key in STREAMS:
            after = "-"
            while entries := await redis.xrange(key, min=after, count=PAGE):
                for entry_id, fields in entries:
                    pairs = {_text(k): _text(v) for k, v in (fields or {}).items()}
                    yield {"redis": key, "entry": [_text(entry_id or b""), pairs]}
                after = "(" + _text(entries[-1][0] or b"")
        elif _text(await redis.type(key)) == "hash":
            values = await redis.hgetall(key)
            yield {"redis": key, "hash": {_text(k): _text(v) for k, v in values.items()}}
        else:
            value = await redis.get(key)
            if value is not None:
                yield {"redis": key, "string": _text(value)}


async def generation(redis: aioredis.Redis) -> int:
    return int(await redis.get(GENERATION_KEY) or 0)


async def clear(redis: aioredis.Redis) -> None:
    """Delete the kept keys (``hub restore --force`` replaces them)."""
    keys = await kept_keys(redis)
    if keys:
        await redis.delete(*keys)


async def write_state(redis: aioredis.Redis, lines: list[dict[str, Any]]) -> None:
    """Write lines :func:`read_state` produced (checked by the caller), in one round trip."""
    pipe = redis.pipeline(transaction=False)
    for line in lines:
        key = line["redis"]
        if "entry" in line:
            entry_id, fields = line["entry"]
            pipe.xadd(key, {k: _bytes(v) for k, v in fields.items()}, id=entry_id)
        elif "hash" in line:
            pipe.hset(key, mapping={k: _bytes(v) for k, v in line["hash"].items()})
        else:
            pipe.set(key, _bytes(line["string"]))
    try:
        await pipe.execute()
    except aioredis.ResponseError as exc:
        raise StateConflict(
            f"Redis refused a kept entry ({exc}): an API or worker is writing to it; stop them "
            "(`hub down`) and run `hub restore --force`"
        ) from None


async def move_generation_on(redis: aioredis.Redis, past: int) -> int:
    """Set the cache generation beyond both its value and ``past`` (the backed-up one)."""
    now = await generation(redis)
    return int(await redis.incrby(GENERATION_KEY, max(past - now, 0) + 1))
