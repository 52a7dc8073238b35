"""The active set as the feed saw it at one version: how a partner registered today starts.

A listing is in the snapshot at version V when its last event at or before V is not
``sanction.ended``; the entry is that event. Because the feed version is gap-free and a
version is only visible once its event has committed, the snapshot at V followed by the delta
feed after V is every listing exactly once: nothing missed in between, nothing counted twice.
Pollers page through ``snapshot``; a partner with an endpoint gets the same set queued as
deliveries when it is registered (``queue_active_set``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from graph.associations.membership import members_only
from graph.db import Store
from graph.exchange.outbox import RANKS, STATE_EVENT, FeedEvent
from policies.access import cypher_readable

CURRENT = "OPTIONAL MATCH (c:Counter {name: 'feed'}) RETURN coalesce(c.value, 0) AS version"

# In listing-id order after a key, what the caller may read (policies/access.py: the event's
# class, its subject's division, the listing's authority), of the partner kind asked.
SNAPSHOT = f"""
MATCH (n:Sanction|Restriction) WHERE n.id > $key
CALL (n) {{
  MATCH (e:OutboxEvent {{sanction: n.id}}) WHERE e.version <= $asOf AND {STATE_EVENT}
  RETURN e ORDER BY e.version DESC LIMIT 1
}}
WITH n, e WHERE e.type <> 'sanction.ended' AND ($kind IS NULL OR $kind IN e.kinds)
  AND {members_only("$association", "e.subject")}
OPTIONAL MATCH (s:Subject {{creditCode: e.subject}})
WITH n, e, s WHERE {cypher_readable("e", "s.division", "n.authority")}
WITH n, e ORDER BY n.id LIMIT $first
RETURN n.id AS key, e.version AS version, e.id AS id, e.type AS type, e.data AS data,
  e.createdAt AS at
"""


async def current_version(store: Store) -> int:
    records = await store.read(CURRENT)
    return int(records[0]["version"]) if records else 0


async def snapshot(
    store: Store,
    as_of: int,
    key: str,
    first: int,
    scope: Mapping[str, Any],
    kind: str | None,
    association: str | None = None,
) -> list[tuple[str, FeedEvent]]:
    """Up to ``first`` listings active at feed version ``as_of`` after listing id ``key``;
    for an association's partner, only its members'."""
    records = await store.read(
        SNAPSHOT,
        association=association,
        asOf=as_of,
        key=key,
        first=first,
        kind=kind,
        **scope,
    )
    return [
        (r["key"], FeedEvent(r["version"], r["id"], r["type"], json.loads(r["data"]), r["at"]))
        for r in records
    ]


# A new partner with an endpoint: each listing's last event, when it is not an end, of the
# partner's kind and class, becomes a pending delivery. Made only where none exists, so an event
# written since the registration (which made its own) is not sent twice; the original seq keeps
# each subject's later events behind it.
QUEUE_ACTIVE = f"""
MATCH (p:Partner {{code: $partner}}) WHERE p.endpoint IS NOT NULL AND p.status <> 'DISABLED'
MATCH (n:Sanction|Restriction)
CALL (n) {{
  MATCH (e:OutboxEvent {{sanction: n.id}}) WHERE e.version IS NOT NULL AND {STATE_EVENT}
  RETURN e ORDER BY e.version DESC LIMIT 1
}}
WITH p, e WHERE e.type <> 'sanction.ended' AND p.kind IN e.kinds
  AND $ranks[p.clearance] >= $ranks[e.disclosure]
  AND (e.type IN p.events OR 'sanction.listed' IN p.events)
  AND {members_only("p.association", "e.subject")}
MERGE (d:Delivery {{id: e.id + '|' + p.code}})
ON CREATE SET d.event = e.id, d.partner = p.code, d.subject = e.subject, d.seq = e.seq,
  d.version = e.version, d.shard = e.shard, d.status = 'PENDING', d.attempts = 0,
  d.nextAt = $now, d.createdAt = $now, d.bootstrap = true
RETURN count(d) AS n
"""


async def queue_active_set(store: Store, partner: str) -> int:
    """Queue the current active set for a partner just registered; how many deliveries."""
    records = await store.execute(QUEUE_ACTIVE, partner=partner, ranks=RANKS, now=time.time())
    return int(records[0]["n"]) if records else 0
