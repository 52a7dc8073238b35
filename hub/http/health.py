"""``/healthz`` (the process answers) and ``/readyz`` (its Neo4j and Redis answer too)."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse, Response


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    state = request.app.state
    checks: dict[str, str] = {}
    try:
        await asyncio.wait_for(state.store.ping(), 3)
        checks["neo4j"] = "ok"
    except Exception as exc:  # any failure means not ready; say which
        checks["neo4j"] = f"unavailable: {type(exc).__name__}"
    try:
        await asyncio.wait_for(state.redis.ping(), 2)
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"unavailable: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse({"ready": ready, **checks}, status_code=200 if ready else 503)
