"""The GraphQL types of a credit subject: the full record, its parts, the list summary and page."""

from __future__ import annotations

from datetime import date
from enum import Enum

import strawberry

from hub.api.context import guard
from hub.api.rating import Grade, Rating
from hub.api.records.types import CreditRecord, Restriction
from hub.api.rights.commitments import Commitment, subject_commitments


@strawberry.enum
class SubjectKind(Enum):
    COMPANY = "COMPANY"
    INDIVIDUAL_BUSINESS = "INDIVIDUAL_BUSINESS"
    INSTITUTION = "INSTITUTION"
    RURAL_COLLECTIVE = "RURAL_COLLECTIVE"
    OTHER = "OTHER"


@strawberry.type(description="An administrative division (GB/T 2260).")
class Division:
    code: str
    name: str | None


@strawberry.type(description="A natural person as the subject's legal representative.")
class Person:
    name: str
    since: date | None
    readable: strawberry.Private[frozenset[str]]
    masked: strawberry.Private[str | None]
    number: strawberry.Private[str | None]

    @strawberry.field(description="Resident ID, first 4 and last 4 shown (SHARED).")
    def id_masked(self, info: strawberry.Info) -> str | None:
        return guard(info, self.readable, "Person", "idMasked", self.masked)

    @strawberry.field(description="Full resident ID (CONFIDENTIAL, investigation purpose).")
    def id_number(self, info: strawberry.Info) -> str | None:
        return guard(info, self.readable, "Person", "idNumber", self.number)


@strawberry.type(description="Phones, addresses and e-mails on file (RESTRICTED).")
class Contacts:
    phones: list[str]
    addresses: list[str]
    emails: list[str]


@strawberry.type
class Sanction:
    id: str
    listing: str
    measures: list[str]
    start_date: date | None
    end_date: date | None
    status: str
    authority: str | None
    under_objection: bool = strawberry.field(
        default=False,
        description="异议处理中: the listing, or a record it rests on, is under objection.",
    )


@strawberry.type
class Licence:
    id: str
    kind: str
    number: str
    issued_on: date | None
    valid_until: date | None


@strawberry.type(description="A project and the subject's role in it.")
class ProjectRole:
    id: str
    name: str
    kind: str
    division: Division
    started_on: date | None
    role: str


@strawberry.type(description="A credit subject, keyed by its unified social credit code.")
class Subject:
    credit_code: str
    name: str
    kind: SubjectKind
    division: Division
    status: str
    registered_on: date | None
    grade: Grade | None
    legal_representative: Person | None
    rating: Rating | None
    records: list[CreditRecord]
    sanctions: list[Sanction]
    restrictions: list[Restriction] = strawberry.field(
        description="Consequences published records bring by themselves (e.g. barred from "
        "land auctions for an idle-land record), while they hold."
    )
    licences: list[Licence]
    projects: list[ProjectRole]
    readable: strawberry.Private[frozenset[str]]
    contact_data: strawberry.Private[Contacts | None]

    @strawberry.field(description="Its public credit commitments (信用承诺), newest first.")
    async def commitments(self, info: strawberry.Info) -> list[Commitment]:
        return await subject_commitments(info, self.credit_code)

    @strawberry.field(description="Contacts on file; null unless RESTRICTED is readable here.")
    def contacts(self, info: strawberry.Info) -> Contacts | None:
        return guard(info, self.readable, "Subject", "contacts", self.contact_data)


@strawberry.type(description="A subject in a list; open it with `subject` for the full record.")
class SubjectSummary:
    credit_code: str
    name: str
    kind: SubjectKind
    division: Division
    status: str
    grade: Grade | None


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class SubjectEdge:
    cursor: str
    node: SubjectSummary


@strawberry.type
class SubjectConnection:
    edges: list[SubjectEdge]
    page_info: PageInfo


@strawberry.input(name="SubjectFilter", description="All given conditions must hold.")
class SubjectFilterInput:
    name: str | None = strawberry.field(default=None, description="Part of the name.")
    division: str | None = strawberry.field(
        default=None,
        description="A division code: a banner's own, a league's (all its banners), or 150000.",
    )
    kind: SubjectKind | None = None
    grade: Grade | None = None
