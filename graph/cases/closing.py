"""Closing a case with its outcome: the subject re-rated and partners told, in one transaction.

Closing decides whether the matter counts (policies/cases.yaml ``outcomes``). It is a reviewer's
step, and like review nobody takes it on a case they opened. The case, the new rating (with its
``rating.changed`` when the consequences change) and, for an outcome that does not count, a
``record.changed`` (change ``CASE_<outcome>``) for every published record the case concerns
commit together or not at all, so no partner keeps applying what the hub no longer counts. An
outcome that ``ends_listings`` also ends the active listings resting only on the case's records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, cast

from neo4j import AsyncManagedTransaction

from graph.cases.model import CaseRefused
from graph.rating import rate_in
from graph.records.listings import end_in
from graph.records.publicity import Change, announce_changed
from policies.cases import CaseRules
from policies.credit.measures import Catalogue

REASONS = (4, 2000)  # the closing reasons' length, in characters

_FIND = """
MATCH (c:Case {id: $id})-[:CASE_OF]->(s:Subject) WHERE s.division STARTS WITH $prefix
RETURN c.status AS status, c.createdBy AS createdBy, c.openedOn AS openedOn,
  s.creditCode AS subject
"""
_CLOSE = """
MATCH (c:Case {id: $id})
SET c.status = 'CLOSED', c.outcome = $outcome, c.open = false, c.dueOn = null,
    c.closedOn = $closedOn, c.closedBy = $by, c.closingReasons = $reasons, c.closedAt = $now
WITH c
OPTIONAL MATCH (c)-[:CONCERNS]->(r:CreditRecord {status: 'PUBLISHED'})
RETURN collect(r.id) AS published
"""
# Active listings every published record of which the case concerns.
_RESTING = """
MATCH (c:Case {id: $id})-[:CONCERNS]->(:CreditRecord)<-[:BASED_ON]-(n:Sanction {status: 'ACTIVE'})
WITH DISTINCT c, n
WHERE NOT EXISTS {
  MATCH (n)-[:BASED_ON]->(r:CreditRecord {status: 'PUBLISHED'})
  WHERE NOT EXISTS { (c)-[:CONCERNS]->(r) }
}
RETURN n.id AS id ORDER BY id
"""


@dataclass(frozen=True, slots=True)
class Closing:
    case: str
    outcome: str  # a key of CaseRules.outcomes
    reasons: str
    closed_on: date
    by: str


@dataclass(frozen=True, slots=True)
class Closed:
    subject: str
    counts: bool
    announced: tuple[str, ...]  # the records partners were told about
    ended: tuple[str, ...]  # the listings ended


def _check(closing: Closing, rules: CaseRules, today: date) -> None:
    if closing.outcome not in rules.outcomes:
        raise CaseRefused("BAD_USER_INPUT", "outcome", f"unknown outcome {closing.outcome!r}")
    low, high = REASONS
    if not low <= len(closing.reasons.strip()) <= high:
        raise CaseRefused("BAD_USER_INPUT", "reasons", f"reasons: {low}-{high} characters")
    if closing.closed_on > today:
        raise CaseRefused("BAD_USER_INPUT", "closedOn", "a case cannot be closed in the future")


async def close_in(
    tx: AsyncManagedTransaction,
    closing: Closing,
    prefix: str,
    rules: CaseRules,
    catalogue: Catalogue,
    today: date,
) -> Closed:
    """Close an open case of the caller's jurisdiction inside the caller's transaction."""
    _check(closing, rules, today)
    found = await (await tx.run(_FIND, id=closing.case, prefix=prefix)).single()
    if found is None:
        raise CaseRefused("NOT_FOUND", "unknown", "no such case in your jurisdiction")
    if found["status"] != "OPEN":
        raise CaseRefused("CONFLICT", "closed", "the case is closed already")
    if found["createdBy"] == closing.by:
        raise CaseRefused("FORBIDDEN", "own-case", "nobody closes a case they opened")
    if closing.closed_on < found["openedOn"].to_native():
        raise CaseRefused("BAD_USER_INPUT", "closedOn", "a case closes after it was opened")
    params: dict[str, Any] = {
        "outcome": closing.outcome,
        "closedOn": closing.closed_on,
        "by": closing.by,
        "reasons": closing.reasons.strip(),
        "now": datetime.now(UTC),
    }
    row = await (await tx.run(_CLOSE, id=closing.case, **params)).single(strict=True)
    outcome = rules.outcomes[closing.outcome]
    announced: list[str] = []
    ended: list[str] = []
    if not outcome.counts:
        change = cast(Change, f"CASE_{closing.outcome}")
        for record in sorted(row["published"]):
            if await announce_changed(tx, catalogue, record, change, closing.closed_on):
                announced.append(record)
    if outcome.ends_listings:
        resting = await (await tx.run(_RESTING, id=closing.case)).data()
        for listing in resting:
            if await end_in(tx, catalogue, listing["id"], "CASE_OVERTURNED", today):
                ended.append(listing["id"])
    await rate_in(tx, [found["subject"]], today)
    return Closed(found["subject"], outcome.counts, tuple(announced), tuple(ended))
