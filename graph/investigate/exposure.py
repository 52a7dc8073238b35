"""Exposure: the actively listed subjects a subject is linked to, and how strongly.

The exposure rules weigh each path by its links; a tie that looks like a phoenix (someone of the
listed subject joining or founding this one after the listing) is flagged.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from graph.db import Store
from graph.investigate.patterns import (
    ACTIVE_LISTING,
    LINKS,
    ON_PATH,
    PATH_NODE,
    checked_depth,
    node_visible,
)
from policies.credit.exposure import ExposureRules


@cache
def exposure_query(depth: int) -> str:
    """Paths from the subject to actively listed subjects, at most ``depth`` links long."""
    return f"""
MATCH (t:Subject {{creditCode: $code}}) WHERE {node_visible("t")}
MATCH path = (t)-[:{LINKS}*1..{checked_depth(depth)}]-(x:Subject)
WHERE x <> t AND {ON_PATH}
MATCH {ACTIVE_LISTING}
WITH path, x, sn LIMIT $limit
RETURN x.creditCode AS code, x.name AS name,
  sn {{.id, .listing, startDate: toString(sn.startDate), endDate: toString(sn.endDate)}} AS listing,
  [n IN nodes(path) | {PATH_NODE}] AS nodes,
  [r IN relationships(path) | {{type: type(r), since: toString(r.since),
                                from: CASE WHEN startNode(r):Subject THEN startNode(r).creditCode
                                           WHEN startNode(r):Person THEN startNode(r).personId
                                      END}}] AS rels
"""


@cache
def exposed_in_division_query(depth: int) -> str:
    """From every active listing outward: subjects of a division and their paths to it."""
    return f"""
MATCH {ACTIVE_LISTING} AND {node_visible("x")}
MATCH path = (x)-[:{LINKS}*1..{checked_depth(depth)}]-(t:Subject)
WHERE t <> x AND t.division STARTS WITH $division AND {ON_PATH}
WITH t, x, path LIMIT $limit
RETURN t.creditCode AS target, t.name AS targetName, x.creditCode AS code,
  [r IN relationships(path) | type(r)] AS kinds
"""


@dataclass(frozen=True, slots=True)
class PathNode:
    kind: str
    key: str
    name: str


@dataclass(frozen=True, slots=True)
class ExposurePath:
    nodes: tuple[PathNode, ...]
    kinds: tuple[str, ...]
    weight: float


@dataclass(frozen=True, slots=True)
class ListedRelative:
    code: str
    name: str
    listing: str
    listing_id: str
    listed_since: str | None
    score: float
    paths: tuple[ExposurePath, ...]  # strongest first
    phoenix: bool
    phoenix_reason: str | None


def _listed(rules: ExposureRules, today: date) -> dict[str, Any]:
    """What makes a subject listed and a value node a hub today: the exposure queries' rules."""
    return {"listings": list(rules.listings), "hubDegree": rules.hub_degree, "today": today}


def _phoenix(row: dict[str, Any], start: str | None) -> str | None:
    """A person tied to the listed subject joined or founded this one after the listing
    started: the classic phoenix."""
    nodes, rels = row["nodes"], row["rels"]
    if start is None or len(nodes) != 3 or nodes[1]["kind"] != "Person":
        return None
    own_tie, target = rels[0], nodes[0]
    joined = own_tie["since"]
    founded = target.get("registeredOn")
    if joined and joined > start:
        return (
            f"{nodes[1]['name']} ({rels[1]['type']} of the listed subject) became "
            f"{own_tie['type']} on {joined}, after the listing of {start}"
        )
    if founded and founded > start:
        return f"founded on {founded}, after the listing of {start}, by {nodes[1]['name']}"
    return None


async def exposure(
    store: Store,
    code: str,
    depth: int,
    rules: ExposureRules,
    scope: dict[str, Any],
    today: date,
    limit: int = 2000,
) -> list[ListedRelative]:
    """Listed subjects linked to ``code``, most exposed first, each explained by its paths."""
    records = await store.read(
        exposure_query(depth), code=code, limit=limit, **_listed(rules, today), **scope
    )
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        grouped[record["code"]].append(dict(record))
    found = []
    for listed, rows in grouped.items():
        listing = rows[0]["listing"]
        paths = sorted(
            (
                ExposurePath(
                    tuple(PathNode(n["kind"], n["key"], n["name"]) for n in row["nodes"]),
                    tuple(r["type"] for r in row["rels"]),
                    rules.weight([r["type"] for r in row["rels"]]),
                )
                for row in rows
            ),
            key=lambda p: (-p.weight, len(p.kinds)),
        )
        reasons = [r for r in (_phoenix(row, listing["startDate"]) for row in rows) if r]
        found.append(
            ListedRelative(
                code=listed,
                name=rows[0]["name"],
                listing=listing["listing"],
                listing_id=listing["id"],
                listed_since=listing["startDate"],
                score=round(sum(p.weight for p in paths), 4),
                paths=tuple(paths[:10]),
                phoenix=bool(reasons),
                phoenix_reason=reasons[0] if reasons else None,
            )
        )
    return sorted(found, key=lambda e: (-e.score, e.code))


@dataclass(frozen=True, slots=True)
class Exposed:
    code: str
    name: str
    score: float
    listed: tuple[str, ...]  # the listed subjects it is linked to


async def most_exposed(
    store: Store,
    division_prefix: str,
    depth: int,
    rules: ExposureRules,
    scope: dict[str, Any],
    today: date,
    first: int,
) -> list[Exposed]:
    records = await store.read(
        exposed_in_division_query(depth),
        division=division_prefix,
        limit=50_000,
        **_listed(rules, today),
        **scope,
    )
    scores: dict[str, float] = defaultdict(float)
    names: dict[str, str] = {}
    listed: dict[str, set[str]] = defaultdict(set)
    for r in records:
        scores[r["target"]] += rules.weight(r["kinds"])
        names[r["target"]] = r["targetName"]
        listed[r["target"]].add(r["code"])
    ranked = sorted(scores, key=lambda c: (-scores[c], c))[:first]
    return [Exposed(c, names[c], round(scores[c], 4), tuple(sorted(listed[c]))) for c in ranked]
