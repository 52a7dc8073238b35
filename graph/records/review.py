"""Review in the graph: queues, approve, return, repair, expiry; publication re-rates.

Each step reads the record under a write lock (two reviewers approving at once are serialised),
asks the pure rules of policies/credit/review.py what follows, and writes the new state with a
``REVIEWED`` edge from the reviewer's unit (who, decision, reason, when) in one transaction.
A publication sets the disclosure period from the catalogue and recomputes the subject's
rating in that same transaction, so nobody sees a published record with a stale grade.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from neo4j import AsyncManagedTransaction

from graph.associations.discipline import expel_in
from graph.db import Store
from graph.exchange.outbox import Emitted
from graph.rating import rate_in
from graph.records.publicity import announce_changed, announce_published
from graph.records.restrictions import DUE, sync_in
from policies.access import cypher_pending, cypher_readable
from policies.credit.catalogue import default_catalogue, publication_window
from policies.credit.measures import Catalogue
from policies.credit.rating import RatingResult
from policies.credit.review import RecordState, ReviewRefused, approve, default_rules, return_record

# A reviewer acts only on a record of its jurisdiction that it may read (policies/access.py).
_LOCK = f"""
MATCH (s:Subject)-[:HAS_RECORD]->(r:CreditRecord {{id: $id}})
WHERE s.division STARTS WITH $unitPrefix AND {cypher_readable("r", "s.division", "r.sourceAgency")}
SET r.lockedAt = $now
RETURN r {{.id, .status, .item, .tier, .submittedBy, .approvals, .sourceAgency, .returns,
          decidedOn: toString(r.decidedOn), repairableFrom: toString(r.repairableFrom)}} AS r,
       s.creditCode AS subject
"""

_STEP = """
MATCH (r:CreditRecord {id: $id})
MATCH (a:Agency {code: $agency})
CREATE (a)-[:REVIEWED {by: $by, decision: $decision, reason: $reason, at: $now}]->(r)
SET r += $props
"""

# A commitment whose breach a record states is BREACHED once review publishes that record
# (graph/rights/commitments.py).
_BREACHED = """
MATCH (c:Commitment {status: 'IN_FORCE'})-[:BREACH]->(:CreditRecord {id: $id})
SET c.status = 'BREACHED', c.breachedOn = $today
"""


@dataclass(frozen=True, slots=True)
class StepResult:
    id: str
    subject: str
    status: str
    approvals: int
    needed: int
    rating: RatingResult | None  # set when the step changed what the rating reads
    event: Emitted | None = None  # record.published, when the step published a 双公示 item


async def _locked(
    tx: AsyncManagedTransaction,
    record_id: str,
    prefix: str,
    scope: Mapping[str, Any],
    now: datetime,
) -> tuple[dict[str, Any], str]:
    result = await tx.run(_LOCK, id=record_id, unitPrefix=prefix, now=now, **scope)
    found = await result.single()
    if found is None:
        # Unknown and out of jurisdiction read the same: no existence oracle.
        raise ReviewRefused("NOT_FOUND", f"no record {record_id} in your jurisdiction")
    return dict(found["r"]), found["subject"]


def _state(row: dict[str, Any]) -> RecordState:
    return RecordState(
        status=row["status"],
        tier=row.get("tier"),
        submitted_by=row.get("submittedBy") or "",
        approvals=tuple(row.get("approvals") or ()),
    )


def _published(row: dict[str, Any], today: date) -> dict[str, Any]:
    """Publication starts today and ends at the catalogue's maximum from the decision date;
    a historical record already past it is archived as EXPIRED at once."""
    decided = date.fromisoformat(row["decidedOn"])
    item = default_catalogue()[row["item"]]
    window = publication_window(item, row.get("tier"), decided)
    expired = window.until is not None and window.until < today
    return {
        "status": "EXPIRED" if expired else "PUBLISHED",
        "publishedOn": today,
        "publishFrom": today,
        "publishUntil": window.until,
        "repairableFrom": window.repairable_from,
    }


def _repairable(row: dict[str, Any], agency: str, reason: str, today: date) -> None:
    if row["status"] != "PUBLISHED":
        raise ReviewRefused("CONFLICT", f"the record is {row['status']}; only published ones")
    if row.get("sourceAgency") != agency:
        raise ReviewRefused("FORBIDDEN", "whoever listed it repairs it: the submitting unit")
    start = row.get("repairableFrom")
    if start is None:
        raise ReviewRefused("CONFLICT", "only dishonest records with a period can be repaired")
    if today < date.fromisoformat(start):
        raise ReviewRefused("CONFLICT", f"repair is possible from {start}, the minimum period")
    if len(reason.strip()) < 4:
        raise ReviewRefused("BAD_USER_INPUT", "say why the record is repaired")


def returned(row: dict[str, Any], by: str, reason: str, now: datetime) -> dict[str, Any]:
    """What a step that returns a record (or a proposed change to one) to its submitter sets:
    approvals start again, and the return is counted."""
    return {
        "status": "RETURNED",
        "approvals": [],
        "returnReason": reason.strip(),
        "returnedBy": by,
        "returnedAt": now,
        "returns": (row.get("returns") or 0) + 1,
    }


def _changes(
    decision: str, row: dict[str, Any], *, by: str, agency: str, reason: str, today: date,
    now: datetime,
) -> dict[str, Any]:  # fmt: skip
    """The record's new properties after one step, or :class:`ReviewRefused`."""
    state = _state(row)
    if decision == "APPROVE":
        outcome = approve(state, by)
        props = {"status": outcome.status, "approvals": list(outcome.approvals)}
        return props | _published(row, today) if outcome.status == "PUBLISHED" else props
    if decision == "RETURN":
        return_record(state, by, reason)
        return returned(row, by, reason, now)
    _repairable(row, agency, reason, today)
    return {"status": "REPAIRED", "repairedOn": today, "publishUntil": today}


