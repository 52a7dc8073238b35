"""``me`` and ``auditTrail``: who the hub thinks is calling, and the audit chain it keeps."""

from __future__ import annotations

from datetime import datetime

import strawberry

from graph.audit_chain import ChainedEvent, trail
from hub.api.context import Context, RootPolicy, audit, page_size, parse_code, resolver
from hub.errors import Code, HubError


@strawberry.type(name="Principal", description="The caller, as the hub understood its token.")
class PrincipalInfo:
    subject: str
    agency: str
    level: str
    division: str
    roles: list[str]
    clearance: str
    purpose: str | None
    credit_code: str | None = strawberry.field(
        description="A signed-in subject's own unified social credit code; null for others."
    )


@strawberry.type(name="AuditEvent", description="One link of the tamper-evident audit chain.")
class AuditEventView:
    seq: int
    at: datetime
    request_id: str
    principal: str
    issuer: str
    agency: str
    roles: list[str]
    purpose: str | None
    action: str
    field: str
    subject: str | None
    released: list[str]
    withheld: list[str]
    decision: str
    reason: str | None
    hash: str


def _audit_view(item: ChainedEvent) -> AuditEventView:
    e = item.event
    return AuditEventView(
        seq=item.seq,
        at=datetime.fromisoformat(e.at),
        request_id=e.request_id,
        principal=e.principal,
        issuer=e.issuer,
        agency=e.agency,
        roles=list(e.roles),
        purpose=e.purpose,
        action=e.action,
        field=e.field,
        subject=e.subject,
        released=list(e.released),
        withheld=list(e.withheld),
        decision=e.decision,
        reason=e.reason,
        hash=item.hash,
    )


@strawberry.type
class AuditQueries:
    @strawberry.field(
        description="The audit trail of a subject or of an agency, oldest first (admin).",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def audit_trail(
        self,
        info: strawberry.Info,
        subject: str | None = None,
        agency: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        after_seq: int = 0,
        first: int = 100,
    ) -> list[AuditEventView]:
        ctx: Context = info.context
        if subject is None and agency is None:
            raise HubError(Code.BAD_USER_INPUT, "give a subject, an agency or both")
        page_size(first)
        code = parse_code(subject) if subject is not None else None
        events = await trail(
            ctx.store,
            subject=code,
            agency=agency,
            since=since,
            until=until,
            after_seq=after_seq,
            limit=first,
        )
        audit(info, code, (str(e.seq) for e in events))
        return [_audit_view(e) for e in events]

    @strawberry.field(description="Who the hub thinks is calling.", permission_classes=[RootPolicy])
    def me(self, info: strawberry.Info) -> PrincipalInfo:
        p = info.context.principal
        audit(info, None, (p.subject,))
        return PrincipalInfo(
            subject=p.subject,
            agency=p.agency,
            level=p.level,
            division=p.division,
            roles=sorted(p.roles),
            clearance=p.clearance.name,
            purpose=p.purpose,
            credit_code=p.own_code(),
        )
