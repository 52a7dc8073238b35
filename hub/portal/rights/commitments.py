"""``/me/commitments/new``: a signed-in subject makes a public credit commitment (信用承诺) on the
portal, as ``makeCommitment`` does over the API; it is published on the subject's page at once."""

from __future__ import annotations

from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from graph.db import Store
from graph.rights.commitments import KINDS, CommitmentRefused, commitments_of, make
from hub.portal.session import FORM_FIELD, csrf_ok, csrf_token, signed_in
from hub.portal.site import PRIVATE, private_page, store_of
from policies.rights import default_rights

REFUSALS = {
    "kind": "请选择承诺类型。",
    "text": "承诺内容字数不符合要求（{min}至{max}字）。",
    "valid-until": "有效期须晚于今日，且不超过{months}个月。",
    "licence": "许可证号为1至100个字符。",
    "unknown-subject": "本平台暂无本单位的信用信息，暂不能作出公开承诺。",
}


def _form(request: Request, error: str | None = None, status: int = 200) -> Response:
    rules = default_rights()
    context: dict[str, Any] = {
        "kinds": list(KINDS.items()),
        "csrf": csrf_token(request),
        "error": error,
        "length": rules.commitment_text,
        "months": rules.commitment_max_months,
    }
    return private_page(request, "rights/commitment_new.html", context, status)


def _refusal(reason: str) -> str:
    rules = default_rights()
    return REFUSALS.get(reason, "承诺未能提交。").format(
        min=rules.commitment_text.min_chars,
        max=rules.commitment_text.max_chars,
        months=rules.commitment_max_months,
    )


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return date.min  # refused below as out of range, with the rule said


async def new_commitment(request: Request) -> Response:
    who = signed_in(request)
    code = who.own_code() if who else None
    if who is None or code is None:
        return RedirectResponse("/signin", status_code=303, headers=PRIVATE)
    if request.method == "GET":
        return _form(request)
    form = await request.form(max_files=0, max_fields=10)
    if not csrf_ok(request, form.get(FORM_FIELD)):
        return _form(request, "表单已失效，请重新打开页面后提交。", 403)
    try:
        await make(
            store_of(request), default_rights(), code=code, kind=str(form.get("kind") or ""),
            text=str(form.get("text") or ""), valid_until=_day(str(form.get("validUntil") or "")),
            licence=str(form.get("licence") or "") or None, by=who.subject, today=date.today(),
        )  # fmt: skip
    except CommitmentRefused as exc:
        return _form(request, _refusal(exc.reason), 400)
    return RedirectResponse("/me#commitments-title", status_code=303, headers=PRIVATE)


async def section(store: Store, code: str, today: date) -> dict[str, Any]:
    """The subject's commitments, for its archive page."""
    return {"commitments": await commitments_of(store, code), "kind_names": KINDS}


def routes() -> list[BaseRoute]:
    return [Route("/me/commitments/new", new_commitment, methods=["GET", "POST"])]
