"""The public portal over real HTTP against the seeded graph: the serious-dishonesty list first on
the home page, search by code (typed any way) and by name, the subject page with nothing above
PUBLIC, lists by division with their CSV matching the graph, and the page cache that a new
listing and its repair pass through at once."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from datetime import date, timedelta

import httpx
import pytest
from neo4j import AsyncDriver

from connectors.coordination.freshness import generation_bump_at
from graph.db import Store
from graph.records.listings import ListingDecision, end_listing, publish_listing
from hub.settings import catalogue, get_settings
from policies.divisions import find_division, jurisdiction_prefix
from tests.subjects import fresh_subjects

SERIOUS_IN_FORCE = """
MATCH (x:Sanction {listing: 'SERIOUS_DISHONESTY', status: 'ACTIVE'})-[:SANCTIONED]->(s:Subject)
WHERE (x.endDate IS NULL OR x.endDate >= date()) AND x.disclosure = 'PUBLIC'
  AND s.disclosure = 'PUBLIC' AND s.division STARTS WITH $prefix
RETURN s.creditCode AS code, s.name AS name, s.division AS division,
  toString(x.startDate) AS start, x.id AS id
ORDER BY x.startDate DESC, x.id
"""


FULL_WIDTH = {c: c + 0xFEE0 for c in range(0x21, 0x7F)}


def _get(api: str, path: str, **kwargs: object) -> httpx.Response:
    return httpx.get(f"{api}{path}", timeout=30, **kwargs)  # type: ignore[arg-type]


def _main(html: str) -> str:
    found = re.search(r"<main[^>]*>(.*)</main>", html, re.S)
    assert found, html[:500]
    return found.group(1)


async def _serious(driver: AsyncDriver, prefix: str) -> list[dict[str, str]]:
    records, _, _ = await driver.execute_query(SERIOUS_IN_FORCE, prefix=prefix)
    return [dict(r) for r in records]


async def test_home_puts_the_serious_dishonesty_list_first(
    api: str, seeded: int, driver: AsyncDriver
) -> None:
    listed = await _serious(driver, "15")
    assert listed, "the seeded graph has serious-dishonesty listings"
    response = _get(api, "/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    main = _main(response.text)
    first_heading = re.search(r"<h[12][^>]*>([^<]+)</h[12]>", main)
    assert first_heading and first_heading.group(1) == "严重失信主体名单"
    newest = listed[:20]
    for row in newest:
        assert row["code"] in main, row
    # newest first: the page lists them in the graph's order
    positions = [main.index(row["code"]) for row in newest]
    assert positions == sorted(positions)
    assert "双公示" in main


async def test_search_by_code_typed_any_way_and_by_name(api: str, seeded: int) -> None:
    full_width = "９１１５２２０１ＭＡ０ＤＬ"  # not a whole code: refused as one
    bad = _get(api, "/search", params={"q": full_width + "００００"})
    assert bad.status_code == 400 and "不是有效的统一社会信用代码" in bad.text
    ((code, _record),) = fresh_subjects(1)
    typed = " ".join([code[:6], code[6:12], code[12:]]).translate(
        str.maketrans(
            "0123456789ABCDEFGHJKLMNPQRTUWXY",
            "０１２３４５６７８９ＡＢＣＤＥＦＧＨＪＫＬＭＮＰＱＲＴＵＷＸＹ",
        )
    )
    found = _get(api, "/search", params={"q": typed}, follow_redirects=False)
    assert found.status_code == 303 and found.headers["location"] == f"/subjects/{code}"
    page = _get(api, found.headers["location"])
    assert page.status_code == 200 and code in page.text
    name = re.search(r"<h1>([^<]+)</h1>", page.text)
    assert name
    by_name = _get(api, "/search", params={"q": name.group(1)})
    assert by_name.status_code == 200 and f"/subjects/{code}" in by_name.text


async def test_subject_page_shows_public_rows_only(api: str, code: str) -> None:
    response = _get(api, f"/subjects/{code}")
    assert response.status_code == 200
    main = _main(response.text)
    assert "兴安盟接口测试矿业有限公司" in main
    assert "非法采矿" in main  # the PUBLIC record
    assert "严重失信主体名单" in main  # its listing, in force
    for hidden in (
        "年度信息未按期填报",  # SHARED
        "内部核查线索",  # RESTRICTED
        "移送公安案件",  # CONFIDENTIAL
        "待审核",  # pending review
        "0482-8200001",  # a phone: contact data
        "王五",  # the legal representative: a person
        "152201198001010023",  # an ID number
        "1522**",  # nor its masked form
    ):
        assert hidden not in response.text, hidden


async def test_unknown_and_invalid_codes_get_the_same_not_found(api: str, code: str) -> None:
    unknown = code[:-1] + ("0" if code[-1] != "0" else "1")
    for path in (f"/subjects/{unknown}", "/subjects/not-a-code"):
        response = _get(api, path)
        assert response.status_code == 404 and "未找到" in response.text, path


async def test_lists_by_division_and_their_csv_match_the_graph(
    api: str, seeded: int, driver: AsyncDriver
) -> None:
    everywhere = await _serious(driver, "15")
    leagues = Counter(r["division"][:4] + "00" for r in everywhere)
    league = next(d for d, _ in leagues.most_common() if find_division(d) is not None)
    wanted = await _serious(driver, jurisdiction_prefix(league))
    assert wanted, "the seeded league has listings"
    page = _get(api, "/lists/serious", params={"division": league})
    assert page.status_code == 200
    shown = set(re.findall(r'href="/subjects/([0-9A-Z]{18})"', _main(page.text)))
    assert shown <= {r["code"] for r in wanted} and shown
    download = _get(api, "/lists/serious.csv", params={"division": league})
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert "attachment" in download.headers["content-disposition"]
    text = download.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0][0] == "统一社会信用代码"
    # every listing in force of the league, once, newest decision first (ties in any order)
    assert Counter(r[0] for r in rows[1:]) == Counter(r["code"] for r in wanted)
    dates = [r[4] for r in rows[1:]]
    assert dates == sorted(dates, reverse=True)
    assert sorted(dates) == sorted(r["start"] for r in wanted)


async def test_a_new_listing_shows_at_once_and_its_repair_removes_it(
    api: str, seeded: int, driver: AsyncDriver
) -> None:
    ((code, record),) = fresh_subjects(1)
    first = _get(api, "/")
    again = _get(api, "/")
    assert first.status_code == again.status_code == 200
    assert again.headers["x-cache"] == "hit" and again.text == first.text
    assert code not in first.text
    store = Store(
        driver, get_settings().neo4j_database, changed=generation_bump_at(get_settings().redis_url)
    )
    decision = ListingDecision(
        id=f"S-PORTAL-{code[-6:]}",
        subject=code,
        listing="SERIOUS_DISHONESTY",
        authority="NMG152201",
        based_on=(record,),
        start=date.today() + timedelta(days=1),  # newest of all, so first on the home page
        end=date.today() + timedelta(days=365 * 3),
        disclosure="PUBLIC",
        decided_by="tester",
    )
    await publish_listing(store, catalogue(), decision)
    listed = _get(api, "/")
    assert listed.headers["x-cache"] == "miss"
    assert code in _main(listed.text)
    subject = _get(api, f"/subjects/{code}")
    assert "该主体被列入严重失信主体名单" in subject.text
    await end_listing(store, catalogue(), decision.id, "REPAIRED", date.today())
    repaired = _get(api, "/")
    assert code not in repaired.text
    assert "该主体被列入" not in _get(api, f"/subjects/{code}").text


@pytest.mark.parametrize("name", ["abnormal", "honour"])
async def test_other_lists_render_and_download(api: str, seeded: int, name: str) -> None:
    page = _get(api, f"/lists/{name}")
    assert page.status_code == 200
    rows = re.findall(r'href="/subjects/([0-9A-Z]{18})"', _main(page.text))
    assert rows, f"the seeded graph has subjects on the {name} list"
    download = _get(api, f"/lists/{name}.csv")
    lines = download.content.decode("utf-8").removeprefix("\ufeff").splitlines()
    assert len(lines) > 1 and lines[1].split(",")[0] == rows[0]
