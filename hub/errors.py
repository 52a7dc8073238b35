"""Errors with the stable ``extensions.code`` values of the API contract."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Any

import structlog
from graphql import GraphQLError
from neo4j.exceptions import (
    ClientError,
    DriverError,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
)
from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from strawberry.extensions import MaskErrors

from graph.db import WritesPaused
from hub.http.metrics import GRAPHQL_ERRORS

log = structlog.get_logger("hub.errors")


class Code(StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    INVALID_CREDIT_CODE = "INVALID_CREDIT_CODE"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    NOT_FOUND = "NOT_FOUND"
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
    CONFLICT = "CONFLICT"
    UNAVAILABLE = "UNAVAILABLE"
    INTERNAL = "INTERNAL"


class HubError(GraphQLError):
    """An error the caller can act on; its message is safe to show."""

    def __init__(self, code: Code, message: str, **extensions: Any) -> None:
        super().__init__(message, extensions={"code": code.value, **extensions})


BOOKMARK_TIMEOUT = "Neo.TransientError.Transaction.BookmarkTimeout"

# Seconds a client is asked to wait when Neo4j, Redis or file storage is away: a restart takes
# about this long.
RETRY_AFTER = "5"

# Seconds after this process last found Neo4j away during which a query past its time limit
# is taken for the store's cold start (empty plan cache and page cache, a JVM not yet
# compiled), not for the query's size: UNAVAILABLE, not LIMIT_EXCEEDED's "narrow it".
WARMING_SECONDS = 60.0
_neo4j_away_at = [-WARMING_SECONDS]  # time.monotonic() of the last outage seen


def error_response(
    status: int,
    code: Code,
    message: str,
    extensions: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A refusal outside GraphQL execution, in GraphQL's error shape, so clients handle one
    kind of error everywhere (GraphQL transport, uploads, exports). An outage (503) says when
    to come back."""
    GRAPHQL_ERRORS.labels(code.value).inc()
    if status == 503:
        headers = {"Retry-After": RETRY_AFTER, **(headers or {})}
    return JSONResponse(
        {
            "errors": [
                {"message": message, "extensions": {"code": code.value, **(extensions or {})}}
            ]
        },
        status_code=status,
        headers=headers,
    )


@contextmanager
def backing_services() -> Iterator[None]:
    """Turn an outage or an overlong query into a coded error instead of a crash."""
    try:
        yield
    except WritesPaused as exc:
        raise HubError(Code.UNAVAILABLE, str(exc)) from exc
    except (ServiceUnavailable, SessionExpired, DriverError, ConnectionError) as exc:
        log.warning("neo4j unavailable", error=repr(exc))
        _neo4j_away_at[0] = time.monotonic()
        raise HubError(Code.UNAVAILABLE, "the graph store is unavailable; retry shortly") from exc
    except RedisError as exc:
        # Redis went away in the middle of the request, after its rate check had passed (the
        # cache generation a write moves on, for one): the same outage answer as Neo4j's.
        log.warning("redis unavailable", error=repr(exc))
        raise HubError(Code.UNAVAILABLE, "the shared store is unavailable; retry shortly") from exc
    except ClientError as exc:
        if exc.code and "TransactionTimedOut" in exc.code:
            if time.monotonic() - _neo4j_away_at[0] < WARMING_SECONDS:
                log.warning("query past its time limit while neo4j warms up", error=repr(exc))
                raise HubError(
                    Code.UNAVAILABLE, "the graph store is warming up after an outage; retry shortly"
                ) from exc
            raise HubError(
                Code.LIMIT_EXCEEDED, "the query ran past its time limit; narrow it"
            ) from exc
        raise
    except Neo4jError as exc:
        if exc.code == BOOKMARK_TIMEOUT:
            # Never a stale answer: the member serving the read has not caught up with the
            # caller's own last write (graph/bookmarks.py).
            log.warning("neo4j behind the caller's bookmarks", error=repr(exc))
            raise HubError(
                Code.UNAVAILABLE, "the graph store has not caught up with your last write; retry"
            ) from exc
        if exc.is_retryable():
            raise HubError(Code.UNAVAILABLE, "the graph store is busy; retry shortly") from exc
        raise


async def storage_unavailable(request: Request, exc: Exception) -> Response:
    """File storage away (:class:`StorageUnavailable`: S3 not answering, a disk refusing): an
    outage like the others."""
    log.warning("storage unavailable", path=request.url.path, error=str(exc))
    return error_response(503, Code.UNAVAILABLE, "the file store is unavailable; retry shortly")


async def store_unavailable(request: Request, exc: Exception) -> Response:
    """Neo4j or Redis away under a REST endpoint (an upload, a download): the same answer as
    GraphQL gives an outage, never a 500."""
    log.warning("store unavailable", path=request.url.path, error=type(exc).__name__)
    if not isinstance(exc, RedisError):
        _neo4j_away_at[0] = time.monotonic()
    return error_response(503, Code.UNAVAILABLE, "a store is unavailable; retry shortly")


class CodedErrors(MaskErrors):
    """Every error leaves with a code: ours as raised, query errors as BAD_USER_INPUT, and
    anything unexpected masked as INTERNAL (its details go to the log with the request id)."""

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        request_id = getattr(self.execution_context.context, "request_id", None)
        processed: list[GraphQLError] = []
        for error in errors:
            original = error.original_error
            if isinstance(error, HubError):
                processed.append(error)  # set on the result itself (hub/api/audit_stream.py)
            elif isinstance(original, HubError):
                processed.append(
                    GraphQLError(
                        original.message,
                        nodes=error.nodes,
                        positions=error.positions,
                        path=error.path,
                        extensions=original.extensions,
                    )
                )
            elif error.path is None:
                # Syntax, validation and variable errors come before any resolver runs:
                # the request itself is at fault.
                processed.append(
                    GraphQLError(
                        error.message,
                        positions=error.positions,
                        extensions={"code": Code.BAD_USER_INPUT.value},
                    )
                )
            elif error.extensions and error.extensions.get("code") in Code.__members__:
                processed.append(error)
            else:
                log.error(
                    "unhandled error",
                    request_id=request_id,
                    error=error.message,
                    path=error.path,
                    exc_info=original,
                )
                processed.append(
                    GraphQLError(
                        "internal error",
                        nodes=error.nodes,
                        positions=error.positions,
                        path=error.path,
                        extensions={"code": Code.INTERNAL.value, "requestId": request_id},
                    )
                )
        return processed


_HTTP_STATUS = {
    Code.UNAUTHENTICATED: 401,
    Code.FORBIDDEN: 403,
    Code.NOT_FOUND: 404,
    Code.CONFLICT: 409,
    Code.UNAVAILABLE: 503,
    Code.INTERNAL: 500,
}


def refusal_response(error: HubError, **headers: str) -> JSONResponse:
    """A HubError outside GraphQL, with the HTTP status its code means (429 for the rate)."""
    extensions = dict(error.extensions or {})
    code = Code(extensions.pop("code"))
    status = 429 if "retryAfter" in extensions else _HTTP_STATUS.get(code, 400)
    return error_response(status, code, error.message, extensions, headers or None)
