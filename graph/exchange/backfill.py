"""Bring the outbox level with the listings that entered without it: the seed, ``hub import``.

A bulk load writes ``Sanction`` rows directly (graph/archive/ingest.py); emitting one event per row
inside those batches would couple the fastest path to the outbox. Instead, after a load, the
backfill walks the listings in id order and compares each with the last event the feed holds
for it: an ACTIVE listing the feed does not show as active gets ``sanction.listed``, a listing
that is no longer ACTIVE but that the feed still shows as active gets ``sanction.ended``. Each
window is one transaction that first takes the feed counter's lock (as every ``emit`` does),
so a decision committed meanwhile is seen and never announced twice. Running it again finds
nothing to do.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from neo4j import AsyncManagedTransaction

from graph.db import Store
from graph.exchange.outbox import FAN_OUT, RANKS, STATE_EVENT, new_event_id, shard_of
from policies.credit.measures import Catalogue

WINDOW = 2000  # listings compared per transaction

# Lock the feed counter first: every emitter writes it, so what we read next is settled.
_LOCK = "MERGE (c:Counter {name: 'feed'}) ON CREATE SET c.value = 0 SET c.value = c.value"
_STALE = f"""
MATCH (n:Sanction) WHERE n.id > $after
WITH n ORDER BY n.id LIMIT $window
WITH n, head(COLLECT {{
  MATCH (e:OutboxEvent {{sanction: n.id}}) WHERE e.version IS NOT NULL AND {STATE_EVENT}
  RETURN e.type ORDER BY e.version DESC LIMIT 1
}}) AS last
WITH n, last, n.status = 'ACTIVE' AS active,
  last IS NOT NULL AND last <> 'sanction.ended' AS announced
OPTIONAL MATCH (n)-[:SANCTIONED]->(s:Subject)
RETURN n.id AS id, active <> announced AS stale, active, s.creditCode AS subject,
  s.name AS name, n {{.listing, .measures, .status, .authority, .disclosure, .endReason,
  startDate: toString(n.startDate), endDate: toString(n.endDate), endedAt: toString(n.endedAt),
  basedOn: [(n)-[:BASED_ON]->(r:CreditRecord) | r.id]}} AS sanction
ORDER BY n.id
"""
# Events of one round: at most one per subject, so each reads its subject's last seq alone.
_EMIT_MANY = (
    """
MATCH (c:Counter {name: 'feed'})
WITH c, c.value AS base
SET c.value = base + size($events)
WITH base
UNWIND range(0, size($events) - 1) AS i
WITH base + i + 1 AS version, $events[i] AS ev
CALL (ev) {
  OPTIONAL MATCH (prev:OutboxEvent {subject: ev.subject}) WHERE prev.seq IS NOT NULL
  RETURN coalesce(max(prev.seq), 0) + 1 AS seq
}
CREATE (e:OutboxEvent {id: ev.id, version: version, seq: seq, type: ev.type,
  subject: ev.subject, sanction: ev.sanction, disclosure: ev.disclosure, kinds: ev.kinds,
  data: ev.data, createdAt: $at, shard: ev.shard, backfilled: true})
WITH e
CALL (e) {"""
    + FAN_OUT
    + """  RETURN count(d) AS made
}
RETURN count(e) AS events, sum(made) AS deliveries
"""
)


@dataclass(slots=True)
class BackfillReport:
    compared: int = 0
    listed: int = 0
    ended: int = 0
    deliveries: int = 0
    seconds: float = 0.0


def _end_reason(sanction: dict[str, Any], today: date) -> str:
    if sanction.get("endReason"):
        return str(sanction["endReason"])
    if sanction.get("status") == "REPAIRED":
        return "REPAIRED"
    end = sanction.get("endDate")
    return "EXPIRED" if end and date.fromisoformat(end) < today else "WITHDRAWN"


def _event(catalogue: Catalogue, row: dict[str, Any], today: date, now: float) -> dict[str, Any]:
    """The event a decision in the hub would have written for this listing
    (graph/records/listings.py)."""
    n = row["sanction"]
    codes = list(n.get("measures") or []) or [m.code for m in catalogue.for_listing(n["listing"])]
    data: dict[str, Any] = {
        "sanctionId": row["id"],
        "creditCode": row["subject"],
        "name": row["name"],
        "listing": n["listing"],
        "measures": catalogue.describe(codes),
    }
    if row["active"]:
        kind = "sanction.listed"
        data |= {
            "status": "ACTIVE",
            "startDate": n.get("startDate"),
            "endDate": n.get("endDate"),
            "authority": n.get("authority"),
            "basedOn": sorted(n.get("basedOn") or []),
        }
    else:
        kind = "sanction.ended"
        data |= {
            "status": n.get("status") or "ENDED",
            "endReason": _end_reason(n, today),
            "endedOn": (n.get("endedAt") or today.isoformat())[:10],
        }
    return {
        "id": new_event_id(now),
        "type": kind,
        "subject": row["subject"],
        "sanction": row["id"],
        "disclosure": n.get("disclosure") or "PUBLIC",
        "kinds": list(catalogue.kinds_of(codes)),
        "data": json.dumps(data, ensure_ascii=False, sort_keys=True),
        "shard": shard_of(row["subject"]),
    }


def _rounds(events: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Split so that no round holds two events of one subject (each reads its own last seq)."""
    rounds: list[list[dict[str, Any]]] = []
    seen: dict[str, int] = {}
    for event in events:
        n = seen.get(event["subject"], 0)
        seen[event["subject"]] = n + 1
        if n == len(rounds):
            rounds.append([])
        rounds[n].append(event)
    return rounds


async def backfill(
    store: Store,
    catalogue: Catalogue,
    today: date,
    progress: Callable[[BackfillReport], None] | None = None,
) -> BackfillReport:
    """Announce every listing whose state the feed does not show yet; idempotent."""
    report = BackfillReport()
    started = time.monotonic()
    after = ""

    async def window(tx: AsyncManagedTransaction, after: str) -> tuple[str | None, list[int]]:
        await (await tx.run(_LOCK)).consume()
        rows = [r.data() async for r in await tx.run(_STALE, after=after, window=WINDOW)]
        if not rows:
            return None, []
        now = time.time()
        stale = [r for r in rows if r["stale"] and r["subject"] is not None]
        events = [_event(catalogue, r, today, now) for r in stale]
        made = 0
        for part in _rounds(events):
            result = await tx.run(
                _EMIT_MANY,
                events=part,
                at=datetime.fromtimestamp(now, UTC).isoformat(),
                ranks=RANKS,
                now=now,
            )
            made += int((await result.single(strict=True))["deliveries"] or 0)
        listed = sum(1 for e in events if e["type"] == "sanction.listed")
        return str(rows[-1]["id"]), [len(rows), listed, len(events) - listed, made]

    async with store.session() as session:
        while True:
            last, counts = await session.execute_write(window, after)
            if last is None:
                break
            after = last
            compared, listed, ended, made = counts
            report.compared += compared
            report.listed += listed
            report.ended += ended
            report.deliveries += made
            if progress is not None:
                progress(report)
    report.seconds = time.monotonic() - started
    return report
