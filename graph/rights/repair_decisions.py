"""The unit's side of credit repair: its queue of applications, accepting within
``repair.accept`` and deciding within ``repair.decide`` (policies/rights.yaml).

A grant runs the repair the hub already has, in the transaction that grants it: a listing with a
case takes the case's REPAIR step (its four eyes included), a listing without one ends as
REPAIRED, a record is repaired through review; each ends publication and sharing, re-rates the
subject and writes the outbox event every partner receives, so the application, the listing and
what partners hear never disagree. A unit acts on applications routed to it or to a unit below.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from neo4j import AsyncManagedTransaction

from graph.db import Store
from graph.exchange.outbox import Emitted
from graph.records.determination import advance_in
from graph.records.listings import end_in, follow_record_in
from graph.records.review import review_in
from graph.rights.repair import VIEW, RepairRefused
from policies.credit.determination import DeterminationRules, StepRefused
from policies.credit.measures import Catalogue
from policies.credit.review import ReviewRefused
from policies.rights import RightsRules

# Applications of units within the caller's (``unitPrefix``: NMG + its division prefix).
_LOCK = """
MATCH (a:RepairApplication {id: $id}) WHERE a.unit STARTS WITH $unitPrefix
SET a.lockedAt = $now
WITH a
OPTIONAL MATCH (c:ListingCase {id: 'LC-' + substring(a.target, 2)})
WHERE a.targetKind <> 'RECORD'
RETURN a {.status, .target, .targetKind, .creditCode, .unit} AS a, c.id AS case
"""
_SET = "MATCH (a:RepairApplication {id: $id}) SET a += $props"
QUEUE = f"""
MATCH (a:RepairApplication) WHERE a.unit STARTS WITH $unitPrefix
  AND ($status IS NULL OR a.status = $status)
  AND ($overdue IS NULL OR (a.open AND a.dueOn < $today) = $overdue)
  AND (a.filedOn > $afterOn OR (a.filedOn = $afterOn AND a.id > $afterId))
