"""The investigator's page: a static page that draws a subject's network in the browser.

The page holds no data. Its script asks ``/graphql`` with the investigator's own token, so every
answer obeys the same access policies and lands in the same audit trail as any other client's.
The drawing library (cytoscape.js) comes from npm (``package.json``) and is served from
``node_modules``; nothing fetched is committed.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent / "static"
VENDOR = Path(__file__).resolve().parent.parent.parent / "node_modules" / "cytoscape" / "dist"
# Scripts and styles from this origin only, data only from /graphql, no framing.
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


async def investigate_page(request: Request) -> Response:
    if not (VENDOR / "cytoscape.min.js").is_file():
        return PlainTextResponse(
            "调查页面所需的浏览器组件尚未安装。\n"
            "The page's browser library is missing: run `make assets` (npm ci) and reload.\n",
            status_code=503,
        )
    return FileResponse(STATIC / "investigate.html", headers=HEADERS)


def routes() -> list[BaseRoute]:
    return [
        Route("/investigate", investigate_page),
        Mount("/assets/vendor", StaticFiles(directory=VENDOR, check_dir=False)),
        Mount("/assets", StaticFiles(directory=STATIC)),
    ]
