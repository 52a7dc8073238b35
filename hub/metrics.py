"""Prometheus metrics, aggregated across uvicorn worker processes.

With several workers each process writes its samples to ``PROMETHEUS_MULTIPROC_DIR`` and
``/metrics`` collects them all, so a scrape sees the whole server, not one worker.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Counter("hub_http_requests_total", "HTTP requests", ["route", "status"])
LATENCY = Histogram(
    "hub_http_request_seconds",
    "HTTP request latency",
    ["route"],
    buckets=(0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
GRAPHQL_ERRORS = Counter("hub_graphql_errors_total", "GraphQL errors by code", ["code"])


def render() -> tuple[bytes, str]:
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    from prometheus_client import REGISTRY

    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
