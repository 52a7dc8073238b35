"""Logs as JSON lines, one event a line, with the request id wherever the request went.

Every hub process (API, worker, beat) sends its own and its libraries' records (uvicorn, Celery,
the Neo4j driver) through the root logger to stderr as JSON, with the fields bound in the
current context: the API binds the request id per request (hub/http/instrument.py), and a task
sent while handling a request carries it to the worker that runs it (connectors/celery_app.py).
`hub up` pipes each process's output through hub/logpipe.py, which rotates the files.
"""

from __future__ import annotations

import logging
import sys

import structlog

_SHARED: list[structlog.types.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def configure_logging(level: int = logging.INFO) -> None:
    """JSON lines on stderr for structlog and stdlib loggers alike; safe to call again."""
    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
