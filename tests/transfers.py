"""Cases on fresh subjects with the documents of a transfer, written through graph/cases/model.py
as a unit would, for the tests of transfer deadlines, the overdue list and reminders."""

from __future__ import annotations

from datetime import UTC, date, datetime

from graph.cases.model import NewCase, NewDocument, add_document_in, open_case_in
from graph.db import Store
from policies.cases import default_cases

UNIT = "NMG152201"  # fresh subjects are registered in its division
BANNER = "152201"
NOW = datetime(2026, 9, 30, 9, tzinfo=UTC)


async def open_transfer_case(store: Store, code: str, record: str, opened_on: date) -> str:
    """A case of UNIT on the subject's record, with no document yet."""
    case = NewCase(code, UNIT, "涉嫌非法采矿移送案", "ADMIN_PENALTY", opened_on, (record,), "tt")
    return await store.write(lambda tx: open_case_in(tx, case, BANNER, NOW))


async def add_document(store: Store, case_id: str, kind: str, number: str, on: date) -> None:
    """A document of ``kind`` issued ``on``; the case's duty follows (graph/cases/model.py)."""
    document = NewDocument(kind, number, on, "乌兰浩特市自然资源局", "移送涉嫌犯罪案件", (),
                           "UNIT", "tt")  # fmt: skip
    added = await store.write(
        lambda tx: add_document_in(tx, case_id, document, BANNER, default_cases(), NOW)
    )
    assert added.created, number
