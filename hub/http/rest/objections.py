"""``POST /objections``: a subject files an objection with its evidence files (multipart), for
API users; the same checks and record as ``fileObjection`` (hub/api/rights/objections.py), which
takes no files because GraphQL here speaks JSON only.

Form fields: ``recordId`` or ``sanctionId``, ``reasons``, and up to the rules' count of
``evidence`` files (policies/rights.yaml ``attachments``). A body declared over the files' total
limit is refused before it is read.
"""

from __future__ import annotations

from datetime import date

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from graph.rights.objections import Filing, ObjectionRefused, file_objection
from hub.api.rights.objections import coded
from hub.errors import Code, HubError
from hub.evidence import EvidenceRefused, files_of, store
from hub.http.bodies import BodyTooLarge, check_length
from hub.http.rest.endpoint import Rest
from hub.settings import catalogue
from policies.principal import Principal
from policies.rights import default_rights

FORM_OVERHEAD = 65536  # the text fields and the multipart framing around the files


def _refusal(request: Request, principal: Principal) -> str | None:
    """The roles ``fileObjection`` allows (a subject), speaking for its own code."""
    if request.app.state.policy.may_call(principal, "fileObjection") and principal.own_code():
        return None
    return "only a subject signed in for itself files objections"


OBJECTIONS = Rest("POST /objections", "write", _refusal)


@OBJECTIONS.endpoint
async def post_objection(request: Request, principal: Principal) -> Response:
    rules = default_rights()
    try:
        check_length(request, rules.attachments.max_total_bytes + FORM_OVERHEAD, "an objection")
    except BodyTooLarge as exc:
        return exc.response()
    form = await request.form(max_files=rules.attachments.max_count + 1, max_fields=10)
    record, sanction = form.get("recordId"), form.get("sanctionId")
    if (isinstance(record, str) and bool(record)) == (isinstance(sanction, str) and bool(sanction)):
        raise HubError(Code.BAD_USER_INPUT, "name either recordId or sanctionId")
    code = principal.own_code() or ""
    kind, target = ("RECORD", str(record)) if record else ("LISTING", str(sanction))
    reasons = form.get("reasons")
    try:
        files = await files_of(form, "evidence", rules.attachments)
        kept = await store(files, rules.attachments)
        filing = Filing(
            code, kind, target, reasons if isinstance(reasons, str) else "", principal.subject,
            tuple(kept),
        )  # fmt: skip
        row = await file_objection(
            request.app.state.store, catalogue(), rules, filing, date.today()
        )
    except EvidenceRefused as exc:
        raise HubError(Code.BAD_USER_INPUT, str(exc), reason="evidence") from None
    except ObjectionRefused as exc:
        await OBJECTIONS.audit(request, principal, "DENY", subject=code, released=(target,))
        raise coded(exc) from None
    await OBJECTIONS.audit(request, principal, "ALLOW", subject=code, released=(row["id"], target))
    return JSONResponse(
        {"id": row["id"], "status": row["status"], "dueOn": row["dueOn"],
         "evidence": [e["id"] for e in row["evidence"]]},
        status_code=201,
    )  # fmt: skip
