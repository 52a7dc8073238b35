"""Real servers for the suite: its own Neo4j, Redis and API, apart from the demo ones.

Everything lives under ``.data/test`` (a folder per xdist process) on free ports, so ``make
test`` never touches what ``make up`` started. Neo4j is started once per session (per process);
the restart test stops and starts it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import redis as redis_lib
import redis.asyncio as aioredis
from neo4j import AsyncDriver

from hub.settings import PROJECT_ROOT
from tests.oidc import CLIENT_SECRET, oidc, signin_yaml  # noqa: F401  (oidc: the provider fixture)
from tests.ports import free_port
from tests.s3 import MotoServer

if TYPE_CHECKING:
    from graph.archive.ingest import ImportReport
    from graph.db import Store

# `make test` runs the suite in two processes (pytest-xdist), each with servers of its own in a
# folder of its own: .data/test/gw0, .data/test/gw1. A plain `pytest` uses .data/test.
SUITE_DATA = PROJECT_ROOT / ".data" / "test"
TEST_DATA = SUITE_DATA / os.environ.get("PYTEST_XDIST_WORKER", "")


# Settings are read from the environment: point every in-process and child use at test servers.
shutil.rmtree(TEST_DATA, ignore_errors=True)  # xdist's coordinator: all, before its workers start
NEO4J_PORT, REDIS_PORT, API_PORT = free_port(), free_port(), free_port()
JWKS_PORT = free_port()  # partner identity providers' keys: the `jwks` fixture
os.environ.update(
    HUB_DATA_DIR=str(TEST_DATA),
    HUB_NEO4J_URI=f"bolt://127.0.0.1:{NEO4J_PORT}",
    HUB_REDIS_URL=f"redis://127.0.0.1:{REDIS_PORT}/0",
    HUB_HOST="127.0.0.1",
    HUB_PORT=str(API_PORT),
    HUB_ENV="test",
    HUB_JWT_LEEWAY="0",
    HUB_ISSUERS_FILE=str(TEST_DATA / "issuers.yaml"),
    HUB_JWKS_MIN_REFETCH="2",  # seconds; tests wait it out instead of 30
    HUB_SIGNIN_FILE=str(TEST_DATA / "signin.yaml"),  # the portal's sign-in: tests/oidc.py
    HUB_SIGNIN_CLIENT_SECRET=CLIENT_SECRET,
)

from connectors.config import configure  # noqa: E402
from hub.cli import services  # noqa: E402  (after the environment is set)
from hub.settings import get_settings  # noqa: E402
from policies.credit.measures import MEASURES_FILE, Catalogue, parse_measures  # noqa: E402

configure(get_settings().worker_config)  # tasks run in-process connect to the test servers


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


# A read naming a transaction the server lacks waits this long, then fails (as docs/deploy.md
# asks of a cluster): tests/hub/test_routing.py plants such bookmarks.
NEO4J_CONF = "db.transaction.bookmark_ready_timeout=3s\n"


@pytest.fixture(scope="session")
def neo4j_server() -> Iterator[Neo4jServer]:
    server = Neo4jServer(
        services.Neo4jSpec(TEST_DATA / "neo4j", "127.0.0.1", NEO4J_PORT, "512m", "1g")
    )
    server.spec.home.mkdir(parents=True, exist_ok=True)
    (server.spec.home / "neo4j.conf").write_text(NEO4J_CONF)
    server.start()
    yield server
    server.stop()


_REDIS = services.RedisSpec(TEST_DATA / "redis", "127.0.0.1", REDIS_PORT)
_redis_procs: list[subprocess.Popen[bytes]] = []


def _start_redis() -> None:
    _redis_procs.append(services.start_redis(_REDIS, TEST_DATA / "logs" / "redis.log"))


def restart_redis(hard: bool) -> None:
    """Stop the suite's Redis, with SIGKILL when ``hard`` (whatever it had not written to its
    append-only file is gone), and start it again on the same port and data."""
    proc = _redis_procs.pop()
    if hard:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    else:
        services.stop_process(proc.pid)
    _start_redis()


@contextmanager
def redis_stopped() -> Iterator[None]:
    """The suite's Redis stopped cleanly for the block, then started again on its data."""
    services.stop_process(_redis_procs.pop().pid)
    try:
        yield
    finally:
        _start_redis()


