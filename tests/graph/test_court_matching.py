"""Matching court documents to cases against the real Neo4j, past the cases the feed test
covers: a number two cases of the subject hold is no match, a row that waited attaches once its
case holds the number it refers to, and a batch naming one document twice keeps the first."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime

from neo4j import AsyncManagedTransaction

from graph.cases.court_documents import apply_court_documents
from graph.cases.court_rows import parse_court_rows
from graph.cases.model import NewCase, NewDocument, add_document_in, open_case_in
from graph.db import Store
from policies.cases import default_cases
from tests.subjects import fresh_subjects

RULES = default_cases()
NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
SOURCE = "FEED:TEST-MATCHING"


async def _case_holding(store: Store, code: str, record: str, number: str) -> str:
    async def work(tx: AsyncManagedTransaction) -> str:
        case = NewCase(code, "NMG152201", "非法采矿案", None, date(2026, 9, 1), (record,), "t")
        case_id = await open_case_in(tx, case, "", NOW)
        transfer = NewDocument("TRANSFER", number, date(2026, 9, 7), "局", "", (), "UNIT", "t")
        await add_document_in(tx, case_id, transfer, "", RULES, NOW)
        return case_id

    return await store.write(work)


async def _apply(store: Store, *rows: dict[str, str]) -> list[tuple[int, str, str | None]]:
    good, rejected = parse_court_rows(enumerate(rows, start=1), RULES)
    report = await apply_court_documents(store, good, rejected, SOURCE, RULES, NOW)
    done = [(o.line, o.outcome, o.reason) for o in report.outcomes]
    return sorted(done + [(r.line, "rejected", r.reason) for r in report.rejected])


def _row(code: str, number: str, refers: str) -> dict[str, str]:
    return {"creditCode": code, "kind": "RULING", "number": number, "issuedOn": "2026-11-20",
            "refersTo": refers}  # fmt: skip


async def _queued(store: Store, number: str) -> dict[str, object]:
    rows = await store.read(
        "MATCH (u:UnmatchedDocument {number: $n}) RETURN u.status AS status, u.case AS case",
        n=number,
    )
    assert len(rows) == 1
    return dict(rows[0])


async def test_a_number_two_cases_hold_is_no_match(store: Store) -> None:
    ((code, record),) = fresh_subjects(1)
    run = secrets.token_hex(3).upper()
    for _ in range(2):
        await _case_holding(store, code, record, f"移{run}")
    assert await _apply(store, _row(code, f"裁{run}", f"移{run}")) == [
        (1, "queued", "several-cases")
    ]


async def test_a_row_that_waited_attaches_once_its_case_holds_what_it_refers_to(
    store: Store,
) -> None:
    ((code, record),) = fresh_subjects(1)
    run = secrets.token_hex(3).upper()
    row = _row(code, f"裁{run}", f"移{run}")
    assert await _apply(store, row, row) == [(1, "queued", "no-case"), (2, "rejected", "duplicate")]
    assert await _queued(store, f"裁{run}") == {"status": "WAITING", "case": None}

    case = await _case_holding(store, code, record, f"移{run}")
    assert await _apply(store, row) == [(1, "attached", None)]
    assert await _queued(store, f"裁{run}") == {"status": "ATTACHED", "case": case}
    assert await _apply(store, row) == [(1, "unchanged", None)]
