"""Prometheus metrics, aggregated across uvicorn worker processes, for the scraper only.

With several workers each process writes its samples to ``PROMETHEUS_MULTIPROC_DIR`` and
``/metrics`` collects them all, so a scrape sees the whole server, not one worker.

``/metrics`` tells load, routes and error rates, which is not for the world: a scrape shows a
bearer token (Prometheus ``authorization: credentials_file``). It is ``HUB_METRICS_TOKEN``;
outside production a token is generated into the data directory when none is set. In
production without one, ``/metrics`` is off. A token rather than a second listener because
the API's uvicorn workers share one socket, and a proxy in front need not know the path.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

from neo4j.exceptions import DriverError, Neo4jError
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from hub.http.backlog import BacklogCollector, read_backlog
from hub.keys import dev_metrics_token
from hub.settings import Settings

REQUESTS = Counter("hub_http_requests_total", "HTTP requests", ["route", "status"])
LATENCY = Histogram(
    "hub_http_request_seconds",
    "HTTP request latency",
    ["route"],
    buckets=(0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
GRAPHQL_ERRORS = Counter("hub_graphql_errors_total", "GraphQL errors by code", ["code"])
FIELD_LATENCY = Histogram(
    "hub_graphql_field_seconds",
    "Latency of requests by root field (a request with two root fields counts for both)",
    ["field"],
    buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
FIELD_ERRORS = Counter(
    "hub_graphql_field_errors_total", "GraphQL errors by root field and code", ["field", "code"]
)
NEO4J_SECONDS = Histogram(
    "hub_neo4j_transaction_seconds",
    "Time a session or statement held a pooled Neo4j connection, by access mode",
    ["mode"],
    buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
NEO4J_IN_USE = Gauge(
    "hub_neo4j_connections_in_use",
    "Sessions and statements open on Neo4j now, across the API's processes",
    multiprocess_mode="livesum",
)
NEO4J_POOL = Gauge(
    "hub_neo4j_pool_size",
    "Connections the API's processes may open to Neo4j (HUB_NEO4J_POOL_SIZE each)",
    multiprocess_mode="livesum",
)


@contextmanager
def neo4j_watch(mode: str) -> Iterator[None]:
    """Around one use of a pooled connection (graph.db.Store ``watch``): counted in use while
    it lasts, then its time observed. In use near the pool's size means requests queue for a
    connection (the pool waits ``connect_timeout`` + 1 s, then the request fails)."""
    NEO4J_IN_USE.inc()
    started = time.perf_counter()
    try:
        yield
    finally:
        NEO4J_IN_USE.dec()
        NEO4J_SECONDS.labels(mode).observe(time.perf_counter() - started)


class Unreadable(Collector):
    """A scrape that could not read the backlog (Neo4j or Redis away) says so."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily(
            "hub_backlog_readable", "Whether this scrape could read the backlog", 0
        )


def scrape_token(settings: Settings) -> str | None:
    """The token a scrape must show; None: metrics are off (production without a token)."""
    if configured := settings.metrics_token.get_secret_value():
        return configured
    return None if settings.env == "production" else dev_metrics_token(settings.keys_dir)


def may_scrape(authorization: str | None, token: str) -> bool:
    """Does an ``Authorization`` header carry the scrape token? Compared in constant time."""
    scheme, _, credentials = (authorization or "").partition(" ")
    given = credentials.strip().encode()
    return scheme.lower() == "bearer" and hmac.compare_digest(given, token.encode())


def render(extra: Collector) -> tuple[bytes, str]:
    """Every process's samples, and ``extra`` (what the scrape read: hub/http/backlog.py)."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        registry.register(extra)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    from prometheus_client import REGISTRY

    scraped = CollectorRegistry()
    scraped.register(extra)
    return generate_latest(REGISTRY) + generate_latest(scraped), CONTENT_TYPE_LATEST


async def _backlog(request: Request) -> Collector:
    """The waiting work read now; a store that does not answer says so instead."""
    state = request.app.state
    if not hasattr(state, "store"):  # an app served without its lifespan (tests)
        return Unreadable()
    try:
        return BacklogCollector(await read_backlog(state.redis, state.store), time.time())
    except (RedisError, Neo4jError, DriverError, OSError):
        return Unreadable()


def metrics_endpoint(token: str | None) -> Callable[[Request], Awaitable[Response]]:
    """``/metrics`` for a scraper that shows ``token`` (hub/http/metrics.py); off when None."""

    async def metrics(request: Request) -> Response:
        if token is None:
            return PlainTextResponse("not found", status_code=404)
        if not may_scrape(request.headers.get("authorization"), token):
            return PlainTextResponse(
                "a scrape token is required", 401, headers={"WWW-Authenticate": "Bearer"}
            )
        body, content_type = render(await _backlog(request))
        return Response(body, media_type=content_type)

    return metrics
