"""uvicorn's HTTP protocol with a deadline for a request's line and headers.

uvicorn bounds only the idle time between two requests (``timeout_keep_alive``), and every
byte received cancels that timer: a client sending its headers a byte a second (slowloris),
or connecting and sending nothing, holds a connection and its memory for ever. No ASGI
middleware can help, because the application is called only once the headers are complete.
So the deadline is kept here, where the bytes arrive: from the moment the connection is made,
or a kept-alive connection's next request begins, to the end of its headers.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from hub.settings import get_settings

_MESSAGE = b"the request's headers took too long\n"
_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(_MESSAGE), _MESSAGE)
)


class HeaderDeadlineProtocol(HttpToolsProtocol):
    """Closes a connection whose request headers are not complete within
    ``HUB_HEADER_TIMEOUT`` seconds (after a 408, so an honest slow client learns why)."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.header_timeout = get_settings().header_timeout
        self.header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def _arm(self) -> None:
        if self.header_timer is None:
            self.header_timer = self.loop.call_later(self.header_timeout, self._expired)

    def _disarm(self) -> None:
        if self.header_timer is not None:
            self.header_timer.cancel()
            self.header_timer = None

    def _expired(self) -> None:
        self.header_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is None or self.cycle.response_complete:
            self.transport.write(_TIMEOUT_RESPONSE)  # not amid an earlier request's answer
        self.transport.close()
