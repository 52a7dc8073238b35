"""``openCase``, ``addCaseDocument`` and ``closeCase``: a unit opens a case on a subject of its
jurisdiction and adds its documents; a reviewer who did not open it closes it with its outcome,
which decides whether it counts in the rating (graph/cases/closing.py).

The checks on a document's fields are shared with ``POST /cases/{caseId}/documents``
(hub/http/rest/case_documents.py), which adds its PDF.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from enum import Enum

import strawberry

from graph.cases.closing import Closing, close_in
from graph.cases.model import Added, CaseRefused, NewCase, NewDocument
from graph.cases.reads import case_by_id
from graph.cases.writes import add_document as add_in
from graph.cases.writes import open_case
from graph.db import Store
from graph.rights.evidence import Evidence
from hub.api.cases.types import Case, case_view
from hub.api.context import RootPolicy, audit, ctx, parse_code, resolver
from hub.api.records.units import unit_of
from hub.errors import Code, HubError
from hub.settings import catalogue
from policies.cases import default_cases
from policies.credit.catalogue import default_catalogue
from policies.units import unit_prefix


@strawberry.input(description="A case to open on a subject of your jurisdiction.")
class CaseInput:
    credit_code: str
    title: str
    matter: str | None = strawberry.field(
        default=None, description="The catalogue item of the department's decision."
    )
    records: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="The subject's records the case concerns."
    )
    opened_on: date


@strawberry.input(description="A document of a case, as it was issued.")
class CaseDocumentInput:
    kind: str = strawberry.field(description="A document kind of policies/cases.yaml.")
    number: str = strawberry.field(description="Its own number (文号 / 案号), unique in the case.")
    issued_on: date
    authority: str
    summary: str = ""
    records: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="The case subject's records it concerns."
    )


@strawberry.enum(description="How a case ended (policies/cases.yaml outcomes).")
class CaseOutcome(Enum):
    UPHELD = "UPHELD"
    DISMISSED = "DISMISSED"
    OVERTURNED = "OVERTURNED"


@strawberry.type(description="A document added, or found already in the case by its number.")
class CaseDocumentAdded:
    id: str
    created: bool = strawberry.field(description="false: the case held that number already.")
    case: Case


def refused(exc: CaseRefused) -> HubError:
    return HubError(Code(exc.code), str(exc), reason=exc.reason)


def text(name: str, value: str, most: int, *, required: bool = True) -> str:
    """A text field stripped, or BAD_USER_INPUT naming it."""
    value = value.strip()
    if (required and not value) or len(value) > most:
        raise HubError(Code.BAD_USER_INPUT, f"{name}: 1-{most} characters", reason=name)
    return value


def not_after_today(name: str, day: date) -> date:
    if day > date.today():
        raise HubError(Code.BAD_USER_INPUT, f"{name} is in the future", reason=name)
    return day


def new_document(
    by: str,
    kind: str,
    number: str,
    issued_on: date,
    authority: str,
    summary: str,
    records: Sequence[str],
    file: Evidence | None = None,
) -> NewDocument:
    """A unit's document, its fields checked before anything is stored."""
    kind = kind.strip()
    if kind not in default_cases().documents:
        raise HubError(Code.BAD_USER_INPUT, f"unknown document kind {kind!r}", reason="kind")
    return NewDocument(
        kind=kind,
        number=text("number", number, 100),
        issued_on=not_after_today("issuedOn", issued_on),
        authority=text("authority", authority, 200),
        summary=text("summary", summary, 2000, required=False),
        records=tuple(str(r) for r in records),
        source="UNIT",
        by=by,
        file=file,
    )


async def add_document(store: Store, unit: str, case_id: str, document: NewDocument) -> Added:
    """Add a document to a case of the unit's jurisdiction; CaseRefused when refused."""
    return await add_in(store, case_id, document, unit_prefix(unit), default_cases(), date.today())


async def _read_back(info: strawberry.Info, case_id: str) -> Case:
    context = ctx(info)
    row = await case_by_id(context.store, case_id, context.scope)
    if row is None:  # written within the caller's jurisdiction, so readable by it
        raise HubError(Code.NOT_FOUND, "no such case in your jurisdiction")
    return case_view(row, default_cases(), date.today())


@strawberry.type
class CaseMutations:
    @strawberry.mutation(
        description="Open a case on a subject of your jurisdiction, concerning some of its "
        "records; an unknown subject or record, or one outside, is NOT_FOUND alike.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def open_case(self, info: strawberry.Info, input: CaseInput) -> Case:
        context = ctx(info)
        unit = unit_of(context.principal)
        code = parse_code(input.credit_code)
        matter = input.matter.strip() if input.matter else None
        if matter and default_catalogue().get(matter) is None:
            raise HubError(Code.BAD_USER_INPUT, f"unknown matter {matter!r}", reason="matter")
        case = NewCase(
            code=code,
            unit=unit,
            title=text("title", input.title, 200),
            matter=matter,
            opened_on=not_after_today("openedOn", input.opened_on),
            records=tuple(str(r) for r in input.records),
            by=context.principal.subject,
        )
        try:
            case_id = await open_case(context.store, case, unit_prefix(unit), date.today())
        except CaseRefused as exc:
            audit(info, code, case.records, "DENY", "write")
            raise refused(exc) from None
        audit(info, code, (case_id, *case.records), action="write")
        return await _read_back(info, case_id)

    @strawberry.mutation(
        description="Add a document to a case of your jurisdiction (its PDF through POST "
        "/cases/{caseId}/documents); a number the case holds already is left as it was.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def add_case_document(
        self, info: strawberry.Info, case_id: str, input: CaseDocumentInput
    ) -> CaseDocumentAdded:
        context = ctx(info)
        unit = unit_of(context.principal)
        document = new_document(
            context.principal.subject, input.kind, input.number, input.issued_on,
            input.authority, input.summary, input.records,
        )  # fmt: skip
        try:
            added = await add_document(context.store, unit, case_id, document)
        except CaseRefused as exc:
            audit(info, None, (case_id,), "DENY", "write")
            raise refused(exc) from None
        case = await _read_back(info, case_id)
        audit(info, case.credit_code, (case_id, added.id, *document.records), action="write")
        return CaseDocumentAdded(id=added.id, created=added.created, case=case)

    @strawberry.mutation(
        description="Close an open case of your jurisdiction with its outcome; not one you "
        "opened. DISMISSED and OVERTURNED take its records out of the rating and tell partners.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def close_case(
        self,
        info: strawberry.Info,
        case_id: str,
        outcome: CaseOutcome,
        reasons: str,
        closed_on: date | None = None,
    ) -> Case:
        context = ctx(info)
        unit = unit_of(context.principal)
        today = date.today()
        by = context.principal.subject
        closing = Closing(case_id, outcome.value, reasons, closed_on or today, by)
        try:
            closed = await context.store.write(
                close_in, closing, unit_prefix(unit), default_cases(), catalogue(), today
            )
        except CaseRefused as exc:
            audit(info, None, (case_id,), "DENY", "write")
            raise refused(exc) from None
        audit(info, closed.subject, (case_id, *closed.announced, *closed.ended), action="write")
        return await _read_back(info, case_id)
