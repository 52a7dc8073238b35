"""Partners' feedback on the measures they apply, and reconciliation against the hub's listings.

A partner reports, per listing and measure of its kind, whether it applies it
(``(:Partner)-[:APPLIED {measure, active, on, reportedAt, note}]->(:Sanction)``; a record
restriction, graph/records/restrictions.py, is reported and reconciled the same way). The scheduled
reconciliation compares that reported set with what the hub holds: a listing in force that the
partner has not reported applying some time after it was delivered, and a listing the partner
still applies after it ended, both get their latest event sent to the partner again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime

from graph.db import Store
from graph.exchange.outbox import RANKS, STATE_EVENT, requeue
from policies.credit.measures import Catalogue

_SANCTION = """
MATCH (p:Partner {code: $partner}), (n:Sanction|Restriction {id: $sanction})
WHERE $ranks[p.clearance] >= $ranks[n.disclosure]
RETURN p.kind AS kind, n.measures AS measures, n.status AS status
"""
_REPORT = """
MATCH (p:Partner {code: $partner}), (n:Sanction|Restriction {id: $sanction})
MERGE (p)-[a:APPLIED {measure: $measure}]->(n)
SET a.active = $active, a.on = $on, a.note = $note, a.reportedAt = $now
"""


class FeedbackError(ValueError):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


async def report(
    store: Store,
    catalogue: Catalogue,
    *,
    partner: str,
    sanction: str,
    measure: str,
    active: bool,
    on: date,
    note: str | None,
) -> None:
    """Record that ``partner`` applies (or stopped applying) ``measure`` of ``sanction``."""
    records = await store.execute(_SANCTION, partner=partner, sanction=sanction, ranks=RANKS)
    if not records:
        raise FeedbackError("unknown-sanction", f"no listing {sanction} known to {partner}")
    row = records[0]
    known = catalogue.measures.get(measure)
    if known is None or measure not in (row["measures"] or []):
        raise FeedbackError("unknown-measure", f"{sanction} carries no measure {measure}")
    if known.partner_kind != row["kind"]:
        raise FeedbackError("not-your-measure", f"{measure} is applied by {known.partner_kind}")
    await store.execute(
        _REPORT,
        partner=partner,
        sanction=sanction,
        measure=measure,
        active=active,
        on=on,
        note=(note or "")[:500] or None,
        now=datetime.now(UTC),
    )


# Listings the partner should apply (in force, of its kind, within its class) but has not
# reported applying, their last event delivered more than `grace` seconds ago.
_UNAPPLIED = f"""
MATCH (p:Partner {{code: $partner, status: 'ACTIVE'}})
MATCH (n:Sanction|Restriction {{status: 'ACTIVE'}})
WHERE any(m IN n.measures WHERE m IN $ours) AND $ranks[p.clearance] >= $ranks[n.disclosure]
  AND NOT EXISTS {{ (p)-[:APPLIED {{active: true}}]->(n) }}
CALL (n, p) {{
  MATCH (e:OutboxEvent {{sanction: n.id}}) WHERE e.version IS NOT NULL AND {STATE_EVENT}
  WITH e ORDER BY e.version DESC LIMIT 1
  OPTIONAL MATCH (d:Delivery {{id: e.id + '|' + p.code}})
  RETURN e, d
}}
WITH p, e, d WHERE d IS NOT NULL AND d.status <> 'PENDING'
  AND coalesce(d.deliveredAt, d.lastAttemptAt, 0) < $before
RETURN e.id AS event
"""
# Listings the partner still reports applying although they ended.
_STALE = f"""
MATCH (p:Partner {{code: $partner, status: 'ACTIVE'}})
      -[:APPLIED {{active: true}}]->(n:Sanction|Restriction)
WHERE n.status <> 'ACTIVE'
CALL (n) {{
  MATCH (e:OutboxEvent {{sanction: n.id}}) WHERE e.version IS NOT NULL AND {STATE_EVENT}
  RETURN e ORDER BY e.version DESC LIMIT 1
}}
RETURN DISTINCT e.id AS event
"""


@dataclass(frozen=True, slots=True)
class Reconciled:
    partner: str
    unapplied: int  # in force at the hub, not reported applied: sent again
    stale: int  # ended at the hub, still reported applied: the end sent again


async def reconcile(store: Store, catalogue: Catalogue, partner: str, grace: float) -> Reconciled:
    kind_records = await store.execute(
        "MATCH (p:Partner {code: $p}) RETURN p.kind AS kind", p=partner
    )
    if not kind_records:
        return Reconciled(partner, 0, 0)
    ours = [
        m.code for m in catalogue.measures.values() if m.partner_kind == kind_records[0]["kind"]
    ]
    now = time.time()
    unapplied = await store.execute(
        _UNAPPLIED,
        partner=partner,
        ours=ours,
        ranks=RANKS,
        before=now - grace,
    )
    stale = await store.execute(_STALE, partner=partner)
    events = sorted({r["event"] for r in unapplied} | {r["event"] for r in stale})
    await requeue(store, partner, events, now)
    return Reconciled(partner, len(unapplied), len(stale))
