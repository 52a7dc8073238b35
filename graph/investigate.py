"""Investigators' traversals: exposure to sanctioned subjects, shared-identifier rings, and the
upstream holding graph that controllers are computed from.

Every query takes the caller's read scope (policies/access.py) and keeps subjects the caller
may not read off the paths it returns. Value nodes (phones, addresses, e-mails) shared by more
than the exposure rules' ``hub_degree`` are hubs: reported, never crossed. Depth bounds are
validated integers put into fixed query templates; nothing from the caller is spliced in.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from functools import cache
from typing import Any

from graph.db import Store
from policies.access import cypher_node
from policies.credit.exposure import ExposureRules

LINKS = (
    "LEGAL_REPRESENTATIVE_OF|CONTROLS|SHAREHOLDER_OF|SUCCEEDED_BY|BRANCH_OF|OFFICER_OF"
    "|HAS_PHONE|HAS_EMAIL|HAS_ADDRESS"
)
VALUE_LABELS = ("Phone", "Address", "Email")


def node_visible(n: str) -> str:
    """A node on a traversal is shown only when the caller may read it (policies/access.py)."""
    return cypher_node(n)


_NOT_HUB = "(NOT (n:Phone OR n:Address OR n:Email) OR COUNT { (n)--() } <= $hubDegree)"
_IN_FORCE = "(r.until IS NULL OR r.until >= $today)"
_ACTIVE_LISTING = f"""(sn:Sanction)-[:SANCTIONED]->(x)
WHERE sn.listing IN $listings AND sn.status = 'ACTIVE'
  AND (sn.endDate IS NULL OR sn.endDate >= $today) AND {node_visible("sn")}"""
# A node on a path, as the caller may see it.
_NODE = """CASE
  WHEN n:Subject THEN {kind: 'Subject', key: n.creditCode, name: n.name,
                        registeredOn: toString(n.registeredOn)}
  WHEN n:Person THEN {kind: 'Person', key: n.personId, name: n.name}
  WHEN n:Phone THEN {kind: 'Phone', key: n.number, name: n.number}
  WHEN n:Address THEN {kind: 'Address', key: n.text, name: n.text}
  ELSE {kind: 'Email', key: n.address, name: n.address}
END"""


# Every node and relationship of a path: no hub crossed, no hidden subject, in force today.
_ON_PATH = f"""all(n IN nodes(path) WHERE {_NOT_HUB} AND {node_visible("n")})
  AND all(r IN relationships(path) WHERE {_IN_FORCE})"""


def _depth(depth: int) -> int:
    if not 1 <= depth <= 4:
        raise ValueError("depth is 1-4")
    return depth


@cache
def exposure_query(depth: int) -> str:
    """Paths from the subject to actively listed subjects, at most ``depth`` links long."""
    return f"""
MATCH (t:Subject {{creditCode: $code}}) WHERE {node_visible("t")}
MATCH path = (t)-[:{LINKS}*1..{_depth(depth)}]-(x:Subject)
WHERE x <> t AND {_ON_PATH}
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
    return f"""
MATCH {_ACTIVE_LISTING} AND {node_visible("x")}
MATCH path = (x)-[:{LINKS}*1..{_depth(depth)}]-(t:Subject)
WHERE t <> x AND t.division STARTS WITH $division AND {_ON_PATH}
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
    store: Store,
    code: str,
    depth: int,
    rules: ExposureRules,
    scope: dict[str, Any],
    today: date,
    limit: int = 2000,
) -> list[Exposure]:
    """Listed subjects linked to ``code``, most exposed first, each explained by its paths."""
    records = await store.read(
        exposure_query(depth),
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
MATCH (v) WHERE (v:Phone OR v:Address OR v:Email) AND {node_visible("v")}
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
    store: Store,
    division_prefix: str,
    rules: ExposureRules,
    scope: dict[str, Any],
) -> list[Ring]:
    records = await store.read(
        SHARED_VALUES,
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


# --- network and paths -------------------------------------------------------------------------

RELATION_KINDS = (
    "LEGAL_REPRESENTATIVE_OF",
    "SHAREHOLDER_OF",
    "OFFICER_OF",
    "CONTROLS",
    "BRANCH_OF",
    "SUCCEEDED_BY",
    "PARTICIPATES_IN",
    "HOLDS",
    "HAS_PHONE",
    "HAS_ADDRESS",
    "HAS_EMAIL",
    "SANCTIONED",
)

# A node as the network shows it: a stable id (kind:key), what it is, and whether it is
# sanctioned (a subject with an active listing) or a hub (a value node not expanded).
_NET_NODE = f"""CASE
  WHEN m:Subject THEN {{id: 'Subject:' + m.creditCode, kind: 'Subject', key: m.creditCode,
    label: m.name, status: m.status, grade: m.grade,
    sanctioned: EXISTS {{ MATCH (x:Sanction)-[:SANCTIONED]->(m) WHERE x.status = 'ACTIVE'
                         AND x.listing IN $listings AND (x.endDate IS NULL OR x.endDate >= $asOf)
                         AND {node_visible("x")} }}}}
  WHEN m:Person THEN {{id: 'Person:' + m.personId, kind: 'Person', key: m.personId, label: m.name}}
  WHEN m:Licence THEN {{id: 'Licence:' + m.id, kind: 'Licence', key: m.id, label: m.number}}
  WHEN m:Project THEN {{id: 'Project:' + m.id, kind: 'Project', key: m.id, label: m.name}}
  WHEN m:Sanction THEN {{id: 'Sanction:' + m.id, kind: 'Sanction', key: m.id, label: m.listing,
                        status: m.status}}
  WHEN m:Phone THEN {{id: 'Phone:' + m.number, kind: 'Phone', key: m.number, label: m.number,
                     hub: COUNT {{ (m)--() }} > $hubDegree}}
  WHEN m:Address THEN {{id: 'Address:' + m.text, kind: 'Address', key: m.text, label: m.text,
                       hub: COUNT {{ (m)--() }} > $hubDegree}}
  WHEN m:Email THEN {{id: 'Email:' + m.address, kind: 'Email', key: m.address, label: m.address,
                     hub: COUNT {{ (m)--() }} > $hubDegree}}
