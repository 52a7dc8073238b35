"""A write that keeps losing deadlocks for longer than the driver retries (a second) is tried
again until it gets through, as the soak's removeAbnormal did not (bench/RESULTS.md, "Soak")."""

from __future__ import annotations

import asyncio
import threading
import time
from uuid import uuid4

from neo4j import AsyncManagedTransaction, GraphDatabase

from graph.db import Store
from hub.settings import get_settings

LOCK = "MATCH (n:DeadlockTest {run: $run}) WHERE n.n IN $n SET n.v = coalesce(n.v, 0) + 1"


async def test_a_write_outlasts_deadlocks_that_go_on_past_the_drivers_retries(
    store: Store,
) -> None:
    run = uuid4().hex
    await store.execute(
        "UNWIND [1, 2, 3, 4] AS n CREATE (:DeadlockTest {run: $run, n: n})", run=run
    )
    b_held, a_held, stop = threading.Event(), threading.Event(), threading.Event()

    def rival() -> None:
        """Holds B (and two more nodes), then asks for A once the write holds A: the write's
        request for B closes the cycle, and Neo4j stops the write, the side holding fewer locks
        (Forseti's ABORT_YOUNG). Round after round, for three seconds."""
        with GraphDatabase.driver(get_settings().neo4j_uri) as driver:
            while not stop.is_set():
                with driver.session() as session, session.begin_transaction() as tx:
                    tx.run(LOCK, run=run, n=[2, 3, 4]).consume()
                    b_held.set()
                    if not a_held.wait(2):
                        tx.rollback()  # the write is through: this round moves nothing
                        continue
                    a_held.clear()
                    tx.run(LOCK, run=run, n=[1]).consume()  # waits until the write loses
                    tx.commit()

    async def work(tx: AsyncManagedTransaction) -> None:
        rival_ready = await asyncio.to_thread(b_held.wait, 1)
        b_held.clear()
        await (await tx.run(LOCK, run=run, n=[1])).consume()
        if rival_ready:
            a_held.set()
            await asyncio.sleep(0.3)  # the rival is waiting for A now
        await (await tx.run(LOCK, run=run, n=[2])).consume()

    thread = threading.Thread(target=rival)
    thread.start()
    threading.Timer(3.0, stop.set).start()
    started = time.monotonic()
    try:
        await store.write(work)
    finally:
        stop.set()
        thread.join()
    # The write went on through deadlocks for longer than the driver's own second of retries,
    # and wrote once: A and B each moved once by it, and once a round by the rival.
    assert time.monotonic() - started > 2.0
    counts = await store.execute(
        "MATCH (n:DeadlockTest {run: $run}) WHERE n.n <= 2 RETURN n.n AS n, n.v AS v ORDER BY n",
        run=run,
    )
    assert counts[0]["v"] == counts[1]["v"], counts
    await store.execute("MATCH (n:DeadlockTest {run: $run}) DELETE n", run=run)
