"""Audit on the API side: one Redis XADD per audited answer, awaited before the answer leaves.

Once Redis has acknowledged the entry, killing the API process (even with SIGKILL) loses
nothing it answered; a worker moves entries into the Neo4j hash chain (``connectors.audit``).
No Neo4j write on the request path: an XADD is one loopback round trip. If Redis refuses, the
caller must not answer with the data (report ``UNAVAILABLE`` instead).
"""

from __future__ import annotations

from collections.abc import Sequence

import redis.asyncio as aioredis
from redis.typing import EncodableT, FieldT
from starlette.requests import Request

from connectors.audit import AUDIT_STREAM
from graph.audit import Action, AuditEntry, Decision
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
) -> AuditEntry:
    """What the caller was given or refused, with who the token says the caller is."""
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
        async with self._redis.pipeline(transaction=False) as pipe:
            for entry in entries:
                pipe.xadd(self._stream, _fields(entry))
            return [_text(entry_id) for entry_id in await pipe.execute()]