RETURN {VIEW} AS a ORDER BY a.filedOn, a.id LIMIT $limit
"""


@dataclass(frozen=True, slots=True)
class Decided:
    id: str
    subject: str
    status: str
    events: tuple[Emitted, ...]  # what partners are told (the listing's end, its followers)


@dataclass(frozen=True, slots=True)
class Actor:
    by: str  # the person (token ``sub``)
    unit: str  # the caller's unit
    agency_prefix: str  # NMG + the unit's division prefix: which applications it acts on
    prefix: str  # the unit's division prefix: which subjects
    scope: Mapping[str, Any]  # the caller's read scope (policies/access.py)


async def _locked(
    tx: AsyncManagedTransaction, app_id: str, actor: Actor, now: datetime
) -> tuple[dict[str, Any], str | None]:
    row = await (await tx.run(_LOCK, id=app_id, unitPrefix=actor.agency_prefix, now=now)).single()
    if row is None:  # outside the unit's reach reads like unknown
        raise RepairRefused("NOT_FOUND", "unknown-application", f"no application {app_id}")
    return dict(row["a"]), row["case"]


async def accept(
    store: Store,
    rules: RightsRules,
    app_id: str,
    *,
    take: bool,
    reason: str | None,
    actor: Actor,
    today: date,
) -> Decided:
    """Accept a filed application (the decision is then due ``repair.decide`` later), or
    decline it with reasons (it closes)."""
    text = (reason or "").strip()
    if not take and (why := rules.repair_reasons.check(text)):
        raise RepairRefused("BAD_USER_INPUT", "reason", f"say why it is not accepted: {why}")
    now = datetime.now(UTC)

    async def work(tx: AsyncManagedTransaction) -> Decided:
        app, _ = await _locked(tx, app_id, actor, now)
        if app["status"] != "FILED":
            raise RepairRefused("CONFLICT", "not-filed", f"the application is {app['status']}")
        props: dict[str, Any] = {"acceptedOn": today, "acceptedBy": actor.by, "updatedAt": now}
        if take:
            props |= {"status": "ACCEPTED", "dueOn": rules.repair_decide.due(today)}
        else:
            props |= {"status": "NOT_ACCEPTED", "open": False, "decidedOn": today,
                      "decidedBy": actor.by, "reason": text}  # fmt: skip
        await tx.run(_SET, id=app_id, props=props)
        return Decided(app_id, app["creditCode"], props["status"], ())

    return await store.write(work)


async def decide(
    store: Store,
    rules: RightsRules,
    determination: DeterminationRules,
    catalogue: Catalogue,
    app_id: str,
    *,
    grant: bool,
    reason: str | None,
    actor: Actor,
    today: date,
) -> Decided:
    """Grant an accepted application (the repair itself, same transaction) or refuse it with
    reasons."""
    text = (reason or "").strip()
    if not grant and (why := rules.repair_reasons.check(text)):
        raise RepairRefused("BAD_USER_INPUT", "reason", f"a refusal gives its reasons: {why}")
    now = datetime.now(UTC)

    async def work(tx: AsyncManagedTransaction) -> Decided:
        app, case = await _locked(tx, app_id, actor, now)
        if app["status"] != "ACCEPTED":
            raise RepairRefused("CONFLICT", "not-accepted", f"the application is {app['status']}")
        events: tuple[Emitted, ...] = ()
        if grant:
            events = await _repair(tx, determination, catalogue, app, case, text, actor, today)
        props = {
            "status": "GRANTED" if grant else "REFUSED", "open": False, "decidedOn": today,
            "decidedBy": actor.by, "reason": text or None, "updatedAt": now,
        }  # fmt: skip
        await tx.run(_SET, id=app_id, props=props)
        return Decided(app_id, app["creditCode"], str(props["status"]), events)

    return await store.write(work)


async def _repair(
    tx: AsyncManagedTransaction,
    determination: DeterminationRules,
    catalogue: Catalogue,
    app: dict[str, Any],
    case: str | None,
    reason: str,
    actor: Actor,
    today: date,
) -> tuple[Emitted, ...]:
    why = reason or f"准予信用修复（申请 {app['target']}）"
    target = app["target"]
    try:
        if app["targetKind"] == "RECORD":
            step = await review_in(
                tx, target, catalogue=catalogue, decision="REPAIR", reason=why, by=actor.by,
                agency=app["unit"], prefix=actor.prefix, scope=actor.scope, today=today,
                record_kinds=catalogue.record_kinds,
            )  # fmt: skip
            followed = await follow_record_in(tx, catalogue, target, today)
            return tuple([step.event] if step.event else []) + tuple(followed)
        if case is not None:
            advanced = await advance_in(
                tx, determination, catalogue, case_id=case, action="REPAIR", by=actor.by,
                unit=actor.unit, prefix=actor.prefix, today=today, reason=why,
            )  # fmt: skip
            return (advanced.event,) if advanced.event else ()
        ended = await end_in(tx, catalogue, target, "REPAIRED", today)
    except (StepRefused, ReviewRefused) as exc:
        reason_code = getattr(exc, "reason", "refused")
        raise RepairRefused(exc.code, reason_code, str(exc)) from None
    if ended is None:
        raise RepairRefused("CONFLICT", "not-in-force", f"{target} is no longer in force")
    return (ended,)


async def queue(
    store: Store,
    agency_prefix: str,
    *,
    status: str | None,
    overdue: bool | None,
    today: date,
    after: tuple[date, str],
    limit: int,
) -> list[dict[str, Any]]:
    """Applications routed to the caller's unit or below, oldest first."""
    rows = await store.execute(
        QUEUE, unitPrefix=agency_prefix, status=status, overdue=overdue, today=today,
        afterOn=after[0], afterId=after[1], limit=limit, read=True,
    )  # fmt: skip
    return [dict(r["a"]) for r in rows]
