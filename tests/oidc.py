"""The OpenID provider subjects sign in through in tests, and a helper that signs a browser in.

The provincial government service network is played by the certified npm ``oidc-provider``
(``tests/oidc/provider.mjs``, installed by ``make assets``) on a loopback port chosen when this
module is imported; tests/conftest.py points the suite's API at it (``HUB_SIGNIN_FILE``, written
into the test data directory, and ``HUB_SIGNIN_CLIENT_SECRET``). Its accounts are credit codes:
the login name is the code, any password. A login starting with ``no-uscc`` signs in without a
``uscc`` claim.

End-to-end tests of subjects' rights use it like this (``oidc`` is a session fixture, available
everywhere through tests/conftest.py; ``browser`` is tests/hub/conftest.py's Chromium)::

    from tests.oidc import sign_in

    def test_x(api: str, oidc: str, browser: Browser, code: str) -> None:
        page = browser.new_context(locale="zh-CN").new_page()
        sign_in(page, api, code)  # now on /me, signed in as `code`

``provider_login(page, login)`` is the provider's part alone (login form, then consent), for
tests that watch what the hub answers to the callback themselves.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page

from hub.settings import PROJECT_ROOT
from tests.ports import free_port

OIDC_PORT = free_port()
ISSUER = f"http://127.0.0.1:{OIDC_PORT}"
DISCOVERY = f"{ISSUER}/.well-known/openid-configuration"
PROVIDER = "zwfw"  # the provider's name in the hub's signin file
TITLE = "内蒙古自治区政务服务网"
CLIENT_ID = "credit-hub-portal"
CLIENT_SECRET = secrets.token_urlsafe(24)
OTHER_CLIENT_ID = "another-portal"  # another relying party of the same provider
OTHER_CLIENT_SECRET = secrets.token_urlsafe(24)
# Hub processes a test starts besides the suite's API, whose callbacks the provider accepts too.
EXTRA_API_PORTS = (free_port(), free_port())
SCRIPT = PROJECT_ROOT / "tests" / "oidc" / "provider.mjs"


def signin_yaml(issuer: str = ISSUER, name: str = PROVIDER, endpoints: bool = False) -> str:
    """A signin file naming the test provider (by discovery, or by ``endpoints`` given in the
    file, which is how a test makes the hub expect another ``issuer`` than the provider's)."""
    where = (
        f"    endpoints:\n      authorization: {ISSUER}/auth\n"
        f"      token: {ISSUER}/token\n      jwks: {ISSUER}/jwks\n"
        if endpoints
        else f"    discovery: {DISCOVERY}\n"
    )
    return (
        f"providers:\n  - name: {name}\n    title: {TITLE}\n    issuer: {issuer}\n{where}"
        f"    client_id: {CLIENT_ID}\n    credit_code_claim: uscc\n"
        "    scopes: [openid, uscc]\n    algorithms: [RS256]\n    max_session: 900\n"
    )


@pytest.fixture(scope="session")
def oidc(api: str) -> Iterator[str]:
    """The provider, running; yields its issuer. Its callbacks: the suite's API and the
    ``EXTRA_API_PORTS``."""
    node = shutil.which("node")
    if node is None or not (PROJECT_ROOT / "node_modules" / "oidc-provider").exists():
        pytest.fail("node or oidc-provider is missing: install Node.js 20 and run `make assets`")
    callbacks = ",".join(
        f"http://127.0.0.1:{port}/signin/callback"
        for port in (int(api.rsplit(":", 1)[1]), *EXTRA_API_PORTS)
    )
    log = (Path(os.environ["HUB_DATA_DIR"]) / "logs" / "oidc-provider.log").open("ab")
    proc = subprocess.Popen(
        [node, str(SCRIPT), str(OIDC_PORT), callbacks],
        cwd=PROJECT_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={
            **os.environ,
            "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "OIDC_OTHER_CLIENT_ID": OTHER_CLIENT_ID,
            "OIDC_OTHER_CLIENT_SECRET": OTHER_CLIENT_SECRET,
        },
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(DISCOVERY, timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        os.killpg(proc.pid, signal.SIGKILL)
        raise RuntimeError("the OpenID provider did not start; see logs/oidc-provider.log")
    yield ISSUER
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=10)
    log.close()


def provider_login(page: Page, login: str) -> None:
    """On the provider's login page: sign in as ``login`` (any password), then consent."""
    page.fill('input[name="login"]', login)
    page.fill('input[name="password"]', "any-password")
    page.click('button[type="submit"]')
    page.click('button:has-text("Continue")')


def sign_in(page: Page, base_url: str, credit_code: str) -> None:
    """Sign ``page`` in on the portal at ``base_url`` as the company ``credit_code``, through
    the real provider: the portal's button, the provider's login and consent, back to /me."""
    page.goto(f"{base_url}/signin")
    page.click(f"text=使用{TITLE}登录")
    provider_login(page, credit_code)
    page.wait_for_url(f"{base_url}/me")
