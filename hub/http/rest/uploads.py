"""``POST /archives``: a unit uploads an archive file; a worker imports it.

Multipart with one ``file`` part (and optionally ``format``), within its own size limit
(``HUB_ARCHIVE_MAX_BYTES``), apart from the 16 KB GraphQL body limit. The file goes to storage
(``HUB_STORAGE``) under ``archives/<import id>.<format>``, and the worker that takes the import
reads it from there by that key. The answer (202) carries the import id; progress and report
are read through GraphQL ``archiveImport(id)``. The upload is audited like every other step.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from pathlib import Path

import structlog
from neo4j.exceptions import ServiceUnavailable, SessionExpired
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from connectors.storage.config import open_storage
from connectors.tasks import import_archive
from graph.archive.files import FORMATS, ArchiveFormatError, detect_format
from graph.archive.imports import new_import_id, queue_import
from graph.archive.xlsx_guard import UnsafeWorkbook, check_workbook
from hub.errors import Code, HubError, error_response
from hub.http.bodies import BodyTooLarge, capped
from hub.http.rest.endpoint import Rest
from hub.settings import Settings
from policies.principal import Principal
from policies.units import units_by_code

log = structlog.get_logger("hub.http.rest.uploads")


def _refusal(request: Request, principal: Principal) -> str | None:
    """The department's submitters, each for its own unit."""
    if "submitter" not in principal.roles or principal.level == "PARTNER":
        return "only the department's submitters upload archives"
    if principal.agency not in units_by_code():
        return f"{principal.agency} is not a unit of the department"
    return None


UPLOAD = Rest("POST /archives", "write", _refusal)


async def _store(form: FormData, settings: Settings) -> tuple[str, str, str] | Response:
    """The uploaded file in storage (import id, file name, format), or the refusal. A
    workbook whose zip directory promises more work than the limits allow is refused here,
    before it is stored or queued, with the reason a unit can act on."""
    upload = form.get("file")
    fmt = form.get("format")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return error_response(400, Code.BAD_USER_INPUT, "the form needs a 'file' part")
    if fmt is not None and fmt not in FORMATS:
        return error_response(400, Code.BAD_USER_INPUT, f"format is one of {', '.join(FORMATS)}")
    head = await upload.read(4096)
    await upload.seek(0)
    name = Path(upload.filename).name
    try:
        chosen = str(fmt) if fmt else detect_format(name, head)
        if chosen == "xlsx":
            await asyncio.to_thread(check_workbook, upload.file, name, settings.xlsx_limits)
    except ArchiveFormatError as exc:
        return error_response(400, Code.BAD_USER_INPUT, str(exc))
    except UnsafeWorkbook as exc:
        status, code = (
            (400, Code.BAD_USER_INPUT)
            if exc.reason == "not-a-workbook"
            else (413, Code.LIMIT_EXCEEDED)
        )
        return error_response(status, code, str(exc), {"reason": exc.reason})
    await upload.seek(0)
    import_id = new_import_id()
    storage = open_storage(settings.storage_config)
    await asyncio.to_thread(storage.put, archive_key(import_id, chosen), upload.file)
    return import_id, name, chosen


def archive_key(import_id: str, fmt: str) -> str:
    """Where an upload waits for its import: built from the hub's own id and a known format."""
    return f"archives/{import_id}.{fmt}"


@UPLOAD.endpoint
async def upload_archive(request: Request, principal: Principal) -> Response:
    settings: Settings = request.app.state.settings
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "multipart/form-data":
        return error_response(
            415, Code.BAD_USER_INPUT, "send multipart/form-data with a 'file' part"
        )
    if request.headers.get("content-length") is None:
        return error_response(411, Code.BAD_USER_INPUT, "give a Content-Length")
    try:
        body = capped(request, settings.archive_max_bytes, "an archive")
        async with body.form(max_files=1, max_fields=5) as form:
            stored = await _store(form, settings)
    except BodyTooLarge as exc:
        return exc.response()
    if isinstance(stored, Response):
        return stored
    import_id, name, chosen = stored
    key = archive_key(import_id, chosen)
    try:
        await UPLOAD.audit(request, principal, "ALLOW", released=(import_id,))
        await queue_import(
            request.app.state.store,
            import_id=import_id,
            agency=principal.agency,
            by=principal.subject,
            file_name=name,
            fmt=chosen,
        )
    except (HubError, ServiceUnavailable, SessionExpired):
        # Not audited or not queued (Neo4j away: 503 from hub.errors): no file is left behind.
        await asyncio.to_thread(open_storage(settings.storage_config).delete, key)
        raise
    await asyncio.to_thread(
        import_archive.delay,
        import_id,
        key,
        principal.agency,
        principal.subject,
        name,
        chosen,
        asdict(settings.xlsx_limits),
    )
    log.info("archive queued", import_id=import_id, agency=principal.agency)
    return JSONResponse(
        {"importId": import_id, "status": "QUEUED", "format": chosen, "fileName": name},
        status_code=202,
    )
