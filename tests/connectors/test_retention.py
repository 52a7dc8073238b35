"""Retention against the real Neo4j: what outlived its period is exported to gzipped JSON Lines
(read back and compared) and removed, while young rows, undelivered events and each listing's
last event stay; a partner whose feed cursor points before the removed events is told to start
from the snapshot, which still holds every listing in force; a second run finds nothing; an
export that fails removes nothing.

Rows are back-dated rather than the clock moved: the suite shares one database, and a run
"two years from now" would take every other test's rows too. The feed's horizons go back to
zero afterwards, so that later tests reading the feed from its start are not refused."""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import json
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from neo4j import AsyncDriver

from connectors import retention, tasks
from connectors.celery_app import app
from connectors.signing import new_credentials
from connectors.storage.base import Storage, StorageUnavailable
from connectors.storage.filesystem import FileStorage
from graph.archive.imports import new_import_id, run_import
from graph.db import Store
from graph.exchange.partners import Keys, register
from graph.exchange.snapshot import current_version, snapshot
from graph.records.listings import end_listing, publish_listing
from graph.retention import feed_horizon
from graph.rights.objected import Target, tell_in
from hub.api.context import encode_cursor
from policies.access import read_scope
from policies.credit.measures import default_measures
from policies.principal import Clearance, Principal
from policies.retention import KINDS, default_retention
from policies.targets import TargetRule
from tests.conftest import TEST_DATA, GraphQLClient, Workers, hub_command, mint
from tests.listings import serious_listing
from tests.subjects import fresh_subjects

CATALOGUE = default_measures()
RULES = default_retention()
OLD = datetime(2024, 6, 1, tzinfo=UTC)  # past every shipped period
FEED = """query($a: String) { sanctionFeed(after: $a, first: 100) {
  entries { eventId } endCursor } }"""
# No sweeper posts the test's deliveries while it sets their state by hand.
QUIET = pytest.mark.usefixtures("workers_paused")


@pytest.fixture
async def horizons_reset(store: Store, driver: AsyncDriver, tmp_path: Path) -> AsyncIterator[None]:
    """Afterwards nothing old is left to remove (the beat's run would move the horizons in a
    later session) and the horizons are back at zero."""
    yield
    await retention.run(store, RULES, FileStorage(tmp_path / "after"), datetime.now(UTC))
    await driver.execute_query(
        "MATCH (c:Counter) WHERE c.name STARTS WITH 'feed-horizon' "
        "OR c.name = 'snapshot-horizon' DELETE c"
    )


@pytest.fixture
async def partner(store: Store, driver: AsyncDriver) -> AsyncIterator[str]:
    """A bank with a webhook endpoint nobody answers; gone afterwards, with whatever it was
    still to be sent, so that no later test's worker tries."""
    code = f"RET-BANK-{int(time.time() * 1000) % 10**8}"
    await _register(store, code)
    yield code
    await driver.execute_query(
        "MATCH (p:Partner {code: $p}) SET p.status = 'DISABLED' "
        "WITH p MATCH (d:Delivery {partner: p.code, status: 'PENDING'}) SET d.status = 'DEAD'",
        p=code,
    )


async def _register(store: Store, code: str) -> None:
    keys = new_credentials("HMAC_SHA256")
    fields = {
        "code": code,
        "name": code,
        "kind": "BANK",
        "endpoint": "https://bank.example.cn/hub",
        "events": ["sanction.listed", "sanction.modified", "sanction.ended"],
    }
    targets = TargetRule(public_only=False, https_only=True)
    await register(
        store, CATALOGUE, fields, Keys(keys.scheme, keys.signing, keys.verifying), targets=targets
    )


async def _backdate(driver: AsyncDriver, event: str, at: datetime, status: str) -> None:
    """The event written at ``at``, and every delivery of it last tried then, ``status``."""
    await driver.execute_query(
        "MATCH (e:OutboxEvent {id: $e}) SET e.createdAt = $iso "
        "WITH e MATCH (d:Delivery {event: e.id}) "
        "SET d.status = $status, d.lastAttemptAt = $ts, d.createdAt = $ts, d.nextAt = $ts",
        e=event,
        iso=at.isoformat(),
        ts=at.timestamp(),
        status=status,
    )


