"""Corrections and withdrawals of published records, through the same review as a submission.

The unit that submitted a published record proposes new content for it (a correction) or its
withdrawal. The proposal is a ``RecordChange`` (``(c)-[:CHANGES]->(r)``), pending like a new
record: seen by the unit's submitters and the jurisdiction's reviewers only (the pending rule of
policies/access.py), approved or returned with ``approveRecord`` / ``returnRecord`` under the
rules of policies/credit/review.py
(the stricter tier of the two versions decides how many reviewers).
Until the last approval the published version is what everyone else sees.

The last approval, in one transaction: the record's earlier content becomes a ``RecordVersion``
(``(r)-[:VERSION]->(v)``, kept), the record takes the new content (its id stays, its publication
period follows the new decision date and tier) or the status ``WITHDRAWN``; the subject is
re-rated; its record restrictions follow (graph/records/restrictions.py); every active listing
resting on the record tells its partners (graph/records/listings.py ``follow_record_in``); and
an objection that decided the change closes (graph/rights/objected.py ``settle_in``).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from neo4j import AsyncManagedTransaction

from graph.db import Store
from graph.rating import rate_in
from graph.records.listings import follow_record_in
from graph.records.publicity import announce_changed, announce_published
from graph.records.restrictions import sync_in
from graph.records.review import StepResult, returned
from graph.records.submissions import Submission
from graph.rights.objected import settle_in
from policies.access import cypher_readable
from policies.credit.catalogue import default_catalogue, publication_window
from policies.credit.measures import Catalogue
from policies.credit.review import RecordState, ReviewRefused, approve, default_rules, return_record

_RANK = {None: 0, "MINOR": 1, "GENERAL": 2, "SERIOUS": 3}

_TARGET = f"""
MATCH (s:Subject)-[:HAS_RECORD]->(r:CreditRecord {{id: $id}})
WHERE s.division STARTS WITH $unitPrefix AND {cypher_readable("r", "s.division", "r.sourceAgency")}
SET r.lockedAt = $now
RETURN r {{.id, .status, .item, .tier, .naturalKey, .contentHash, .sourceAgency}} AS r,
  s.creditCode AS subject,
  COLLECT {{ MATCH (c:RecordChange)-[:CHANGES]->(r) WHERE c.status IN ['PENDING', 'RETURNED']
            RETURN c.id }}[0] AS open
"""
_PROPOSE = """
MATCH (r:CreditRecord {id: $record}) MATCH (a:Agency {code: $agency})
MERGE (c:RecordChange {id: $cid})
ON CREATE SET c.record = $record, c.createdAt = $now
SET c += CASE WHEN $kind = 'WITHDRAWAL' THEN r {.item, .category, .tier, .title, .decidedOn,
                                                .document, .legalBasis, .disclosure}
              ELSE $props END,
    c.kind = $kind, c.status = 'PENDING', c.approvals = [], c.reason = $reason,
    c.sourceAgency = $agency, c.submittedBy = $by, c.submittedAt = $now, c.returnReason = null
MERGE (c)-[:CHANGES]->(r)
CREATE (a)-[:SUBMITTED {at: $now, by: $by}]->(c)
"""
# A reviewer acts only on a change of its jurisdiction that it may read.
_LOCK = f"""
MATCH (c:RecordChange {{id: $id}})-[:CHANGES]->(r:CreditRecord)<-[:HAS_RECORD]-(s:Subject)
WHERE s.division STARTS WITH $unitPrefix AND {cypher_readable("c", "s.division", "c.sourceAgency")}
SET c.lockedAt = $now, r.lockedAt = $now
RETURN c {{.id, .kind, .status, .item, .tier, .submittedBy, .approvals, .returns,
          decidedOn: toString(c.decidedOn)}} AS c,
  r {{.id, .status, .tier}} AS r, s.creditCode AS subject
"""
_STEP = """
MATCH (c:RecordChange {id: $id})
MATCH (a:Agency {code: $agency})
CREATE (a)-[:REVIEWED {by: $by, decision: $decision, reason: $reason, at: $now}]->(c)
SET c += $props
"""
_CORRECT = """
MATCH (c:RecordChange {id: $id})-[:CHANGES]->(r:CreditRecord)
WITH c, r, coalesce(r.version, 1) AS n
CREATE (v:RecordVersion)
SET v = r {.item, .category, .tier, .title, .decidedOn, .document, .legalBasis, .disclosure,
           .publishFrom, .publishUntil, .publishedOn, .sourceAgency, .contentHash},
    v.id = r.id + '@' + toString(n), v.record = r.id, v.version = n, v.replacedAt = $now,
    v.replacedBy = c.id, v.changeReason = c.reason
