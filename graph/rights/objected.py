"""The 异议处理中 flag: the event that tells partners a record or listing is (no longer) under
objection, and the close of an objection whose correction or withdrawal was just published.

The flag is read, not stored: a record or a listing is under objection while an open
``Objection`` points at it (``AGAINST``), and a listing also while a record it rests on is.
Opening or closing an objection writes a ``record.objected`` outbox event in the same
transaction, so subscribed partners hear of it and the feed counter the portal's page cache keys
on moves (hub/portal/cache.py): the label shows, and goes, at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from neo4j import AsyncManagedTransaction

from graph.exchange.outbox import Emitted, NewEvent, emit
from policies.credit.measures import Catalogue

OBJECTED_EVENT = "record.objected"

# Cypher for the flag, on a record ``r`` and on a listing ``x`` (graph/subjects.py reads them).
RECORD_FLAG = "EXISTS { MATCH (:Objection {open: true})-[:AGAINST]->(r) }"
LISTING_FLAG = """(EXISTS { MATCH (:Objection {open: true})-[:AGAINST]->(x) }
  OR EXISTS { MATCH (x)-[:BASED_ON]->(:CreditRecord)<-[:AGAINST]-(:Objection {open: true}) })"""

# The objections a published change settles: the one that decided it (CORRECT or WITHDRAW,
# waiting for review), and any other still open when the record is withdrawn (nothing is left
# to object to).
_SETTLE = """
MATCH (o:Objection {open: true})-[:AGAINST]->(r:CreditRecord {id: $record})
WHERE o.change = $change OR r.status = 'WITHDRAWN'
SET o.open = false, o.status = 'DECIDED', o.closedOn = $today,
    o.outcome = coalesce(o.outcome, 'WITHDRAW'), o.change = coalesce(o.change, $change)
RETURN o.id AS id, o.creditCode AS subject, r.disclosure AS disclosure
"""


@dataclass(frozen=True, slots=True)
class Target:
    kind: str  # RECORD or LISTING
    id: str
    subject: str  # credit code
    disclosure: str  # the target's class: partners below it never hear of the objection


async def tell_in(
    tx: AsyncManagedTransaction, catalogue: Catalogue, target: Target, objection: str, open_: bool
) -> Emitted:
    """Emit ``record.objected`` for the target, inside the caller's transaction. The event
    carries the fact of the objection, never its reasons (the subject's own words)."""
    key = "recordId" if target.kind == "RECORD" else "sanctionId"
    data = {
        "creditCode": target.subject,
        "target": target.kind,
        key: target.id,
        "objectionId": objection,
        "underObjection": open_,
    }
    event = NewEvent(
        OBJECTED_EVENT,
        target.subject,
        target.id if target.kind == "LISTING" else None,
        target.disclosure,
        tuple(sorted(catalogue.partner_kinds)),
        data,
    )
    return await emit(tx, event)


async def settle_in(
    tx: AsyncManagedTransaction, catalogue: Catalogue, record: str, change: str, today: date
) -> list[str]:
    """Close the objections that the change of ``record`` just published settles (in the last
    approval's transaction), telling partners the flag is gone; their ids."""
    result = await tx.run(_SETTLE, change=change, record=record, today=today)
    closed = []
    for row in await result.data():
        target = Target("RECORD", record, row["subject"], row["disclosure"] or "PUBLIC")
        await tell_in(tx, catalogue, target, row["id"], False)
        closed.append(row["id"])
    return closed


# Objections to a listing that has just ended otherwise (expiry, repair, a unit's withdrawal):
# nothing is left to object to. ``keep`` is one its caller closes itself (a decision to withdraw).
_SETTLE_LISTING = """
MATCH (o:Objection {open: true})-[:AGAINST]->(x:Sanction {id: $id}) WHERE o.id <> $keep
SET o.open = false, o.status = 'DECIDED', o.closedOn = $today, o.reply = $reply
RETURN o.id AS id, o.creditCode AS subject, x.disclosure AS disclosure
"""
_ENDED = {
    "EXPIRED": "名单公示期届满，已移出",
    "REPAIRED": "已准予信用修复，名单已移出",
    "WITHDRAWN": "名单已撤销",
    "CASE_OVERTURNED": "名单所依据的处理决定已被撤销",
}


async def settle_listing_in(
    tx: AsyncManagedTransaction,
    catalogue: Catalogue,
    sanction: str,
    reason: str,
    today: date,
    keep: str = "",
) -> list[str]:
    """Close the objections to a listing that just ended, saying why, and tell partners the
    flag is gone (in the transaction that ends it); their ids."""
    reply = f"{_ENDED.get(reason, '名单已结束')}，本异议无须再处理。"
    result = await tx.run(_SETTLE_LISTING, id=sanction, keep=keep, today=today, reply=reply)
    closed = []
    for row in await result.data():
        target = Target("LISTING", sanction, row["subject"], row["disclosure"] or "PUBLIC")
        await tell_in(tx, catalogue, target, row["id"], False)
        closed.append(row["id"])
    return closed