async def review_in(
    tx: AsyncManagedTransaction,
    record_id: str,
    *,
    catalogue: Catalogue,
    decision: str,
    reason: str,
    by: str,
    agency: str,
    prefix: str,
    scope: Mapping[str, Any],
    today: date,
    record_kinds: tuple[str, ...],
) -> StepResult:
    """One review step inside the caller's transaction (``review`` runs it in its own; a
    granted repair application, graph/rights/repair_decisions.py, in the one granting it)."""
    now = datetime.now(UTC)
    row, subject = await _locked(tx, record_id, prefix, scope, now)
    try:
        props = _changes(decision, row, by=by, agency=agency, reason=reason, today=today, now=now)
    except ReviewRefused as exc:
        exc.subject = subject
        raise
    await tx.run(
        _STEP,
        id=record_id,
        agency=agency,
        by=by,
        decision=decision,
        reason=reason.strip() or None,
        now=now,
        props=props,
    )
    rating = None
    if props["status"] in ("PUBLISHED", "EXPIRED", "REPAIRED"):  # what the rating reads changed
        await sync_in(tx, catalogue, [record_id], today)  # restrictions the record brings
        rating = (await rate_in(tx, [subject], today)).get(subject)
    event = None
    if decision == "REPAIR":  # publication and sharing stop: every partner is told
        await announce_changed(tx, catalogue, record_id, "REPAIRED", today)
    if props["status"] == "PUBLISHED" and decision == "APPROVE":
        event = await announce_published(tx, record_id, record_kinds)
        await tx.run(_BREACHED, id=record_id, today=today)
        await expel_in(tx, record_id, today)  # an association's expulsion ends the membership
    needed = 0 if decision == "REPAIR" else default_rules().needed(row.get("tier"))
    return StepResult(
        record_id, subject, props["status"], len(props.get("approvals", ())), needed, rating, event
    )


