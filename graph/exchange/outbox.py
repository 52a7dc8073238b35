"""The transactional outbox: sanction changes become events, and events become deliveries.

``emit`` runs inside the transaction that changes a listing, so the change and its event commit
or fail together. It numbers the event twice: ``version``, one global count that the delta feed
pages by, and ``seq``, a count per subject that delivery keeps in order. In the same
transaction it creates one ``Delivery`` per partner that must hear of it: active, with an
endpoint, subscribed to the event's type, of a partner kind the listing's measures go to, and
cleared for the event's disclosure class. Workers (connectors/delivery.py) then work the
deliveries; their state lives here, in the graph, so nothing depends on a broker message.
"""

from __future__ import annotations

import json
import secrets
import time
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from neo4j import AsyncManagedTransaction, Record

from graph.associations.membership import members_only
from graph.db import Store
from policies.access import cypher_readable
from policies.principal import Clearance

# The events that change a listing's state: the latest of them says whether and how a listing
# is in force. Other events name a listing too (an objection's ``record.objected`` mark), so
# whatever reads "the listing's last event" reads it among these (``STATE_EVENT``, on ``e``).
LISTING_STATES = ("sanction.listed", "sanction.modified", "sanction.ended")
STATE_EVENT = "e.type IN ['sanction.listed', 'sanction.modified', 'sanction.ended']"
SHARDS = 4  # deliveries to one partner run in this many lanes; a subject stays in one lane
RANKS = {c.name: c.value for c in Clearance}


def shard_of(subject: str) -> int:
    return zlib.crc32(subject.encode()) % SHARDS


def new_event_id(now: float) -> str:
    """Time-ordered and unique: ``evt_`` + milliseconds (hex) + 64 random bits."""
    return f"evt_{int(now * 1000):012x}{secrets.token_hex(8)}"


@dataclass(frozen=True, slots=True)
class NewEvent:
    type: str  # sanction.listed, sanction.modified, sanction.ended, record.published
    subject: str  # credit code
    sanction: str | None  # sanction id (None: a record's event)
    disclosure: str  # the sanction's class: partners below it never hear of it
    partner_kinds: tuple[str, ...]  # kinds its measures go to
    data: dict[str, Any]  # the webhook's `data`


@dataclass(frozen=True, slots=True)
class Emitted:
    id: str
    subject: str
    version: int
    seq: int
    partners: tuple[str, ...]  # deliveries created, one per partner


# One PENDING delivery of event ``e`` to every active partner with an endpoint that takes its
# type and kind and is cleared for its disclosure.
# An association's partner (``p.association``) hears only of its current members.
FAN_OUT = f"""
MATCH (p:Partner {{status: 'ACTIVE'}})
WHERE p.endpoint IS NOT NULL AND e.type IN p.events AND p.kind IN e.kinds
  AND $ranks[p.clearance] >= $ranks[e.disclosure]
  AND {members_only("p.association", "e.subject")}
CREATE (d:Delivery {{id: e.id + '|' + p.code, event: e.id, partner: p.code, subject: e.subject,
  seq: e.seq, version: e.version, shard: e.shard, status: 'PENDING', attempts: 0,
  nextAt: $now, createdAt: $now}})
"""

EMIT = (
    """
MERGE (c:Counter {name: 'feed'}) ON CREATE SET c.value = 0
SET c.value = c.value + 1
WITH c.value AS version
OPTIONAL MATCH (prev:OutboxEvent {subject: $subject}) WHERE prev.seq IS NOT NULL
WITH version, coalesce(max(prev.seq), 0) + 1 AS seq
CREATE (e:OutboxEvent {id: $id, version: version, seq: seq, type: $type, subject: $subject,
  sanction: $sanction, disclosure: $disclosure, kinds: $kinds, data: $data, createdAt: $at,
  shard: $shard})
WITH e
CALL (e) {"""
    + FAN_OUT
    + """  RETURN collect(p.code) AS partners
}
RETURN e.version AS version, e.seq AS seq, partners
"""
)


async def emit(tx: AsyncManagedTransaction, event: NewEvent, now: float | None = None) -> Emitted:
    """Write the event and its deliveries in the caller's transaction."""
    now = time.time() if now is None else now
    event_id = new_event_id(now)
    result = await tx.run(
        EMIT,
        id=event_id,
        type=event.type,
        subject=event.subject,
        sanction=event.sanction,
        disclosure=event.disclosure,
        kinds=list(event.partner_kinds),
        data=json.dumps(event.data, ensure_ascii=False, sort_keys=True),
        at=datetime.fromtimestamp(now, UTC).isoformat(),
        ranks=RANKS,
        shard=shard_of(event.subject),
        now=now,
    )
    row = await result.single(strict=True)
    return Emitted(
        event_id, event.subject, row["version"], row["seq"], tuple(sorted(row["partners"]))
    )


