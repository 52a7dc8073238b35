"""The investigator's page in headless Chromium (Debian's package, driven by Playwright): it
draws the planted phoenix case with the sanctioned and exposed subjects in their colours,
expands a node when it is clicked, refuses a partner's token in plain Chinese, and runs under
its Content-Security-Policy without a single console error. A screenshot is kept."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page

from demo.planted import PLANTED
from tests.conftest import TEST_DATA, mint

SANCTIONED_RGB = (198, 40, 40)  # #c62828 in investigate.js
EXPOSED_RGB = (239, 138, 0)  # #ef8a00
SHOTS = TEST_DATA / "screenshots"

# How many pixels of the graph's canvases are (nearly) a colour: what the user sees drawn.
COUNT_PIXELS = """([r, g, b]) => {
  let count = 0;
  for (const canvas of document.querySelectorAll('#graph canvas')) {
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    for (let i = 0; i < data.length; i += 4) {
      if (Math.abs(data[i] - r) < 8 && Math.abs(data[i + 1] - g) < 8
          && Math.abs(data[i + 2] - b) < 8 && data[i + 3] > 200) count += 1;
    }
  }
  return count;
}"""


@pytest.fixture
def page(browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    opened = context.new_page()
    problems: list[str] = []
    opened.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda e: problems.append(str(e)))
    yield opened, problems
    context.close()


def _settled(page: Page, answers: int) -> None:
    """Wait until the page has had that many answers (a selector: the page's policy forbids
    the string evaluation wait_for_function uses)."""
    page.wait_for_selector(f"#status[data-answered='{answers}']", state="attached")


def _query(page: Page, api: str, token: str, code: str) -> None:
    page.goto(f"{api}/investigate")
    page.fill("#token", token)
    page.fill("#code", code)
    page.click("button[type=submit]")
    _settled(page, 1)


def _colour(page: Page, node_id: str) -> str:
    return page.evaluate("id => hubGraph.getElementById(id).style('background-color')", node_id)


def _node_count(page: Page) -> int:
    return page.evaluate("() => hubGraph.nodes().length")


def test_page_draws_the_phoenix_case_and_expands_on_click(
    api: str, seeded: int, page: tuple[Page, list[str]]
) -> None:
    view, problems = page
    phoenix = PLANTED.phoenix
    token = mint("investigator", agency="NMG150000", purpose="investigation:CASE-7")
    _query(view, api, token, phoenix.new_company)
    assert "已加载" in view.inner_text("#status")
    sanctioned, founded = f"Subject:{phoenix.sanctioned}", f"Subject:{phoenix.new_company}"
    assert _colour(view, sanctioned) == "rgb({},{},{})".format(*SANCTIONED_RGB)
    assert _colour(view, founded) == "rgb({},{},{})".format(*EXPOSED_RGB)
    assert view.locator(f'tr.sanctioned[data-id="{sanctioned}"]').count() == 1
    assert view.locator(f'tr.exposed[data-id="{founded}"]').count() == 1
    assert "疑似“换壳”" in view.inner_text("#detail")  # the phoenix flag, explained
    assert view.evaluate(COUNT_PIXELS, list(SANCTIONED_RGB)) > 50
    assert view.evaluate(COUNT_PIXELS, list(EXPOSED_RGB)) > 50

    before = _node_count(view)
    box = view.locator("#graph").bounding_box()
    assert box is not None
    at = view.evaluate("id => hubGraph.getElementById(id).renderedPosition()", sanctioned)
    view.mouse.click(box["x"] + at["x"], box["y"] + at["y"])
    _settled(view, 2)
    assert "已展开" in view.inner_text("#status")
    assert view.evaluate("id => hubGraph.getElementById(id).hasClass('expanded')", sanctioned)
    assert _node_count(view) > before
    kinds = view.evaluate(
        "id => hubGraph.getElementById(id).neighborhood('node').map(n => n.data('kind'))",
        sanctioned,
    )
    assert "Sanction" in kinds  # its listing, only reached by expanding it

    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = view.screenshot(path=str(SHOTS / "investigate.png"), full_page=True)
    assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 20_000
    assert problems == []  # no script error, no Content-Security-Policy violation


def test_a_partner_token_is_refused_in_chinese(
    api: str, seeded: int, page: tuple[Page, list[str]]
) -> None:
    view, _ = page
    _query(view, api, mint("partner"), PLANTED.phoenix.new_company)
    assert "无权访问" in view.inner_text("#status")
    assert "FORBIDDEN" in view.inner_text("#status")
    assert _node_count(view) == 0


def test_a_link_with_code_and_token_loads_and_drops_the_token(
    api: str, seeded: int, page: tuple[Page, list[str]]
) -> None:
    view, problems = page
    token = mint("investigator", agency="NMG150000", purpose="investigation:CASE-7")
    view.goto(f"{api}/investigate?code={PLANTED.phoenix.sanctioned}#token={token}")
    _settled(view, 1)
    assert "已加载" in view.inner_text("#status")
    assert "token" not in view.url
    assert _node_count(view) > 1
    assert problems == []


def test_page_headers_and_assets(api: str) -> None:
    page = httpx.get(f"{api}/investigate")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    library = httpx.get(f"{api}/assets/vendor/cytoscape.min.js")
    assert library.status_code == 200 and "javascript" in library.headers["content-type"]
    assert httpx.get(f"{api}/assets/investigate.js").status_code == 200
    assert httpx.get(f"{api}/assets/vendor/../../pages.py").status_code == 404
