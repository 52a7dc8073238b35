"""Sanctions reach partners through a real Celery worker and beat, as signed webhooks, against
partner servers on loopback that are fast, slow, failing, timing out, answering twice or down.

Every event ends delivered exactly once as each partner sees it (duplicates dropped by their
``webhook-id``), in order per subject, or dead-lettered with its reason; a worker killed with
SIGKILL mid-delivery and a Redis restart lose nothing.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from datetime import date
from pathlib import Path

import aiohttp
import pytest
import redis.asyncio as aioredis
from neo4j import AsyncDriver

from connectors import delivery
from connectors.coordination.locks import LIFETIME_MS, RedisLock
from graph.db import Store
from graph.exchange.outbox import SHARDS
from graph.records.listings import end_listing, publish_listing
from policies.credit.measures import Catalogue
from policies.targets import TargetRule
from tests.conftest import Workers, free_port, restart_redis
from tests.listings import serious_listing
from tests.partner_registry import register_partner
from tests.partners import Behaviour, Inbox, PartnerServer
from tests.subjects import fresh_subjects

EVENTS = ["sanction.listed", "sanction.ended"]  # what every partner here is told of


async def _retire(driver: AsyncDriver) -> None:
    """Later tests' events go to nobody here."""
    await driver.execute_query(
        "MATCH (p:Partner) WHERE p.code STARTS WITH 'DL-' SET p.status = 'DISABLED'"
    )


async def _states(driver: AsyncDriver, partner: str) -> dict[str, list[dict[str, object]]]:
    records, _, _ = await driver.execute_query(
        "MATCH (d:Delivery {partner: $p}) RETURN d.status AS status, d.event AS event, "
        "d.attempts AS attempts, d.lastError AS error ORDER BY d.version",
        p=partner,
    )
    out: dict[str, list[dict[str, object]]] = {}
    for r in records:
        out.setdefault(r["status"], []).append(dict(r))
    return out


async def _settled(driver: AsyncDriver, partners: list[str], expected: int, wait: float) -> None:
    deadline = time.monotonic() + wait
    while True:
        records, _, _ = await driver.execute_query(
            "MATCH (d:Delivery) WHERE d.partner IN $ps RETURN d.status AS s, count(*) AS n",
            ps=partners,
        )
        counts = {r["s"]: r["n"] for r in records}
        if counts.get("PENDING", 0) == 0 and sum(counts.values()) == expected:
            return
        assert time.monotonic() < deadline, f"still {counts}; see logs/delivery-worker.log"
        await asyncio.sleep(0.25)


async def _listings(
    store: Store, catalogue: Catalogue, subjects: list[tuple[str, str]], tag: str
) -> list[str]:
    """List every subject, then end every listing: two events per subject, listed first."""
    today = date.today()
    events = []
    for code, record in subjects:
        decision = serious_listing(f"S-DL-{tag}-{code[-6:]}", code, record, days=3 * 365)
        events.append((await publish_listing(store, catalogue, decision)).id)
    for code, _ in subjects:
        ended = await end_listing(store, catalogue, f"S-DL-{tag}-{code[-6:]}", "REPAIRED", today)
        assert ended is not None
        events.append(ended.id)
    return events


async def _first_failure(driver: AsyncDriver, partner: str, wait: float = 20) -> None:
    """Until a delivery to ``partner`` has failed once: a fixed sleep raced the retries, which
    on a quiet machine were all spent before a partner that came up late was listening."""
    deadline = asyncio.get_running_loop().time() + wait
    while asyncio.get_running_loop().time() < deadline:
        records, _, _ = await driver.execute_query(
            "MATCH (d:Delivery {partner: $p}) WHERE d.attempts >= 1 RETURN count(d) AS n",
            p=partner,
        )
        if records[0]["n"]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no delivery to {partner} was tried within {wait} s")


