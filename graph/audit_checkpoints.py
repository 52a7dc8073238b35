"""Signed checkpoints of the audit chain, so a verification need not start from the first event.

A successful ``hub audit verify`` records where the chain stood: (chain, seq, hash), with an
HMAC under a key kept outside the graph (``.data/keys``). The next run starts from the latest
checkpoint whose MAC holds and whose event still has the recorded hash, and recomputes only the
links after it, so its time grows with what was added since, not with history. Someone able to
write the graph but without the key can neither forge a checkpoint nor move one; what lies
before a checkpoint was verified when it was made, and ``--full`` verifies it again.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime

from graph.db import Store


@dataclass(frozen=True, slots=True)
class Checkpoint:
    seq: int
    hash: str


class ForgedCheckpoint(Exception):
    """A checkpoint whose MAC does not hold: the graph was written without the key."""


def mac(secret: bytes, chain: str, seq: int, digest: str) -> str:
    return hmac.new(secret, f"{chain}|{seq}|{digest}".encode(), hashlib.sha256).hexdigest()


_RECORD = """
MERGE (c:AuditCheckpoint {chain: $chain, seq: $seq})
SET c.hash = $hash, c.mac = $mac, c.at = $at
"""
_LATEST = """
MATCH (c:AuditCheckpoint {chain: $chain})
RETURN c.seq AS seq, c.hash AS hash, c.mac AS mac
ORDER BY c.seq DESC LIMIT 1
"""
_EVENT_HASH = "MATCH (e:AuditEvent {chain: $chain, seq: $seq}) RETURN e.hash AS hash"


async def record_checkpoint(store: Store, secret: bytes, chain: str, at: Checkpoint) -> None:
    """Record that the chain was verified up to ``at`` (no kept answer shows it)."""
    await store.bookkeeping().execute(
        _RECORD,
        chain=chain,
        seq=at.seq,
        hash=at.hash,
        mac=mac(secret, chain, at.seq, at.hash),
        at=datetime.now(UTC).isoformat(),
    )


async def latest_checkpoint(store: Store, secret: bytes, chain: str) -> Checkpoint | None:
    """The latest checkpoint, checked: its MAC under ``secret`` and its event's hash.

    Raises :class:`ForgedCheckpoint` when either does not hold; None when there is none."""
    rows = await store.execute(_LATEST, chain=chain, read=True)
    if not rows:
        return None
    seq, digest = int(rows[0]["seq"]), str(rows[0]["hash"])
    if not hmac.compare_digest(str(rows[0]["mac"] or ""), mac(secret, chain, seq, digest)):
        raise ForgedCheckpoint(f"the checkpoint at seq {seq} is not signed with the hub's key")
    events = await store.execute(_EVENT_HASH, chain=chain, seq=seq, read=True)
    if not events or events[0]["hash"] != digest:
        raise ForgedCheckpoint(f"the event at seq {seq} no longer has its checkpoint's hash")
    return Checkpoint(seq, digest)
