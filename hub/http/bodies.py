"""Request bodies read within their size limit, counted while they stream in.

A limit checked after ``await request.body()`` has already let the client fill memory; here a
declared Content-Length over the limit is refused before a byte is read, and a body without
one (chunked) is cut off at the first chunk that passes the limit.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Message

from hub.errors import Code, error_response


class BodyTooLarge(Exception):
    """The body is, or declares to be, over its limit; nothing more of it is read."""

    def __init__(self, limit: int, what: str) -> None:
        super().__init__(f"{what} may be at most {limit} bytes")
        self.limit = limit

    def response(self) -> JSONResponse:
        return error_response(413, Code.LIMIT_EXCEEDED, str(self), {"limit": self.limit})


def check_length(request: Request, limit: int, what: str) -> None:
    """Refuse on the declared length alone: a body announced over the limit is never read."""
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > limit):
        raise BodyTooLarge(limit, what)


async def read_body(request: Request, limit: int, what: str) -> bytes:
    """The whole body, at most ``limit`` bytes of it ever held."""
    check_length(request, limit, what)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit, what)
        chunks.append(chunk)
    return b"".join(chunks)


def capped(request: Request, limit: int, what: str) -> Request:
    """The same request whose body stops at ``limit`` bytes, for parsers that read the stream
    themselves (``request.form()``): past the limit, their next read raises BodyTooLarge."""
    check_length(request, limit, what)
    size = 0

    async def receive() -> Message:
        nonlocal size
        message = await request.receive()
        size += len(message.get("body", b""))
        if size > limit:
            raise BodyTooLarge(limit, what)
        return message

    return Request(request.scope, receive)
