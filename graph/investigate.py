"""Investigators' traversals: exposure to sanctioned subjects, shared-identifier rings, and the
upstream holding graph that controllers are computed from.

Every query takes the caller's read scope (policies/access.py) and keeps subjects the caller
may not read off the paths it returns. Value nodes (phones, addresses, e-mails) shared by more
than the exposure rules' ``hub_degree`` are hubs: reported, never crossed. Depth bounds are
validated integers put into fixed query templates; nothing from the caller is spliced in.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from functools import cache
from typing import Any

from neo4j import AsyncDriver

from policies.exposure import ExposureRules

from .db import read

LINKS = (
    "LEGAL_REPRESENTATIVE_OF|CONTROLS|SHAREHOLDER_OF|SUCCEEDED_BY|BRANCH_OF|OFFICER_OF"
    "|HAS_PHONE|HAS_EMAIL|HAS_ADDRESS"
)
VALUE_LABELS = ("Phone", "Address", "Email")


def node_visible(n: str) -> str:
    """A subject on a path is shown only when the caller may read it; other nodes pass."""
    return (
        f"(NOT {n}:Subject OR {n}.disclosure IN $anywhere"
        f" OR ({n}.disclosure IN $local AND {n}.division STARTS WITH $prefix)"
        f" OR ({n}.disclosure IN $owned AND {n}.sourceAgency = $agency))"
    )


_NOT_HUB = "(NOT (n:Phone OR n:Address OR n:Email) OR COUNT { (n)--() } <= $hubDegree)"
_IN_FORCE = "(r.until IS NULL OR r.until >= $today)"
_ACTIVE_LISTING = """(sn:Sanction)-[:SANCTIONED]->(x)
WHERE sn.listing IN $listings AND sn.status = 'ACTIVE'
  AND (sn.endDate IS NULL OR sn.endDate >= $today)"""
# A node on a path, as the caller may see it.
_NODE = """CASE
  WHEN n:Subject THEN {kind: 'Subject', key: n.creditCode, name: n.name,
                        registeredOn: toString(n.registeredOn)}
  WHEN n:Person THEN {kind: 'Person', key: n.personId, name: n.name}
  WHEN n:Phone THEN {kind: 'Phone', key: n.number, name: n.number}
  WHEN n:Address THEN {kind: 'Address', key: n.text, name: n.text}
  ELSE {kind: 'Email', key: n.address, name: n.address}
END"""


@cache
def exposure_query(depth: int) -> str:
    """Paths from the subject to actively listed subjects, at most ``depth`` links long."""
    if not 1 <= depth <= 4:
        raise ValueError("depth is 1-4")
    return f"""
MATCH (t:Subject {{creditCode: $code}}) WHERE {node_visible("t")}
MATCH path = (t)-[:{LINKS}*1..{depth}]-(x:Subject)
WHERE x <> t
  AND all(n IN nodes(path) WHERE {_NOT_HUB} AND {node_visible("n")})
  AND all(r IN relationships(path) WHERE {_IN_FORCE})
MATCH {_ACTIVE_LISTING}
WITH path, x, sn LIMIT $limit
RETURN x.creditCode AS code, x.name AS name,
  sn {{.id, .listing, startDate: toString(sn.startDate), endDate: toString(sn.endDate)}} AS listing,
  [n IN nodes(path) | {_NODE}] AS nodes,
  [r IN relationships(path) | {{type: type(r), since: toString(r.since),
                                from: CASE WHEN startNode(r):Subject THEN startNode(r).creditCode
                                           WHEN startNode(r):Person THEN startNode(r).personId
                                      END}}] AS rels
"""


@cache
def exposed_in_division_query(depth: int) -> str:
    """From every active listing outward: subjects of a division and their paths to it."""
    if not 1 <= depth <= 4:
        raise ValueError("depth is 1-4")
    return f"""
