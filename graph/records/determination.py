"""Listing cases in the graph: proposal from published records, notice, statement and
objection, decision with publication, repair and expiry.

Each step locks the case, asks policies/credit/determination.py
whether it may happen and what follows,
and writes the new state with a ``CaseStep`` (action, from, to, who, unit, reason, document,
when) in one transaction. The decision publishes the listing and the end takes it down in that
same transaction (graph/records/listings.py),
outbox event included, so the case, the sanction and what
partners are told never disagree.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from neo4j import AsyncManagedTransaction

from graph.db import Store
from graph.exchange.outbox import Emitted
from graph.records.listings import ListingDecision, end_in, publish_in
from policies.credit.determination import (
    Case,
    DeterminationRules,
    Step,
    StepRefused,
    answer,
    check_four_eyes,
    check_reason,
    decide,
    determine,
    notify,
    object_to,
    repair,
    waive,
    withdraw,
)
from policies.credit.measures import Catalogue

_GROUNDS = """
MATCH (s:Subject {creditCode: $subject})-[:HAS_RECORD]->(r:CreditRecord)
WHERE r.id IN $records AND s.division STARTS WITH $prefix
RETURN r.id AS id, r.status AS status, r.category AS category, r.tier AS tier
"""
_CREATE = """
MATCH (s:Subject {creditCode: $subject})
CREATE (c:ListingCase {id: $id, subject: $subject, listing: $listing, fault: $fault,
  outcome: $outcome, basedOn: $records, status: 'PROPOSED', proposedBy: $by, unit: $unit,
  disclosure: $disclosure, createdAt: $now, steps: 1})
CREATE (c)-[:CONCERNS]->(s)
CREATE (c)-[:STEP]->(:CaseStep {case: $id, seq: 1, action: 'PROPOSE', from: null,
  to: 'PROPOSED', by: $by, unit: $unit, reason: $reason, at: $now})
"""
_LOCK = """
MATCH (c:ListingCase {id: $id})-[:CONCERNS]->(s:Subject)
WHERE s.division STARTS WITH $prefix
SET c.lockedAt = $now
RETURN properties(c) AS c,
  COLLECT { MATCH (c)-[:STEP]->(x:CaseStep) RETURN [x.action, x.by] } AS actors
"""
_STEP = """
MATCH (c:ListingCase {id: $id})
SET c += $props, c.status = $to, c.steps = c.steps + 1, c.updatedAt = $now
CREATE (c)-[:STEP]->(:CaseStep {case: $id, seq: c.steps, action: $action, from: $was,
  to: $to, by: $by, unit: $unit, reason: $reason, document: $document, at: $now})
"""
_FIND = """
MATCH (c:ListingCase {id: $id})-[:CONCERNS]->(s:Subject)
WHERE s.division STARTS WITH $prefix
RETURN properties(c) AS c, s.name AS name,
  COLLECT { MATCH (c)-[:STEP]->(x:CaseStep) RETURN properties(x) AS x ORDER BY x.seq } AS steps
