"""Reading subjects: one indexed lookup by credit code, and keyset-paged listing.

Every query anchors on the ``Subject.creditCode`` uniqueness index; the caller's read scope
(policies/access.py: classes readable anywhere, within the jurisdiction prefix, or on rows its
own unit owns; pending rows) is compiled into the ``WHERE`` of the anchor and of every nested
list, so rows the caller may not see never leave Neo4j. Fields above PUBLIC are projected only
when the subject row allows them (``readable``), so a withheld ID number is never sent either.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from graph.db import Store
from graph.rights.objected import LISTING_FLAG, RECORD_FLAG
from policies.access import cypher_classes, cypher_pending, cypher_readable

NESTED_CAP = 100


def visible(row: str, owner: str) -> str:
    """The read rule (policies/access.py) for a row of the subject ``s``."""
    return cypher_readable(row, "s.division", owner)


_PUBLISHED_OR_PENDING_IN_SCOPE = (
    "((r.status = 'PUBLISHED' AND (r.publishUntil IS NULL OR r.publishUntil >= date()))"
    " OR (r.status IN ['PENDING', 'RETURNED']"
    f" AND {cypher_pending('s.division', 'r.sourceAgency')}))"
)

# The classes the caller may read on this subject row: decides fields above PUBLIC.
_READABLE = f"{cypher_classes('s.division', 's.sourceAgency')} AS readable"

# A record with its earlier versions (each by its own class) and the correction or withdrawal
# proposed for it, which follows the pending rule like an unreviewed record.
RECORD_FIELDS = f"""r {{.id, .item, .category, .tier, .title, .document, .legalBasis, .status,
      .disclosure, .sourceAgency, version: coalesce(r.version, 1),
      decidedOn: toString(r.decidedOn), publishedOn: toString(r.publishedOn),
      publishFrom: toString(r.publishFrom), publishUntil: toString(r.publishUntil),
      withdrawnOn: toString(r.withdrawnOn), underObjection: {RECORD_FLAG},
      versions: COLLECT {{
        MATCH (r)-[:VERSION]->(v:RecordVersion) WHERE {visible("v", "v.sourceAgency")}
        RETURN v {{.id, .version, .item, .tier, .title, .document, .legalBasis, .disclosure,
                  .changeReason, decidedOn: toString(v.decidedOn),
                  publishUntil: toString(v.publishUntil), replacedAt: toString(v.replacedAt)}}
        ORDER BY v.version DESC
      }},
      change: COLLECT {{
        MATCH (c:RecordChange)-[:CHANGES]->(r)
        WHERE c.status IN ['PENDING', 'RETURNED']
          AND {cypher_pending("s.division", "c.sourceAgency")} AND {visible("c", "c.sourceAgency")}
        RETURN c {{.id, .kind, .status, .reason, .tier, .title, .document, .legalBasis,
                  .disclosure, .returnReason, decidedOn: toString(c.decidedOn),
                  approvals: size(c.approvals), submittedAt: toString(c.submittedAt)}}
      }}[0]}}"""


def _rating(stored: str) -> str:
    """The subject's newest rating: its grade fields (GRADE_FIELDS), and ``stored`` ones."""
    return f"""rating: COLLECT {{
    MATCH (rt:Rating)-[:RATED]->(s)
    RETURN rt {{.id, .grade, .score, .modelVersion, .uncappedGrade, .caps,
               computedAt: toString(rt.computedAt){", " if stored else ""}{stored}}}
    ORDER BY rt.computedAt DESC LIMIT 1
  }}[0]"""


