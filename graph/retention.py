"""What outlived its retention period: outbox events, deliveries and import reports found page by
page, removed in bounded batches once exported, and the feed's horizon that removal moves.

Removal never takes what something still needs. A delivery goes only when settled (delivered
or dead); an event only when none of its deliveries is left and it is neither its listing's last
event, which the snapshot reads as the listing's entry (graph/exchange/snapshot.py), nor its
last change of state, so a listing in force never leaves the snapshot because its event aged
out. An import goes only when DONE or FAILED. Each removal checks its condition again, so a
delivery requeued since it was read stays.

Removing events moves horizons, each a ``Counter``: ``feed-horizon:<KIND>``, the highest feed
version removed of an event the feed shows partners of that kind (a cursor before it may have
missed one), ``feed-horizon`` the same for callers of every kind, and ``snapshot-horizon``, the
highest version that superseded a removed listing event (a snapshot as of an earlier version
may lack that listing). The feed refuses cursors before them (hub/api/feed.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from neo4j import AsyncManagedTransaction
from neo4j.time import Date, DateTime

from graph.db import Store
from graph.exchange.outbox import FEED_TYPES, LISTING_STATES
from policies.retention import Periods

FEED_HORIZON = "feed-horizon"

# An event of listing ``e.sanction`` that is neither the listing's last event (what the snapshot,
# a new partner's bootstrap, the backfill and the reconciliation read) nor its last change of
# state (listed, modified, ended: the listing's facts).
_SUPERSEDED = """EXISTS {
    MATCH (l:OutboxEvent {sanction: e.sanction}) WHERE l.version > e.version
  } AND (NOT e.type IN $states OR EXISTS {
    MATCH (l:OutboxEvent {sanction: e.sanction}) WHERE l.version > e.version AND l.type IN $states
  })"""

# Outbox events written before ``$newest``, in feed-version order after ``$after``, each with its
# deliveries old enough to go and whether the event may go with them. A later event has nothing
# that may go; it is passed over in Neo4j rather than ending the scan, since feed order and
# creation time need not agree (a backdated or imported event).
OUTBOX_PAGE = (
    """
MATCH (e:OutboxEvent) WHERE e.version > $after AND e.createdAt < $newest
WITH e ORDER BY e.version LIMIT $batch
WITH e, COLLECT { MATCH (d:Delivery {event: e.id}) RETURN d } AS every
WITH e, every, [d IN every WHERE
    (d.status = 'DELIVERED' AND coalesce(d.lastAttemptAt, d.requeuedAt, d.createdAt) < $delivered)
    OR (d.status = 'DEAD' AND coalesce(d.lastAttemptAt, d.requeuedAt, d.createdAt) < $dead)
  ] AS old
RETURN e.version AS version, e.createdAt AS at, properties(e) AS event,
  [d IN old | properties(d)] AS deliveries,
  e.createdAt < $events AND size(old) = size(every)
    AND (e.sanction IS NULL OR """
    + _SUPERSEDED
    + """) AS removable
ORDER BY version
"""
)
REMOVE_DELIVERIES = """
UNWIND $ids AS id
MATCH (d:Delivery {id: id}) WHERE d.status IN ['DELIVERED', 'DEAD']
DETACH DELETE d
RETURN count(*) AS n
"""
# The events of ``$ids`` nothing needs any more, each with the next event of its listing.
REMOVABLE = (
    """
UNWIND $ids AS id
MATCH (e:OutboxEvent {id: id})
WHERE NOT EXISTS { MATCH (:Delivery {event: e.id}) }
  AND (e.sanction IS NULL OR """
    + _SUPERSEDED
    + """)
RETURN e.id AS id, e.version AS version, e.type AS type, e.kinds AS kinds, head(COLLECT {
  MATCH (l:OutboxEvent {sanction: e.sanction}) WHERE l.version > e.version
  RETURN l.version ORDER BY l.version LIMIT 1
}) AS successor
"""
)
REMOVE_EVENTS = """
UNWIND $ids AS id
MATCH (e:OutboxEvent {id: id})
DETACH DELETE e
"""
MOVE_HORIZONS = """
UNWIND $horizons AS h
MERGE (c:Counter {name: h.name}) ON CREATE SET c.value = 0
SET c.value = CASE WHEN h.value > c.value THEN h.value ELSE c.value END
"""
HORIZON = """
OPTIONAL MATCH (f:Counter {name: $feed})
OPTIONAL MATCH (s:Counter {name: 'snapshot-horizon'})
RETURN coalesce(f.value, 0) AS feed, coalesce(s.value, 0) AS snapshots
"""
FINISHED_IMPORTS = """
MATCH (i:ArchiveImport)
WHERE i.status IN ['DONE', 'FAILED'] AND i.finishedAt < $before AND i.id > $after
WITH i ORDER BY i.id LIMIT $batch
RETURN i.id AS id, properties(i) AS report
"""
# ``x.line IS NOT NULL`` (every rejection has its line) lets the (importId, line) index seek:
# a composite index is used only when each of its properties has a predicate.
REMOVE_REJECTIONS = """
MATCH (i:ArchiveImport {id: $id}) WHERE i.status IN ['DONE', 'FAILED']
MATCH (x:ImportRejection {importId: $id}) WHERE x.line IS NOT NULL
WITH x LIMIT $batch DELETE x
RETURN count(*) AS n
"""
REMOVE_IMPORT = """
MATCH (i:ArchiveImport {id: $id})
WHERE i.status IN ['DONE', 'FAILED']
  AND NOT EXISTS { MATCH (x:ImportRejection {importId: $id}) WHERE x.line IS NOT NULL }
