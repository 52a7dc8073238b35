"""The units' side of complaints and reports: the queue of a unit's jurisdiction, accepting or
refusing with reasons, answering, and escalating what is overdue one level up.

A unit reaches a complaint when the complaint's responsible unit is within its jurisdiction
(the unit itself or one below it); anything else answers like an unknown id. Every step is a
``ComplaintStep`` with its date, so the filer and the units read the same history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from neo4j import AsyncManagedTransaction

from graph.db import Store
from graph.rights.complaints import ComplaintError
from policies.rights import RightsRules
from policies.units import AGENCY_PREFIX, superior


@dataclass(frozen=True, slots=True)
class Step:
    kind: str  # FILED, ACCEPTED, REFUSED, ANSWERED, ESCALATED
    on: date
    unit: str
    by: str | None


@dataclass(frozen=True, slots=True, order=True)
class Attachment:
    name: str  # first: the order attachments are listed in
    id: str
    type: str
    size: int


@dataclass(frozen=True, slots=True)
class Handled:
    """A complaint as the units see it, with its history and evidence."""

    id: str
    tracking: str
    kind: str
    status: str
    unit: str
    credit_code: str | None
    about_unit: str | None
    text: str
    contact: str | None
    filed_on: date
    accept_due: date
    answer_due: date | None
    due_on: date
    open: bool
    escalations: int
    escalated_to: str | None
    reason: str | None
    reply: str | None
    steps: list[Step]
    attachments: list[Attachment]


def units_of(prefix: str) -> str:
    """The unit-code prefix of a jurisdiction's division prefix (its own and those below)."""
    return AGENCY_PREFIX + prefix


_ROW = """c {.id, .tracking, .kind, .status, .unit, .creditCode, .aboutUnit, .text, .contact,
  .filedOn, .acceptDue, .answerDue, .dueOn, .open, .escalations, .escalatedTo, .reason,
  .reply} AS c,
  COLLECT {
    MATCH (c)-[:STEP]->(s:ComplaintStep)
    RETURN s {.seq, .kind, .on, .unit, .by} AS step
  } AS steps,
  COLLECT {
    MATCH (c)-[a:ATTACHES]->(e:Evidence)
    RETURN e {.id, .type, .size, name: a.name} AS file
  } AS attachments"""
QUEUE = f"""
MATCH (c:Complaint)
WHERE c.unit STARTS WITH $units
  AND ($status IS NULL OR c.status = $status)
  AND ($overdue IS NULL OR (c.open AND c.dueOn < $today) = $overdue)
  AND ($escalatedTo IS NULL OR c.escalatedTo = $escalatedTo)
  AND ($afterDue IS NULL OR c.dueOn > $afterDue OR (c.dueOn = $afterDue AND c.id > $afterId))
WITH c ORDER BY c.dueOn, c.id LIMIT $limit
RETURN {_ROW}
"""
ONE = f"""
MATCH (c:Complaint {{id: $id}}) WHERE c.unit STARTS WITH $units
RETURN {_ROW}
"""


def _day(value: Any) -> date | None:
    return value.to_native() if value is not None else None


def _handled(record: Any) -> Handled:
    c = record["c"]
    return Handled(
        c["id"],
        c["tracking"],
        c["kind"],
        c["status"],
        c["unit"],
        c["creditCode"],
        c["aboutUnit"],
        c["text"],
        c["contact"],
        c["filedOn"].to_native(),
        c["acceptDue"].to_native(),
        _day(c["answerDue"]),
        c["dueOn"].to_native(),
        c["open"],
        c["escalations"],
        c["escalatedTo"],
        c["reason"],
        c["reply"],
        [
            Step(s["kind"], s["on"].to_native(), s["unit"], s["by"])
            for s in sorted(record["steps"], key=lambda s: s["seq"])
        ],
        sorted(Attachment(a["name"], a["id"], a["type"], a["size"]) for a in record["attachments"]),
    )


async def queue(
    store: Store,
    prefix: str,
    *,
    today: date,
    status: str | None = None,
    overdue: bool | None = None,
    escalated_to: str | None = None,
    after: tuple[date, str] | None = None,
    limit: int = 20,
) -> list[Handled]:
    """The complaints of a jurisdiction, most urgent deadline first (keyset on due date, id)."""
    rows = await store.read(
        QUEUE,
        units=units_of(prefix),
        status=status,
        overdue=overdue,
        today=today,
        escalatedTo=escalated_to,
        afterDue=after[0] if after else None,
        afterId=after[1] if after else None,
        limit=limit,
    )
    return [_handled(r) for r in rows]


async def complaint(store: Store, prefix: str, complaint_id: str) -> Handled | None:
    rows = await store.read(ONE, id=complaint_id, units=units_of(prefix))
    return _handled(rows[0]) if rows else None