# Nested parts of a subject, each a fixed fragment; a lookup asks only for the parts the caller
# selected, so a bare name lookup does not walk records, licences and projects.
PARTS: dict[str, str] = {
    "legalRepresentative": """legalRepresentative: COLLECT {
    MATCH (p:Person)-[r:LEGAL_REPRESENTATIVE_OF]->(s) WHERE r.until IS NULL
    RETURN p {.name, since: toString(r.since),
              idMasked: CASE WHEN 'SHARED' IN readable THEN p.idMasked END,
              idNumber: CASE WHEN 'CONFIDENTIAL' IN readable THEN p.idNumber END}
    ORDER BY r.since DESC LIMIT 1
  }[0]""",
    "rating": _rating(".measures, .contributions, .consequences, .history"),
    "records": f"""records: COLLECT {{
    MATCH (s)-[:HAS_RECORD]->(r:CreditRecord)
    WHERE {_PUBLISHED_OR_PENDING_IN_SCOPE} AND {visible("r", "r.sourceAgency")}
    RETURN {RECORD_FIELDS}
    ORDER BY r.decidedOn DESC LIMIT $cap
  }}""",
    "restrictions": f"""restrictions: COLLECT {{
    MATCH (x:Restriction)-[:RESTRICTS]->(s)
    WHERE x.status = 'ACTIVE' AND (x.endDate IS NULL OR x.endDate >= date())
      AND {visible("x", "x.authority")}
    RETURN x {{.id, .code, .name, .authority, since: toString(x.startDate),
              until: toString(x.endDate),
              basedOn: COLLECT {{ MATCH (x)-[:BASED_ON]->(r:CreditRecord) RETURN r.id }}}}
    ORDER BY x.endDate DESC LIMIT $cap
  }}""",
    "sanctions": f"""sanctions: COLLECT {{
    MATCH (x:Sanction)-[:SANCTIONED]->(s) WHERE {visible("x", "x.authority")}
    RETURN x {{.id, .listing, .measures, .status, .authority, underObjection: {LISTING_FLAG},
              startDate: toString(x.startDate), endDate: toString(x.endDate)}}
    ORDER BY x.startDate DESC LIMIT $cap
  }}""",
    "licences": f"""licences: COLLECT {{
    MATCH (s)-[:HOLDS]->(l:Licence) WHERE {visible("l", "l.sourceAgency")}
    RETURN l {{.id, .kind, .number, issuedOn: toString(l.issuedOn),
              validUntil: toString(l.validUntil)}}
    ORDER BY l.issuedOn DESC LIMIT $cap
  }}""",
    "projects": f"""projects: COLLECT {{
    MATCH (s)-[pi:PARTICIPATES_IN]->(p:Project) WHERE {visible("p", "p.sourceAgency")}
    RETURN p {{.id, .name, .kind, .division, startedOn: toString(p.startedOn), role: pi.role}}
    ORDER BY p.startedOn DESC LIMIT $cap
  }}""",
    "contacts": """contacts: CASE WHEN $contacts IN readable THEN {
    phones: COLLECT { MATCH (s)-[:HAS_PHONE]->(c:Phone) RETURN c.number ORDER BY c.number },
    addresses: COLLECT { MATCH (s)-[:HAS_ADDRESS]->(c:Address) RETURN c.text ORDER BY c.text },
    emails: COLLECT { MATCH (s)-[:HAS_EMAIL]->(c:Email) RETURN c.address ORDER BY c.address }
  } END""",
}
ALL_PARTS = frozenset(PARTS)

# With "rating" in the parts, the rating without its stored JSON (the breakdown, consequences
# and history: about 1,450 of a subject's characters on the bench graph, most of what a
# screening's answer would carry from Neo4j): for a query that selects only GRADE_FIELDS.
GRADE_ONLY = "rating:grade"
GRADE_FIELDS = frozenset({"grade", "score", "modelVersion", "computedAt", "uncappedGrade", "caps"})
_GRADE_ONLY = _rating("")

# Temporal values leave Neo4j as ISO strings: hydrating the driver's Date/DateTime objects cost
# about half a millisecond of Python per lookup (profiled), parsing the strings almost nothing.
_SUBJECT_FIELDS = """.creditCode, .name, .kind, .division, .status, .disclosure, .grade, .score,
  .sourceAgency, registeredOn: toString(s.registeredOn), readable: readable"""


def _projection(parts: frozenset[str]) -> str:
    """The read rule on an anchored subject ``s`` and its projection with the chosen parts."""
    nested = "".join(
        f",\n  {_GRADE_ONLY if name == 'rating' and GRADE_ONLY in parts else PARTS[name]}"
        for name in PARTS
        if name in parts
    )
    return (
        f"WHERE {visible('s', 's.sourceAgency')}\n"
        f"WITH s, {_READABLE}\n"
        f"RETURN s {{\n  {_SUBJECT_FIELDS}{nested}\n}} AS subject"
    )


