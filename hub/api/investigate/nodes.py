"""The nodes and edges a network, a path or a subgraph is drawn with, and the kinds it follows."""

from __future__ import annotations

from datetime import date
from enum import Enum
from typing import Any

import strawberry

from graph.investigate.network import Network
from hub.api.context import to_date


@strawberry.enum(description="Relationship kinds a network may follow.")
class RelationKind(Enum):
    LEGAL_REPRESENTATIVE_OF = "LEGAL_REPRESENTATIVE_OF"
    SHAREHOLDER_OF = "SHAREHOLDER_OF"
    OFFICER_OF = "OFFICER_OF"
    CONTROLS = "CONTROLS"
    BRANCH_OF = "BRANCH_OF"
    SUCCEEDED_BY = "SUCCEEDED_BY"
    PARTICIPATES_IN = "PARTICIPATES_IN"
    HOLDS = "HOLDS"
    HAS_PHONE = "HAS_PHONE"
    HAS_ADDRESS = "HAS_ADDRESS"
    HAS_EMAIL = "HAS_EMAIL"
    SANCTIONED = "SANCTIONED"


@strawberry.type(
    description="A node of a network: a subject, person, licence, project, "
    "sanction or shared identifier."
)
class NetworkNode:
    id: str = strawberry.field(description="Kind and key, stable across queries.")
    kind: str
    key: str
    label: str | None
    status: str | None
    grade: str | None
    sanctioned: bool = strawberry.field(description="A subject with an active listing.")
    hub: bool = strawberry.field(description="A value shared so widely it is not expanded.")


@strawberry.type
class NetworkEdge:
    kind: str
    source: str = strawberry.field(description="The id of the node the relationship leaves.")
    target: str
    since: date | None
    until: date | None
    share: float | None
    role: str | None


def node_view(n: dict[str, Any]) -> NetworkNode:
    return NetworkNode(
        id=n["id"],
        kind=n["kind"],
        key=n["key"],
        label=n.get("label"),
        status=n.get("status"),
        grade=n.get("grade"),
        sanctioned=bool(n.get("sanctioned")),
        hub=bool(n.get("hub")),
    )


def edge_view(e: dict[str, Any], source: str, target: str) -> NetworkEdge:
    return NetworkEdge(
        kind=e["kind"],
        source=source,
        target=target,
        since=to_date(e.get("since")),
        until=to_date(e.get("until")),
        share=e.get("share"),
        role=e.get("role"),
    )


def drawn(net: Network) -> tuple[list[NetworkNode], list[NetworkEdge]]:
    """A graph network's nodes, and its edges between their stable ids."""
    ids = net.ids()
    return (
        [node_view(n) for n in net.nodes.values()],
        [edge_view(e, ids[e["from"]], ids[e["to"]]) for e in net.edges.values()],
    )
