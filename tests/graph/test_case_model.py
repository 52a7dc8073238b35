"""The case model against the real Neo4j: a case opens on its subject's own records, a document
number is one document however often it arrives, each document brings the case's duty up to
date, and a unit outside the subject's division reads the case like an unknown one."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from graph.cases.model import (
    FIELDS,
    CaseRefused,
    NewCase,
    NewDocument,
    add_document_in,
    open_case_in,
)
from graph.db import Store
from policies.cases import default_cases
from tests.subjects import fresh_subjects

RULES = default_cases()
NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
BANNER = "152201"  # the division fresh subjects are registered in


def _document(kind: str, number: str, on: date, records: tuple[str, ...] = ()) -> NewDocument:
    return NewDocument(kind, number, on, "乌兰浩特市自然资源局", "移送涉嫌非法采矿犯罪案件",
                       records, "UNIT", "tester")  # fmt: skip


async def _case(store: Store, code: str, record: str) -> str:
    case = NewCase(code, "NMG152201", "非法采矿案", "ADMIN_PENALTY", date(2026, 3, 2), (record,),
                   "tester")  # fmt: skip
    return await store.write(lambda tx: open_case_in(tx, case, BANNER, NOW))


async def _read(store: Store, case_id: str) -> dict[str, object]:
    rows = await store.read(f"MATCH (c:Case {{id: $id}}) RETURN {FIELDS} AS c", id=case_id)
    return dict(rows[0]["c"])


async def test_documents_set_the_duty_and_a_number_is_one_document(store: Store) -> None:
    [(code, record)] = fresh_subjects(1)
    case_id = await _case(store, code, record)
    assert (await _read(store, case_id))["duty"] is None

    transfer = _document("TRANSFER", "乌自然资移〔2026〕1号", date(2026, 3, 2), (record,))
    first = await store.write(lambda tx: add_document_in(tx, case_id, transfer, BANNER, RULES, NOW))
    again = await store.write(lambda tx: add_document_in(tx, case_id, transfer, BANNER, RULES, NOW))
    assert first.created and not again.created and first.id == again.id
    case = await _read(store, case_id)
    assert (case["duty"], case["party"], case["dueOn"]) == ("TRANSFER", "POLICE", "2026-03-05")

    filed = _document("FILING_NOTICE", "乌公立〔2026〕7号", date(2026, 3, 4))
    await store.write(lambda tx: add_document_in(tx, case_id, filed, BANNER, RULES, NOW))
    case = await _read(store, case_id)
    assert (case["duty"], case["dueOn"]) == ("FILING_NOTICE", "2026-04-16")
    count = await store.read(
        "MATCH (:Case {id: $id})<-[:IN_CASE]-(d:CaseDocument) RETURN count(d) AS n", id=case_id
    )
    assert count[0]["n"] == 2


async def test_a_unit_elsewhere_and_a_stranger_record_are_refused_and_write_nothing(
    store: Store,
) -> None:
    [(code, record), (_, other_record)] = fresh_subjects(2)
    elsewhere = NewCase(code, "NMG150102", "越权立案", None, date(2026, 3, 2), (record,), "x")
    with pytest.raises(CaseRefused) as refused:
        await store.write(lambda tx: open_case_in(tx, elsewhere, "150102", NOW))
    assert refused.value.code == "NOT_FOUND"
    stranger = NewCase(code, "NMG152201", "串案", None, date(2026, 3, 2), (other_record,), "x")
    with pytest.raises(CaseRefused):
        await store.write(lambda tx: open_case_in(tx, stranger, BANNER, NOW))
    rows = await store.read("MATCH (c:Case {creditCode: $code}) RETURN count(c) AS n", code=code)
    assert rows[0]["n"] == 0

    case_id = await _case(store, code, record)
    document = _document("TRANSFER", "越权〔2026〕1号", date(2026, 3, 2))
    with pytest.raises(CaseRefused) as refused:
        await store.write(lambda tx: add_document_in(tx, case_id, document, "150102", RULES, NOW))
    assert refused.value.code == "NOT_FOUND"
    assert (await _read(store, case_id))["duty"] is None
