"""The queue of court documents no case claimed: listed for the people who may settle them,
attached by a person to the case they choose, or discarded with a reason.

A queued row is visible to the units whose jurisdiction covers its subject (the credit code the
row names, held by the hub), and to the region; a row naming a subject the hub does not hold,
to the region only. Outside that, a row reads like an unknown one. A person attaches a row only
to a case of their jurisdiction and of the row's own credit code, so a document never lands on
another subject's case; a row attached or discarded stays as it was decided.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from neo4j import AsyncManagedTransaction

from graph.cases.model import CaseRefused, NewDocument, add_document_in
from graph.db import Store
from policies.cases import CaseRules
from policies.divisions import REGION_CODE, jurisdiction_prefix

STATUSES = ("WAITING", "ATTACHED", "DISCARDED")

_FIELDS = (
    "u {.id, .creditCode, .kind, .number, .authority, .summary, .refersTo, .received, .source,"
    " .reason, .status, .case, .decidedBy, .note, issuedOn: toString(u.issuedOn),"
    " receivedAt: toString(u.receivedAt), decidedAt: toString(u.decidedAt)}"
)
_VISIBLE = (
    "($region OR EXISTS { MATCH (s:Subject {creditCode: u.creditCode})"
    " WHERE s.division STARTS WITH $prefix })"
)
_LIST = f"""
MATCH (u:UnmatchedDocument)
WHERE ($status IS NULL OR u.status = $status) AND ($after IS NULL OR u.id > $after)
  AND {_VISIBLE}
RETURN {_FIELDS} AS u ORDER BY u.id LIMIT $limit
"""
# Taking the row's write lock first, so two people settling it at once are one after the other.
_LOCK = f"MATCH (u:UnmatchedDocument {{id: $id}}) WHERE {_VISIBLE} SET u.lockedAt = $now"
_ONE = f"MATCH (u:UnmatchedDocument {{id: $id}}) WHERE {_VISIBLE} RETURN {_FIELDS} AS u"
_CASE = """
MATCH (c:Case {id: $case})-[:CASE_OF]->(s:Subject) WHERE s.division STARTS WITH $prefix
RETURN c.creditCode AS code
"""
_SETTLE = """
MATCH (u:UnmatchedDocument {id: $id})
SET u.status = $status, u.case = $case, u.note = $note, u.decidedBy = $by, u.decidedAt = $now
REMOVE u.lockedAt
"""


def _scope(prefix: str) -> dict[str, Any]:
    return {"prefix": prefix, "region": prefix in ("", jurisdiction_prefix(REGION_CODE))}


async def unmatched_documents(
    store: Store, prefix: str, status: str | None, after: str | None, limit: int
) -> list[dict[str, Any]]:
    """Queued documents the caller's jurisdiction (``prefix``) covers, in id order."""
    rows = await store.execute(
        _LIST, status=status, after=after, limit=limit, read=True, **_scope(prefix)
    )
    return [dict(r["u"]) for r in rows]


async def _waiting(
    tx: AsyncManagedTransaction, row_id: str, prefix: str, now: datetime
) -> dict[str, Any]:
    await tx.run(_LOCK, id=row_id, now=now, **_scope(prefix))
    found = await (await tx.run(_ONE, id=row_id, **_scope(prefix))).single()
    if found is None:
        raise CaseRefused("NOT_FOUND", "unknown", "no such queued document in your jurisdiction")
    row = dict(found["u"])
    if row["status"] != "WAITING":
        raise CaseRefused(
            "BAD_USER_INPUT", "decided", f"the document was already {row['status'].lower()}"
        )
    return row


async def _settled(tx: AsyncManagedTransaction, row_id: str, prefix: str) -> dict[str, Any]:
    found = await (await tx.run(_ONE, id=row_id, **_scope(prefix))).single(strict=True)
    return dict(found["u"])


async def attach_unmatched_in(
    tx: AsyncManagedTransaction,
    row_id: str,
    case_id: str,
    prefix: str,
    rules: CaseRules,
    by: str,
    now: datetime,
) -> dict[str, Any]:
    """Attach a waiting row to a case of the caller's jurisdiction and of the row's subject
    (the case's duty follows); returns the settled row."""
    row = await _waiting(tx, row_id, prefix, now)
    case = await (await tx.run(_CASE, case=case_id, prefix=prefix)).single()
    if case is None:
        raise CaseRefused("NOT_FOUND", "unknown", "no such case in your jurisdiction")
    if case["code"] != row["creditCode"]:
        raise CaseRefused(
            "BAD_USER_INPUT", "credit-code", "the case is of another subject than the document"
        )
    document = NewDocument(
        kind=row["kind"],
        number=row["number"],
        issued_on=datetime.fromisoformat(row["issuedOn"]).date(),
        authority=row["authority"] or "",
        summary=row["summary"] or "",
        records=(),
        source=row["source"],
        by=by,
    )
    await add_document_in(tx, case_id, document, prefix, rules, now)
    await tx.run(_SETTLE, id=row_id, status="ATTACHED", case=case_id, note=None, by=by, now=now)
    return await _settled(tx, row_id, prefix)


async def discard_unmatched_in(
    tx: AsyncManagedTransaction, row_id: str, reason: str, prefix: str, by: str, now: datetime
) -> dict[str, Any]:
    """Discard a waiting row, saying why (a document of no case of the department's)."""
    await _waiting(tx, row_id, prefix, now)
    await tx.run(_SETTLE, id=row_id, status="DISCARDED", case=None, note=reason, by=by, now=now)
    return await _settled(tx, row_id, prefix)
