"""``myArchive``: a signed-in subject's whole archive about itself, every class and status.

The subject is the one the token speaks for (``Principal.own_code()``); the field takes no code,
so no argument can turn it on another company. Everything above PUBLIC it hands out is audited
as a non-public read, like a unit's.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import strawberry

from graph.records.determination import CaseView
from graph.rights.archive import Archive, own_archive
from hub.api.context import RootPolicy, audit, ctx, resolver
from hub.api.rating import Rating, rating_view
from hub.api.records.listings import ListingCase, case_view
from hub.api.records.types import CreditRecord, record_view, released_ids
from hub.api.subjects.rows import division_view, sanction_view
from hub.api.subjects.types import Division, Sanction
from hub.errors import Code, HubError
from policies.access import own_archive_scope


@strawberry.type(description="Everything the hub holds about the signed-in subject.")
class SubjectArchive:
    credit_code: str
    name: str
    kind: str
    division: Division
    status: str
    records: list[CreditRecord] = strawberry.field(
        description="Every record about it, of every class and status (pending, published, "
        "withdrawn, expired, repaired), newest decision first, with earlier versions."
    )
    sanctions: list[Sanction] = strawberry.field(description="Listings in force and ended.")
    listing_cases: list[ListingCase] = strawberry.field(
        description="Listing cases about it, newest first, with every step."
    )
    rating: Rating | None = strawberry.field(description="Its current rating and its reasons.")


def _by_unit(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A case's steps as the company reads them: each by its unit, not by the official's
    account (a unit's staff identifiers are not the company's to read)."""
    return [{**step, "by": step["unit"]} for step in steps]


def archive_view(archive: Archive, today: date) -> SubjectArchive:
    return SubjectArchive(
        credit_code=archive.credit_code,
        name=archive.name,
        kind=archive.kind,
        division=division_view(archive.division),
        status=archive.status,
        records=[record_view(r) for r in archive.records],
        sanctions=[sanction_view(x) for x in archive.sanctions],
        listing_cases=[case_view(CaseView(c, archive.name, _by_unit(s))) for c, s in archive.cases],
        rating=rating_view(archive.rating, own_archive_scope(), archive.division, today)
        if archive.rating
        else None,
    )


def released(archive: Archive) -> tuple[str, ...]:
    """What the archive hands out, for the audit: every row by id."""
    return (
        archive.credit_code,
        *(i for r in archive.records for i in released_ids(r)),
        *(x["id"] for x in archive.sanctions),
        *(str(c["id"]) for c, _ in archive.cases),
    )


@strawberry.type
class ArchiveRightsQueries:
    @strawberry.field(
        description="Your own archive (a subject's token): every record of every class and "
        "status, sanctions, listing cases and rating; null when the hub holds nothing on you.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def my_archive(self, info: strawberry.Info) -> SubjectArchive | None:
        context = ctx(info)
        code = context.principal.own_code()
        if code is None:  # a subject role without a code: access.yaml lets only subjects in
            raise HubError(Code.FORBIDDEN, "only a signed-in subject has an archive of its own")
        found = await own_archive(context.store, code)
        if found is None:
            audit(info, code, ())
            return None
        audit(info, code, released(found))
        return archive_view(found, date.today())
