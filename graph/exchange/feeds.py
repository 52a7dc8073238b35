"""Listings pulled from outside lists, applied as snapshots with their provenance.

Each run brings the whole list. A row is keyed by its feed and its id there, so a listing seen
again is the same ``Sanction``: new rows are listed, changed rows (their content hash differs)
modified, unchanged rows only marked seen, and listings of the feed that are no longer on it
ended; each change emits its outbox event in the transaction that makes it. A row naming a
subject the hub does not hold, or with an invalid code or date, is reported with its reason
and left out; one bad row never costs the good ones.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from neo4j import AsyncManagedTransaction

from graph.archive.row_fields import Rejection
from graph.db import Store
from graph.exchange.outbox import NewEvent, emit
from graph.identifiers import validate_uscc
from graph.records.listings import end_in
from policies.credit.feeds import Feed
from policies.credit.measures import Catalogue

BATCH = 200  # rows per transaction
SHRINK_GUARD = 0.5  # a snapshot with fewer rows than this share of the active ones ends nothing


@dataclass(frozen=True, slots=True)
class FeedRow:
    line: int
    external_id: str
    credit_code: str
    name: str | None
    start: date
    end: date | None
    document: str | None
    authority: str | None

    @property
    def sanction_id(self) -> str:
        return "X-" + hashlib.sha256(self.external_id.encode()).hexdigest()[:20]

    @property
    def content_hash(self) -> str:
        parts = [self.credit_code, self.start, self.end, self.document, self.authority]
        return hashlib.sha256(repr(parts).encode()).hexdigest()


@dataclass(slots=True)
class FeedReport:
    feed: str
    rows: int = 0
    listed: int = 0
    modified: int = 0
    unchanged: int = 0
    ended: int = 0
    attached: int = 0  # case documents (a feed that carries them): attached to their case
    queued: int = 0  # case documents waiting for a person
    rejected: list[Rejection] = field(default_factory=list)
    events: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)  # (subject, partners)
    note: str | None = None


def _day(value: Any) -> date | None:
    if value in (None, ""):
        return None
    text = str(value).strip()[:10].replace("/", "-").replace(".", "-")
    return date.fromisoformat(text)


def parse_rows(feed: Feed, records: list[dict[str, Any]]) -> tuple[list[FeedRow], list[Rejection]]:
    """The feed's records as rows, each checked; line numbers count from 1 (after a header)."""
    columns = feed.columns
    rows: list[FeedRow] = []
    rejected: list[Rejection] = []
    seen: dict[str, int] = {}

    def get(record: dict[str, Any], name: str) -> Any:
        column = columns.get(name)
        return record.get(column) if column else None

    for line, record in enumerate(records, start=1):
        external = str(get(record, "id") or "").strip()
        if not external:
            rejected.append(Rejection(line, "missing-field", f"no {columns['id']}"))
            continue
        key = f"{feed.code}:{external}"
        if key in seen:
            rejected.append(Rejection(line, "duplicate", f"the same entry as line {seen[key]}"))
            continue
        seen[key] = line
        try:
            code = validate_uscc(str(get(record, "creditCode") or ""))
        except ValueError as exc:
            rejected.append(Rejection(line, "invalid-credit-code", str(exc)))
            continue
        try:
            start = _day(get(record, "startDate"))
            end = _day(get(record, "endDate"))
        except ValueError:
            rejected.append(Rejection(line, "invalid-date", "dates are YYYY-MM-DD"))
            continue
        if start is None:
            rejected.append(Rejection(line, "missing-field", f"no {columns['startDate']}"))
            continue
        text = {
            k: (str(get(record, k)).strip() or None) if get(record, k) else None
            for k in ("name", "document", "authority")
        }
        rows.append(
            FeedRow(line, key, code, text["name"], start, end, text["document"], text["authority"])
        )
    return rows, rejected


