"""GraphiQL at ``GET /graphql`` in a browser, in development only (``HUB_ENV=development``).

Our page (hub/devpages/) around GraphiQL's own bundle: React, ReactDOM and GraphiQL come from
npm (``package.json``, ``make assets``) and are served from ``node_modules``, never from a CDN,
so the page works on a machine that reaches nothing but this hub, under a strict
Content-Security-Policy. Outside development neither the page nor its assets are routed.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

PAGES = Path(__file__).resolve().parent / "devpages"
NODE = Path(__file__).resolve().parent.parent.parent / "node_modules"
# What the page loads, by the name it asks for; nothing else under node_modules is reachable.
FILES = {
    "react.js": NODE / "react" / "umd" / "react.production.min.js",
    "react-dom.js": NODE / "react-dom" / "umd" / "react-dom.production.min.js",
    "graphiql.js": NODE / "graphiql" / "graphiql.min.js",
    "graphiql.css": NODE / "graphiql" / "graphiql.min.css",
    "hub-graphiql.js": PAGES / "graphiql.js",
    "hub-graphiql.css": PAGES / "graphiql.css",
}
# Scripts, styles and fonts from this origin (GraphiQL's fonts are data: URIs in its CSS), data
# from this origin only, no framing: no inline script or style anywhere.
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; font-src 'self' data:; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def page() -> Response:
    missing = [name for name, path in FILES.items() if not path.is_file()]
    if missing:
        return PlainTextResponse(
            f"GraphiQL's browser libraries are missing ({', '.join(missing)}): "
            "run `make assets` (npm ci) and reload.\n",
            status_code=503,
        )
    return FileResponse(PAGES / "graphiql.html", headers=HEADERS)


async def asset(request: Request) -> Response:
    path = FILES.get(request.path_params["name"])
    if path is None or not path.is_file():
        return PlainTextResponse("not found", status_code=404)
    return FileResponse(path, headers={"X-Content-Type-Options": "nosniff"})


def routes() -> list[BaseRoute]:
    return [Route("/assets/graphiql/{name}", asset)]
