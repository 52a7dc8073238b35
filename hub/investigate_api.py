"""Investigators' GraphQL fields: exposure, the most exposed of a division, rings, controllers.

Only the roles access.yaml lists may call them (partners get FORBIDDEN); every traversal keeps
subjects above the caller's clearance off its paths and is audited with what it released.
"""

from __future__ import annotations

from datetime import date

import strawberry

from graph.investigate import Exposure as ExposureRow
from graph.investigate import ExposurePath, Ring, exposure, most_exposed, rings
from policies.divisions import division as find_division
from policies.divisions import jurisdiction_prefix
from policies.exposure import default_rules

from .context import Audited, RootPolicy, ctx
from .context import credit_code as parse_code
from .errors import Code, HubError, backing_services

MAX_PAGE = 100


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


def _exposure(e: ExposureRow) -> Exposure:
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
    chosen = rules.max_depth if depth is None else depth
    if not 1 <= chosen <= rules.max_depth:
        raise HubError(
            Code.LIMIT_EXCEEDED, f"depth must be 1-{rules.max_depth}", max=rules.max_depth
        )
    return chosen


def _division_prefix(code: str) -> str:
    if find_division(code) is None:
        raise HubError(Code.BAD_USER_INPUT, f"unknown division code {code!r}")
    return jurisdiction_prefix(code)


def _first(first: int) -> int:
    if not 1 <= first <= MAX_PAGE:
        raise HubError(Code.LIMIT_EXCEEDED, f"first must be 1-{MAX_PAGE}", max=MAX_PAGE)
    return first


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
                context.driver,
                context.database,
                code,
                _depth(depth),
                default_rules(),
                context.scope,
                context.query_timeout,
                date.today(),
            )
        released = tuple(
            sorted({n.key for e in found for p in e.paths for n in p.nodes if n.kind == "Subject"})
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
                context.driver,
                context.database,
                _division_prefix(division),
                _depth(depth),
                default_rules(),
                context.scope,
                context.query_timeout,
                date.today(),
                _first(first),
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
                context.driver,
                context.database,
                _division_prefix(division),
                default_rules(),
                context.scope,
                context.query_timeout,
            )
        chosen = [
            r for r in found if len(r.members) >= min_size and (code is None or code in r.members)
        ][: _first(first)]
        released = tuple(m for r in chosen for m in r.members)
        context.audited.append(Audited("rings", code, released))
        return [_ring(r) for r in chosen]
