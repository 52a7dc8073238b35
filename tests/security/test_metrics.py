"""``/metrics`` as an outsider reaches it: without the scrape token nothing of the metrics
leaks; with it, a scrape works. Over real HTTP against the suite's API, and in-process for
production settings (no dev token there: metrics are off unless a token is configured)."""

from __future__ import annotations

import httpx
import pytest

from hub.http.app import create_app
from hub.keys import dev_metrics_token
from hub.settings import Settings, get_settings

LEAKS = ("hub_http", "# HELP", "# TYPE", "python_", "process_")  # what a metrics body shows


def _leaks(text: str) -> list[str]:
    return [marker for marker in LEAKS if marker in text]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": "Basic cHJvbWV0aGV1czpzZWNyZXQ="},
        {"X-Forwarded-For": "127.0.0.1"},
    ],
)
def test_metrics_without_the_scrape_token_are_refused_and_leak_nothing(
    api: str, headers: dict[str, str]
) -> None:
    response = httpx.get(f"{api}/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert _leaks(response.text) == []


def test_the_scrape_token_in_the_wrong_place_is_refused(api: str) -> None:
    token = dev_metrics_token(get_settings().keys_dir)
    for attempt in (
        httpx.get(f"{api}/metrics", params={"token": token}),
        httpx.get(f"{api}/metrics", headers={"Authorization": f"Basic {token}"}),
        httpx.get(f"{api}/metrics", headers={"Authorization": f"Bearer {token[:-1]}"}),
    ):
        assert attempt.status_code == 401 and _leaks(attempt.text) == []


def test_a_scrape_with_the_token_sees_the_metrics(api: str) -> None:
    token = dev_metrics_token(get_settings().keys_dir)
    assert len(token) == 64
    response = httpx.get(f"{api}/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert "hub_http_requests_total" in response.text


def _in_process(settings: Settings) -> httpx.AsyncClient:
    """The app's routes for these settings, without its lifespan (no servers needed)."""
    transport = httpx.ASGITransport(app=create_app(settings))
    return httpx.AsyncClient(transport=transport, base_url="http://hub")


async def test_in_production_metrics_are_off_without_a_configured_token() -> None:
    dev = dev_metrics_token(get_settings().keys_dir)
    async with _in_process(Settings(env="production")) as client:
        for headers in ({}, {"Authorization": f"Bearer {dev}"}):
            response = await client.get("/metrics", headers=headers)
            assert response.status_code == 404 and _leaks(response.text) == []


async def test_in_production_the_configured_token_opens_metrics() -> None:
    settings = Settings(env="production", metrics_token="scrape-me-0123456789")
    async with _in_process(settings) as client:
        refused = await client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
        assert refused.status_code == 401 and _leaks(refused.text) == []
        scraped = await client.get(
            "/metrics", headers={"Authorization": "Bearer scrape-me-0123456789"}
        )
        assert scraped.status_code == 200 and "hub_http_requests_total" in scraped.text
