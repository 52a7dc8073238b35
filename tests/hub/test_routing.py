"""The hub against a routing URI (``neo4j://``, what a cluster or Aura is reached by) and across
two API processes: a second API started with ``neo4j://`` against the test Neo4j writes and
reads, a reviewer's approval through one process is what the other process answers at once,
and the command line works through the routing URI too.

A single server always holds every committed write, so the bookmarks that give read-your-writes
in a cluster (graph/bookmarks.py, connectors/coordination/causal.py) are proved by planting one the
server has not reached yet: a caller's next read, through either process, and a task queued after it
wait for it, and answer UNAVAILABLE rather than from before it when it never comes."""

from __future__ import annotations

import asyncio
import base64
import io
import os
import struct
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from connectors.storage.config import open_storage
from graph.archive.imports import find_import, new_import_id
from graph.bookmarks import Chain, following
from graph.db import Store
from hub.cli import services
from hub.http.rest.uploads import archive_key
from hub.settings import get_settings
from tests.conftest import (
    NEO4J_PORT,
    GraphQLClient,
    free_port,
    hub_command,
    mint,
    start_api,
    unit_token,
)
from tests.subjects import fresh_subjects, land_penalty

UNIT = "NMG152201"
ROUTED = f"neo4j://127.0.0.1:{NEO4J_PORT}"
SUBMIT = "mutation($r: RecordInput!) { submitRecord(record: $r) { id status } }"
APPROVE = "mutation($id: String!) { approveRecord(id: $id) { status } }"
RECORD = "query($id: String!) { creditRecord(id: $id) { status } }"
LOOKUP = "query($c: String!) { subject(creditCode: $c) { records { id status } } }"


@pytest.fixture
def routed_api(api: str) -> Iterator[str]:
    """A second API process, reaching Neo4j through the routing URI."""
    port = free_port()
    proc = start_api(port, "api-routed", HUB_NEO4J_URI=ROUTED)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        services.stop_process(proc.pid, timeout=20)
        proc.wait(timeout=5)


def submit(base: str, clerk: str, code: str, mark: str) -> str:
    """A record of ``code`` submitted by ``clerk`` through the API at ``base``: its id."""
    record = land_penalty(code, mark)
    submitter = GraphQLClient(base, unit_token("submitter", UNIT, clerk))
    return str(submitter.data(SUBMIT, {"r": record})["submitRecord"]["id"])  # type: ignore[index]


def test_an_approval_through_one_process_is_read_through_the_other(
    api: str, routed_api: str
) -> None:
    ((code, _),) = fresh_subjects(1)
    record_id = submit(routed_api, "route-clerk", code, "RT")
    bank = GraphQLClient(api, mint("partner"))
    before = bank.data(LOOKUP, {"c": code})["subject"]["records"]  # type: ignore[index]
    assert record_id not in {r["id"] for r in before}
    for approver, reader in ((routed_api, api), (api, routed_api)):
        if approver == api:  # the second round: a new record, approved on the bolt:// side
            record_id = submit(routed_api, "route-clerk", code, "RU")
        reviewer = unit_token("reviewer", UNIT, "route-reviewer")
        approved = GraphQLClient(approver, reviewer).data(APPROVE, {"id": record_id})
        assert approved["approveRecord"]["status"] == "PUBLISHED"  # type: ignore[index]
        # Whichever process answers next, the reviewer and a partner see the approval.
        seen = GraphQLClient(reader, reviewer).data(RECORD, {"id": record_id})
        assert seen["creditRecord"] == {"status": "PUBLISHED"}
        records = GraphQLClient(reader, mint("partner")).data(LOOKUP, {"c": code})
        assert {"id": record_id, "status": "PUBLISHED"} in records["subject"]["records"]  # type: ignore[index]


def test_the_command_line_works_through_the_routing_uri(api: str) -> None:
    routed = {**os.environ, "HUB_NEO4J_URI": ROUTED}
    hub_command("migrate", env=routed)  # schema writes
    ((code, _),) = fresh_subjects(1)
    rated = hub_command("rate", code, env=routed)  # reads its inputs, writes the rating
    assert code in rated.stdout
    grade = GraphQLClient(api, mint("partner")).data(
        "query($c: String!) { subject(creditCode: $c) { rating { grade } } }", {"c": code}
    )
    assert grade["subject"]["rating"]["grade"]  # type: ignore[index]


# --- bookmarks: read-your-writes whichever process answers ---------------------------------

# Two committed transactions, nothing left behind (a node made and removed in one commits none).
PROBES = ("CREATE (:BookmarkProbe)", "MATCH (n:BookmarkProbe) DELETE n")


def ahead(bookmark: str, transactions: int) -> str:
    """A bookmark ``transactions`` past ``bookmark``: Neo4j 5's ``FB:`` bookmark is base64 of
    PackStream bytes whose 20th starts the transaction id (after a list marker and the
    database's 16-byte id), written back as a 64-bit PackStream integer."""
    prefix, text = bookmark.split(":", 1)
    data = base64.b64decode(text + "=" * (-len(text) % 4))
    assert data[:3] == b"\x91\xcc\x10", bookmark  # the layout this helper knows
    marker = data[19]
    size = {0xC8: 1, 0xC9: 2, 0xCA: 4, 0xCB: 8}.get(marker, 0)
    tx = int.from_bytes(data[20 : 20 + size], "big", signed=True) if size else marker
    moved = data[:19] + b"\xcb" + struct.pack(">q", tx + transactions) + data[20 + size :]
    return f"{prefix}:{base64.b64encode(moved).decode()}"


