"""Real servers for the suite: its own Neo4j, Redis and API, apart from the demo ones.

Everything lives under ``.data/test`` on free ports, so ``make test`` never touches what
``make up`` started. Neo4j is started once per session; the restart test stops and starts it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
from neo4j import AsyncDriver

from hub.settings import PROJECT_ROOT

TEST_DATA = PROJECT_ROOT / ".data" / "test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Settings are read from the environment: point every in-process and child use at test servers.
shutil.rmtree(TEST_DATA, ignore_errors=True)
NEO4J_PORT, REDIS_PORT, API_PORT = free_port(), free_port(), free_port()
os.environ.update(
    HUB_DATA_DIR=str(TEST_DATA),
    HUB_NEO4J_URI=f"bolt://127.0.0.1:{NEO4J_PORT}",
    HUB_REDIS_URL=f"redis://127.0.0.1:{REDIS_PORT}/0",
    HUB_HOST="127.0.0.1",
    HUB_PORT=str(API_PORT),
    HUB_ENV="test",
    HUB_JWT_LEEWAY="0",
)

from hub import services  # noqa: E402  (after the environment is set)
from hub.settings import get_settings  # noqa: E402


@dataclass
class Neo4jServer:
    spec: services.Neo4jSpec
    proc: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"bolt://{self.spec.host}:{self.spec.port}"

    def start(self) -> None:
        self.proc = services.start_neo4j(
            self.spec, PROJECT_ROOT / ".data" / "cache", TEST_DATA / "logs" / "neo4j.log"
        )

    def stop(self) -> None:
        if self.proc is not None:
            services.stop_process(self.proc.pid, timeout=60)
            self.proc.wait(timeout=5)
            self.proc = None


@pytest.fixture(scope="session")
def neo4j_server() -> Iterator[Neo4jServer]:
    server = Neo4jServer(
        services.Neo4jSpec(TEST_DATA / "neo4j", "127.0.0.1", NEO4J_PORT, "512m", "1g")
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    proc = services.start_redis(
        services.RedisSpec(TEST_DATA / "redis", "127.0.0.1", REDIS_PORT),
        TEST_DATA / "logs" / "redis.log",
    )
    yield f"redis://127.0.0.1:{REDIS_PORT}/0"
    services.stop_process(proc.pid)


def hub_command(
    *args: str, check: bool = True, **kwargs: object
) -> subprocess.CompletedProcess[str]:
    """Run the real `hub` command line against the test servers."""
    return subprocess.run(
        [sys.executable, "-m", "hub", *args],
        capture_output=True,
        text=True,
        check=check,
        cwd=PROJECT_ROOT,
        **kwargs,  # type: ignore[call-overload]
    )


@pytest.fixture(scope="session")
def migrated(neo4j_server: Neo4jServer) -> None:
    hub_command("migrate")


@pytest.fixture(scope="session")
def seeded(migrated: None) -> int:
    """A deterministic seeded graph shared by read-only tests."""
    subjects = 3000
    hub_command("seed", "--subjects", str(subjects), "--seed", "7")
    return subjects


@pytest.fixture
async def driver(neo4j_server: Neo4jServer, migrated: None) -> AsyncIterator[AsyncDriver]:
    from graph.db import Neo4jConfig, connect

    drv = connect(Neo4jConfig(uri=neo4j_server.uri))
    yield drv
    await drv.close()


@pytest.fixture(scope="session")
def api(neo4j_server: Neo4jServer, redis_server: str, migrated: None) -> Iterator[str]:
    """The real API under uvicorn, in its own process, on a free port."""
    log = (TEST_DATA / "logs" / "api.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "hub", "serve", "--workers", "1"],
        cwd=PROJECT_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{API_PORT}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        proc.kill()
        raise RuntimeError(f"API did not start; see {TEST_DATA / 'logs' / 'api.log'}")
    yield base
    proc.terminate()
    proc.wait(timeout=15)
    log.close()


def mint(role: str = "partner", **overrides: str) -> str:
    from hub.auth import mint_dev_token
    from hub.keys import dev_jwt_secret

    settings = get_settings()
    args = {
        "agency": "BANK-TEST",
        "division_code": "150000",
        "clearance": "SHARED" if role == "partner" else "RESTRICTED",
        "purpose": None,
        "ttl": 600,
    }
    args.update(overrides)
    return mint_dev_token(
        dev_jwt_secret(settings.keys_dir),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        role=role,
        **args,  # type: ignore[arg-type]
    )


@dataclass
class GraphQLClient:
    base: str
    token: str | None

    def post(
        self, query: str, variables: dict[str, object] | None = None, token: str | None = None
    ) -> httpx.Response:
        headers = {}
        bearer = token or self.token
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        return httpx.post(
            f"{self.base}/graphql",
            json={"query": query, "variables": variables or {}},
            headers=headers,
            timeout=15,
        )

    def data(self, query: str, variables: dict[str, object] | None = None) -> dict[str, object]:
        response = self.post(query, variables)
        body = response.json()
        assert response.status_code == 200 and not body.get("errors"), body
        return body["data"]  # type: ignore[no-any-return]


@pytest.fixture
def partner(api: str) -> GraphQLClient:
    return GraphQLClient(api, mint("partner"))
