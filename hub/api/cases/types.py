"""Cases as the API shows them: the case, its documents with their files, its current duty and
the records it concerns (the ``CreditRecord`` type, as far as the reader may read them)."""

from __future__ import annotations

from datetime import date
from typing import Any

import strawberry

from hub.api.context import to_date
from hub.api.records.types import CreditRecord, record_view, released_ids
from policies.cases import CaseRules


@strawberry.type(description="A case document's file (a PDF), without its bytes.")
class CaseFile:
    name: str
    size: int
    sha256: str


@strawberry.type(description="A document of a case: a decision, a transfer, an answer, a ruling.")
class CaseDocument:
    id: str
    kind: str = strawberry.field(description="A document kind of policies/cases.yaml.")
    kind_name: str = strawberry.field(description="The kind's Chinese name.")
    number: str = strawberry.field(description="The document's own number (文号 / 案号).")
    issued_on: date
    authority: str
    summary: str
    source: str = strawberry.field(description="UNIT, IMPORT:<import id> or FEED:<feed name>.")
    file: CaseFile | None = strawberry.field(
        description="Its PDF (GET /cases/{caseId}/documents/{id}/file), or null."
    )


@strawberry.type(description="What a case awaits now, from whom, and by when.")
class CaseDuty:
    kind: str = strawberry.field(description="The document kind that set the duty going.")
    kind_name: str
    party: str = strawberry.field(description="Who must act: DEPARTMENT, POLICE, ... .")
    since: date
    due_on: date = strawberry.field(description="The last day on which it is on time.")
    source: str = strawberry.field(description="The rule the deadline comes from.")
    overdue: bool


@strawberry.type(description="A case (案件): one matter's documents and the records it concerns.")
class Case:
    id: str
    credit_code: str
    unit: str = strawberry.field(description="The unit that opened it.")
    title: str
    matter: str | None = strawberry.field(description="The catalogue item of the decision.")
    status: str = strawberry.field(description="OPEN or CLOSED.")
    outcome: str | None = strawberry.field(description="UPHELD, DISMISSED or OVERTURNED.")
    outcome_name: str | None
    counts: bool = strawberry.field(
        description="Whether the case counts in its subject's rating (false once closed with "
        "an outcome that does not count)."
    )
    opened_on: date
    closed_on: date | None
    closed_by: str | None
    reasons: str | None = strawberry.field(description="Why it was closed so.")
    duty: CaseDuty | None = strawberry.field(description="null when nothing is awaited.")
    documents: list[CaseDocument] = strawberry.field(description="Oldest first.")
    records: list[CreditRecord] = strawberry.field(
        description="The records it concerns that you may read."
    )


@strawberry.type
class CaseEdge:
    cursor: str
    node: Case


@strawberry.type
class CaseConnection:
    edges: list[CaseEdge]
    has_next_page: bool
    end_cursor: str | None


def _document(d: dict[str, Any], rules: CaseRules) -> CaseDocument:
    kind = rules.documents.get(d["kind"])
    file = d.get("file")
    return CaseDocument(
        id=d["id"],
        kind=d["kind"],
        kind_name=kind.name if kind else d["kind"],
        number=d["number"],
        issued_on=date.fromisoformat(d["issuedOn"]),
        authority=d.get("authority") or "",
        summary=d.get("summary") or "",
        source=d.get("source") or "UNIT",
        file=CaseFile(name=file["name"], size=file["size"], sha256=file["sha256"])
        if file
        else None,
    )


def _duty(c: dict[str, Any], rules: CaseRules, today: date) -> CaseDuty | None:
    duty = rules.duties.get(c.get("duty") or "")
    due = to_date(c.get("dueOn"))
    since = to_date(c.get("dutySince"))
    if duty is None or due is None or since is None or not c.get("open"):
        return None
    return CaseDuty(
        kind=duty.after,
        kind_name=rules.documents[duty.after].name,
        party=duty.party,
        since=since,
        due_on=due,
        source=duty.deadline.source,
        overdue=today > due,
    )


def case_view(c: dict[str, Any], rules: CaseRules, today: date) -> Case:
    outcome = rules.outcomes.get(c.get("outcome") or "")
    return Case(
        id=c["id"],
        credit_code=c["creditCode"],
        unit=c["unit"],
        title=c["title"],
        matter=c.get("matter"),
        status=c["status"],
        outcome=c.get("outcome"),
        outcome_name=outcome.name if outcome else None,
        counts=outcome is None or outcome.counts,
        opened_on=date.fromisoformat(c["openedOn"]),
        closed_on=to_date(c.get("closedOn")),
        closed_by=c.get("closedBy"),
        reasons=c.get("reasons"),
        duty=_duty(c, rules, today),
        documents=[_document(d, rules) for d in c["documents"]],
        records=[record_view(r) for r in c["records"]],
    )


def case_released(c: dict[str, Any]) -> list[str]:
    """What a case row hands out, for the audit: it, its documents and its records."""
    return [
        c["id"],
        *(d["id"] for d in c["documents"]),
        *(i for r in c["records"] for i in released_ids(r)),
    ]
