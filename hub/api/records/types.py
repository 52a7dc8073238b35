"""Credit records as the API shows them: the current version, its earlier versions and the
change proposed for it, and the restrictions records bring (shared by subject lookups and
``creditRecord``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import strawberry

from hub.api.context import to_date, to_datetime


@strawberry.type(description="An earlier version of a record, replaced by an approved correction.")
class RecordVersion:
    id: str
    version: int
    item: str
    tier: str | None
    title: str
    decided_on: date | None
    document: str | None
    legal_basis: str | None
    disclosure: str
    publish_until: date | None
    replaced_at: datetime | None
    change_reason: str | None = strawberry.field(description="Why it was corrected.")


@strawberry.type(description="A correction or withdrawal proposed for a published record.")
class RecordChange:
    id: str
    kind: str = strawberry.field(description="CORRECTION or WITHDRAWAL.")
    status: str = strawberry.field(description="PENDING or RETURNED.")
    reason: str
    tier: str | None
    title: str
    decided_on: date | None
    document: str | None
    legal_basis: str | None
    disclosure: str
    approvals: int
    submitted_at: datetime | None
    return_reason: str | None


@strawberry.type
class CreditRecord:
    id: str
    item: str
    category: str
    tier: str | None
    title: str
    decided_on: date | None
    document: str | None
    legal_basis: str | None
    publish_from: date | None
    publish_until: date | None
    published_on: date | None
    status: str
    disclosure: str
    agency: str | None
    version: int = strawberry.field(description="1, plus one for each approved correction.")
    withdrawn_on: date | None
    versions: list[RecordVersion] = strawberry.field(
        description="Earlier versions, newest first (those of a class you may read)."
    )
    pending_change: RecordChange | None = strawberry.field(
        description="A correction or withdrawal waiting for review (its unit and reviewers)."
    )
    under_objection: bool = strawberry.field(
        default=False,
        description="异议处理中: its subject objected and the objection is not closed yet.",
    )


@strawberry.type(description="A consequence a published record brings by itself, no listing.")
class Restriction:
    id: str
    code: str = strawberry.field(description="The measure, e.g. LAND_AUCTION_BARRED.")
    name: str
    since: date | None
    until: date | None
    based_on: list[str] = strawberry.field(description="The records it follows from.")
    authority: str | None


def _content(row: dict[str, Any]) -> dict[str, Any]:
    """What every version of a record and a proposed change carry alike: the decision."""
    return {
        "tier": row.get("tier"),
        "decided_on": to_date(row.get("decidedOn")),
        "document": row.get("document"),
        "legal_basis": row.get("legalBasis"),
        "disclosure": row["disclosure"],
    }


def _version(v: dict[str, Any]) -> RecordVersion:
    return RecordVersion(
        id=v["id"],
        version=v["version"],
        item=v["item"],
        title=v["title"],
        **_content(v),
        publish_until=to_date(v.get("publishUntil")),
        replaced_at=to_datetime(v.get("replacedAt")),
        change_reason=v.get("changeReason"),
    )


def _change(c: dict[str, Any]) -> RecordChange:
    return RecordChange(
        id=c["id"],
        kind=c["kind"],
        status=c["status"],
        reason=c.get("reason") or "",
        title=c.get("title") or "",
        **_content(c),
        approvals=c.get("approvals") or 0,
        submitted_at=to_datetime(c.get("submittedAt")),
        return_reason=c.get("returnReason"),
    )


def record_view(r: dict[str, Any]) -> CreditRecord:
    change = r.get("change")
    return CreditRecord(
        id=r["id"],
        item=r["item"],
        category=r["category"],
        title=r["title"],
        **_content(r),
        publish_from=to_date(r.get("publishFrom")),
        publish_until=to_date(r.get("publishUntil")),
        published_on=to_date(r.get("publishedOn")),
        status=r["status"],
        agency=r.get("sourceAgency"),
        version=r.get("version") or 1,
        withdrawn_on=to_date(r.get("withdrawnOn")),
        versions=[_version(v) for v in r.get("versions") or []],
        pending_change=_change(change) if change else None,
        under_objection=bool(r.get("underObjection")),
    )


def released_ids(r: dict[str, Any]) -> list[str]:
    """What a record row hands out, for the audit: it, its versions and its pending change."""
    change = r.get("change")
    return [
        r["id"],
        *(v["id"] for v in r.get("versions") or []),
        *([change["id"]] if change else []),
    ]


def restriction_view(x: dict[str, Any]) -> Restriction:
    return Restriction(
        id=x["id"],
        code=x["code"],
        name=x["name"],
        since=to_date(x.get("since")),
        until=to_date(x.get("until")),
        based_on=list(x.get("basedOn") or []),
        authority=x.get("authority"),
    )