CREATE (r)-[:VERSION]->(v)
SET r.item = c.item, r.category = c.category, r.tier = c.tier, r.title = c.title,
    r.decidedOn = c.decidedOn, r.document = c.document, r.legalBasis = c.legalBasis,
    r.disclosure = c.disclosure, r.contentHash = c.contentHash, r.version = n + 1,
    r.correctedAt = $now, r.correctedBy = c.id, r += $window
"""
_WITHDRAW = """
MATCH (c:RecordChange {id: $id})-[:CHANGES]->(r:CreditRecord)
SET r.status = 'WITHDRAWN', r.withdrawnOn = $today, r.withdrawnBy = c.id,
    r.withdrawReason = c.reason
"""


class ChangeRefused(ReviewRefused):
    """A proposal refused; ``reason`` is a stable word for the API's ``extensions.reason``."""

    def __init__(self, code: str, reason: str, message: str, subject: str | None = None) -> None:
        super().__init__(code, message, subject)
        self.reason = reason


def _refuse(code: str, reason: str, message: str, subject: str | None = None) -> ChangeRefused:
    return ChangeRefused(code, reason, message, subject)


def _check_target(
    row: dict[str, Any], subject: str, agency: str, kind: str, new: Submission | None
) -> None:
    if row["status"] != "PUBLISHED":
        raise _refuse("CONFLICT", "not-published", f"the record is {row['status']}", subject)
    if row.get("sourceAgency") != agency:
        raise _refuse(
            "FORBIDDEN", "not-yours", "whoever published it changes it: the submitting unit",
            subject,
        )  # fmt: skip
    if kind != "CORRECTION" or new is None:
        return
    if new.subject != subject or new.props["item"] != row["item"]:
        raise _refuse(
            "BAD_USER_INPUT", "other-record",
            "a correction keeps the record's subject and item; withdraw it and submit anew",
            subject,
        )  # fmt: skip
    if row.get("naturalKey") and new.natural_key != row["naturalKey"]:
        raise _refuse(
            "BAD_USER_INPUT", "key-changed",
            "a correction keeps the document number (or, without one, the decision date and "
            "title); withdraw the record and submit the right one",
            subject,
        )  # fmt: skip
    if row.get("contentHash") == new.content_hash:
        raise _refuse("BAD_USER_INPUT", "unchanged", "the correction changes nothing", subject)


def _reason(text: str, subject: str | None = None) -> str:
    rules = default_rules()
    reason = " ".join(text.split())
    if not rules.reason_min <= len(reason) <= rules.reason_max:
        raise _refuse(
            "BAD_USER_INPUT", "reason",
            f"say why in {rules.reason_min}-{rules.reason_max} characters", subject,
        )  # fmt: skip
    return reason


async def propose_in(
    tx: AsyncManagedTransaction,
    record_id: str,
    *,
    kind: str,
    reason: str,
    new: Submission | None,
    by: str,
    agency: str,
    prefix: str,
    scope: Mapping[str, Any],
) -> tuple[str, str, str]:
    """``propose`` inside the caller's transaction (an objection's decision proposes its change
    in the transaction that records the decision)."""
    text = _reason(reason)
    now = datetime.now(UTC)
    result = await tx.run(_TARGET, id=record_id, unitPrefix=prefix, now=now, **scope)
    found = await result.single()
    if found is None:
        raise _refuse("NOT_FOUND", "unknown-record", f"no record {record_id} in your jurisdiction")
    subject = found["subject"]
    _check_target(dict(found["r"]), subject, agency, kind, new)
    open_id = found["open"]
    cid = open_id or f"RC-{now.strftime('%Y%m%d')}-{secrets.token_hex(4).upper()}"
    props = {**new.props, "contentHash": new.content_hash} if new else {}
    await tx.run(
        _PROPOSE, record=record_id, agency=agency, cid=cid, kind=kind, props=props,
        reason=text, by=by, now=now,
    )  # fmt: skip
    return cid, "updated" if open_id else "created", subject


async def propose(
    store: Store,
    record_id: str,
    *,
    kind: str,
    reason: str,
    new: Submission | None,
    by: str,
    agency: str,
    prefix: str,
    scope: Mapping[str, Any],
) -> tuple[str, str, str]:
    """Propose a CORRECTION (``new`` content) or a WITHDRAWAL of the unit's published record;
    a proposal still open for that record is replaced. Returns (change id, outcome, subject)."""
    _reason(reason)  # refused before any transaction

    async def work(tx: AsyncManagedTransaction) -> tuple[str, str, str]:
        return await propose_in(
            tx, record_id, kind=kind, reason=reason, new=new, by=by, agency=agency,
            prefix=prefix, scope=scope,
        )  # fmt: skip

    return await store.write(work)


