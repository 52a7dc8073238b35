"""The GraphQL schema: types, root fields and their resolvers."""

from __future__ import annotations

import unicodedata
from collections.abc import AsyncIterator
from datetime import date, datetime
from enum import Enum
from typing import Any, TypeVar

import strawberry
from redis.exceptions import RedisError
from strawberry.extensions import ParserCache, SchemaExtension, ValidationCache
from strawberry.schema.config import StrawberryConfig

from graph.audit_chain import ChainedEvent, trail
from graph.subjects import ALL_PARTS, list_subjects, subject_by_code
from graph.subjects import SubjectFilter as GraphFilter
from hub.api.abnormal import AbnormalMutations
from hub.api.certificates import CertificateMutations
from hub.api.context import (
    Audited,
    Context,
    RootPolicy,
    bounded,
    decode_cursor,
    division_prefix,
    encode_cursor,
)
from hub.api.context import credit_code as _credit_code
from hub.api.context import ctx as _ctx
from hub.api.context import guard as _guard
from hub.api.context import selected as _selected
from hub.api.context import to_date as _date
from hub.api.determination import DeterminationMutations, DeterminationQueries
from hub.api.feed import FeedQueries
from hub.api.feedback import FeedbackMutations
from hub.api.investigate import ControlQueries, InvestigationQueries, NetworkQueries
from hub.api.partners import PartnerMutations, PartnerQueries
from hub.api.rating import Grade, Rating, rating_view
from hub.api.record_types import (
    CreditRecord,
    Restriction,
    record_view,
    released_ids,
    restriction_view,
)
from hub.api.records import RecordMutations, RecordQueries
from hub.api.search import SearchQueries
from hub.audit_log import entry as audit_entry
from hub.errors import Code, CodedErrors, HubError, backing_services
from policies.access import ReadScope
from policies.divisions import division as find_division

T = TypeVar("T")
DEFAULT_PAGE = 20
MAX_PAGE = 100


class AuditTrail(SchemaExtension):
    """Every answer that released or refused something is in the audit stream before it leaves:
    one pipelined XADD per request. If Redis will not take it, the data does not leave."""

    async def on_operation(self) -> AsyncIterator[None]:
        yield
        ctx = self.execution_context.context
        result = self.execution_context.result
        if not isinstance(ctx, Context) or ctx.audit_log is None:
            return
        ctx.audited.extend(ctx.unaudited())
        if not ctx.audited:
            return
        entries = [
            audit_entry(
                ctx.principal,
                ctx.request_id,
                action=item.action,
                field=item.field,
                subject=item.subject,
                released=item.released,
                withheld=tuple(ctx.redacted),
                decision="PARTIAL" if ctx.redacted and item.decision == "ALLOW" else item.decision,
            )
            for item in ctx.audited
        ]
        try:
            await ctx.audit_log.emit_all(entries)
        except RedisError:
            if result is not None:
                result.data = None
                result.errors = [
                    HubError(Code.UNAVAILABLE, "the audit store is unavailable; retry shortly")
                ]


def _parts(info: strawberry.Info) -> frozenset[str]:
    return ALL_PARTS & _selected(info.selected_fields[0].selections)


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


def _division(code: str) -> Division:
    found = find_division(code)
    return Division(code=code, name=found.name if found else None)


@strawberry.type(description="A natural person as the subject's legal representative.")
class Person:
    name: str
    since: date | None
    readable: strawberry.Private[frozenset[str]]
    masked: strawberry.Private[str | None]
    number: strawberry.Private[str | None]

    @strawberry.field(description="Resident ID, first 4 and last 4 shown (SHARED).")
    def id_masked(self, info: strawberry.Info) -> str | None:
        return _guard(info, self.readable, "Person", "idMasked", self.masked)

    @strawberry.field(description="Full resident ID (CONFIDENTIAL, investigation purpose).")
    def id_number(self, info: strawberry.Info) -> str | None:
        return _guard(info, self.readable, "Person", "idNumber", self.number)


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

    @strawberry.field(description="Contacts on file; null unless RESTRICTED is readable here.")
    def contacts(self, info: strawberry.Info) -> Contacts | None:
        return _guard(info, self.readable, "Subject", "contacts", self.contact_data)