@cache
def subject_query(parts: frozenset[str] = ALL_PARTS) -> str:
    """The lookup for a choice of nested parts, anchored on the credit-code uniqueness index."""
    return f"MATCH (s:Subject {{creditCode: $code}}) {_projection(parts)}"


@cache
def subjects_query(parts: frozenset[str] = ALL_PARTS) -> str:
    """The same lookup for a list of codes in one round trip: one index seek per code, the same
    read rule and parts; a code unknown or not visible adds nothing. One record holds them all:
    the driver's cost is mostly per record."""
    return (
        "CALL () {\nUNWIND $codes AS code\n"
        f"MATCH (s:Subject {{creditCode: code}}) {_projection(parts)}\n}}\n"
        "RETURN collect(subject) AS subjects"
    )


SUBJECT_BY_CODE = subject_query()

_LIST_FIELDS = "s {.creditCode, .name, .kind, .division, .status, .grade, .score} AS subject"
_LIST_FILTERS = f"""s.creditCode > $after AND {visible("s", "s.sourceAgency")}
  AND ($division IS NULL OR s.division STARTS WITH $division)
  AND ($kind IS NULL OR s.kind = $kind)
  AND ($grade IS NULL OR s.grade = $grade)"""

# Keyset pages ordered by the unique credit code: the index gives the order, the cursor the start.
LIST_SUBJECTS = f"""
MATCH (s:Subject)
WHERE {_LIST_FILTERS}
RETURN {_LIST_FIELDS}
ORDER BY s.creditCode
LIMIT $limit
"""

# A name filter is selective: let the TEXT index find candidates, then order them.
LIST_SUBJECTS_BY_NAME = f"""
MATCH (s:Subject)
WHERE s.name CONTAINS $name AND {_LIST_FILTERS}
RETURN {_LIST_FIELDS}
ORDER BY s.creditCode
LIMIT $limit
"""


# One record by id, whatever its status (history included: withdrawn, expired, repaired), by
# the read rule; an unreviewed one also by the pending rule.
RECORD_BY_ID = f"""
MATCH (s:Subject)-[:HAS_RECORD]->(r:CreditRecord {{id: $id}})
WHERE {visible("r", "r.sourceAgency")}
  AND (NOT r.status IN ['PENDING', 'RETURNED'] OR {cypher_pending("s.division", "r.sourceAgency")})
RETURN {RECORD_FIELDS} AS record, s.creditCode AS subject
"""


async def record_by_id(
    store: Store, record: str, scope: dict[str, Any]
) -> tuple[dict[str, Any], str] | None:
    """``scope`` is :meth:`policies.access.ReadScope.params` of the caller."""
    found = await store.read(RECORD_BY_ID, id=record, **scope)
    return (dict(found[0]["record"]), found[0]["subject"]) if found else None


@dataclass(frozen=True, slots=True)
class SubjectFilter:
    name: str | None = None
    division_prefix: str | None = None
    kind: str | None = None
    grade: str | None = None


async def subject_by_code(
    store: Store,
    code: str,
    scope: dict[str, Any],
    parts: frozenset[str] = ALL_PARTS,
) -> dict[str, Any] | None:
    """``scope`` is :meth:`policies.access.ReadScope.params` of the caller."""
    records = await store.read(subject_query(parts), code=code, cap=NESTED_CAP, **scope)
    return dict(records[0]["subject"]) if records else None


async def subjects_by_codes(
    store: Store,
    codes: list[str],
    scope: dict[str, Any],
    parts: frozenset[str] = ALL_PARTS,
) -> dict[str, dict[str, Any]]:
    """The subjects of ``codes`` the caller may see, by credit code (each read once)."""
    distinct = list(dict.fromkeys(codes))
    records = await store.read(subjects_query(parts), codes=distinct, cap=NESTED_CAP, **scope)
    return {subject["creditCode"]: dict(subject) for subject in records[0]["subjects"]}


async def list_subjects(
    store: Store,
    flt: SubjectFilter,
    scope: dict[str, Any],
    after: str,
    limit: int,
) -> list[dict[str, Any]]:
    records = await store.read(
        LIST_SUBJECTS_BY_NAME if flt.name else LIST_SUBJECTS,
        name=flt.name,
        division=flt.division_prefix,
        kind=flt.kind,
        grade=flt.grade,
        after=after,
        limit=limit,
        **scope,
    )
    return [dict(r["subject"]) for r in records]