async def _props(driver: AsyncDriver, label: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    records, _, _ = await driver.execute_query(
        f"MATCH (n:{label}) WHERE n.id IN $ids RETURN n.id AS id, properties(n) AS p", ids=ids
    )
    return {r["id"]: dict(r["p"]) for r in records}


async def _delivery_ids(driver: AsyncDriver, events: list[str]) -> list[str]:
    records, _, _ = await driver.execute_query(
        "MATCH (d:Delivery) WHERE d.event IN $events RETURN d.id AS id", events=events
    )
    return [r["id"] for r in records]


def _feed_cursor(version: int) -> str:
    """The feed cursor the API hands out at this version (a snapshot's ``feedCursor``)."""
    return encode_cursor(str(version), "f1:")


def _read(root: Path, key: str | None) -> list[dict[str, Any]]:
    """An export kept in the file storage under ``root``."""
    assert key is not None and key.endswith(".jsonl.gz")
    with gzip.open(root / key, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


async def _old_listing(store: Store, driver: AsyncDriver, sanction: str) -> tuple[str, str]:
    """A listing published and modified long ago, both events delivered: their ids."""
    (code, record), = fresh_subjects(1)  # fmt: skip
    decision = serious_listing(sanction, code, record)
    listed = (await publish_listing(store, CATALOGUE, decision)).id
    modified = (await publish_listing(store, CATALOGUE, decision)).id
    for event in (listed, modified):
        await _backdate(driver, event, OLD, "DELIVERED")
    return listed, modified


async def _finished_import(store: Store, driver: AsyncDriver, tmp: Path) -> str:
    """A real import of two unreadable lines, finished long ago: its report and 2 rejections."""
    path = tmp / "bad.jsonl"
    path.write_text('not json\n{"kind": "Nothing"}\n', "utf-8")
    import_id = new_import_id()
    await run_import(store, path, import_id=import_id, agency="NMG152201", by="tester")
    await driver.execute_query(
        "MATCH (i:ArchiveImport {id: $id}) SET i.finishedAt = $at", id=import_id, at=OLD
    )
    return import_id


@QUIET
async def test_old_rows_are_exported_then_removed_and_the_feed_says_where_to_start(
    store: Store,
    driver: AsyncDriver,
    api: str,
    tmp_path: Path,
    horizons_reset: None,
    partner: str,
) -> None:
    bank = GraphQLClient(api, mint("partner", agency=partner))
    before = _feed_cursor(await current_version(store))

    subjects = fresh_subjects(7)
    tag = partner[-8:]
    ids = {k: f"S-RET-{tag}-{k}" for k in "ABCDEFG"}
    ev: dict[str, str] = {}
    for (code, record), key in zip(subjects, "ABCDEFG", strict=True):
        decision = serious_listing(ids[key], code, record)
        ev[f"{key}.listed"] = (await publish_listing(store, CATALOGUE, decision)).id
        if key in "BDF":
            ev[f"{key}.modified"] = (await publish_listing(store, CATALOGUE, decision)).id
    # G's last event is an objection's mark, which carries none of the listing's facts.
    target = Target("LISTING", ids["G"], subjects[6][0], "PUBLIC")
    objected = await store.write(tell_in, CATALOGUE, target, f"OB-{tag}", True)
    ev["G.objected"] = objected.id
    ended = await end_listing(store, CATALOGUE, ids["C"], "REPAIRED", date.today())
    assert ended is not None
    ev["C.ended"] = ended.id

    now = datetime.now(UTC)
    for name, event in ev.items():
        if not name.startswith("E."):  # E stays young
            await _backdate(driver, event, OLD, "DELIVERED")
    await _backdate(driver, ev["E.listed"], now, "DELIVERED")
    await _backdate(driver, ev["D.listed"], OLD, "PENDING")  # never delivered
    await _backdate(driver, ev["F.listed"], now - timedelta(days=200), "DEAD")  # dead, not old
    import_id = await _finished_import(store, driver, tmp_path)
    running = f"IMP-RUNNING-{tag}"
    await driver.execute_query(
        "CREATE (:ArchiveImport {id: $id, status: 'RUNNING', startedAt: $at})", id=running, at=OLD
    )

    gone_events = [ev["B.listed"], ev["C.listed"]]
    kept_events = [e for e in ev.values() if e not in gone_events]
    gone_deliveries = await _delivery_ids(
        driver, [e for n, e in ev.items() if n not in ("D.listed", "F.listed", "E.listed")]
    )
    kept_deliveries = await _delivery_ids(driver, [ev["D.listed"], ev["F.listed"], ev["E.listed"]])
    assert gone_deliveries and kept_deliveries
    events_before = await _props(driver, "OutboxEvent", gone_events)
    deliveries_before = await _props(driver, "Delivery", gone_deliveries)

    # A dry run counts and touches nothing.
    dry = await retention.run(store, RULES, FileStorage(tmp_path), now, dry_run=True)
    assert not (tmp_path / RULES.directory).exists()
    assert len(await _props(driver, "OutboxEvent", gone_events)) == 2

    report = await retention.run(store, RULES, FileStorage(tmp_path), now)
    assert {k: v.rows for k, v in report.kinds.items()} == {k: v.rows for k, v in dry.kinds.items()}

    # Exported: the gz files hold exactly what was in the graph.
    exported_events = {r["id"]: r for r in _read(tmp_path, report.kinds["outbox-events"].file)}
    for event in gone_events:
        assert exported_events[event] == events_before[event]
    assert not set(exported_events) & set(kept_events)
    exported_deliveries = {r["id"]: r for r in _read(tmp_path, report.kinds["deliveries"].file)}
    for delivery in gone_deliveries:
        assert exported_deliveries[delivery] == deliveries_before[delivery]
    assert not set(exported_deliveries) & set(kept_deliveries)
    reports = {r["id"]: r for r in _read(tmp_path, report.kinds["import-reports"].file)}
    assert reports[import_id]["status"] == "DONE" and reports[import_id]["rejected"] == 2
    assert running not in reports
    rejected = [
        r
        for r in _read(tmp_path, report.kinds["import-rejections"].file)
        if r["importId"] == import_id
    ]
    assert [r["line"] for r in rejected] == [1, 2]

    # Removed, and only that.
    assert await _props(driver, "OutboxEvent", gone_events) == {}
    assert set(await _props(driver, "OutboxEvent", kept_events)) == set(kept_events)
    assert await _props(driver, "Delivery", gone_deliveries) == {}
    assert set(await _props(driver, "Delivery", kept_deliveries)) == set(kept_deliveries)
    imports = await _props(driver, "ArchiveImport", [import_id, running])
    assert set(imports) == {running}
    records, _, _ = await driver.execute_query(
        "MATCH (x:ImportRejection {importId: $id}) RETURN count(x) AS n", id=import_id
    )
    assert records[0]["n"] == 0

    # The snapshot still holds every listing in force, however old its events.
    principal = Principal("t", "t", partner, "PARTNER", "150000", frozenset({"partner"}),
                          Clearance.SHARED)  # fmt: skip
    scope = read_scope(principal).params()
    as_of = await current_version(store)
    entries = await snapshot(store, as_of, f"S-RET-{tag}-", 10, scope, "BANK")
    mine = {key for key, _ in entries if key.startswith(f"S-RET-{tag}-")}
    assert mine == {ids[k] for k in "ABDEFG"}

    # A cursor from before the removed events is refused with what to do; a fresh one works.
    horizon = await feed_horizon(store, "BANK")
    assert horizon.feed >= max(events_before[e]["version"] for e in gone_events)
    for cursor in (before, None):
        answer = bank.post(FEED, {"a": cursor}).json()
        (error,) = answer["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert error["extensions"]["reason"] == "CURSOR_EXPIRED"
        assert "sanctionSnapshot" in error["message"]
    fresh = _feed_cursor(await current_version(store))  # a snapshot's feedCursor, taken now
    assert bank.data(FEED, {"a": fresh})["sanctionFeed"]["entries"] == []  # type: ignore[index]

    # A second run, from the command line, finds nothing new.
    again = hub_command("retention", "run")
    assert all(f"{kind}: exported 0, removed 0" in again.stdout for kind in KINDS), again.stdout
    assert "->" not in again.stdout  # no file kept

    # Other partners still active would be sent the undelivered event: it is dropped.
    await driver.execute_query(
        "MATCH (d:Delivery {event: $e}) SET d.status = 'DEAD'", e=ev["D.listed"]
    )


@pytest.fixture
def failing_keep(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The disk fills up while the run keeps its outbox-events file."""
    keep = retention.keep

    def full(storage: Storage, temp: Path, key: str) -> str:
        if key.startswith(f"{RULES.directory}/outbox-events"):
            raise StorageUnavailable("cannot write: No space left on device")
        return keep(storage, temp, key)

    monkeypatch.setattr(retention, "keep", full)
    yield


@QUIET
async def test_an_export_that_fails_removes_nothing(
    store: Store,
    driver: AsyncDriver,
    tmp_path: Path,
    horizons_reset: None,
    failing_keep: None,
    partner: str,
) -> None:
    listed, modified = await _old_listing(store, driver, f"S-RETF-{partner[-8:]}")
    deliveries = await _delivery_ids(driver, [listed, modified])
    assert deliveries

    with pytest.raises(StorageUnavailable, match="No space left"):
        await retention.run(store, RULES, FileStorage(tmp_path), datetime.now(UTC))

    assert list((tmp_path / RULES.directory).iterdir()) == []  # the deliveries file taken back
    assert set(await _props(driver, "OutboxEvent", [listed, modified])) == {listed, modified}
    assert set(await _props(driver, "Delivery", deliveries)) == set(deliveries)
    assert (await feed_horizon(store, "BANK")).feed == 0


async def test_one_run_at_a_time(redis: aioredis.Redis, store: Store, tmp_path: Path) -> None:
    await redis.set(retention.LOCK_KEY, "another run", px=5000)
    try:
        assert (
            await retention.run_alone(redis, store, RULES, FileStorage(tmp_path), datetime.now(UTC))
            is None
        )
    finally:
        await redis.delete(retention.LOCK_KEY)


def test_the_beat_runs_retention_hourly() -> None:
    entry = app.conf.beat_schedule["retention"]
    assert entry["task"] == "connectors.tasks.retain" == tasks.retain.name
    assert entry["schedule"] <= 3600


async def test_the_workers_run_it_into_the_data_folder(
    workers: Workers, store: Store, driver: AsyncDriver, horizons_reset: None, partner: str
) -> None:
    listed, _ = await _old_listing(store, driver, f"S-RETW-{partner[-8:]}")
    folder = TEST_DATA / RULES.directory
    before = set(folder.glob("*.jsonl.gz"))

    app.send_task("connectors.tasks.retain", expires=60)
    deadline = time.monotonic() + 60
    while await _props(driver, "OutboxEvent", [listed]):
        assert time.monotonic() < deadline, f"not removed: see {TEST_DATA / 'logs'}"
        await asyncio.sleep(0.5)
    made = set(folder.glob("outbox-events-*.jsonl.gz")) - before
    try:
        assert listed in {
            row["id"] for path in made for row in _read(folder, path.relative_to(folder).as_posix())
        }
    finally:
        for path in made | (set(folder.glob("*.jsonl.gz")) - before):
            path.unlink()


@QUIET
async def test_old_events_after_a_page_of_young_ones_are_still_found(
    store: Store, driver: AsyncDriver, tmp_path: Path, horizons_reset: None, partner: str
) -> None:
    """Feed order and creation time need not agree (an event backdated, or imported late): a
    page of events too young to go does not end the search for older ones after it. (The
    suite's other tests leave young events before this one's; the scan used to stop at the
    first page that ended in one.)"""
    rules = dataclasses.replace(RULES, batch=10)
    tag = partner[-8:]
    for n, (code, record) in enumerate(fresh_subjects(rules.batch + 1)):  # young, and first
        await publish_listing(store, CATALOGUE, serious_listing(f"S-RETY-{tag}-{n}", code, record))
    listed, _ = await _old_listing(store, driver, f"S-RETO-{tag}")
    report = await retention.run(store, rules, FileStorage(tmp_path), datetime.now(UTC))
    exported = {r["id"] for r in _read(tmp_path, report.kinds["outbox-events"].file)}
    assert listed in exported
    assert not await _props(driver, "OutboxEvent", [listed])
