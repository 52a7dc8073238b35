"""The benchmark's partners: one Starlette app under uvicorn, in its own process, so the partner
side is not what limits the measurement (a threaded stdlib server tops out near 400 posts/s).

``POST /p/{code}`` is partner ``code``'s endpoint: it verifies the signature with the
``standardwebhooks`` package and the secret in ``BENCH_PARTNER_SECRETS`` (JSON, code → secret),
drops repeated ``webhook-id``s, and notes when each sanction arrived. ``GET /receipts`` returns
``[code, sanctionId, receivedAt]`` triples; ``DELETE /receipts`` forgets them.
"""

from __future__ import annotations

import json
import os
import time

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

HOOKS = {
    code: Webhook(secret)
    for code, secret in json.loads(os.environ.get("BENCH_PARTNER_SECRETS", "{}")).items()
}
seen: set[tuple[str, str]] = set()
receipts: list[tuple[str, str, float]] = []


async def receive(request: Request) -> Response:
    code = request.path_params["code"]
    body = await request.body()
    hook = HOOKS.get(code)
    if hook is None:
        return Response(status_code=404)
    try:
        message = hook.verify(body, dict(request.headers))
    except WebhookVerificationError:
        return Response(status_code=401)
    key = (code, request.headers["webhook-id"])
    if key not in seen:
        seen.add(key)
        receipts.append((code, message["data"]["sanctionId"], time.time()))
    return Response(status_code=204)


async def read(request: Request) -> Response:
    if request.method == "DELETE":
        receipts.clear()
        return Response(status_code=204)
    return JSONResponse(receipts)


app = Starlette(
    routes=[
        Route("/p/{code}", receive, methods=["POST"]),
        Route("/receipts", read, methods=["GET", "DELETE"]),
    ]
)
