"""The Neo4j connection: one async driver per process, short timeouts so outages surface fast."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass, replace
from typing import Any, Concatenate, ParamSpec, TypeVar

from neo4j import (
    AsyncDriver,
    AsyncGraphDatabase,
    AsyncManagedTransaction,
    AsyncSession,
    EagerResult,
    Query,
    Record,
)
from neo4j.exceptions import TransientError

from graph import bookmarks

P = ParamSpec("P")
T = TypeVar("T")
Changed = Callable[[], Awaitable[None]]
Gate = Callable[[], Awaitable[None]]
Watch = Callable[[str], AbstractContextManager[None]]  # around each use of a connection


DEADLOCK = "Neo.TransientError.Transaction.DeadlockDetected"
# How long a write goes on being tried again while it keeps losing deadlocks. Every transaction
# that writes an event ends on the one feed counter (graph/exchange/outbox.py) after locking
# its subject's nodes, so under load two can wait on each other; Neo4j stops one at once, and
# the driver tries it again for only a second (``max_transaction_retry_time``, short so that
# an outage is answered fast), which a busy store outlasted (bench/RESULTS.md, "Soak").
CONTENTION_SECONDS = 15.0


class WritesPaused(RuntimeError):
    """Writes are refused for a while (``hub backup`` is reading the store): retry shortly."""


async def _through_deadlocks(attempt: Callable[[], Awaitable[T]]) -> T:
    """``attempt()``, again after a short random pause while it loses deadlocks."""
    deadline = time.monotonic() + CONTENTION_SECONDS
    while True:
        try:
            return await attempt()
        except TransientError as exc:
            if exc.code != DEADLOCK or time.monotonic() > deadline:
                raise
        await asyncio.sleep(random.uniform(0.01, 0.1))


@dataclass(frozen=True, slots=True)
class Neo4jConfig:
    uri: str = "bolt://127.0.0.1:7687"
    user: str = ""
    password: str = ""
    database: str = "neo4j"
    pool_size: int = 50
    connect_timeout: float = 2.0
    query_timeout: float = 5.0


@dataclass(frozen=True, slots=True)
class Store:
    """One database on one driver and how long one query may run: the handle every graph
    function takes first, instead of a driver, a database name and a time limit apart.

    ``changed`` is awaited after every write through this store, committed or not (a failed
    batch may have committed the ones before it): answers kept from before it are stale
    (connectors/coordination/freshness.py moves the cache generation on, and keeps the caller's
    bookmarks).

    Every transaction joins the current causal chain (graph/bookmarks.py): in a cluster it
    waits until the member serving it holds the chain's earlier writes.

    ``gate`` is awaited before every write and raises :class:`WritesPaused` while writes are
    paused (connectors/coordination/maintenance.py), so a backup reads a store that holds still.

    ``watch`` wraps each use of a pooled connection (a session, a statement) with its access
    mode, for the API's metrics of Neo4j (hub/http/metrics.py: time held, connections in use)."""

    driver: AsyncDriver
    database: str = "neo4j"
    time_limit: float = 5.0
    changed: Changed | None = None
    gate: Gate | None = None
    watch: Watch | None = None

    def bookkeeping(self) -> Store:
        """This store for writes no kept answer shows (the audit chain, delivery attempts):
        they leave the cache generation where it is."""
        return replace(self, changed=None)

    @asynccontextmanager
    async def session(self, *, read: bool = False) -> AsyncIterator[AsyncSession]:
        """A session on this database; ``read`` routes it to readers in a cluster (unless the
        current chain asks for the leader)."""
        if not read:
            await self._gate()
        chain = bookmarks.current()
        try:
            with self._watched("read" if read else "write"):
                async with self.driver.session(
                    database=self.database,
                    default_access_mode="READ" if read and not chain.leader else "WRITE",
                    bookmark_manager=chain,
                ) as session:
                    yield session
        finally:
            if not read:
                await self._changed()

    async def read(self, cypher: str, **params: Any) -> list[Record]:
        """One auto-commit read within the time limit: a single round trip, about twice the
        throughput of a managed transaction for short lookups (measured in bench/RESULTS.md).
        Routed to readers in a cluster."""
        async with self.session(read=True) as session:
            result = await session.run(Query(cypher, timeout=self.time_limit), params)
            return [record async for record in result]

    async def ping(self) -> None:
        """Raise unless Neo4j answers a trivial query."""
        await self.driver.execute_query("RETURN 1", database_=self.database, routing_="r")

    async def execute(
        self,
        cypher: str,
        parameters: dict[str, Any] | None = None,
        /,
        *,
        read: bool = False,
        **params: Any,
    ) -> list[Record]:
        """One statement in its own managed transaction, retried on transient errors; ``read``
        routes it to readers in a cluster. Parameters come as a dict, as keywords, or both.
        A statement that changed nothing does not count as a write."""
        wrote = not read
        if wrote:
            await self._gate()
        chain = bookmarks.current()

        async def attempt() -> EagerResult:
            with self._watched("read" if read else "write"):
                return await self.driver.execute_query(
                    cypher,
                    parameters,
                    database_=self.database,
                    routing_="r" if read and not chain.leader else "w",
                    bookmark_manager_=chain,
                    **params,
                )

        try:
            result = await _through_deadlocks(attempt)
            counters = result.summary.counters
            wrote = wrote and (counters.contains_updates or counters.contains_system_updates)
            return list(result.records)
        finally:
            if wrote:
                await self._changed()

    async def write(
        self,
        work: Callable[Concatenate[AsyncManagedTransaction, P], Awaitable[T]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Run ``work`` in one managed write transaction (retried whole on transient errors, so
        ``work`` must be safe to run again), also while it keeps losing deadlocks."""

        async def attempt() -> T:
            async with self.session() as session:
                return await session.execute_write(work, *args, **kwargs)

        return await _through_deadlocks(attempt)

    def _watched(self, mode: str) -> AbstractContextManager[None]:
        return self.watch(mode) if self.watch is not None else nullcontext()

    async def _gate(self) -> None:
        if self.gate is not None:
            await self.gate()

    async def _changed(self) -> None:
        if self.changed is not None:
            await self.changed()


def connect(config: Neo4jConfig) -> AsyncDriver:
    """Open a driver. Connections are made lazily and re-made after the server returns."""
    auth = (config.user, config.password) if config.user else None
    return AsyncGraphDatabase.driver(
        config.uri,
        auth=auth,
        max_connection_pool_size=config.pool_size,
        connection_timeout=config.connect_timeout,
        connection_acquisition_timeout=config.connect_timeout + 1,
        # Reads fail fast while Neo4j is down instead of retrying for 30 s; callers map the
        # error to UNAVAILABLE and the next request finds the server again.
        max_transaction_retry_time=1.0,
        keep_alive=True,
        notifications_min_severity="OFF",
    )
