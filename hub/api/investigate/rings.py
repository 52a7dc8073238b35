"""``rings``: subjects of a division tied together by the phones, addresses or e-mails shared."""

from __future__ import annotations

import strawberry

from graph.investigate.rings import Ring, rings
from hub.api.context import RootPolicy, audit, ctx, division_prefix, page_size, parse_code, resolver
from policies.credit.exposure import default_rules


@strawberry.type(description="A phone, address or e-mail shared by subjects of a ring.")
class SharedIdentifier:
    kind: str
    value: str
    members: list[str]


@strawberry.type(description="Subjects tied together by shared identifiers (hubs excluded).")
class SubjectRing:
    members: list[str]
    ties: list[SharedIdentifier]


def _ring(r: Ring) -> SubjectRing:
    return SubjectRing(
        members=list(r.members),
        ties=[
            SharedIdentifier(kind=t.kind, value=t.value, members=list(t.members)) for t in r.ties
        ],
    )


@strawberry.type
class RingQueries:
    @strawberry.field(
        description="Rings of subjects sharing phones, addresses or e-mails in a division; "
        "with creditCode, only the ring holding that subject.",
        permission_classes=[RootPolicy],
    )
    @resolver
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
        found = await rings(
            context.store,
            division_prefix(division),
            default_rules(),
            context.scope,
        )
        chosen = [
            r for r in found if len(r.members) >= min_size and (code is None or code in r.members)
        ][: page_size(first)]
        # Members and the shared phones, addresses and e-mails that tie them.
        audit(
            info,
            code,
            sorted(
                {f"Subject:{m}" for r in chosen for m in r.members}
                | {f"{t.kind}:{t.value}" for r in chosen for t in r.ties}
            ),
        )
        return [_ring(r) for r in chosen]
