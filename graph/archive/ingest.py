"""Batched ingestion of validated rows: ``UNWIND $rows ... MERGE`` on the uniqueness keys.

Rows are buffered and flushed in dependency order (agencies before subjects before records before
relations), so a row may refer to anything defined before it in the same stream. Each write query
returns the line numbers it wrote; the others referred to something unknown and are reported.
One flush runs while the next batch is parsed, so Python and Neo4j work at the same time.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from neo4j import AsyncManagedTransaction

from graph.archive.row_fields import Rejection, RowError
from graph.archive.rows import RELATIONS, Row, parse_row
from graph.db import Store

_CONTACTS = """
FOREACH (v IN row.phones | MERGE (c:Phone {number: v}) MERGE (n)-[:HAS_PHONE]->(c))
FOREACH (v IN row.addresses | MERGE (c:Address {text: v}) MERGE (n)-[:HAS_ADDRESS]->(c))
FOREACH (v IN row.emails | MERGE (c:Email {address: v}) MERGE (n)-[:HAS_EMAIL]->(c))
"""


def _merge_node(label: str, key: str, extra: str = "") -> str:
    return f"""
UNWIND $rows AS row
MERGE (n:{label} {{{key}: row.key}})
ON CREATE SET n.firstSeen = $now
SET n += row.props, n.lastSeen = $now
{extra}
RETURN collect(row.line) AS written
"""


def _merge_owned(label: str, anchors: str, links: str) -> str:
    """A node that hangs off others: written only when every anchor exists."""
    return f"""
UNWIND $rows AS row
{anchors}
MERGE (n:{label} {{id: row.key}})
ON CREATE SET n.firstSeen = $now
SET n += row.props, n.lastSeen = $now
{links}
RETURN collect(row.line) AS written
"""


ENDPOINTS = {
    "subject": ("Subject", "creditCode"),
    "person": ("Person", "personId"),
    "project": ("Project", "id"),
}


def _merge_relation(rel_type: str, from_kind: str, to_kind: str, extra: str | None) -> str:
    """One relation per type and ends, and per role where the type has one (a bidder that is
    also the contractor holds two relations to the project)."""
    from_label, from_key = ENDPOINTS[from_kind]
    to_label, to_key = ENDPOINTS[to_kind]
    key = " {role: row.props.role}" if extra == "role" else ""
    return f"""
