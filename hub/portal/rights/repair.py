"""The portal's credit repair pages for a signed-in subject: its applications (``/me/repairs``)
and the application form (``/me/repairs/new``), a multipart form with the proofs and their
files, checked against the session's form token. Never in the shared page cache (no-store):
they are one subject's own."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from graph.db import Store
from graph.rights.repair import (
    PROOF_NAMES,
    Application,
    Proof,
    RepairRefused,
    apply,
    own_applications,
)
from hub.evidence import EvidenceRefused, files_of, store
from hub.portal.session import csrf_ok, csrf_token, signed_in
from hub.portal.site import PRIVATE, private_page, store_of
from policies.credit.determination import default_rules
from policies.rights import PROOFS, default_rights

STATUS_NAMES = {
    "FILED": "已提交，待受理",
    "ACCEPTED": "已受理，待决定",
    "NOT_ACCEPTED": "不予受理",
    "GRANTED": "准予修复",
    "REFUSED": "不予修复",
}
# What the subject reads when an application is refused (the API's reasons, in Chinese).
REFUSALS = {
    "too-early": "最短公示期届满前不能申请信用修复，可自{opensOn}起申请。",
    "missing-proof": "缺少规定的证明材料：{missing}。",
    "already-open": "该事项已有正在办理的信用修复申请。",
    "not-in-force": "该事项已不在公示期内，无需修复。",
    "unknown-target": "未找到您名下的该名单或信用记录。",
    "not-repairable": "该事项不在本平台办理信用修复，请向作出认定的机关申请。",
    "statement": "申请说明字数不符合要求（{min}至{max}字）。",
}


def _sign_in_first(request: Request) -> Response:
    return RedirectResponse(f"/signin?next={request.url.path}", status_code=303, headers=PRIVATE)


async def my_repairs(request: Request) -> Response:
    principal = signed_in(request)
    if principal is None or principal.credit_code is None:
        return _sign_in_first(request)
    rows = await own_applications(store_of(request), principal.credit_code)
    return private_page(request, "rights/repairs.html", {"rows": rows, "names": STATUS_NAMES})


def _target(source: Any) -> tuple[str, bool] | None:
    """(id, is a listing) from ``sanction`` or ``record`` of a query or a form."""
    sanction, record = source.get("sanction"), source.get("record")
    if isinstance(sanction, str) and sanction and not record:
        return sanction[:100], True
    if isinstance(record, str) and record and not sanction:
        return record[:100], False
    return None


def _form(request: Request, target: tuple[str, bool] | None, **more: Any) -> dict[str, Any]:
    rights = default_rights()
    return {
        "target": target,
        "csrf": csrf_token(request),
        "proofs": [(k, PROOF_NAMES[k]) for k in PROOFS],
        "required": {
            k: "、".join(PROOF_NAMES[p] for p in PROOFS if p in v)
            for k, v in rights.repair_proofs.items()
        },
        "names": PROOF_NAMES,
        "accept": rights.repair_accept,
        "decide": rights.repair_decide,
        **more,
    }


def _again(request: Request, target: tuple[str, bool] | None, error: str, status: int) -> Response:
    """The form again, saying why nothing was filed."""
    page = _form(request, target, error=error)
    return private_page(request, "rights/repair_new.html", page, status)


async def new_repair(request: Request) -> Response:
    principal = signed_in(request)
    if principal is None or principal.credit_code is None:
        return _sign_in_first(request)
    if request.method == "GET":
        target = _target(request.query_params)
        status = 200 if target else 400
        return private_page(request, "rights/repair_new.html", _form(request, target), status)
    form = await request.form(max_files=5 * len(PROOFS), max_fields=20)
    target = _target(form)
    if not csrf_ok(request, form.get("csrf_token")):
        return _again(request, target, "表单已失效，请重新打开申请页面后提交。", 403)
    if target is None:
        return _again(request, None, "请从您的名单或信用记录进入申请。", 400)
    try:
        proofs = await _proofs(request, form)
        app = Application(
            principal.credit_code, target[0], target[1], str(form.get("statement") or ""), proofs
        )
        await apply(
            store_of(request), default_rights(), default_rules(), app, by=principal.subject,
            today=date.today(), now=datetime.now(UTC),
        )  # fmt: skip
    except EvidenceRefused as exc:
        return _again(request, target, f"附件不符合要求：{exc}", 400)
    except RepairRefused as exc:
        status = 409 if exc.code == "CONFLICT" else 404 if exc.code == "NOT_FOUND" else 400
        return _again(request, target, _refusal(exc), status)
    return RedirectResponse("/me/repairs", status_code=303, headers=PRIVATE)


async def _proofs(request: Request, form: FormData) -> tuple[Proof, ...]:
    rights = default_rights()
    uploads = {kind: await files_of(form, f"file_{kind}", rights.attachments) for kind in PROOFS}
    stored = await store([f for files in uploads.values() for f in files], rights.attachments)
    by_name = iter(stored)
    proofs = []
    for kind in PROOFS:
        files = tuple(next(by_name) for _ in uploads[kind])
        text = str(form.get(f"proof_{kind}") or "")[:2000]
        proofs.append(Proof(kind, text, files))
    return tuple(proofs)


def _refusal(exc: RepairRefused) -> str:
    length = default_rights().repair_statement
    missing = "、".join(PROOF_NAMES.get(m, m) for m in exc.extra.get("missing", []))
    template = REFUSALS.get(exc.reason, "申请未能提交。")
    return template.format(
        opensOn=exc.extra.get("opensOn"), missing=missing, min=length.min_chars,
        max=length.max_chars,
    )  # fmt: skip


def routes() -> list[BaseRoute]:
    return [
        Route("/me/repairs", my_repairs),
        Route("/me/repairs/new", new_repair, methods=["GET", "POST"]),
    ]


async def section(store: Store, code: str, today: date) -> dict[str, Any]:
    """The subject's repair applications with their deadlines, for its archive page."""
    rows = await own_applications(store, code)
    return {"repairs": rows, "repair_names": STATUS_NAMES, "today": today.isoformat()}
