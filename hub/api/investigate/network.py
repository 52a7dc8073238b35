"""``network``: the neighbourhood of a subject or another node, as of a date, capped."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from graph.investigate.network import START_KEYS, network
from hub.api.context import RootPolicy, audit, bounded, ctx, parse_code, resolver
from hub.api.investigate.nodes import NetworkEdge, NetworkNode, RelationKind, drawn
from hub.errors import Code, HubError
from policies.credit.exposure import default_rules

FANOUT = 50  # links followed from one node; the rest are counted in `capped`


@strawberry.type(description="The neighbourhood of a subject.")
class Network:
    nodes: list[NetworkNode]
    edges: list[NetworkEdge]
    truncated: bool = strawberry.field(description="The node limit stopped the expansion.")
    capped: list[str] = strawberry.field(
        description="Nodes with more links than the per-node fan-out cap (not all shown)."
    )


def _start(credit_code: str | None, node: str | None) -> tuple[str, str]:
    """(kind, key) of where a network starts: a credit code, or a node id such as Person:…."""
    if (credit_code is None) == (node is None):
        raise HubError(Code.BAD_USER_INPUT, "give either creditCode or node")
    if credit_code is not None:
        return "Subject", parse_code(credit_code)
    kind, _, key = (node or "").partition(":")
    if kind not in START_KEYS or not key or len(key) > 300:
        raise HubError(
            Code.BAD_USER_INPUT,
            f"node is Kind:key with Kind one of {', '.join(START_KEYS)}, as network ids are",
        )
    return kind, parse_code(key) if kind == "Subject" else key


@strawberry.type
class NetworkQueries:
    @strawberry.field(
        description="The neighbourhood of a subject up to depth 4, optionally through chosen "
        "relationship kinds and as of a date; capped by limit and a per-node fan-out.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def network(
        self,
        info: strawberry.Info,
        credit_code: str | None = None,
        node: Annotated[
            str | None,
            strawberry.argument(
                description="Start at another node instead: its id, as network nodes carry it "
                "(Person:…, Phone:…, Project:…)."
            ),
        ] = None,
        depth: int = 2,
        relations: list[RelationKind] | None = None,
        as_of: date | None = None,
        limit: int = 200,
    ) -> Network:
        context = ctx(info)
        kind, key = _start(credit_code, node)
        code = key if kind == "Subject" else None
        kinds = [r.value for r in relations] if relations else [r.value for r in RelationKind]
        net = await network(
            context.store,
            key,
            kind=kind,
            depth=bounded("depth", depth, 1, 4),
            types=kinds,
            as_of=as_of or date.today(),
            limit=bounded("limit", limit, 1, 500),
            fanout=FANOUT,
            rules=default_rules(),
            scope=context.scope,
        )
        if net is None:
            raise HubError(Code.NOT_FOUND, f"no such {kind.lower()} visible to you")
        ids = net.ids()
        audit(info, code, sorted(ids.values()))
        nodes, edges = drawn(net)
        return Network(
            nodes=nodes,
            edges=edges,
            truncated=net.truncated,
            capped=sorted(ids[eid] for eid in net.capped),
        )
