"""A unit's steps on an objection: accept or refuse it, then decide it (correct, withdraw or
confirm), each in one transaction with what it sets off.

Correcting or withdrawing a record proposes the change of graph/records/corrections.py in the
owning unit's name, in the decision's transaction: reviewers approve it under the same rules as
a submission, and the last approval publishes it, tells partners as every correction does, and
closes the objection (graph/rights/objected.py ``settle_in``). Until then the record stays
under objection. Withdrawing a listing ends it at once (``sanction.ended``, WITHDRAWN) and
closes its case. Four eyes: whoever submitted the record, or proposed or notified the listing's
case, takes no step on an objection to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from neo4j import AsyncManagedTransaction

from graph.db import Store
from graph.records.corrections import propose_in
from graph.records.listings import end_in
from graph.records.submissions import Submission
from graph.rights.objected import Target, tell_in
from graph.rights.objections import FIELDS, ObjectionRefused, check_reasons
from policies.credit.measures import Catalogue
from policies.rights import RightsRules

OUTCOMES = ("CORRECT", "WITHDRAW", "CONFIRM")

# Only an objection of the unit's jurisdiction (its own unit's or a unit's below it).
_LOCK = """
MATCH (o:Objection {id: $id})-[:AGAINST]->(t)
WHERE substring(o.unit, 3) STARTS WITH $unitPrefix
SET o.lockedAt = $now
RETURN o {.id, .status, .unit, .creditCode, .target, .targetId} AS o,
  t.disclosure AS disclosure,
  [x IN [t.submittedBy] WHERE x IS NOT NULL] +
  COLLECT { MATCH (c:ListingCase {id: 'LC-' + substring(t.id, 2)})-[:STEP]->(x:CaseStep)
            WHERE x.action IN ['PROPOSE', 'NOTIFY'] RETURN x.by } AS authors
"""
_SET = "MATCH (o:Objection {id: $id}) SET o += $props"
_CASE_END = """
MATCH (c:ListingCase {id: $case, status: 'LISTED'})
SET c.status = 'ENDED', c.endedOn = $today, c.endReason = 'WITHDRAWN', c.steps = c.steps + 1,
    c.updatedAt = $now
CREATE (c)-[:STEP]->(:CaseStep {case: c.id, seq: c.steps, action: 'WITHDRAW', from: 'LISTED',
  to: 'ENDED', by: $by, unit: $unit, reason: $reason, document: null, at: $now})
"""


@dataclass(frozen=True, slots=True)
class Actor:
    by: str  # the reviewer's ``sub``
    unit: str  # the reviewer's unit
    prefix: str  # the division prefix of its jurisdiction
    scope: Mapping[str, Any]  # its read scope as Cypher parameters


async def _locked(tx: AsyncManagedTransaction, objection: str, actor: Actor, now: datetime) -> Any:
    found = await (await tx.run(_LOCK, id=objection, unitPrefix=actor.prefix, now=now)).single()
    if found is None:  # unknown and out of jurisdiction read the same
        raise ObjectionRefused("NOT_FOUND", "unknown-objection", f"no objection {objection}")
    o = dict(found["o"])
    if actor.by in found["authors"]:
        raise ObjectionRefused(
            "FORBIDDEN", "four-eyes",
            "whoever submitted the record or proposed the listing does not judge an objection "
            "to it", o["creditCode"],
        )  # fmt: skip
    return o, Target(o["target"], o["targetId"], o["creditCode"], found["disclosure"] or "PUBLIC")


def _expect(o: dict[str, Any], status: str) -> None:
    if o["status"] != status:
        raise ObjectionRefused(
            "CONFLICT", "wrong-status", f"the objection is {o['status']}", o["creditCode"]
        )


async def _read(store: Store, objection: str) -> dict[str, Any]:
    rows = await store.read(f"MATCH (o:Objection {{id: $id}}) RETURN {FIELDS} AS o", id=objection)
    return dict(rows[0]["o"])


async def accept(
    store: Store,
    catalogue: Catalogue,
    rules: RightsRules,
    objection: str,
    *,
    accepted: bool,
    reason: str | None,
    actor: Actor,
    today: date,
) -> dict[str, Any]:
    """Take the objection up (the decision is then due) or refuse it with reasons (it closes,
    and partners hear that the record is no longer under objection)."""
    reply = check_reasons(rules, reason or "") if not accepted or reason else None

    async def work(tx: AsyncManagedTransaction) -> None:
        now = datetime.now(UTC)
        o, target = await _locked(tx, objection, actor, now)
        _expect(o, "FILED")
        props: dict[str, Any] = {"acceptedBy": actor.by, "acceptReason": reply}
        if accepted:
            props |= {
                "status": "ACCEPTED",
                "acceptedOn": today,
                "dueOn": rules.objection_decide.due(today),
            }
        else:
            props |= {"status": "REFUSED", "open": False, "reply": reply, "closedOn": today}
            await tell_in(tx, catalogue, target, objection, False)
        await tx.run(_SET, id=objection, props=props)

    await store.write(work)
    return await _read(store, objection)


def _check_outcome(outcome: str, target: Target, correction: Submission | None) -> None:
    if outcome == "CORRECT" and target.kind == "LISTING":
        raise ObjectionRefused(
            "BAD_USER_INPUT", "listing-correction",
            "a listing is corrected through the records it rests on: withdraw or confirm it",
            target.subject,
        )  # fmt: skip
    if outcome == "CORRECT" and correction is None:
        raise ObjectionRefused(
            "BAD_USER_INPUT", "correction", "a correction needs the content", target.subject
        )


async def decide(
    store: Store,
    catalogue: Catalogue,
    rules: RightsRules,
    objection: str,
    *,
    outcome: str,
    reason: str,
    correction: Submission | None,
    actor: Actor,
    today: date,
) -> dict[str, Any]:
    """Decide an accepted objection: CONFIRM closes it; CORRECT (with the corrected content)
    and WITHDRAW of a record propose that change for review; WITHDRAW of a listing ends it."""
    reply = check_reasons(rules, reason)
    if outcome not in OUTCOMES:
        raise ObjectionRefused("BAD_USER_INPUT", "outcome", f"one of {', '.join(OUTCOMES)}")

    async def work(tx: AsyncManagedTransaction) -> None:
        now = datetime.now(UTC)
        o, target = await _locked(tx, objection, actor, now)
        _expect(o, "ACCEPTED")
        _check_outcome(outcome, target, correction)
        props: dict[str, Any] = {
            "outcome": outcome, "reply": reply, "decidedOn": today, "decidedBy": actor.by,
        }  # fmt: skip
        if outcome != "CONFIRM" and target.kind == "RECORD":
            change, _, _ = await propose_in(
                tx, target.id, kind="CORRECTION" if outcome == "CORRECT" else "WITHDRAWAL",
                reason=reply, new=correction if outcome == "CORRECT" else None, by=actor.by,
                agency=o["unit"], prefix=actor.prefix, scope=actor.scope,
            )  # fmt: skip
            props |= {"status": "IN_REVIEW", "change": change}
        else:
            if outcome == "WITHDRAW":
                await end_in(tx, catalogue, target.id, "WITHDRAWN", today, objection)
                await tx.run(
                    _CASE_END, case="LC-" + target.id.removeprefix("S-"), today=today, now=now,
                    by=actor.by, unit=actor.unit, reason=reply[:500],
                )  # fmt: skip
            props |= {"status": "DECIDED", "open": False, "closedOn": today}
            await tell_in(tx, catalogue, target, objection, False)
        await tx.run(_SET, id=objection, props=props)

    await store.write(work)
    return await _read(store, objection)
