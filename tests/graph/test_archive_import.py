"""The archive import's batches: new rows created without a MERGE, the rest decided row by row,
written in two lanes by subject, with exact counts however the batches fall.

Batches of two rows here, so every rule below crosses batch and lane boundaries.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from neo4j import AsyncDriver

from graph.archive.imports import Counts, new_import_id, rejections, run_import
from graph.db import Store
from graph.identifiers import uscc_check_char
from tests.conftest import import_file

UNIT = "NMG152202"  # 阿尔山市 (banner of Xing'an League)
CODES = [body + uscc_check_char(body) for body in (f"91152202MA0R00{n:02d}A" for n in range(6))]
OUTSIDE = "91150102MA0R00X01" + uscc_check_char("91150102MA0R00X01")
HEADER = ["item", "subject", "tier", "title", "decidedOn", "document", "legalBasis"]


@pytest.fixture(scope="module")
def subjects(api: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    rows = [
        {
            "kind": "Subject",
            "creditCode": code,
            "name": f"批量导入测试有限公司{n}",
            "subjectKind": "COMPANY",
            "division": "152202" if code != OUTSIDE else "150102",
            "status": "ACTIVE",
            "disclosure": "PUBLIC",
        }
        for n, code in enumerate([*CODES, OUTSIDE])
    ]
    path = tmp_path_factory.mktemp("batches") / "subjects.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    import_file(path)


def _penalty(code: str, document: str, title: str = "未按期缴纳") -> list[str]:
    return ["ADMIN_PENALTY", code, "GENERAL", title, "2024-05-06", document, "土地管理法"]


def _file(tmp_path: Path, rows: list[list[str]]) -> Path:
    path = tmp_path / "archive.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([HEADER, *rows])
    return path


async def _import(store: Store, path: Path, import_id: str | None = None) -> Counts:
    return await run_import(
        store, path, import_id=import_id or new_import_id(), agency=UNIT, by="t", batch_size=2
    )


def _counts(c: Counts) -> tuple[int, int, int, int, int]:
    return (c.read, c.created, c.updated, c.unchanged, c.rejected)


async def _stored(driver: AsyncDriver, document_prefix: str) -> list[dict[str, Any]]:
    records, _, _ = await driver.execute_query(
        "MATCH (s:Subject)-[:HAS_RECORD]->(r:CreditRecord)<-[:SUBMITTED]-(a:Agency) "
        "WHERE r.document STARTS WITH $p "
        "RETURN r.document AS document, r.title AS title, s.creditCode AS code, "
        "a.code AS agency, r.status AS status ORDER BY document",
        p=document_prefix,
    )
    return [dict(r) for r in records]


async def test_rows_across_batches_and_lanes_count_exactly(
    subjects: None, store: Store, driver: AsyncDriver, tmp_path: Path
) -> None:
    rows = [_penalty(CODES[n % 6], f"批〔2024〕{n}号") for n in range(9)]
    rows.insert(5, _penalty(CODES[1], "批〔2024〕1号"))  # line 7 repeats line 3, batches later
    rows.append(_penalty(OUTSIDE, "批〔2024〕99号"))  # line 12
    rows.append(["ADMIN_PENALTY", "91152202MA0R00", "GENERAL", "x", "2024-05-06", "y", "z"])
    path = _file(tmp_path, rows)
    import_id = new_import_id()

    first = await _import(store, path, import_id)
    assert _counts(first) == (12, 9, 0, 0, 3)
    refused = [(r.line, r.reason) for r in await rejections(store, import_id)]
    assert refused == [(7, "duplicate"), (12, "outside-jurisdiction"), (13, "invalid-credit-code")]
    stored = await _stored(driver, "批〔2024〕")
    assert len(stored) == 9 and {r["agency"] for r in stored} == {UNIT}
    assert {r["status"] for r in stored} == {"PENDING"}

    again = await _import(store, path, import_id)  # an interrupted import run again
    assert _counts(again) == _counts(first)  # its rows still count as created, once
    assert [(r.line, r.reason) for r in await rejections(store, import_id)] == refused
    assert len(await _stored(driver, "批〔2024〕")) == 9


async def test_a_corrected_row_updates_and_a_published_one_conflicts(
    subjects: None, store: Store, driver: AsyncDriver, tmp_path: Path
) -> None:
    rows = [_penalty(CODES[n], f"改〔2024〕{n}号") for n in range(4)]
    assert _counts(await _import(store, _file(tmp_path, rows))) == (4, 4, 0, 0, 0)
    await driver.execute_query(
        "MATCH (r:CreditRecord {document: '改〔2024〕3号'}) SET r.status = 'PUBLISHED'"
    )
    changed = [_penalty(CODES[n], f"改〔2024〕{n}号", "已更正") for n in range(4)]
    import_id = new_import_id()
    counts = await _import(store, _file(tmp_path, [*changed[:2], rows[2], changed[3]]), import_id)
    assert _counts(counts) == (4, 0, 2, 1, 1)
    ((line, reason),) = [(r.line, r.reason) for r in await rejections(store, import_id)]
    assert (line, reason) == (5, "conflict")
    titles = [r["title"] for r in await _stored(driver, "改〔2024〕")]
    assert titles == ["已更正", "已更正", "未按期缴纳", "未按期缴纳"]
