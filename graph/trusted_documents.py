"""Registered operations (trusted documents): GraphQL documents stored by their SHA-256.

Partners restricted to them send only the hash; the hub runs the document it registered, so a
stolen token cannot be used to ask anything else.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from graph.db import Store

REGISTER = """
MERGE (o:Operation {hash: $hash})
ON CREATE SET o.document = $document, o.name = $name, o.registeredAt = $at
RETURN o.name AS name
"""
BY_HASH = "MATCH (o:Operation {hash: $hash}) RETURN o.document AS document"
ALL = "MATCH (o:Operation) RETURN o.hash AS hash, o.name AS name ORDER BY o.name, o.hash"


@dataclass(frozen=True, slots=True)
class Operation:
    hash: str
    name: str


def document_hash(document: str) -> str:
    """Hex SHA-256 of the document text exactly as sent (Apollo persisted-query style)."""
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


async def register(store: Store, document: str, name: str) -> Operation:
    digest = document_hash(document)
    await store.execute(
        REGISTER,
        hash=digest,
        document=document,
        name=name,
        at=datetime.now(UTC).isoformat(),
    )
    return Operation(digest, name)


async def registered_document(store: Store, digest: str) -> str | None:
    records = await store.read(BY_HASH, hash=digest)
    return str(records[0]["document"]) if records else None


async def registered(store: Store) -> list[Operation]:
    records = await store.execute(ALL, read=True)
    return [Operation(r["hash"], r["name"]) for r in records]
