"""Read-your-writes across processes: each caller's bookmarks kept in Redis between its requests,
and a request's bookmarks carried to the tasks it queues.

A caller's bookmarks are a Redis set under its identity, read in the round trip that charges its
request to its rate window, and written in the round trip that moves the cache generation on
after its write (connectors/coordination/freshness.py): read-your-writes costs the lookup path no
extra round trip. The set holds the bookmarks of the caller's latest writes (two when two of its
requests wrote at once); each write replaces the ones it superseded. It lives ``TTL`` seconds: a
cluster member that has not caught up with a write by then is broken, not lagging.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from graph.bookmarks import Chain, current, process_chain
from policies.principal import Principal

KEY = "hub:bookmarks:{issuer}:{subject}"
TTL = 60  # seconds
HEADER = "hub_bookmarks"  # a task's bookmarks, in its Celery message headers


def caller_key(principal: Principal) -> str:
    """Where a caller's bookmarks are kept: one set per token subject, like its rate window."""
    return KEY.format(issuer=principal.issuer, subject=principal.subject)


def caller_chain(key: str, members: Iterable[bytes | str], *, leader: bool = False) -> Chain:
    """The chain a caller's request follows: the bookmarks its earlier writes left under
    ``key`` (read with ``SMEMBERS``), kept there again after the request writes. ``leader``
    for a request whose answer is kept for others (hub/http/response_cache.py)."""
    raw = (m.decode() if isinstance(m, bytes) else m for m in members)
    return Chain(raw, owner=key, leader=leader)


def keep(pipe: Any) -> None:
    """Add to a write's Redis pipeline what keeps the current chain's bookmarks under its
    owner, replacing those the write superseded. Nothing for a chain without an owner (a
    worker's, the command line's)."""
    chain = current()
    if chain.owner is None or not chain.bookmarks or chain.bookmarks == chain.stored:
        return
    if stale := chain.stored - chain.bookmarks:
        pipe.srem(chain.owner, *stale)
    pipe.sadd(chain.owner, *chain.bookmarks)
    pipe.expire(chain.owner, TTL)
    chain.stored = chain.bookmarks


def carry(headers: dict[str, Any]) -> None:
    """Put the current chain's bookmarks into a task's headers: the worker that runs it first
    waits for what the request (or task) that queued it wrote."""
    chain = current()
    if chain.bookmarks:
        headers[HEADER] = sorted(chain.bookmarks)


def take(carried: object) -> None:
    """A worker about to run a task joins the bookmarks it carries into its process's chain,
    which all of its store's transactions follow."""
    process_chain().join(_carried(carried))


def release(carried: object) -> None:
    """A task done (or failed) leaves the bookmarks it carried that its own transactions did
    not supersede: one a member never reached fails that task, not the tasks after it."""
    process_chain().leave(_carried(carried))


def _carried(carried: object) -> list[str]:
    return [str(b) for b in carried] if isinstance(carried, list) else []
