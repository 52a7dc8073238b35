"""ASGI middleware: a request's body arrives in time, or the request ends with 408.

A client that sends its body a byte at a time keeps a handler (and whatever it holds) waiting
on ``receive`` for ever; uvicorn has no timeout for that. Here every ``receive`` while the
body is still coming waits only until the body's deadline: ``timeout`` seconds after the
request started, plus one second per ``min_rate`` bytes received so far, so a large upload
at an honest pace always has time and a trickle falls behind. A response that starts before
the body has been read to its end closes the connection, so the unread rest cannot be
trickled in afterwards either.
"""

from __future__ import annotations

import asyncio

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.errors import Code, error_response


class BodyTimeout(Exception):
    """The body did not arrive by its deadline."""


class BodyDeadline:
    def __init__(self, app: ASGIApp, timeout: float, min_rate: int) -> None:
        self.app = app
        self.timeout = timeout
        self.min_rate = min_rate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        started = loop.time()
        received = 0
        pending = _has_body(Headers(scope=scope))
        responded = False

        async def timed_receive() -> Message:
            nonlocal received, pending
            if not pending:
                return await receive()
            deadline = started + self.timeout + received / self.min_rate
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise BodyTimeout from None
            received += len(message.get("body", b""))
            pending = message["type"] == "http.request" and message.get("more_body", False)
            return message

        async def closing_send(message: Message) -> None:
            nonlocal responded
            if message["type"] == "http.response.start":
                responded = True
                if pending:
                    message.setdefault("headers", []).append((b"connection", b"close"))
            await send(message)

        try:
            await self.app(scope, timed_receive, closing_send)
        except BodyTimeout:
            if responded:
                raise
            refusal = error_response(
                408,
                Code.LIMIT_EXCEEDED,
                f"the request body did not arrive in time (at least {self.min_rate} bytes "
                f"a second after the first {self.timeout:g} s)",
            )
            await refusal(scope, timed_receive, closing_send)


def _has_body(headers: Headers) -> bool:
    return "transfer-encoding" in headers or headers.get("content-length", "0") != "0"
