"""Importing a unit's archive file: stream, validate, submit in batches, report every row.

The file is read row by row (graph/archive/files.py), so a million-row file never sits in
memory. Each batch is one transaction that writes the accepted records, the rejected rows
(``ImportRejection``) and adds its counts to the ``ArchiveImport``'s, so progress and report
are queryable while the import runs and survive a crash. Running the same import again (its
worker killed) starts over from the first line, writes nothing twice and counts each line as
the first run did (graph/records/submissions.py), so its report is an uninterrupted run's. Two
batches are written at once, on disjoint subjects (:class:`ArchiveImporter`).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from neo4j import AsyncManagedTransaction
from neo4j.exceptions import ServiceUnavailable, SessionExpired

from graph.archive.files import read_archive
from graph.archive.row_fields import Rejection, RowError
from graph.archive.xlsx_guard import DEFAULT_LIMITS, XlsxLimits
from graph.db import Store
from graph.records.submissions import Outcome, Submission, parse_submission, submit
from policies.access import unit_scope
from policies.units import unit_prefix


@dataclass(slots=True)
class Counts:
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0

    @property
    def accepted(self) -> int:
        return self.created + self.updated


_START = """
MERGE (i:ArchiveImport {id: $id})
ON CREATE SET i.createdAt = $now
SET i.agency = $agency, i.submittedBy = $by, i.fileName = $fileName, i.format = $format,
    i.status = 'RUNNING', i.startedAt = $now, i.finishedAt = null, i.error = null,
    i.read = 0, i.created = 0, i.updated = 0, i.unchanged = 0, i.rejected = 0
"""
_QUEUE = """
CREATE (i:ArchiveImport {id: $id, agency: $agency, submittedBy: $by, fileName: $fileName,
  format: $format, status: 'QUEUED', createdAt: $now, read: 0, created: 0, updated: 0,
  unchanged: 0, rejected: 0})
"""
_CLEAR_REJECTIONS = """
MATCH (x:ImportRejection {importId: $id}) WHERE x.line IS NOT NULL
WITH x LIMIT 10000 DELETE x RETURN count(*) AS n
"""
# count(*) leaves one row even when there are no rejections, so the counts are always added.
# Batches commit in any order (two write at once), so each adds its own counts.
_PROGRESS = """
UNWIND $rejections AS x
CREATE (:ImportRejection {importId: $id, line: x.line, reason: x.reason, message: x.message})
WITH count(*) AS ignored
MATCH (i:ArchiveImport {id: $id})
SET i.read = i.read + $counts.read, i.created = i.created + $counts.created,
    i.updated = i.updated + $counts.updated, i.unchanged = i.unchanged + $counts.unchanged,
    i.rejected = i.rejected + $counts.rejected, i.updatedAt = $now
"""
_FINISH = """
MATCH (i:ArchiveImport {id: $id})
SET i.status = $status, i.finishedAt = $now, i.error = $error
"""


def new_import_id() -> str:
    return "IMP-" + uuid.uuid4().hex[:16].upper()


async def _write_batch(
    tx: AsyncManagedTransaction,
    rows: list[dict[str, Any]],
    refused: list[Rejection],
    *,
    import_id: str,
    agency: str,
    by: str,
    now: datetime,
) -> Counts:
    """One batch: records, rejections and this batch's counts, together. Pure in its inputs,
    so the driver may retry it."""
    outcomes: list[Outcome] = []
    if rows:
        outcomes = await submit(
            tx,
            rows,
            agency=agency,
            prefix=unit_prefix(agency),
            by=by,
            now=now,
            scope=unit_scope(agency).params(),
            import_id=import_id,
            system="archive",
        )
    counts = Counts(read=len(rows) + len(refused))
    rejections = list(refused)
    for o in outcomes:
        if o.refused:
            rejections.append(Rejection(o.line, o.outcome, o.message))
        else:
            setattr(counts, o.outcome, getattr(counts, o.outcome) + 1)
    counts.rejected = len(rejections)
    await tx.run(
        _PROGRESS,
        id=import_id,
        counts=asdict(counts),
        now=now,
        rejections=[asdict(r) for r in rejections],
    )
    return counts


LANES = 2  # batches written at once: Neo4j works on both cores while Python parses


class ArchiveImporter:
    """Feeds rows to :func:`_write_batch` in ``LANES`` lanes by subject, each with one batch
    in flight while the next is parsed. A subject's rows stay in one lane, in file order, so
    concurrent batches never touch the same subject (no lock waits, no deadlocks) and a later
    line with the same natural key always meets the earlier one's write."""

    def __init__(
        self,
        store: Store,
        *,
        import_id: str,
        agency: str,
        by: str,
        batch_size: int = 2000,
        progress: Callable[[Counts], None] | None = None,
    ) -> None:
        self._store = store
        self._import_id = import_id
        self._agency = agency
        self._by = by
        self._batch_size = batch_size
        self._progress = progress
        # Per lane: natural key → params of this batch, and the rows refused while reading.
        self._rows: list[dict[str, dict[str, Any]]] = [{} for _ in range(LANES)]
        self._refused: list[list[Rejection]] = [[] for _ in range(LANES)]
        self._pending: list[asyncio.Task[None] | None] = [None] * LANES
        self._parsed = 0
        self.counts = Counts()  # committed totals

    async def add(self, line: int, row: Submission | RowError) -> None:
        lane = line % LANES if isinstance(row, RowError) else hash(row.subject) % LANES
        rows = self._rows[lane]
        if isinstance(row, RowError):
            self._refused[lane].append(Rejection(line, row.reason, str(row)))
        elif row.natural_key in rows:
            first = rows[row.natural_key]["line"]
            self._refused[lane].append(
                Rejection(line, "duplicate", f"same item, subject and document as line {first}")
            )
        else:
            rows[row.natural_key] = row.params(line)
        self._parsed += 1
        if len(rows) + len(self._refused[lane]) >= self._batch_size:
            await self._flush(lane)
        elif self._parsed % 200 == 0:
            await asyncio.sleep(0)  # let the writes in flight go on while we parse

    async def _flush(self, lane: int) -> None:
        rows, refused = list(self._rows[lane].values()), self._refused[lane]
        self._rows[lane], self._refused[lane] = {}, []
        pending = self._pending[lane]
        if pending is not None:
            await pending
        self._pending[lane] = (
            asyncio.create_task(self._write(rows, refused)) if rows or refused else None
        )

    async def _write(self, rows: list[dict[str, Any]], refused: list[Rejection]) -> None:
        async with self._store.session() as session:
            batch = await session.execute_write(
                _write_batch,
                rows,
                refused,
                import_id=self._import_id,
                agency=self._agency,
                by=self._by,
                now=datetime.now(UTC),
            )
        for name, value in asdict(batch).items():
            setattr(self.counts, name, getattr(self.counts, name) + value)
        if self._progress is not None:
            self._progress(self.counts)

    async def close(self) -> Counts:
        for lane in range(LANES):
            await self._flush(lane)
        for lane, pending in enumerate(self._pending):
            if pending is not None:
                await pending
                self._pending[lane] = None
        return self.counts


