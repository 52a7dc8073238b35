"""Migrations and the shape of lookups, against the suite's own Neo4j."""

from __future__ import annotations

import pytest
from neo4j import AsyncDriver
from neo4j.exceptions import ConstraintError

from graph.db import Store
from graph.migrations import KEYS, MIGRATIONS, migrate
from graph.subjects import SUBJECT_BY_CODE
from policies.access import read_scope
from policies.principal import Clearance, Principal


def mint_principal(role: str) -> Principal:
    return Principal(
        "t", "t", "NMG152201", "BANNER", "152201", frozenset({role}), Clearance.RESTRICTED
    )


async def test_migrations_run_twice_without_change(driver: AsyncDriver, store: Store) -> None:
    await migrate(store)  # the session already migrated once
    again = await migrate(store)
    assert again == []
    records, _, _ = await driver.execute_query("MATCH (m:Migration) RETURN m.version AS v")
    assert sorted(r["v"] for r in records) == [m.version for m in MIGRATIONS]
    constraints, _, _ = await driver.execute_query(
        "SHOW CONSTRAINTS YIELD labelsOrTypes, properties, type "
        "WHERE type = 'UNIQUENESS' RETURN labelsOrTypes[0] AS label, properties[0] AS prop"
    )
    assert {(r["label"], r["prop"]) for r in constraints} >= set(KEYS.items())
    units, _, _ = await driver.execute_query(
        "MATCH (a:Agency) WHERE a.code STARTS WITH 'NMG' RETURN a.level AS level, count(*) AS n"
    )
    assert {r["level"]: r["n"] for r in units} == {"REGION": 1, "LEAGUE": 12, "BANNER": 103}


async def test_a_second_subject_with_the_same_code_is_refused(driver: AsyncDriver) -> None:
    await driver.execute_query("MERGE (:Subject {creditCode: 'DUPTEST000000000001'})")
    with pytest.raises(ConstraintError):
        await driver.execute_query("CREATE (:Subject {creditCode: 'DUPTEST000000000001'})")
    await driver.execute_query("MATCH (s:Subject {creditCode: 'DUPTEST000000000001'}) DELETE s")


def _operators(plan: dict[str, object]) -> list[str]:
    found = [str(plan["operatorType"])]
    for child in plan.get("children", []):  # type: ignore[attr-defined]
        found.extend(_operators(child))
    return found


async def test_lookup_is_an_index_seek_not_a_label_scan(driver: AsyncDriver) -> None:
    _, summary, _ = await driver.execute_query(
        "EXPLAIN " + SUBJECT_BY_CODE,
        code="91152201078371135X",
        cap=100,
        **read_scope(mint_principal("reviewer")).params(),
    )
    operators = _operators(summary.plan)  # type: ignore[arg-type]
    assert any(op.startswith("NodeUniqueIndexSeek") for op in operators), operators
    assert not any("LabelScan" in op or "AllNodesScan" in op for op in operators), operators
