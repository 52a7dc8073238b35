"""Record restrictions: consequences a published record brings by itself
(policies/credit/restrictions.py).

A published idle-land or land-contract-breach record bars its subject from land auctions for
its publication period, without a listing. :func:`sync_in` runs in the transaction that changes
a record (publication, correction, withdrawal, repair, expiry) and brings the record's
``Restriction`` nodes in line with it: imposed, changed or lifted, each with its outbox event
(``sanction.listed``, ``.modified``, ``.ended`` with ``listing: RECORD_RESTRICTION``), so the
partners whose kind applies the measure hear of it like of a listing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from neo4j import AsyncManagedTransaction

from graph.exchange.outbox import Emitted, NewEvent, emit
from policies.credit.measures import Catalogue
from policies.credit.restrictions import Restriction, restrictions_for

LISTING = "RECORD_RESTRICTION"  # what webhooks and the feed say in `listing`

_RECORDS = """
UNWIND $ids AS id
MATCH (s:Subject)-[:HAS_RECORD]->(r:CreditRecord {id: id})
RETURN r.id AS id, r.status AS status, r.item AS item, r.tier AS tier,
  toString(r.decidedOn) AS decided, toString(r.publishFrom) AS publishFrom,
  toString(r.publishUntil) AS publishUntil, r.disclosure AS disclosure,
  r.sourceAgency AS authority, s.creditCode AS subject, s.name AS name,
  COLLECT { MATCH (x:Restriction)-[:BASED_ON]->(r)
            RETURN x {.id, .code, .status, .disclosure, endDate: toString(x.endDate)} } AS existing
"""
_IMPOSE = """
MATCH (s:Subject {creditCode: $subject}) MATCH (r:CreditRecord {id: $record})
MERGE (x:Restriction {id: $id})
ON CREATE SET x.createdAt = datetime()
SET x.code = $code, x.name = $name, x.measures = [$code], x.startDate = $start, x.endDate = $end,
    x.status = 'ACTIVE', x.disclosure = $disclosure, x.authority = $authority,
    x.endReason = null, x.endedAt = null, x.updatedAt = datetime()
MERGE (x)-[:RESTRICTS]->(s)
MERGE (x)-[:BASED_ON]->(r)
"""
_LIFT = """
MATCH (x:Restriction {id: $id})
SET x.status = 'ENDED', x.endReason = $reason, x.endedAt = $today, x.updatedAt = datetime()
"""
# Restrictions whose own end passed while their record is still published (a `months` rule).
DUE = """
MATCH (x:Restriction {status: 'ACTIVE'})-[:BASED_ON]->(r:CreditRecord)
WHERE x.endDate < $today
RETURN DISTINCT r.id AS id LIMIT $limit
"""


def restriction_id(record: str, code: str) -> str:
    return f"RS-{record}-{code}"


def _until(row: dict[str, Any], rule: Restriction | None) -> date | None:
    """The last day of the restriction the rule gives this record, or None if it gives none."""
    if rule is None or row["status"] != "PUBLISHED":
        return None
    published = date.fromisoformat(row["publishUntil"]) if row["publishUntil"] else None
    return rule.until(date.fromisoformat(row["decided"]), published)


def _end_reason(status: str, rule: Restriction | None) -> str:
    if status == "PUBLISHED":  # a correction took it out of the rule, or its months ran out
        return "EXPIRED" if rule is not None else "WITHDRAWN"
    return {"EXPIRED": "EXPIRED", "REPAIRED": "REPAIRED"}.get(status, "WITHDRAWN")


def _data(
    row: dict[str, Any], rid: str, code: str, catalogue: Catalogue, **rest: Any
) -> dict[str, Any]:
    return {
        "sanctionId": rid,
        "creditCode": row["subject"],
        "name": row["name"],
        "listing": LISTING,
        "restriction": code,
        "authority": row["authority"],
        "basedOn": [row["id"]],
        "measures": catalogue.describe([code]),
        **rest,
    }


async def sync_in(
    tx: AsyncManagedTransaction, catalogue: Catalogue, records: Sequence[str], today: date
) -> list[Emitted]:
    """Impose, change or lift the restrictions of these records, each with its event."""
    result = await tx.run(_RECORDS, ids=list(records))
    rows = await result.data()
    emitted = []
    for row in rows:
        rules = {r.code: r for r in restrictions_for(row["item"], row["tier"])}
        held = {x["code"]: x for x in row["existing"]}
        for code in sorted(set(rules) | set(held)):
            rule, was = rules.get(code), held.get(code)
            until = _until(row, rule)
            wanted = rule is not None and until is not None and until >= today
            active = was is not None and was["status"] == "ACTIVE"
            rid = restriction_id(row["id"], code)
            kinds = catalogue.kinds_of([code])
            if wanted and rule is not None and until is not None:
                changed = active and (
                    was is None or was["endDate"] != until.isoformat()
                    or was["disclosure"] != row["disclosure"]
                )  # fmt: skip
                if active and not changed:
                    continue
                start = date.fromisoformat(row["publishFrom"]) if row["publishFrom"] else today
                await tx.run(
                    _IMPOSE, subject=row["subject"], record=row["id"], id=rid, code=code,
                    name=rule.name, start=start, end=until, disclosure=row["disclosure"],
                    authority=row["authority"],
                )  # fmt: skip
                data = _data(
                    row, rid, code, catalogue, status="ACTIVE", startDate=start.isoformat(),
                    endDate=until.isoformat(),
                )  # fmt: skip
                kind = "sanction.modified" if active else "sanction.listed"
                emitted.append(
                    await emit(
                        tx, NewEvent(kind, row["subject"], rid, row["disclosure"], kinds, data)
                    )
                )
            elif active and was is not None:
                reason = _end_reason(row["status"], rule)
                await tx.run(_LIFT, id=rid, reason=reason, today=today)
                data = _data(
                    row, rid, code, catalogue, status="ENDED", endReason=reason,
                    endedOn=today.isoformat(),
                )  # fmt: skip
                event = NewEvent(
                    "sanction.ended", row["subject"], rid, was["disclosure"], kinds, data
                )
                emitted.append(await emit(tx, event))
    return emitted