MATCH {_ACTIVE_LISTING} AND {node_visible("x")}
MATCH path = (x)-[:{LINKS}*1..{depth}]-(t:Subject)
WHERE t <> x AND t.division STARTS WITH $division
  AND all(n IN nodes(path) WHERE {_NOT_HUB} AND {node_visible("n")})
  AND all(r IN relationships(path) WHERE {_IN_FORCE})
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
class Exposure:
    code: str
    name: str
    listing: str
    listing_id: str
    listed_since: str | None
    score: float
    paths: tuple[ExposurePath, ...]  # strongest first
    phoenix: bool
    phoenix_reason: str | None


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
    driver: AsyncDriver,
    database: str,
    code: str,
    depth: int,
    rules: ExposureRules,
    scope: dict[str, Any],
    time_limit: float,
    today: date,
    limit: int = 2000,
) -> list[Exposure]:
    """Listed subjects linked to ``code``, most exposed first, each explained by its paths."""
    records = await read(
        driver,
        database,
        exposure_query(depth),
        time_limit,
        code=code,
        listings=list(rules.listings),
        hubDegree=rules.hub_degree,
        today=today,
        limit=limit,
        **scope,
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
            Exposure(
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
    driver: AsyncDriver,
    database: str,
    division_prefix: str,
    depth: int,
    rules: ExposureRules,
    scope: dict[str, Any],
    time_limit: float,
    today: date,
    first: int,
) -> list[Exposed]:
    records = await read(
        driver,
        database,
        exposed_in_division_query(depth),
        time_limit,
        division=division_prefix,
        listings=list(rules.listings),
        hubDegree=rules.hub_degree,
        today=today,
        limit=50_000,
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


# --- rings ------------------------------------------------------------------------------------

SHARED_VALUES = f"""
MATCH (v) WHERE (v:Phone OR v:Address OR v:Email)
WITH v, COUNT {{ (v)--() }} AS degree WHERE degree >= 2 AND degree <= $hubDegree
MATCH (s:Subject)-[:HAS_PHONE|HAS_ADDRESS|HAS_EMAIL]->(v)
WHERE s.division STARTS WITH $division AND {node_visible("s")}
WITH v, collect(s.creditCode) AS members WHERE size(members) >= 2
RETURN labels(v)[0] AS kind, coalesce(v.number, v.text, v.address) AS value, members
"""


@dataclass(frozen=True, slots=True)
class SharedValue:
    kind: str
    value: str
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Ring:
    members: tuple[str, ...]
    ties: tuple[SharedValue, ...]


def components(shared: list[SharedValue]) -> list[Ring]:
    """Connected components of subjects joined by shared values (union-find)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for value in shared:
        first = find(value.members[0])
        for other in value.members[1:]:
            parent[find(other)] = first
    groups: dict[str, set[str]] = defaultdict(set)
    ties: dict[str, list[SharedValue]] = defaultdict(list)
    for member in parent:
        groups[find(member)].add(member)
    for value in shared:
        ties[find(value.members[0])].append(value)
    rings = [
        Ring(
            tuple(sorted(groups[root])), tuple(sorted(ties[root], key=lambda v: (v.kind, v.value)))
        )
        for root in groups
    ]
    return sorted(rings, key=lambda r: (-len(r.members), r.members))


async def rings(
    driver: AsyncDriver,
    database: str,
    division_prefix: str,
    rules: ExposureRules,
    scope: dict[str, Any],
    time_limit: float,
) -> list[Ring]:
    records = await read(
        driver,
        database,
        SHARED_VALUES,
        time_limit,
        division=division_prefix,
        hubDegree=rules.hub_degree,
        **scope,
    )
    shared = [SharedValue(r["kind"], r["value"], tuple(sorted(r["members"]))) for r in records]
    return components(shared)


# --- controllers ------------------------------------------------------------------------------

UPSTREAM = f"""
MATCH (t:Subject {{creditCode: $code}}) WHERE {node_visible("t")}
OPTIONAL MATCH path = (h)-[:SHAREHOLDER_OF|CONTROLS*1..8]->(t)
WHERE all(r IN relationships(path) WHERE {_IN_FORCE} AND (type(r) = 'SHAREHOLDER_OF'
                                                          OR NOT coalesce(r.derived, false)))
  AND all(n IN nodes(path) WHERE {node_visible("n")})
UNWIND CASE WHEN path IS NULL THEN [null] ELSE relationships(path) END AS r
WITH DISTINCT r WHERE r IS NOT NULL
WITH r, startNode(r) AS h, endNode(r) AS c
RETURN CASE WHEN h:Person THEN h.personId ELSE h.creditCode END AS holder,
       CASE WHEN h:Person THEN h.name ELSE h.name END AS holderName,
       h:Person OR (h:Subject AND h.creditCode STARTS WITH '11') AS terminal,
       c.creditCode AS company, c.name AS companyName, type(r) AS type, r.share AS share
"""


@dataclass(frozen=True, slots=True)
class Edge:
    holder: str
    holder_name: str
    terminal: bool  # a natural person or a state body (机关, code 11…): nobody holds it
    company: str
    company_name: str
    kind: str
    share: Fraction | None


def _fraction(share: float | None) -> Fraction | None:
    """Shares are stored as decimals (0.3); as fractions they keep their exact decimal value."""
    return None if share is None else Fraction(str(share)).limit_denominator(1_000_000)


async def upstream(
    driver: AsyncDriver,
    database: str,
    code: str,
    scope: dict[str, Any],
    time_limit: float,
    today: date,
) -> list[Edge]:
    """Every holding and control edge above ``code`` (8 links at most), cycles included."""
    records = await read(driver, database, UPSTREAM, time_limit, code=code, today=today, **scope)
    return [
        Edge(
            r["holder"],
            r["holderName"],
            r["terminal"],
            r["company"],
            r["companyName"],
            r["type"],
            _fraction(r["share"]),
        )
        for r in records
    ]
