"""Reading subjects: one indexed lookup by credit code, and keyset-paged listing.

Every query anchors on the ``Subject.creditCode`` uniqueness index and filters rows by the
caller's visible disclosure classes inside Cypher, so rows the caller may not see never leave
Neo4j. Nested lists are capped; field projections are explicit (a person's full ID number is
never projected here).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from neo4j import AsyncDriver

from .db import read

NESTED_CAP = 100

# Nested parts of a subject, each a fixed fragment; a lookup asks only for the parts the caller
# selected, so a bare name lookup does not walk records, licences and projects.
PARTS: dict[str, str] = {
    "legalRepresentative": """legalRepresentative: COLLECT {
    MATCH (p:Person)-[r:LEGAL_REPRESENTATIVE_OF]->(s) WHERE r.until IS NULL
    RETURN p {.personId, .name, .idMasked, since: toString(r.since)} ORDER BY r.since DESC LIMIT 1
  }[0]""",
    "rating": """rating: COLLECT {
    MATCH (rt:Rating)-[:RATED]->(s)
    RETURN rt {.id, .grade, .score, .modelVersion, .measures, computedAt: toString(rt.computedAt)}
    ORDER BY rt.computedAt DESC LIMIT 1
  }[0]""",
    "records": """records: COLLECT {
    MATCH (s)-[:HAS_RECORD]->(r:CreditRecord)
    WHERE r.status = 'PUBLISHED' AND r.disclosure IN $classes
    RETURN r {.id, .item, .category, .tier, .title, .document, .legalBasis, .status,
              .disclosure, .sourceAgency, decidedOn: toString(r.decidedOn),
              publishFrom: toString(r.publishFrom), publishUntil: toString(r.publishUntil)}
    ORDER BY r.decidedOn DESC LIMIT $cap
  }""",
    "sanctions": """sanctions: COLLECT {
    MATCH (x:Sanction)-[:SANCTIONED]->(s) WHERE x.disclosure IN $classes
    RETURN x {.id, .listing, .measures, .status, .authority,
              startDate: toString(x.startDate), endDate: toString(x.endDate)}
    ORDER BY x.startDate DESC LIMIT $cap
  }""",
    "licences": """licences: COLLECT {
    MATCH (s)-[:HOLDS]->(l:Licence) WHERE l.disclosure IN $classes
    RETURN l {.id, .kind, .number, issuedOn: toString(l.issuedOn),
              validUntil: toString(l.validUntil)}
    ORDER BY l.issuedOn DESC LIMIT $cap
  }""",
    "projects": """projects: COLLECT {
    MATCH (s)-[pi:PARTICIPATES_IN]->(p:Project) WHERE p.disclosure IN $classes
    RETURN p {.id, .name, .kind, .division, startedOn: toString(p.startedOn), role: pi.role}
    ORDER BY p.startedOn DESC LIMIT $cap
  }""",
}
ALL_PARTS = frozenset(PARTS)

# Temporal values leave Neo4j as ISO strings: hydrating the driver's Date/DateTime objects cost
# about half a millisecond of Python per lookup (profiled), parsing the strings almost nothing.
_SUBJECT_FIELDS = """.creditCode, .name, .kind, .division, .status, .disclosure, .grade, .score,
  registeredOn: toString(s.registeredOn)"""


@cache
def subject_query(parts: frozenset[str] = ALL_PARTS) -> str:
    """The lookup for a choice of nested parts, anchored on the credit-code uniqueness index."""
    nested = "".join(f",\n  {PARTS[name]}" for name in PARTS if name in parts)
    return (
        "MATCH (s:Subject {creditCode: $code}) WHERE s.disclosure IN $classes\n"
        f"RETURN s {{\n  {_SUBJECT_FIELDS}{nested}\n}} AS subject"
    )


SUBJECT_BY_CODE = subject_query()

_LIST_FIELDS = "s {.creditCode, .name, .kind, .division, .status, .grade, .score} AS subject"

# Keyset pages ordered by the unique credit code: the index gives the order, the cursor the start.
LIST_SUBJECTS = f"""
MATCH (s:Subject)
WHERE s.creditCode > $after AND s.disclosure IN $classes
  AND ($division IS NULL OR s.division STARTS WITH $division)
  AND ($kind IS NULL OR s.kind = $kind)
  AND ($grade IS NULL OR s.grade = $grade)
RETURN {_LIST_FIELDS}
ORDER BY s.creditCode
LIMIT $limit
"""

# A name filter is selective: let the TEXT index find candidates, then order them.
LIST_SUBJECTS_BY_NAME = f"""
MATCH (s:Subject)
WHERE s.name CONTAINS $name
  AND s.creditCode > $after AND s.disclosure IN $classes
  AND ($division IS NULL OR s.division STARTS WITH $division)
  AND ($kind IS NULL OR s.kind = $kind)
  AND ($grade IS NULL OR s.grade = $grade)
RETURN {_LIST_FIELDS}
ORDER BY s.creditCode
LIMIT $limit
"""


@dataclass(frozen=True, slots=True)
class SubjectFilter:
    name: str | None = None
    division_prefix: str | None = None
    kind: str | None = None
    grade: str | None = None


async def subject_by_code(
    driver: AsyncDriver,
    database: str,
    code: str,
    classes: list[str],
    time_limit: float,
    parts: frozenset[str] = ALL_PARTS,
) -> dict[str, Any] | None:
    records = await read(
        driver,
        database,
        subject_query(parts),
        time_limit,
        code=code,
        classes=classes,
        cap=NESTED_CAP,
    )
    return dict(records[0]["subject"]) if records else None


async def list_subjects(
    driver: AsyncDriver,
    database: str,
    flt: SubjectFilter,
    classes: list[str],
    after: str,
    limit: int,
    time_limit: float,
) -> list[dict[str, Any]]:
    records = await read(
        driver,
        database,
        LIST_SUBJECTS_BY_NAME if flt.name else LIST_SUBJECTS,
        time_limit,
        name=flt.name,
        division=flt.division_prefix,
        kind=flt.kind,
        grade=flt.grade,
        classes=classes,
        after=after,
        limit=limit,
    )
    return [dict(r["subject"]) for r in records]
