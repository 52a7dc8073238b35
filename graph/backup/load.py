"""Writing a backup's graph into an empty store: nodes, then relationships, in batches.

Each node is written with a temporary ``:BackupNode {backupId}`` (its element id in the backup,
indexed) so that relationships find their ends in one index seek; both go once every
relationship is in. Labels and relationship types come as parameters (Cypher 5.26's dynamic
labels), never spliced into the text. The hub's schema comes back afterwards through its own
migrations (graph/migrations.py), not from statements in the file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graph.db import Store

NODE_BATCH = 5000
REL_BATCH = 5000

COUNT_NODES = "MATCH (n) RETURN count(n) AS n"
MARK_INDEX = "CREATE INDEX backup_node_id IF NOT EXISTS FOR (n:BackupNode) ON (n.backupId)"
AWAIT_MARK_INDEX = "CALL db.awaitIndex('backup_node_id', 300)"
DROP_MARK_INDEX = "DROP INDEX backup_node_id IF EXISTS"
WRITE_NODES = """
UNWIND $rows AS row
CREATE (n:BackupNode)
SET n = row.props, n:$(row.labels), n.backupId = row.id
"""
WRITE_RELATIONSHIPS = """
UNWIND $rows AS row
MATCH (a:BackupNode {backupId: row.start}), (b:BackupNode {backupId: row.end})
CREATE (a)-[r:$(row.type)]->(b)
SET r = row.props
RETURN count(r) AS n
"""
UNMARK = """
MATCH (n:BackupNode)
CALL (n) { REMOVE n:BackupNode, n.backupId } IN TRANSACTIONS OF 10000 ROWS
"""
WIPE = "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS"
SCHEMA = (
    "SHOW INDEXES YIELD name, type, owningConstraint "
    "WHERE type <> 'LOOKUP' AND owningConstraint IS NULL RETURN name"
)
CONSTRAINTS = "SHOW CONSTRAINTS YIELD name RETURN name"
DROP_CONSTRAINT = "DROP CONSTRAINT $name IF EXISTS"
DROP_INDEX = "DROP INDEX $name IF EXISTS"


class MissingEnds(RuntimeError):
    """Relationships in a backup whose nodes are not in it: the file is damaged."""


async def node_count(store: Store) -> int:
    return int((await store.execute(COUNT_NODES, read=True))[0]["n"])


async def _auto_commit(store: Store, cypher: str) -> None:
    """``CALL ... IN TRANSACTIONS`` runs only outside a managed transaction."""
    async with store.session() as session:
        await (await session.run(cypher)).consume()


async def wipe(store: Store) -> None:
    """Delete every node and relationship, then every constraint and index of the hub's (the
    database's own lookup indexes stay): what ``hub restore --force`` does before it loads."""
    await _auto_commit(store, WIPE)
    for record in await store.execute(CONSTRAINTS, read=True):
        await store.execute(DROP_CONSTRAINT, name=record["name"])
    for record in await store.execute(SCHEMA, read=True):
        await store.execute(DROP_INDEX, name=record["name"])


async def prepare(store: Store) -> None:
    await store.execute(MARK_INDEX)
    await store.execute(AWAIT_MARK_INDEX)


async def write_nodes(store: Store, rows: list[dict[str, Any]]) -> None:
    """Nodes as ``{id, labels, props}`` with their properties decoded."""
    await store.execute(WRITE_NODES, rows=rows)


async def write_relationships(store: Store, rows: list[dict[str, Any]]) -> None:
    """Relationships as ``{type, start, end, props}``; both ends must have been written."""
    written = await store.execute(WRITE_RELATIONSHIPS, rows=rows)
    missing = len(rows) - int(written[0]["n"])
    if missing:
        raise MissingEnds(f"{missing} relationship(s) name a node the backup does not hold")


async def finish(store: Store, progress: Callable[[str], None] = lambda step: None) -> None:
    """Take the temporary label, property and index away again."""
    progress("removing the temporary node keys")
    await _auto_commit(store, UNMARK)
    await store.execute(DROP_MARK_INDEX)
