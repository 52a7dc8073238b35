"""Reading a court document row (a pull feed's entry or an imported line): its fields checked,
or the row refused with a stable reason, before anything looks for its case.

A row names the subject's credit code, the document's kind (a kind of policies/cases.yaml issued
by a court, procuratorate or the police, by code or Chinese name), its own number, issue day,
authority and summary, and ``refersTo``: the number of a document its case already holds.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from graph.archive.row_fields import Rejection, RowError, code_field, date_field, text_field
from policies.cases import CaseRules
from policies.credit.feeds import Feed

FIELDS = ("creditCode", "kind", "number", "issuedOn", "authority", "summary", "refersTo")


@dataclass(frozen=True, slots=True)
class CourtRow:
    line: int
    credit_code: str
    kind: str  # the document kind's code
    number: str
    issued_on: date
    authority: str
    summary: str
    refers_to: str
    received: str  # the row as received, in our field names (JSON), kept while it waits

    def params(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "creditCode": self.credit_code,
            "kind": self.kind,
            "number": self.number,
            "issuedOn": self.issued_on,
            "authority": self.authority,
            "summary": self.summary,
            "refersTo": self.refers_to,
            "received": self.received,
        }


def _kind(value: str, rules: CaseRules) -> str:
    by_name = {k.name: code for code, k in rules.documents.items()}
    kind = value if value in rules.documents else by_name.get(value)
    if kind is None:
        raise RowError("unknown-kind", f"kind {value!r} is not a document kind of cases.yaml")
    if rules.documents[kind].by == "DEPARTMENT":
        raise RowError(
            "department-kind", f"{kind} is the department's own document, not one from outside"
        )
    return kind


def parse_court_row(line: int, row: Mapping[str, Any], rules: CaseRules) -> CourtRow:
    """One row in our field names, checked; a :class:`RowError` names what is wrong."""
    issued = date_field(row, "issuedOn", required=True)
    assert issued is not None  # required
    return CourtRow(
        line=line,
        credit_code=code_field(row.get("creditCode"), "creditCode"),
        kind=_kind(text_field(row, "kind", limit=40), rules),
        number=text_field(row, "number", limit=100),
        issued_on=issued,
        authority=text_field(row, "authority", required=False, limit=200),
        summary=text_field(row, "summary", required=False, limit=2000),
        refers_to=text_field(row, "refersTo", limit=100),
        received=json.dumps(
            {f: row[f] for f in FIELDS if row.get(f) is not None}, ensure_ascii=False, default=str
        ),
    )


def parse_court_rows(
    rows: Iterable[tuple[int, Mapping[str, Any]]], rules: CaseRules
) -> tuple[list[CourtRow], list[Rejection]]:
    """Rows checked one by one: a bad row is refused with its line and reason, the good ones kept;
    a number given twice in one batch is one document (the later line is a ``duplicate``)."""
    good: list[CourtRow] = []
    rejected: list[Rejection] = []
    seen: dict[tuple[str, str], int] = {}
    for line, raw in rows:
        try:
            row = parse_court_row(line, raw, rules)
        except RowError as exc:
            rejected.append(Rejection(line, exc.reason, str(exc)))
            continue
        key = (row.credit_code, row.number)
        if key in seen:
            rejected.append(Rejection(line, "duplicate", f"the same document as line {seen[key]}"))
            continue
        seen[key] = line
        good.append(row)
    return good, rejected


def feed_rows(feed: Feed, records: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """A feed's records in our field names (its ``columns`` map), numbered from 1."""
    return [
        (line, {f: record.get(c) for f in FIELDS if (c := feed.columns.get(f))})
        for line, record in enumerate(records, start=1)
    ]
