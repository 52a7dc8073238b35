"""Membership of industry associations: the department records it (an admin sets and ends it),
and one Cypher pattern every member-only read and delivery shares.

``(s:Subject)-[:MEMBER_OF {since, until}]->(a:Association {code})``: a membership is current
while ``until`` is null; an ended one stays as history. The ``Association`` node is made on the
first membership from policies/associations.yaml, which is where associations are defined.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from neo4j import AsyncManagedTransaction

from graph.db import Store
from policies.associations import Association

EARLIEST = date(1980, 1, 1)  # the oldest associations of the trades were founded in the 1980s


def current_member(subject: str, association: str) -> str:
    """Cypher: whether the subject with credit code ``subject`` (an expression) is a current
    member of the association with code ``association``; anchored on both unique keys."""
    return (
        f"EXISTS {{ MATCH (:Subject {{creditCode: {subject}}})-[m:MEMBER_OF]->"
        f"(:Association {{code: {association}}}) WHERE m.until IS NULL }}"
    )


def members_only(association: str, subject: str) -> str:
    """Cypher: true when ``association`` is null (every partner but an association's), else
    whether the subject is its current member; CASE, so other partners never run the pattern."""
    member = current_member(subject, association)
    return f"(CASE WHEN {association} IS NULL THEN true ELSE {member} END)"


class AssociationRefused(Exception):
    """A membership change or a self-discipline action refused: ``code`` is the API's error
    code, ``reason`` a stable word, the message says why."""

    def __init__(self, code: str, reason: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Membership:
    association: str
    credit_code: str
    since: date
    until: date | None


# The current membership gets the day given (a correction of the record), or one is made.
_SET = """
MATCH (s:Subject {creditCode: $code})
MERGE (a:Association {code: $association})
SET a.name = $name, a.trade = $trade
WITH s, a
OPTIONAL MATCH (s)-[old:MEMBER_OF]->(a) WHERE old.until IS NULL
FOREACH (_ IN CASE WHEN old IS NULL THEN [1] ELSE [] END |
  CREATE (s)-[:MEMBER_OF {since: $since, setBy: $by, setAt: $now}]->(a))
SET old.since = $since, old.setBy = $by, old.setAt = $now
RETURN s.creditCode AS code
"""
_END = """
MATCH (:Subject {creditCode: $code})-[m:MEMBER_OF]->(:Association {code: $association})
WHERE m.until IS NULL
WITH m WHERE m.since <= $until
SET m.until = $until, m.endedBy = $by, m.endReason = $reason
RETURN m.since AS since
"""


def _day(name: str, value: date, today: date) -> date:
    if not EARLIEST <= value <= today:
        raise AssociationRefused("BAD_USER_INPUT", "invalid-date", f"{name} is {EARLIEST} to today")
    return value


async def set_membership(
    store: Store, association: Association, code: str, *, since: date, by: str, today: date
) -> Membership:
    """Record that ``code`` is a member of ``association`` since ``since``."""
    found = await store.execute(
        _SET, code=code, association=association.code, name=association.name,
        trade=association.trade, since=_day("since", since, today), by=by,
        now=datetime.now(UTC),
    )  # fmt: skip
    if not found:
        raise AssociationRefused("NOT_FOUND", "unknown-subject", f"no subject {code}")
    return Membership(association.code, code, since, None)


async def end_in(
    tx: AsyncManagedTransaction, association: str, code: str, *, until: date, by: str, reason: str
) -> date | None:
    """End the current membership on ``until``; its first day, or None when there is none (or
    it began after ``until``)."""
    result = await tx.run(
        _END, code=code, association=association, until=until, by=by, reason=reason
    )
    row = await result.single()
    return row["since"].to_native() if row else None


async def end_membership(
    store: Store, association: str, code: str, *, until: date, by: str, today: date
) -> Membership:
    """The admin's end of a membership (the subject left, or the record was wrong)."""
    last = _day("until", until, today)

    async def work(tx: AsyncManagedTransaction) -> date | None:
        return await end_in(tx, association, code, until=last, by=by, reason="ENDED")

    since = await store.write(work)
    if since is None:
        raise AssociationRefused(
            "NOT_FOUND", "no-membership", f"{code} is not a member of {association} since {last}"
        )
    return Membership(association, code, since, last)
