"""Draining the audit stream into the Neo4j hash chain.

The API hands each audit entry to the Redis stream ``hub:audit`` before it answers; this module
moves entries, oldest first, into the chain of ``graph.audit_chain`` and deletes them from the
stream only after the chain transaction committed. A crash in between leaves entries that are
already chained; ``append`` skips them by event id, so the next run just deletes them.

A Redis lock keeps one drainer at a time (renewed beside the work,
connectors/coordination/locks.py: a drainer killed with it blocks others five seconds at most),
which saves duplicate work. Order does not even depend on it: every batch is read from the start of
the stream, and an entry is deleted only once it and all before it are chained, so the chain is in
stream order even if two drainers overlapped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence

import redis.asyncio as aioredis
from redis.typing import EncodableT, FieldT

from connectors.coordination.locks import LockLost, RedisLock
from graph.audit_chain import DEFAULT_CHAIN, AuditEvent, append
from graph.db import Store

AUDIT_STREAM = "hub:audit"
BATCH = 2000  # stream entries per append transaction
BUDGET = 5.0  # seconds a scheduled run keeps draining before it hands over to the next
STUCK = 30.0  # seconds past the budget after which a drainer is stuck and gives the lock up

log = logging.getLogger(__name__)
Entry = tuple[bytes | str | None, Mapping[bytes | str, bytes | str] | None]


def lock_key(stream: str) -> str:
    return f"{stream}:drain-lock"


def _text(value: bytes | str | None) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def dead_letters(stream: str) -> str:
    """Where entries that are not audit events go, kept for a human instead of blocking."""
    return f"{stream}:dead"


async def _events(redis: aioredis.Redis, stream: str, entries: Sequence[Entry]) -> list[AuditEvent]:
    """The entries as events; malformed ones are copied to the dead-letter stream."""
    events = []
    for entry_id, fields in entries:
        try:
            events.append(AuditEvent.from_fields(_text(entry_id), fields or {}))
        except ValueError as exc:
            log.error(
                "audit entry %s is malformed (%s): moved to %s", entry_id, exc, dead_letters(stream)
            )
            letter: dict[FieldT, EncodableT] = {k: v for k, v in (fields or {}).items()}
            letter.update(streamId=_text(entry_id), error=str(exc))
            await redis.xadd(dead_letters(stream), letter)
    return events


async def _drain(
    redis: aioredis.Redis,
    store: Store,
    stream: str,
    chain: str,
    budget: float,
) -> int:
    deadline, moved = time.monotonic() + budget, 0
    while True:
        entries = await redis.xrange(stream, count=BATCH) or []
        if not entries:
            return moved
        # The chain is no kept answer's business: appending leaves cached answers valid.
        await append(store.bookkeeping(), await _events(redis, stream, entries), chain=chain)
        await redis.xdel(stream, *(entry_id for entry_id, _ in entries if entry_id is not None))
        moved += len(entries)
        if len(entries) < BATCH or time.monotonic() >= deadline:
            return moved


async def drain_stream(
    redis: aioredis.Redis,
    store: Store,
    *,
    stream: str = AUDIT_STREAM,
    chain: str = DEFAULT_CHAIN,
    budget: float = BUDGET,
) -> int | None:
    """Move entries from the stream into the chain until it is empty or ``budget`` seconds
    have passed; how many moved, or None when another drainer holds the lock (or took it
    while this one drained: then what it moved stays chained and it stops)."""
    lock = RedisLock(redis, lock_key(stream))
    if not await lock.acquire():
        return None
    try:
        return await lock.hold(_drain(redis, store, stream, chain, budget), limit=budget + STUCK)
    except LockLost as exc:
        log.warning("audit drain of %s stopped: %s", stream, exc)
        return None
    finally:
        await lock.release()