DETACH DELETE i
RETURN count(*) AS n
"""


@dataclass(frozen=True, slots=True)
class Cutoffs:
    """Rows before these moments have outlived their period."""

    events: str  # OutboxEvent.createdAt is ISO-8601 text
    delivered: float  # Delivery times are epoch seconds
    dead: float
    imports: datetime
    # The latest outbox cutoff, as an event time: an event written after it has nothing that
    # may go (none of its deliveries is older than the event).
    newest: str

    @classmethod
    def at(cls, now: datetime, periods: Periods) -> Cutoffs:
        shortest = min(periods.outbox_events, periods.deliveries, periods.dead_deliveries)
        return cls(
            events=(now - periods.outbox_events).isoformat(),
            delivered=(now - periods.deliveries).timestamp(),
            dead=(now - periods.dead_deliveries).timestamp(),
            imports=now - periods.import_reports,
            newest=(now - shortest).isoformat(),
        )


@dataclass(frozen=True, slots=True)
class OutboxRow:
    version: int
    at: str  # when the event was written
    event: dict[str, Any]
    deliveries: list[dict[str, Any]]  # those old enough to go
    removable: bool  # the event goes too, once these deliveries have


@dataclass(frozen=True, slots=True)
class Horizon:
    feed: int  # feed cursors before this version may have missed a removed event
    snapshots: int  # snapshots as of a version before this may lack a listing


def plain(value: Any) -> Any:
    """A graph value as JSON can hold it: Neo4j's times as ISO-8601 text."""
    if isinstance(value, DateTime | Date):
        return value.iso_format()
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def _plain(props: dict[str, Any]) -> dict[str, Any]:
    return {k: plain(v) for k, v in sorted(props.items())}


async def outbox_page(store: Store, after: int, cutoffs: Cutoffs, batch: int) -> list[OutboxRow]:
    """Up to ``batch`` events after feed version ``after``, with what of them may go."""
    records = await store.execute(
        OUTBOX_PAGE,
        after=after,
        batch=batch,
        events=cutoffs.events,
        delivered=cutoffs.delivered,
        dead=cutoffs.dead,
        newest=cutoffs.newest,
        states=list(LISTING_STATES),
        read=True,
    )
    return [
        OutboxRow(
            r["version"],
            r["at"],
            _plain(r["event"]),
            [_plain(d) for d in r["deliveries"]],
            r["removable"],
        )
        for r in records
    ]


async def remove_deliveries(store: Store, ids: Sequence[str]) -> int:
    """Remove these deliveries where still settled; how many went."""
    records = await store.execute(REMOVE_DELIVERIES, ids=list(ids))
    return int(records[0]["n"]) if records else 0


def _horizons(rows: list[dict[str, Any]]) -> dict[str, int]:
    """The horizons removing these events moves: only events the feed shows move a feed's."""
    moved: dict[str, int] = {}

    def push(name: str, version: int) -> None:
        moved[name] = max(moved.get(name, 0), version)

    for row in rows:
        if row["successor"] is not None:
            push("snapshot-horizon", row["successor"])
        if row["type"] in FEED_TYPES:
            push(FEED_HORIZON, row["version"])
            for kind in row["kinds"] or []:
                push(f"{FEED_HORIZON}:{kind}", row["version"])
    return moved


async def remove_events(store: Store, ids: Sequence[str]) -> int:
    """Remove these events where nothing needs them any more, moving the feed's horizons in
    the same transaction; how many went."""

    async def work(tx: AsyncManagedTransaction) -> int:
        found = await tx.run(REMOVABLE, ids=list(ids), states=list(LISTING_STATES))
        rows = [r.data() async for r in found]
        if not rows:
            return 0
        await (await tx.run(REMOVE_EVENTS, ids=[r["id"] for r in rows])).consume()
        horizons = [{"name": k, "value": v} for k, v in _horizons(rows).items()]
        await (await tx.run(MOVE_HORIZONS, horizons=horizons)).consume()
        return len(rows)

    return await store.write(work)


async def feed_horizon(store: Store, kind: str | None) -> Horizon:
    """Where the feed of partners of ``kind`` (None: every kind) may start, and snapshots."""
    name = FEED_HORIZON if kind is None else f"{FEED_HORIZON}:{kind}"
    records = await store.read(HORIZON, feed=name)
    return Horizon(records[0]["feed"], records[0]["snapshots"]) if records else Horizon(0, 0)


async def finished_imports(
    store: Store, before: datetime, after: str, batch: int
) -> list[dict[str, Any]]:
    """Up to ``batch`` reports of imports finished before ``before``, by id after ``after``."""
    records = await store.execute(
        FINISHED_IMPORTS, before=before, after=after, batch=batch, read=True
    )
    return [_plain(r["report"]) for r in records]


async def remove_import(store: Store, import_id: str, batch: int) -> int:
    """Remove a finished import's rejected rows, ``batch`` a transaction, then its report;
    how many rejected rows went (nothing goes while the import runs again)."""
    removed = 0
    while n := int((await store.execute(REMOVE_REJECTIONS, id=import_id, batch=batch))[0]["n"]):
        removed += n
    await store.execute(REMOVE_IMPORT, id=import_id)
    return removed
