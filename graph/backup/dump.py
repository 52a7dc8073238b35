"""Reading the whole graph for a backup: every node and relationship, the schema, and a commit
marker that proves nothing was committed while they were read.

Neo4j Community reads at read-committed isolation and has no online backup: a read that takes
minutes sees the writes committed meanwhile. So the caller pauses writes first
(connectors/coordination/maintenance.py) and takes :func:`commit_marker` before and after reading;
the marker is the bookmark of the last committed transaction, so equal markers mean that no
transaction committed in between and the copy is one state of the graph.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from neo4j import Query

from graph.backup.values import encode_props
from graph.db import Store
from graph.migrations import applied_versions

NODES = "MATCH (n) RETURN elementId(n) AS id, labels(n) AS labels, properties(n) AS props"
RELATIONSHIPS = (
    "MATCH (a)-[r]->(b) RETURN elementId(a) AS start, elementId(b) AS end, type(r) AS type, "
    "properties(r) AS props"
)
TOTALS = (
    "CALL () { MATCH (n) RETURN count(n) AS nodes } "
    "CALL () { MATCH ()-[r]->() RETURN count(r) AS rels } RETURN nodes, rels"
)
LABELS = "MATCH (n) UNWIND labels(n) AS label RETURN label, count(*) AS n"
TYPES = "MATCH ()-[r]->() RETURN type(r) AS type, count(*) AS n"
# LOOKUP indexes come with every database; the rest are the hub's (graph/migrations.py).
INDEXES = "SHOW INDEXES YIELD name, type, owningConstraint WHERE type <> 'LOOKUP' RETURN *"
CONSTRAINTS = "SHOW CONSTRAINTS YIELD name RETURN name"
CHAINS = "MATCH (h:AuditHead) RETURN h.chain AS chain ORDER BY chain"


@dataclass(frozen=True, slots=True)
class Schema:
    """What a restore recreates and checks: migrations applied, index and constraint names."""

    migrations: list[int]
    indexes: list[str]
    constraints: list[str]

    def as_dict(self) -> dict[str, list[Any]]:
        return {
            "migrations": self.migrations,
            "indexes": self.indexes,
            "constraints": self.constraints,
        }


async def commit_marker(store: Store) -> list[str]:
    """The bookmark of the last transaction committed to the store's database."""
    async with store.driver.session(database=store.database) as session:
        await (await session.run("RETURN 1")).consume()
        return sorted((await session.last_bookmarks()).raw_values)


async def schema(store: Store) -> Schema:
    indexes = await store.execute(INDEXES, read=True)
    constraints = await store.execute(CONSTRAINTS, read=True)
    return Schema(
        await applied_versions(store),
        sorted(r["name"] for r in indexes if r["owningConstraint"] is None),
        sorted(r["name"] for r in constraints),
    )


async def totals(store: Store) -> tuple[int, int]:
    """How many nodes and relationships the store holds (from Neo4j's counts: instant)."""
    records = await store.execute(TOTALS, read=True)
    return int(records[0]["nodes"]), int(records[0]["rels"])


async def label_counts(store: Store) -> dict[str, int]:
    return {r["label"]: int(r["n"]) for r in await store.execute(LABELS, read=True)}


async def type_counts(store: Store) -> dict[str, int]:
    return {r["type"]: int(r["n"]) for r in await store.execute(TYPES, read=True)}


async def audit_chains(store: Store) -> list[str]:
    """The audit chains the store holds (graph/audit_chain.py), for a restore to verify."""
    return [r["chain"] for r in await store.execute(CHAINS, read=True)]


async def _stream(store: Store, cypher: str) -> AsyncGenerator[dict[str, Any]]:
    """Every row of one long read, streamed: it has no time limit (the graph may be large)."""
    async with store.driver.session(database=store.database) as session:
        result = await session.run(Query(cypher))
        async for record in result:
            yield dict(record)


async def nodes(store: Store) -> AsyncGenerator[dict[str, Any]]:
    """Every node: its element id (only to tie relationships to it), labels and properties."""
    async with aclosing(_stream(store, NODES)) as rows:  # stopped early: the session closes
        async for row in rows:
            yield {"node": row["id"], "labels": row["labels"], "props": encode_props(row["props"])}


async def relationships(store: Store) -> AsyncGenerator[dict[str, Any]]:
    """Every relationship: its type, its ends by element id, its properties."""
    async with aclosing(_stream(store, RELATIONSHIPS)) as rows:
        async for row in rows:
            yield {
                "rel": row["type"],
                "from": row["start"],
                "to": row["end"],
                "props": encode_props(row["props"]),
            }
