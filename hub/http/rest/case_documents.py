"""``POST /cases/{caseId}/documents``: a unit adds a case document with its PDF (multipart), the
same checks and write as ``addCaseDocument``; ``GET /cases/{caseId}/documents/{documentId}/file``
hands the PDF to a caller who may read the case, and to nobody else.

Form fields: ``kind``, ``number``, ``issuedOn``, ``authority``, ``summary``, ``records`` (one
field per record id) and one ``file``, a PDF by its bytes (policies/cases.yaml ``file``). A body
declared over the file's limit is refused before it is read; a refused file stores nothing.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from connectors.storage.base import MissingObject, chunks
from graph.cases.model import CaseRefused
from graph.cases.reads import case_subject, document_file
from hub.api.cases.mutations import add_document, new_document, refused
from hub.api.records.units import unit_of
from hub.errors import Code, HubError
from hub.evidence import EvidenceRefused, evidence_key, evidence_storage, files_of, store
from hub.http.bodies import BodyTooLarge, check_length
from hub.http.rest.endpoint import Rest, Rule
from policies.access import read_scope
from policies.cases import default_cases
from policies.principal import Principal
from policies.units import unit_prefix

FORM_OVERHEAD = 65536  # the text fields and the multipart framing around the file


def _may_call(field: str, doing: str) -> Rule:
    """The roles access.yaml gives the GraphQL field that does the same."""

    def refusal(request: Request, principal: Principal) -> str | None:
        if request.app.state.policy.may_call(principal, field):
            return None
        return f"your role may not {doing}"

    return refusal


DOCUMENTS = Rest(
    "POST /cases/{caseId}/documents", "write", _may_call("addCaseDocument", "add case documents")
)
FILES = Rest(
    "GET /cases/{caseId}/documents/{documentId}/file", "read", _may_call("case", "read cases")
)


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise HubError(Code.BAD_USER_INPUT, f"{name}: a date YYYY-MM-DD", reason=name) from None


@DOCUMENTS.endpoint
async def post_case_document(request: Request, principal: Principal) -> Response:
    rules = default_cases().file
    case_id = str(request.path_params["case"])
    unit = unit_of(principal)
    try:
        check_length(request, rules.max_total_bytes + FORM_OVERHEAD, "a case document")
    except BodyTooLarge as exc:
        return exc.response()
    form = await request.form(max_files=rules.max_count + 1, max_fields=120)
    records = [r for r in form.getlist("records") if isinstance(r, str) and r]
    document = new_document(
        principal.subject, _field(form, "kind"), _field(form, "number"),
        _day(_field(form, "issuedOn"), "issuedOn"), _field(form, "authority"),
        _field(form, "summary"), records,
    )  # fmt: skip
    app = request.app.state
    subject = await case_subject(app.store, case_id, unit_prefix(unit))
    if subject is None:
        await DOCUMENTS.audit(request, principal, "DENY", released=(case_id,))
        raise HubError(Code.NOT_FOUND, "no such case in your jurisdiction", reason="unknown")
    try:
        files = await files_of(form, "file", rules)
        if not files:
            raise EvidenceRefused("one PDF is needed in the field file")
        (kept,) = await store(files, rules)
    except EvidenceRefused as exc:
        raise HubError(Code.BAD_USER_INPUT, str(exc), reason="file") from None
    try:
        added = await add_document(app.store, unit, case_id, replace(document, file=kept))
    except CaseRefused as exc:
        await DOCUMENTS.audit(request, principal, "DENY", subject=subject, released=(case_id,))
        raise refused(exc) from None
    await DOCUMENTS.audit(
        request, principal, "ALLOW", subject=subject, released=(case_id, added.id, kept.id)
    )
    return JSONResponse(
        {"id": added.id, "created": added.created, "file": kept.id},
        status_code=201 if added.created else 200,
    )


@FILES.endpoint
async def get_case_document_file(request: Request, principal: Principal) -> Response:
    case_id = str(request.path_params["case"])
    document = str(request.path_params["document"])
    app = request.app.state
    scope = read_scope(principal, app.policy).params()
    found = await document_file(app.store, case_id, document, scope)
    if found is None:
        await FILES.audit(request, principal, "DENY", released=(case_id, document))
        raise HubError(Code.NOT_FOUND, "no such document file")
    try:
        reader = await asyncio.to_thread(evidence_storage().open, evidence_key(found["sha256"]))
    except MissingObject:
        raise HubError(Code.NOT_FOUND, "no such document file") from None
    try:
        await FILES.audit(
            request, principal, "ALLOW", subject=found["subject"], released=(case_id, document)
        )
    except HubError:
        reader.close()
        raise
    return StreamingResponse(  # read from storage a piece at a time, in a thread
        chunks(reader),
        media_type=found["type"] or "application/octet-stream",
        headers={
            "Content-Disposition": _attachment(found["name"] or "file"),
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _attachment(name: str) -> str:
    """A download named ``name``, in RFC 6266's form for a name outside ASCII."""
    quoted = quote(name)
    return (
        f'attachment; filename="{name}"'
        if quoted == name
        else f"attachment; filename*=utf-8''{quoted}"
    )
