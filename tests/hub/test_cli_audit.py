"""`hub audit verify | drain | trail` against the suite's Neo4j and Redis."""

from __future__ import annotations

import json
from uuid import uuid4

import redis
from neo4j import AsyncDriver

from connectors.audit_drain import AUDIT_STREAM
from graph.audit_chain import append
from graph.db import Store
from tests.audit import audit_events
from tests.conftest import hub_command


def test_verify_says_intact(redis_server: str, migrated: None) -> None:
    result = hub_command("audit", "verify")
    assert result.stdout.startswith("chain intact: "), result.stdout
    anchor = result.stdout.splitlines()[1].removeprefix("anchor: ")
    assert hub_command("audit", "verify", "--anchor", anchor).returncode == 0
    wrong = anchor[:-1] + ("0" if anchor[-1] != "0" else "1")
    if not anchor.startswith("0:"):  # an empty chain has nothing to contradict the anchor
        assert hub_command("audit", "verify", "--anchor", wrong, check=False).returncode == 1


async def test_verify_fails_with_the_seq_and_trail_prints_json_lines(
    driver: AsyncDriver, store: Store
) -> None:
    chain, subject = f"test-{uuid4().hex[:12]}", f"TEST{uuid4().hex[:14].upper()}"
    await append(store, audit_events(4, subject=subject, released=("名称",)), chain=chain)
    trail = hub_command("audit", "trail", "--subject", subject, "--chain", chain, "--limit", "3")
    lines = [json.loads(line) for line in trail.stdout.splitlines()]
    assert [line["seq"] for line in lines] == [1, 2, 3] and lines[0]["released"] == ["名称"]
    await driver.execute_query(
        "MATCH (e:AuditEvent {chain: $chain, seq: 2}) SET e.purpose = 'curiosity'", chain=chain
    )
    broken = hub_command("audit", "verify", "--chain", chain, check=False)
    assert broken.returncode == 1
    assert broken.stdout.startswith("broken at seq 2: "), broken.stdout


def test_trail_needs_a_subject_or_an_agency() -> None:
    result = hub_command("audit", "trail", check=False)
    assert result.returncode == 2 and "--subject or --agency" in result.stderr


def test_drain_moves_the_waiting_entries(redis_server: str, migrated: None) -> None:
    client = redis.Redis.from_url(redis_server)
    fields = audit_events(1, subject="TEST00000000000001")[0].to_fields()
    client.xadd(AUDIT_STREAM, fields)  # type: ignore[arg-type]
    result = hub_command("audit", "drain")
    assert result.stdout.startswith("drained "), result.stdout
    assert client.xlen(AUDIT_STREAM) == 0
    assert hub_command("audit", "verify").returncode == 0


async def test_verify_starts_from_its_signed_checkpoint_and_full_still_sees_everything(
    driver: AsyncDriver, store: Store
) -> None:
    chain = f"test-{uuid4().hex[:12]}"
    await append(store, audit_events(5), chain=chain)
    first = hub_command("audit", "verify", "--chain", chain)
    assert first.stdout.startswith("chain intact: 5 events\n"), first.stdout  # no checkpoint yet
    await append(store, audit_events(3), chain=chain)
    second = hub_command("audit", "verify", "--chain", chain)
    assert "chain intact: 8 events, checked from the checkpoint at seq 5" in second.stdout
    # An edit behind the checkpoint was verified away when it was made: --full sees it again.
    await driver.execute_query(
        "MATCH (e:AuditEvent {chain: $chain, seq: 2}) SET e.purpose = 'curiosity'", chain=chain
    )
    assert hub_command("audit", "verify", "--chain", chain).returncode == 0
    full = hub_command("audit", "verify", "--chain", chain, "--full", check=False)
    assert full.returncode == 1 and full.stdout.startswith("broken at seq 2: "), full.stdout
    # An edit after the checkpoint is caught from it.
    await append(store, audit_events(2), chain=chain)
    await driver.execute_query(
        "MATCH (e:AuditEvent {chain: $chain, seq: 9}) SET e.purpose = 'curiosity'", chain=chain
    )
    after = hub_command("audit", "verify", "--chain", chain, check=False)
    assert after.returncode == 1 and after.stdout.startswith("broken at seq 9: "), after.stdout


async def test_a_checkpoint_written_without_the_key_is_refused(
    driver: AsyncDriver, store: Store
) -> None:
    """Someone who can write the graph moves the checkpoint past an edit: refused."""
    chain = f"test-{uuid4().hex[:12]}"
    await append(store, audit_events(4), chain=chain)
    assert hub_command("audit", "verify", "--chain", chain).returncode == 0
    await driver.execute_query(
        "MATCH (e:AuditEvent {chain: $chain, seq: 4}) SET e.purpose = 'curiosity' "
        "WITH e MATCH (c:AuditCheckpoint {chain: $chain}) "
        # another first digit, whatever it was (a fixed 'f' left one hash in 16 as it was)
        "SET c.hash = CASE left(c.hash, 1) WHEN 'f' THEN 'e' ELSE 'f' END + substring(c.hash, 1)",
        chain=chain,
    )
    forged = hub_command("audit", "verify", "--chain", chain, check=False)
    assert forged.returncode == 1
    assert "not signed with the hub's key" in forged.stdout, forged.stdout