"""
_DUE_TO_EXPIRE = """
MATCH (c:ListingCase {status: 'LISTED'}) WHERE c.publishUntil < $today RETURN c.id AS id
"""


@dataclass(frozen=True, slots=True)
class CaseView:
    case: dict[str, Any]
    name: str
    steps: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Advanced:
    id: str
    status: str
    event: Emitted | None  # when the step published or ended the listing


def sanction_id(case_id: str) -> str:
    return "S-" + case_id.removeprefix("LC-")


async def propose(
    store: Store,
    rules: DeterminationRules,
    *,
    subject: str,
    records: list[str],
    fault: str,
    reason: str,
    by: str,
    unit: str,
    prefix: str,
    now: datetime,
) -> str:
    """Open a case on published dishonest records of a subject in the unit's jurisdiction;
    refused unless fault and severity make the subject seriously dishonest."""
    text = check_reason(rules, reason)
    found = await store.execute(_GROUNDS, subject=subject, records=records, prefix=prefix)
    by_id = {r["id"]: r for r in found}
    if missing := [r for r in records if r not in by_id]:
        raise StepRefused(
            "NOT_FOUND", "unknown-record", f"no record {missing[0]} of {subject} of yours"
        )
    if unpublished := [r for r in records if by_id[r]["status"] != "PUBLISHED"]:
        raise StepRefused("CONFLICT", "not-published", f"{unpublished[0]} is not published")
    dishonest = [r["tier"] for r in found if r["category"] == "DISHONEST"]
    if len(dishonest) != len(found):
        raise StepRefused("BAD_USER_INPUT", "not-dishonest", "every record must be dishonest")
    outcome = determine(rules, fault, dishonest)
    if outcome != "SERIOUS_DISHONESTY":
        raise StepRefused(
            "BAD_USER_INPUT",
            "not-listable",
            f"{fault} with these records is {outcome}: the records stand, no listing follows",
        )
    case_id = f"LC-{now.strftime('%Y%m%d')}-{secrets.token_hex(4).upper()}"
    await store.execute(
        _CREATE,
        id=case_id,
        subject=subject,
        listing=outcome,
        fault=fault,
        outcome=outcome,
        records=sorted(records),
        by=by,
        unit=unit,
        disclosure="PUBLIC",
        reason=text,
        now=now,
    )
    return case_id


def _case(props: dict[str, Any], actors: list[list[str]]) -> Case:
    def day(value: Any) -> date | None:
        native = value.to_native() if hasattr(value, "to_native") else value
        return native if isinstance(native, date) else None

    return Case(
        status=props["status"],
        proposed_by=props["proposedBy"],
        listing=props["listing"],
        statement_until=day(props.get("statementUntil")),
        waived=bool(props.get("waived")),
        repairable_from=day(props.get("repairableFrom")),
        actors=tuple((a, b) for a, b in actors),
    )


async def advance(
    store: Store,
    rules: DeterminationRules,
    catalogue: Catalogue,
    *,
    case_id: str,
    action: str,
    by: str,
    unit: str,
    prefix: str,
    today: date,
    reason: str | None = None,
    document: str | None = None,
    months: int | None = None,
    upheld: bool = False,
) -> Advanced:
    """One step of a case: NOTIFY, WAIVE, OBJECT, ANSWER, DECIDE, WITHDRAW or REPAIR."""
    text = check_reason(rules, reason)

    async def work(tx: AsyncManagedTransaction) -> Advanced:
        return await advance_in(
            tx, rules, catalogue, case_id=case_id, action=action, by=by, unit=unit,
            prefix=prefix, today=today, reason=text, document=document, months=months,
            upheld=upheld,
        )  # fmt: skip

    return await store.write(work)


async def advance_in(
    tx: AsyncManagedTransaction,
    rules: DeterminationRules,
    catalogue: Catalogue,
    *,
    case_id: str,
    action: str,
    by: str,
    unit: str,
    prefix: str,
    today: date,
    reason: str,
    document: str | None = None,
    months: int | None = None,
    upheld: bool = False,
) -> Advanced:
    """``advance`` inside the caller's transaction (a granted repair application ends the
    listing in the transaction that grants it); ``reason`` already checked."""
    now = datetime.now(UTC)
    result = await tx.run(_LOCK, id=case_id, prefix=prefix, now=now)
    found = await result.single()
    if found is None:
        raise StepRefused("NOT_FOUND", "unknown-case", f"no case {case_id} of yours")
    props = dict(found["c"])
    case = _case(props, found["actors"])
    try:
        step = _step(rules, case, action, by, today, months, upheld, document)
    except StepRefused as exc:
        exc.subject = props["subject"]
        raise
    event = None
    if step.status == "LISTED":
        event = await publish_in(
            tx,
            catalogue,
            ListingDecision(
                id=sanction_id(case_id),
                subject=props["subject"],
                listing=props["listing"],
                authority=props["unit"],
                based_on=tuple(props["basedOn"]),
                start=today,
                end=step.props["publishUntil"],
                disclosure=props["disclosure"],
                decided_by=by,
            ),
        )
    elif action == "REPAIR":
        event = await end_in(tx, catalogue, sanction_id(case_id), "REPAIRED", today)
    await tx.run(
        _STEP,
        id=case_id,
        props={**step.props, **({"document": document} if document else {})},
        to=step.status,
        action=action,
        was=case.status,
        by=by,
        unit=unit,
        reason=reason,
        document=document,
        now=now,
    )
    return Advanced(case_id, step.status, event)


def _step(
    rules: DeterminationRules,
    case: Case,
    action: str,
    by: str,
    today: date,
    months: int | None,
    upheld: bool,
    document: str | None,
) -> Step:
    check_four_eyes(rules, case, action, by)
    if action in ("NOTIFY", "DECIDE") and not (document or "").strip():
        raise StepRefused(
            "BAD_USER_INPUT", "document", "a notice and a decision carry their document number"
        )
    match action:
        case "NOTIFY":
            return notify(rules, case, today)
        case "WAIVE":
            return waive(case)
        case "OBJECT":
            return object_to(rules, case, today)
        case "ANSWER":
            return answer(case, upheld)
        case "DECIDE":
            return decide(rules, case, today, months)
        case "WITHDRAW":
            return withdraw(case)
        case "REPAIR":
            return repair(case, today)
    raise StepRefused("BAD_USER_INPUT", "unknown-action", f"no step {action}")


async def find_case(store: Store, case_id: str, prefix: str) -> CaseView | None:
    records = await store.execute(_FIND, id=case_id, prefix=prefix, read=True)
    if not records:
        return None
    r = records[0]
    return CaseView(dict(r["c"]), r["name"], [dict(x) for x in r["steps"]])


async def expire_listings(store: Store, catalogue: Catalogue, today: date) -> list[Emitted]:
    """End every listing past its publication period (beat, hourly), each with its event."""
    records = await store.execute(_DUE_TO_EXPIRE, today=today)
    emitted = []
    for r in records:

        async def work(tx: AsyncManagedTransaction, case_id: str = r["id"]) -> Emitted | None:
            event = await end_in(tx, catalogue, sanction_id(case_id), "EXPIRED", today)
            await tx.run(
                _STEP,
                id=case_id,
                props={"endedOn": today, "endReason": "EXPIRED"},
                to="ENDED",
                action="EXPIRE",
                was="LISTED",
                by="system",
                unit="system",
                reason="publication period over",
                document=None,
                now=datetime.now(UTC),
            )
            return event

        event = await store.write(work)
        if event is not None:
            emitted.append(event)
    return emitted
