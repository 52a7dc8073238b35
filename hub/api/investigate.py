"""Investigators' GraphQL fields: exposure, the most exposed of a division, rings, controllers.

Only the roles access.yaml lists may call them (partners get FORBIDDEN); every traversal keeps
subjects above the caller's clearance off its paths and is audited with what it released.
"""

from __future__ import annotations

from datetime import date
from enum import Enum
from typing import Annotated, Any

import strawberry

from graph.investigate.exposure import ExposurePath, ListedRelative, exposure, most_exposed
from graph.investigate.network import START_KEYS, network
from graph.investigate.ownership import Holding, beneficial_owners, ultimate_controller
from graph.investigate.paths import shortest_paths
from graph.investigate.rings import Ring, rings
from graph.investigate.subgraph import connecting_subgraph
from graph.investigate.upstream import upstream
from hub.api.context import Audited, RootPolicy, bounded, ctx, division_prefix, to_date
from hub.api.context import credit_code as parse_code
from hub.errors import Code, HubError, backing_services
from policies.credit.exposure import default_rules

MAX_PAGE = 100
FANOUT = 50  # links followed from one node; the rest are counted in `capped`


@strawberry.type(description="A node on an investigator's path.")
class PathNode:
    kind: str = strawberry.field(description="Subject, Person, Phone, Address or Email.")
    key: str = strawberry.field(description="Credit code, an opaque person key, or the value.")
    name: str


@strawberry.type(description="One path from the subject to a listed subject, and its weight.")
class LinkPath:
    nodes: list[PathNode]
    kinds: list[str] = strawberry.field(description="The relationship kinds crossed, in order.")
    weight: float = strawberry.field(description="Product of each kind's decay.")


@strawberry.type(description="A link to a subject with an active serious-dishonesty listing.")
class Exposure:
    credit_code: str
    name: str
    listing: str
    listing_id: str
    listed_since: date | None
    score: float = strawberry.field(description="Sum of the weights of every path found.")
    phoenix: bool = strawberry.field(
        description="A person tied to the listed subject joined or founded this one after the "
        "listing started."
    )
    phoenix_reason: str | None
    paths: list[LinkPath] = strawberry.field(description="The strongest paths, 10 at most.")


@strawberry.type(description="A subject of a division and how exposed it is.")
class ExposedSubject:
    credit_code: str
    name: str
    score: float
    listed: list[str] = strawberry.field(description="Listed subjects it is linked to.")


@strawberry.type(description="A phone, address or e-mail shared by subjects of a ring.")
class SharedIdentifier:
    kind: str
    value: str
    members: list[str]


@strawberry.type(description="Subjects tied together by shared identifiers (hubs excluded).")
class SubjectRing:
    members: list[str]
    ties: list[SharedIdentifier]


def _path(p: ExposurePath) -> LinkPath:
    return LinkPath(
        nodes=[PathNode(kind=n.kind, key=n.key, name=n.name) for n in p.nodes],
        kinds=list(p.kinds),
        weight=round(p.weight, 4),
    )


def _exposure(e: ListedRelative) -> Exposure:
    return Exposure(
        credit_code=e.code,
        name=e.name,
        listing=e.listing,
        listing_id=e.listing_id,
        listed_since=date.fromisoformat(e.listed_since) if e.listed_since else None,
        score=e.score,
        phoenix=e.phoenix,
        phoenix_reason=e.phoenix_reason,
        paths=[_path(p) for p in e.paths],
    )


def _ring(r: Ring) -> SubjectRing:
    return SubjectRing(
        members=list(r.members),
        ties=[
            SharedIdentifier(kind=t.kind, value=t.value, members=list(t.members)) for t in r.ties
        ],
    )


def _depth(depth: int | None) -> int:
    rules = default_rules()
    return bounded("depth", rules.max_depth if depth is None else depth, 1, rules.max_depth)


