"""How the long-lived Redis clients (the API's, a worker's) meet a restarted Redis.

A restart closes every pooled connection; each one fails on its next use, which redis-py does
not try again for clients made from a URL (no retries). One immediate retry on a fresh
connection turns that into a reconnect, while an outage still fails at once (the retry fails
too) and answers UNAVAILABLE. What the hub sends is safe to send twice: a rate charge or the
cache generation moves one further, an audit entry is chained once by its event id.
"""

from __future__ import annotations

from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff


def once() -> Retry:
    """Retry a command or pipeline once, at once, on a connection or timeout error."""
    return Retry(NoBackoff(), 1)
