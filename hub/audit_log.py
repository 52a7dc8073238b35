"""Audit on the API side: one Redis XADD per audited answer, awaited before the answer leaves.

Once Redis has acknowledged the entry, killing the API process (even with SIGKILL) loses
nothing it answered; a worker moves entries into the Neo4j hash chain (``connectors.audit_drain``).
No Neo4j write on the request path: an XADD is one loopback round trip. If Redis refuses, the
caller must not answer with the data (report ``UNAVAILABLE`` instead).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.typing import EncodableT, FieldT
from starlette.requests import HTTPConnection, Request

from connectors.audit_drain import AUDIT_STREAM
from graph.audit_chain import Action, AuditEntry, Decision, utc_now
from policies.principal import Principal


def entry(
    principal: Principal,
    request_id: str,
    *,
    action: Action,
    field: str,
    subject: str | None,
    released: tuple[str, ...],
    decision: Decision,
    withheld: tuple[str, ...] = (),
    at: str | None = None,
) -> AuditEntry:
    """What the caller was given or refused, with who the token says the caller is; ``at``
    defaults to now."""
    return AuditEntry(
        request_id=request_id,
        principal=principal.subject,
        issuer=principal.issuer,
        agency=principal.agency,
        roles=tuple(sorted(principal.roles)),
        purpose=principal.purpose,
        action=action,
        field=field,
        subject=subject,
        released=released,
        withheld=withheld,
        decision=decision,
        at=at or utc_now(),
    )


async def audit_request(
    request: Request,
    principal: Principal,
    *,
    action: Action,
    field: str,
    subject: str | None,
    released: tuple[str, ...],
    decision: Decision,
) -> None:
    """Audit a request outside GraphQL (uploads, exports, feedback, recommendations): the entry
    is acknowledged by Redis before anything is answered."""
    await request.app.state.audit_log.emit(
        entry(
            principal,
            request.scope.get("hub.request_id", ""),
            action=action,
            field=field,
            subject=subject,
            released=released,
            decision=decision,
        )
    )


def _claimed(value: Any, limit: int = 64) -> str:
    """A claim of a refused token as it came, cut short: it was signed, but not believed."""
    return value[:limit] if isinstance(value, str) else ""


async def audit_refusal(
    conn: HTTPConnection, issuer: str, claims: dict[str, Any], reason: str
) -> None:
    """Audit a signed token the hub refused: who its issuer says it is (agency, sub, roles,
    purpose, as claimed) and why, under the route that was asked for."""
    roles = claims.get("roles")
    await conn.app.state.audit_log.emit(
        AuditEntry(
            request_id=conn.scope.get("hub.request_id", ""),
            principal=_claimed(claims.get("sub"), 200),
            issuer=issuer,
            agency=_claimed(claims.get("agency")),
            roles=tuple(_claimed(r) for r in roles[:10]) if isinstance(roles, list) else (),
            purpose=_claimed(claims.get("purpose"), 200) or None,
            action="authenticate",
            field=f"{conn.scope.get('method', 'GET')} {conn.url.path}",
            subject=None,
            released=(),
            withheld=(),
            decision="DENY",
            reason=reason,
        )
    )


def _fields(entry: AuditEntry) -> dict[FieldT, EncodableT]:
    return {name: value for name, value in entry.to_fields().items()}


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class AuditLog:
    """Appends audit entries to the Redis stream the worker drains. Never trims the stream:
    a backlog while Neo4j is down waits in Redis memory (watch ``XLEN hub:audit``)."""

    def __init__(self, redis: aioredis.Redis, stream: str = AUDIT_STREAM) -> None:
        self._redis = redis
        self._stream = stream

    async def emit(self, entry: AuditEntry) -> str:
        """Hand one entry to Redis; returns its stream id (the event id) once Redis has it."""
        return _text(await self._redis.xadd(self._stream, _fields(entry)))

    async def emit_all(self, entries: Sequence[AuditEntry]) -> list[str]:
        """Several entries in one round trip (a list answer audits each subject it shows)."""
        if len(entries) == 1:  # most answers: one command costs less than a pipeline of one
            return [await self.emit(entries[0])]
        async with self._redis.pipeline(transaction=False) as pipe:
            for entry in entries:
                pipe.xadd(self._stream, _fields(entry))
            return [_text(entry_id) for entry_id in await pipe.execute()]
