"""``controllers``: a subject's ultimate controller and its beneficial owners."""

from __future__ import annotations

from datetime import date

import strawberry

from graph.investigate.ownership import Holding, beneficial_owners, ultimate_controller
from graph.investigate.upstream import upstream
from hub.api.context import RootPolicy, audit, ctx, parse_code, resolver
from hub.errors import Code, HubError


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
    @resolver
    async def controllers(self, info: strawberry.Info, credit_code: str) -> ControlReport:
        context = ctx(info)
        code = parse_code(credit_code)
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
        audit(info, code, (o.key for o in owners if o.key in names))
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