STATUS = "MATCH (c:Complaint {id: $id}) WHERE c.unit STARTS WITH $units RETURN c.status AS status"
DECIDE = """
MATCH (c:Complaint {id: $id})
SET c.status = $status, c.decidedOn = $today, c.reason = $reason, c.open = $open,
    c.answerDue = $answerDue, c.dueOn = coalesce($answerDue, c.dueOn)
WITH c, COUNT { (c)-[:STEP]->() } + 1 AS seq
CREATE (c)-[:STEP]->(:ComplaintStep {seq: seq, kind: $status, on: $today, unit: $unit, by: $by,
  at: datetime()})
"""
ANSWER = """
MATCH (c:Complaint {id: $id})
SET c.status = 'ANSWERED', c.reply = $reply, c.answeredOn = $today, c.open = false
WITH c, COUNT { (c)-[:STEP]->() } + 1 AS seq
CREATE (c)-[:STEP]->(:ComplaintStep {seq: seq, kind: 'ANSWERED', on: $today, unit: $unit,
  by: $by, at: datetime()})
"""


async def _in_status(
    tx: AsyncManagedTransaction, complaint_id: str, prefix: str, wanted: str
) -> None:
    found = await (await tx.run(STATUS, id=complaint_id, units=units_of(prefix))).single()
    if found is None:
        raise ComplaintError("not-found", f"no complaint {complaint_id!r}")
    if found["status"] != wanted:
        raise ComplaintError("conflict", f"the complaint is {found['status']}, not {wanted}")


async def decide(
    store: Store,
    rules: RightsRules,
    complaint_id: str,
    *,
    accept: bool,
    reason: str | None,
    unit: str,
    prefix: str,
    by: str,
    today: date,
) -> Handled:
    """Accept (the answer deadline starts) or refuse (closed, reasons required) a filing."""
    note = (reason or "").strip() or None
    problem = rules.complaint_text.check(note or "") if not accept or note else None
    if problem is not None:
        raise ComplaintError("bad-input", f"reason: {problem}")

    async def work(tx: AsyncManagedTransaction) -> None:
        await _in_status(tx, complaint_id, prefix, "RECEIVED")
        await tx.run(
            DECIDE,
            id=complaint_id,
            status="ACCEPTED" if accept else "REFUSED",
            today=today,
            reason=note,
            open=accept,
            answerDue=rules.complaint_answer.due(today) if accept else None,
            unit=unit,
            by=by,
        )

    await store.write(work)
    return await _reread(store, prefix, complaint_id)


async def answer(
    store: Store,
    rules: RightsRules,
    complaint_id: str,
    *,
    reply: str,
    unit: str,
    prefix: str,
    by: str,
    today: date,
) -> Handled:
    """Answer an accepted filing: the reply is what the filer reads with the query code."""
    problem = rules.complaint_text.check(reply)
    if problem is not None:
        raise ComplaintError("bad-input", f"reply: {problem}")

    async def work(tx: AsyncManagedTransaction) -> None:
        await _in_status(tx, complaint_id, prefix, "ACCEPTED")
        await tx.run(ANSWER, id=complaint_id, reply=reply.strip(), today=today, unit=unit, by=by)

    await store.write(work)
    return await _reread(store, prefix, complaint_id)


async def _reread(store: Store, prefix: str, complaint_id: str) -> Handled:
    found = await complaint(store, prefix, complaint_id)
    assert found is not None  # just written within the same jurisdiction
    return found


OVERDUE = """
MATCH (c:Complaint) WHERE c.status IN ['RECEIVED', 'ACCEPTED'] AND c.open AND c.dueOn < $today
RETURN c.id AS id, c.unit AS unit, c.escalatedTo AS escalatedTo, c.escalatedOn AS escalatedOn,
  c.dueOn AS dueOn
"""
ESCALATE = """
UNWIND $moves AS move
MATCH (c:Complaint {id: move.id})
WHERE c.open AND (c.escalatedOn IS NULL OR c.escalatedOn < $today)
SET c.escalatedTo = move.to, c.escalations = c.escalations + 1, c.escalatedOn = $today
WITH c, move, COUNT { (c)-[:STEP]->() } + 1 AS seq
CREATE (c)-[:STEP]->(:ComplaintStep {seq: seq, kind: 'ESCALATED', on: $today, unit: move.to,
  at: datetime()})
RETURN count(c) AS moved
"""


async def escalate_overdue(store: Store, rules: RightsRules, today: date) -> int:
    """Move each overdue open filing one level up: on the day after its current deadline, then
    again every ``complaint.escalate_again`` working days (on the working day that many after
    the last move) while it stays open; a new step (acceptance) starts over from its deadline.
    Safe to run more than once a day: a filing moves at most once per day."""
    again = rules.complaint_escalate_again
    moves = []
    for r in await store.read(OVERDUE, today=today):
        last, due = _day(r["escalatedOn"]), r["dueOn"].to_native()
        if last is None or last <= due or today >= again.due(last):
            moves.append({"id": r["id"], "to": superior(r["escalatedTo"] or r["unit"])})
    if not moves:
        return 0
    rows = await store.execute(ESCALATE, moves=moves, today=today)
    moved: int = rows[0]["moved"]
    return moved
