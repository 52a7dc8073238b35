"""`hub backup` and `hub restore`: a backup of the running suite's graph and Redis, restored into
a second, empty Neo4j and Redis, answers a polling partner as the original did, with the same
counts, schema and audit chain (the entries not yet drained included); a restore refuses a
store that is not empty and changes nothing; writes wait while a backup reads, and a backup
that sees the graph change under it is not written."""

from __future__ import annotations

import asyncio
import math
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis as redis_lib
import redis.asyncio as aioredis
from neo4j import GraphDatabase

from connectors.audit_drain import AUDIT_STREAM, drain_stream
from connectors.coordination.maintenance import pause_lock
from graph.audit_chain import verify_chain
from graph.db import Store
from graph.records.listings import publish_listing
from hub.backup import run
from hub.backup.file import BadBackup
from hub.backup.run import BackupError
from hub.cli import services
from hub.cli.kit import store_for
from hub.settings import Settings, get_settings
from policies.credit.measures import default_measures
from tests.conftest import (
    TEST_DATA,
    GraphQLClient,
    free_port,
    hub_command,
    mint,
    start_api,
    unit_token,
)
from tests.listings import serious_listing
from tests.partner_registry import register_partner
from tests.subjects import fresh_subjects, land_penalty

FEED = """query($a: String, $n: Int) { sanctionFeed(after: $a, first: $n) {
  entries { cursor version op eventId sanctionId creditCode } endCursor hasNextPage } }"""
FEED_ALL = """query($a: String) { sanctionFeed(after: $a, first: 100) {
  entries { cursor } endCursor hasNextPage } }"""
# A property of every type Neo4j stores, to come back as it was.
PROBE = """
CREATE (:BackupProbe {
  day: date('2026-05-06'), at: datetime('2026-05-06T10:00:00.123456789+08:00'),
  zoned: datetime({year: 2026, month: 3, day: 29, hour: 2, minute: 30, timezone: 'Asia/Shanghai'}),
  local: localdatetime('2026-05-06T10:00'), clock: time('10:00+08:00'), wall: localtime('10:00'),
  span: duration('P1Y2M3DT4H0.5S'), here: point({longitude: 122.0, latitude: 46.1}),
  flat: point({x: 1, y: 2}), raw: $raw, codes: ['a', 'b'], ratio: 0.25, n: 7, flag: true
})"""
READ = "{ subjects(first: 1) { edges { node { creditCode } } } }"
PROBE_READ = "MATCH (p:BackupProbe) RETURN properties(p) AS props"
COUNTS = "MATCH (n) UNWIND labels(n) AS label RETURN label, count(*) AS n ORDER BY label"


@dataclass
class Second:
    """A second, empty Neo4j and Redis, and the environment that points the hub at them."""

    neo4j: str
    redis: str

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "HUB_NEO4J_URI": self.neo4j, "HUB_REDIS_URL": self.redis}

    @property
    def settings(self) -> Settings:
        return Settings(neo4j_uri=self.neo4j, redis_url=self.redis)


@pytest.fixture(scope="module")
def second() -> Iterator[Second]:
    neo4j_port, redis_port = free_port(), free_port()
    home = TEST_DATA / "restored"
    neo4j = services.start_neo4j(
        services.Neo4jSpec(home / "neo4j", "127.0.0.1", neo4j_port, "256m", "512m"),
        Path(__file__).parents[2] / ".data" / "cache",
        TEST_DATA / "logs" / "neo4j-restored.log",
    )
    try:
        redis = services.start_redis(
            services.RedisSpec(home / "redis", "127.0.0.1", redis_port),
            TEST_DATA / "logs" / "redis-restored.log",
        )
    except services.ServiceError:
        services.stop_process(neo4j.pid)
        raise
    yield Second(f"bolt://127.0.0.1:{neo4j_port}", f"redis://127.0.0.1:{redis_port}/0")
    services.stop_processes([neo4j.pid, redis.pid])
    neo4j.wait(timeout=5)
    redis.wait(timeout=5)