def _released(row: dict[str, Any]) -> tuple[str, ...]:
    """What a lookup handed out, for the audit: rows by id, and fields above PUBLIC by name."""
    ids = [
        item["id"]
        for part in ("sanctions", "restrictions", "licences", "projects")
        for item in row.get(part) or []
    ]
    ids += [i for r in row.get("records") or [] for i in released_ids(r)]
    rep = row.get("legalRepresentative") or {}
    fields = [f"legalRepresentative.{f}" for f in ("idMasked", "idNumber") if rep.get(f)]
    if row.get("contacts"):
        fields.append("contacts")
    return (row["creditCode"], *ids, *fields)


def _subject(row: dict[str, Any], access: ReadScope) -> Subject:
    rep, rating, contacts = row.get("legalRepresentative"), row.get("rating"), row.get("contacts")
    readable = frozenset(row["readable"])
    return Subject(
        credit_code=row["creditCode"],
        name=row["name"],
        kind=SubjectKind(row["kind"]),
        division=_division(row["division"]),
        status=row["status"],
        registered_on=_date(row.get("registeredOn")),
        grade=Grade(row["grade"]) if row.get("grade") else None,
        legal_representative=Person(
            name=rep["name"],
            since=_date(rep.get("since")),
            readable=readable,
            masked=rep.get("idMasked"),
            number=rep.get("idNumber"),
        )
        if rep
        else None,
        rating=rating_view(rating, access, row["division"], date.today()) if rating else None,
        records=[record_view(r) for r in row.get("records") or []],
        restrictions=[restriction_view(x) for x in row.get("restrictions") or []],
        sanctions=[
            Sanction(
                id=x["id"],
                listing=x["listing"],
                measures=x.get("measures") or [],
                start_date=_date(x.get("startDate")),
                end_date=_date(x.get("endDate")),
                status=x["status"],
                authority=x.get("authority"),
            )
            for x in row.get("sanctions") or []
        ],
        licences=[
            Licence(
                id=lc["id"],
                kind=lc["kind"],
                number=lc["number"],
                issued_on=_date(lc.get("issuedOn")),
                valid_until=_date(lc.get("validUntil")),
            )
            for lc in row.get("licences") or []
        ],
        projects=[
            ProjectRole(
                id=p["id"],
                name=p["name"],
                kind=p["kind"],
                division=_division(p["division"]),
                started_on=_date(p.get("startedOn")),
                role=p["role"],
            )
            for p in row.get("projects") or []
        ],
        readable=readable,
        contact_data=Contacts(**contacts) if contacts else None,
    )


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


@strawberry.input(description="All given conditions must hold.")
class SubjectFilter:
    name: str | None = strawberry.field(default=None, description="Part of the name.")
    division: str | None = strawberry.field(
        default=None,
        description="A division code: a banner's own, a league's (all its banners), or 150000.",
    )
    kind: SubjectKind | None = None
    grade: Grade | None = None


@strawberry.type(name="Principal", description="The caller, as the hub understood its token.")
class PrincipalInfo:
    subject: str
    agency: str
    level: str
    division: str
    roles: list[str]
    clearance: str
    purpose: str | None


@strawberry.type(name="AuditEvent", description="One link of the tamper-evident audit chain.")
class AuditEventView:
    seq: int
    at: datetime
    request_id: str
    principal: str
    issuer: str
    agency: str
    roles: list[str]
    purpose: str | None
    action: str
    field: str
    subject: str | None
    released: list[str]
    withheld: list[str]
    decision: str
    reason: str | None
    hash: str


def _audit_view(item: ChainedEvent) -> AuditEventView:
    e = item.event
    return AuditEventView(
        seq=item.seq,
        at=datetime.fromisoformat(e.at),
        request_id=e.request_id,
        principal=e.principal,
        issuer=e.issuer,
        agency=e.agency,
        roles=list(e.roles),
        purpose=e.purpose,
        action=e.action,
        field=e.field,
        subject=e.subject,
        released=list(e.released),
        withheld=list(e.withheld),
        decision=e.decision,
        reason=e.reason,
        hash=item.hash,
    )


def _graph_filter(flt: SubjectFilter | None) -> GraphFilter:
    if flt is None:
        return GraphFilter()
    name = None
    if flt.name is not None:
        name = unicodedata.normalize("NFKC", flt.name).strip()
        if not 1 <= len(name) <= 50:
            raise HubError(Code.BAD_USER_INPUT, "filter.name must be 1-50 characters")
    prefix = None
    if flt.division is not None:
        prefix = division_prefix(flt.division)
    return GraphFilter(
        name=name,
        division_prefix=prefix,
        kind=flt.kind.value if flt.kind else None,
        grade=flt.grade.value if flt.grade else None,
    )


