"""What the public portal reads: the lists it discloses, the latest 双公示 records, the honour
roll and name search, each through the one read rule at the public's scope.

The caller passes :meth:`policies.access.ReadScope.params` of the public principal, so a row
above PUBLIC never leaves Neo4j here either. Lists are keyset-paged: the newest decision first,
the sanction id breaking ties; the honour roll by credit code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graph.db import Store
from graph.search import search_names
from policies.access import cypher_readable

# A sanction in force: active and not past its end; a repaired or expired one is gone at once.
_IN_FORCE = "x.status = 'ACTIVE' AND (x.endDate IS NULL OR x.endDate >= date())"

LISTED = f"""
MATCH (x:Sanction {{listing: $listing}})-[:SANCTIONED]->(s:Subject)
WHERE {_IN_FORCE}
  AND {cypher_readable("x", None, "x.authority")}
  AND {cypher_readable("s", "s.division", "s.sourceAgency")}
  AND ($division IS NULL OR s.division STARTS WITH $division)
  AND ($afterDate IS NULL OR x.startDate < date($afterDate)
       OR (x.startDate = date($afterDate) AND x.id > $afterId))
RETURN x.id AS id, s.creditCode AS creditCode, s.name AS name, s.division AS division,
  x.listing AS listing, x.authority AS authority, x.measures AS measures,
  toString(x.startDate) AS decidedOn, toString(x.endDate) AS until
ORDER BY x.startDate DESC, x.id
LIMIT $limit
"""

# 双公示: published licences and penalties of the items under the working-day rule, newest
# publication first, while their publication period runs.
PUBLICITY = f"""
MATCH (s:Subject)-[:HAS_RECORD]->(r:CreditRecord)
WHERE r.item IN $items AND r.status = 'PUBLISHED'
  AND (r.publishUntil IS NULL OR r.publishUntil >= date())
  AND {cypher_readable("r", "s.division", "r.sourceAgency")}
  AND {cypher_readable("s", "s.division", "s.sourceAgency")}
RETURN r.id AS id, s.creditCode AS creditCode, s.name AS name, r.item AS item,
  r.category AS category, r.title AS title, r.document AS document,
  r.sourceAgency AS authority, toString(r.decidedOn) AS decidedOn,
  toString(r.publishedOn) AS publishedOn, toString(r.publishUntil) AS until
ORDER BY r.publishedOn DESC, r.id
LIMIT $limit
"""

HONOURED = f"""
MATCH (s:Subject)
WHERE s.grade IN $grades AND s.creditCode > $after
  AND {cypher_readable("s", "s.division", "s.sourceAgency")}
  AND ($division IS NULL OR s.division STARTS WITH $division)
RETURN s.creditCode AS creditCode, s.name AS name, s.division AS division, s.grade AS grade,
  COLLECT {{ MATCH (rt:Rating)-[:RATED]->(s) RETURN toString(rt.computedAt)
             ORDER BY rt.computedAt DESC LIMIT 1 }}[0] AS ratedAt
ORDER BY s.creditCode
LIMIT $limit
"""


@dataclass(frozen=True, slots=True)
class ListingCursor:
    """Where a page of a list starts: after this decision date and sanction id."""

    decided_on: str
    sanction: str


async def listed(
    store: Store,
    scope: dict[str, Any],
    listing: str,
    *,
    division: str | None,
    after: ListingCursor | None,
    limit: int,
) -> list[dict[str, Any]]:
    """The subjects on one list (``SERIOUS_DISHONESTY``, ``ABNORMAL_OPERATION``, ...), in force."""
    rows = await store.read(
        LISTED,
        listing=listing,
        division=division,
        afterDate=after.decided_on if after else None,
        afterId=after.sanction if after else "",
        limit=limit,
        **scope,
    )
    return [dict(r) for r in rows]


async def latest_publicity(
    store: Store, scope: dict[str, Any], items: list[str], limit: int
) -> list[dict[str, Any]]:
    """The newest published records of the 双公示 items."""
    rows = await store.read(PUBLICITY, items=items, limit=limit, **scope)
    return [dict(r) for r in rows]


async def honoured(
    store: Store,
    scope: dict[str, Any],
    grades: list[str],
    *,
    division: str | None,
    after: str,
    limit: int,
) -> list[dict[str, Any]]:
    """Subjects of the given (A) grades, by credit code."""
    rows = await store.read(
        HONOURED, grades=grades, division=division, after=after, limit=limit, **scope
    )
    return [dict(r) for r in rows]


async def find_by_name(
    store: Store, scope: dict[str, Any], text: str, limit: int
) -> list[dict[str, Any]]:
    """Subjects (never people) whose name matches Chinese text, pinyin or initials, best first."""
    _, hits = await search_names(store, text, subjects=True, people=False, limit=limit, scope=scope)
    return hits
