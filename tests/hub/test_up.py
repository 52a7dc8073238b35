"""`hub up` / `hub down` (what `make up` and `make down` run), on their own ports and folder."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import httpx

from hub.cli.services import port_open
from hub.settings import PROJECT_ROOT
from tests.conftest import TEST_DATA, free_port

QUERY = "query($code: String!) { subject(creditCode: $code) { name sanctions { listing } } }"


def test_up_twice_then_down_stops_everything() -> None:
    ports = {"neo4j": free_port(), "redis": free_port(), "api": free_port()}
    env = {
        **os.environ,
        "HUB_DATA_DIR": str(TEST_DATA / "up"),
        "HUB_NEO4J_URI": f"bolt://127.0.0.1:{ports['neo4j']}",
        "HUB_REDIS_URL": f"redis://127.0.0.1:{ports['redis']}/0",
        "HUB_PORT": str(ports["api"]),
        "HUB_WORKERS": "1",
        "NEO4J_PAGECACHE": "256m",
        "NEO4J_HEAP": "512m",
    }

    def hub(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "hub", *args],
            env=env,
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )

    try:
        first = hub("up", "--demo-subjects", "150")
        assert first.returncode == 0, first.stderr
        base = f"http://127.0.0.1:{ports['api']}"
        assert f"POST {base}/graphql" in first.stdout
        tokens = dict(
            re.findall(
                r"^  (partner|investigator|submitter|reviewer|admin) +(\S+)$", first.stdout, re.M
            )
        )
        assert set(tokens) == {"partner", "investigator", "submitter", "reviewer", "admin"}
        code = re.search(r'creditCode: \\"([0-9A-Z]{18})\\"', first.stdout)
        assert code is not None
        answer = httpx.post(
            f"{base}/graphql",
            json={"query": QUERY, "variables": {"code": code.group(1)}},
            headers={"Authorization": f"Bearer {tokens['partner']}"},
        ).json()
        assert answer["data"]["subject"]["sanctions"][0]["listing"] == "SERIOUS_DISHONESTY"

        again = hub("up", "--demo-subjects", "150")  # harmless: nothing restarted, nothing seeded
        assert again.returncode == 0, again.stderr
        assert "already running" in again.stderr and "not seeding" in again.stderr
        status = hub("status").stdout
        assert "running" in status and "audit entries waiting to be chained" in status
    finally:
        down = hub("down")
    assert down.returncode == 0, down.stderr
    assert not any(port_open("127.0.0.1", port) for port in ports.values())
