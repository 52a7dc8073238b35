"""The portal's typical cases (典型案例): the published ones, newest first and paged
(``/typical-cases``), and one case's page (``/typical-cases/{id}``).

They read as ``publishedTypicalCases`` does (hub/api/cases/typical.py): published, on a case that
still stands, without personal data, an individual business named only 某个体工商户. A withdrawn,
unpublished or unknown id is the same 404. Both pages are cached like the rest of the portal;
publishing or withdrawing writes an outbox event, which moves the cache's version, so the change
shows at the next request.
"""

from __future__ import annotations

import re
from datetime import date

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from graph.cases import typical
from hub.api.cases.typical import public_view
from hub.portal.site import PAGE, cached_page, render_page, store_of

_AFTER = re.compile(r"^(\d{4}-\d{2}-\d{2})~(TC-[0-9A-Z\-]{1,40})$")


def _after(raw: str | None) -> tuple[date, str]:
    match = _AFTER.match(raw or "")
    if not match:
        return typical.TOP
    try:
        return date.fromisoformat(match.group(1)), match.group(2)
    except ValueError:
        return typical.TOP


@cached_page
async def typical_cases(request: Request) -> Response:
    rows = await typical.published(
        store_of(request), _after(request.query_params.get("after")), PAGE + 1
    )
    cases = [public_view(r) for r in rows[:PAGE]]
    last = cases[-1] if len(rows) > PAGE else None
    return render_page(
        request,
        "typical_cases.html",
        {"cases": cases, "next": f"?after={last.published_on}~{last.id}" if last else None},
    )


@cached_page
async def typical_case(request: Request) -> Response:
    found = await typical.published_one(store_of(request), request.path_params["id"][:60])
    if found is None:
        return render_page(request, "not_found.html", {"what": "典型案例"}, status=404)
    return render_page(request, "typical_case.html", {"c": public_view(found)})


def routes() -> list[BaseRoute]:
    return [
        Route("/typical-cases", typical_cases),
        Route("/typical-cases/{id}", typical_case),
    ]
