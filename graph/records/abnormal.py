"""The mining-right holders' abnormal list (勘查开采信息公示异常名录), kept by the units.

A unit lists a subject of its jurisdiction with a reason and the document that decided it, and
removes it with a reason once the holder has filed (or because the listing was a mistake). Each
is a listing like any other (graph/records/listings.py):
the ``Sanction`` (ABNORMAL_OPERATION) and its
outbox event in one transaction, the subject re-rated (the list caps the grade,
policies/rating.yaml). The list runs at most its maximum (policies/determination.yaml) and
ends by the hourly expiry like every listing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime

from neo4j import AsyncManagedTransaction

from graph.db import Store
from graph.exchange.outbox import Emitted
from graph.records.listings import EndReason, ListingDecision, end_in, publish_in
from policies.credit.catalogue import add_months
from policies.credit.determination import DeterminationRules
from policies.credit.measures import Catalogue

LISTING = "ABNORMAL_OPERATION"

# The subject, locked, with its active abnormal listing if any (from the hub, the seed or an
# import alike). Out of the unit's jurisdiction reads like unknown.
_SUBJECT = """
MATCH (s:Subject {creditCode: $code}) WHERE s.division STARTS WITH $prefix
SET s.lockedAt = $now
RETURN COLLECT { MATCH (n:Sanction {listing: $listing, status: 'ACTIVE'})-[:SANCTIONED]->(s)
                 RETURN n.id }[0] AS active
"""
_NOTE_LISTED = """
MERGE (n:Sanction {id: $id})
SET n.reason = $reason, n.document = $document, n.listedBy = $by, n.listedAt = $now
"""
_NOTE_REMOVED = """
MATCH (n:Sanction {id: $id})
SET n.removeReason = $reason, n.removeDocument = $document, n.removedBy = $by,
    n.removedAt = $now
"""


class AbnormalRefused(Exception):
    def __init__(self, code: str, reason: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason


@dataclass(frozen=True, slots=True)
class AbnormalStep:
    sanction: str
    status: str
    start: date | None
    end: date | None
    event: Emitted | None


async def _active(tx: AsyncManagedTransaction, code: str, prefix: str) -> str | None:
    result = await tx.run(
        _SUBJECT, code=code, prefix=prefix, listing=LISTING, now=datetime.now(UTC)
    )
    found = await result.single()
    if found is None:
        raise AbnormalRefused("NOT_FOUND", "unknown-subject", f"no subject {code} of yours")
    active: str | None = found["active"]
    return active


async def list_abnormal(
    store: Store,
    catalogue: Catalogue,
    rules: DeterminationRules,
    *,
    code: str,
    reason: str,
    document: str,
    unit: str,
    prefix: str,
    by: str,
    today: date,
) -> AbnormalStep:
    """List the subject from today for at most the list's maximum; refused when it is on it."""
    end = add_months(today, rules.publication[LISTING].max_months)

    async def work(tx: AsyncManagedTransaction) -> AbnormalStep:
        if await _active(tx, code, prefix):
            raise AbnormalRefused("CONFLICT", "already-listed", f"{code} is on the list already")
        sanction = f"S-AB-{today.strftime('%Y%m%d')}-{secrets.token_hex(4).upper()}"
        await tx.run(
            _NOTE_LISTED, id=sanction, reason=reason, document=document, by=by,
            now=datetime.now(UTC),
        )  # fmt: skip
        decision = ListingDecision(
            sanction, code, LISTING, unit, (), today, end, "PUBLIC", by
        )  # the list is published (公示): PUBLIC
        event = await publish_in(tx, catalogue, decision)
        return AbnormalStep(sanction, "ACTIVE", today, end, event)

    return await store.write(work)


async def remove_abnormal(
    store: Store,
    catalogue: Catalogue,
    *,
    code: str,
    reason: str,
    document: str | None,
    mistaken: bool,
    prefix: str,
    by: str,
    today: date,
) -> AbnormalStep:
    """Take the subject off the list: REPAIRED (it filed), or WITHDRAWN (listed by mistake)."""
    why: EndReason = "WITHDRAWN" if mistaken else "REPAIRED"

    async def work(tx: AsyncManagedTransaction) -> AbnormalStep:
        sanction = await _active(tx, code, prefix)
        if sanction is None:
            raise AbnormalRefused("CONFLICT", "not-listed", f"{code} is not on the list")
        await tx.run(
            _NOTE_REMOVED, id=sanction, reason=reason, document=document, by=by,
            now=datetime.now(UTC),
        )  # fmt: skip
        event = await end_in(tx, catalogue, sanction, why, today)
        return AbnormalStep(
            sanction, "REPAIRED" if why == "REPAIRED" else "ENDED", None, today, event
        )

    return await store.write(work)
