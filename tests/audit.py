"""Audit entries made for one test (a bank's partner reading one subject, as the API logs it,
with any field changed where a test needs it), and a subject's trail read back as an admin."""

from __future__ import annotations

import dataclasses
from typing import Any
from uuid import uuid4

from graph.audit_chain import AuditEntry, AuditEvent
from tests.conftest import GraphQLClient, hub_command, mint

SUBJECT = "91152201078371135X"
_PARTNER_READ: dict[str, Any] = {
    "principal": "张三@BANK-TEST",
    "issuer": "credit-hub-dev",
    "agency": "BANK-TEST",
    "roles": ("partner",),
    "purpose": "loan-review",
    "action": "read",
    "field": "subject",
    "subject": SUBJECT,
    "released": ("rec-1", "name"),
    "withheld": ("legalRepresentative.idNumber",),
    "decision": "PARTIAL",
}


def audit_entries(count: int, **changes: Any) -> list[AuditEntry]:
    """``count`` entries as the API emits them, each with a request id of its own."""
    tag = uuid4().hex[:12]
    values = {**_PARTNER_READ, **changes}
    return [AuditEntry(request_id=f"req-{tag}-{i}", **values) for i in range(count)]


def audit_events(count: int, **changes: Any) -> list[AuditEvent]:
    """``count`` entries as Redis hands them on: each with an event id of its own."""
    return [
        AuditEvent(event_id=entry.request_id.removeprefix("req-"), **dataclasses.asdict(entry))
        for entry in audit_entries(count, **changes)
    ]


def audit_trail(api: str, subject: str, fields: str = "field decision") -> list[dict[str, Any]]:
    """The ``fields`` of the subject's trail, oldest first, once the waiting entries are chained."""
    hub_command("audit", "drain")
    admin = GraphQLClient(api, mint("admin", agency="NMG150000"))
    query = f"query($c: String!) {{ auditTrail(subject: $c, first: 100) {{ {fields} }} }}"
    trail: list[dict[str, Any]] = admin.data(query, {"c": subject})["auditTrail"]  # type: ignore[assignment]
    return trail