@strawberry.type
class InvestigationQueries:
    @strawberry.field(
        description="Links to subjects with an active serious-dishonesty listing, scored with a "
        "decay per relationship kind and explained by their paths; phoenix cases flagged.",
        permission_classes=[RootPolicy],
    )
    async def exposure(
        self, info: strawberry.Info, credit_code: str, depth: int | None = None
    ) -> list[Exposure]:
        context = ctx(info)
        code = parse_code(credit_code)
        with backing_services():
            found = await exposure(
                context.store,
                code,
                _depth(depth),
                default_rules(),
                context.scope,
                date.today(),
            )
        released = tuple(
            sorted({f"{n.kind}:{n.key}" for e in found for p in e.paths for n in p.nodes})
        )
        context.audited.append(Audited("exposure", code, released))
        return [_exposure(e) for e in found]

    @strawberry.field(
        description="The most exposed subjects of a division (a banner, a league or 150000).",
        permission_classes=[RootPolicy],
    )
    async def most_exposed(
        self, info: strawberry.Info, division: str, depth: int | None = None, first: int = 20
    ) -> list[ExposedSubject]:
        context = ctx(info)
        with backing_services():
            found = await most_exposed(
                context.store,
                division_prefix(division),
                _depth(depth),
                default_rules(),
                context.scope,
                date.today(),
                bounded("first", first, 1, MAX_PAGE),
            )
        context.audited.append(Audited("mostExposed", None, tuple(e.code for e in found)))
        return [
            ExposedSubject(credit_code=e.code, name=e.name, score=e.score, listed=list(e.listed))
            for e in found
        ]

    @strawberry.field(
        description="Rings of subjects sharing phones, addresses or e-mails in a division; "
        "with creditCode, only the ring holding that subject.",
        permission_classes=[RootPolicy],
    )
    async def rings(
        self,
        info: strawberry.Info,
        division: str,
        credit_code: str | None = None,
        min_size: int = 2,
        first: int = 20,
    ) -> list[SubjectRing]:
        context = ctx(info)
        code = parse_code(credit_code) if credit_code is not None else None
        with backing_services():
            found = await rings(
                context.store,
                division_prefix(division),
                default_rules(),
                context.scope,
            )
        chosen = [
            r for r in found if len(r.members) >= min_size and (code is None or code in r.members)
        ][: bounded("first", first, 1, MAX_PAGE)]
        # Members and the shared phones, addresses and e-mails that tie them.
        released = tuple(
            sorted(
                {f"Subject:{m}" for r in chosen for m in r.members}
                | {f"{t.kind}:{t.value}" for r in chosen for t in r.ties}
            )
        )
        context.audited.append(Audited("rings", code, released))
        return [_ring(r) for r in chosen]


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


@strawberry.type(description="The neighbourhood of a subject.")
class Network:
    nodes: list[NetworkNode]
    edges: list[NetworkEdge]
    truncated: bool = strawberry.field(description="The node limit stopped the expansion.")
    capped: list[str] = strawberry.field(
        description="Nodes with more links than the per-node fan-out cap (not all shown)."
    )


@strawberry.type(description="One of the shortest paths between two subjects.")
class Path:
    nodes: list[NetworkNode]
    edges: list[NetworkEdge]

    @strawberry.field
    def length(self) -> int:
        return len(self.edges)


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


MAX_SET = 8  # subjects in one connecting subgraph: 28 pairs


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


def _node(n: dict[str, Any]) -> NetworkNode:
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


def _edge(e: dict[str, Any], source: str, target: str) -> NetworkEdge:
    return NetworkEdge(
        kind=e["kind"],
        source=source,
        target=target,
        since=to_date(e.get("since")),
        until=to_date(e.get("until")),
        share=e.get("share"),
        role=e.get("role"),
    )


