"""The network around a node, breadth first: one query per level, capped in fan-out and size.

Hubs (value nodes shared too widely) are shown but not expanded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from graph.db import Store
from graph.investigate.patterns import NET_NODE, SHOWN_KINDS, VALID_AS_OF, node_visible
from policies.credit.exposure import ExposureRules

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
RETURN elementId(m) AS eid, {NET_NODE} AS node
"""
    for kind, prop in START_KEYS.items()
}
# The types as a dynamic type expression, not ``type(r) IN $types``: Neo4j then follows only
# those relationships of a node (its records, ratings and contacts are not walked): 17% less
# of Neo4j's CPU a depth-2 network on the 100k graph (bench/RESULTS.md, notes on "peer").
NETWORK_STEP = f"""
UNWIND $frontier AS eid
MATCH (n) WHERE elementId(n) = eid
CALL (n) {{
  MATCH (n)-[r:$any($types)]-(m)
  WHERE {VALID_AS_OF} AND {SHOWN_KINDS} AND {node_visible("m")}
  RETURN r, m ORDER BY elementId(r) LIMIT $fanout + 1
}}
RETURN collect([eid, elementId(m),
  CASE WHEN NOT elementId(m) IN $known THEN {NET_NODE} END,
  {{id: elementId(r), kind: type(r), from: elementId(startNode(r)), to: elementId(endNode(r)),
    since: toString(r.since), until: toString(r.until), share: r.share, role: r.role}}]) AS links
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
            known=list(net.nodes),
            types=types,
            fanout=fanout,
            **common,
        )
        following: list[str] = []
        taken: dict[str, int] = {}
        for source, eid, found, link in rows[0]["links"]:
            # One link past the fan-out marks its source capped and is not shown: a count of
            # the links the caller may see, so hidden ones are neither shown nor counted.
            taken[source] = taken.get(source, 0) + 1
            if taken[source] > fanout:
                net.capped.add(source)
                continue
            if eid not in net.nodes:
                if len(net.nodes) >= limit:
                    net.truncated = True
                    continue
                node = dict(found)
                net.nodes[eid] = node
                if not node.get("hub"):
                    following.append(eid)
            edge = dict(link)
            if edge["from"] in net.nodes and edge["to"] in net.nodes:
                net.edges[edge["id"]] = edge
        frontier = following
    return net
