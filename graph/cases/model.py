"""The case model: opening a case on a subject's records, and adding its documents, each write
keeping the case's current duty (policies/cases.yaml) on the node for the overdue list.

A ``Case`` is tied to its subject (``CASE_OF``) and to the records it concerns (``CONCERNS``);
a ``CaseDocument`` (kind, number, issue day, authority, perhaps one PDF as ``Evidence``) is tied
to its case (``IN_CASE``) and to the records it concerns. A document number is unique within a
case, so the same court document imported twice is one document. Every function takes the
jurisdiction prefix of the caller (a unit's division prefix, "" for the whole region): a case
or subject outside it reads like an unknown one.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from neo4j import AsyncManagedTransaction

from graph.rights.evidence import Evidence, attach
from policies.cases import CaseRules

# The properties every case node carries (the overdue list reads id, status, unit, creditCode,
# filedOn, dueOn and open, like the rights filings).
FIELDS = (
    "c {.id, .creditCode, .unit, .title, .matter, .status, .outcome, .open, .duty, .party,"
    " openedOn: toString(c.openedOn), closedOn: toString(c.closedOn),"
    " dueOn: toString(c.dueOn), dutySince: toString(c.dutySince)}"
)

_OPEN = """
MATCH (s:Subject {creditCode: $code}) WHERE s.division STARTS WITH $prefix
OPTIONAL MATCH (s)-[:HAS_RECORD]->(r:CreditRecord) WHERE r.id IN $records
WITH s, collect(r) AS found
WHERE size(found) = size($records)
CREATE (c:Case {id: $id, creditCode: $code, unit: $unit, title: $title, matter: $matter,
  status: 'OPEN', outcome: null, open: true, openedOn: $openedOn, filedOn: $openedOn,
  disclosure: 'RESTRICTED', createdBy: $by, createdAt: $now})
CREATE (c)-[:CASE_OF]->(s)
FOREACH (r IN found | CREATE (c)-[:CONCERNS]->(r))
RETURN c.id AS id
"""
# The case, in the caller's jurisdiction, with the records of its subject among ``records``.
_FIND = """
MATCH (c:Case {id: $case})-[:CASE_OF]->(s:Subject) WHERE s.division STARTS WITH $prefix
OPTIONAL MATCH (s)-[:HAS_RECORD]->(r:CreditRecord) WHERE r.id IN $records
RETURN c.status AS status, elementId(c) AS element, collect(r.id) AS records
"""
# A new document takes the fresh ``$id``; one already held keeps its own, which is how the
# answer tells the two apart.
_ADD = """
MATCH (c:Case {id: $case})
MERGE (d:CaseDocument {case: $case, number: $number})
ON CREATE SET d.id = $id, d.kind = $kind, d.issuedOn = $issuedOn, d.authority = $authority,
  d.summary = $summary, d.source = $source, d.addedBy = $by, d.addedAt = $now
MERGE (d)-[:IN_CASE]->(c)
WITH c, d, d.id = $id AS created
OPTIONAL MATCH (r:CreditRecord) WHERE created AND r.id IN $records
FOREACH (x IN CASE WHEN r IS NULL THEN [] ELSE [r] END |
  MERGE (d)-[:CONCERNS]->(x) MERGE (c)-[:CONCERNS]->(x))
WITH DISTINCT c, d, created
RETURN d.id AS id, d.kind AS kind, created, elementId(d) AS element
"""
_DOCUMENTS = """
MATCH (:Case {id: $case})<-[:IN_CASE]-(d:CaseDocument) RETURN d.kind AS kind, d.issuedOn AS on
"""
_DUTY = """
MATCH (c:Case {id: $case})
SET c.duty = $duty, c.party = $party, c.dutySince = $since,
    c.dueOn = CASE WHEN c.open THEN $due ELSE null END
