"""Self-discipline actions (行业自律惩戒): an association files a warning, a criticism or an
expulsion of its own member, and it becomes a dishonest record through the normal submission
and review (graph/records/submissions.py, graph/records/review.py).

The record is filed in the name of the unit responsible for the member's division (policies/
units.py ``responsible_unit``): that unit's reviewers approve it, and that unit corrects,
withdraws or repairs it later like any record it holds; ``submittedBy`` and ``sourceSystem``
name the association. A ``SelfDiscipline`` node keeps the action, who filed it and its record,
so the association follows the record's status. An expulsion ends the membership when review
publishes its record (``expel_in``, called by review), not when it is filed: until a reviewer
approved it, it is a claim.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from neo4j import AsyncManagedTransaction

from graph.archive.row_fields import RowError
from graph.associations.membership import AssociationRefused, end_in
from graph.db import Store
from graph.records.submissions import parse_submission, submit
from policies.associations import Action, Association, member_scope
from policies.units import responsible_unit, unit_prefix

# The member, locked; anyone else (not a member, unknown) reads the same: nothing.
_MEMBER = """
MATCH (s:Subject {creditCode: $code})-[m:MEMBER_OF]->(:Association {code: $association})
WHERE m.until IS NULL
SET m.lockedAt = $now
RETURN s.division AS division, s.name AS name
"""
# The action filed before with the same record, by whichever association.
_FILED = (
    "MATCH (d:SelfDiscipline {record: $record}) RETURN d.association AS association, d.id AS id"
)
_RECORD = """
MATCH (s:Subject {creditCode: $code}) MATCH (r:CreditRecord {id: $record})
MERGE (d:SelfDiscipline {record: $record})
ON CREATE SET d.id = $id, d.association = $association, d.creditCode = $code,
  d.subjectName = s.name, d.filedBy = $by, d.filedAt = $now
SET d.action = $action, d.decidedOn = $decidedOn, d.document = $document, d.reasons = $reasons,
  d.endsMembership = $ends
MERGE (d)-[:RECORDED_AS]->(r)
MERGE (d)-[:AGAINST]->(s)
RETURN d.id AS id
"""
# An expulsion whose record review just published ends the membership it names.
_EXPULSION = """
MATCH (d:SelfDiscipline {record: $record, endsMembership: true})
RETURN d.association AS association, d.creditCode AS code, d.id AS id
"""
_VIEW = """
OPTIONAL MATCH (r:CreditRecord {id: d.record})
RETURN d {.id, .creditCode, .subjectName, .action, .document, .reasons, .record,
          decidedOn: toString(d.decidedOn), filedAt: toString(d.filedAt),
          status: r.status} AS action
"""
_ACTIONS = (
    """
MATCH (d:SelfDiscipline {association: $association}) WHERE d.id < $before
WITH d ORDER BY d.id DESC LIMIT $limit
"""
    + _VIEW
)
_ACTION = "MATCH (d:SelfDiscipline {id: $id, association: $association})" + _VIEW


@dataclass(frozen=True, slots=True)
class Filed:
    id: str
    record: str
    status: str  # the record's: PENDING once filed


def _raw(association: Association, action: Action, code: str, **given: Any) -> dict[str, Any]:
    reasons = " ".join(str(given["reasons"]).split())
    if not 4 <= len(reasons) <= 400:
        raise AssociationRefused("BAD_USER_INPUT", "reasons", "reasons are 4-400 characters")
    return {
        "item": action.item,
        "subject": code,
        "tier": action.tier,
        "title": f"{association.name}{action.name}：{reasons}",
        "decidedOn": given["decided_on"].isoformat(),
        "document": given["document"],
        "legalBasis": association.charter,
    }


async def record_action(
    store: Store,
    association: Association,
    action: Action,
    code: str,
    *,
    decided_on: date,
    document: str,
    reasons: str,
    by: str,
    today: date,
) -> Filed:
    """File ``action`` against the member ``code``: a PENDING record for review."""
    raw = _raw(association, action, code, decided_on=decided_on, document=document, reasons=reasons)
    try:
        submission = parse_submission(raw, today)
    except RowError as exc:
        raise AssociationRefused("BAD_USER_INPUT", exc.reason, str(exc)) from None
    now = datetime.now(UTC)

    async def work(tx: AsyncManagedTransaction) -> Filed:
        found = await (
            await tx.run(_MEMBER, code=code, association=association.code, now=now)
        ).single()
        if found is None:
            raise AssociationRefused("NOT_FOUND", "not-a-member", "no member with this code")
        before = await (await tx.run(_FILED, record=submission.id)).single()
        if before is not None and before["association"] != association.code:
            raise AssociationRefused(
                "CONFLICT", "conflict", f"document {document} is already on file for {code}"
            )
        unit = responsible_unit(found["division"])
        (outcome,) = await submit(
            tx, [submission.params(1)], agency=unit, prefix=unit_prefix(unit), by=by, now=now,
            scope=member_scope().params(), system=f"association:{association.code}",
        )  # fmt: skip
        if outcome.refused:
            raise AssociationRefused("CONFLICT", outcome.outcome, outcome.message)
        new_id = f"SD-{now:%Y%m%d%H%M%S}-{submission.id[3:11]}"
        result = await tx.run(
            _RECORD, code=code, record=submission.id, id=new_id, association=association.code,
            by=by, now=now, action=action.code, decidedOn=decided_on, document=document,
            reasons=" ".join(reasons.split()), ends=action.ends_membership,
        )  # fmt: skip
        row = await result.single(strict=True)
        return Filed(row["id"], submission.id, outcome.status or "PENDING")

    return await store.write(work)


async def expel_in(tx: AsyncManagedTransaction, record: str, today: date) -> None:
    """Review published ``record``: if it is an expulsion, the membership ends today."""
    row = await (await tx.run(_EXPULSION, record=record)).single()
    if row is not None:
        await end_in(
            tx, row["association"], row["code"], until=today, by=row["id"], reason="EXPULSION"
        )


async def actions_of(
    store: Store, association: str, before: str, limit: int
) -> list[dict[str, Any]]:
    """The association's own actions, newest first, ids below ``before``, each with the
    status of its record."""
    rows = await store.read(_ACTIONS, association=association, before=before, limit=limit)
    return [dict(r["action"]) for r in rows]


async def action_of(store: Store, association: str, action: str) -> dict[str, Any] | None:
    """One of the association's own actions by id."""
    rows = await store.read(_ACTION, association=association, id=action)
    return dict(rows[0]["action"]) if rows else None
