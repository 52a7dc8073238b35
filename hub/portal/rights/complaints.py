"""The portal's complaint and report pages: the anonymous filing form with attachments
(``/complaints/new``) and the follow-up with tracking number and query code
(``/complaints/track``).

Both forms carry the session's form token (hub/portal/session.py), so another site cannot post
them in a visitor's name; both count per client address like the public GraphQL API, through
the same intake (hub/api/rights/complaint_intake.py). The receipt, which shows the query code
once, and every follow-up answer are never cached.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from neo4j.exceptions import DriverError, Neo4jError
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from graph.rights.complaints import Receipt
from hub.api.rights.complaint_intake import checked, file, follow
from hub.errors import Code, HubError
from hub.evidence import EvidenceRefused, files_of
from hub.http.bodies import BodyTooLarge, capped
from hub.portal import site
from hub.portal.session import FORM_FIELD, csrf_ok, csrf_token
from policies.divisions import Level
from policies.principal import Principal, public_principal
from policies.rights import RightsRules, default_rights
from policies.units import units, units_by_code

NEW = "rights/complaint_new.html"
TRACK = "rights/complaint_track.html"
FIELDS = 12  # the form's text fields, with room to spare
TEXT_ROOM = 64 * 1024  # the form's text beside its files
_STATUS = {Code.LIMIT_EXCEEDED: 429, Code.FORBIDDEN: 403}


def _client(request: Request) -> Principal:
    """The visitor as the public GraphQL API counts it: by network address."""
    return public_principal(request.client.host if request.client else "unknown")


def unit_choices() -> list[dict[str, Any]]:
    """The region's unit, then each league's followed by its banners', for the form's list."""
    ordered = sorted(units(), key=lambda u: (u.division[:4], u.level is Level.BANNER, u.code))
    return [{"code": u.code, "name": u.name} for u in ordered]  # the region's prefix is 1500


def _message(error: HubError) -> str:
    """The refusal in Chinese, from its stable code."""
    extensions = error.extensions or {}
    if extensions.get("code") == Code.LIMIT_EXCEEDED:
        return f"提交过于频繁，请于{extensions.get('retryAfter', 3600)}秒后再试。"
    if extensions.get("code") == Code.INVALID_CREDIT_CODE:
        return "统一社会信用代码无效，或平台未公示该主体，请核对后重新填写。"
    if extensions.get("reason") == "attachments":
        return _attachment_rule(default_rights())
    return "填写的内容不符合要求，请核对类别、对象和内容（不少于10个字）后重新提交。"


def _attachment_rule(rules: RightsRules) -> str:
    a = rules.attachments
    return (
        f"附件不符合要求：最多{a.max_count}个，每个不超过{a.max_bytes // 2**20}MB，"
        f"合计不超过{a.max_total_bytes // 2**20}MB，仅限PDF、JPEG、PNG文件。"
    )


def _form_page(
    request: Request, values: dict[str, str], error: str | None = None, status: int = 200
) -> Response:
    rules = default_rights()
    context = {
        "csrf": csrf_token(request),
        "field": FORM_FIELD,
        "units": unit_choices(),
        "v": values,
        "error": error,
        "rules": rules,
        "attachment_rule": _attachment_rule(rules),
    }
    return site.render_page(request, NEW, context, status=status)


def _values(form: FormData) -> dict[str, str]:
    keys = ("kind", "credit_code", "about_unit", "text", "contact")
    return {k: str(form.get(k) or "")[:6000] for k in keys}


async def new_complaint(request: Request) -> Response:
    """``GET``: the form; ``POST``: file it and show the tracking number and query code once."""
    if request.method == "GET":
        return _form_page(request, {"kind": "REPORT"})
    rules = default_rights()
    limit = rules.attachments.max_total_bytes + TEXT_ROOM
    try:
        body = capped(request, limit, "a complaint")
        async with body.form(max_files=rules.attachments.max_count + 1, max_fields=FIELDS) as form:
            values = _values(form)
            if not csrf_ok(request, form.get(FORM_FIELD)):
                return _form_page(request, values, "页面已过期，请重新提交。", status=403)
            files = await files_of(form, "files", rules.attachments)
            receipt = await _file(request, values, files, rules)
    except BodyTooLarge:
        return _form_page(request, {}, _attachment_rule(rules), status=413)
    except EvidenceRefused:
        return _form_page(request, values, _attachment_rule(rules), status=400)
    except HubError as error:
        code = Code((error.extensions or {}).get("code", Code.BAD_USER_INPUT))
        if code is Code.UNAVAILABLE:
            return site.unavailable(request)
        refused = _form_page(request, values, _message(error), status=_STATUS.get(code, 400))
        if code is Code.LIMIT_EXCEEDED:
            refused.headers["Retry-After"] = str((error.extensions or {}).get("retryAfter", 60))
        return refused
    except (Neo4jError, DriverError):
        return site.unavailable(request)
    unit = units_by_code()[receipt.unit]
    page = {"r": receipt, "unit": unit.name, "source": rules.complaint_accept.source}
    return site.private_page(request, "rights/complaint_receipt.html", page, status=201)


async def _file(
    request: Request, values: dict[str, str], files: list[tuple[str, bytes]], rules: RightsRules
) -> Receipt:
    report = values["kind"] == "REPORT"
    filing = checked(
        values["kind"],
        values["text"],
        values["credit_code"] if report else None,
        None if report else values["about_unit"],
        values["contact"],
        rules,
    )
    state = request.app.state
    return await file(
        site.store_of(request),
        state.redis,
        _client(request),
        filing,
        files,
        rules=rules,
        policy=state.policy,
        today=date.today(),
    )


async def track(request: Request) -> Response:
    """``GET``: the follow-up form; ``POST``: the filing's progress, or one answer for an
    unknown number and a wrong code alike."""
    page: dict[str, Any] = {"csrf": csrf_token(request), "field": FORM_FIELD, "asked": False}
    if request.method == "GET":
        return site.render_page(request, TRACK, page)
    async with request.form(max_files=0, max_fields=FIELDS) as form:
        if not csrf_ok(request, form.get(FORM_FIELD)):
            page["error"] = "页面已过期，请重新查询。"
            return site.render_page(request, TRACK, page, status=403)
        tracking = str(form.get("tracking") or "")[:40]
        code = str(form.get("query_code") or "")[:40]
    rules = default_rights()
    try:
        found = await follow(
            site.store_of(request), request.app.state.redis, _client(request), tracking, code,
            rules.complaint_guesses,
        )  # fmt: skip
    except (Neo4jError, DriverError):
        return site.unavailable(request)
    except HubError as error:
        if (error.extensions or {}).get("code") == Code.UNAVAILABLE:
            return site.unavailable(request)
        page["error"] = _message(error)
        return site.render_page(request, TRACK, page, status=429)
    unit = units_by_code().get(found.unit) if found else None
    page.update({"asked": True, "found": found, "unit": unit.name if unit else ""})
    return site.private_page(request, TRACK, page)
