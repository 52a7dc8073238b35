"""Imports whose whole worker died are taken up again within a minute, not after an hour.

A task is acknowledged late, so a worker *process* that dies hands its import back at once; a
whole worker killed with SIGKILL leaves the message unacknowledged in Redis until the broker's
visibility timeout (an hour, so that long imports are not run twice). So a running import keeps
a key alive in Redis, renewed every ``ALIVE_EVERY`` seconds and lapsing ``ALIVE_TTL`` seconds
after its worker stops renewing it, with the task's arguments beside it. Beat runs
``reclaim_imports`` every ``RECLAIM_EVERY`` seconds: an import whose arguments are there but
whose key lapsed is claimed (one reclaimer wins) and sent again. The rerun writes nothing twice
(natural keys); the message the broker hands back an hour later finds the import finished.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis

ALIVE_TTL = 15  # seconds an import's key outlives its last renewal
ALIVE_EVERY = 5  # seconds between renewals
RECLAIM_EVERY = 10.0  # beat's period for reclaim_imports: a dead import waits < 30 s
CLAIM_GRACE = 60  # seconds a reclaimed import has to start before it may be claimed again
_ARGS = "hub:import:{id}:task"
_ALIVE = "hub:import:{id}:alive"


@contextmanager
def kept_alive(url: str, import_id: str, arguments: dict[str, Any]) -> Iterator[None]:
    """While the block runs, the import's key (in the Redis at ``url``) stays alive and its
    arguments are kept; both go when it ends, however it ends (a failed import is not run
    again)."""
    alive, args = _ALIVE.format(id=import_id), _ARGS.format(id=import_id)
    client = redis.Redis.from_url(url)
    client.set(args, json.dumps(arguments))
    client.set(alive, "running", ex=ALIVE_TTL)
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(ALIVE_EVERY):
            # Redis away: the key may lapse and the import run twice, which writes nothing twice.
            with contextlib.suppress(redis.RedisError):
                client.set(alive, "running", ex=ALIVE_TTL)

    renewer = threading.Thread(target=renew, name=f"alive-{import_id}", daemon=True)
    renewer.start()
    try:
        yield
    finally:
        stop.set()
        renewer.join()
        try:
            client.delete(args, alive)
        finally:
            client.close()


def lapsed(url: str) -> list[dict[str, Any]]:
    """The arguments of every import whose worker stopped renewing it (in the Redis at
    ``url``), each claimed for this caller (SET NX on its key, so two reclaimers never both
    send it)."""
    found = []
    with redis.Redis.from_url(url) as client:
        for key in client.scan_iter(_ARGS.format(id="*")):
            name = key.decode() if isinstance(key, bytes) else str(key)
            import_id = name.removeprefix("hub:import:").removesuffix(":task")
            if client.set(_ALIVE.format(id=import_id), "reclaimed", ex=CLAIM_GRACE, nx=True):
                raw = client.get(name)
                if raw is not None:
                    found.append(json.loads(raw))
    return found