@pytest.fixture
async def redis(redis_server: str) -> AsyncIterator[aioredis.Redis]:
    """A client of the suite's Redis (where the workers hold their lane locks)."""
    client = aioredis.from_url(redis_server)
    yield client
    await client.aclose()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    _start_redis()
    yield f"redis://127.0.0.1:{REDIS_PORT}/0"
    services.stop_process(_redis_procs[-1].pid)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[MotoServer]:
    """An S3-compatible server (moto) with an empty bucket, for the storage tests; the rest of
    the suite stores files on the filesystem (HUB_STORAGE's default)."""
    server = MotoServer(free_port(), TEST_DATA / "logs" / "moto.log")
    server.start()
    yield server
    server.kill()


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


def early_in_rate_window(margin: float = 15.0) -> None:
    """Wait, when needed, until a fresh window of the rate limit (policies/limits.yaml
    ``rate.window_seconds``) has at least ``margin`` seconds left: the rate is counted in fixed
    windows, and a boundary in the middle of a test's burst would split it between two."""
    from policies.limits import default_limits

    window = default_limits().rate_window
    left = window - time.time() % window
    if left < margin:
        time.sleep(left + 0.1)


def import_file(path: Path) -> ImportReport:
    """Load an exchange file the way `hub import` does (graph/archive/ingest.py, then the feed's
    backfill when it holds listings), in this process and a thread of its own: tests load their
    rows through it, since a `hub import` process costs seconds of interpreter start-up each
    time; the command itself is tested in tests/graph/test_import.py. Every row must pass."""
    from graph.archive.ingest import decode_lines, ingest_rows
    from graph.exchange.backfill import backfill
    from hub.cli.kit import run_with_store
    from hub.keys import pii_secret
    from hub.settings import Settings, catalogue

    async def work(store: Store, settings: Settings) -> ImportReport:
        with path.open(encoding="utf-8-sig") as lines:
            report = await ingest_rows(decode_lines(lines), store, pii_secret(settings.keys_dir))
        if report.by_kind.get("Sanction"):
            await backfill(store, catalogue(), date.today())
        return report

    with ThreadPoolExecutor(1) as pool:
        report = pool.submit(run_with_store, work, Settings()).result()
    assert not report.rejected, [(r.line, r.reason, r.message) for r in report.rejected[:5]]
    return report


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
    drv.execute_query = _moving_generation(drv.execute_query)  # type: ignore[method-assign]
    yield drv
    await drv.close()


def _moving_generation(execute_query: Any) -> Any:
    """Tests also change the graph with plain Cypher: such a change makes the API's kept
    answers stale as a write through a Store does (connectors/coordination/freshness.py)."""
    from connectors.coordination.freshness import generation_bump_at

    changed = generation_bump_at(get_settings().redis_url)

    async def run(*args: Any, **kwargs: Any) -> Any:
        result = await execute_query(*args, **kwargs)
        counters = result.summary.counters
        if counters.contains_updates or counters.contains_system_updates:
            await changed()
        return result

    return run