END"""
_VALID_AS_OF = "(r.since IS NULL OR r.since <= $asOf) AND (r.until IS NULL OR r.until > $asOf)"
_SHOWN = (
    "(m:Subject OR m:Person OR m:Licence OR m:Project OR m:Sanction OR m:Phone"
    " OR m:Address OR m:Email)"
)

# Where a network may start: a node kind and the property its ``Kind:key`` id carries.
START_KEYS = {
    "Subject": "creditCode",
    "Person": "personId",
    "Licence": "id",
    "Project": "id",
    "Phone": "number",
    "Address": "text",
    "Email": "address",
}
NETWORK_START = {
    kind: f"""
MATCH (m:{kind} {{{prop}: $key}}) WHERE {node_visible("m")}
RETURN elementId(m) AS eid, {_NET_NODE} AS node
"""
    for kind, prop in START_KEYS.items()
}
NETWORK_STEP = f"""
UNWIND $frontier AS eid
MATCH (n) WHERE elementId(n) = eid
CALL (n) {{
  MATCH (n)-[r]-(m)
  WHERE type(r) IN $types AND {_VALID_AS_OF} AND {_SHOWN} AND {node_visible("m")}
  RETURN r, m ORDER BY elementId(r) LIMIT $fanout
}}
RETURN eid AS source, elementId(m) AS eid, {_NET_NODE} AS node,
  {{id: elementId(r), kind: type(r), from: elementId(startNode(r)), to: elementId(endNode(r)),
    since: toString(r.since), until: toString(r.until), share: r.share, role: r.role}} AS edge,
  COUNT {{ (n)-[x]-() WHERE type(x) IN $types }} > $fanout AS capped
"""


@dataclass(slots=True)
class Network:
    nodes: dict[str, dict[str, Any]]  # element id → node
    edges: dict[str, dict[str, Any]]  # element id → edge (from/to are element ids)
    truncated: bool = False  # the node limit stopped the expansion
    capped: set[str] = field(default_factory=set)  # more links than the fan-out cap

    def ids(self) -> dict[str, str]:
        """Element id → stable ``Kind:key`` id: element ids change across stores, these do not."""
        return {eid: node["id"] for eid, node in self.nodes.items()}


async def network(
    store: Store,
    key: str,
    *,
    kind: str = "Subject",
    depth: int,
    types: list[str],
    as_of: date,
    limit: int,
    fanout: int,
    rules: ExposureRules,
    scope: dict[str, Any],
) -> Network | None:
    """Breadth first from a node (a subject by default), one query per level; hubs are shown,
    not expanded, even when the network starts at one."""
    common = {
        "listings": list(rules.listings),
        "hubDegree": rules.hub_degree,
        "asOf": as_of,
        **scope,
    }
    start = await store.read(NETWORK_START[kind], key=key, **common)
    if not start:
        return None
    root, node = start[0]["eid"], dict(start[0]["node"])
    net = Network({root: node}, {})
    frontier = [] if node.get("hub") else [root]
    for _ in range(depth):
        if not frontier:
            break
        rows = await store.read(
            NETWORK_STEP,
            frontier=frontier,
            types=types,
            fanout=fanout,
            **common,
        )
        following: list[str] = []
        for row in rows:
            if row["capped"]:
                net.capped.add(row["source"])
            eid = row["eid"]
            if eid not in net.nodes:
                if len(net.nodes) >= limit:
                    net.truncated = True
                    continue
                node = dict(row["node"])
                net.nodes[eid] = node
                if not node.get("hub"):
                    following.append(eid)
            edge = dict(row["edge"])
            if edge["from"] in net.nodes and edge["to"] in net.nodes:
                net.edges[edge["id"]] = edge
        frontier = following
    return net


# A path an investigator may be shown: every node of a shown kind and visible, no hub on the
# way, every link in force.
_PATH_SHOWN = f"""all(m IN nodes(p) WHERE {_SHOWN} AND {node_visible("m")}
      AND (NOT (m:Phone OR m:Address OR m:Email) OR COUNT {{ (m)--() }} <= $hubDegree))
  AND all(r IN relationships(p) WHERE {_VALID_AS_OF})"""


@cache
def paths_query(hops: int, k: int) -> str:
    """The k shortest paths of at most ``hops`` links, hubs and hidden subjects excluded."""
    if not (1 <= hops <= 6 and 1 <= k <= 10):
        raise ValueError("hops is 1-6 and k 1-10")
    return f"""