async def queue_import(
    store: Store,
    *,
    import_id: str,
    agency: str,
    by: str,
    file_name: str,
    fmt: str | None,
) -> None:
    """An upload waiting for a worker: queryable from the moment its id is handed out."""
    await store.execute(
        _QUEUE,
        id=import_id,
        agency=agency,
        by=by,
        fileName=file_name,
        format=fmt,
        now=datetime.now(UTC),
    )


async def _start(store: Store, **params: Any) -> None:
    await store.execute(_START, params)
    while True:
        records = await store.execute(_CLEAR_REJECTIONS, id=params["id"])
        if records[0]["n"] == 0:
            return


async def _finish(store: Store, import_id: str, status: str, error: str | None) -> None:
    await store.execute(
        _FINISH,
        id=import_id,
        status=status,
        error=error,
        now=datetime.now(UTC),
    )


def parsed(rows: Iterable[tuple[int, Any]], today: date) -> Iterable[tuple[int, Any]]:
    """Decoded rows to submissions or the error that refuses them."""
    for line, raw in rows:
        if isinstance(raw, RowError):
            yield line, raw
            continue
        try:
            yield line, parse_submission(raw, today)
        except RowError as exc:
            yield line, exc


async def run_import(
    store: Store,
    path: Path,
    *,
    import_id: str,
    agency: str,
    by: str,
    file_name: str | None = None,
    fmt: str | None = None,
    batch_size: int = 2000,
    progress: Callable[[Counts], None] | None = None,
    limits: XlsxLimits = DEFAULT_LIMITS,
) -> Counts:
    """Import one file for ``agency`` (a department unit); the report is kept in Neo4j under
    ``import_id``. A file that cannot be read at all marks the import FAILED and re-raises."""
    await _start(
        store,
        id=import_id,
        agency=agency,
        by=by,
        fileName=file_name or path.name,
        format=fmt,
        now=datetime.now(UTC),
    )
    importer = ArchiveImporter(
        store,
        import_id=import_id,
        agency=agency,
        by=by,
        batch_size=batch_size,
        progress=progress,
    )
    try:
        for line, row in parsed(read_archive(path, fmt, limits), date.today()):
            await importer.add(line, row)
        counts = await importer.close()
    except (ServiceUnavailable, SessionExpired):
        raise  # Neo4j went away, not the file's fault: the import runs again (connectors/tasks.py)
    except Exception as exc:
        await _finish(store, import_id, "FAILED", str(exc)[:500])
        raise
    await _finish(store, import_id, "DONE", None)
    return counts


# --- reading an import back --------------------------------------------------------------------

IMPORT = """
MATCH (i:ArchiveImport {id: $id})
RETURN i {.id, .agency, .submittedBy, .fileName, .format, .status, .error, .read, .created,
          .updated, .unchanged, .rejected, startedAt: toString(i.startedAt),
          finishedAt: toString(i.finishedAt)} AS i
"""
REJECTIONS = """
MATCH (x:ImportRejection {importId: $id}) WHERE x.line > $after
RETURN x.line AS line, x.reason AS reason, x.message AS message
ORDER BY x.line LIMIT $limit
"""


async def find_import(store: Store, import_id: str) -> dict[str, Any] | None:
    records = await store.execute(IMPORT, id=import_id, read=True)
    return dict(records[0]["i"]) if records else None


async def rejections(
    store: Store, import_id: str, after: int = 0, limit: int = 100
) -> list[Rejection]:
    records = await store.execute(REJECTIONS, id=import_id, after=after, limit=limit, read=True)
    return [Rejection(r["line"], r["reason"], r["message"]) for r in records]


async def all_rejections(
    store: Store, import_id: str, page: int = 10_000
) -> AsyncIterator[Rejection]:
    after = 0
    while True:
        batch = await rejections(store, import_id, after, page)
        for item in batch:
            yield item
        if len(batch) < page:
            return
        after = batch[-1].line


async def fail_import(store: Store, import_id: str, error: str) -> None:
    """An import that cannot start (its file is not where the upload left it) ends FAILED."""
    await _finish(store, import_id, "FAILED", error[:500])
