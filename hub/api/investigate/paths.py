"""``paths``: the k shortest paths between two subjects."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from graph.investigate.paths import shortest_paths
from hub.api.context import RootPolicy, audit, bounded, ctx, parse_code, resolver
from hub.api.investigate.nodes import NetworkEdge, NetworkNode, edge_view, node_view
from policies.credit.exposure import default_rules


@strawberry.type(description="One of the shortest paths between two subjects.")
class Path:
    nodes: list[NetworkNode]
    edges: list[NetworkEdge]

    @strawberry.field
    def length(self) -> int:
        return len(self.edges)


@strawberry.type
class PathQueries:
    @strawberry.field(
        description="The k shortest paths between two subjects (at most 6 hops).",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def paths(
        self,
        info: strawberry.Info,
        from_: Annotated[str, strawberry.argument(name="from")],
        to: str,
        max_hops: int = 6,
        first: int = 3,
    ) -> list[Path]:
        context = ctx(info)
        source, target = parse_code(from_), parse_code(to)
        found = await shortest_paths(
            context.store,
            source,
            target,
            hops=bounded("maxHops", max_hops, 1, 6),
            k=bounded("first", first, 1, 10),
            rules=default_rules(),
            scope=context.scope,
            as_of=date.today(),
        )
        audit(info, source, sorted({f"{n['kind']}:{n['key']}" for p in found for n in p.nodes}))
        return [
            Path(
                nodes=[node_view(n) for n in p.nodes],
                edges=[
                    edge_view(e, p.nodes[e["from"]]["id"], p.nodes[e["to"]]["id"]) for e in p.edges
                ],
            )
            for p in found
        ]
