"""Public credit commitments over GraphQL: a subject makes one (``makeCommitment``, its code
from its token), anyone reads them (``Subject.commitments``), a unit records a breach
(``recordCommitmentBreach``), which goes to review as a dishonest record."""

from __future__ import annotations

from datetime import date
from enum import Enum

import strawberry

from graph.rights.commitments import CommitmentRefused, commitments_of, make, record_breach
from hub.api.context import RootPolicy, audit, ctx, resolver, to_date
from hub.api.records.units import unit_of
from hub.api.rights.repair import own_code
from hub.errors import Code, HubError
from policies.rights import default_rights
from policies.units import unit_prefix


@strawberry.enum(description="What a commitment is made for.")
class CommitmentKind(Enum):
    LICENCE_ON_COMMITMENT = "LICENCE_ON_COMMITMENT"  # 告知承诺: a licence granted on commitment
    REPAIR = "REPAIR"  # 修复承诺: made with a repair application
    GENERAL = "GENERAL"  # 主动承诺: of the subject's own accord


@strawberry.enum(description="The tier of the dishonest record a breach becomes.")
class BreachTier(Enum):
    GENERAL = "GENERAL"
    SERIOUS = "SERIOUS"


@strawberry.type(description="A public credit commitment (信用承诺).")
class Commitment:
    id: str
    kind: str
    text: str
    licence: str | None
    status: str = strawberry.field(
        description="IN_FORCE or BREACHED (once the breach is published)."
    )
    made_on: date
    valid_until: date
    breached_on: date | None


@strawberry.type(description="A breach recorded: the dishonest record now waiting for review.")
class CommitmentBreach:
    commitment: str
    credit_code: str
    record: str
    record_status: str


def commitment_view(row: dict[str, object]) -> Commitment:
    return Commitment(
        id=str(row["id"]),
        kind=str(row["kind"]),
        text=str(row["text"]),
        licence=str(row["licence"]) if row.get("licence") else None,
        status=str(row["status"]),
        made_on=date.fromisoformat(str(row["madeOn"])),
        valid_until=date.fromisoformat(str(row["validUntil"])),
        breached_on=to_date(str(row["breachedOn"]) if row.get("breachedOn") else None),
    )


async def subject_commitments(info: strawberry.Info, code: str) -> list[Commitment]:
    """``Subject.commitments``: public, like the subject itself."""
    return [commitment_view(r) for r in await commitments_of(ctx(info).store, code)]


def _refused(exc: CommitmentRefused) -> HubError:
    return HubError(Code(exc.code), str(exc), reason=exc.reason)


@strawberry.type
class CommitmentMutations:
    @strawberry.mutation(
        description="Make a public credit commitment for your own company; published at once.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def make_commitment(
        self,
        info: strawberry.Info,
        kind: CommitmentKind,
        text: str,
        valid_until: date | None = None,
        licence: str | None = None,
    ) -> Commitment:
        context = ctx(info)
        code = own_code(context.principal)
        try:
            new_id = await make(
                context.store, default_rights(), code=code, kind=kind.value, text=text,
                valid_until=valid_until, licence=licence, by=context.principal.subject,
                today=date.today(),
            )  # fmt: skip
        except CommitmentRefused as exc:
            audit(info, code, (), "DENY", "write")
            raise _refused(exc) from None
        audit(info, code, (new_id,), action="write")
        (made,) = [r for r in await commitments_of(context.store, code) if r["id"] == new_id]
        return commitment_view(made)

    @strawberry.mutation(
        description="Record the breach of a commitment of a subject in your jurisdiction: a "
        "COMMITMENT_BREACH dishonest record goes to review; once published, the commitment "
        "is BREACHED.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def record_commitment_breach(
        self,
        info: strawberry.Info,
        id: str,
        reason: str,
        decided_on: date,
        document: str,
        tier: BreachTier = BreachTier.GENERAL,
    ) -> CommitmentBreach:
        context = ctx(info)
        unit = unit_of(context.principal)
        try:
            breach = await record_breach(
                context.store, id, reason=reason, decided_on=decided_on, document=document,
                tier=tier.value, agency=unit, prefix=unit_prefix(unit),
                by=context.principal.subject, scope=context.scope, today=date.today(),
            )  # fmt: skip
        except CommitmentRefused as exc:
            audit(info, None, (id,), "DENY", "write")
            raise _refused(exc) from None
        audit(info, breach.subject, (id, breach.record), action="write")
        return CommitmentBreach(
            commitment=breach.commitment,
            credit_code=breach.subject,
            record=breach.record,
            record_status=breach.status,
        )
