"""A listing's publication and its end, each with its outbox event in the same transaction.

Publishing a listing makes (or activates) its ``Sanction``, ties it to the subject and the
records it rests on, re-rates the subject (the listing caps the grade) and emits
``sanction.listed`` with the measures the catalogue attaches to the listing; ending it (expiry,
repair, withdrawal) emits ``sanction.ended``. Either all of that commits or none of it does, so a
partner never hears of a listing the hub does not hold, nor misses one it does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from neo4j import AsyncManagedTransaction

from graph.certificates import revoke_in
from graph.db import Store
from graph.exchange.outbox import Emitted, NewEvent, emit
from graph.rating import rate_in
from graph.rights.objected import settle_listing_in
from policies.access import cypher_readable
from policies.credit.certificates import default_certificate_rules
from policies.credit.measures import Catalogue

# CASE_OVERTURNED: the case on the records the listing rests on overturned the decision.
EndReason = Literal["EXPIRED", "REPAIRED", "WITHDRAWN", "CASE_OVERTURNED"]
_END_STATUS = {"EXPIRED": "ENDED", "REPAIRED": "REPAIRED", "WITHDRAWN": "ENDED",
               "CASE_OVERTURNED": "ENDED"}  # fmt: skip


class ListingError(ValueError):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ListingDecision:
    id: str
    subject: str
    listing: str  # SERIOUS_DISHONESTY or ABNORMAL_OPERATION
    authority: str  # the deciding unit
    based_on: tuple[str, ...]  # published record ids
    start: date
    end: date
    disclosure: str
    decided_by: str


PUBLISH = """
MATCH (s:Subject {creditCode: $subject}) MATCH (a:Agency {code: $authority})
WHERE size($basedOn) = COUNT {
  MATCH (r:CreditRecord)<-[:HAS_RECORD]-(s) WHERE r.id IN $basedOn AND r.status = 'PUBLISHED'
}
MERGE (n:Sanction {id: $id})
ON CREATE SET n.createdAt = datetime()
WITH n, s, a, n.status = 'ACTIVE' AS already
SET n.listing = $listing, n.measures = $measures, n.startDate = $start, n.endDate = $end,
    n.status = 'ACTIVE', n.disclosure = $disclosure, n.authority = $authority,
    n.decidedBy = $by, n.updatedAt = datetime()
MERGE (n)-[:SANCTIONED]->(s)
WITH n, s, already
CALL (n) { MATCH (r:CreditRecord) WHERE r.id IN $basedOn MERGE (n)-[:BASED_ON]->(r) }
RETURN already, s.name AS name
"""
END = """
MATCH (n:Sanction {id: $id})-[:SANCTIONED]->(s:Subject)
WITH n, s, n.status AS was
SET n.status = CASE WHEN was = 'ACTIVE' THEN $status ELSE was END,
    n.endedAt = CASE WHEN was = 'ACTIVE' THEN $today ELSE n.endedAt END,
    n.endReason = CASE WHEN was = 'ACTIVE' THEN $reason ELSE n.endReason END,
    n.updatedAt = datetime()
RETURN was, n.listing AS listing, n.measures AS measures, n.startDate AS start,
  n.endDate AS end, n.disclosure AS disclosure, n.authority AS authority,
  s.creditCode AS subject, s.name AS name
"""


def _data(
    sanction: str, subject: str, name: str, listing: str, status: str, **rest: Any
) -> dict[str, Any]:
    return {
        "sanctionId": sanction,
        "creditCode": subject,
        "name": name,
        "listing": listing,
        "status": status,
        **rest,
    }


async def publish_in(
    tx: AsyncManagedTransaction, catalogue: Catalogue, decision: ListingDecision
) -> Emitted:
    """Publish a decided listing and emit ``sanction.listed`` (``.modified`` when it was
    already active), inside the caller's transaction."""
    measures = [m.code for m in catalogue.for_listing(decision.listing)]
    kinds = catalogue.kinds_of(measures)
    result = await tx.run(
        PUBLISH,
        id=decision.id,
        subject=decision.subject,
        authority=decision.authority,
        basedOn=list(decision.based_on),
        listing=decision.listing,
        measures=measures,
        start=decision.start,
        end=decision.end,
        disclosure=decision.disclosure,
        by=decision.decided_by,
    )
    row = await result.single()
    if row is None:
        raise ListingError(
            "not-found",
            "unknown subject or unit, or a record it rests on is not a published record "
            "of that subject",
        )
    data = _data(
        decision.id,
        decision.subject,
        row["name"],
        decision.listing,
        "ACTIVE",
        startDate=decision.start.isoformat(),
        endDate=decision.end.isoformat(),
        authority=decision.authority,
        basedOn=list(decision.based_on),
        measures=catalogue.describe(measures),
    )
    kind = "sanction.modified" if row["already"] else "sanction.listed"
    emitted = await emit(
        tx, NewEvent(kind, decision.subject, decision.id, decision.disclosure, kinds, data)
    )
    if decision.listing in default_certificate_rules().revoking_listings:
        await revoke_in(tx, decision.subject, f"LISTED:{decision.listing}", decision.start)
    await rate_in(tx, [decision.subject], decision.start)  # its rating.changed comes after
    return emitted


async def publish_listing(store: Store, catalogue: Catalogue, decision: ListingDecision) -> Emitted:
    """``publish_in`` in a transaction of its own."""

    async def work(tx: AsyncManagedTransaction) -> Emitted:
        return await publish_in(tx, catalogue, decision)

    return await store.write(work)


