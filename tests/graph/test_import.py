"""`hub import`: every line validated, good lines kept, bad lines reported, re-import idempotent."""

from __future__ import annotations

import json
from pathlib import Path

from neo4j import AsyncDriver

from tests.conftest import hub_command

CODE_A = "91152201078371135X"
CODE_B = "N2152201MA0N7QX12" + "?"  # completed below with its check character


def _code_b() -> str:
    from graph.identifiers import uscc_check_char

    stem = CODE_B[:17]
    return stem + uscc_check_char(stem)


def _lines() -> list[str]:
    code_b = _code_b()
    rows: list[object] = [
        {
            "kind": "Agency",
            "code": "NMG152201",
            "name": "乌兰浩特市自然资源局",
            "level": "BANNER",
            "division": "152201",
        },
        {
            "kind": "Subject",
            "creditCode": CODE_A,
            "name": "兴安盟导入测试矿业有限公司",
            "subjectKind": "COMPANY",
            "division": "152201",
            "status": "ACTIVE",
            "phones": ["0482-8881234"],
            "source": {"system": "test", "document": "导入-1"},
        },
        # lower case and spaces: normalised, accepted
        {
            "kind": "Subject",
            "creditCode": code_b.lower()[:6] + " " + code_b.lower()[6:],
            "name": "乌兰浩特市某某嘎查股份经济合作社",
            "subjectKind": "RURAL_COLLECTIVE",
            "division": "152201",
            "status": "ACTIVE",
        },
        {
            "kind": "Subject",
            "creditCode": "91110000600037341N",
            "name": "坏校验码",
            "subjectKind": "COMPANY",
            "division": "152201",
            "status": "ACTIVE",
        },
        "this is not json",
        {
            "kind": "Subject",
            "creditCode": "91310115MA1K3BTP2B",
            "subjectKind": "COMPANY",
            "division": "152201",
            "status": "ACTIVE",
        },  # no name
        {"kind": "Person", "idNumber": "11010519491231002X", "name": "张三"},
        {"kind": "Person", "idNumber": "110105194912310021", "name": "李四"},
        {
            "kind": "Relation",
            "type": "LEGAL_REPRESENTATIVE_OF",
            "from": {"person": "11010519491231002X"},
            "to": {"subject": CODE_A},
            "since": "2015-01-01",
        },
        {
            "kind": "CreditRecord",
            "id": "R-IMPORT-1",
            "subject": CODE_A,
            "agency": "NMG152201",
            "item": "ADMIN_PENALTY",
            "category": "DISHONEST",
            "tier": "GENERAL",
            "title": "未按期开发利用土地",
            "decidedOn": "2021-05-03",
            "status": "PUBLISHED",
            "disclosure": "PUBLIC",
        },
        # refers to a subject that is nowhere
        {
            "kind": "CreditRecord",
            "id": "R-IMPORT-2",
            "subject": "91110000600037341L",
            "agency": "NMG152201",
            "item": "ADMIN_PENALTY",
            "category": "DISHONEST",
            "tier": "GENERAL",
            "title": "x",
            "decidedOn": "2021-05-03",
            "status": "PUBLISHED",
            "disclosure": "PUBLIC",
        },
        {
            "kind": "CreditRecord",
            "id": "R-IMPORT-3",
            "subject": CODE_A,
            "agency": "NMG152201",
            "item": "ADMIN_PENALTY",
            "category": "DISHONEST",
            "title": "no tier",
            "decidedOn": "2021-05-03",
            "status": "PUBLISHED",
            "disclosure": "PUBLIC",
        },
        {"kind": "Spaceship", "id": "x"},
        {
            "kind": "CreditRecord",
            "id": "R-IMPORT-4",
            "subject": CODE_A,
            "agency": "NMG152201",
            "item": "ADMIN_PENALTY",
            "category": "DISHONEST",
            "tier": "GENERAL",
            "title": "bad date",
            "decidedOn": "2021-02-30",
            "status": "PUBLISHED",
            "disclosure": "PUBLIC",
        },
    ]
    return [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows]


async def _counts(driver: AsyncDriver) -> dict[str, int]:
    records, _, _ = await driver.execute_query(
        "MATCH (n) WHERE n:Subject OR n:Person OR n:CreditRecord OR n:Phone "
        "WITH labels(n)[0] AS label, n "
        "WHERE NOT n:Subject OR n.creditCode IN $codes "
        "RETURN label, count(*) AS n",
        codes=[CODE_A, _code_b()],
    )
    relations, _, _ = await driver.execute_query(
        "MATCH (s:Subject {creditCode: $code})-[r]-() RETURN count(r) AS n", code=CODE_A
    )
    return {r["label"]: r["n"] for r in records} | {"rels": relations[0]["n"]}


async def test_import_keeps_good_lines_and_reports_bad_ones(
    driver: AsyncDriver, tmp_path: Path
) -> None:
    file = tmp_path / "archive.jsonl"
    file.write_text("\n".join(_lines()) + "\n", encoding="utf-8")
    report_file = tmp_path / "report.json"
    result = hub_command("import", str(file), "--report", str(report_file), check=False)
    assert result.returncode == 3, result.stderr  # partial success
    report = json.loads(report_file.read_text())
    assert report["read"] == 14
    assert report["accepted"] == 6
    reasons = {r["line"]: r["reason"] for r in report["rejections"]}
    assert reasons == {
        4: "invalid-credit-code",
        5: "bad-json",
        6: "missing-field",
        8: "invalid-resident-id",
        11: "unknown-reference",
        12: "missing-field",
        13: "unknown-kind",
        14: "invalid-date",
    }
    assert "line 4: invalid-credit-code" in result.stderr

    first = await _counts(driver)
    records, _, _ = await driver.execute_query(
        "MATCH (p:Person)-[:LEGAL_REPRESENTATIVE_OF]->(s:Subject {creditCode: $code}) "
        "RETURN p.idMasked AS masked, p.personId AS key, s.sourceDocument AS doc, "
        "s.firstSeen IS NOT NULL AS seen",
        code=CODE_A,
    )
    assert records[0]["masked"] == "1101**********002X"
    assert len(records[0]["key"]) == 32 and records[0]["doc"] == "导入-1" and records[0]["seen"]

    # The same file again: nothing new, nothing duplicated.
    hub_command("import", str(file), check=False)
    assert await _counts(driver) == first