UNWIND $rows AS row
MATCH (a:{from_label} {{{from_key}: row.from}})
MATCH (b:{to_label} {{{to_key}: row.to}})
MERGE (a)-[r:{rel_type}{key}]->(b)
ON CREATE SET r.firstSeen = $now
SET r += row.props, r.lastSeen = $now
RETURN collect(row.line) AS written
"""


# The subject carries its newest rating's grade and score, so filters need no traversal: worked
# out from all its ratings after the batch's are linked, newest as reads order them. (Comparing
# each row with the subject's ratedAt let the last row of a batch win, not the newest: the
# planner reads every row's comparison before the first write.)
RATING = """
UNWIND $rows AS row
MATCH (s:Subject {creditCode: row.subject})
MERGE (n:Rating {id: row.key})
ON CREATE SET n.firstSeen = $now
SET n += row.props, n.lastSeen = $now
MERGE (n)-[:RATED]->(s)
WITH collect(row.line) AS written, collect(DISTINCT s) AS rated
CALL (rated) {
  UNWIND rated AS s
  CALL (s) {
    MATCH (rt:Rating)-[:RATED]->(s)
    RETURN rt ORDER BY rt.computedAt DESC LIMIT 1
  }
  SET s.grade = rt.grade, s.score = rt.score, s.ratedAt = rt.computedAt
}
RETURN written
"""

# Named write queries, built once from fixed tables (never from input), in dependency order.
WRITES: dict[str, str] = {
    "Agency": _merge_node("Agency", "code"),
    "Project": _merge_node("Project", "id"),
    "Subject": _merge_node("Subject", "creditCode", _CONTACTS),
    "Person": _merge_node("Person", "personId", _CONTACTS),
    "Licence": _merge_owned(
        "Licence",
        "MATCH (s:Subject {creditCode: row.holder}) MATCH (a:Agency {code: row.issuer})",
        "MERGE (s)-[:HOLDS]->(n) MERGE (a)-[:ISSUED]->(n)",
    ),
    "CreditRecord": _merge_owned(
        "CreditRecord",
        "MATCH (s:Subject {creditCode: row.subject}) MATCH (a:Agency {code: row.agency})",
        "MERGE (s)-[:HAS_RECORD]->(n) MERGE (a)-[:SUBMITTED]->(n)",
    ),
    "Sanction": _merge_owned(
        "Sanction",
        "MATCH (s:Subject {creditCode: row.subject}) MATCH (a:Agency {code: row.authority}) "
        "WHERE size(row.basedOn) = COUNT { MATCH (r:CreditRecord) WHERE r.id IN row.basedOn }",
        "MERGE (n)-[:SANCTIONED]->(s) SET n.authority = row.authority "
        "WITH n, row CALL (n, row) { MATCH (r:CreditRecord) WHERE r.id IN row.basedOn "
        "MERGE (n)-[:BASED_ON]->(r) }",
    ),
    "Rating": RATING,
    **{
        f"{t}:{a}:{b}": _merge_relation(t, a, b, extra)
        for t, (pairs, extra) in RELATIONS.items()
        for a, b in sorted(pairs)
    },
}


@dataclass(slots=True)
class ImportReport:
    read: int = 0
    accepted: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    rejected: list[Rejection] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "accepted": self.accepted,
            "rejected": len(self.rejected),
            "byKind": dict(sorted(self.by_kind.items())),
            "rejections": [
                {"line": r.line, "reason": r.reason, "message": r.message} for r in self.rejected
            ],
        }


async def _write_batch(
    tx: AsyncManagedTransaction, batches: list[tuple[str, list[dict[str, Any]]]], now: datetime
) -> set[int]:
    written: set[int] = set()
    for kind, rows in batches:
        result = await tx.run(WRITES[kind], rows=rows, now=now)
        record = await result.single(strict=True)
        written.update(record["written"])
    return written


_YIELD_EVERY = 200


class Ingestor:
    """Buffers validated rows and writes them in dependency-ordered batches."""

    def __init__(
        self,
        store: Store,
        batch_size: int = 5000,
        progress: Callable[[ImportReport], None] | None = None,
    ) -> None:
        self._store = store
        self._batch_size = batch_size
        self._progress = progress
        self._buffers: dict[str, list[dict[str, Any]]] = {kind: [] for kind in WRITES}
        self._buffered = 0
        self._pending: asyncio.Task[None] | None = None
        self.report = ImportReport()

    def reject(self, line: int, reason: str, message: str) -> None:
        self.report.read += 1
        self.report.rejected.append(Rejection(line, reason, message))

    async def add(self, line: int, row: Row) -> None:
        self.report.read += 1
        self._buffers[row.kind].append({"line": line, **row.params})
        self._buffered += 1
        if self._buffered >= self._batch_size:
            await self._flush()
        elif self._buffered % _YIELD_EVERY == 0:
            # Let the write in flight send its next statement, so Neo4j works while we parse.
            await asyncio.sleep(0)

    async def _flush(self) -> None:
        batches = [(kind, rows) for kind, rows in self._buffers.items() if rows]
        self._buffers = {kind: [] for kind in WRITES}
        self._buffered = 0
        if self._pending is not None:
            await self._pending
        self._pending = asyncio.create_task(self._write(batches)) if batches else None

    async def _write(self, batches: list[tuple[str, list[dict[str, Any]]]]) -> None:
        written = await self._store.write(_write_batch, batches, datetime.now(UTC))
        for kind, rows in batches:
            label = kind.split(":", 1)[0]
            for row in rows:
                if row["line"] in written:
                    self.report.accepted += 1
                    self.report.by_kind[label] = self.report.by_kind.get(label, 0) + 1
                else:
                    self.report.rejected.append(
                        Rejection(
                            row["line"],
                            "unknown-reference",
                            f"{label} refers to a subject, person, agency, project or record "
                            "not defined on an earlier line nor stored",
                        )
                    )
        if self._progress is not None:
            self._progress(self.report)

    async def close(self) -> ImportReport:
        await self._flush()
        if self._pending is not None:
            await self._pending
            self._pending = None
        self.report.rejected.sort(key=lambda r: r.line)
        return self.report


def decode_lines(lines: Iterable[str]) -> Iterator[Any]:
    """JSON Lines to values, one per line (``None`` for a blank line, a :class:`RowError` for
    a line that is not JSON), so line numbers stay those of the file."""
    for text in lines:
        if not text.strip():
            yield None
            continue
        try:
            yield json.loads(text)
        except json.JSONDecodeError as exc:
            yield RowError("bad-json", f"not valid JSON: {exc.msg} at column {exc.colno}")


async def ingest_rows(
    rows: Iterable[Any],
    store: Store,
    secret: bytes,
    *,
    batch_size: int = 5000,
    progress: Callable[[ImportReport], None] | None = None,
) -> ImportReport:
    """Validate and store rows; every refused row is reported with its number and reason."""
    ingestor = Ingestor(store, batch_size, progress)
    for number, raw in enumerate(rows, start=1):
        if raw is None:
            continue
        try:
            if isinstance(raw, RowError):
                raise raw
            row = parse_row(raw, secret)
        except RowError as exc:
            ingestor.reject(number, exc.reason, str(exc))
            continue
        await ingestor.add(number, row)
    return await ingestor.close()