_APPLY = """
UNWIND $rows AS row
OPTIONAL MATCH (s:Subject {creditCode: row.creditCode})
WITH row, s
CALL (row, s) {
  WITH row, s WHERE s IS NOT NULL
  MERGE (n:Sanction {id: row.id})
  ON CREATE SET n.firstSeen = $now, n.createdAt = $now
  WITH row, s, n, n.contentHash AS before, n.status AS was
  SET n.listing = $listing, n.measures = $measures, n.startDate = row.start,
      n.endDate = row.end, n.status = 'ACTIVE', n.disclosure = 'PUBLIC',
      n.authority = row.authority, n.sourceSystem = $feed, n.sourceId = row.externalId,
      n.sourceDocument = row.document, n.sourceUrl = $url, n.contentHash = row.hash,
      n.lastSeen = $now
  MERGE (n)-[:SANCTIONED]->(s)
  RETURN CASE WHEN before IS NULL OR was <> 'ACTIVE' THEN 'listed'
              WHEN before <> row.hash THEN 'modified' ELSE 'unchanged' END AS outcome,
         s.name AS name
}
RETURN row.line AS line, row.id AS id, row.creditCode AS subject, outcome, name
"""
_KNOWN = """
MATCH (s:Subject) WHERE s.creditCode IN $codes RETURN s.creditCode AS code
"""
_GONE = """
MATCH (n:Sanction {sourceSystem: $feed, status: 'ACTIVE'}) WHERE NOT n.id IN $seen
RETURN n.id AS id
"""
_ACTIVE = "MATCH (n:Sanction {sourceSystem: $feed, status: 'ACTIVE'}) RETURN count(n) AS n"


async def apply_snapshot(
    store: Store,
    catalogue: Catalogue,
    feed: Feed,
    rows: list[FeedRow],
    rejected: list[Rejection],
    today: date,
) -> FeedReport:
    if feed.listing is None:
        raise ValueError(f"{feed.code} carries case documents, not a listing")
    report = FeedReport(feed.code, rows=len(rows) + len(rejected), rejected=list(rejected))
    codes = [m.code for m in catalogue.for_listing(feed.listing)]
    kinds, details = catalogue.kinds_of(codes), catalogue.describe(codes)
    now = datetime.now(UTC)
    known = {r["code"] for r in await store.execute(_KNOWN, codes=[r.credit_code for r in rows])}
    for row in rows:
        if row.credit_code not in known:
            report.rejected.append(
                Rejection(
                    row.line, "unknown-subject", f"the hub holds no subject {row.credit_code}"
                )
            )
    good = [r for r in rows if r.credit_code in known]
    report.rejected.sort(key=lambda r: r.line)

    async def batch(tx: AsyncManagedTransaction, part: list[FeedRow]) -> None:
        result = await tx.run(
            _APPLY,
            rows=[
                {
                    "line": r.line,
                    "id": r.sanction_id,
                    "externalId": r.external_id,
                    "creditCode": r.credit_code,
                    "start": r.start,
                    "end": r.end,
                    "document": r.document,
                    "authority": r.authority,
                    "hash": r.content_hash,
                }
                for r in part
            ],
            listing=feed.listing,
            measures=codes,
            feed=feed.code,
            url=feed.url,
            now=now,
        )
        by_line = {r.line: r for r in part}
        async for record in result:
            outcome = record["outcome"]
            setattr(report, outcome, getattr(report, outcome) + 1)
            if outcome == "unchanged":
                continue
            row = by_line[record["line"]]
            data = {
                "sanctionId": row.sanction_id,
                "creditCode": row.credit_code,
                "name": record["name"],
                "listing": feed.listing,
                "status": "ACTIVE",
                "startDate": row.start.isoformat(),
                "endDate": row.end.isoformat() if row.end else None,
                "authority": row.authority,
                "source": {"feed": feed.code, "id": row.external_id, "document": row.document},
                "measures": details,
            }
            kind = "sanction.listed" if outcome == "listed" else "sanction.modified"
            emitted = await emit(
                tx, NewEvent(kind, row.credit_code, row.sanction_id, "PUBLIC", kinds, data)
            )
            report.events.append((emitted.subject, emitted.partners))

    async with store.session() as session:
        for start in range(0, len(good), BATCH):
            part = good[start : start + BATCH]

            async def work(tx: AsyncManagedTransaction, part: list[FeedRow] = part) -> None:
                await batch(tx, part)

            await session.execute_write(work)

        active = await store.execute(_ACTIVE, feed=feed.code)
        if active[0]["n"] and len(good) < SHRINK_GUARD * active[0]["n"]:
            report.note = (
                f"the list shrank to {len(good)} of {active[0]['n']} active entries: nothing "
                "ended; check the feed and pull again"
            )
            return report
        gone = await store.execute(_GONE, feed=feed.code, seen=[r.sanction_id for r in good])
        for record in gone:

            async def finish(tx: AsyncManagedTransaction, sid: str = record["id"]) -> None:
                ended = await end_in(tx, catalogue, sid, "WITHDRAWN", today)
                if ended is not None:
                    report.ended += 1
                    report.events.append((ended.subject, ended.partners))

            await session.execute_write(finish)
    return report