"""


class CaseRefused(Exception):
    """A case write refused: ``code`` is the API's stable code, ``reason`` the detail."""

    def __init__(self, code: str, reason: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason


@dataclass(frozen=True, slots=True)
class NewCase:
    code: str  # the subject's credit code
    unit: str  # the owning unit (agency code)
    title: str
    matter: str | None  # the catalogue item of the department's decision, if any
    opened_on: date
    records: tuple[str, ...]  # ids of the subject's records the case concerns
    by: str


@dataclass(frozen=True, slots=True)
class NewDocument:
    kind: str  # a document kind of policies/cases.yaml
    number: str  # the document's own number (文号 / 案号), unique within its case
    issued_on: date
    authority: str  # who issued it, as the document names it
    summary: str
    records: tuple[str, ...]  # ids of the case subject's records it concerns
    source: str  # UNIT, IMPORT:<import id> or FEED:<feed name>
    by: str
    file: Evidence | None = None


@dataclass(frozen=True, slots=True)
class Added:
    id: str
    created: bool  # False: a document of that number was already in the case


def new_case_id(opened_on: date) -> str:
    return f"CASE-{opened_on.strftime('%Y%m%d')}-{secrets.token_hex(4).upper()}"


def new_document_id(issued_on: date) -> str:
    return f"CD-{issued_on.strftime('%Y%m%d')}-{secrets.token_hex(5).upper()}"


async def open_case_in(
    tx: AsyncManagedTransaction, case: NewCase, prefix: str, now: datetime
) -> str:
    """Open a case on a subject of the caller's jurisdiction, concerning some of its records;
    an unknown subject or record, or one outside, is NOT_FOUND alike."""
    case_id = new_case_id(case.opened_on)
    result = await tx.run(
        _OPEN,
        code=case.code,
        prefix=prefix,
        records=sorted(set(case.records)),
        id=case_id,
        unit=case.unit,
        title=case.title,
        matter=case.matter,
        openedOn=case.opened_on,
        by=case.by,
        now=now,
    )
    found = await result.single()
    if found is None:
        raise CaseRefused("NOT_FOUND", "unknown", "no such subject or record in your jurisdiction")
    return str(found["id"])


async def add_document_in(
    tx: AsyncManagedTransaction,
    case_id: str,
    document: NewDocument,
    prefix: str,
    rules: CaseRules,
    now: datetime,
) -> Added:
    """Add a document to an open or closed case of the caller's jurisdiction and bring the case's
    duty up to date; a document whose number the case already holds is left as it was."""
    if document.kind not in rules.documents:
        raise CaseRefused("BAD_USER_INPUT", "kind", f"unknown document kind {document.kind!r}")
    records = sorted(set(document.records))
    found = await (await tx.run(_FIND, case=case_id, prefix=prefix, records=records)).single()
    if found is None or found["status"] is None:
        raise CaseRefused("NOT_FOUND", "unknown", "no such case in your jurisdiction")
    if len(found["records"]) != len(records):
        raise CaseRefused("NOT_FOUND", "record", "a record named is not one of the case subject's")
    result = await tx.run(
        _ADD,
        case=case_id,
        number=document.number,
        id=new_document_id(document.issued_on),
        kind=document.kind,
        issuedOn=document.issued_on,
        authority=document.authority,
        summary=document.summary,
        source=document.source,
        by=document.by,
        now=now,
        records=records,
    )
    row = await result.single(strict=True)
    if row["created"] and document.file is not None:
        await attach(tx, row["element"], [document.file])
    if row["created"]:
        await refresh_duty_in(tx, case_id, rules)
    return Added(str(row["id"]), bool(row["created"]))


async def refresh_duty_in(tx: AsyncManagedTransaction, case_id: str, rules: CaseRules) -> None:
    """Recompute the case's current duty from its documents (a closed case keeps no due day)."""
    rows = [r async for r in await tx.run(_DOCUMENTS, case=case_id)]
    current = rules.duty_of((r["kind"], r["on"].to_native()) for r in rows)
    params: dict[str, Any] = {"duty": None, "party": None, "since": None, "due": None}
    if current is not None:
        params = {
            "duty": current.duty.after,
            "party": current.duty.party,
            "since": current.since,
            "due": current.due,
        }
    await tx.run(_DUTY, case=case_id, **params)
