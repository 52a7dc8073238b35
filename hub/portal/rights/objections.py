"""The portal's objection pages: a signed-in subject's objections with their status, deadlines
and answers (``/me/objections``), and the form that files one with evidence
(``/me/objections/new``).

Only a signed-in subject reaches them (hub/portal/session.py), and only about itself: the
credit code comes from its session, never from the form. Every post carries the session's form
token. The pages are personal: never cached, here or on the way.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from graph.db import Store
from graph.rights.objections import Filing, ObjectionRefused, file_objection, mine
from hub.evidence import EvidenceRefused, files_of, store
from hub.http.bodies import BodyTooLarge, check_length
from hub.portal.session import FORM_FIELD, csrf_ok, csrf_token, signed_in
from hub.portal.site import PRIVATE, private_page, store_of
from hub.settings import catalogue
from policies.principal import Principal
from policies.rights import default_rights

SHOWN = 100  # a subject's objections on one page
STATUS_NAMES = {
    "FILED": "待受理",
    "ACCEPTED": "已受理，处理中",
    "IN_REVIEW": "已决定更正或撤销，待审核发布",
    "DECIDED": "已办结",
    "REFUSED": "不予受理",
}
OUTCOME_NAMES = {"CORRECT": "更正", "WITHDRAW": "撤销", "CONFIRM": "维持原信息"}
# What the hub's refusals say to a subject, by their stable reason.
REFUSALS = {
    "unknown-target": "未找到该信息：只能对本单位已公示的信用信息或在列的名单提出异议。",
    "open-objection": "该信息已有正在处理的异议，请等待处理结果。",
    "reasons": "异议理由",
    "target": "请选择异议的信用信息或名单。",
}


def _signed_out(request: Request) -> Response:
    return private_page(request, "rights/objections.html", {"signed_out": True}, status=401)


def _rows(rows: list[dict[str, Any]], today: date) -> list[dict[str, Any]]:
    rules = default_rights()
    shown = []
    for o in rows:
        step = rules.objection_accept if o["status"] == "FILED" else rules.objection_decide
        due = date.fromisoformat(o["dueOn"]) if o["open"] and o.get("dueOn") else None
        shown.append(
            {
                **o,
                "status_name": STATUS_NAMES.get(o["status"], o["status"]),
                "outcome_name": OUTCOME_NAMES.get(o.get("outcome") or "", ""),
                "due": due,
                "due_rule": step.source if due else None,
                "overdue": due is not None and today > due,
            }
        )
    return shown


async def my_objections(request: Request) -> Response:
    who = signed_in(request)
    if who is None:
        return _signed_out(request)
    code = who.own_code() or ""
    rows = await mine(store_of(request), code, "", SHOWN)
    return private_page(request, "rights/objections.html", {"rows": _rows(rows, date.today())})


def _target(request: Request, form: Any = None) -> tuple[str, str]:
    source = form if form is not None else request.query_params
    record, sanction = source.get("record") or "", source.get("sanction") or ""
    return ("LISTING", str(sanction)[:80]) if sanction else ("RECORD", str(record)[:80])


def _form(
    request: Request, kind: str, target: str, reasons: str = "", error: str | None = None,
    status: int = 200,
) -> Response:  # fmt: skip
    rules = default_rights()
    return private_page(
        request,
        "rights/objection_new.html",
        {
            "kind": kind,
            "target": target,
            "reasons": reasons,
            "error": error,
            "csrf": csrf_token(request),
            "field": FORM_FIELD,
            "limits": rules.attachments,
            "length": rules.objection_reasons,
            "accept_rule": rules.objection_accept,
        },
        status,
    )


async def new_objection(request: Request) -> Response:
    who = signed_in(request)
    if who is None:
        return _signed_out(request)
    if request.method == "GET":
        kind, target = _target(request)
        return _form(request, kind, target)
    return await _file(request, who)


async def _file(request: Request, who: Principal) -> Response:
    rules = default_rights()
    try:
        check_length(request, rules.attachments.max_total_bytes + 65536, "an objection")
    except BodyTooLarge:
        return _form(request, "RECORD", "", error="附件过大。", status=413)
    form = await request.form(max_files=rules.attachments.max_count + 1, max_fields=10)
    kind, target = _target(request, form)
    reasons = str(form.get("reasons") or "")
    if not csrf_ok(request, form.get(FORM_FIELD)):
        return _form(request, kind, target, reasons, "页面已过期，请重新提交。", 403)
    if not target:
        return _form(request, kind, target, reasons, REFUSALS["target"], 400)
    try:
        files = await files_of(form, "evidence", rules.attachments)
        kept = await store(files, rules.attachments)
        filing = Filing(who.own_code() or "", kind, target, reasons, who.subject, tuple(kept))
        await file_objection(store_of(request), catalogue(), rules, filing, date.today())
    except EvidenceRefused as exc:
        return _form(request, kind, target, reasons, f"附件不符合要求：{exc}", 400)
    except ObjectionRefused as exc:
        said = REFUSALS.get(exc.reason, str(exc))
        if exc.reason == "reasons":
            length = rules.objection_reasons
            said = f"{said}需 {length.min_chars}–{length.max_chars} 字。"
        status = {"NOT_FOUND": 404, "CONFLICT": 409}.get(exc.code, 400)
        return _form(request, kind, target, reasons, said, status)
    return RedirectResponse("/me/objections", status_code=303, headers=PRIVATE)


def routes() -> list[BaseRoute]:
    """Mounted by hub/http/app.py beside the portal's (this module renders with hub/portal/site.py,
    which therefore cannot import it)."""
    return [
        Route("/me/objections", my_objections),
        Route("/me/objections/new", new_objection, methods=["GET", "POST"]),
    ]


async def section(store: Store, code: str, today: date) -> dict[str, Any]:
    """The subject's objections with their deadlines, for its archive page."""
    return {"objections": _rows(await mine(store, code, "", SHOWN), today)}
