"""The public portal's pages: home, search, a subject, the lists by division and their CSV.

Server-rendered (Jinja2, no script), in Chinese, for anyone without a login. Each page reads
through hub/portal/reads.py at the public's scope; rendered pages are cached in Redis under the
feed version (hub/portal/cache.py). A subject that does not exist and one that is not public get
the same 404 page, as the API answers null for both.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from neo4j.exceptions import DriverError, Neo4jError
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from graph.db import Store
from graph.public import ListingCursor
from graph.rights.commitments import KINDS, commitments_of
from hub.portal import reads
from hub.portal.cache import cached, feed_version, keep, page_key
from hub.portal.rights import complaints
from policies.credit import listings
from policies.divisions import REGION_CODE, banners, find_division, jurisdiction_prefix, leagues

HERE = Path(__file__).resolve().parent
TEMPLATES = Jinja2Templates(directory=HERE / "templates")
PAGE = 20  # rows of a list page
CSV_PAGE = 500  # rows read per query while a CSV streams
SEARCH_PAGES = 10  # search pages offered; a name needs narrowing beyond them
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
LISTS = {
    "serious": "SERIOUS_DISHONESTY",
    "abnormal": "ABNORMAL_OPERATION",
    "honour": "HONOUR",
}
LIST_TITLES = {
    "serious": listings.NAMES["SERIOUS_DISHONESTY"],
    "abnormal": listings.NAMES["ABNORMAL_OPERATION"],
    "honour": "A级守信主体名单（红名单）",
}
_CURSOR = re.compile(r"^(\d{4}-\d{2}-\d{2})~([A-Za-z0-9_.:\-]{1,80})$")
_CODE_LIKE = re.compile(r"^[0-9A-Za-z０-９Ａ-Ｚａ-ｚ\s\-－—]{15,}$")

Handler = Callable[[Request], Awaitable[Response]]


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def render_page(
    request: Request, name: str, context: dict[str, Any], status: int = 200
) -> Response:
    return TEMPLATES.TemplateResponse(
        request, name, {"today": date.today(), **context}, status_code=status, headers=HEADERS
    )


# A page for one visitor (a signed-in subject's own, a filer's receipt): no cache keeps it, the
# portal's or a browser's or a proxy's.
PRIVATE = {**HEADERS, "Cache-Control": "no-store"}


def private_page(
    request: Request, name: str, context: dict[str, Any], status: int = 200
) -> Response:
    response = render_page(request, name, context, status)
    response.headers.update(PRIVATE)
    return response


def unavailable(request: Request) -> Response:
    return render_page(request, "unavailable.html", {}, status=503)


def cached_page(handler: Handler) -> Handler:
    """Serve the page from the cache at the current feed version, or render and keep it."""

    async def endpoint(request: Request) -> Response:
        seconds: int = request.app.state.settings.portal_cache_seconds
        try:
            if seconds <= 0:
                return await handler(request)
            where = f"{request.url.path}?{request.url.query}"
            key = page_key(await feed_version(store_of(request)), where)
            body = await cached(request.app.state.redis, key)
            if body is not None:
                return HTMLResponse(body, headers={**HEADERS, "X-Cache": "hit"})
            response = await handler(request)
        except (Neo4jError, DriverError):
            return unavailable(request)
        if response.status_code == 200:
            await keep(request.app.state.redis, key, bytes(response.body), seconds)
        response.headers["X-Cache"] = "miss"
        return response

    return endpoint


@cache
def division_choices() -> list[dict[str, Any]]:
    """The region, then each league with its banners, for the list pages' filter."""
    return [
        {"code": league.code, "name": league.name, "banners": banners(league.code)}
        for league in leagues()
    ]


def chosen_division(request: Request) -> tuple[str | None, str | None]:
    """(the division code asked for, its code prefix); the region or nothing means all."""
    code = request.query_params.get("division") or REGION_CODE
    if code == REGION_CODE or find_division(code) is None:
        return None, None
    return code, jurisdiction_prefix(code)


@cached_page
async def home(request: Request) -> Response:
    store = store_of(request)
    serious = await reads.listing_page(store, "SERIOUS_DISHONESTY", None, None, PAGE)
    publicity = await reads.publicity_page(store, PAGE)
    return render_page(request, "home.html", {"serious": serious, "publicity": publicity})


async def search(request: Request) -> Response:
    text = (request.query_params.get("q") or "").strip()[:60]
    if not text:
        return render_page(request, "search.html", {"q": "", "hits": [], "page": 1, "more": False})
    code = reads.parse_code(text)
    if code is not None:
        return RedirectResponse(f"/subjects/{code}", status_code=303, headers=HEADERS)
    if _CODE_LIKE.match(text):
        return render_page(
            request,
            "search.html",
            {"q": text, "hits": [], "page": 1, "more": False, "bad_code": True},
            status=400,
        )
    return await _search_results(request)


@cached_page
async def _search_results(request: Request) -> Response:
    text = (request.query_params.get("q") or "").strip()[:60]
    try:
        page = min(max(int(request.query_params.get("page", "1")), 1), SEARCH_PAGES)
    except ValueError:
        page = 1
    hits = await reads.search_page(store_of(request), text, page * PAGE + 1)
    shown = hits[(page - 1) * PAGE : page * PAGE]
    more = len(hits) > page * PAGE and page < SEARCH_PAGES
    return render_page(
        request, "search.html", {"q": text, "hits": shown, "page": page, "more": more}
    )


