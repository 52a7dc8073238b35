"""Reading cases through the read rule: one by id, keyset pages of them, and a document's file.

A case is a ``RESTRICTED`` row of its subject, owned by its unit (policies/access.py): the
department's units read it within their jurisdiction, investigators everywhere, partners and the
public never. The rule is compiled into every ``WHERE``, so a case outside the caller's reach
reads like an unknown one; the records it concerns are read by their own class (and by the
pending rule when unreviewed), so a case never carries a record its reader may not see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from graph.cases.model import FIELDS
from graph.db import Store
from graph.subjects import NESTED_CAP, RECORD_FIELDS
from policies.access import cypher_pending, cypher_readable

# The case is ``k`` until its records are read: RECORD_FIELDS names a proposed change ``c``.
CASE_RULE = cypher_readable("k", "s.division", "k.unit")

# A case with its documents (oldest first, each with its file if any) and the records it
# concerns that the caller may read.
_BODY = f"""
WITH k, s, COLLECT {{
    MATCH (k)-[:CONCERNS]->(r:CreditRecord)
    WHERE {cypher_readable("r", "s.division", "r.sourceAgency")}
      AND (NOT r.status IN ['PENDING', 'RETURNED']
           OR {cypher_pending("s.division", "r.sourceAgency")})
    RETURN {RECORD_FIELDS} ORDER BY r.decidedOn, r.id LIMIT $cap
  }} AS records
WITH k AS c, records
RETURN {FIELDS} AS case, c.closedBy AS closedBy, c.closingReasons AS reasons, records,
  COLLECT {{
    MATCH (c)<-[:IN_CASE]-(d:CaseDocument)
    RETURN d {{.id, .kind, .number, .authority, .summary, .source, issuedOn: toString(d.issuedOn),
              file: COLLECT {{ MATCH (d)-[a:ATTACHES]->(e:Evidence)
                               RETURN {{sha256: e.id, name: a.name, size: e.size}} }}[0]}}
    ORDER BY d.issuedOn, d.id LIMIT $cap
  }} AS documents
"""
CASE = f"""
MATCH (k:Case {{id: $id}})-[:CASE_OF]->(s:Subject) WHERE {CASE_RULE}
{_BODY}
"""
# Keyset pages in id order (ids begin with the day the case was opened). ``overdue`` compares
# with the case's stored due day, which only an open case keeps.
CASES = f"""
MATCH (k:Case)-[:CASE_OF]->(s:Subject)
WHERE k.id > $after AND ($code IS NULL OR k.creditCode = $code)
  AND ($status IS NULL OR k.status = $status)
  AND ($overdue IS NULL OR coalesce(k.open AND k.dueOn < $today, false) = $overdue)
  AND {CASE_RULE}
WITH k, s ORDER BY k.id LIMIT $limit
{_BODY}
ORDER BY c.id
"""
# Whether a case is in a unit's jurisdiction (where it may add documents).
_WITHIN = """
MATCH (c:Case {id: $id})-[:CASE_OF]->(s:Subject) WHERE s.division STARTS WITH $prefix
RETURN c.creditCode AS code
"""
# A document's file, when the caller may read its case.
FILE = f"""
MATCH (d:CaseDocument {{id: $document, case: $id}})-[:IN_CASE]->(k:Case)-[:CASE_OF]->(s:Subject)
WHERE {CASE_RULE}
MATCH (d)-[a:ATTACHES]->(e:Evidence)
RETURN e.id AS sha256, e.type AS type, a.name AS name, k.creditCode AS subject
"""


@dataclass(frozen=True, slots=True)
class CaseFilter:
    code: str | None = None
    status: str | None = None  # OPEN or CLOSED
    overdue: bool | None = None  # open past its due day (True), or not (False)


async def case_by_id(store: Store, case_id: str, scope: dict[str, Any]) -> dict[str, Any] | None:
    """``scope`` is :meth:`policies.access.ReadScope.params` of the caller."""
    rows = await store.read(CASE, id=case_id, cap=NESTED_CAP, **scope)
    return _row(rows[0]) if rows else None


async def list_cases(
    store: Store, flt: CaseFilter, scope: dict[str, Any], today: date, after: str, limit: int
) -> list[dict[str, Any]]:
    rows = await store.read(
        CASES, code=flt.code, status=flt.status, overdue=flt.overdue, today=today, after=after,
        limit=limit, cap=NESTED_CAP, **scope,
    )  # fmt: skip
    return [_row(r) for r in rows]


async def document_file(
    store: Store, case_id: str, document: str, scope: dict[str, Any]
) -> dict[str, Any] | None:
    """The stored file of a case's document (sha256, type, name, the case's subject), or None
    when there is none or the caller may not read the case."""
    rows = await store.read(FILE, id=case_id, document=document, **scope)
    return dict(rows[0]) if rows else None


async def case_subject(store: Store, case_id: str, prefix: str) -> str | None:
    """The credit code of the case's subject when it is within ``prefix`` (a unit's
    jurisdiction), else None."""
    rows = await store.read(_WITHIN, id=case_id, prefix=prefix)
    return str(rows[0]["code"]) if rows else None


def _row(record: Any) -> dict[str, Any]:
    return {
        **record["case"],
        "closedBy": record["closedBy"],
        "reasons": record["reasons"],
        "documents": record["documents"],
        "records": record["records"],
    }
