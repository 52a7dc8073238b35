"""The API with the access filter and the audit switched off, for one benchmark row only.

Same code, same queries and guards, except that every caller's read scope allows every class
(the Cypher predicates are still there, trivially true) and no audit entry is written. The
difference to the normal API is what policies and audit cost. Never served outside `make bench`.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette

from hub.http import app, graphql
from policies.access import ReadScope
from policies.principal import Clearance, Principal

_EVERY_CLASS = tuple(c.name for c in Clearance)


def _everything(principal: Principal, policy: Any = None) -> ReadScope:
    return ReadScope(_EVERY_CLASS, (), (), "-", principal.agency, True, True)


def _no_audit(redis: Any) -> None:
    return None


def create_app() -> Starlette:
    graphql.read_scope = _everything  # type: ignore[attr-defined]
    app.AuditLog = _no_audit  # type: ignore[attr-defined,assignment]
    return app.create_app()
