"""``/graphql``: the Strawberry view, behind the checks Strawberry does not make.

Only an authenticated JSON POST of at most 16 KB reaches GraphQL, and only a document within the
limits of policies/limits.yaml: one operation, registered where the role requires it, then
tokens, depth, aliases, directives, introspection, cost and the client's rate.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass
from functools import cache
from typing import Any

import orjson
from neo4j.exceptions import ServiceUnavailable, SessionExpired
from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send
from strawberry.asgi import GraphQL

from connectors.coordination.causal import caller_chain, caller_key
from connectors.coordination.freshness import GENERATION_KEY
from graph.bookmarks import Chain, following
from graph.trusted_documents import document_hash, registered_document
from hub.api.audit_stream import trail
from hub.api.context import Context
from hub.api.guards import SHAPES, Refusal, check
from hub.api.rate import spend
from hub.api.schema import graphql_schema, schema
from hub.errors import RETRY_AFTER, Code, error_response
from hub.http import graphiql
from hub.http.auth.backend import principal_of, unauthenticated
from hub.http.auth.claims import AuthError
from hub.http.bodies import BodyTooLarge, read_body
from hub.http.metrics import FIELD_ERRORS, FIELD_LATENCY, GRAPHQL_ERRORS
from hub.http.response_cache import ANSWERS_KEY, Answer, ResponseCache, cacheable, root_fields
from policies.access import read_scope
from policies.principal import PUBLIC_ISSUER, Principal, public_principal

MAX_BODY = 16 * 1024


class HubGraphQL(GraphQL[Context, None]):
    def encode_json(self, data: object) -> bytes:
        """orjson, not the standard library: a hundred subjects' answer took a twentieth of
        the API's CPU to encode. Text is UTF-8, not ``\\u`` escapes: the same JSON."""
        return orjson.dumps(data)

    async def get_context(self, request: Any, response: Any) -> Context:
        state = request.app.state
        principal: Principal = request.scope["hub.principal"]
        context = Context(
            principal=principal,
            request_id=request.scope["hub.request_id"],
            access=read_scope(principal, state.policy),
            policy=state.policy,
            redacted=[],
            audit_log=state.audit_log,
            redis=state.redis,
            store=state.store,
        )
        request.scope["hub.api.context"] = context
        request.scope["hub.sub_response"] = response
        return context

    async def process_result(self, request: Any, result: Any) -> Any:
        for error in result.errors or []:
            if not (error.extensions or {}).get("code"):
                # Strawberry reports syntax errors before extensions see the operation.
                error.extensions = {"code": Code.BAD_USER_INPUT.value}
            GRAPHQL_ERRORS.labels(error.extensions["code"]).inc()
            field = str(error.path[0]) if error.path else "none"
            FIELD_ERRORS.labels(
                field if field in _known() else "other", error.extensions["code"]
            ).inc()
            sub_response = request.scope.get("hub.sub_response")
            if error.extensions["code"] == Code.UNAVAILABLE.value and sub_response is not None:
                # One answer to an outage, whichever store is away and wherever it is noticed.
                sub_response.status_code = 503
                sub_response.headers["Retry-After"] = RETRY_AFTER
        response = await super().process_result(request, result)
        context = request.scope.get("hub.api.context")
        if context is not None and context.redacted:
            # Withheld fields are named, so a caller knows null means "not for you".
            extensions = dict(response.get("extensions") or {})
            response["extensions"] = {**extensions, "redacted": context.redacted}
        keep: Keep | None = request.scope.get("hub.cache")
        if keep is not None and context is not None and not result.errors:
            body = self.encode_json(response)
            answer = Answer(
                keep.generation,
                body.encode() if isinstance(body, str) else body,
                keep.units,
                tuple(context.audited),
                tuple(context.redacted),
            )
            with contextlib.suppress(RedisError):  # not kept: computed again next time
                await request.app.state.answers.keep(context.redis, keep.key, answer)
        return response


@dataclass(frozen=True, slots=True)
class Keep:
    """Where a cacheable request's answer goes once computed: its key, the generation read
    before it was computed, and its cost."""

    key: str  # the digest the answer is kept under
    generation: int
    units: int


@dataclass(frozen=True, slots=True)
class Guarded:
    """A request that passed the limits: the body to run, and its cache slot if cacheable."""

    body: bytes
    keep: Keep | None = None
    kept: Answer | None = None  # a kept answer of the current generation: served as it is
    roots: tuple[str, ...] = ()  # the document's root fields, for the metrics
    chain: Chain | None = None  # the caller's causal chain (connectors/coordination/causal.py)


