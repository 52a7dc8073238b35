"""The browser the page tests drive: Debian's Chromium, headless, through Playwright."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from playwright.sync_api import Browser, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
# Headless, and nothing that calls out: this machine's network is closed.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: run `make browser` (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def fresh_complaint_counts(redis_server: str) -> Iterator[None]:
    """No complaint filings or wrong guesses counted yet: every test's browser and client come
    from 127.0.0.1, whose per-address limit would otherwise carry over from test to test."""
    client = redis.Redis.from_url(redis_server)
    for key in client.scan_iter("hub:complaints:*"):
        client.delete(key)
    yield
    client.close()
