"""Reminders (催办) of overdue case duties: a ``case.reminder`` outbox event for each open case
whose current duty is past its due day, on the day after it and then every ``remind_every``
(policies/cases.yaml) while the duty stays open.

The case keeps what was last sent (``remindedFor`` names the duty, ``remindedOn`` the day,
``reminders`` how many for that duty), written in the transaction that emits, so a run repeated
the same day, or two runs at once, send one reminder per case, duty and day. A new duty (a
document that sets one going) starts its reminders over from its own due day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from neo4j import AsyncManagedTransaction

from graph.db import Store
from graph.exchange.outbox import Emitted, NewEvent, emit
from policies.cases import CaseRules
from policies.workdays import working_days_after

REMINDER_EVENT = "case.reminder"
# A reminder tells who is late in a matter transferred as a suspected crime: the department's
# own class, so only partners cleared for RESTRICTED hear of it (docs/cases.md).
DISCLOSURE = "RESTRICTED"
NEVER = date(1970, 1, 1)  # stands for "not reminded yet" when comparing what was read

# Open cases past their due day, with what was last sent.
OVERDUE = """
MATCH (c:Case) WHERE c.open AND c.dueOn < $today
RETURN c.id AS id, c.duty AS duty, c.dutySince AS since, c.dueOn AS due,
  c.remindedFor AS remindedFor, c.remindedOn AS remindedOn
ORDER BY c.dueOn, c.id
"""
# Compare and set: the SET takes the case's write lock first, so the state read after it is
# the one the last committed run left; unless it is still what the reminder was decided on,
# nothing is written and nothing sent.
REMIND = """
MATCH (c:Case {id: $id})
SET c.remindLock = true
REMOVE c.remindLock
WITH c
WHERE c.open AND c.duty = $duty AND c.dutySince = $since AND c.dueOn = $due
  AND coalesce(c.remindedFor, '') = $seenFor AND coalesce(c.remindedOn, $never) = $seenOn
SET c.reminders = CASE WHEN c.remindedFor = $key THEN c.reminders + 1 ELSE 1 END,
    c.remindedFor = $key, c.remindedOn = $today
RETURN c.creditCode AS creditCode, c.unit AS unit, c.reminders AS reminders
"""


@dataclass(frozen=True, slots=True)
class Overdue:
    """An overdue case as read, and the reminder state the decision to remind rests on."""

    id: str
    duty: str
    since: date
    due: date
    reminded_for: str
    reminded_on: date

    @property
    def key(self) -> str:
        """The duty's identity: its kind and the day it started (a new PROGRESS is a new duty)."""
        return f"{self.duty}@{self.since.isoformat()}"

    def last_reminded(self) -> date | None:
        return self.reminded_on if self.reminded_for == self.key else None


def _day(value: Any) -> date | None:
    return None if value is None else value.to_native()


async def remind(store: Store, rules: CaseRules, today: date) -> list[Emitted]:
    """Send the reminders due ``today``: one per open overdue case whose duty was not reminded
    yet, or was last reminded ``remind_every`` ago (or longer: a missed day is caught up once).
    Safe to run any number of times a day."""
    sent = []
    for row in await store.read(OVERDUE, today=today):
        if row["duty"] not in rules.duties:
            continue  # a duty cases.yaml no longer has: the next document sets the case right
        case = Overdue(
            row["id"], row["duty"], row["since"].to_native(), row["due"].to_native(),
            row["remindedFor"] or "", _day(row["remindedOn"]) or NEVER,
        )  # fmt: skip
        if today < rules.reminder_on(case.due, case.last_reminded()):
            continue
        emitted = await store.write(_remind_in, case, rules, today)
        if emitted is not None:
            sent.append(emitted)
    return sent


async def _remind_in(
    tx: AsyncManagedTransaction, case: Overdue, rules: CaseRules, today: date
) -> Emitted | None:
    result = await tx.run(
        REMIND, id=case.id, duty=case.duty, since=case.since, due=case.due,
        key=case.key, seenFor=case.reminded_for, seenOn=case.reminded_on, never=NEVER,
        today=today,
    )  # fmt: skip
    found = await result.single()
    if found is None:
        return None  # another run sent it, or the case moved since it was read
    duty = rules.duties[case.duty]
    data = {
        "caseId": case.id,
        "creditCode": found["creditCode"],
        "unit": found["unit"],
        "duty": case.duty,
        "party": duty.party,
        "dutySince": case.since.isoformat(),
        "dueOn": case.due.isoformat(),
        "daysOverdue": working_days_after(case.due, today),
        "source": duty.deadline.source,
        "expects": sorted(duty.expects),
        "remindedOn": today.isoformat(),
        "reminder": found["reminders"],
    }
    event = NewEvent(
        REMINDER_EVENT, found["creditCode"], None, DISCLOSURE, rules.reminder_kinds, data
    )
    return await emit(tx, event)