async def test_every_event_reaches_every_partner_once_in_order_or_is_dead_lettered(
    driver: AsyncDriver, store: Store, workers: Workers, rules: tuple[Path, Catalogue]
) -> None:
    catalogue = rules[1]
    behaviours = {
        "DL-FAST": ("BANK", Behaviour()),
        "DL-SLOW": ("BIDDING", Behaviour(always_sleep=0.4)),
        "DL-FLAKY": ("PROCUREMENT", Behaviour(fail_first=2)),
        "DL-TIMEOUT": ("LAND_MINING", Behaviour(sleep_first=1, sleep=1.5)),
        "DL-TWICE": ("DEPARTMENT", Behaviour(accept_then_fail=1)),
    }
    servers: dict[str, PartnerServer] = {}
    for code, (kind, behaviour) in behaviours.items():
        server = PartnerServer(free_port(), Inbox("", behaviour))
        server.inbox.secret = await register_partner(
            store, catalogue, code, kind, server.url, EVENTS, "SHARED"
        )
        servers[code] = server.start()
    late_port = free_port()  # nothing listens here until the partner comes up
    late_url = f"http://127.0.0.1:{late_port}/hub-events"
    late_inbox = Inbox(
        await register_partner(store, catalogue, "DL-LATE", "BANK", late_url, EVENTS, "SHARED"),
        Behaviour(),
    )
    dead_port = free_port()  # never answers
    await register_partner(
        store,
        catalogue,
        "DL-DOWN",
        "BANK",
        f"http://127.0.0.1:{dead_port}/hub-events",
        EVENTS,
        "SHARED",
    )
    try:
        subjects = fresh_subjects(4)
        events = await _listings(store, catalogue, subjects, "A")
        assert events
        await _first_failure(driver, "DL-LATE")  # it has been tried, and failed, at least once
        servers["DL-LATE"] = PartnerServer(late_port, late_inbox).start()  # comes up late
        everyone = [*behaviours, "DL-LATE", "DL-DOWN"]
        await _settled(driver, everyone, expected=len(events) * len(everyone), wait=60)

        for code, server in servers.items():
            inbox = server.inbox
            assert sorted(inbox.ids) == sorted(events), code  # each event once, none missing
            assert inbox.bad_signatures == 0, code
            for subject, _ in subjects:  # listed before ended, per subject
                kinds = [m["type"] for m in inbox.applied if m["data"]["creditCode"] == subject]
                assert kinds == ["sanction.listed", "sanction.ended"], (code, subject)
            states = await _states(driver, code)
            assert set(states) == {"DELIVERED"}, (code, states.keys())
        assert servers["DL-TWICE"].inbox.duplicates == len(events)  # each came twice, kept once
        assert all(n == 3 for n in servers["DL-FLAKY"].inbox.copies.values())
        measures = {m["code"] for m in servers["DL-FAST"].inbox.applied[0]["data"]["measures"]}
        assert measures == {"LOAN_REVIEW"}  # a bank is told the bank's measure only

        dead = await _states(driver, "DL-DOWN")
        assert set(dead) == {"DEAD"} and len(dead["DEAD"]) == len(events)
        assert all(d["attempts"] == 4 and "Connect" in str(d["error"]) for d in dead["DEAD"])
    finally:
        for server in servers.values():
            server.stop()
        await _retire(driver)


async def test_a_worker_killed_mid_delivery_and_a_redis_restart_lose_nothing(
    driver: AsyncDriver, store: Store, workers: Workers, rules: tuple[Path, Catalogue]
) -> None:
    """SIGKILL the whole worker while a slow partner holds requests open, then SIGKILL Redis
    (the broker, with the queued tasks and the lane locks) and start both again: every event
    still arrives, once."""
    catalogue = rules[1]
    server = PartnerServer(free_port(), Inbox("", Behaviour(always_sleep=0.5)))
    server.inbox.secret = await register_partner(
        store, catalogue, "DL-KILL", "BANK", server.url, EVENTS, "SHARED"
    )
    server.start()
    try:
        subjects = fresh_subjects(6)
        events = await _listings(store, catalogue, subjects, "K")
        deadline = time.monotonic() + 20
        while not server.inbox.copies:  # wait until deliveries are in flight
            assert time.monotonic() < deadline, "no delivery started"
            await asyncio.sleep(0.05)
        os.killpg(workers.worker.pid, signal.SIGKILL)
        workers.worker.wait(timeout=10)
        assert len(server.inbox.ids) < len(events)  # killed with work left
        restart_redis(hard=True)
        workers.restart_worker()
        await _settled(driver, ["DL-KILL"], expected=len(events), wait=90)
        assert sorted(server.inbox.ids) == sorted(events)
        assert server.inbox.bad_signatures == 0
    finally:
        if workers.worker.poll() is not None:  # the suite's worker is shared: leave one running
            workers.restart_worker()
        server.stop()
        await _retire(driver)


