"""The Starlette application: GraphQL, health, readiness and metrics."""

from __future__ import annotations

import asyncio
import gc
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as aioredis
import structlog
from neo4j.exceptions import ServiceUnavailable, SessionExpired
from redis.exceptions import RedisError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.asgi import GraphQL

from graph.db import Neo4jConfig, connect, ping
from graph.trusted_documents import document as registered_document
from graph.trusted_documents import document_hash
from hub.api.context import Context
from hub.api.contract import Contracts
from hub.api.feedback import post_feedback
from hub.api.guards import Refusal, check, check_prices, spend
from hub.api.schema import schema
from hub.audit_log import AuditLog
from hub.errors import Code, error_response
from hub.http import graphiql, pages
from hub.http.auth import AuthError, TokenCache, authenticate, token_verifier
from hub.http.bodies import BodyTooLarge, read_body
from hub.http.body_deadline import BodyDeadline
from hub.http.exports import export_network
from hub.http.jwks import jwks_client
from hub.http.metrics import GRAPHQL_ERRORS, LATENCY, REQUESTS, may_scrape, render, scrape_token
from hub.http.recommendations import recommendation
from hub.http.schema_sdl import role_schema
from hub.http.uploads import upload_archive
from hub.portal import certificates
from hub.portal import pages as portal
from hub.settings import Settings, get_settings, letters
from policies.access import default_policy, read_scope
from policies.credit.restrictions import default_restrictions
from policies.limits import parse_limits
from policies.principal import Principal

MAX_BODY = 16 * 1024
log = structlog.get_logger("hub.http.app")


class HubGraphQL(GraphQL[Context, None]):
    async def get_context(self, request: Any, response: Any) -> Context:
        state = request.app.state
        settings: Settings = state.settings
        principal: Principal = request.scope["hub.principal"]
        context = Context(
            principal=principal,
            driver=state.driver,
            database=settings.neo4j_database,
            query_timeout=settings.neo4j_query_timeout,
            request_id=request.scope["hub.request_id"],
            access=read_scope(principal, state.policy),
            policy=state.policy,
            redacted=[],
            audit_log=state.audit_log,
        )
        request.scope["hub.api.context"] = context
        return context

    async def process_result(self, request: Any, result: Any) -> Any:
        for error in result.errors or []:
            if not (error.extensions or {}).get("code"):
                # Strawberry reports syntax errors before extensions see the operation.
                error.extensions = {"code": Code.BAD_USER_INPUT.value}
            GRAPHQL_ERRORS.labels(error.extensions["code"]).inc()
        response = await super().process_result(request, result)
        context = request.scope.get("hub.api.context")
        if context is not None and context.redacted:
            # Withheld fields are named, so a caller knows null means "not for you".
            extensions = dict(response.get("extensions") or {})
            response["extensions"] = {**extensions, "redacted": context.redacted}
        return response


