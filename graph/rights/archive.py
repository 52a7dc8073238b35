"""A subject's own archive: every record about it (each class, each status, with its versions),
its sanctions active and ended, its listing cases with their steps, and its rating.

One query, anchored on the credit-code uniqueness index with the code the caller speaks for
(``Principal.own_code()``), never on a code from an argument: the read scope it runs with
(``policies.access.own_archive_scope``) reads every class, so only the anchor keeps it to one
subject.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graph.db import Store
from graph.rights.objected import LISTING_FLAG
from graph.subjects import PARTS, RECORD_FIELDS
from policies.access import own_archive_scope

CAP = 500  # rows per part; an archive larger than this shows its newest

ARCHIVE = f"""
MATCH (s:Subject {{creditCode: $code}})
RETURN s {{.creditCode, .name, .kind, .division, .status,
  records: COLLECT {{
    MATCH (s)-[:HAS_RECORD]->(r:CreditRecord)
    RETURN {RECORD_FIELDS}
    ORDER BY r.decidedOn DESC, r.id LIMIT $cap
  }},
  sanctions: COLLECT {{
    MATCH (x:Sanction)-[:SANCTIONED]->(s)
    RETURN x {{.id, .listing, .measures, .status, .authority, underObjection: {LISTING_FLAG},
              startDate: toString(x.startDate), endDate: toString(x.endDate)}}
    ORDER BY x.startDate DESC, x.id LIMIT $cap
  }},
  cases: COLLECT {{
    MATCH (c:ListingCase)-[:CONCERNS]->(s)
    RETURN {{case: properties(c), steps: COLLECT {{
      MATCH (c)-[:STEP]->(x:CaseStep) RETURN properties(x) AS x ORDER BY x.seq
    }}}}
    ORDER BY c.createdAt DESC, c.id LIMIT $cap
  }},
  {PARTS["rating"]}
}} AS archive
"""


@dataclass(frozen=True, slots=True)
class Archive:
    credit_code: str
    name: str
    kind: str
    division: str
    status: str
    records: list[dict[str, Any]]  # graph.subjects.RECORD_FIELDS rows, newest decision first
    sanctions: list[dict[str, Any]]
    cases: list[tuple[dict[str, Any], list[dict[str, Any]]]]  # (case, its steps in order)
    rating: dict[str, Any] | None


async def own_archive(store: Store, code: str) -> Archive | None:
    """The archive of the subject ``code``; None when the hub holds nothing about it.

    ``code`` must be the caller's own (``Principal.own_code()``): this read is not filtered by
    class."""
    found = await store.read(ARCHIVE, code=code, cap=CAP, **own_archive_scope().params())
    if not found:
        return None
    a = found[0]["archive"]
    return Archive(
        credit_code=a["creditCode"],
        name=a["name"],
        kind=a["kind"],
        division=a["division"],
        status=a["status"],
        records=[dict(r) for r in a["records"]],
        sanctions=[dict(x) for x in a["sanctions"]],
        cases=[(dict(c["case"]), [dict(x) for x in c["steps"]]) for c in a["cases"]],
        rating=dict(a["rating"]) if a.get("rating") else None,
    )