@pytest.fixture
def store(driver: AsyncDriver) -> Store:
    """The test database on the test driver: what graph functions take first; its writes move
    the cache generation on like the API's own."""
    from connectors.coordination.freshness import generation_bump_at
    from graph.db import Store

    return Store(driver, changed=generation_bump_at(get_settings().redis_url))


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
    deadline = time.monotonic() + 120  # a loaded 2-core machine takes long to import it all
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
    """A dev token; a department role's agency defaults to the unit of its division (the hub
    refuses a unit token whose division or level is not its unit's)."""
    from hub.http.auth.dev_tokens import mint_dev_token
    from hub.keys import dev_jwt_secret
    from policies.units import agency_code

    settings = get_settings()
    division_code = overrides.get("division_code", "150000")
    args = {
        "agency": "BANK-TEST" if role == "partner" else agency_code(division_code),
        "division_code": division_code,
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

    def every(self, query: str, field: str, items: str, cursor: str = "after") -> list[Any]:
        """Every item of a paged root field (``hasNextPage`` and ``endCursor`` beside its
        ``items``), page after page: the suite leaves other tests' rows before this test's."""
        found: list[Any] = []
        after = None
        while True:
            page: Any = self.data(query, {cursor: after})[field]
            found += page[items]
            if not page["hasNextPage"]:
                return found
            after = page["endCursor"]


def graphql(api: str, token: str, query: str, **variables: object) -> dict[str, Any]:
    """One GraphQL call with a bearer token; the whole answer (data and errors), HTTP 200."""
    response = httpx.post(
        f"{api}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
        timeout=15,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def upload_archive(api: str, token: str, path: Path) -> httpx.Response:
    """POST an archive file to ``{api}/archives`` as a browser form would, with a bearer token."""
    with path.open("rb") as file:
        return httpx.post(
            f"{api}/archives",
            files={"file": (path.name, file, "application/octet-stream")},
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )


@pytest.fixture
def partner(api: str) -> GraphQLClient:
    return GraphQLClient(api, mint("partner"))


CODE = "91152201MA0P00A019"  # completed with its check character in the fixture
ROWS = [
    {
        "kind": "Agency",
        "code": "NMG152201",
        "name": "乌兰浩特市自然资源局",
        "level": "BANNER",
        "division": "152201",
    },
    {
        "kind": "Project",
        "id": "P-API-1",
        "name": "乌兰浩特市2024年土地整治项目",
        "projectKind": "LAND_CONSOLIDATION",
        "division": "152201",
        "startedOn": "2024-03-01",
    },
    {
        "kind": "Subject",
        "creditCode": "@",
        "name": "兴安盟接口测试矿业有限公司",
        "subjectKind": "COMPANY",
        "division": "152201",
        "status": "ACTIVE",
        "registeredOn": "2012-04-01",
        "phones": ["0482-8200001"],
        "source": {"agency": "NMG152201", "system": "test"},
    },
    {"kind": "Person", "idNumber": "152201198001010023", "name": "王五"},
    {
        "kind": "Relation",
        "type": "LEGAL_REPRESENTATIVE_OF",
        "from": {"person": "152201198001010023"},
        "to": {"subject": "@"},
        "since": "2012-04-01",
    },
    {
        "kind": "Relation",
        "type": "PARTICIPATES_IN",
        "from": {"subject": "@"},
        "to": {"project": "P-API-1"},
        "role": "BIDDER",
    },
    {
        "kind": "Licence",
        "id": "L-API-1",
        "licenceKind": "MINING",
        "number": "C1522002012041120120001",
        "holder": "@",
        "issuer": "NMG152201",
        "issuedOn": "2012-05-01",
    },
    {
        "kind": "CreditRecord",
        "id": "R-API-PUBLIC",
        "subject": "@",
        "agency": "NMG152201",
        "item": "ADMIN_PENALTY",
        "category": "DISHONEST",
        "tier": "SERIOUS",
        "title": "非法采矿",
        "decidedOn": "2024-06-01",
        "status": "PUBLISHED",
        "disclosure": "PUBLIC",
    },
    {
        "kind": "CreditRecord",
        "id": "R-API-SHARED",
        "subject": "@",
        "agency": "NMG152201",
        "item": "MINING_FILING_ABNORMAL",
        "category": "DISHONEST",
        "tier": "MINOR",
        "title": "年度信息未按期填报",
        "decidedOn": "2023-06-01",
        "status": "PUBLISHED",
        "disclosure": "SHARED",
    },
    {
        "kind": "CreditRecord",
        "id": "R-API-RESTRICTED",
        "subject": "@",
        "agency": "NMG152201",
        "item": "ADMIN_PENALTY",
        "category": "DISHONEST",
        "tier": "GENERAL",
        "title": "内部核查线索",
        "decidedOn": "2023-01-01",
        "status": "PUBLISHED",
        "disclosure": "RESTRICTED",
    },
    {
        "kind": "CreditRecord",
        "id": "R-API-CONFIDENTIAL",
        "subject": "@",
        "agency": "NMG152201",
        "item": "COURT_JUDGMENT",
        "category": "DISHONEST",
        "tier": "SERIOUS",
        "title": "移送公安案件",
        "decidedOn": "2023-02-01",
        "status": "PUBLISHED",
        "disclosure": "CONFIDENTIAL",
    },
    {
        "kind": "CreditRecord",
        "id": "R-API-PENDING",
        "subject": "@",
        "agency": "NMG152201",
        "item": "ADMIN_PENALTY",
        "category": "DISHONEST",
        "tier": "GENERAL",
        "title": "待审核",
        "decidedOn": "2024-09-01",
        "status": "PENDING",
        "disclosure": "PUBLIC",
    },
    {
        "kind": "Sanction",
        "id": "S-API-1",
        "subject": "@",
        "authority": "NMG152201",
        "listing": "SERIOUS_DISHONESTY",
        "basedOn": ["R-API-PUBLIC"],
        "startDate": "2024-06-01",
        "endDate": "2027-06-01",
        "status": "ACTIVE",
        "measures": ["BID_RESTRICTED", "LAND_AUCTION_BARRED"],
    },
    {
        "kind": "Rating",
        "id": "RT-API-1",
        "subject": "@",
        "score": 15,
        "grade": "C",
        "modelVersion": "test-1",
        "computedAt": "2026-11-01T00:00:00+08:00",
        "measures": ["BIDDING_RESTRICTED", "KEY_SUPERVISION_TARGET", "CREDIT_RISK_WARNING"],
    },
]


@pytest.fixture(scope="session")
def code(api: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """One subject with a record of every class, a pending one, a sanction and a rating."""
    from graph.identifiers import uscc_check_char

    full = CODE[:17] + uscc_check_char(CODE[:17])
    text = "\n".join(json.dumps(r, ensure_ascii=False).replace('"@"', f'"{full}"') for r in ROWS)
    file = tmp_path_factory.mktemp("api") / "subject.jsonl"
    file.write_text(text + "\n", encoding="utf-8")
    import_file(file)
    return full


# Partner identity providers, for tests/hub/test_tokens.py. The API reads this file when it
# starts; the keys behind each jwks_uri are whatever the tests put into the `jwks` server.
PARTNER_ISSUER = "https://idp.bank-test.example"  # RS256 and ES256, may speak for BANK-TEST only
ROTATING_ISSUER = "https://idp.rotating.example"  # RS256, any agency; its keys rotate in tests
get_settings().issuers_file.parent.mkdir(parents=True, exist_ok=True)
get_settings().issuers_file.write_text(
    f"""issuers:
  - issuer: {PARTNER_ISSUER}
    jwks_uri: http://127.0.0.1:{JWKS_PORT}/bank
    algorithms: [RS256, ES256]
    agencies: [BANK-TEST]
    max_clearance: SHARED
  - issuer: {ROTATING_ISSUER}
    jwks_uri: http://127.0.0.1:{JWKS_PORT}/rotating
    algorithms: [RS256]
""",
    encoding="utf-8",
)


# The portal's OpenID provider (the `oidc` fixture, tests/oidc.py), read when the API starts.
(TEST_DATA / "signin.yaml").write_text(signin_yaml(), encoding="utf-8")


class JwksServer(ThreadingHTTPServer):
    """Identity providers' key sets over real HTTP: ``sets[path]`` is served as a JWKS, a path
    without a set answers 503 (an IdP that is down), and ``hits`` counts requests per path."""

    def __init__(self, port: int) -> None:
        super().__init__(("127.0.0.1", port), _JwksHandler)
        self.sets: dict[str, list[dict[str, object]]] = {}
        self.hits: Counter[str] = Counter()


class _JwksHandler(BaseHTTPRequestHandler):
    server: JwksServer

    def do_GET(self) -> None:
        self.server.hits[self.path] += 1
        keys = self.server.sets.get(self.path)
        body = json.dumps({"keys": keys}).encode() if keys is not None else b"{}"
        self.send_response(200 if keys is not None else 503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the tests assert on ``hits``, not on a log."""


@pytest.fixture(scope="session")
def jwks() -> Iterator[JwksServer]:
    server = JwksServer(JWKS_PORT)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def start_api(port: int, log_name: str, **env: str) -> subprocess.Popen[bytes]:
    """Another real API process on ``port`` with extra settings, ready when this returns."""
    log = (TEST_DATA / "logs" / f"{log_name}.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "hub", "serve", "--workers", "1"],
        cwd=PROJECT_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "HUB_PORT": str(port), **env},
        start_new_session=True,  # its own group: stop_process signals the group, children too
    )
    deadline = time.monotonic() + 120  # a loaded 2-core machine takes long to import it all
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"API did not start; see {TEST_DATA / 'logs' / f'{log_name}.log'}")


def partner_claims(**changes: object) -> dict[str, object]:
    """A bank's valid claims for the dev issuer; a change of None drops that claim."""
    settings = get_settings()
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": "x",
        "iat": now,
        "exp": now + 300,
        "agency": "BANK-TEST",
        "level": "PARTNER",
        "division": "150000",
        "roles": ["partner"],
        "clearance": "SHARED",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def unit_token(role: str, agency: str, person: str, clearance: str = "RESTRICTED") -> str:
    """A dev token for one named person of a department unit (NMG + division), so tests can
    tell two reviewers of the same unit apart."""
    import jwt

    from hub.keys import dev_jwt_secret
    from policies.divisions import find_division

    division = agency.removeprefix("NMG")
    found = find_division(division)
    assert found is not None, division
    claims = partner_claims(
        sub=person,
        agency=agency,
        level=found.level.value,
        division=division,
        roles=[role],
        clearance=clearance,
    )
    return jwt.encode(claims, dev_jwt_secret(get_settings().keys_dir), algorithm="HS256")


# --- Celery worker and beat delivering to partners ------------------------------------------

FAST_RULES = {  # the shipped waits are minutes; the same logic in seconds
    "max_attempts: 8": "max_attempts: 4",
    "backoff_seconds: 2 ": "backoff_seconds: 0.2 ",
    "backoff_max_seconds: 600": "backoff_max_seconds: 1",
    "timeout_seconds: 10": "timeout_seconds: 1",
}


@pytest.fixture(scope="session")
def rules() -> tuple[Path, Catalogue]:
    text = MEASURES_FILE.read_text(encoding="utf-8")
    for old, new in FAST_RULES.items():
        assert old in text, old
        text = text.replace(old, new)
    path = TEST_DATA / "measures-fast.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path, parse_measures(text, str(path))


def _spawn(name: str, rules_file: Path, *args: str) -> subprocess.Popen[bytes]:
    logs = TEST_DATA / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [sys.executable, "-m", "hub", name, *args],
        cwd=PROJECT_ROOT,
        stdout=(logs / f"delivery-{name}.log").open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "HUB_MEASURES_FILE": str(rules_file)},
    )


@dataclass
class Workers:
    rules_file: Path
    worker: subprocess.Popen[bytes]
    beat: subprocess.Popen[bytes]

    def restart_worker(self) -> None:
        self.worker = _spawn("worker", self.rules_file, "--concurrency", "4")

    def answers(self, redis_url: str, seconds: float) -> bool:
        """Whether the worker runs a heartbeat sent now within ``seconds``."""
        from connectors.celery_app import HEARTBEAT_KEY, app

        client = redis_lib.Redis.from_url(redis_url)
        sent = time.time()
        try:
            app.send_task("connectors.tasks.heartbeat", expires=seconds)
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                if float(client.get(HEARTBEAT_KEY) or 0) >= sent:
                    return True
                time.sleep(0.05)
            return False
        finally:
            client.close()

    def ensure_responsive(self, redis_url: str, test: str) -> None:
        """A worker whose every process is stuck fails every later delivery test: note what it
        was doing in ``stuck-workers.log`` (printed at the end of the run) and start a new one."""
        beat_dead = self.beat.poll() is not None
        if self.worker.poll() is None and not beat_dead and self.answers(redis_url, 15):
            return
        children = subprocess.run(
            ["ps", "-o", "pid,stat,etime,time,wchan:20,args", "--ppid", str(self.worker.pid)],
            capture_output=True, text=True, check=False,
        ).stdout  # fmt: skip
        log = (TEST_DATA / "logs" / "delivery-worker.log").read_text(errors="replace")
        tail = "\n".join(log.splitlines()[-60:])
        with STUCK_LOG.open("a") as out:
            out.write(
                f"\n== before {test}: worker exit={self.worker.poll()} beat exit="
                f"{self.beat.poll()}; restarted\n{children}\n-- worker log tail --\n{tail}\n"
            )
        services.stop_processes([self.worker.pid], timeout=5)
        self.restart_worker()
        if beat_dead:
            self.beat = _spawn("beat", self.rules_file)


STUCK_LOG = TEST_DATA / "logs" / "stuck-workers.log"


@pytest.fixture(scope="session")
def shared_workers(
    redis_server: str, migrated: None, rules: tuple[Path, Catalogue]
) -> Iterator[Workers]:
    """One Celery worker and beat for the whole suite: started by the first test that needs
    them (a cold start costs seconds each time), stopped at its end. A test that kills the
    worker starts it again (``restart_worker``) before it returns."""
    running = Workers(
        rules[0],
        _spawn("worker", rules[0], "--concurrency", "4"),
        _spawn("beat", rules[0]),
    )
    _SHARED.append(running)
    yield running
    _SHARED.remove(running)
    services.stop_processes([running.worker.pid, running.beat.pid], timeout=20)
    for proc in (running.worker, running.beat):
        proc.wait(timeout=5)


_SHARED: list[Workers] = []  # the session's shared worker and beat, once started


@pytest.fixture
def workers_paused() -> Iterator[None]:
    """For a test that runs delivery lanes in-process: the session's shared worker and beat,
    if started, are stopped (SIGSTOP) so that neither takes the test's lanes, and go on after."""
    with _frozen([p for w in _SHARED for p in (w.worker, w.beat)]):
        yield


@contextmanager
def _frozen(procs: list[subprocess.Popen[bytes]]) -> Iterator[None]:
    """The process groups of ``procs`` still running, stopped (SIGSTOP) for the block."""
    groups = [proc.pid for proc in procs if proc.poll() is None]
    for pid in groups:
        os.killpg(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in groups:
            os.killpg(pid, signal.SIGCONT)


@pytest.fixture
def shared_worker_stopped() -> Iterator[None]:
    """For a test whose tasks must reach a worker of its own (other settings, one at a time):
    the session's shared worker, if started, is stopped and started again after, and its beat
    paused (SIGSTOP). A stopped worker cannot be SIGSTOPped instead: Redis hands a queued task
    to its blocked pop all the same, and the task waits in a frozen process."""
    running = [w for w in _SHARED if w.worker.poll() is None]
    services.stop_processes([w.worker.pid for w in running], timeout=20)
    try:
        with _frozen([w.beat for w in _SHARED]):
            yield
    finally:
        for w in running:
            w.restart_worker()


@pytest.fixture
def workers(shared_workers: Workers, redis_server: str, request: pytest.FixtureRequest) -> Workers:
    """The shared worker and beat, checked to answer before the test relies on them, with
    no earlier test's partner left to deliver to."""
    retire_unreachable_partners()
    shared_workers.ensure_responsive(redis_server, request.node.nodeid)
    return shared_workers


def retire_unreachable_partners() -> int:
    """Disable every active partner whose endpoint nobody listens on any more: earlier tests'
    partners, whose servers stopped with them. Left active, each new listing of a later test
    fans out to all of them, and the shared worker spends its time retrying posts that cannot
    arrive while the test's own deliveries wait (the CI run that failed 13 delivery tests)."""
    from neo4j import GraphDatabase

    with GraphDatabase.driver(get_settings().neo4j_uri) as sync_driver:
        records, _, _ = sync_driver.execute_query(
            "MATCH (p:Partner {status: 'ACTIVE'}) WHERE p.endpoint IS NOT NULL "
            "RETURN p.code AS code, p.endpoint AS endpoint"
        )
        gone = [r["code"] for r in records if not _listening(r["endpoint"])]
        if gone:
            sync_driver.execute_query(
                "MATCH (p:Partner) WHERE p.code IN $gone SET p.status = 'DISABLED'", gone=gone
            )
    return len(gone)


def _listening(endpoint: str) -> bool:
    url = httpx.URL(endpoint)
    if url.host not in ("127.0.0.1", "localhost") or url.port is None:
        return False  # tests' partners outside loopback are never reachable here
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", url.port)) == 0


def pytest_configure(config: pytest.Config) -> None:
    """Resolve Neo4j's runtime once, before the suite's processes each start a Neo4j from it."""
    if not hasattr(config, "workerinput"):
        services.launcher_runtime(PROJECT_ROOT / ".data" / "cache")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """What a stuck shared worker was doing, where a CI log shows it (any suite process's)."""
    for log in sorted(SUITE_DATA.glob(f"**/logs/{STUCK_LOG.name}")):
        terminalreporter.section(f"stuck workers ({log.relative_to(SUITE_DATA)})")
        terminalreporter.write(log.read_text(errors="replace")[-20_000:])


@pytest.fixture
def lone_worker(
    redis_server: str, migrated: None, rules: tuple[Path, Catalogue], shared_worker_stopped: None
) -> Iterator[subprocess.Popen[bytes]]:
    """One worker process and no beat: tasks run one at a time, in the order a test sends
    them, and none runs on its own as of the real day. The session's shared worker, if
    started, is stopped meanwhile: it would take some of the tasks, in its own order."""
    proc = _spawn("worker", rules[0], "--concurrency", "1")
    yield proc
    services.stop_processes([proc.pid], timeout=20)
    proc.wait(timeout=5)
