"""The audit hash chain against the suite's Neo4j: appends, tampering found, trails.

Each test writes to a chain of its own (``chain=``), so tampering here never touches the
``main`` chain other tests and the worker append to.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from uuid import uuid4

import pytest
from neo4j import AsyncDriver

from graph.audit_chain import (
    GENESIS,
    TRAIL_BY_SUBJECT,
    AuditEvent,
    VerifyResult,
    append,
    link_hash,
    trail,
    utc_iso,
    verify_chain,
)
from graph.db import Store
from tests.audit import SUBJECT, audit_events

DB = "neo4j"


def _chain() -> str:
    return f"test-{uuid4().hex[:12]}"


async def _tamper(driver: AsyncDriver, cypher: str, chain: str) -> None:
    _, summary, _ = await driver.execute_query(cypher, chain=chain, database_=DB)
    counters = summary.counters
    assert counters.properties_set or counters.nodes_deleted, cypher


async def _chained(store: Store, chain: str) -> int:
    return len(await trail(store, agency="BANK-TEST", chain=chain, limit=10_000))


def test_the_hash_is_the_documented_one() -> None:
    """sha256(prev_hash + canonical JSON of the node's properties without prevHash/hash)."""
    event = audit_events(1, subject=None, roles=("partner", "审核"))[0]
    document = event.document("main", 1)
    assert "subject" not in document  # absent values are left out, not null
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    expected = hashlib.sha256((GENESIS + canonical).encode("utf-8")).hexdigest()
    assert link_hash(GENESIS, document) == expected
    assert "审核" in canonical


def test_stream_fields_round_trip_and_malformed_entries_are_refused() -> None:
    event = audit_events(1, purpose=None)[0]
    fields = event.to_fields()
    document = json.loads(fields["entry"])
    assert list(fields) == ["entry"]
    assert "purpose" not in document and document["released"] == ["rec-1", "name"]
    encoded = {k.encode(): v.encode() for k, v in fields.items()}
    assert AuditEvent.from_fields(event.event_id, encoded) == event
    for broken in (
        {**document, "decision": "MAYBE"},
        {**document, "roles": "partner"},
        {**document, "released": [1]},
        {**document, "at": "yesterday"},
        {k: v for k, v in document.items() if k != "agency"},
    ):
        with pytest.raises(ValueError):
            AuditEvent.from_fields("1-0", {"entry": json.dumps(broken)})
    for malformed in ({"entry": "[]"}, {"entry": "{"}, {**fields, "agency": "X"}):
        with pytest.raises(ValueError):
            AuditEvent.from_fields("1-0", malformed)
    with pytest.raises(ValueError):
        dataclasses.replace(event, at="2026-01-01T08:00:00+08:00")  # a moment, not in UTC form


def test_entries_in_the_flat_form_of_earlier_versions_still_read() -> None:
    """A stream written before the one-field form may still hold entries after an upgrade."""
    event = audit_events(1)[0]
    flat = {
        name: value if isinstance(value, str) else json.dumps(value)
        for name, value in event.named().items()
    }
    assert json.loads(flat["released"]) == ["rec-1", "name"]
    assert AuditEvent.from_fields(event.event_id, flat) == event
    with pytest.raises(ValueError):
        AuditEvent.from_fields("1-0", {**flat, "released": "[1]"})


async def test_appended_events_verify_and_read_back(driver: AsyncDriver, store: Store) -> None:
    chain, events = _chain(), audit_events(12)
    assert await append(store, events, chain=chain) == 12
    result = await verify_chain(store, chain=chain, batch=5)  # several batches
    assert result.ok and result.checked == 12, result
    back = await trail(store, subject=SUBJECT, chain=chain, limit=100)
    assert [link.event for link in back] == events
    assert [link.seq for link in back] == list(range(1, 13))
    assert back[0].prev_hash == GENESIS and back[-1].hash == result.head_hash


async def _tampered(driver: AsyncDriver, store: Store, count: int, cypher: str) -> VerifyResult:
    """A chain of its own with ``count`` events, tampered with by ``cypher``, then verified."""
    chain = _chain()
    await append(store, audit_events(count), chain=chain)
    await _tamper(driver, cypher, chain)
    return await verify_chain(store, chain=chain)


async def test_an_edited_event_is_found_at_its_seq(driver: AsyncDriver, store: Store) -> None:
    edit = "MATCH (e:AuditEvent {chain: $chain, seq: 4}) SET e.decision = 'DENY'"
    result = await _tampered(driver, store, 10, edit)
    assert not result.ok and result.first_bad_seq == 4, result
    assert "edited" in (result.reason or "")


async def test_a_deleted_event_is_found_at_the_next_seq(driver: AsyncDriver, store: Store) -> None:
    result = await _tampered(
        driver, store, 10, "MATCH (e:AuditEvent {chain: $chain, seq: 4}) DELETE e"
    )
    assert not result.ok and result.first_bad_seq == 5 and result.checked == 3, result
    assert "seq 4 is missing" in (result.reason or "")


async def test_swapped_events_are_found(driver: AsyncDriver, store: Store) -> None:
    swap = (
        "MATCH (a:AuditEvent {chain: $chain, seq: 3}), (b:AuditEvent {chain: $chain, seq: 4}) "
        "SET a.seq = -1 WITH a, b SET b.seq = 3 WITH a SET a.seq = 4"
    )
    result = await _tampered(driver, store, 10, swap)
    assert not result.ok and result.first_bad_seq == 3, result


async def test_a_cut_tail_is_found_by_the_head(driver: AsyncDriver, store: Store) -> None:
    result = await _tampered(
        driver, store, 10, "MATCH (e:AuditEvent {chain: $chain, seq: 10}) DELETE e"
    )
    assert not result.ok and result.first_bad_seq == 10 and result.checked == 9, result
    assert "head" in (result.reason or "")


async def test_an_event_added_behind_the_heads_back_is_found(
    driver: AsyncDriver, store: Store
) -> None:
    result = await _tampered(driver, store, 3, "MATCH (h:AuditHead {chain: $chain}) SET h.seq = 2")
    assert not result.ok and result.first_bad_seq == 3, result


async def test_a_rewritten_history_needs_the_recorded_anchor(
    driver: AsyncDriver, store: Store
) -> None:
    """Links alone cannot catch an insider who recomputes every later hash; an anchor can."""
    chain = _chain()
    await append(store, audit_events(5), chain=chain)
    before = await verify_chain(store, chain=chain)
    records, _, _ = await driver.execute_query(
        "MATCH (e:AuditEvent {chain: $chain}) RETURN properties(e) AS p ORDER BY e.seq",
        chain=chain,
        database_=DB,
    )
    prev, forged = GENESIS, []
    for record in records:
        document = {k: v for k, v in record["p"].items() if k not in ("prevHash", "hash")}
        if document["seq"] == 3:
            document["decision"] = "DENY"
        prev = link_hash(prev, document)
        forged.append({**document, "hash": prev})
    await driver.execute_query(
        "UNWIND $forged AS f MATCH (e:AuditEvent {chain: $chain, seq: f.seq}) SET e = f "
        "WITH f ORDER BY f.seq DESC LIMIT 1 "
        "MATCH (h:AuditHead {chain: $chain}) SET h.hash = f.hash",
        forged=[
            {**f, "prevHash": forged[i - 1]["hash"] if i else GENESIS} for i, f in enumerate(forged)
        ],
        chain=chain,
        database_=DB,
    )
    assert (await verify_chain(store, chain=chain)).ok  # consistent, but not the same
    result = await verify_chain(store, chain=chain, anchor=(5, before.head_hash))
    assert not result.ok and result.first_bad_seq == 5 and "rewritten" in (result.reason or "")


async def test_appending_the_same_events_again_adds_nothing(
    driver: AsyncDriver, store: Store
) -> None:
    chain, events = _chain(), audit_events(5)
    assert await append(store, events, chain=chain) == 5
    assert await append(store, events, chain=chain) == 0
    more = audit_events(2)
    assert await append(store, [*events, more[0], more[0], more[1]], chain=chain) == 2
    assert await _chained(store, chain) == 7
    assert (await verify_chain(store, chain=chain)).ok


async def test_concurrent_appenders_queue_on_the_head(store: Store) -> None:
    """Twice: racing to create the head, then racing on an existing head."""
    chain, batches = _chain(), [audit_events(300) for _ in range(4)]
    for first, second in (batches[:2], batches[2:]):
        added = await asyncio.gather(
            append(store, first, chain=chain), append(store, second, chain=chain)
        )
        assert list(added) == [300, 300]
    result = await verify_chain(store, chain=chain)
    assert result.ok and result.checked == 1200, result
    links = await trail(store, subject=SUBJECT, chain=chain, limit=2000)
    runs = [link.event.event_id.split("-")[0] for link in links]
    pieces = [run for i, run in enumerate(runs) if i == 0 or runs[i - 1] != run]
    assert len(pieces) == 4  # each batch in one piece: no interleaving


async def test_trail_filters_by_subject_agency_and_time_and_pages(store: Store) -> None:
    chain = _chain()
    start = datetime(2026, 3, 1, tzinfo=UTC)
    events = [
        *audit_events(3, at=utc_iso(start)),
        *audit_events(3, at=utc_iso(start + timedelta(days=1)), agency="NMG152201"),
        *audit_events(2, at=utc_iso(start + timedelta(days=2)), subject="91150100MA0N000001"),
    ]
    await append(store, events, chain=chain)
    by_subject = await trail(store, subject=SUBJECT, chain=chain)
    assert len(by_subject) == 6
    both = await trail(store, subject=SUBJECT, agency="NMG152201", chain=chain)
    assert [e.seq for e in both] == [4, 5, 6]
    day = await trail(
        store, agency="BANK-TEST", since=start, until=start + timedelta(days=1), chain=chain
    )
    assert [e.seq for e in day] == [1, 2, 3]
    shanghai = timezone(timedelta(hours=8))  # 08:00 in Shanghai is 00:00 UTC
    late = await trail(
        store, agency="BANK-TEST", since=datetime(2026, 3, 3, 8, tzinfo=shanghai), chain=chain
    )
    assert [e.seq for e in late] == [7, 8]
    later = datetime(2026, 3, 3, 8, 0, 1, tzinfo=shanghai)
    assert await trail(store, agency="BANK-TEST", since=later, chain=chain) == []
    page = await trail(store, subject=SUBJECT, after_seq=2, limit=2, chain=chain)
    assert [e.seq for e in page] == [3, 4]
    with pytest.raises(ValueError):
        await trail(store, chain=chain)


def _operators(plan: dict[str, object]) -> list[str]:
    found = [str(plan["operatorType"])]
    for child in plan.get("children", []):  # type: ignore[attr-defined]
        found.extend(_operators(child))
    return found


async def test_a_subject_trail_seeks_an_index(driver: AsyncDriver, store: Store) -> None:
    _, summary, _ = await driver.execute_query(
        "EXPLAIN " + TRAIL_BY_SUBJECT,
        subject=SUBJECT,
        agency=None,
        since=None,
        until=None,
        after=0,
        limit=100,
        chain="main",
        database_=DB,
    )
    operators = _operators(summary.plan)  # type: ignore[arg-type]
    assert any("IndexSeek" in op for op in operators), operators
    assert not any("LabelScan" in op or "AllNodesScan" in op for op in operators), operators
