"""Answers kept in Redis, shared by every API process, and served again until the graph changes.

Only documents whose every root field is listed in limits.yaml ``cache.fields`` are kept: fields
whose answer is a function of the document, its variables, the caller's read scope (roles,
level, agency, division, clearance, purpose, own code: never the caller's name) and the day.
An answer is tagged with the cache generation read *before* it was computed
(connectors/coordination/freshness.py) and served only while Redis still holds that generation;
every writer moves the generation on before it acknowledges a change. A hit is charged to the rate
window like the first answer and audited with the same entries, under the new caller's name.

The answers live in one Redis hash, read in the round trip that charges the request (so a hit
costs no extra trip) and written by a script that keeps only answers of the current generation:
the first answer of a new generation drops the whole hash, and past ``cache.entries`` answers
or ``cache.megabytes`` of them nothing more is kept until the generation moves on.

Redis losing the last second of writes on a crash could hand a generation back, with answers
of it that are older than a change already acknowledged. So whenever one of a process's Redis
connections (re)connects to a Redis server other than the one it last saw (:func:`watched_pool`
reads the server's ``run_id``, new at every start and different on a replica), the process
moves the generation a million on before it trusts a kept answer again: past any count the lost
second could have held. A connection made again to the same server (a pool growing, one dropped
after a cancelled command) changes nothing: that server lost nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson
import redis.asyncio as aioredis
from graphql import DocumentNode, FieldNode, OperationDefinitionNode, OperationType
from redis.exceptions import ResponseError

from connectors.coordination.freshness import GENERATION_KEY
from hub.api.context import Audited
from policies.limits import AnswerCache
from policies.principal import Principal

ANSWERS_KEY = "hub:cache:answers"  # a hash: an answer's key digest → the packed answer
OWNER = "#generation"  # the hash's own fields: whose answers it holds, and their bytes
BYTES = "#bytes"
JUMP = 1_000_000  # a generation's move on reconnection: more writes than a second could lose

# KEYS: the answers, the generation. ARGV: the answer's generation, digest, packed answer, the
# most answers, the most bytes. Keeps it only if its generation is still the current one.
_KEEP = f"""
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
if redis.call('HGET', KEYS[1], '{OWNER}') ~= ARGV[1] then
  redis.call('UNLINK', KEYS[1])
  redis.call('HSET', KEYS[1], '{OWNER}', ARGV[1], '{BYTES}', 0)
end
if redis.call('HLEN', KEYS[1]) - 2 >= tonumber(ARGV[4]) then return 0 end
local bytes = tonumber(redis.call('HGET', KEYS[1], '{BYTES}')) + string.len(ARGV[3])
if bytes > tonumber(ARGV[5]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3], '{BYTES}', bytes)
return 1
"""


@dataclass(frozen=True, slots=True)
class Answer:
    """A finished GraphQL response and what producing it released, to audit again."""

    generation: int
    body: bytes
    units: int  # its cost, charged again on every hit
    audited: tuple[Audited, ...]
    redacted: tuple[str, ...]


def pack(answer: Answer) -> bytes:
    """One line of JSON for everything but the body, then the body as it was sent."""
    head = orjson.dumps(
        [
            answer.generation,
            answer.units,
            [[a.field, a.subject, a.released, a.decision, a.action] for a in answer.audited],
            answer.redacted,
        ]
    )
    return head + b"\n" + answer.body


def unpack(packed: bytes) -> Answer:
    head, _, body = packed.partition(b"\n")
    generation, units, audited, redacted = orjson.loads(head)
    return Answer(
        generation,
        body,
        units,
        tuple(Audited(f, s, tuple(r), d, a) for f, s, r, d, a in audited),
        tuple(redacted),
    )


def cacheable(document: DocumentNode, fields: frozenset[str]) -> bool:
    """One query whose every root selection is a plain field listed in ``fields``."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].operation is not OperationType.QUERY:
        return False
    selections = operations[0].selection_set.selections
    return bool(selections) and all(
        isinstance(s, FieldNode) and s.name.value in fields for s in selections
    )


