"""The k shortest paths between two subjects, without hubs or subjects the caller may not see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from graph.db import Store
from graph.investigate.patterns import LINKS, NET_NODE, PATH_SHOWN, node_visible
from policies.credit.exposure import ExposureRules


@cache
def paths_query(hops: int, k: int) -> str:
    """The k shortest paths of at most ``hops`` links, hubs and hidden subjects excluded."""
    if not (1 <= hops <= 6 and 1 <= k <= 10):
        raise ValueError("hops is 1-6 and k 1-10")
    return f"""
MATCH (a:Subject {{creditCode: $from}}), (b:Subject {{creditCode: $to}})
WHERE {node_visible("a")} AND {node_visible("b")}
MATCH p = SHORTEST {k} (a)-[:{LINKS}|PARTICIPATES_IN]-{{1,{hops}}}(b)
WHERE {PATH_SHOWN}
RETURN [m IN nodes(p) | {NET_NODE}] AS nodes,
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
