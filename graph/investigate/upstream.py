"""The upstream holding graph: every holding and control edge above a subject.

graph.investigate.ownership turns these edges into beneficial owners and the ultimate controller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any

from graph.db import Store
from graph.investigate.patterns import IN_FORCE, node_visible

UPSTREAM = f"""
MATCH (t:Subject {{creditCode: $code}}) WHERE {node_visible("t")}
OPTIONAL MATCH path = (h)-[:SHAREHOLDER_OF|CONTROLS*1..8]->(t)
WHERE all(r IN relationships(path) WHERE {IN_FORCE} AND (type(r) = 'SHAREHOLDER_OF'
                                                          OR NOT coalesce(r.derived, false)))
  AND all(n IN nodes(path) WHERE {node_visible("n")})
WITH collect(path) AS paths
WITH reduce(acc = [], p IN paths | acc + [r IN relationships(p) WHERE NOT r IN acc]) AS rels
RETURN [r IN rels | {{
  holder: CASE WHEN startNode(r):Person THEN startNode(r).personId
               ELSE startNode(r).creditCode END,
  holderName: startNode(r).name,
  holderKind: CASE WHEN startNode(r):Person THEN 'Person' ELSE 'Subject' END,
  terminal: startNode(r):Person OR startNode(r).creditCode STARTS WITH '11',
  company: endNode(r).creditCode, companyName: endNode(r).name,
  type: type(r), share: r.share}}] AS edges
"""


@dataclass(frozen=True, slots=True)
class Edge:
    holder: str
    holder_name: str
    holder_kind: str  # Person or Subject
    terminal: bool  # a natural person or a state body (机关, code 11…): nobody holds it
    company: str
    company_name: str
    kind: str
    share: Fraction | None


def _fraction(share: float | None) -> Fraction | None:
    """Shares are stored as decimals (0.3); as fractions they keep their exact decimal value."""
    return None if share is None else Fraction(str(share)).limit_denominator(1_000_000)


async def upstream(
    store: Store,
    code: str,
    scope: dict[str, Any],
    today: date,
) -> list[Edge] | None:
    """Every holding and control edge above ``code`` (8 links at most), cycles included;
    ``None`` when the subject is unknown or not visible."""
    records = await store.read(UPSTREAM, code=code, today=today, **scope)
    if not records:
        return None
    return [
        Edge(
            r["holder"],
            r["holderName"],
            r["holderKind"],
            r["terminal"],
            r["company"],
            r["companyName"],
            r["type"],
            _fraction(r["share"]),
        )
        for r in records[0]["edges"]
    ]
