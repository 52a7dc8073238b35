"""Court and police documents from outside, attached to their case by number and credit code;
the ones no case claims wait in a queue (``UnmatchedDocument``) for a person.

A row attaches to the one case of its subject (``creditCode``) that holds a document numbered
``refersTo``; a case of that subject already holding the row's own ``number`` makes it a repeat
(``unchanged``). No such case, cases of another subject only, or several cases: the row waits,
with its reason, and is never attached to a guess. Rows are applied in batches, one transaction
each, and applying the same rows again adds nothing: a repeat is unchanged and a waiting row is
the same queued document (one per credit code and number). A waiting row whose case has since
appeared attaches on its next arrival, and its queue entry is marked ATTACHED.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from neo4j import AsyncManagedTransaction

from graph.archive.row_fields import Rejection
from graph.cases.court_rows import CourtRow
from graph.cases.model import NewDocument, add_document_in
from graph.db import Store
from policies.cases import CaseRules

BATCH = 200  # rows per transaction

# Why a row waits: stable words, in the queue and in the reports.
NO_CASE = "no-case"  # no case holds a document numbered refersTo
OTHER_SUBJECT = "credit-code-mismatch"  # only cases of other subjects hold it
SEVERAL_CASES = "several-cases"  # more than one case of the subject holds it

# The cases of the jurisdiction holding a document numbered like the row's own number or the
# one it refers to.
_CANDIDATES = """
UNWIND $rows AS row
OPTIONAL MATCH (d:CaseDocument) WHERE d.number IN [row.number, row.refersTo]
OPTIONAL MATCH (c:Case {id: d.case})-[:CASE_OF]->(s:Subject) WHERE s.division STARTS WITH $prefix
WITH row, c, collect(d.number) AS held
RETURN row.line AS line,
       collect(CASE WHEN c IS NULL THEN null ELSE
         {id: c.id, code: c.creditCode, repeat: row.number IN held,
          refers: row.refersTo IN held} END) AS cases
"""
_QUEUE = """
UNWIND $rows AS row
MERGE (u:UnmatchedDocument {creditCode: row.creditCode, number: row.number})
ON CREATE SET u.id = row.id, u.kind = row.kind, u.issuedOn = row.issuedOn,
  u.authority = row.authority, u.summary = row.summary, u.refersTo = row.refersTo,
  u.received = row.received, u.source = $source, u.reason = row.reason, u.status = 'WAITING',
  u.receivedAt = $now, u.new = true