MATCH (a:Subject {{creditCode: $from}}), (b:Subject {{creditCode: $to}})
WHERE {node_visible("a")} AND {node_visible("b")}
MATCH p = SHORTEST {k} (a)-[:{LINKS}|PARTICIPATES_IN]-{{1,{hops}}}(b)
WHERE {_PATH_SHOWN}
RETURN [m IN nodes(p) | {_NET_NODE}] AS nodes,
  [r IN relationships(p) | {{kind: type(r), since: toString(r.since), share: r.share,
                            role: r.role}}] AS edges,
  [r IN relationships(p) | [elementId(startNode(r)), elementId(endNode(r))]] AS ends,
  [m IN nodes(p) | elementId(m)] AS eids
"""


@dataclass(frozen=True, slots=True)
class GraphPath:
    nodes: tuple[dict[str, Any], ...]
    edges: tuple[dict[str, Any], ...]  # each with kind, from and to as node positions


async def shortest_paths(
    store: Store,
    source: str,
    target: str,
    *,
    hops: int,
    k: int,
    rules: ExposureRules,
    scope: dict[str, Any],
    as_of: date,
) -> list[GraphPath]:
    records = await store.read(
        paths_query(hops, k),
        hubDegree=rules.hub_degree,
        listings=list(rules.listings),
        asOf=as_of,
        **{"from": source, "to": target},
        **scope,
    )
    found = []
    for r in records:
        position = {eid: i for i, eid in enumerate(r["eids"])}
        edges = tuple(
            {**e, "from": position[ends[0]], "to": position[ends[1]]}
            for e, ends in zip(r["edges"], r["ends"], strict=True)
        )
        found.append(GraphPath(tuple(dict(n) for n in r["nodes"]), edges))
    return found


@cache
def connecting_query(hops: int) -> str:
    """One shortest path per pair of subjects, with the same exclusions as ``paths_query``."""
    if not 1 <= hops <= 6:
        raise ValueError("hops is 1-6")
    return f"""
UNWIND $pairs AS pair
MATCH (a:Subject {{creditCode: pair[0]}}), (b:Subject {{creditCode: pair[1]}})
WHERE {node_visible("a")} AND {node_visible("b")}
CALL (a, b) {{
  MATCH p = SHORTEST 1 (a)-[:{LINKS}|PARTICIPATES_IN]-{{1,{hops}}}(b)
  WHERE {_PATH_SHOWN}
  RETURN p
}}
RETURN pair, [m IN nodes(p) | {{eid: elementId(m), node: {_NET_NODE}}}] AS nodes,
  [r IN relationships(p) | {{id: elementId(r), kind: type(r), from: elementId(startNode(r)),
    to: elementId(endNode(r)), since: toString(r.since), until: toString(r.until),
    share: r.share, role: r.role}}] AS edges
"""


SUBJECTS_SHOWN = f"""
MATCH (m:Subject) WHERE m.creditCode IN $codes AND {node_visible("m")}
RETURN elementId(m) AS eid, {_NET_NODE} AS node
"""


@dataclass(frozen=True, slots=True)
class Subgraph:
    network: Network  # the subjects asked for that the caller may see, and the paths found
    hops: dict[tuple[str, str], int]  # (from, to) → length of its shortest path; absent: none


async def connecting_subgraph(
    store: Store,
    codes: list[str],
    *,
    hops: int,
    rules: ExposureRules,
    scope: dict[str, Any],
    as_of: date,
) -> Subgraph:
    """The union of one shortest path between every pair of the subjects: how a set of subjects
    connects, the way a single ``paths`` call shows it for two."""
    common = {"hubDegree": rules.hub_degree, "listings": list(rules.listings), "asOf": as_of}
    shown = await store.read(SUBJECTS_SHOWN, codes=codes, **common, **scope)
    net = Network({r["eid"]: dict(r["node"]) for r in shown}, {})
    pairs = [[a, b] for i, a in enumerate(codes) for b in codes[i + 1 :]]
    records = await store.read(
        connecting_query(hops),
        pairs=pairs,
        **common,
        **scope,
    )
    lengths: dict[tuple[str, str], int] = {}
    for r in records:
        for n in r["nodes"]:
            net.nodes.setdefault(n["eid"], dict(n["node"]))
        for e in r["edges"]:
            net.edges.setdefault(e["id"], dict(e))
        lengths[(r["pair"][0], r["pair"][1])] = len(r["edges"])
    return Subgraph(net, lengths)