async def latest(store: Store) -> str:
    """The bookmark of a transaction committed just now."""
    async with store.driver.session() as session:
        for probe in PROBES:
            await (await session.run(probe)).consume()
        (bookmark,) = (await session.last_bookmarks()).raw_values
    return bookmark


async def plant(redis: aioredis.Redis, person: str, bookmarks: list[str]) -> None:
    """Replace the bookmarks a caller's writes left in Redis (they must have left some)."""
    keys = await redis.keys(f"hub:bookmarks:*:{person}")
    assert len(keys) == 1, keys
    assert await redis.smembers(keys[0]), "the caller's write left no bookmark"
    await redis.delete(keys[0])
    await redis.sadd(keys[0], *bookmarks)


async def catch_up(store: Store, transactions: int) -> None:
    """Commit ``transactions`` transactions or one more, quickly (one session, no cache
    bookkeeping)."""
    async with store.driver.session() as session:
        for _ in range(0, transactions, 2):
            for probe in PROBES:
                await (await session.run(probe)).consume()


async def pending(work: asyncio.Future[Any], seconds: float) -> bool:
    """Whether ``work`` is still waiting after ``seconds``."""
    await asyncio.sleep(seconds)
    return not work.done()


async def test_a_reviewers_next_read_waits_for_its_own_last_write(
    api: str, routed_api: str, store: Store, redis: aioredis.Redis, workers_paused: None
) -> None:
    ((code, _),) = fresh_subjects(1)
    record_id = submit(routed_api, "bm-clerk", code, "BK")
    reviewer = unit_token("reviewer", UNIT, "bm-reviewer")
    approved = GraphQLClient(api, reviewer).data(APPROVE, {"id": record_id})
    assert approved["approveRecord"]["status"] == "PUBLISHED"  # type: ignore[index]
    # The approval left its bookmark under the reviewer; make it one the server lacks, as a
    # follower that has not caught up with the leader would.
    await plant(redis, "bm-reviewer", [ahead(await latest(store), 5)])
    started = time.monotonic()
    read = asyncio.ensure_future(
        asyncio.to_thread(GraphQLClient(routed_api, reviewer).post, RECORD, {"id": record_id})
    )
    assert await pending(read, 2.5), "the other process answered without waiting"
    await catch_up(store, 5)  # as the follower catches up
    answer = await read
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["creditRecord"] == {"status": "PUBLISHED"}
    assert time.monotonic() - started >= 2.5


async def test_a_read_behind_its_bookmark_answers_unavailable_not_stale(
    api: str, routed_api: str, store: Store, redis: aioredis.Redis, workers_paused: None
) -> None:
    ((code, _),) = fresh_subjects(1)
    bank = GraphQLClient(api, mint("partner"))
    submit(api, "bm-bank-clerk", code, "BU")
    await plant(redis, "bm-bank-clerk", [ahead(await latest(store), 100_000)])
    # A bank has no write of its own to wait for: its lookups answer at once.
    assert bank.data(LOOKUP, {"c": code})["subject"] is not None
    for base in (api, routed_api):  # the clerk's next read, whichever process serves it
        clerk = GraphQLClient(base, unit_token("submitter", UNIT, "bm-bank-clerk"))
        answer = await asyncio.to_thread(clerk.post, LOOKUP, {"c": code})
        assert answer.status_code == 503, answer.text
        assert answer.headers["Retry-After"]
        (error,) = answer.json()["errors"]
        assert error["extensions"]["code"] == "UNAVAILABLE"
        assert "caught up with your last write" in error["message"]


async def test_a_task_waits_for_the_writes_of_whoever_queued_it(
    shared_worker_stopped: None, lone_worker: Any, store: Store, redis: aioredis.Redis
) -> None:
    from connectors.celery_app import HEARTBEAT_KEY
    from connectors.tasks import heartbeat, import_archive

    await redis.delete(HEARTBEAT_KEY)
    await asyncio.to_thread(heartbeat.delay)
    deadline = time.monotonic() + 120  # a cold worker on a loaded machine
    while not await redis.get(HEARTBEAT_KEY):
        assert time.monotonic() < deadline, "the worker never started"
        await asyncio.sleep(0.2)
    import_id = new_import_id()
    key = archive_key(import_id, "jsonl")
    await asyncio.to_thread(open_storage(get_settings().storage_config).put, key, io.BytesIO())
    with following(Chain([ahead(await latest(store), 5)])):  # as a request that wrote
        await asyncio.to_thread(
            import_archive.delay, import_id, key, UNIT, "bm-task", "empty.jsonl", "jsonl"
        )
    await asyncio.sleep(2.5)  # the idle worker took it at once: it waits for the server
    assert await find_import(store, import_id) is None, "the task ran without waiting"
    await catch_up(store, 5)
    deadline = time.monotonic() + 30
    while (found := await find_import(store, import_id)) is None or found["status"] in (
        "QUEUED", "RUNNING",
    ):  # fmt: skip
        assert time.monotonic() < deadline, found
        await asyncio.sleep(0.2)
    assert found["status"] == "DONE", found
