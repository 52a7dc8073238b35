"""What the connectors need of the hub's settings, handed to them by the process that runs them.

Connectors neither import hub nor read the environment: the hub's Settings are the one reader
of ``HUB_*``. ``hub worker`` and ``hub beat`` (before Celery starts: prefork children inherit
it), the API at start-up and every other ``hub`` command build a :class:`WorkerConfig` from
them and :func:`configure` it here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from connectors.storage.config import StorageConfig
from graph.db import Neo4jConfig
from policies.targets import TargetRule


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    redis_url: str  # the broker, and where workers keep heartbeat, locks and feed state
    neo4j: Neo4jConfig
    targets: TargetRule  # where webhooks may go
    measures_file: Path  # the sanction-measure catalogue and its delivery rules
    feeds_file: Path | None  # the pulled lists; None: policies/feeds.yaml
    storage: StorageConfig  # where uploaded archive files wait for their import
    retention_file: Path  # how long outbox events, deliveries and import reports stay


_configured: list[WorkerConfig] = []
_listeners: list[Callable[[WorkerConfig], None]] = []


def configure(config: WorkerConfig) -> None:
    """Use ``config`` in this process (and in the processes it forks): Celery's broker too,
    once its module is loaded (see :func:`on_configure`)."""
    _configured[:] = [config]
    for listener in _listeners:
        listener(config)


def on_configure(listener: Callable[[WorkerConfig], None]) -> None:
    """Call ``listener`` with the configuration now, if there is one, and on each change.
    Celery's module registers here rather than being imported by this one: most ``hub``
    commands never send a task, and loading Celery cost each of them most of a second."""
    _listeners.append(listener)
    if _configured:
        listener(_configured[0])


def configured() -> WorkerConfig:
    """The configuration :func:`configure` gave this process."""
    if not _configured:
        raise RuntimeError("connectors are not configured: call connectors.config.configure()")
    return _configured[0]
