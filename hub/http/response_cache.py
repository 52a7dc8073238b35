"""Answers kept per API process and served again until the graph changes.

Only documents whose every root field is listed in limits.yaml ``cache.fields`` are kept: fields
whose answer is a function of the document, its variables, the caller's read scope (roles,
level, agency, division, clearance, purpose, own code: never the caller's name) and the day.
An answer is tagged with the cache generation read *before* it was computed
(connectors/coordination/freshness.py) and served only while Redis still holds that generation;
every writer moves the generation on before it acknowledges a change. A hit is charged to the rate
window like the first answer and audited with the same entries, under the new caller's name.

Redis losing the last second of writes on a crash could hand a generation back; a kept answer
of it could then be older than a change already acknowledged. So a process forgets everything
it keeps whenever one of its Redis connections (re)connects (:func:`watched_pool`): a Redis
that restarted is only reached through new connections.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import redis.asyncio as aioredis
from graphql import DocumentNode, FieldNode, OperationDefinitionNode, OperationType

from hub.api.context import Audited
from policies.limits import AnswerCache
from policies.principal import Principal

Key = tuple[str, str, tuple[Any, ...], str]


@dataclass(frozen=True, slots=True)
class Answer:
    """A finished GraphQL response and what producing it released, to audit again."""

    generation: int
    body: bytes
    units: int  # its cost, charged again on every hit
    audited: tuple[Audited, ...]
    redacted: tuple[str, ...]


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
        tuple(sorted(principal.roles)),
        principal.level,
        principal.agency,
        principal.division,
        principal.clearance,
        principal.purpose,
        principal.credit_code,
    )


class ResponseCache:
    """The least recently used answers of one process: at most ``rules.entries`` of them and
    ``rules.megabytes`` of their bodies; one answer over a tenth of that is not kept."""

    def __init__(self, rules: AnswerCache) -> None:
        self.rules = rules
        self._answers: OrderedDict[Key, Answer] = OrderedDict()
        self._bytes = 0
        self._budget = rules.megabytes * 1024 * 1024

    def __len__(self) -> int:
        return len(self._answers)

    def key(self, query: str, variables: Mapping[str, Any], principal: Principal) -> Key:
        spelled = json.dumps(variables, sort_keys=True, separators=(",", ":"), default=str)
        return (query, spelled, scope_of(principal), date.today().isoformat())

    def get(self, key: Key) -> Answer | None:
        found = self._answers.get(key)
        if found is not None:
            self._answers.move_to_end(key)
        return found

    def put(self, key: Key, answer: Answer) -> None:
        if len(answer.body) > self._budget // 10:
            return
        replaced = self._answers.pop(key, None)
        self._bytes += len(answer.body) - (len(replaced.body) if replaced else 0)
        self._answers[key] = answer
        while len(self._answers) > self.rules.entries or self._bytes > self._budget:
            _, dropped = self._answers.popitem(last=False)
            self._bytes -= len(dropped.body)

    def clear(self) -> None:
        self._answers.clear()
        self._bytes = 0


class _WatchedPool(aioredis.ConnectionPool):
    """A connection pool that calls ``connected`` whenever one of its connections connects."""

    def __init__(self, connected: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._connected = connected

    def make_connection(self) -> Any:
        connection = super().make_connection()  # type: ignore[no-untyped-call]
        connection.register_connect_callback(self._on_connect)
        return connection

    def _on_connect(self, _: Any) -> None:
        self._connected()


def watched_pool(url: str, connected: Callable[[], None], **kwargs: Any) -> aioredis.ConnectionPool:
    """A pool for ``url`` that calls ``connected`` on every (re)connection of its clients."""
    pool: aioredis.ConnectionPool = _WatchedPool.from_url(url, connected=connected, **kwargs)
    return pool
