"""The Starlette application: its routes, middleware, and what it opens at start-up."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import redis.asyncio as aioredis
from neo4j.exceptions import ServiceUnavailable, SessionExpired
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.applications import Starlette
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from connectors.config import configure
from connectors.coordination.freshness import generation_bump
from connectors.coordination.maintenance import write_gate
from connectors.coordination.reconnect import once
from connectors.storage.base import StorageUnavailable
from connectors.storage.config import open_storage
from graph.db import Store, connect
from hub.api.contract import Contracts
from hub.api.guards import check_cached_fields, check_prices
from hub.api.schema import graphql_schema
from hub.audit_log import AuditLog
from hub.errors import storage_unavailable, store_unavailable
from hub.http import graphiql, pages
from hub.http.auth.backend import TokenBackend, unauthenticated
from hub.http.auth.jwks import jwks_client
from hub.http.auth.tokens import TokenCache, token_verifier
from hub.http.body_deadline import BodyDeadline
from hub.http.graphql import GraphQLEndpoint
from hub.http.health import healthz, readyz
from hub.http.instrument import Instrument
from hub.http.metrics import NEO4J_POOL, metrics_endpoint, neo4j_watch, scrape_token
from hub.http.response_cache import ResponseCache, watched_pool
from hub.http.rest.case_documents import get_case_document_file, post_case_document
from hub.http.rest.court_documents import post_court_documents
from hub.http.rest.exports import export_network
from hub.http.rest.feedback import post_feedback
from hub.http.rest.objections import post_objection
from hub.http.rest.recommendations import recommendation
from hub.http.rest.schema_sdl import role_schema
from hub.http.rest.uploads import upload_archive
from hub.keys import portal_session_secret
from hub.logs import configure_logging
from hub.portal import certificates, site
from hub.portal.rights import commitments, objections
from hub.portal.rights import repair as repair_pages
from hub.portal.rights.signin import sign_in_clients
from hub.portal.session import COOKIE
from hub.settings import Settings, get_settings, letters
from policies.access import default_policy
from policies.credit.restrictions import default_restrictions
from policies.limits import load_limits


async def not_found(request: Request, exc: Exception) -> Response:
    return PlainTextResponse("not found", status_code=404)


LABELLED = frozenset(  # routes whose requests Prometheus counts apart
    {
        "/graphql",
        "/archives",
        "/exports/network",
        "/schema.graphql",
        "/healthz",
        "/readyz",
        "/metrics",
    }
)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()
    configure(settings.worker_config)  # wakes deliveries, queues archive imports

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if not logging.getLogger().handlers:  # a uvicorn worker process `hub serve` spawned
            configure_logging()
        app.state.settings = settings
        app.state.http = jwks_client(settings.jwks_ca_file)  # partner IdPs' JWKS
        app.state.verifier = token_verifier(settings, app.state.http)  # bad issuers.yaml: no start
        app.state.tokens = TokenCache()  # verified principals, shared by every route
        app.state.policy = default_policy()  # validated now: a bad policy stops the start
        app.state.contracts = Contracts(app.state.policy)  # GET /schema.graphql
        default_restrictions()  # so does a bad restrictions.yaml
        letters()  # likewise the recommendation letters, against the catalogue's kinds
        app.state.limits = load_limits(settings.limits_file)
        app.state.signin = sign_in_clients(settings)  # a bad signin.yaml stops the start too
        check_prices(graphql_schema(), app.state.limits)  # a price for no field stops the start
        check_cached_fields(graphql_schema(), app.state.limits)  # so does a cached mutation
        open_storage(settings.storage_config)  # its client made now, not in the first upload
        app.state.driver = connect(settings.neo4j)
        app.state.answers = ResponseCache(app.state.limits.cache)
        app.state.redis = aioredis.Redis(
            connection_pool=watched_pool(
                settings.redis_url, app.state.answers.reconnected, socket_timeout=2,
                socket_connect_timeout=2, retry=once(),  # a restart's closed connections
                client_name="hub-api",  # in CLIENT LIST, beside the workers' connections
            )
        )  # fmt: skip
        app.state.store = Store(
            app.state.driver,
            settings.neo4j_database,
            settings.neo4j_query_timeout,
            generation_bump(app.state.redis),
            write_gate(app.state.redis),  # a write during `hub backup` is refused at once
            neo4j_watch,
        )
        NEO4J_POOL.set(settings.neo4j.pool_size)
        app.state.audit_log = AuditLog(app.state.redis)
        with suppress(RedisError, OSError):  # else the first request does it
            await app.state.redis.ping()  # connected first, so the move on below vouches for it
            await app.state.answers.vouch(app.state.redis)
        # Startup objects (schema, modules) never die: keep them out of the collector's way,
        # which shortens the pauses that show as tail latency.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            await app.state.driver.close()
            await app.state.redis.aclose()
            await app.state.http.aclose()

    app = Starlette(
        routes=[
            Route(
                "/graphql",
                GraphQLEndpoint(settings.env == "development"),
                methods=["GET", "POST", "PUT", "DELETE", "PATCH"],
            ),
            Route("/archives", upload_archive, methods=["POST"]),
            Route("/court-documents", post_court_documents, methods=["POST"]),
            Route("/cases/{case}/documents", post_case_document, methods=["POST"]),
            Route(
                "/cases/{case}/documents/{document}/file", get_case_document_file, methods=["GET"]
            ),
            Route("/exports/network", export_network, methods=["GET"]),
            Route("/feedback", post_feedback, methods=["POST"]),
            Route("/objections", post_objection, methods=["POST"]),
            Route("/recommendations/{sanction}", recommendation, methods=["GET"]),
            Route("/schema.graphql", role_schema, methods=["GET"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_endpoint(scrape_token(settings))),
            # Before pages' /assets mount, which would answer 404 for these paths.
            *(graphiql.routes() if settings.env == "development" else ()),
            *pages.routes(),
            *site.routes(),  # the public portal, no login
            *certificates.routes(),
            *objections.routes(),  # a signed-in subject's objections
            *repair_pages.routes(),  # a signed-in subject's credit repair
            *commitments.routes(),  # a signed-in subject's public commitments
        ],
        lifespan=lifespan,
        exception_handlers={
            404: not_found,
            StorageUnavailable: storage_unavailable,
            ServiceUnavailable: store_unavailable,  # Neo4j away
            SessionExpired: store_unavailable,
            RedisConnectionError: store_unavailable,
            RedisTimeoutError: store_unavailable,
        },
    )
    app.add_middleware(
        AuthenticationMiddleware,
        backend=TokenBackend(own_credentials=frozenset({"/metrics"})),
        on_error=unauthenticated,
    )
    app.add_middleware(  # the portal's signed-in subject (hub/portal/session.py)
        SessionMiddleware,
        secret_key=portal_session_secret(settings.keys_dir),
        session_cookie=COOKIE,
        max_age=settings.portal_session_seconds,
        same_site="lax",
        https_only=settings.base_url.startswith("https://"),
    )
    app.add_middleware(BodyDeadline, timeout=settings.body_timeout, min_rate=settings.body_min_rate)
    app.add_middleware(Instrument, routes=LABELLED)  # outermost: it counts the 408s too
    return app
