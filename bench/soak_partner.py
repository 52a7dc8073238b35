"""One partner of the soak: a webhook endpoint under uvicorn, in its own process, that writes
every request it receives, repeats included, to a JSON Lines file.

Settings come from the environment: ``SOAK_PARTNER_SECRET`` (the ``whsec_`` key it verifies
with, through the ``standardwebhooks`` package) and ``SOAK_PARTNER_LOG`` (the file). Each line
is ``{"id": webhook-id, "type": ..., "ref": sanctionId or recordId, "at": unix time}``, or
``{"bad": reason, "at": ...}`` for a request whose signature does not verify (answered 401).
Counting repeats is left to the soak: a partner drops them by ``webhook-id``.
"""

from __future__ import annotations

import json
import os
import time

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

HOOK = Webhook(os.environ.get("SOAK_PARTNER_SECRET", ""))
LOG = open(os.environ.get("SOAK_PARTNER_LOG", os.devnull), "a", buffering=1)  # noqa: SIM115


async def receive(request: Request) -> Response:
    body = await request.body()
    try:
        message = HOOK.verify(body, dict(request.headers))
    except WebhookVerificationError as exc:
        LOG.write(json.dumps({"bad": str(exc), "at": time.time()}) + "\n")
        return Response(status_code=401)
    data = message.get("data", {})
    line = {
        "id": request.headers["webhook-id"],
        "type": message.get("type"),
        "ref": data.get("sanctionId") or data.get("recordId"),
        "at": time.time(),
    }
    LOG.write(json.dumps(line) + "\n")
    return Response(status_code=204)


app = Starlette(routes=[Route("/", receive, methods=["POST"])])
