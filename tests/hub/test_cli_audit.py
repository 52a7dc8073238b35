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
