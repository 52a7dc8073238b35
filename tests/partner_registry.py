"""Partners registered in the hub for one test, each played by a real HTTP server on loopback
(tests/partners.py), and waiting for what they receive."""

from __future__ import annotations

import time
from typing import Any

from connectors.signing import new_credentials
from graph.db import Store
from graph.exchange.partners import Keys, register
from policies.credit.measures import Catalogue
from policies.targets import TargetRule
from tests.conftest import free_port
from tests.partners import Behaviour, Inbox, PartnerServer


async def register_partner(
    store: Store,
    catalogue: Catalogue,
    code: str,
    kind: str,
    endpoint: str | None,
    events: list[str],
    clearance: str | None = None,
) -> str:
    """Register a partner of ``kind`` with fresh HMAC keys; the key that verifies its events."""
    keys = new_credentials("HMAC_SHA256")
    entry = {"code": code, "name": f"{code} 测试伙伴", "kind": kind, "events": events}
    await register(
        store,
        catalogue,
        {**entry, "endpoint": endpoint, **({"clearance": clearance} if clearance else {})},
        Keys(keys.scheme, keys.signing, keys.verifying),
        targets=TargetRule(public_only=False, https_only=True),
        send_active_set=False,  # it counts only this test's events, not the listings in force
    )
    return keys.verifying


async def registered_partner(
    store: Store,
    catalogue: Catalogue,
    code: str,
    kind: str,
    events: list[str],
    clearance: str | None = None,
) -> PartnerServer:
    """A partner of ``kind`` registered in the hub and listening on loopback (stop it after)."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}/hub-events"
    secret = await register_partner(store, catalogue, code, kind, endpoint, events, clearance)
    return PartnerServer(port, Inbox(secret, Behaviour())).start()


def wait_for(inbox: Inbox, match: Any, timeout: float = 20) -> dict[str, Any]:
    """The first event the partner received that ``match`` accepts, waiting for it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with inbox.lock:
            found = [m for m in inbox.applied if match(m)]
        if found:
            return found[0]
        time.sleep(0.05)
    raise AssertionError(f"the partner received no such event; it has {inbox.applied}")