@cached_page
async def subject(request: Request) -> Response:
    code = reads.parse_code(request.path_params["code"])
    if code is None:
        return render_page(request, "not_found.html", {}, status=404)
    if code != request.path_params["code"]:
        return RedirectResponse(f"/subjects/{code}", status_code=301, headers=HEADERS)
    found = await reads.subject_page(store_of(request), code, date.today())
    if found is None:
        return render_page(request, "not_found.html", {}, status=404)
    commitments = await commitments_of(store_of(request), code)
    return render_page(
        request, "subject.html", {"s": found, "commitments": commitments, "kinds": KINDS}
    )


def _cursor(raw: str | None) -> ListingCursor | None:
    match = _CURSOR.match(raw or "")
    return ListingCursor(match.group(1), match.group(2)) if match else None


@cached_page
async def list_page(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in LISTS:
        return render_page(request, "not_found.html", {}, status=404)
    code, prefix = chosen_division(request)
    store = store_of(request)
    after = request.query_params.get("after") or ""
    if name == "honour":
        rows: list[Any] = await reads.honour_page(store, prefix, after, PAGE + 1)
        last = rows[PAGE - 1]["creditCode"] if len(rows) > PAGE else None
    else:
        rows = await reads.listing_page(store, LISTS[name], prefix, _cursor(after), PAGE + 1)
        last = f"{rows[PAGE - 1].decided_on}~{rows[PAGE - 1].id}" if len(rows) > PAGE else None
    query = {"division": code} if code else {}
    return render_page(
        request,
        "list.html",
        {
            "name": name,
            "title": LIST_TITLES[name],
            "rows": rows[:PAGE],
            "division": code or REGION_CODE,
            "division_name": reads.division_name(code or REGION_CODE),
            "choices": division_choices(),
            "next": f"?{urlencode({**query, 'after': last})}" if last else None,
            "csv": f"/lists/{name}.csv" + (f"?{urlencode(query)}" if query else ""),
        },
    )


def _safe(cell: Any) -> str:
    """A cell a spreadsheet shows as text: no formula from a name that starts with = + - @."""
    text = "" if cell is None else str(cell)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


async def _csv_rows(store: Store, name: str, prefix: str | None) -> AsyncIterator[str]:
    out = io.StringIO()
    writer = csv.writer(out)

    def line(cells: list[Any]) -> str:
        out.seek(0)
        out.truncate()
        writer.writerow([_safe(c) for c in cells])
        return out.getvalue()

    yield "\ufeff"  # so spreadsheet programs read the Chinese as UTF-8
    if name == "honour":
        yield line(["统一社会信用代码", "名称", "所在地区", "信用等级", "评价日期"])
        after = ""
        while rows := await reads.honour_page(store, prefix, after, CSV_PAGE):
            for r in rows:
                yield line(
                    [
                        r["creditCode"],
                        r["name"],
                        r["divisionName"],
                        r["grade"],
                        (r.get("ratedAt") or "")[:10],
                    ]
                )
            after = rows[-1]["creditCode"]
        return
    yield line(
        ["统一社会信用代码", "名称", "名单", "认定机关", "认定日期", "公示截止日期", "惩戒措施"]
    )
    cursor: ListingCursor | None = None
    while listed := await reads.listing_page(store, LISTS[name], prefix, cursor, CSV_PAGE):
        for x in listed:
            yield line(
                [
                    x.credit_code,
                    x.name,
                    x.listing_name,
                    x.authority,
                    x.decided_on,
                    x.until or "",
                    "；".join(x.measures),
                ]
            )
        cursor = ListingCursor(listed[-1].decided_on, listed[-1].id)


async def list_csv(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in LISTS:
        return render_page(request, "not_found.html", {}, status=404)
    code, prefix = chosen_division(request)
    filename = f"{LIST_TITLES[name]}-{code or REGION_CODE}-{date.today().isoformat()}.csv"
    return StreamingResponse(
        _csv_rows(store_of(request), name, prefix),
        media_type="text/csv; charset=utf-8",
        headers={
            **HEADERS,
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
        },
    )


def routes() -> list[BaseRoute]:
    # The pages of subjects' rights render through this module: imported here, not above.
    from hub.portal import typical
    from hub.portal.rights import archive, signin

    return [
        Route("/", home),
        Route("/search", search),
        Route("/subjects/{code}", subject),
        Route("/lists/{name}.csv", list_csv),
        Route("/lists/{name}", list_page),
        Route("/complaints/new", complaints.new_complaint, methods=["GET", "POST"]),
        Route("/complaints/track", complaints.track, methods=["GET", "POST"]),
        Route("/signin", signin.start),
        Route("/signin/callback", signin.callback),
        Route("/signout", signin.sign_out_form, methods=["POST"]),
        Route("/me", archive.my_archive),
        *typical.routes(),
        Mount("/portal/static", StaticFiles(directory=HERE / "static")),
    ]
