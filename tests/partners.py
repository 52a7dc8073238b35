"""Partners played by real HTTP servers on loopback, as a partner would build one.

Each verifies every request with the ``standardwebhooks`` package (the reference library, not
the hub's code), keeps the first copy of each ``webhook-id`` and counts duplicates, and behaves
as told: answer at once, slowly, with 500s, past the hub's timeout, or not at all.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


@dataclass
class Behaviour:
    """How the partner answers the n-th copy of one event (n counts from 1)."""

    fail_first: int = 0  # answer 500 to this many copies first
    sleep_first: int = 0  # sleep `sleep` seconds on this many copies first
    sleep: float = 0.0
    accept_then_fail: int = 0  # keep the event, but answer 500 to this many copies first
    always_sleep: float = 0.0  # every request takes this long (a slow partner)
    jitter: float = 0.0  # and up to this long more, at random (answers come back out of order)


@dataclass
class Inbox:
    secret: str
    behaviour: Behaviour
    lock: threading.Lock = field(default_factory=threading.Lock)
    applied: list[dict[str, Any]] = field(default_factory=list)  # first copies, arrival order
    copies: Counter[str] = field(default_factory=Counter)  # every verified request per id
    bad_signatures: int = 0
    connections: int = 0  # every TCP connection accepted, even one that sent no request
    holding: int = 0  # requests a slow partner is holding (sleeping on) right now

    @property
    def ids(self) -> list[str]:
        with self.lock:
            return [m["id"] for m in self.applied]

    @property
    def duplicates(self) -> int:
        with self.lock:
            return sum(n - 1 for n in self.copies.values() if n > 1)


class PartnerServer(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog is 5: the hub's 50 concurrent posts would overflow it and
    # wait out TCP's one-second SYN retry, which measures the partner, not the hub.
    request_queue_size = 512

    def __init__(self, port: int, inbox: Inbox) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.inbox = inbox

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hub-events"

    def verify_request(self, request: Any, client_address: Any) -> bool:
        with self.inbox.lock:
            self.inbox.connections += 1
        return True

    def start(self) -> PartnerServer:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: PartnerServer

    def do_POST(self) -> None:
        inbox = self.server.inbox
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            message = Webhook(inbox.secret).verify(body, dict(self.headers.items()))
        except WebhookVerificationError:
            with inbox.lock:
                inbox.bad_signatures += 1
            self._answer(401)
            return
        msg_id = self.headers["webhook-id"]
        behaviour = inbox.behaviour
        with inbox.lock:
            inbox.copies[msg_id] += 1
            copy = inbox.copies[msg_id]
        if behaviour.always_sleep or behaviour.jitter:
            with inbox.lock:
                inbox.holding += 1
            time.sleep(behaviour.always_sleep + random.uniform(0, behaviour.jitter))
            with inbox.lock:
                inbox.holding -= 1
        if copy <= behaviour.sleep_first:
            time.sleep(behaviour.sleep)
        if copy <= behaviour.fail_first:
            self._answer(500)
            return
        with inbox.lock:
            if msg_id not in {m["id"] for m in inbox.applied}:  # a duplicate is dropped
                inbox.applied.append({**message, "receivedAt": time.time()})
        self._answer(500 if copy <= behaviour.accept_then_fail else 204)

    def _answer(self, status: int) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the hub gave up waiting: that copy failed on its side

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: tests assert on the inbox."""
