"""The audit chain: every audited access and write as an event in a hash chain in Neo4j.

Each event stores the hash of the one before it, so editing, deleting or reordering stored
events breaks a link that ``verify_chain`` finds. ``append`` numbers new events under a write
lock on the chain's head node, so concurrent appenders queue up instead of forking the chain, and
it skips events it has already chained (by event id), so a redelivered batch adds nothing.

The hash of an event is ``sha256(prev_hash + canonical_json(document))``: the document is the
event node's properties except ``prevHash`` and ``hash`` (absent values left out), as JSON with
sorted keys, no whitespace, non-ASCII kept, UTF-8. The first event's ``prev_hash`` is 64 zeros.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, get_args

import orjson
from neo4j import AsyncManagedTransaction

from graph.db import Store

GENESIS = "0" * 64
DEFAULT_CHAIN = "main"
WRITE_BATCH = 1000  # events per CREATE statement inside one append transaction

Action = Literal["read", "write", "authenticate"]  # authenticate: a refused signed token
Decision = Literal["ALLOW", "PARTIAL", "DENY"]

# Attribute → property name on the event node and key in a Redis stream entry's JSON.
_NAMES = {
    "at": "at",
    "request_id": "requestId",
    "principal": "principal",
    "issuer": "issuer",
    "agency": "agency",
    "roles": "roles",
    "purpose": "purpose",
    "action": "action",
    "field": "field",
    "subject": "subject",
    "released": "released",
    "withheld": "withheld",
    "decision": "decision",
    "reason": "reason",
}
ENTRY = "entry"  # the one field of a Redis stream entry: the named values as JSON
_LISTS = frozenset({"roles", "released", "withheld"})
_OPTIONAL = frozenset({"purpose", "subject", "reason"})
_SCALARS = tuple(name for name in _NAMES if name not in _LISTS)
_ACTIONS = frozenset(get_args(Action))
_DECISIONS = frozenset(get_args(Decision))
_LINK = frozenset({"prevHash", "hash"})  # stored beside the document, not part of it
# A stream entry as redis-py returns it (bytes unless the client decodes) or as built here.
StreamFields = Mapping[bytes, bytes] | Mapping[str, str] | Mapping[bytes | str, bytes | str]


def utc_iso(moment: datetime) -> str:
    """The one timestamp format of the chain, so ``at`` strings compare in time order."""
    if moment.tzinfo is None:
        raise ValueError("a timestamp needs a time zone")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def utc_now() -> str:
    """Now, in the chain's timestamp format."""
    return utc_iso(datetime.now(UTC))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _strings(value: Any, name: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{name} must be a list of strings")
    return tuple(value)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry:
    """One audited access as the API records it: who, on whose behalf, why, what was released."""

    request_id: str
    principal: str  # the token's sub
    issuer: str
    agency: str
    roles: tuple[str, ...]
    purpose: str | None
    action: Action
    field: str  # the GraphQL root field or mutation
    subject: str | None  # credit code
    released: tuple[str, ...]  # record ids or field names handed out
    withheld: tuple[str, ...]
    decision: Decision
    reason: str | None = None  # why it was refused, where the decision alone does not say
    at: str = dataclasses.field(default_factory=utc_now)

    def __post_init__(self) -> None:
        """Refuse malformed entries early: a bad one would otherwise reach the chain."""
        for attr in _SCALARS:
            value = getattr(self, attr)
            if not (isinstance(value, str) or (value is None and attr in _OPTIONAL)):
                raise ValueError(f"{attr} must be a string")
        for attr in _LISTS:
            _strings(getattr(self, attr), attr)
        if self.action not in _ACTIONS:
            raise ValueError(f"action must be one of {get_args(Action)}")
        if self.decision not in _DECISIONS:
            raise ValueError(f"decision must be one of {get_args(Decision)}")
        if utc_iso(datetime.fromisoformat(self.at)) != self.at:
            raise ValueError("at must be utc_iso() of a moment")

    def named(self) -> dict[str, Any]:
        """Values under their stored names; lists as lists, absent values left out."""
        values = {name: getattr(self, attr) for attr, name in _NAMES.items()}
        return {
            name: list(value) if isinstance(value, tuple) else value
            for name, value in values.items()
            if value is not None
        }

    def to_fields(self) -> dict[str, str]:
        """A Redis stream entry: the named values as one JSON document under ``entry``. One
        field, not one per value: redis-py packs each field of an XADD in Python, and a batch
        lookup writes an entry a subject (28 µs an entry in fourteen fields, 9 µs in one)."""
        return {ENTRY: orjson.dumps(self.named()).decode()}


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class AuditEvent(AuditEntry):
    """An entry once Redis has taken it: its stream id is the event id."""

    event_id: str

    @classmethod
    def from_named(cls, event_id: str, values: Mapping[str, Any]) -> AuditEvent:
        """From stored names (a node's properties); raises ValueError when malformed."""
        kwargs: dict[str, Any] = {attr: values.get(name) for attr, name in _NAMES.items()}
        for attr in _LISTS:
            kwargs[attr] = _strings(kwargs[attr], attr)
        return cls(event_id=event_id, **kwargs)

    @classmethod
    def from_fields(cls, event_id: str, fields: StreamFields) -> AuditEvent:
        """From a Redis stream entry; raises ValueError when malformed. Also reads the flat
        form of earlier versions (a field per value, lists as JSON), which a stream written
        before an upgrade may still hold."""
        values: dict[str, Any] = {_text(k): _text(v) for k, v in fields.items()}
        if ENTRY in values:
            document = json.loads(values[ENTRY])
            if len(values) != 1 or not isinstance(document, dict):
                raise ValueError(f"{ENTRY} must be the one field, a JSON object")
            return cls.from_named(event_id, document)
        for attr in _LISTS:
            name = _NAMES[attr]
            if name in values:
                values[name] = json.loads(values[name])
        return cls.from_named(event_id, values)

    def document(self, chain: str, seq: int) -> dict[str, Any]:
        """What the hash covers: the event at its place in a chain."""
        return {**self.named(), "eventId": self.event_id, "chain": chain, "seq": seq}


@dataclasses.dataclass(frozen=True, slots=True)
class ChainedEvent:
    """An event at its place in a chain, with its link."""

    chain: str
    seq: int
    prev_hash: str
    hash: str
    event: AuditEvent

    def props(self) -> dict[str, Any]:
        """The event node's properties."""
        return {
            **self.event.document(self.chain, self.seq),
            "prevHash": self.prev_hash,
            "hash": self.hash,
        }

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> ChainedEvent:
        return cls(
            props["chain"],
            props["seq"],
            props["prevHash"],
            props["hash"],
            AuditEvent.from_named(props["eventId"], props),
        )


def canonical_json(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def link_hash(prev_hash: str, document: Mapping[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode("utf-8") + canonical_json(document)).hexdigest()


def _link(events: Sequence[AuditEvent], chain: str, seq: int, prev: str) -> list[ChainedEvent]:
    links = []
    for offset, event in enumerate(events, start=1):
        current = link_hash(prev, event.document(chain, seq + offset))
        links.append(ChainedEvent(chain, seq + offset, prev, current, event))
        prev = current
    return links


# --- append -------------------------------------------------------------------------------------

# SET takes the head's write lock before its seq and hash are read: appenders queue here.
_LOCK_HEAD = """
MERGE (h:AuditHead {chain: $chain})
ON CREATE SET h.seq = 0, h.hash = $genesis
SET h.lockedAt = $now
RETURN h.seq AS seq, h.hash AS hash
"""
_CHAINED_IDS = """
UNWIND $ids AS id
MATCH (e:AuditEvent {eventId: id})
RETURN collect(e.eventId) AS ids
"""
_CREATE_EVENTS = """
UNWIND $events AS props
CREATE (e:AuditEvent)
SET e = props
"""
_MOVE_HEAD = "MATCH (h:AuditHead {chain: $chain}) SET h.seq = $seq, h.hash = $hash"


def _fresh(events: Sequence[AuditEvent], chained: set[str]) -> list[AuditEvent]:
    """Events not chained yet, each id once, in the given order."""
    seen = set(chained)
    fresh = []
    for event in events:
        if event.event_id not in seen:
            seen.add(event.event_id)
            fresh.append(event)
    return fresh


async def _append(tx: AsyncManagedTransaction, events: Sequence[AuditEvent], chain: str) -> int:
    head = await (await tx.run(_LOCK_HEAD, chain=chain, genesis=GENESIS, now=utc_now())).single(
        strict=True
    )
    found = await (await tx.run(_CHAINED_IDS, ids=[e.event_id for e in events])).single(strict=True)
    links = _link(_fresh(events, set(found["ids"])), chain, head["seq"], head["hash"])
    for start in range(0, len(links), WRITE_BATCH):
        batch = [link.props() for link in links[start : start + WRITE_BATCH]]
        await (await tx.run(_CREATE_EVENTS, events=batch)).consume()
    if links:
        await (
            await tx.run(_MOVE_HEAD, chain=chain, seq=links[-1].seq, hash=links[-1].hash)
        ).consume()
    return len(links)


async def append(
    store: Store,
    events: Sequence[AuditEvent],
    *,
    chain: str = DEFAULT_CHAIN,
) -> int:
    """Chain the events not chained yet, in the given order, in one transaction; how many."""
    if not events:
        return 0
    return await store.write(_append, events, chain)


# --- verify -------------------------------------------------------------------------------------

_EVENTS_AFTER = """
MATCH (e:AuditEvent)
WHERE e.chain = $chain AND e.seq > $after
RETURN properties(e) AS props
ORDER BY e.seq
LIMIT $batch
"""
_HEAD = "MATCH (h:AuditHead {chain: $chain}) RETURN h.seq AS seq, h.hash AS hash"


@dataclasses.dataclass(frozen=True, slots=True)
class VerifyResult:
    ok: bool
    checked: int  # events whose links held
    first_bad_seq: int | None = None
    reason: str | None = None
    head_hash: str = GENESIS  # worth recording elsewhere: see docs/decisions.md


def _broken_link(props: Mapping[str, Any], seq: int, prev_hash: str) -> str | None:
    """Why this event does not follow the event ``seq`` with hash ``prev_hash``, if it does not."""
    if props.get("seq") != seq + 1:
        return f"seq {seq + 1} is missing (deleted or renumbered)"
    if props.get("prevHash") != prev_hash:
        return f"prevHash is not the hash of seq {seq} (reordered or replaced)"
    document = {k: v for k, v in props.items() if k not in _LINK}
    if link_hash(prev_hash, document) != props.get("hash"):
        return "hash does not match the stored event (edited)"
    return None


def _against_head(head: Mapping[str, Any] | None, seq: int, last_hash: str) -> VerifyResult:
    head_seq, head_hash = (head["seq"], head["hash"]) if head else (0, GENESIS)
    if (head_seq, head_hash) == (seq, last_hash):
        return VerifyResult(True, seq, head_hash=last_hash)
    if head_seq == seq:
        return VerifyResult(False, seq, seq, "the head's hash is not the last event's (replaced)")
    reason = f"the chain ends at seq {seq} but its head is at seq {head_seq}"
    return VerifyResult(False, seq, min(seq, head_seq) + 1, reason)


def _off_anchor(props: Mapping[str, Any], anchor: tuple[int, str] | None) -> str | None:
    if anchor and props["seq"] == anchor[0] and props["hash"] != anchor[1]:
        return "hash differs from the recorded one (history rewritten)"
    return None


_GROWN = 5  # times a check goes on after the chain grew under it, before it reports the gap


async def verify_chain(
    store: Store,
    *,
    chain: str = DEFAULT_CHAIN,
    batch: int = 5000,
    anchor: tuple[int, str] | None = None,
    start: tuple[int, str] = (0, GENESIS),
) -> VerifyResult:
    """Recompute every link in seq order after ``start`` (a checkpoint's seq and hash: see
    graph/audit_checkpoints.py; the genesis by default), then check the head against the last.

    ``anchor`` is a (seq, hash) recorded from an earlier run: it catches a chain rewritten with
    recomputed hashes, which the links alone cannot (they have no secret key).
    """
    seq, last_hash = start
    for _ in range(_GROWN):
        while True:
            records = await store.execute(
                _EVENTS_AFTER, chain=chain, after=seq, batch=batch, read=True
            )
            for record in records:
                props = record["props"]
                reason = _broken_link(props, seq, last_hash) or _off_anchor(props, anchor)
                if reason:
                    return VerifyResult(False, seq, int(props["seq"]), reason)
                seq, last_hash = props["seq"], props["hash"]
            if len(records) < batch:
                break
        heads = await store.execute(_HEAD, chain=chain, read=True)
        head = heads[0] if heads else None
        if head is None or head["seq"] <= seq:
            break
        # The drain appended (events and head in one transaction) after the last page was
        # read: the chain grew, it did not break. Check on from where the links ended.
    if anchor and anchor[0] > seq:
        return VerifyResult(
            False, seq, seq + 1, f"the chain ends before the recorded seq {anchor[0]}"
        )
    return _against_head(head, seq, last_hash)


# --- trail --------------------------------------------------------------------------------------


def _trail(key: str, extra: str) -> str:
    # The hint: on a store with few events the planner would sometimes scan the label instead.
    return f"""
MATCH (e:AuditEvent)
USING INDEX e:AuditEvent({key}, seq)
WHERE e.{key} = ${key} AND e.seq > $after AND e.chain = $chain {extra}
  AND ($since IS NULL OR e.at >= $since) AND ($until IS NULL OR e.at < $until)
RETURN properties(e) AS props
ORDER BY e.seq
LIMIT $limit
"""


# Fixed queries (never built from input): anchored on the (subject, seq) or (agency, seq) index.
TRAIL_BY_SUBJECT = _trail("subject", "AND ($agency IS NULL OR e.agency = $agency)")
TRAIL_BY_AGENCY = _trail("agency", "")


async def trail(
    store: Store,
    *,
    subject: str | None = None,
    agency: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after_seq: int = 0,
    limit: int = 100,
    chain: str = DEFAULT_CHAIN,
) -> list[ChainedEvent]:
    """Events about a subject (optionally by one agency) or by an agency, ``since <= at <
    until``, in chain order after ``after_seq`` (keyset: pass the last seq to page on)."""
    if subject is None and agency is None:
        raise ValueError("a trail needs a subject or an agency")
    records = await store.execute(
        TRAIL_BY_SUBJECT if subject is not None else TRAIL_BY_AGENCY,
        subject=subject,
        agency=agency,
        since=None if since is None else utc_iso(since),
        until=None if until is None else utc_iso(until),
        after=after_seq,
        limit=limit,
        chain=chain,
        read=True,
    )
    return [ChainedEvent.from_props(record["props"]) for record in records]
