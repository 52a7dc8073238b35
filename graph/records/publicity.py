"""Records pushed to partners: 双公示 publication to the partner kinds that collect it, and every
later change of a published record to every partner cleared for its class.

An administrative licence or penalty published through review is pushed to the partner kinds
that collect them (the regional public credit platform), as a ``record.published`` outbox event
written in the transaction that publishes it, so it has the webhooks' guarantees: signed,
ordered per subject, retried, dead-lettered, replayable. A published record later corrected,
withdrawn, repaired or taken out of the rating by its case's outcome is announced as
``record.changed`` in the transaction that changes it, to every partner kind, each partner
receiving it only up to its agreed class: a partner that may have read the record hears that it
changed, whether or not a listing rests on it.

Only items of the credit-information catalogue with a publication deadline in working days
(``publish_within_working_days``: the 7-working-day rule) are pushed; the event carries the
deadline so the platform can tell a late publication from a timely one.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from neo4j import AsyncManagedTransaction

from graph.exchange.outbox import Emitted, NewEvent, emit
from policies.credit.catalogue import default_catalogue
from policies.credit.measures import RECORD_EVENT, Catalogue

CHANGED_EVENT = "record.changed"
# CASE_DISMISSED / CASE_OVERTURNED: a case on the record closed with an outcome that does not
# count (policies/cases.yaml), so the record no longer counts against its subject.
Change = Literal["CORRECTED", "WITHDRAWN", "REPAIRED", "CASE_DISMISSED", "CASE_OVERTURNED"]

_RECORD = """
MATCH (s:Subject)-[:HAS_RECORD]->(r:CreditRecord {id: $id})
RETURN s.creditCode AS subject, s.name AS name,
  r {.id, .item, .category, .tier, .title, .document, .legalBasis, .disclosure, .sourceAgency,
     decidedOn: toString(r.decidedOn), publishedOn: toString(r.publishedOn),
     publishUntil: toString(r.publishUntil), publishDeadline: toString(r.publishDeadline)} AS r
"""


async def announce_published(
    tx: AsyncManagedTransaction, record_id: str, kinds: tuple[str, ...]
) -> Emitted | None:
    """Emit ``record.published`` for a record just published, when its item is under the
    working-day rule and some partner kind collects them; None otherwise."""
    if not kinds:
        return None
    row = await (await tx.run(_RECORD, id=record_id)).single()
    if row is None:
        return None
    record: dict[str, Any] = dict(row["r"])
    item = default_catalogue().get(record["item"])
    if item is None or item.publish_within_working_days is None:
        return None
    data = {
        "recordId": record["id"],
        "creditCode": row["subject"],
        "name": row["name"],
        "item": record["item"],
        "itemName": item.name,
        "category": record.get("category"),
        "tier": record.get("tier"),
        "title": record.get("title"),
        "document": record.get("document"),
        "legalBasis": record.get("legalBasis"),
        "authority": record.get("sourceAgency"),
        "decidedOn": record.get("decidedOn"),
        "publishedOn": record.get("publishedOn"),
        "publishUntil": record.get("publishUntil"),
        "publishDeadline": record.get("publishDeadline"),
    }
    return await emit(
        tx,
        NewEvent(
            RECORD_EVENT, row["subject"], None, record.get("disclosure") or "PUBLIC", kinds, data
        ),
    )


_CHANGED = """
MATCH (s:Subject)-[:HAS_RECORD]->(r:CreditRecord {id: $id})
RETURN s.creditCode AS subject,
  r {.id, .item, .tier, .title, .document, .legalBasis, .status, .disclosure, .sourceAgency,
     version: coalesce(r.version, 1), decidedOn: toString(r.decidedOn),
     publishUntil: toString(r.publishUntil)} AS r
"""


async def announce_changed(
    tx: AsyncManagedTransaction, catalogue: Catalogue, record_id: str, change: Change, on: date
) -> Emitted | None:
    """Emit ``record.changed`` for a published record just corrected (its new content),
    withdrawn or repaired (stop using it), in the transaction that changes it."""
    row = await (await tx.run(_CHANGED, id=record_id)).single()
    if row is None:
        return None
    record: dict[str, Any] = dict(row["r"])
    data = {"recordId": record_id, "creditCode": row["subject"], "change": change,
            "on": on.isoformat(), "status": record["status"], "version": record["version"],
            "authority": record.get("sourceAgency")}  # fmt: skip
    if change == "CORRECTED":  # the content now in force; the others say only: stop using it
        content = ("item", "tier", "title", "document", "legalBasis", "decidedOn", "publishUntil")
        data |= {k: record.get(k) for k in content}
    kinds = tuple(sorted(catalogue.partner_kinds))
    disclosure = record.get("disclosure") or "PUBLIC"
    return await emit(tx, NewEvent(CHANGED_EVENT, row["subject"], None, disclosure, kinds, data))