ON MATCH SET u.new = false
WITH row, u, u.new AS created
REMOVE u.new
RETURN row.line AS line, u.id AS id, u.status AS status, u.reason AS reason, created
"""
# A waiting row that has now found its case.
_SETTLED = """
UNWIND $rows AS row
MATCH (u:UnmatchedDocument {creditCode: row.creditCode, number: row.number, status: 'WAITING'})
SET u.status = 'ATTACHED', u.case = row.case, u.decidedBy = $source, u.decidedAt = $now
"""


@dataclass(frozen=True, slots=True)
class RowOutcome:
    line: int
    outcome: str  # attached, unchanged, queued
    reason: str | None = None  # why a queued row waits
    case: str | None = None  # the case it attached to (or already was in)
    id: str | None = None  # the case document, or the queued document


@dataclass(slots=True)
class CourtReport:
    source: str
    rows: int = 0
    attached: int = 0
    unchanged: int = 0
    queued: int = 0  # waiting now, whether queued by this run or before
    rejected: list[Rejection] = field(default_factory=list)
    outcomes: list[RowOutcome] = field(default_factory=list)

    def add(self, outcome: RowOutcome) -> None:
        self.outcomes.append(outcome)
        setattr(self, outcome.outcome, getattr(self, outcome.outcome) + 1)


def new_unmatched_id(row: CourtRow) -> str:
    return f"UD-{row.issued_on.strftime('%Y%m%d')}-{secrets.token_hex(5).upper()}"


def _decide(row: CourtRow, cases: list[dict[str, Any]]) -> tuple[str, str]:
    """(``attach`` | ``unchanged``, case id) or (``queue``, reason) for one row."""
    own = [c for c in cases if c["code"] == row.credit_code]
    repeats = {c["id"] for c in own if c["repeat"]}
    if len(repeats) == 1:
        return "unchanged", repeats.pop()
    holders = {c["id"] for c in own if c["refers"]}
    if len(holders) == 1 and not repeats:
        return "attach", holders.pop()
    if len(holders) > 1 or len(repeats) > 1:
        return "queue", SEVERAL_CASES
    return "queue", OTHER_SUBJECT if any(c["refers"] for c in cases) else NO_CASE


def document_of(row: CourtRow, source: str) -> NewDocument:
    return NewDocument(
        kind=row.kind,
        number=row.number,
        issued_on=row.issued_on,
        authority=row.authority,
        summary=row.summary,
        records=(),
        source=source,
        by=source,
    )


async def _batch(
    tx: AsyncManagedTransaction,
    rows: list[CourtRow],
    source: str,
    prefix: str,
    rules: CaseRules,
    now: datetime,
) -> list[RowOutcome]:
    outcomes: list[RowOutcome] = []
    waiting: list[dict[str, Any]] = []
    settled: list[dict[str, Any]] = []
    for row in rows:  # in order, so a row may refer to a document attached just before it
        found = await tx.run(_CANDIDATES, rows=[row.params()], prefix=prefix)
        candidates = await found.single(strict=True)
        verdict, which = _decide(row, list(candidates["cases"]))
        if verdict == "queue":
            waiting.append({**row.params(), "id": new_unmatched_id(row), "reason": which})
            continue
        added = await add_document_in(tx, which, document_of(row, source), prefix, rules, now)
        outcome = "attached" if added.created else "unchanged"
        outcomes.append(RowOutcome(row.line, outcome, case=which, id=added.id))
        settled.append({"creditCode": row.credit_code, "number": row.number, "case": which})
    if settled:
        await tx.run(_SETTLED, rows=settled, source=source, now=now)
    if waiting:
        queued = await tx.run(_QUEUE, rows=waiting, source=source, now=now)
        async for q in queued:
            # A row queued before and since attached or discarded by a person stays decided.
            outcome = "queued" if q["status"] == "WAITING" else "unchanged"
            outcomes.append(RowOutcome(q["line"], outcome, q["reason"], id=q["id"]))
    return outcomes


_HELD = """
MATCH (s:Subject) WHERE s.creditCode IN $codes AND s.division STARTS WITH $prefix
RETURN s.creditCode AS code
"""


async def apply_court_documents(
    store: Store,
    rows: list[CourtRow],
    rejected: list[Rejection],
    source: str,
    rules: CaseRules,
    now: datetime,
    prefix: str = "",
) -> CourtReport:
    """Attach or queue checked rows (``source``: ``FEED:<name>`` or ``IMPORT:<id>``); the report
    names every row's outcome, refused rows included.

    ``prefix`` is the importing unit's jurisdiction ("" for a feed, which speaks for the whole
    region): a unit files documents only of subjects it holds, so a row naming any other subject
    is refused as ``unknown-subject``, and only cases of its jurisdiction are matched."""
    report = CourtReport(source, rows=len(rows) + len(rejected), rejected=list(rejected))
    if prefix:
        codes = sorted({r.credit_code for r in rows})
        held = {r["code"] for r in await store.execute(_HELD, codes=codes, prefix=prefix)}
        report.rejected += [
            Rejection(r.line, "unknown-subject", f"no subject {r.credit_code} in your jurisdiction")
            for r in rows
            if r.credit_code not in held
        ]
        rows = [r for r in rows if r.credit_code in held]
    async with store.session() as session:
        for start in range(0, len(rows), BATCH):
            part = rows[start : start + BATCH]

            async def work(tx: AsyncManagedTransaction, part: list[CourtRow] = part) -> Any:
                return await _batch(tx, part, source, prefix, rules, now)

            for outcome in await session.execute_write(work):
                report.add(outcome)
    report.outcomes.sort(key=lambda o: o.line)
    report.rejected.sort(key=lambda r: r.line)
    return report