async def end_in(
    tx: AsyncManagedTransaction,
    catalogue: Catalogue,
    sanction: str,
    reason: EndReason,
    today: date,
    keep_objection: str = "",
) -> Emitted | None:
    """End an active listing and emit ``sanction.ended`` inside the caller's transaction; None
    when it was not active (ending twice tells nobody twice). Objections to it still open are
    closed, but for ``keep_objection``, the one whose decision ends it."""
    result = await tx.run(END, id=sanction, status=_END_STATUS[reason], reason=reason, today=today)
    row = await result.single()
    if row is None:
        raise ListingError("not-found", f"no sanction {sanction}")
    if row["was"] != "ACTIVE":
        return None
    codes = list(row["measures"] or [])
    kinds = catalogue.kinds_of(codes)
    data = _data(
        sanction,
        row["subject"],
        row["name"],
        row["listing"],
        _END_STATUS[reason],
        endReason=reason,
        endedOn=today.isoformat(),
        measures=catalogue.describe(codes),
    )
    emitted = await emit(
        tx, NewEvent("sanction.ended", row["subject"], sanction, row["disclosure"], kinds, data)
    )
    await rate_in(tx, [row["subject"]], today)  # its rating.changed comes after
    await settle_listing_in(tx, catalogue, sanction, reason, today, keep_objection)
    return emitted


async def end_listing(
    store: Store,
    catalogue: Catalogue,
    sanction: str,
    reason: EndReason,
    today: date,
) -> Emitted | None:
    """``end_in`` in a transaction of its own."""

    async def work(tx: AsyncManagedTransaction) -> Emitted | None:
        return await end_in(tx, catalogue, sanction, reason, today)

    return await store.write(work)


# Active listings resting on a record, and how many published records each still rests on.
_BACKED_BY = """
MATCH (n:Sanction {status: 'ACTIVE'})-[:BASED_ON]->(:CreditRecord {id: $record})
MATCH (n)-[:SANCTIONED]->(s:Subject)
RETURN n {.id, .listing, .measures, .disclosure, .authority, startDate: toString(n.startDate),
          endDate: toString(n.endDate)} AS n, s.creditCode AS subject, s.name AS name,
  COLLECT { MATCH (n)-[:BASED_ON]->(r:CreditRecord) WHERE r.status = 'PUBLISHED'
            RETURN r.id ORDER BY r.id } AS basedOn
"""


async def follow_record_in(
    tx: AsyncManagedTransaction, catalogue: Catalogue, record: str, today: date
) -> list[Emitted]:
    """A record under active listings was corrected or withdrawn: each listing that still rests
    on a published record tells its partners ``sanction.modified`` (with the records it now rests
    on); one left with none ends, WITHDRAWN, and tells them ``sanction.ended``."""
    result = await tx.run(_BACKED_BY, record=record)
    rows = await result.data()
    emitted = []
    for row in rows:
        n = row["n"]
        if not row["basedOn"]:
            ended = await end_in(tx, catalogue, n["id"], "WITHDRAWN", today)
            emitted.extend([ended] if ended else [])
            continue
        codes = list(n["measures"] or [])
        data = _data(
            n["id"], row["subject"], row["name"], n["listing"], "ACTIVE",
            startDate=n["startDate"], endDate=n["endDate"], authority=n["authority"],
            basedOn=row["basedOn"], measures=catalogue.describe(codes),
        )  # fmt: skip
        event = NewEvent(
            "sanction.modified", row["subject"], n["id"], n["disclosure"],
            catalogue.kinds_of(codes), data,
        )  # fmt: skip
        emitted.append(await emit(tx, event))
    return emitted


# Only what the caller may read (policies/access.py): the listing, and of the records it rests
# on those readable; the others are left out of the document, not described.
FACTS = f"""
MATCH (n:Sanction {{id: $id}})-[:SANCTIONED]->(s:Subject)
WHERE {cypher_readable("n", "s.division", "n.authority")}
  AND {cypher_readable("s", "s.division", "s.sourceAgency")}
OPTIONAL MATCH (c:ListingCase {{id: 'LC-' + substring(n.id, 2)}})
RETURN n {{.id, .listing, .status, .measures, .authority, .disclosure,
          startDate: toString(n.startDate), endDate: toString(n.endDate)}} AS sanction,
  s {{.creditCode, .name, .division}} AS subject,
  c {{.id, .fault, .document, decidedOn: toString(c.decidedOn)}} AS case,
  COLLECT {{
    MATCH (n)-[:BASED_ON]->(r:CreditRecord)
    WHERE r.status = 'PUBLISHED' AND {cypher_readable("r", "s.division", "r.sourceAgency")}
    RETURN r {{.id, .title, .item, .tier, .document, .legalBasis,
              decidedOn: toString(r.decidedOn)}} AS r ORDER BY r.decidedOn
  }} AS records
"""


async def listing_facts(
    store: Store, sanction: str, scope: Mapping[str, Any]
) -> dict[str, Any] | None:
    """What a recommendation to a partner states: the listing, the subject, the case that
    decided it and the records it rests on."""
    records = await store.execute(FACTS, id=sanction, read=True, **scope)
    if not records:
        return None
    r = records[0]
    return {
        "sanction": dict(r["sanction"]),
        "subject": dict(r["subject"]),
        "case": dict(r["case"]) if r["case"] else None,
        "records": [dict(x) for x in r["records"]],
    }