def _window(change: dict[str, Any], today: date) -> dict[str, Any]:
    """The corrected record's publication: to the new tier's maximum from the new decision date
    (already over: EXPIRED at once, like a historical record)."""
    item = default_catalogue()[change["item"]]
    window = publication_window(item, change.get("tier"), date.fromisoformat(change["decidedOn"]))
    expired = window.until is not None and window.until < today
    return {
        "status": "EXPIRED" if expired else "PUBLISHED",
        "publishUntil": window.until,
        "repairableFrom": window.repairable_from,
    }


async def _apply(
    tx: AsyncManagedTransaction,
    catalogue: Catalogue,
    change: dict[str, Any],
    record: str,
    today: date,
    now: datetime,
) -> None:
    if change["kind"] == "CORRECTION":
        await tx.run(_CORRECT, id=change["id"], now=now, window=_window(change, today))
    else:
        await tx.run(_WITHDRAW, id=change["id"], today=today)
    corrected = change["kind"] == "CORRECTION"
    await announce_changed(tx, catalogue, record, "CORRECTED" if corrected else "WITHDRAWN", today)
    await follow_record_in(tx, catalogue, record, today)
    await sync_in(tx, catalogue, [record], today)


async def _step(
    tx: AsyncManagedTransaction,
    change_id: str,
    *,
    catalogue: Catalogue,
    decision: str,
    reason: str,
    by: str,
    agency: str,
    prefix: str,
    scope: Mapping[str, Any],
    record_kinds: tuple[str, ...],
    today: date,
) -> StepResult:
    now = datetime.now(UTC)
    result = await tx.run(_LOCK, id=change_id, unitPrefix=prefix, now=now, **scope)
    found = await result.single()
    if found is None:
        raise ReviewRefused("NOT_FOUND", f"no record {change_id} in your jurisdiction")
    change, record, subject = dict(found["c"]), dict(found["r"]), found["subject"]
    # The stricter of the two versions decides how many reviewers it needs.
    tier = max(change.get("tier"), record.get("tier"), key=lambda t: _RANK.get(t, 0))
    state = RecordState(
        change["status"],
        tier,
        change.get("submittedBy") or "",
        tuple(change.get("approvals") or ()),
    )
    try:
        if decision == "APPROVE":
            outcome = approve(state, by)
            if outcome.status == "PUBLISHED" and record["status"] != "PUBLISHED":
                raise ReviewRefused(
                    "CONFLICT", f"the record is {record['status']} now; return the proposal"
                )
            status = "APPROVED" if outcome.status == "PUBLISHED" else outcome.status
            props: dict[str, Any] = {"status": status, "approvals": list(outcome.approvals)}
            if status == "APPROVED":
                props["decidedAt"] = now
        else:
            return_record(state, by, reason)
            props = returned(change, by, reason, now)
    except ReviewRefused as exc:
        exc.subject = subject
        raise
    await tx.run(
        _STEP, id=change_id, agency=agency, by=by, decision=decision,
        reason=reason.strip() or None, now=now, props=props,
    )  # fmt: skip
    rating = None
    if props["status"] == "APPROVED":
        await _apply(tx, catalogue, change, record["id"], today, now)
        await settle_in(tx, catalogue, record["id"], change_id, today)  # an objection's change
        if change["kind"] == "CORRECTION":  # the platform republishes the corrected record
            await announce_published(tx, record["id"], record_kinds)
        rating = (await rate_in(tx, [subject], today)).get(subject)
    return StepResult(
        change_id, subject, props["status"], len(props["approvals"]),
        default_rules().needed(tier), rating,
    )  # fmt: skip


async def review_change(
    store: Store,
    change_id: str,
    *,
    catalogue: Catalogue,
    decision: str,
    by: str,
    agency: str,
    prefix: str,
    scope: Mapping[str, Any],
    record_kinds: tuple[str, ...] = (),
    reason: str | None = None,
    today: date | None = None,
) -> StepResult:
    """APPROVE or RETURN a proposed correction or withdrawal; an approved correction of an
    item under the working-day rule is told to the ``record_kinds`` partners again."""
    return await store.write(
        _step, change_id, catalogue=catalogue, decision=decision, reason=reason or "",
        by=by, agency=agency, prefix=prefix, scope=scope, record_kinds=record_kinds,
        today=today or date.today(),
    )  # fmt: skip
