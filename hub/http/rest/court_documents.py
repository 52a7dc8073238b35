"""``POST /court-documents``: a unit files the court and police documents it received, as JSON
Lines or CSV; each row is attached to its case, queued for a person, or refused, and the answer
reports every row.

The rows are those of a court document feed in our field names (docs/data-format.md). A file of
court documents is small (a unit's mail of a few weeks), so it is applied while the caller waits,
within :data:`MAX_BYTES`; its rows carry the source ``IMPORT:<id>`` of the import id answered.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from graph.archive.imports import new_import_id
from graph.archive.ingest import decode_lines
from graph.archive.row_fields import Rejection, RowError
from graph.cases.court_documents import apply_court_documents
from graph.cases.court_rows import parse_court_rows
from hub.errors import Code, error_response
from hub.http.bodies import BodyTooLarge, read_body
from hub.http.rest.endpoint import Rest
from policies.cases import default_cases
from policies.principal import Principal
from policies.units import unit_prefix, units_by_code

MAX_BYTES = 4 * 1024 * 1024
MEDIA = {"application/x-ndjson": "jsonl", "application/jsonl": "jsonl", "text/csv": "csv"}


def _refusal(request: Request, principal: Principal) -> str | None:
    """The department's submitters and reviewers, each for its own unit's jurisdiction."""
    if not {"submitter", "reviewer"} & principal.roles or principal.level == "PARTNER":
        return "only the department's submitters and reviewers file court documents"
    if principal.agency not in units_by_code():
        return f"{principal.agency} is not a unit of the department"
    return None


FILE = Rest("POST /court-documents", "write", _refusal)


def _rows(text: str, fmt: str) -> Iterator[tuple[int, Any]]:
    """(line, row or RowError); blank JSON lines are skipped but counted, a CSV's header is
    line 1."""
    if fmt == "csv":
        for line, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
            yield line, row
        return
    for line, value in enumerate(decode_lines(text.splitlines()), start=1):
        if value is None:
            continue
        if not isinstance(value, (dict, RowError)):
            value = RowError("bad-row", "a line is one JSON object")
        yield line, value


@FILE.endpoint
async def post_court_documents(request: Request, principal: Principal) -> Response:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    fmt = MEDIA.get(media)
    if fmt is None:
        return error_response(415, Code.BAD_USER_INPUT, f"send one of {', '.join(MEDIA)} (UTF-8)")
    try:
        body = await read_body(request, MAX_BYTES, "a court document file")
    except BodyTooLarge as exc:
        return exc.response()
    try:
        text = body.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        return error_response(400, Code.BAD_USER_INPUT, "the file is not UTF-8")
    decoded = list(_rows(text, fmt))
    broken = [Rejection(n, r.reason, str(r)) for n, r in decoded if isinstance(r, RowError)]
    rules = default_cases()
    rows, rejected = parse_court_rows(
        ((n, r) for n, r in decoded if not isinstance(r, RowError)), rules
    )
    import_id = new_import_id()
    report = await apply_court_documents(
        request.app.state.store, rows, broken + rejected, f"IMPORT:{import_id}", rules,
        datetime.now(UTC), unit_prefix(principal.agency),
    )  # fmt: skip
    released = (import_id, *(o.id for o in report.outcomes if o.id))
    await FILE.audit(request, principal, "ALLOW", released=released)
    lines = [
        {"line": o.line, "outcome": o.outcome, "reason": o.reason, "case": o.case, "id": o.id}
        for o in report.outcomes
    ] + [
        {"line": r.line, "outcome": "rejected", "reason": r.reason, "message": r.message}
        for r in report.rejected
    ]
    return JSONResponse(
        {
            "importId": import_id,
            "rows": report.rows,
            "attached": report.attached,
            "unchanged": report.unchanged,
            "queued": report.queued,
            "rejected": len(report.rejected),
            "outcomes": sorted(lines, key=lambda x: int(str(x["line"]))),
        }
    )
