"""GraphiQL at /graphql in development, in headless Chromium (Debian's, driven by Playwright): a
developer pastes a token, runs a query and reads the answer, with GraphiQL's documentation built
from the token's own contract; everything comes from the hub itself under a strict
Content-Security-Policy, without one console error. Outside development there is no GraphiQL.
A screenshot is kept."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page

from hub.cli.services import stop_process
from tests.conftest import TEST_DATA, free_port, mint, start_api

SHOTS = TEST_DATA / "screenshots"
SHIPPED_ISSUERS = Path(__file__).resolve().parents[2] / "policies" / "issuers.yaml"
QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"
RESPONSE = ".graphiql-response"


@pytest.fixture(scope="module")
def dev_api(api: str) -> Iterator[str]:
    """A second API as a developer runs it (HUB_ENV=development), on the test servers."""
    port = free_port()
    proc = start_api(port, "api-graphiql", HUB_ENV="development")
    yield f"http://127.0.0.1:{port}"
    stop_process(proc.pid, timeout=15)


@pytest.fixture
def page(browser: Browser) -> Iterator[tuple[Page, list[str], list[str]]]:
    """A page, the console errors it logs (CSP violations among them), and every URL it
    requested."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    opened = context.new_page()
    problems: list[str] = []
    requested: list[str] = []
    opened.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda e: problems.append(str(e)))
    opened.on("request", lambda r: requested.append(r.url))
    yield opened, problems, requested
    context.close()


def _open(view: Page, api: str) -> None:
    view.goto(f"{api}/graphql")
    view.wait_for_selector(QUERY_EDITOR)


def _use_token(view: Page, token: str) -> None:
    view.fill("#token", token)
    view.click("#token-form button[type=submit]")


def _run(view: Page, query: str) -> str:
    """Type the query as a user would, run it, and return the answer GraphiQL shows."""
    view.click(QUERY_EDITOR)
    view.keyboard.press("Control+A")
    view.keyboard.press("Delete")
    view.keyboard.type(query)
    view.keyboard.press("Escape")  # close any completion hint
    view.click(".graphiql-execute-button")
    view.wait_for_selector(f"{RESPONSE} .CodeMirror-code :text('data'), {RESPONSE} :text('errors')")
    return view.inner_text(RESPONSE)


def test_a_pasted_token_runs_a_query_and_the_docs_are_its_contract(
    dev_api: str, page: tuple[Page, list[str], list[str]]
) -> None:
    view, problems, requested = page
    _open(view, dev_api)
    _use_token(view, mint("partner", agency="BANK-GRAPHIQL"))
    view.wait_for_selector("#contract:has-text('Token in use')")
    answer = _run(view, "{ me { agency } }")
    assert re.search(r'"agency":\s*"BANK-GRAPHIQL"', answer), answer

    # The documentation explorer shows the partner's contract: its fields, not the others'.
    view.click("button[aria-label='Show Documentation Explorer']")
    view.click(".graphiql-doc-explorer-content a.graphiql-doc-explorer-type-name:text('Query')")
    view.wait_for_selector(".graphiql-doc-explorer-content :text('sanctionFeed')")
    docs = view.inner_text(".graphiql-doc-explorer-content")
    assert "subject" in docs and "network" not in docs and "auditTrail" not in docs

    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = view.screenshot(path=str(SHOTS / "graphiql.png"))
    assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 20_000
    assert requested and all(url.startswith(dev_api) for url in requested), requested
    assert problems == []  # no script error, no Content-Security-Policy violation


def test_without_a_token_the_answer_says_so_and_the_headers_editor_works(
    dev_api: str, page: tuple[Page, list[str], list[str]]
) -> None:
    view, problems, _ = page
    _open(view, dev_api)
    assert "No token" in view.inner_text("#contract")
    # without a token a query runs as the public, which may not call `me`
    assert "FORBIDDEN" in _run(view, "{ me { agency } }")

    view.click("button:text('Headers')")
    view.click(".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror")
    token = mint("investigator", agency="NMG150000")
    view.keyboard.type(f'{{"Authorization": "Bearer {token}"')
    answer = _run(view, "{ me { agency roles } }")
    assert re.search(r'"agency":\s*"NMG150000"', answer), answer
    assert "investigator" in answer
    assert [p for p in problems if "401" not in p] == []  # the refused request logs its 401


def test_a_refused_token_is_said_above_graphiql(
    dev_api: str, page: tuple[Page, list[str], list[str]]
) -> None:
    view, _, _ = page
    _open(view, dev_api)
    _use_token(view, mint("partner") + "x")
    view.wait_for_selector("#contract.refused")
    assert "UNAUTHENTICATED" in view.inner_text("#contract")


def test_page_headers_and_assets(dev_api: str) -> None:
    page = httpx.get(f"{dev_api}/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "unsafe" not in policy
    assert "frame-ancestors 'none'" in policy
    assert "https://" not in page.text  # nothing from a CDN
    for name in ("react.js", "react-dom.js", "graphiql.js", "hub-graphiql.js"):
        asset = httpx.get(f"{dev_api}/assets/graphiql/{name}")
        assert asset.status_code == 200 and "javascript" in asset.headers["content-type"], name
    assert httpx.get(f"{dev_api}/assets/graphiql/graphiql.css").status_code == 200
    assert httpx.get(f"{dev_api}/assets/graphiql/package.json").status_code == 404
    assert httpx.get(f"{dev_api}/assets/graphiql/..%2F..%2Fpyproject.toml").status_code == 404
    # A query without a token runs as the public (no `me` for it); GET still runs nothing.
    query = httpx.post(f"{dev_api}/graphql", json={"query": "{ me { agency } }"})
    assert query.status_code == 200
    assert query.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    get = httpx.get(f"{dev_api}/graphql", params={"query": "{ me { agency } }"})
    assert get.status_code == 405


def test_production_serves_no_graphiql(api: str) -> None:
    port = free_port()
    proc = start_api(
        port, "api-production", HUB_ENV="production", HUB_ISSUERS_FILE=str(SHIPPED_ISSUERS)
    )
    try:
        base = f"http://127.0.0.1:{port}"
        page = httpx.get(f"{base}/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 405 and "GraphiQL" not in page.text
        assert httpx.get(f"{base}/assets/graphiql/graphiql.js").status_code == 404
        assert httpx.get(f"{base}/assets/graphiql/hub-graphiql.js").status_code == 404
    finally:
        stop_process(proc.pid, timeout=15)
