"""`hub seed --out` writes what `hub import` loads, row for row."""

from __future__ import annotations

import json
from pathlib import Path

from neo4j import AsyncDriver

from tests.conftest import hub_command


async def test_seed_file_imports_without_a_rejection(driver: AsyncDriver, tmp_path: Path) -> None:
    out = tmp_path / "seed.jsonl"
    hub_command("seed", "--subjects", "400", "--seed", "11", "--out", str(out))
    lines = out.read_text(encoding="utf-8").splitlines()
    codes = [json.loads(x)["creditCode"] for x in lines if '"kind":"Subject"' in x]
    assert len(codes) == 400
    report = tmp_path / "report.json"
    hub_command("import", str(out), "--report", str(report))
    result = json.loads(report.read_text())
    assert result["read"] == len(lines) and result["rejected"] == 0
    records, _, _ = await driver.execute_query(
        "MATCH (s:Subject) WHERE s.creditCode IN $codes RETURN count(s) AS n", codes=codes
    )
    assert records[0]["n"] == 400
