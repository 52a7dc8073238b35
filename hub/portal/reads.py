"""What each portal page shows, read at the public's scope and shaped for the templates.

The portal reads as the principal anonymous GraphQL callers are too (the ``public`` role, PUBLIC
clearance): :func:`policies.access.read_scope` gives it PUBLIC rows everywhere and nothing else,
and every query below compiles that scope into its ``WHERE``, so a SHARED record, a pending one
or a contact value cannot reach a page. Personal data (people, ID numbers, contacts) is never
asked for: the subject lookup selects only the subject's own row, its rating, published
records, listings and restrictions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

from graph.db import Store
from graph.identifiers import InvalidIdentifier, validate_uscc
from graph.public import ListingCursor, find_by_name, honoured, latest_publicity, listed
from graph.subjects import NESTED_CAP, subject_query
from hub.api.rating import Rating, rating_view
from policies.access import ReadScope, read_scope
from policies.credit import listings
from policies.credit.catalogue import default_catalogue
from policies.credit.measures import default_measures
from policies.divisions import find_division
from policies.principal import public_principal
from policies.units import units_by_code

PUBLIC = public_principal("portal")
HONOUR_GRADES = ["AAA", "AA", "A"]
_SUBJECT_PARTS = frozenset({"rating", "records", "sanctions", "restrictions"})

KIND_NAMES = {
    "COMPANY": "企业",
    "INDIVIDUAL_BUSINESS": "个体工商户",
    "INSTITUTION": "事业单位",
    "RURAL_COLLECTIVE": "农村集体经济组织",
    "OTHER": "其他",
}
STATUS_NAMES = {"ACTIVE": "存续", "REVOKED": "吊销", "CANCELLED": "注销"}
GRADE_CLASS = {"A": "守信", "B": "基本守信", "C": "失信"}


@cache
def public_scope() -> ReadScope:
    """The public's scope: the same for every request, so worked out once."""
    return read_scope(PUBLIC)


def authority_name(code: str | None) -> str:
    unit = units_by_code().get(code or "")
    return unit.name if unit else (code or "")


def division_name(code: str | None) -> str:
    found = find_division(code or "")
    return found.name if found else (code or "")


def parse_code(text: str) -> str | None:
    """A credit code typed any way the API accepts (full-width, spaces, dashes), or None."""
    try:
        return validate_uscc(text)
    except InvalidIdentifier:
        return None


@dataclass(frozen=True, slots=True)
class Listing:
    id: str
    credit_code: str
    name: str
    listing: str
    listing_name: str
    authority: str
    decided_on: str
    until: str | None
    measures: list[str]
    under_objection: bool = False  # 异议处理中 (graph/rights/objected.py)


@dataclass(frozen=True, slots=True)
class PublishedRecord:
    id: str
    credit_code: str
    name: str
    item_name: str
    title: str
    document: str | None
    authority: str
    decided_on: str | None
    published_on: str | None
    until: str | None
    under_objection: bool = False  # 异议处理中 (graph/rights/objected.py)


@dataclass(frozen=True, slots=True)
class SubjectPage:
    credit_code: str
    name: str
    kind: str
    division: str
    status: str
    rating: Rating | None
    grade_class: str | None
    listings: list[Listing]
    records: list[PublishedRecord]
    restrictions: list[dict[str, Any]] = field(default_factory=list)


def _listing(row: dict[str, Any], code: str, name: str) -> Listing:
    measures = default_measures()
    return Listing(
        id=row["id"],
        credit_code=code,
        name=name,
        listing=row["listing"],
        listing_name=listings.NAMES.get(row["listing"], row["listing"]),
        authority=authority_name(row.get("authority")),
        decided_on=row.get("decidedOn") or row.get("startDate") or "",
        until=row.get("until") or row.get("endDate"),
        measures=[
            m.name if (m := measures.measures.get(c)) else c for c in row.get("measures") or []
        ],
        under_objection=bool(row.get("underObjection")),
    )


def _record(row: dict[str, Any], code: str, name: str) -> PublishedRecord:
    item = default_catalogue().get(row.get("item") or "")
    return PublishedRecord(
        id=row["id"],
        credit_code=code,
        name=name,
        item_name=item.name if item else (row.get("item") or ""),
        title=row.get("title") or "",
        document=row.get("document"),
        authority=authority_name(row.get("authority") or row.get("sourceAgency")),
        decided_on=row.get("decidedOn"),
        published_on=row.get("publishedOn"),
        until=row.get("until") or row.get("publishUntil"),
        under_objection=bool(row.get("underObjection")),
    )


def _in_force(row: dict[str, Any], today: date) -> bool:
    end = row.get("endDate")
    return row.get("status") == "ACTIVE" and (not end or date.fromisoformat(end) >= today)


async def subject_page(store: Store, code: str, today: date) -> SubjectPage | None:
    """The subject as the public sees it; None when unknown or not public (the same answer)."""
    scope = public_scope()
    rows = await store.read(
        subject_query(_SUBJECT_PARTS), code=code, cap=NESTED_CAP, **scope.params()
    )
    if not rows:
        return None
    s = dict(rows[0]["subject"])
    rating = rating_view(s["rating"], scope, s["division"], today) if s.get("rating") else None
    return SubjectPage(
        credit_code=s["creditCode"],
        name=s["name"],
        kind=KIND_NAMES.get(s.get("kind") or "", s.get("kind") or ""),
        division=division_name(s.get("division")),
        status=STATUS_NAMES.get(s.get("status") or "", s.get("status") or ""),
        rating=rating,
        grade_class=GRADE_CLASS[rating.grade.value[0]] if rating else None,
        listings=[
            _listing(x, s["creditCode"], s["name"])
            for x in s.get("sanctions") or []
            if _in_force(x, today)
        ],
        records=[
            _record(r, s["creditCode"], s["name"])
            for r in s.get("records") or []
            if r.get("status") == "PUBLISHED"
        ],
        restrictions=list(s.get("restrictions") or []),
    )


async def listing_page(
    store: Store, listing: str, division: str | None, after: ListingCursor | None, limit: int
) -> list[Listing]:
    rows = await listed(
        store, public_scope().params(), listing, division=division, after=after, limit=limit
    )
    return [_listing(r, r["creditCode"], r["name"]) for r in rows]


async def publicity_page(store: Store, limit: int) -> list[PublishedRecord]:
    items = [c for c, i in default_catalogue().items() if i.publish_within_working_days]
    rows = await latest_publicity(store, public_scope().params(), items, limit)
    return [_record(r, r["creditCode"], r["name"]) for r in rows]


async def honour_page(
    store: Store, division: str | None, after: str, limit: int
) -> list[dict[str, Any]]:
    rows = await honoured(
        store, public_scope().params(), HONOUR_GRADES, division=division, after=after, limit=limit
    )
    return [{**r, "divisionName": division_name(r.get("division"))} for r in rows]


async def search_page(store: Store, text: str, limit: int) -> list[dict[str, Any]]:
    hits = await find_by_name(store, public_scope().params(), text, limit)
    return [{**h, "divisionName": division_name(h.get("division"))} for h in hits]
