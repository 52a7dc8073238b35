"""Ports for the suite's servers, chosen where nothing else will take them before they start.

A port the kernel hands out for binding to 0 lies in its ephemeral range (32768-60999 on
Linux), the same range every outgoing connection takes its local port from: between a test
choosing one and its server starting (minutes, for the servers a session fixture starts
late), a connection may take it, and the server fails with EADDRINUSE. So ports come from
below that range, each suite process (pytest-xdist worker) from its own slice, and one process
never hands out a port twice."""

from __future__ import annotations

import os
import random
import socket
from pathlib import Path

_LOW = 10_000
_given: set[int] = set()


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def _slice() -> range:
    """This process's ports: its share of those below the ephemeral range."""
    high = _ephemeral_low()
    if high - _LOW < 1000:
        return range(0)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = int(worker[2:]) if worker[2:].isdigit() else 0
    count = max(int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")), index + 1)
    size = (high - _LOW) // count
    return range(_LOW + index * size, _LOW + (index + 1) * size)


def free_port() -> int:
    """A loopback port free now, outside the ephemeral range where there is one."""
    ports = _slice()
    start = random.randrange(len(ports)) if ports else 0
    for n in range(len(ports)):
        port = ports[(start + n) % len(ports)]
        if port in _given:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _given.add(port)
        return port
    with socket.socket() as sock:  # no such range here: the kernel's choice
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