# --- delivery state ---------------------------------------------------------------------------

# The deliveries of one lane that may go now: pending, due, not being posted (``$busy``), and
# first in line for their subject (an earlier pending event of the same subject goes first, also
# while it is being posted; a dead-lettered one does not block). Oldest first: the version bound
# and the ORDER BY on the whole key let the planner read the lane's index (migration 23) in order
# and stop after ``$batch``, however long the lane's queue.
DUE = """
MATCH (d:Delivery {partner: $partner, status: 'PENDING', shard: $shard})
WHERE d.version >= 0 AND d.nextAt <= $now AND NOT d.id IN $busy
  AND NOT EXISTS {
    MATCH (x:Delivery {partner: $partner, subject: d.subject, status: 'PENDING'})
    WHERE x.seq < d.seq
  }
WITH d ORDER BY d.partner, d.status, d.shard, d.version LIMIT $batch
MATCH (e:OutboxEvent {id: d.event})
RETURN d.id AS id, d.attempts AS attempts, e.id AS event, e.type AS type, e.subject AS subject,
  e.data AS data, e.createdAt AS createdAt
"""
# A batch's outcomes, then the lane's next due deliveries, in one round trip: the subjects just
# delivered or given up on let their next events through in the same statement.
SETTLE = (
    """
CALL () {
  UNWIND $outcomes AS o
  MATCH (d:Delivery {id: o.id, status: 'PENDING'})
  WITH d, o, d.attempts + 1 AS tried
  SET d.attempts = tried, d.lastAttemptAt = $now, d.lastStatus = o.httpStatus,
      d.lastError = o.error,
      d.status = CASE WHEN o.delivered THEN 'DELIVERED'
                      WHEN o.final OR tried >= $maxAttempts THEN 'DEAD' ELSE 'PENDING' END,
      d.deliveredAt = CASE WHEN o.delivered THEN $now ELSE d.deliveredAt END,
      d.nextAt = CASE WHEN o.delivered THEN d.nextAt ELSE $now + o.backoff END
}
"""
    + DUE
)
# Lanes of active partners with a due delivery: one index seek per lane (migration 23), however
# many deliveries wait.
LANES_DUE = """
MATCH (p:Partner {status: 'ACTIVE'})
UNWIND range(0, $shards - 1) AS shard
WITH p, shard WHERE EXISTS {
  MATCH (d:Delivery {partner: p.code, status: 'PENDING', shard: shard}) WHERE d.nextAt <= $now
}
RETURN p.code AS partner, shard
"""


@dataclass(frozen=True, slots=True)
class Due:
    id: str
    attempts: int
    event: str
    type: str
    subject: str
    data: dict[str, Any]
    created_at: str


@dataclass(frozen=True, slots=True)
class Outcome:
    id: str
    delivered: bool
    http_status: int | None
    error: str | None
    backoff: float  # seconds until the next try, if it failed
    final: bool = False  # no try can succeed (a refused target): dead-lettered at once


def _due(records: list[Record]) -> list[Due]:
    return [
        Due(
            r["id"],
            r["attempts"],
            r["event"],
            r["type"],
            r["subject"],
            orjson.loads(r["data"]),  # 1.9 µs an event, the standard library's 4.3
            r["createdAt"],
        )
        for r in records
    ]


async def due(
    store: Store, partner: str, shard: int, now: float, batch: int, busy: Sequence[str] = ()
) -> list[Due]:
    """Up to ``batch`` deliveries of the lane due now, leaving out those in ``busy``. Read on
    the leader: the lane's previous holder may be another worker, whose settled deliveries a
    lagging follower would offer again."""
    records = await store.execute(
        DUE, partner=partner, shard=shard, now=now, batch=batch, busy=list(busy)
    )
    return _due(records)


async def settle(
    store: Store,
    partner: str,
    shard: int,
    outcomes: list[Outcome],
    now: float,
    max_attempts: int,
    batch: int,
    busy: Sequence[str] = (),
) -> list[Due]:
    """Write outcomes and read up to ``batch`` deliveries of the lane due now, leaving out those
    in ``busy`` (still being posted)."""
    records = await store.execute(
        SETTLE,
        outcomes=[
            {
                "id": o.id,
                "delivered": o.delivered,
                "httpStatus": o.http_status,
                "error": o.error,
                "backoff": o.backoff,
                "final": o.final,
            }
            for o in outcomes
        ],
        partner=partner,
        shard=shard,
        now=now,
        maxAttempts=max_attempts,
        batch=batch,
        busy=list(busy),
    )
    return _due(records)


async def lanes_due(store: Store, now: float) -> list[tuple[str, int]]:
    records = await store.execute(LANES_DUE, now=now, shards=SHARDS, read=True)
    return [(r["partner"], r["shard"]) for r in records]