def root_fields(document: DocumentNode, known: frozenset[str]) -> tuple[str, ...]:
    """The root fields an operation selects, a name the schema lacks as "other"."""
    names = [
        s.name.value if s.name.value in known else "other"
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
        for s in d.selection_set.selections
        if isinstance(s, FieldNode)
    ]
    return tuple(dict.fromkeys(names))


def scope_of(principal: Principal) -> tuple[Any, ...]:
    """Everything of the caller an answer may depend on, and nothing that names the caller."""
    return (
        sorted(principal.roles),
        principal.level,
        principal.agency,
        principal.division,
        principal.clearance,
        principal.purpose,
        principal.credit_code,
    )


class ResponseCache:
    """The shared answers as one API process reaches them: digests of keys, the script that
    keeps an answer, and whether this process's connections to Redis are the ones it last
    trusted (``connected`` counts their connections, ``trusted`` the count last vouched for)."""

    def __init__(self, rules: AnswerCache) -> None:
        self.rules = rules
        self.connected = 0
        self.trusted = 0
        self.server: str | None = None  # the run_id of the Redis last connected to
        self._keep: Any = None

    def key(
        self, query: str, name: str | None, variables: Mapping[str, Any], principal: Principal
    ) -> str:
        """The digest an answer is kept under: document, the operation's name as asked (a
        name the document lacks is refused, never served), variables, read scope and day."""
        spelled = orjson.dumps(
            [query, name, variables, scope_of(principal), date.today().isoformat()],
            option=orjson.OPT_SORT_KEYS,
            default=str,
        )
        return hashlib.sha256(spelled).hexdigest()

    def reconnected(self, server: str | None) -> None:
        """A connection to Redis (re)connected, to the server of this ``run_id``: another
        server than the last (or one that does not say) may be a Redis that lost its last
        second."""
        if server is None or server != self.server:
            self.server = server
            self.connected += 1

    async def vouch(self, redis: aioredis.Redis) -> None:
        """After connections (re)connected, move the generation past anything a lost second of
        Redis could have held, so no answer kept before is served (or kept) again."""
        seen = self.connected
        await redis.incrby(GENERATION_KEY, JUMP)
        self.trusted = seen

    def found(self, packed: bytes | None, generation: int) -> Answer | None:
        """The kept answer read with the generation, if it is of that generation."""
        if packed is None:
            return None
        answer = unpack(packed)
        return answer if answer.generation == generation else None

    async def keep(self, redis: aioredis.Redis, digest: str, answer: Answer) -> bool:
        """Keep an answer if its generation is still current and the bounds allow."""
        if self._keep is None:
            self._keep = redis.register_script(_KEEP)
        budget = self.rules.megabytes * 1024 * 1024
        packed = pack(answer)
        if len(packed) > budget // 10:
            return False
        kept = await self._keep(
            keys=[ANSWERS_KEY, GENERATION_KEY],
            args=[answer.generation, digest, packed, self.rules.entries, budget],
        )
        return bool(kept)


class _WatchedPool(aioredis.ConnectionPool):
    """A connection pool that calls ``connected`` with the server's ``run_id`` whenever one of
    its connections connects (one INFO on a new connection: connections are made rarely)."""

    def __init__(self, connected: Callable[[str | None], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._connected = connected

    def make_connection(self) -> Any:
        connection = super().make_connection()  # type: ignore[no-untyped-call]
        connection.register_connect_callback(self._on_connect)
        return connection

    async def _on_connect(self, connection: Any) -> None:
        try:
            await connection.send_command("INFO", "server")
            info = await connection.read_response()
        except ResponseError:  # INFO refused (an ACL, a renamed command): every one counts
            self._connected(None)
            return
        text = info.decode() if isinstance(info, bytes) else str(info)
        run_id = next(
            (
                line.partition(":")[2].strip()
                for line in text.splitlines()
                if line.startswith("run_id:")
            ),
            None,
        )
        self._connected(run_id or None)


def watched_pool(
    url: str, connected: Callable[[str | None], None], **kwargs: Any
) -> aioredis.ConnectionPool:
    """A pool for ``url`` that calls ``connected`` with the server's ``run_id`` on every
    (re)connection of its clients."""
    pool: aioredis.ConnectionPool = _WatchedPool.from_url(url, connected=connected, **kwargs)
    return pool
