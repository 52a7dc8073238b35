"""The AuditTrail extension: an answer leaves only once its audit entries are in the stream."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from redis.exceptions import RedisError
from strawberry.extensions import SchemaExtension

from graph.audit_chain import AuditEntry, utc_now
from hub.api.context import Audited, Context
from hub.audit_log import entry
from hub.errors import Code, HubError
from policies.principal import PUBLIC_ISSUER, Principal


def trail(
    principal: Principal, request_id: str, audited: Sequence[Audited], redacted: Sequence[str]
) -> list[AuditEntry]:
    """The audit entries of one answer, all of one moment: what each root field released or
    refused, and the fields withheld from it (a kept answer served again is audited with the
    same)."""
    at = utc_now()
    withheld = tuple(redacted)
    return [
        entry(
            principal,
            request_id,
            action=item.action,
            field=item.field,
            subject=item.subject,
            released=item.released,
            withheld=withheld,
            decision="PARTIAL" if redacted and item.decision == "ALLOW" else item.decision,
            at=at,
        )
        for item in audited
    ]


class AuditTrail(SchemaExtension):
    """Every answer that released or refused something is in the audit stream before it leaves:
    one pipelined XADD per request. If Redis will not take it, the data does not leave. Public
    (token-less) reads are not audited: they can release only what anyone may read, and
    auditing them would let anyone flood the chain."""

    async def on_operation(self) -> AsyncIterator[None]:
        yield
        ctx = self.execution_context.context
        result = self.execution_context.result
        if not isinstance(ctx, Context) or ctx.audit_log is None:
            return
        if ctx.principal.issuer == PUBLIC_ISSUER:
            return  # without a token only PUBLIC rows are readable: what anyone may read
        ctx.audited.extend(ctx.unaudited())
        if not ctx.audited:
            return
        try:
            await ctx.audit_log.emit_all(
                trail(ctx.principal, ctx.request_id, ctx.audited, ctx.redacted)
            )
        except RedisError:
            if result is not None:
                result.data = None
                result.errors = [
                    HubError(Code.UNAVAILABLE, "the audit store is unavailable; retry shortly")
                ]