# A partner is sent events again (an operator's replay, the reconciliation): each gets a fresh
# pending delivery, made if the partner was not subscribed when the event was written.
REQUEUE = """
UNWIND $events AS id
MATCH (e:OutboxEvent {id: id}), (p:Partner {code: $partner})
MERGE (d:Delivery {id: e.id + '|' + p.code})
ON CREATE SET d.event = e.id, d.partner = p.code, d.subject = e.subject, d.seq = e.seq,
  d.version = e.version, d.shard = e.shard, d.createdAt = $now
SET d.status = 'PENDING', d.attempts = 0, d.nextAt = $now, d.requeuedAt = $now,
  d.lastError = null
RETURN count(d) AS n
"""
# Every event since a moment that the partner was, or would have been, sent (its subscription, or
# the active set it was sent when it joined), oldest first.
SINCE = f"""
MATCH (p:Partner {{code: $partner}})
MATCH (e:OutboxEvent) WHERE e.createdAt >= $since AND p.kind IN e.kinds
  AND $ranks[p.clearance] >= $ranks[e.disclosure]
  AND (e.type IN p.events OR EXISTS {{ MATCH (:Delivery {{id: e.id + '|' + p.code}}) }})
  AND {members_only("p.association", "e.subject")}
RETURN e.id AS id ORDER BY e.version
"""


async def requeue(store: Store, partner: str, events: list[str], now: float) -> int:
    """Send these events to the partner again, in their order; how many were queued."""
    if not events:
        return 0
    records = await store.execute(REQUEUE, events=events, partner=partner, now=now)
    return int(records[0]["n"]) if records else 0


async def replay(store: Store, partner: str, since: datetime, now: float) -> int:
    """Queue every event since ``since`` for the partner again; how many."""
    records = await store.execute(
        SINCE,
        partner=partner,
        since=since.astimezone(UTC).isoformat(),
        ranks=RANKS,
        read=True,
    )
    return await requeue(store, partner, [r["id"] for r in records], now)


DELIVERIES = """
MATCH (d:Delivery {partner: $partner})
WHERE d.version < $before AND ($status IS NULL OR d.status = $status)
  AND ($event IS NULL OR d.event = $event)
WITH d ORDER BY d.version DESC LIMIT $first
MATCH (e:OutboxEvent {id: d.event})
RETURN d {.*, type: e.type, createdAt: e.createdAt} AS delivery
"""
COUNTS = """
MATCH (d:Delivery {partner: $partner}) WHERE d.version IS NOT NULL
RETURN d.status AS status, count(*) AS n
"""


async def deliveries(
    store: Store,
    partner: str,
    status: str | None,
    before: int,
    first: int,
    event: str | None = None,
) -> list[dict[str, Any]]:
    """A partner's deliveries, newest event first, below feed version ``before``; with
    ``event``, only that event's."""
    records = await store.execute(
        DELIVERIES,
        partner=partner,
        status=status,
        event=event,
        before=before,
        first=first,
        read=True,
    )
    return [dict(r["delivery"]) for r in records]


async def delivery_counts(store: Store, partner: str) -> dict[str, int]:
    records = await store.execute(COUNTS, partner=partner, read=True)
    return {r["status"]: r["n"] for r in records}


# The delta feed: events after a version, oldest first, of the partner kind asked, that the
# caller may read (policies/access.py: the event's class, its subject's division, the sanction's
# authority).
# What the feed carries: listings (and record restrictions) and grade changes; records published
# under the working-day rule go only to the platform's webhooks.
FEED_TYPES = ("sanction.listed", "sanction.modified", "sanction.ended", "rating.changed")
FEED = f"""
MATCH (e:OutboxEvent) WHERE e.version > $after AND ($kind IS NULL OR $kind IN e.kinds)
  AND e.type IN $feedTypes AND {members_only("$association", "e.subject")}
OPTIONAL MATCH (s:Subject {{creditCode: e.subject}})
OPTIONAL MATCH (x:Sanction|Restriction {{id: e.sanction}})
WITH e, s, x WHERE {cypher_readable("e", "s.division", "x.authority")}
WITH e ORDER BY e.version LIMIT $first
RETURN e.version AS version, e.id AS id, e.type AS type, e.data AS data, e.createdAt AS at
"""


@dataclass(frozen=True, slots=True)
class FeedEvent:
    version: int
    id: str
    type: str
    data: dict[str, Any]
    at: str


async def feed(
    store: Store,
    after: int,
    first: int,
    scope: Mapping[str, Any],
    kind: str | None,
    association: str | None = None,
) -> list[FeedEvent]:
    """Events after version ``after``; for an association's partner, only its members'."""
    records = await store.read(
        FEED,
        after=after,
        first=first,
        kind=kind,
        association=association,
        feedTypes=list(FEED_TYPES),
        **scope,
    )
    return [
        FeedEvent(r["version"], r["id"], r["type"], json.loads(r["data"]), r["at"]) for r in records
    ]