def _counts(uri: str) -> dict[str, int]:
    with GraphDatabase.driver(uri) as driver:
        records, _, _ = driver.execute_query(COUNTS)
        return {r["label"]: r["n"] for r in records}


def _probe(uri: str) -> dict[str, Any]:
    with GraphDatabase.driver(uri) as driver:
        records, _, _ = driver.execute_query(PROBE_READ)
        return dict(records[0]["props"])


async def _chained(settings: Settings) -> int:
    """Drain the audit stream into the chain (`hub audit drain`), verify the chain from its
    first event (`hub audit verify --full`): how many events it holds."""
    store, client = store_for(settings), aioredis.from_url(settings.redis_url)
    try:
        await drain_stream(client, store, budget=math.inf)
        result = await verify_chain(store)
    finally:
        await store.driver.close()
        await client.aclose()
    assert result.ok, result.reason
    return result.checked


def _quiet(phase: str, done: int, total: int) -> None:
    """No progress display in a test."""


def _first_answer(client: GraphQLClient, query: str, variables: dict[str, object]) -> Any:
    """The data of a query to a server just started: the first plan of a query on a cold Neo4j
    may take longer than the API's time limit on a loaded machine; a partner asks again."""
    for _ in range(5):
        body = client.post(query, variables).json()
        if not body.get("errors") or body["errors"][0]["extensions"]["code"] != "LIMIT_EXCEEDED":
            break
    assert not body.get("errors"), body
    return body["data"]


async def _a_partner_with_a_feed(store: Store) -> GraphQLClient:
    """A bank that polls, four listings in its feed, and a node with every property type."""
    catalogue = default_measures()
    await register_partner(store, catalogue, "BK-BANK", "BANK", None, ["sanction.listed"])
    for n, (code, record) in enumerate(fresh_subjects(4)):
        await publish_listing(store, catalogue, serious_listing(f"S-BK-{n}", code, record))
    await store.execute(PROBE, raw=b"\x00\xffbytes")
    return GraphQLClient("", mint("partner", agency="BK-BANK"))


