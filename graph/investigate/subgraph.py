"""The subgraph connecting a set of subjects: one shortest path between every pair of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from graph.db import Store
from graph.investigate.network import Network
from graph.investigate.patterns import LINKS, NET_NODE, PATH_SHOWN, node_visible
from policies.credit.exposure import ExposureRules


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
  WHERE {PATH_SHOWN}
  RETURN p
}}
RETURN pair, [m IN nodes(p) | {{eid: elementId(m), node: {NET_NODE}}}] AS nodes,
  [r IN relationships(p) | {{id: elementId(r), kind: type(r), from: elementId(startNode(r)),
    to: elementId(endNode(r)), since: toString(r.since), until: toString(r.until),
    share: r.share, role: r.role}}] AS edges
"""


SUBJECTS_SHOWN = f"""
MATCH (m:Subject) WHERE m.creditCode IN $codes AND {node_visible("m")}
RETURN elementId(m) AS eid, {NET_NODE} AS node
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
