"""``exposure`` and ``mostExposed``: links to seriously dishonest subjects, scored and explained."""

from __future__ import annotations

from datetime import date

import strawberry

from graph.investigate.exposure import ExposurePath, ListedRelative, exposure, most_exposed
from hub.api.context import (
    RootPolicy,
    audit,
    bounded,
    ctx,
    division_prefix,
    page_size,
    parse_code,
    resolver,
)
from policies.credit.exposure import default_rules


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


@strawberry.type(
    name="Exposure", description="A link to a subject with an active serious-dishonesty listing."
)
class ExposureView:
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


def _path(p: ExposurePath) -> LinkPath:
    return LinkPath(
        nodes=[PathNode(kind=n.kind, key=n.key, name=n.name) for n in p.nodes],
        kinds=list(p.kinds),
        weight=round(p.weight, 4),
    )


def _exposure(e: ListedRelative) -> ExposureView:
    return ExposureView(
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


def _depth(depth: int | None) -> int:
    rules = default_rules()
    return bounded("depth", rules.max_depth if depth is None else depth, 1, rules.max_depth)


@strawberry.type
class ExposureQueries:
    @strawberry.field(
        description="Links to subjects with an active serious-dishonesty listing, scored with a "
        "decay per relationship kind and explained by their paths; phoenix cases flagged.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def exposure(
        self, info: strawberry.Info, credit_code: str, depth: int | None = None
    ) -> list[ExposureView]:
        context = ctx(info)
        code = parse_code(credit_code)
        found = await exposure(
            context.store,
            code,
            _depth(depth),
            default_rules(),
            context.scope,
            date.today(),
        )
        audit(
            info,
            code,
            sorted({f"{n.kind}:{n.key}" for e in found for p in e.paths for n in p.nodes}),
        )
        return [_exposure(e) for e in found]

    @strawberry.field(
        description="The most exposed subjects of a division (a banner, a league or 150000).",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def most_exposed(
        self, info: strawberry.Info, division: str, depth: int | None = None, first: int = 20
    ) -> list[ExposedSubject]:
        context = ctx(info)
        found = await most_exposed(
            context.store,
            division_prefix(division),
            _depth(depth),
            default_rules(),
            context.scope,
            date.today(),
            page_size(first),
        )
        audit(info, None, (e.code for e in found))
        return [
            ExposedSubject(credit_code=e.code, name=e.name, score=e.score, listed=list(e.listed))
            for e in found
        ]
