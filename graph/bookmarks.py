"""Causal chains: the bookmarks a line of work must see, whichever process or member serves it.

A Neo4j cluster answers a read from whichever member it routes it to, and a follower may not yet
hold what the leader committed a moment ago. A bookmark names a committed transaction; a
transaction given one waits until its member holds it. A :class:`Chain` is the bookmark manager
of one line of work (one caller's requests, one worker's tasks): every transaction a
:class:`graph.db.Store` runs waits for the chain's bookmarks and adds its own, so the work's
reads see its writes. The current chain is set per request (hub/http) and per task
(connectors/celery_app.py); work outside both joins its process's own chain.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar


class Chain:
    """The bookmarks of one line of work: those it started from, then those of its own
    transactions. The driver takes it as a bookmark manager (its ``AsyncBookmarkManager``
    protocol). ``owner`` names where the chain is kept between requests (a Redis key), and
    ``stored`` what is stored there, so a write replaces what it has superseded. ``leader`` sends
    its reads to the leader, which holds every committed write: for an answer kept for every
    caller of a read scope, which no single caller's bookmarks make current."""

    def __init__(
        self, bookmarks: Iterable[str] = (), owner: str | None = None, *, leader: bool = False
    ) -> None:
        self.bookmarks: frozenset[str] = frozenset(bookmarks)
        self.owner = owner
        self.stored = self.bookmarks
        self.leader = leader

    def join(self, bookmarks: Iterable[str]) -> None:
        """From now on also wait for these transactions (another process's writes)."""
        self.bookmarks |= frozenset(bookmarks)

    def leave(self, bookmarks: Iterable[str]) -> None:
        """Stop waiting for these (joined for one task) where no transaction superseded them
        yet: a bookmark no member reaches must not hold up the process's later work."""
        self.bookmarks -= frozenset(bookmarks)

    async def update_bookmarks(
        self, previous_bookmarks: Collection[str], new_bookmarks: Collection[str]
    ) -> None:
        # A transaction's bookmark supersedes the ones it waited for; no await in between, so
        # concurrent sessions on one event loop need no lock.
        if new_bookmarks:
            self.bookmarks = self.bookmarks - set(previous_bookmarks) | set(new_bookmarks)

    async def get_bookmarks(self) -> set[str]:
        return set(self.bookmarks)


_PROCESS = Chain()
_CURRENT: ContextVar[Chain | None] = ContextVar("hub_chain", default=None)


def current() -> Chain:
    """The chain of the request or task being served, else this process's own."""
    return _CURRENT.get() or _PROCESS


def process_chain() -> Chain:
    """This process's own chain: a worker's tasks join it one after another."""
    return _PROCESS


@contextmanager
def following(chain: Chain | None) -> Iterator[None]:
    """Make ``chain`` current for the block (one request); None: the process's own."""
    token = _CURRENT.set(chain)
    try:
        yield
    finally:
        _CURRENT.reset(token)