def test_a_damaged_backup_is_refused_before_anything_changes(
    second: Second, tmp_path: Path
) -> None:
    """Before the round trip below fills the second store: a backup of it, still empty, is
    as good a file to damage as one of the suite's whole graph, and quick to make."""
    out = tmp_path / "hub.jsonl.gz"
    run.backup(second.settings, out, lambda _: None, _quiet)
    truncated = tmp_path / "truncated.jsonl.gz"
    truncated.write_bytes(out.read_bytes()[: out.stat().st_size // 2])
    with GraphDatabase.driver(second.neo4j) as driver:
        driver.execute_query("CREATE (:BackupMarker)")  # what --force would delete
        before = _counts(second.neo4j)
        try:
            with pytest.raises(BadBackup, match=r"incomplete|not a readable gzip"):
                run.restore(second.settings, truncated, True, lambda _: None, _quiet)
            assert _counts(second.neo4j) == before
        finally:
            driver.execute_query("MATCH (m:BackupMarker) DELETE m")


async def test_a_restored_hub_answers_as_the_backed_up_one(
    api: str, store: Store, second: Second, tmp_path: Path, workers_paused: None
) -> None:
    bank = await _a_partner_with_a_feed(store)
    bank.base = api
    seen = bank.every(FEED_ALL, "sanctionFeed", "entries", "a")
    assert len(seen) >= 4
    cursor = seen[-4]["cursor"]  # polled up to here: three entries are still ahead
    ahead = bank.data(FEED, {"a": cursor, "n": 2})["sanctionFeed"]
    assert len(ahead["entries"]) == 2 and ahead["hasNextPage"]  # type: ignore[index]
    await _chained(get_settings())  # some of the audit in the chain, the next polls not yet
    bank.data(FEED, {"a": cursor, "n": 2})
    undrained = redis_lib.Redis.from_url(get_settings().redis_url).xlen(AUDIT_STREAM)
    assert undrained > 0

    out = tmp_path / "hub.jsonl.gz"
    # In this process (what `hub backup` and `hub restore` run): a command's start-up costs
    # seconds of a loaded machine, and this test already starts a Neo4j and an API of its own.
    said: list[str] = []
    await asyncio.to_thread(run.backup, get_settings(), out, said.append, _quiet)
    assert out.is_file() and "writes resumed" in said
    original = _counts(get_settings().neo4j_uri)
    chained = await _chained(get_settings())  # the original's chain with every entry in it

    checks = await asyncio.to_thread(run.restore, second.settings, out, False, said.append, _quiet)
    assert any(check.startswith("audit chain 'main'") for check in checks), checks
    assert _counts(second.neo4j) == original
    assert _probe(second.neo4j) == _probe(get_settings().neo4j_uri)
    # The entries not yet drained came along: chained on the restored side, the chain verifies.
    assert await _chained(second.settings) == chained

    port = free_port()
    proc = start_api(port, "api-restored", HUB_NEO4J_URI=second.neo4j, HUB_REDIS_URL=second.redis)
    try:
        bank.base = f"http://127.0.0.1:{port}"
        assert _first_answer(bank, FEED, {"a": cursor, "n": 2})["sanctionFeed"] == ahead
    finally:
        services.stop_process(proc.pid, timeout=20)
        proc.wait(timeout=5)

    # The second store is not empty now: a restore without --force is refused, nothing moves.
    before = _counts(second.neo4j)
    redis_before = redis_lib.Redis.from_url(second.redis).xlen(AUDIT_STREAM)
    with pytest.raises(BackupError, match=r"not empty .* or pass --force"):
        await asyncio.to_thread(run.restore, second.settings, out, False, said.append, _quiet)
    assert _counts(second.neo4j) == before
    assert redis_lib.Redis.from_url(second.redis).xlen(AUDIT_STREAM) == redis_before


async def test_writes_wait_while_a_backup_holds_the_pause(api: str, redis: Any) -> None:
    ((code, _),) = fresh_subjects(1)
    record = land_penalty(code, "BK")
    submit = "mutation($r: RecordInput!) { submitRecord(record: $r) { id status } }"
    submitter = GraphQLClient(api, unit_token("submitter", "NMG152201", "backup-clerk"))
    lock = pause_lock(redis)
    assert await lock.acquire()
    try:
        paused = submitter.post(submit, {"r": record})
        assert paused.status_code == 503, paused.text
        assert paused.headers["retry-after"]
        assert paused.json()["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
        assert "backup" in paused.json()["errors"][0]["message"]
        cli = hub_command("migrate", check=False)  # a command that writes
        assert cli.returncode == 1 and "backup" in cli.stderr, cli.stderr
        reads = GraphQLClient(api, mint("partner")).data(READ)  # reads go on
        assert reads["subjects"]["edges"]  # type: ignore[index]
    finally:
        await lock.release()
    assert submitter.data(submit, {"r": record})["submitRecord"]["status"] == "PENDING"  # type: ignore[index]


def test_a_backup_that_sees_the_graph_change_is_not_written(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, migrated: None, redis_server: str
) -> None:
    """A writer that ignores the pause (its own driver) keeps committing: the backup reads
    again, then gives up, and leaves no file."""
    monkeypatch.setattr(run, "ATTEMPTS", 2)
    monkeypatch.setattr(run, "SETTLE_MAX", 2.0)
    stop = threading.Event()

    def write() -> None:
        with GraphDatabase.driver(get_settings().neo4j_uri) as driver:
            while not stop.is_set():
                driver.execute_query("MERGE (c:BackupChurn) SET c.n = coalesce(c.n, 0) + 1")
                stop.wait(0.05)

    writer = threading.Thread(target=write)
    writer.start()
    out = tmp_path / "hub.jsonl.gz"
    said: list[str] = []
    try:
        with pytest.raises(BackupError, match="kept changing"):
            run.backup(get_settings(), out, said.append, _quiet)
    finally:
        stop.set()
        writer.join()
    assert any("changed while it was read" in line for line in said), said
    assert list(tmp_path.iterdir()) == []
    with GraphDatabase.driver(get_settings().neo4j_uri) as driver:
        driver.execute_query("MATCH (c:BackupChurn) DELETE c")
