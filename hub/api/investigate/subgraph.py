"""``connectingSubgraph``: how a set of subjects connects, a shortest path per pair merged."""

from __future__ import annotations

from datetime import date

import strawberry

from graph.investigate.subgraph import connecting_subgraph
from hub.api.context import RootPolicy, audit, bounded, ctx, parse_code, resolver
from hub.api.investigate.nodes import NetworkEdge, NetworkNode, drawn
from policies.credit.exposure import default_rules

MAX_SET = 8  # subjects in one connecting subgraph: 28 pairs


@strawberry.type(description="Two of the subjects asked for and how far apart they are.")
class SubjectPair:
    source: str = strawberry.field(name="from")
    to: str
    hops: int | None = strawberry.field(
        description="Links on the shortest path; null when none within maxHops."
    )


@strawberry.type(description="How a set of subjects connects: a shortest path per pair, merged.")
class Subgraph:
    nodes: list[NetworkNode]
    edges: list[NetworkEdge]
    pairs: list[SubjectPair]
    missing: list[str] = strawberry.field(
        description="Credit codes asked for that are unknown or not visible to you."
    )


@strawberry.type
class SubgraphQueries:
    @strawberry.field(
        description="How a set of 2 to 8 subjects connects: the union of a shortest path (at "
        "most maxHops links) between every pair.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def connecting_subgraph(
        self, info: strawberry.Info, credit_codes: list[str], max_hops: int = 4
    ) -> Subgraph:
        context = ctx(info)
        bounded("creditCodes", len(credit_codes), 2, MAX_SET)
        codes = list(dict.fromkeys(parse_code(c) for c in credit_codes))
        bounded("distinct creditCodes", len(codes), 2, MAX_SET)
        found = await connecting_subgraph(
            context.store,
            codes,
            hops=bounded("maxHops", max_hops, 1, 6),
            rules=default_rules(),
            scope=context.scope,
            as_of=date.today(),
        )
        net = found.network
        shown = {n["key"] for n in net.nodes.values() if n["kind"] == "Subject"}
        audit(info, codes[0], sorted(net.ids().values()))
        nodes, edges = drawn(net)
        return Subgraph(
            nodes=nodes,
            edges=edges,
            pairs=[
                SubjectPair(source=a, to=b, hops=found.hops.get((a, b)))
                for i, a in enumerate(codes)
                for b in codes[i + 1 :]
            ],
            missing=[c for c in codes if c not in shown],
        )