class GraphQLEndpoint:
    """Checks what Strawberry does not before a document is parsed: method, media type, size,
    and the bearer token. Only an authenticated JSON POST of at most 16 KB reaches GraphQL."""

    def __init__(self, development: bool) -> None:
        self.development = development
        self.operations: dict[str, str] = {}  # hash → registered document
        self.graphql = HubGraphQL(
            schema,
            graphql_ide=None,  # our own page (hub/http/graphiql.py): no CDN, a strict CSP
            allow_queries_via_get=False,
            multipart_uploads_enabled=False,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        if self._wants_graphiql(request):
            await graphiql.page()(scope, receive, send)  # a static page: the token is typed in it
            return
        response = await self._refuse(request)
        if response is not None:
            await response(scope, receive, send)
            return
        try:
            body = await read_body(request, MAX_BODY, "a GraphQL request")
        except BodyTooLarge as exc:
            await exc.response()(scope, receive, send)
            return
        try:
            scope["hub.principal"] = await authenticate(request)
        except AuthError as exc:
            await error_response(
                401, Code.UNAUTHENTICATED, str(exc), headers={"WWW-Authenticate": "Bearer"}
            )(scope, receive, send)
            return
        guarded = await self._guard(request, body, scope["hub.principal"])
        if isinstance(guarded, Response):
            await guarded(scope, receive, send)
            return
        await self.graphql(scope, _replay(guarded), send)

    async def _guard(self, request: Request, body: bytes, principal: Principal) -> Response | bytes:
        """Limits of policies/limits.yaml, before anything runs: one operation per request,
        registered operations where required, then tokens, depth, aliases, directives,
        introspection, cost and the client's rate. Returns the body to run, or a refusal."""
        try:
            payload = json.loads(body)
        except ValueError:
            return body  # Strawberry answers malformed JSON itself
        if isinstance(payload, list):
            return error_response(
                400, Code.BAD_USER_INPUT, "batching is off: one operation per request"
            )
        if not isinstance(payload, dict):
            return body
        variables = payload.get("variables")
        state = request.app.state
        try:
            query = await self._document(state, payload, principal)
            if query is None:
                return body
            if payload.get("query") != query:
                body = json.dumps({**payload, "query": query}).encode()
            units = check(
                query,
                variables if isinstance(variables, dict) else {},
                principal,
                state.limits,
                schema._schema,
                lambda field: bool(state.policy.may_call(principal, field)),
            )
            await spend(state.redis, principal, units, state.limits, time.time())
        except Refusal as refusal:
            return await self._refused(state, principal, refusal)
        except RedisError:
            return error_response(
                503, Code.UNAVAILABLE, "the rate-limit store is unavailable; retry"
            )
        except (ServiceUnavailable, SessionExpired):
            return error_response(
                503, Code.UNAVAILABLE, "the graph store is unavailable; retry shortly"
            )
        return body

    async def _refused(self, state: Any, principal: Principal, refusal: Refusal) -> Response:
        """The answer to a refused document, which still costs the client ``cost.refusal`` units
        of its rate window: parsing and checking it was work, and free refusals would let a
        client hammer the parser. Past the window the rate's 429 replaces the refusal."""
        if refusal.extensions.get("retryAfter") is None:  # the rate's own refusal is charged
            try:
                await spend(state.redis, principal, state.limits.refusal, state.limits, time.time())
            except Refusal as rate:
                refusal = rate
            except RedisError:
                return error_response(
                    503, Code.UNAVAILABLE, "the rate-limit store is unavailable; retry"
                )
        retry = refusal.extensions.get("retryAfter")
        headers = {"Retry-After": str(retry)} if retry else {}
        return error_response(
            429 if retry else 200, refusal.code, str(refusal), refusal.extensions, headers
        )

    async def _document(
        self, state: Any, payload: dict[str, Any], principal: Principal
    ) -> str | None:
        """The document to run: sent as text, or registered and named by its SHA-256
        (``documentId: "sha256:…"`` or Apollo's ``extensions.persistedQuery.sha256Hash``)."""
        query = payload.get("query")
        digest = _requested_hash(payload)
        if digest is None:
            if not isinstance(query, str):
                return None
            if state.limits.trusted_documents_only(principal):
                digest = document_hash(query)
                if await self._registered(state, digest) is None:
                    raise Refusal(Code.FORBIDDEN, "your role may only send registered operations")
            return query
        registered = await self._registered(state, digest)
        if registered is None:
            raise Refusal(
                Code.BAD_USER_INPUT,
                "no operation is registered under that hash (hub operations register FILE)",
            )
        if isinstance(query, str) and query != registered:
            raise Refusal(Code.BAD_USER_INPUT, "the document does not match its hash")
        return registered

    async def _registered(self, state: Any, digest: str) -> str | None:
        found = self.operations.get(digest)
        if found is None:
            settings: Settings = state.settings
            found = await registered_document(
                state.driver, settings.neo4j_database, digest, settings.neo4j_query_timeout
            )
            if found is not None:
                if len(self.operations) >= 10_000:
                    self.operations.clear()
                self.operations[digest] = found  # registered documents never change
        return found

    def _wants_graphiql(self, request: Request) -> bool:
        """A browser opening /graphql in development; GET never executes a query."""
        return (
            self.development
            and request.method == "GET"
            and "text/html" in request.headers.get("accept", "")
        )

    async def _refuse(self, request: Request) -> Response | None:
        if request.method != "POST":
            return error_response(
                405, Code.BAD_USER_INPUT, "use POST with a JSON body", headers={"Allow": "POST"}
            )
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media != "application/json":
            return error_response(415, Code.BAD_USER_INPUT, "the body must be application/json")
        return None


def _requested_hash(payload: dict[str, Any]) -> str | None:
    document_id = payload.get("documentId")
    if isinstance(document_id, str):
        return document_id.removeprefix("sha256:").lower()
    extensions = payload.get("extensions")
    persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
    if isinstance(persisted, dict) and isinstance(persisted.get("sha256Hash"), str):
        return str(persisted["sha256Hash"]).lower()
    return None


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # like a client that keeps the connection open
        return {"type": "http.disconnect"}

    return receive


class Instrument:
    """Request id, latency and status per route, for logs and Prometheus."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        scope["hub.request_id"] = request_id
        route = scope["path"] if scope["path"] in _ROUTES else "other"
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            LATENCY.labels(route).observe(time.perf_counter() - started)
            REQUESTS.labels(route, str(status)).inc()


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    state = request.app.state
    checks: dict[str, str] = {}
    try:
        await asyncio.wait_for(ping(state.driver, state.settings.neo4j_database), 3)
        checks["neo4j"] = "ok"
    except Exception as exc:  # any failure means not ready; say which
        checks["neo4j"] = f"unavailable: {type(exc).__name__}"
    try:
        await asyncio.wait_for(state.redis.ping(), 2)
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"unavailable: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse({"ready": ready, **checks}, status_code=200 if ready else 503)


def metrics_endpoint(token: str | None) -> Callable[[Request], Awaitable[Response]]:
    """``/metrics`` for a scraper that shows ``token`` (hub/http/metrics.py); off when None."""

    async def metrics(request: Request) -> Response:
        if token is None:
            return PlainTextResponse("not found", status_code=404)
        if not may_scrape(request.headers.get("authorization"), token):
            return PlainTextResponse(
                "a scrape token is required", 401, headers={"WWW-Authenticate": "Bearer"}
            )
        body, content_type = render()
        return Response(body, media_type=content_type)

    return metrics


async def not_found(request: Request, exc: Exception) -> Response:
    return PlainTextResponse("not found", status_code=404)


_ROUTES = {
    "/graphql",
    "/archives",
    "/exports/network",
    "/schema.graphql",
    "/healthz",
    "/readyz",
    "/metrics",
}


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.http = jwks_client(settings.jwks_ca_file)  # partner IdPs' JWKS
        app.state.verifier = token_verifier(settings, app.state.http)  # bad issuers.yaml: no start
        app.state.tokens = TokenCache()  # verified principals, shared by every route
        app.state.policy = default_policy()  # validated now: a bad policy stops the start
        app.state.contracts = Contracts(app.state.policy)  # GET /schema.graphql
        default_restrictions()  # so does a bad restrictions.yaml
        letters()  # likewise the recommendation letters, against the catalogue's kinds
        app.state.limits = parse_limits(
            settings.limits_file.read_text(encoding="utf-8"), str(settings.limits_file)
        )
        check_prices(schema._schema, app.state.limits)  # a price for no field stops the start
        app.state.driver = connect(
            Neo4jConfig(
                uri=settings.neo4j_uri,
                user=settings.neo4j_user,
                password=settings.neo4j_password,
                database=settings.neo4j_database,
                pool_size=settings.neo4j_pool_size,
                connect_timeout=settings.neo4j_connect_timeout,
                query_timeout=settings.neo4j_query_timeout,
            )
        )
        app.state.redis = aioredis.from_url(
            settings.redis_url, socket_timeout=2, socket_connect_timeout=2
        )
        app.state.audit_log = AuditLog(app.state.redis)
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
            Route("/exports/network", export_network, methods=["GET"]),
            Route("/feedback", post_feedback, methods=["POST"]),
            Route("/recommendations/{sanction}", recommendation, methods=["GET"]),
            Route("/schema.graphql", role_schema, methods=["GET"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_endpoint(scrape_token(settings))),
            # Before pages' /assets mount, which would answer 404 for these paths.
            *(graphiql.routes() if settings.env == "development" else ()),
            *pages.routes(),
            *portal.routes(),  # the public portal, no login
            *certificates.routes(),
        ],
        lifespan=lifespan,
        exception_handlers={404: not_found},
    )
    app.add_middleware(BodyDeadline, timeout=settings.body_timeout, min_rate=settings.body_min_rate)
    app.add_middleware(Instrument)  # outermost: it counts the 408s too
    return app
