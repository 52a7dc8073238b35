"""``GET /me`` (我的信用档案): the signed-in subject's whole archive, as ``myArchive`` answers it.

Read for the session's own credit code only, audited as the non-public read it is, never kept
in the shared page cache and sent with ``Cache-Control: no-store``, so neither the hub's cache
nor a browser's or a proxy's keeps one company's archive for another. Without a session the page
sends the browser to ``/signin``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from neo4j.exceptions import DriverError, Neo4jError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from graph.db import Store
from graph.rights.archive import own_archive
from hub.api.rights.archive import archive_view, released
from hub.audit_log import audit_request
from hub.portal.reads import KIND_NAMES, authority_name, division_name
from hub.portal.rights import commitments, objections, repair
from hub.portal.session import csrf_token, signed_in
from hub.portal.site import PRIVATE, private_page, store_of, unavailable
from policies.credit import listings
from policies.credit.catalogue import default_catalogue

DISCLOSURE_NAMES = {
    "PUBLIC": "公开",
    "SHARED": "共享",
    "RESTRICTED": "受限",
    "CONFIDENTIAL": "保密",
}
RECORD_STATUS_NAMES = {
    "PENDING": "待审核",
    "RETURNED": "退回修改",
    "PUBLISHED": "公示中",
    "WITHDRAWN": "已撤销",
    "EXPIRED": "公示期满",
    "REPAIRED": "已修复",
}
SANCTION_STATUS_NAMES = {"ACTIVE": "公示中", "ENDED": "已移出", "REPAIRED": "已修复"}

# The other parts of the subject's page (its objections, repair applications and commitments,
# each with its deadlines): a template under rights/ and what it reads for the subject's code.
Section = Callable[[Store, str, date], Awaitable[dict[str, Any]]]
SECTIONS: list[tuple[str, Section]] = [
    ("rights/me_objections.html", objections.section),
    ("rights/me_repairs.html", repair.section),
    ("rights/me_commitments.html", commitments.section),
]


def item_name(code: str) -> str:
    item = default_catalogue().get(code)
    return item.name if item else code


NAMES = {
    "item_name": item_name,
    "authority_name": authority_name,
    "division_name": division_name,
    "listing_name": lambda code: listings.NAMES.get(code, code),
    "kind_names": KIND_NAMES,
    "disclosure_names": DISCLOSURE_NAMES,
    "record_status_names": RECORD_STATUS_NAMES,
    "sanction_status_names": SANCTION_STATUS_NAMES,
}


async def my_archive(request: Request) -> Response:
    principal = signed_in(request)
    code = principal.own_code() if principal else None
    if principal is None or code is None:
        return RedirectResponse("/signin", status_code=303, headers=PRIVATE)
    today = date.today()
    store = store_of(request)
    try:
        found = await own_archive(store, code)
        sections = [(template, await read(store, code, today)) for template, read in SECTIONS]
        await audit_request(
            request,
            principal,
            action="read",
            field="portal:/me",
            subject=code,
            released=released(found) if found else (),
            decision="ALLOW",
        )
    except (Neo4jError, DriverError):
        return unavailable(request)
    return private_page(
        request,
        "rights/archive.html",
        {
            "code": code,
            "a": archive_view(found, today) if found else None,
            "sections": sections,
            "csrf_token": csrf_token(request),
            **NAMES,
        },
    )