@strawberry.type
class Query(
    RecordQueries,
    InvestigationQueries,
    NetworkQueries,
    ControlQueries,
    SearchQueries,
    PartnerQueries,
    FeedQueries,
    DeterminationQueries,
):
    @strawberry.field(
        description="A subject by credit code; null when unknown or not visible.",
        permission_classes=[RootPolicy],
    )
    async def subject(self, info: strawberry.Info, credit_code: str) -> Subject | None:
        ctx = _ctx(info)
        code = _credit_code(credit_code)
        with backing_services():
            row = await subject_by_code(
                ctx.driver,
                ctx.database,
                code,
                ctx.scope,
                ctx.query_timeout,
                _parts(info),
            )
        if row is None:
            return None
        ctx.audited.append(Audited("subject", code, _released(row)))
        return _subject(row, ctx.access)

    @strawberry.field(
        description="Subjects in credit-code order, in pages of at most 100.",
        permission_classes=[RootPolicy],
    )
    async def subjects(
        self,
        info: strawberry.Info,
        filter: SubjectFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> SubjectConnection:
        ctx = _ctx(info)
        size = DEFAULT_PAGE if first is None else first
        if size < 1:
            raise HubError(Code.BAD_USER_INPUT, "first must be at least 1")
        ceiling = min(MAX_PAGE, ctx.policy.page_max(ctx.principal))
        if size > ceiling:
            raise HubError(Code.LIMIT_EXCEEDED, f"first may be at most {ceiling}", max=ceiling)
        start = decode_cursor(after) if after else ""
        with backing_services():
            rows = await list_subjects(
                ctx.driver,
                ctx.database,
                _graph_filter(filter),
                ctx.scope,
                start,
                size + 1,
                ctx.query_timeout,
            )
        page = rows[:size]
        ctx.audited.append(Audited("subjects", None, tuple(r["creditCode"] for r in page)))
        edges = [
            SubjectEdge(
                cursor=encode_cursor(r["creditCode"]),
                node=SubjectSummary(
                    credit_code=r["creditCode"],
                    name=r["name"],
                    kind=SubjectKind(r["kind"]),
                    division=_division(r["division"]),
                    status=r["status"],
                    grade=Grade(r["grade"]) if r.get("grade") else None,
                ),
            )
            for r in page
        ]
        return SubjectConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(rows) > size,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )

    @strawberry.field(
        description="The audit trail of a subject or of an agency, oldest first (admin).",
        permission_classes=[RootPolicy],
    )
    async def audit_trail(
        self,
        info: strawberry.Info,
        subject: str | None = None,
        agency: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        after_seq: int = 0,
        first: int = 100,
    ) -> list[AuditEventView]:
        ctx = _ctx(info)
        if subject is None and agency is None:
            raise HubError(Code.BAD_USER_INPUT, "give a subject, an agency or both")
        bounded("first", first, 1, MAX_PAGE)
        code = _credit_code(subject) if subject is not None else None
        with backing_services():
            events = await trail(
                ctx.driver,
                ctx.database,
                subject=code,
                agency=agency,
                since=since,
                until=until,
                after_seq=after_seq,
                limit=first,
            )
        ctx.audited.append(Audited("auditTrail", code, tuple(str(e.seq) for e in events)))
        return [_audit_view(e) for e in events]

    @strawberry.field(description="Who the hub thinks is calling.", permission_classes=[RootPolicy])
    def me(self, info: strawberry.Info) -> PrincipalInfo:
        context = _ctx(info)
        p = context.principal
        context.audited.append(Audited("me", None, (p.subject,)))
        return PrincipalInfo(
            subject=p.subject,
            agency=p.agency,
            level=p.level,
            division=p.division,
            roles=sorted(p.roles),
            clearance=p.clearance.name,
            purpose=p.purpose,
        )


@strawberry.type
class Mutation(
    RecordMutations,
    PartnerMutations,
    DeterminationMutations,
    FeedbackMutations,
    AbnormalMutations,
    CertificateMutations,
):
    pass


schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    config=StrawberryConfig(disable_field_suggestions=True),
    # Classes, not instances: Strawberry builds one per operation.
    extensions=[CodedErrors, AuditTrail, ParserCache, ValidationCache],
)
