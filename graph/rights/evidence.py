"""Evidence filed with an objection, a complaint or a repair application: one ``Evidence`` node
per stored file (hub/evidence.py keeps the bytes), tied to its filing by ``ATTACHES``.

The node says what the file is (name, type read from its bytes, size, sha256) and who filed it;
the bytes stay out of the graph, so a search or a page never drags a scan through Neo4j.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from neo4j import AsyncManagedTransaction


@dataclass(frozen=True, slots=True)
class Evidence:
    id: str  # the file's sha256: the same file filed twice is one node
    name: str  # as the filer called it, for display only
    type: str  # application/pdf, image/jpeg or image/png, from its first bytes
    size: int

    def row(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "type": self.type, "size": self.size}


ATTACH = """
MATCH (f) WHERE elementId(f) = $filing
UNWIND $files AS file
MERGE (e:Evidence {id: file.id})
ON CREATE SET e.type = file.type, e.size = file.size, e.createdAt = datetime()
MERGE (f)-[a:ATTACHES]->(e)
ON CREATE SET a.name = file.name
"""
OF = """
MATCH (f) WHERE elementId(f) = $filing
MATCH (f)-[a:ATTACHES]->(e:Evidence)
RETURN e.id AS id, a.name AS name, e.type AS type, e.size AS size ORDER BY a.name, e.id
"""


async def attach(tx: AsyncManagedTransaction, filing: str, files: list[Evidence]) -> None:
    """Tie stored files to the filing node (by its element id), in the filing's transaction."""
    if files:
        await tx.run(ATTACH, filing=filing, files=[f.row() for f in files])


async def attached(tx: AsyncManagedTransaction, filing: str) -> list[Evidence]:
    result = await tx.run(OF, filing=filing)
    return [Evidence(r["id"], r["name"], r["type"], r["size"]) async for r in result]
