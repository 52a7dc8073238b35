"""Subjects made for one test: new credit codes, each with a published serious record, loaded
through the import's own code (tests.conftest.import_file), so tests that change them leave the
seeded graph alone."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from graph.db import Store
from graph.identifiers import uscc_check_char
from graph.records.determination import advance, propose
from graph.records.listings import ListingDecision, publish_listing
from policies.credit.catalogue import add_months
from policies.credit.determination import default_rules
from policies.credit.measures import Catalogue
from tests.conftest import TEST_DATA, import_file

_SUBJECTS = 0


def _code(n: int) -> str:
    first17 = f"91152201MA0DL{n:04d}"
    return first17 + uscc_check_char(first17)


def fresh_subjects(count: int) -> list[tuple[str, str]]:
    """New subjects, each with a published serious record: (credit code, record id)."""
    global _SUBJECTS
    lines, made = [], []
    for _ in range(count):
        _SUBJECTS += 1
        code, record = _code(_SUBJECTS), f"R-DL-{_SUBJECTS:04d}"
        lines.append(
            {
                "kind": "Subject",
                "creditCode": code,
                "name": f"推送测试{_SUBJECTS}号矿业有限公司",
                "subjectKind": "COMPANY",
                "division": "152201",
                "status": "ACTIVE",
                "registeredOn": "2015-01-01",
            }
        )
        lines.append(
            {
                "kind": "CreditRecord",
                "id": record,
                "subject": code,
                "agency": "NMG152201",
                "item": "ADMIN_PENALTY",
                "category": "DISHONEST",
                "tier": "SERIOUS",
                "title": "非法采矿行政处罚决定",
                "decidedOn": "2026-06-01",
                "document": f"乌自然资罚〔2026〕{_SUBJECTS}号",
                "legalBasis": "《中华人民共和国矿产资源法》第三十九条",
                "publishFrom": "2026-06-02",
                "publishUntil": "2029-06-01",
                "status": "PUBLISHED",
                "disclosure": "PUBLIC",
            }
        )
        made.append((code, record))
    path = TEST_DATA / f"delivery-subjects-{_SUBJECTS}.jsonl"
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines), "utf-8")
    import_file(path)
    return made


async def listed_on(store: Store, catalogue: Catalogue, code: str, record: str, tag: str) -> str:
    """A serious-dishonesty listing by the records' unit resting on the record, published today
    with its event; its id is ``S-{tag}-{record}``."""
    today = date.today()
    sanction = f"S-{tag}-{record}"
    decision = ListingDecision(
        sanction, code, "SERIOUS_DISHONESTY", "NMG152201", (record,), today,
        add_months(today, 36), "PUBLIC", "reviewer-x",
    )  # fmt: skip
    await publish_listing(store, catalogue, decision)
    return sanction


async def listed_by_case(
    store: Store, catalogue: Catalogue, code: str, record: str, day: date, proposer: str
) -> tuple[str, str]:
    """A serious-dishonesty listing of ``code`` resting on ``record``, taken through its case
    (proposed, notified, statement waived, decided on ``day``) by the records' unit, with the
    clock injected, so its repair opens when the minimum period from ``day`` has run:
    (case id, sanction id)."""
    unit, prefix = "NMG152201", "152201"
    case = await propose(
        store, default_rules(), subject=code, records=[record], fault="MALICE",
        reason="恶意越界开采", by=proposer, unit=unit, prefix=prefix, now=datetime.now(UTC),
    )  # fmt: skip
    for action, by, document in (
        ("NOTIFY", "rep-notifier", "告1号"),
        ("WAIVE", "rep-notifier", None),
        ("DECIDE", "rep-decider", "决1号"),
    ):
        advanced = await advance(
            store, default_rules(), catalogue, case_id=case, action=action, by=by, unit=unit,
            prefix=prefix, today=day, reason="依法办理", document=document, months=36,
        )  # fmt: skip
    assert advanced.status == "LISTED"
    return case, "S-" + case.removeprefix("LC-")


def land_penalty(code: str, mark: str, decided: date | None = None) -> dict[str, str]:
    """A GENERAL land penalty on ``code`` as a unit types it into ``submitRecord`` (decided on
    2026-05-06 unless ``decided``); ``mark`` keeps its document number apart from other tests'."""
    on = decided or date(2026, 5, 6)
    return {
        "item": "ADMIN_PENALTY",
        "subject": code,
        "tier": "GENERAL",
        "title": "违法占地",
        "decidedOn": on.isoformat(),
        "document": f"乌自然资罚〔{on.year}〕{mark}{code[-5:]}号",
        "legalBasis": "《中华人民共和国土地管理法》第七十七条",
    }