async def review(
    store: Store,
    record_id: str,
    *,
    catalogue: Catalogue,
    decision: str,
    by: str,
    agency: str,
    prefix: str,
    scope: Mapping[str, Any],
    record_kinds: tuple[str, ...],
    reason: str | None = None,
    today: date | None = None,
) -> StepResult:
    """APPROVE or RETURN a pending record, or REPAIR a published one (credit repair ends
    publication early); raises :class:`ReviewRefused` when the step is not allowed. A 双公示
    item published tells the ``record_kinds`` partners in the same transaction."""
    return await store.write(
        review_in,
        record_id,
        catalogue=catalogue,
        decision=decision,
        reason=reason or "",
        by=by,
        agency=agency,
        prefix=prefix,
        scope=scope,
        today=today or date.today(),
        record_kinds=record_kinds,
    )


_EXPIRE = """
MATCH (s:Subject)-[:HAS_RECORD]->(r:CreditRecord)
WHERE r.publishUntil < $today AND r.status = 'PUBLISHED'
WITH s, r LIMIT $limit
SET r.status = 'EXPIRED', r.expiredOn = $today
RETURN collect(DISTINCT s.creditCode) AS codes, collect(r.id) AS ids, count(DISTINCT r) AS n
"""


async def _expire_batch(
    tx: AsyncManagedTransaction, catalogue: Catalogue, today: date, limit: int
) -> tuple[int, Sequence[str]]:
    result = await tx.run(_EXPIRE, today=today, limit=limit)
    found = await result.single(strict=True)
    codes = found["codes"]
    if codes:
        await rate_in(tx, codes, today)
        await sync_in(tx, catalogue, found["ids"], today)  # their restrictions are lifted
    return found["n"], codes


async def _restrictions_batch(
    tx: AsyncManagedTransaction, catalogue: Catalogue, today: date, limit: int
) -> int:
    result = await tx.run(DUE, today=today, limit=limit)
    ids = [r["id"] async for r in result]
    if ids:
        await sync_in(tx, catalogue, ids, today)
    return len(ids)


async def expire(store: Store, catalogue: Catalogue, today: date | None = None) -> int:
    """End publication at the maximum, in batches, re-rating the subjects concerned and
    lifting the restrictions their records brought (and any restriction whose own end passed)."""
    today = today or date.today()
    total = 0
    while True:
        n, _ = await store.write(_expire_batch, catalogue, today, 1000)
        total += n
        if n == 0:
            break
    while True:
        if not await store.write(_restrictions_batch, catalogue, today, 1000):
            return total


# The queue shows a record only to a caller who may read it: its class (policies/access.py)
# and the pending rule, on top of the unit's jurisdiction.
_WAITING = """r.status = $status AND r.submittedAt IS NOT NULL
  AND (r.submittedAt > $afterAt OR (r.submittedAt = $afterAt AND r.id > $afterId))
  AND ($unit IS NULL OR r.sourceAgency = $unit)"""
# New records and proposed changes of published ones (each by its own status index).
QUEUE = f"""
CALL () {{
  MATCH (r:CreditRecord) WHERE {_WAITING} RETURN r, null AS target
  UNION
  MATCH (r:RecordChange)-[:CHANGES]->(target:CreditRecord) WHERE {_WAITING} RETURN r, target
}}
WITH r, target, coalesce(target, r) AS held
MATCH (s:Subject)-[:HAS_RECORD]->(held)
WHERE s.division STARTS WITH $unitPrefix
  AND {cypher_readable("r", "s.division", "r.sourceAgency")}
  AND {cypher_pending("s.division", "r.sourceAgency")}
RETURN r {{.id, .item, .category, .tier, .title, .document, .legalBasis, .disclosure,
          .sourceAgency, .submittedBy, .approvals, .returnReason,
          change: CASE WHEN r:RecordChange THEN r.kind END, record: target.id,
          changeReason: CASE WHEN r:RecordChange THEN r.reason END,
          decidedOn: toString(r.decidedOn),
          submittedAt: toString(r.submittedAt),
          publishDeadline: toString(r.publishDeadline)}} AS record,
       s.creditCode AS subject, s.name AS subjectName
ORDER BY r.submittedAt, r.id
LIMIT $limit
"""
