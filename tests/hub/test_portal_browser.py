"""The public portal in headless Chromium (Debian's package, through Playwright), at a phone's and
a desktop's size: every page renders without a console error (screenshots kept under
.data/test/gw*/screenshots), the serious-dishonesty list is above the fold on the home page, the
subject page of a subject with records of every class shows none above PUBLIC, and axe-core
finds no serious or critical accessibility violation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.conftest import TEST_DATA

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
SIZES = {
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
    "desktop": {"viewport": {"width": 1366, "height": 900}},
}
SHOTS = TEST_DATA / "screenshots"
HIDDEN = ("年度信息未按期填报", "内部核查线索", "移送公安案件", "待审核", "0482-8200001", "王五")


def _open(browser: Browser, size: str, url: str) -> tuple[Page, list[str]]:
    # bypass_csp only so that the test can inject axe-core; the page itself runs no script
    context = browser.new_context(locale="zh-CN", bypass_csp=True, **SIZES[size])  # type: ignore[arg-type]
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    return page, problems


def axe_violations(page: Page) -> list[dict[str, Any]]:
    if not AXE.exists():
        pytest.fail("axe-core is missing: run `make assets` (npm ci)")
    page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate("async () => await axe.run(document)")
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


PAGES = {
    "home": "/",
    "search": "/search?q=矿业",
    "subject": "/subjects/{code}",
    "serious": "/lists/serious",
    "honour": "/lists/honour?division=152200",
}


@pytest.mark.parametrize("size", sorted(SIZES))
@pytest.mark.parametrize("name", sorted(PAGES))
def test_page_renders_accessibly(
    browser: Browser, api: str, seeded: int, code: str, name: str, size: str
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page, problems = _open(browser, size, api + PAGES[name].format(code=code))
    page.screenshot(path=str(SHOTS / f"portal-{name}-{size}.png"), full_page=True)
    assert not problems, problems
    assert page.locator("h1").count() >= 1
    violations = axe_violations(page)
    assert not violations, [(v["id"], v["help"], len(v["nodes"])) for v in violations]
    page.context.close()


@pytest.mark.parametrize("size", sorted(SIZES))
def test_serious_list_is_above_the_fold(browser: Browser, api: str, seeded: int, size: str) -> None:
    page, _ = _open(browser, size, f"{api}/")
    heading = page.locator("#serious-title").bounding_box()
    first_row = page.locator("section.alert tbody tr").first.bounding_box()
    height = SIZES[size]["viewport"]["height"]  # type: ignore[index]
    assert heading is not None and first_row is not None
    assert heading["y"] < height and first_row["y"] < height, (heading, first_row)
    page.context.close()


def test_subject_page_text_holds_nothing_above_public(
    browser: Browser, api: str, code: str
) -> None:
    page, _ = _open(browser, "phone", f"{api}/subjects/{code}")
    text = page.inner_text("body")
    assert "非法采矿" in text  # the PUBLIC record is there, so the check below means something
    for hidden in HIDDEN:
        assert hidden not in text, hidden
    page.context.close()