class GraphQLEndpoint:
    """Checks what Strawberry does not before a document is parsed: method, media type, size,
    and who calls. Only a JSON POST of at most 16 KB reaches GraphQL; without a token it runs as
    the public (policies/access.yaml's ``public`` role), unless ``HUB_PUBLIC_API`` is off."""

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
            principal = principal_of(request)
        except AuthError as exc:
            if not request.app.state.settings.public_api:
                await unauthenticated(request, exc)(scope, receive, send)
                return
            # No token at all (a bad one never gets here): the public, counted by address.
            principal = public_principal(request.client.host if request.client else "unknown")
        scope["hub.principal"] = principal
        started = time.perf_counter()
        guarded = await self._guard(request, body, principal)
        if isinstance(guarded, Response):
            await guarded(scope, receive, send)
            return
        try:
            if guarded.kept is not None:
                response = await self._serve_kept(request, principal, guarded.kept)
                await response(scope, receive, send)
                return
            if guarded.keep is not None:
                scope["hub.cache"] = guarded.keep
            with following(guarded.chain):  # its reads see its earlier writes, wherever made
                await self.graphql(scope, _replay(guarded.body), send)
        finally:
            took = time.perf_counter() - started
            for field in guarded.roots:
                FIELD_LATENCY.labels(field).observe(took)

    async def _serve_kept(self, request: Request, principal: Principal, kept: Answer) -> Response:
        """A kept answer, audited like the first time under this caller's name first."""
        state = request.app.state
        if principal.issuer != PUBLIC_ISSUER and kept.audited:
            entries = trail(principal, request.scope["hub.request_id"], kept.audited, kept.redacted)
            try:
                await state.audit_log.emit_all(entries)
            except RedisError:
                return error_response(
                    503, Code.UNAVAILABLE, "the audit store is unavailable; retry shortly"
                )
        return Response(kept.body, media_type="application/json", headers={"X-Cache": "hit"})

    async def _guard(
        self, request: Request, body: bytes, principal: Principal
    ) -> Response | Guarded:
        """Limits of policies/limits.yaml, before anything runs: one operation per request,
        registered operations where required, then tokens, depth, aliases, directives,
        introspection, cost and the client's rate. Returns the body to run (with its place in
        the answer cache, or the kept answer to serve), or a refusal."""
        try:
            payload = json.loads(body)
        except ValueError:
            return Guarded(body)  # Strawberry answers malformed JSON itself
        if isinstance(payload, list):
            return error_response(
                400, Code.BAD_USER_INPUT, "batching is off: one operation per request"
            )
        if not isinstance(payload, dict):
            return Guarded(body)
        if not _well_formed(payload):
            return Guarded(body)  # Strawberry's view refuses it with its own 400, before running
        variables = payload.get("variables") or {}
        state = request.app.state
        answers: ResponseCache = state.answers
        try:
            query = await self._document(state, payload, principal)
            if query is None:
                return Guarded(body)
            if payload.get("query") != query:
                body = json.dumps({**payload, "query": query}).encode()
            units = check(
                query,
                variables,
                principal,
                state.limits,
                graphql_schema(),
                lambda field: bool(state.policy.may_call(principal, field)),
            )
            shape = SHAPES.get(query, state.limits.tokens)
            roots = root_fields(shape.document, _known()) if shape else ()
            key = None
            if shape is not None and cacheable(shape.document, answers.rules.fields):
                key = answers.key(query, payload.get("operationName"), variables, principal)
            # One round trip: the charge, the cache generation and the answer kept under its
            # key, the caller's bookmarks.
            bookmarks = caller_key(principal)
            trusted, connected = answers.trusted == answers.connected, answers.connected
            *cached, members = await spend(
                state.redis,
                principal,
                units,
                state.limits,
                time.time(),
                also_get=GENERATION_KEY if key is not None else None,
                also_field=(ANSWERS_KEY, key) if key is not None else None,
                also_members=bookmarks,
            )
            if key is not None and not (trusted and answers.connected == connected):
                # Redis may have restarted since the last trusted read: nothing kept counts
                # until the generation has moved past what it may have lost.
                await answers.vouch(state.redis)
                key = None
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
        if key is None:
            return Guarded(body, roots=roots, chain=caller_chain(bookmarks, members))
        current = int(cached[0] or 0)
        kept = answers.found(cached[1], current)
        if kept is not None:
            return Guarded(body, kept=kept, roots=roots)
        # Kept for every caller of this scope, so computed where every write is: the leader.
        chain = caller_chain(bookmarks, members, leader=True)
        return Guarded(body, keep=Keep(key, current, units), roots=roots, chain=chain)

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
            found = await registered_document(state.store, digest)
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


@cache
def _known() -> frozenset[str]:
    """Every root field of the schema: metrics are labelled by these names only, so a caller
    cannot grow their label sets with made-up names."""
    schema = graphql_schema()
    types = (schema.query_type, schema.mutation_type)
    return frozenset(name for t in types if t is not None for name in t.fields)


def _requested_hash(payload: dict[str, Any]) -> str | None:
    document_id = payload.get("documentId")
    if isinstance(document_id, str):
        return document_id.removeprefix("sha256:").lower()
    extensions = payload.get("extensions")
    persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
    if isinstance(persisted, dict) and isinstance(persisted.get("sha256Hash"), str):
        return str(persisted["sha256Hash"]).lower()
    return None


def _well_formed(payload: dict[str, Any]) -> bool:
    """Whether the request's parts have the types Strawberry's view accepts. One that does
    not is refused by the view, so it is neither charged nor answered from the cache."""
    return (
        isinstance(payload.get("variables"), dict | None)
        and isinstance(payload.get("operationName"), str | None)
        and isinstance(payload.get("extensions"), dict | None)
    )


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