@strawberry.type
class NetworkQueries:
    @strawberry.field(
        description="The neighbourhood of a subject up to depth 4, optionally through chosen "
        "relationship kinds and as of a date; capped by limit and a per-node fan-out.",
        permission_classes=[RootPolicy],
    )
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
        with backing_services():
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
        context.audited.append(Audited("network", code, tuple(sorted(ids.values()))))
        return Network(
            nodes=[_node(n) for n in net.nodes.values()],
            edges=[_edge(e, ids[e["from"]], ids[e["to"]]) for e in net.edges.values()],
            truncated=net.truncated,
            capped=sorted(ids[eid] for eid in net.capped),
        )

    @strawberry.field(
        description="The k shortest paths between two subjects (at most 6 hops).",
        permission_classes=[RootPolicy],
    )
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
        with backing_services():
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
        released = {f"{n['kind']}:{n['key']}" for p in found for n in p.nodes}
        context.audited.append(Audited("paths", source, tuple(sorted(released))))
        return [
            Path(
                nodes=[_node(n) for n in p.nodes],
                edges=[_edge(e, p.nodes[e["from"]]["id"], p.nodes[e["to"]]["id"]) for e in p.edges],
            )
            for p in found
        ]

    @strawberry.field(
        description="How a set of 2 to 8 subjects connects: the union of a shortest path (at "
        "most maxHops links) between every pair.",
        permission_classes=[RootPolicy],
    )
    async def connecting_subgraph(
        self, info: strawberry.Info, credit_codes: list[str], max_hops: int = 4
    ) -> Subgraph:
        context = ctx(info)
        bounded("creditCodes", len(credit_codes), 2, MAX_SET)
        codes = list(dict.fromkeys(parse_code(c) for c in credit_codes))
        bounded("distinct creditCodes", len(codes), 2, MAX_SET)
        with backing_services():
            found = await connecting_subgraph(
                context.store,
                codes,
                hops=bounded("maxHops", max_hops, 1, 6),
                rules=default_rules(),
                scope=context.scope,
                as_of=date.today(),
            )
        net, ids = found.network, found.network.ids()
        shown = {n["key"] for n in net.nodes.values() if n["kind"] == "Subject"}
        context.audited.append(Audited("connectingSubgraph", codes[0], tuple(sorted(ids.values()))))
        return Subgraph(
            nodes=[_node(n) for n in net.nodes.values()],
            edges=[_edge(e, ids[e["from"]], ids[e["to"]]) for e in net.edges.values()],
            pairs=[
                SubjectPair(source=a, to=b, hops=found.hops.get((a, b)))
                for i, a in enumerate(codes)
                for b in codes[i + 1 :]
            ],
            missing=[c for c in codes if c not in shown],
        )


@strawberry.type(description="Who holds a share of a subject, through every chain.")
class BeneficialOwner:
    key: str
    kind: str = strawberry.field(description="Person or Subject (a state body).")
    name: str
    share: float = strawberry.field(description="Fraction of the subject, 0-1, exact to 1e-9.")
    exact: str = strawberry.field(description="The exact share as a fraction, e.g. 125/232.")
    chains: list[list[str]] = strawberry.field(
        description="Holding chains owner → … → subject (keys); turns round a cycle count in "
        "the share but are not listed."
    )


@strawberry.type(description="The ultimate controller and the beneficial owners of a subject.")
class ControlReport:
    credit_code: str
    controller: str | None = strawberry.field(description="Key of the ultimate controller.")
    controller_name: str | None
    control_chain: list[str] = strawberry.field(description="Controller → … → subject.")
    control_reason: str = strawberry.field(
        description="explicit, majority, beneficial-majority or none."
    )
    beneficial_owners: list[BeneficialOwner] = strawberry.field(
        description="Owners of at least 25%, largest first."
    )


@strawberry.type
class ControlQueries:
    @strawberry.field(
        description="Ultimate controller (majority chains and explicit control, stopping at a "
        "natural person or a state body) and beneficial owners of at least 25%.",
        permission_classes=[RootPolicy],
    )
    async def controllers(self, info: strawberry.Info, credit_code: str) -> ControlReport:
        context = ctx(info)
        code = parse_code(credit_code)
        with backing_services():
            found = await upstream(
                context.store,
                code,
                context.scope,
                date.today(),
            )
        if found is None:
            raise HubError(Code.NOT_FOUND, "no such subject visible to you")
        terminal = {e.holder for e in found if e.terminal}
        kinds = {e.holder: e.holder_kind for e in found}
        names = {e.holder: e.holder_name for e in found} | {
            e.company: e.company_name for e in found
        }
        holdings = [Holding(e.holder, e.company, e.share) for e in found]
        try:
            owners = beneficial_owners(code, holdings, terminal.__contains__)
            control = ultimate_controller(code, holdings, terminal.__contains__)
        except ValueError as exc:
            raise HubError(
                Code.CONFLICT, f"the holdings above {code} cannot be solved: {exc}"
            ) from None
        context.audited.append(
            Audited("controllers", code, tuple(o.key for o in owners if o.key in names))
        )
        return ControlReport(
            credit_code=code,
            controller=control.controller,
            controller_name=names.get(control.controller or ""),
            control_chain=list(control.chain),
            control_reason=control.reason,
            beneficial_owners=[
                BeneficialOwner(
                    key=o.key,
                    kind=kinds.get(o.key, "Subject"),
                    name=names.get(o.key, ""),
                    share=round(float(o.share), 9),
                    exact=f"{o.share.numerator}/{o.share.denominator}",
                    chains=[list(c) for c in o.chains],
                )
                for o in owners
            ],
        )
