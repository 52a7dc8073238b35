"""A real Celery worker and beat against the suite's Redis: the schedule reaches the worker."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import redis

from connectors.celery_app import HEARTBEAT_KEY
from hub.cli.services import stop_process
from hub.settings import PROJECT_ROOT
from tests.conftest import TEST_DATA


@pytest.fixture
def worker_and_beat(redis_server: str) -> Iterator[None]:
    logs = TEST_DATA / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "hub", name],
            cwd=PROJECT_ROOT,
            stdout=(logs / f"{name}.log").open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for name in ("worker", "beat")
    ]
    yield
    for proc in procs:
        stop_process(proc.pid, timeout=20)
        proc.wait(timeout=5)


def test_beat_schedules_and_worker_runs_the_heartbeat(
    redis_server: str, worker_and_beat: None
) -> None:
    client = redis.Redis.from_url(redis_server)
    client.delete(HEARTBEAT_KEY)
    deadline = time.monotonic() + 60
    while client.get(HEARTBEAT_KEY) is None:
        assert time.monotonic() < deadline, f"no heartbeat: see {TEST_DATA / 'logs' / 'worker.log'}"
        time.sleep(0.5)
    assert abs(float(client.get(HEARTBEAT_KEY) or 0) - time.time()) < 60