async def test_a_worker_killed_mid_batch_frees_its_lanes_within_seconds(
    driver: AsyncDriver,
    store: Store,
    redis: aioredis.Redis,
    redis_server: str,
    workers: Workers,
    rules: tuple[Path, Catalogue],
) -> None:
    """SIGKILL the whole worker while a slow partner holds its posts: the lanes it held are
    free within the lock's lifetime (not the longest batch's), the partner's queue moves again
    within seconds of a worker being back, and every event arrives once as the partner keeps
    it, under its own ``webhook-id``, in order per subject."""
    catalogue = rules[1]
    server = PartnerServer(free_port(), Inbox("", Behaviour(always_sleep=0.5)))
    server.inbox.secret = await register_partner(
        store, catalogue, "DL-HELD", "BANK", server.url, EVENTS, "SHARED"
    )
    server.start()
    keys = [delivery.lane_lock(redis, "DL-HELD", shard).key for shard in range(SHARDS)]
    waiting = [RedisLock(redis, key, ttl_ms=120_000) for key in keys]  # until all are listed
    try:
        for lock in waiting:
            assert await lock.acquire()
        subjects = fresh_subjects(8)
        events = await _listings(store, catalogue, subjects, "H")
        for lock in waiting:
            await lock.release()  # the worker's sweep takes the lanes within a second
        deadline = time.monotonic() + 20
        while not server.inbox.holding:  # the worker's runners wait on posts the partner holds
            assert time.monotonic() < deadline, "no delivery started"
            await asyncio.sleep(0.02)
        os.killpg(workers.worker.pid, signal.SIGKILL)
        killed = time.monotonic()
        workers.worker.wait(timeout=10)
        held = {
            key: token for key, token in zip(keys, await redis.mget(keys), strict=True) if token
        }
        assert held, "the killed worker held no lane"
        workers.restart_worker()
        while set(held.values()) & set(await redis.mget(list(held))):  # a killed runner's token
            assert time.monotonic() - killed < LIFETIME_MS / 1000 + 1, "its lanes are still held"
            await asyncio.sleep(0.05)
        freed, sent = time.monotonic(), sum(server.inbox.copies.values())
        assert workers.answers(redis_server, 60), "the worker did not come back"
        back = time.monotonic()
        while sum(server.inbox.copies.values()) == sent:
            assert time.monotonic() - max(freed, back) < 5, "the partner's queue did not move"
            await asyncio.sleep(0.05)

        await _settled(driver, ["DL-HELD"], expected=len(events), wait=60)
        inbox = server.inbox
        assert sorted(inbox.ids) == sorted(events)  # each kept once, none missing
        assert set(inbox.copies) == set(events)  # every copy came under its event's id
        assert any(n > 1 for n in inbox.copies.values())  # a post the kill cut, sent again
        assert inbox.bad_signatures == 0
        for subject, _ in subjects:
            kinds = [m["type"] for m in inbox.applied if m["data"]["creditCode"] == subject]
            assert kinds == ["sanction.listed", "sanction.ended"], subject
    finally:
        for lock in waiting:
            await lock.release()
        if workers.worker.poll() is not None:  # the suite's worker is shared: leave one running
            workers.restart_worker()
        server.stop()
        await _retire(driver)


async def test_a_runner_refilling_while_posts_are_out_keeps_each_subject_in_order(
    driver: AsyncDriver,
    store: Store,
    redis: aioredis.Redis,
    rules: tuple[Path, Catalogue],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two posts in flight per lane, refilled as soon as one is back while the other is still
    out, at a partner that answers in random order: each subject's events arrive in order, each
    once. Run in this process (the lanes held until then, so the suite's worker leaves them)."""
    catalogue = rules[1]
    monkeypatch.setattr(delivery, "IN_FLIGHT", 2)
    server = PartnerServer(free_port(), Inbox("", Behaviour(jitter=0.05)))
    server.inbox.secret = await register_partner(
        store, catalogue, "DL-REFILL", "BANK", server.url, EVENTS, "SHARED"
    )
    server.start()
    # Held, unrenewed, until the lanes run here: long enough for the listings to be written.
    keys = [delivery.lane_lock(redis, "DL-REFILL", shard).key for shard in range(SHARDS)]
    held = [RedisLock(redis, key, ttl_ms=120_000) for key in keys]
    try:
        for lock in held:
            assert await lock.acquire()
        subjects = fresh_subjects(16)
        events = await _listings(store, catalogue, subjects, "R")
        loopback = TargetRule(public_only=False, https_only=True)

        async def lane(lock: RedisLock, shard: int) -> delivery.LaneRun:
            await lock.release()
            return await delivery.run_lane(
                store, redis, http, catalogue, "DL-REFILL", shard, loopback
            )

        async with aiohttp.ClientSession() as http:
            runs = await asyncio.gather(*(lane(lock, n) for n, lock in enumerate(held)))
        assert sum(run.delivered for run in runs) > len(events) // 2  # here, not by the worker
        await _settled(driver, ["DL-REFILL"], expected=len(events), wait=30)
        assert sorted(server.inbox.ids) == sorted(events)
        assert server.inbox.duplicates == 0 and server.inbox.bad_signatures == 0
        for subject, _ in subjects:
            kinds = [m["type"] for m in server.inbox.applied if m["data"]["creditCode"] == subject]
            assert kinds == ["sanction.listed", "sanction.ended"], subject
    finally:
        for lock in held:
            await lock.release()
        server.stop()
        await _retire(driver)
