"""The printable joint-sanction recommendation: a unit prints it for a partner kind not yet
connected, and it states the subject, the facts, the determination, the legal basis and only
that kind's measures, in Chinese; partners and other jurisdictions cannot print it."""

from __future__ import annotations

import io
import json
import time
from datetime import date
from pathlib import Path

import httpx
import pypdf
import pytest

from graph.db import Store
from graph.exchange.feeds import FeedRow, apply_snapshot
from graph.records.determination import advance, propose, sanction_id
from policies.credit.determination import default_rules
from policies.credit.measures import default_measures
from tests.conftest import GraphQLClient, import_file, mint, unit_token
from tests.listings import court_feed
from tests.subjects import fresh_subjects


@pytest.fixture
async def listed(store: Store, migrated: None) -> tuple[str, str, str]:
    """A subject of 152201 listed through a whole case: (credit code, record, sanction id)."""
    from datetime import UTC, datetime

    ((code, record),) = fresh_subjects(1)
    rules, catalogue = default_rules(), default_measures()
    case = await propose(
        store,
        rules,
        subject=code,
        records=[record],
        fault="MALICE",
        reason="恶意越界开采",
        by="clerk-1",
        unit="NMG152201",
        prefix="152201",
        now=datetime.now(UTC),
    )
    for action, by, document in (
        ("NOTIFY", "r1", "乌自然资告〔2026〕9号"),
        ("WAIVE", "r1", None),
        ("DECIDE", "r2", "乌自然资决〔2026〕9号"),
    ):
        await advance(
            store,
            rules,
            catalogue,
            case_id=case,
            action=action,
            by=by,
            unit="NMG152201",
            prefix="152201",
            today=date.today(),
            reason="依法办理",
            document=document,
        )
    return code, record, sanction_id(case)


def _get(api: str, token: str, sanction: str, **params: str) -> httpx.Response:
    return httpx.get(
        f"{api}/recommendations/{sanction}",
        params=params,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


def test_a_unit_prints_it_for_a_partner_kind(api: str, listed: tuple[str, str, str]) -> None:
    code, _, sanction = listed
    reviewer = unit_token("reviewer", "NMG152201", "r1")
    answer = _get(api, reviewer, sanction, kind="LAND_MINING")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    pdf = pypdf.PdfReader(io.BytesIO(answer.content))
    text = "".join(page.extract_text() for page in pdf.pages).replace("\n", "")
    assert pdf.metadata is not None and "联合惩戒建议函" in str(pdf.metadata.title)
    for expected in (
        code,
        "推送测试",
        "严重失信主体名单",
        "乌自然资罚〔2026〕",
        "矿产资源法",
        "乌自然资决〔2026〕9号",
        "乌兰浩特市自然资源局",
        "恶意",
        "限制参与土地使用权招标拍卖挂牌出让",
        "土地和矿业权管理",
    ):
        assert expected in text, expected
    assert "作为授信、贷款审查的重要参考" not in text  # the bank's measure is not theirs
    every = pypdf.PdfReader(io.BytesIO(_get(api, reviewer, sanction).content))
    assert "作为授信、贷款审查的重要参考" in "".join(p.extract_text() for p in every.pages).replace(
        "\n", ""
    )


def test_who_may_print_it(api: str, listed: tuple[str, str, str]) -> None:
    _, _, sanction = listed
    assert _get(api, mint("partner"), sanction).status_code == 403
    other = unit_token("reviewer", "NMG150702", "r9")
    assert _get(api, other, sanction).status_code == 404  # not in its jurisdiction
    bad = _get(api, unit_token("reviewer", "NMG152201", "r1"), sanction, kind="POLICE")
    assert bad.status_code == 400 and bad.json()["errors"][0]["extensions"]["code"] == (
        "BAD_USER_INPUT"
    )
    assert _get(api, unit_token("reviewer", "NMG152201", "r1"), "S-NO-SUCH").status_code == 404


def _text(answer: httpx.Response) -> str:
    assert answer.status_code == 200, answer.text
    pdf = pypdf.PdfReader(io.BytesIO(answer.content))
    return "".join(page.extract_text() for page in pdf.pages).replace("\n", "")


def test_it_reads_as_a_letter_to_the_partner_signed_by_the_unit(
    api: str, listed: tuple[str, str, str]
) -> None:
    _, _, sanction = listed
    admin = GraphQLClient(api, mint("admin"))
    code = f"LETTER-{int(time.time() * 1000) % 10**8}"
    admin.data(
        "mutation($p: PartnerInput!) { registerPartner(partner: $p) { verifyingKey } }",
        {"p": {"code": code, "name": "锡林郭勒盟公共资源交易中心", "kind": "LAND_MINING",
               "events": ["sanction.listed"]}},
    )  # fmt: skip
    reviewer = unit_token("reviewer", "NMG152201", "r1")
    text = _text(_get(api, reviewer, sanction, partner=code))
    assert text.index("锡林郭勒盟公共资源交易中心：") < text.index("一、主体信息")  # addressed
    assert "限制参与土地使用权招标拍卖挂牌出让" in text  # the partner's kind's measures
    assert "作为授信、贷款审查的重要参考" not in text
    today = date.today()
    signature = f"乌兰浩特市自然资源局{today.year}年{today.month}月{today.day}日"
    assert "".join(text.split()).endswith(signature), text[-60:]  # 落款: the unit, the date
    for api_word in ("reportMeasure", "/feedback", "GraphQL", "API", "mutation"):
        assert api_word not in text, api_word
    generic = _text(_get(api, reviewer, sanction, kind="BANK"))
    assert "各银行业金融机构：" in generic and "作为授信、贷款审查的重要参考" in generic
    mismatch = _get(api, reviewer, sanction, partner=code, kind="BANK")
    assert mismatch.status_code == 400
    assert _get(api, reviewer, sanction, partner="NO-SUCH-PARTNER").status_code == 404


async def test_only_dishonesty_listings_in_force_get_a_letter(
    api: str, store: Store, migrated: None, tmp_path: Path
) -> None:
    (debtor, _), (abnormal, record) = fresh_subjects(2)
    court = court_feed("TEST-LETTER-COURT")
    row = FeedRow(1, "TEST-LETTER-COURT:（2026）蒙2201执9号", debtor, None, date(2026, 5, 1),
                  None, "（2026）蒙2201执9号", "乌兰浩特市人民法院")  # fmt: skip
    await apply_snapshot(store, default_measures(), court, [row], [], date.today())
    reviewer = unit_token("reviewer", "NMG152201", "r1")
    text = _text(_get(api, reviewer, row.sanction_id, kind="BANK"))
    assert "失信被执行人名单" in text and "乌兰浩特市人民法院" in text

    listing = {"kind": "Sanction", "id": f"S-AB-{abnormal[-6:]}", "subject": abnormal,
               "authority": "NMG152201", "basedOn": [record], "listing": "ABNORMAL_OPERATION",
               "startDate": "2026-06-10", "status": "ACTIVE", "disclosure": "PUBLIC"}  # fmt: skip
    path = tmp_path / "abnormal.jsonl"
    path.write_text(json.dumps(listing, ensure_ascii=False), encoding="utf-8")
    import_file(path)
    refused = _get(api, reviewer, listing["id"])
    assert refused.status_code == 409
    error = refused.json()["errors"][0]["extensions"]
    assert error == {"code": "CONFLICT", "reason": "not-a-dishonesty-listing"}
