"""Rings: subjects of a division joined by shared phones, addresses or e-mails."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from graph.db import Store
from graph.investigate.patterns import node_visible
from policies.credit.exposure import ExposureRules

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
