"""The local stack: ``hub serve``, ``hub worker`` and ``hub beat`` run one process in the
foreground; ``hub up`` starts them all (with Neo4j and Redis) in the background, ``hub status``
tells what runs, ``hub down`` stops it."""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from connectors.storage.base import StorageUnavailable
from connectors.storage.config import open_storage
from graph.db import Store
from graph.migrations import applied_versions
from hub.cli import services
from hub.cli.archive import rate_cmd
from hub.cli.data import migrate_cmd, seed, subject_count
from hub.cli.kit import err, fail, with_store
from hub.cli.tokens import dev_token
from hub.logs import configure_logging
from hub.settings import Settings, get_settings


def serve(
    workers: Annotated[int | None, typer.Option(help="Worker processes.")] = None,
) -> None:
    """Run the API (uvicorn)."""
    import uvicorn

    configure_logging()
    settings = get_settings()
    count = workers or settings.workers
    if count > 1:
        metrics_dir = settings.data_dir / "run" / f"prometheus-{settings.port}"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    uvicorn.run(
        "hub.http.app:create_app",
        factory=True,
        http="hub.http.header_deadline:HeaderDeadlineProtocol",  # slow headers are dropped
        host=settings.host,
        port=settings.port,
        workers=count,
        log_level="warning",
        log_config=None,  # uvicorn's records go through the root logger: JSON (hub/logs.py)
        access_log=False,
        timeout_graceful_shutdown=10,
    )


def worker(
    concurrency: Annotated[int, typer.Option(help="Worker processes.")] = 2,
) -> None:
    """Run a Celery worker."""
    from celery.signals import setup_logging

    from connectors.celery_app import app as celery

    setup_logging.connect(_json_logs)  # Celery leaves the root logger to hub/logs.py
    celery.worker_main(["worker", "--loglevel=INFO", f"--concurrency={concurrency}"])


def beat() -> None:
    """Run the Celery beat scheduler."""
    from celery.signals import setup_logging

    from connectors.celery_app import app as celery

    setup_logging.connect(_json_logs)
    schedule = get_settings().data_dir / "run" / "celerybeat-schedule"
    schedule.parent.mkdir(parents=True, exist_ok=True)
    celery.start(["beat", "--loglevel=INFO", f"--schedule={schedule}"])


def _json_logs(**_: Any) -> None:
    configure_logging()


def status() -> None:
    """What runs, what the graph holds, whether workers answer."""
    import redis

    from connectors.audit_drain import AUDIT_STREAM
    from connectors.celery_app import HEARTBEAT_KEY

    settings = get_settings()
    run_dir = settings.data_dir / "run"
    for name in ("neo4j", "redis", "api", "worker", "beat"):
        pid = services.read_pid(run_dir, name)
        typer.echo(f"{name:8} {'running, pid ' + str(pid) if pid else 'not started by hub up'}")

    async def graph(store: Store, s: Settings) -> dict[str, Any]:
        versions = await applied_versions(store)
        return {"schema": max(versions, default=0), "subjects": await subject_count(store, s)}

    try:
        info = with_store(graph)
        typer.echo(
            f"neo4j    {settings.neo4j_uri}: schema v{info['schema']}, {info['subjects']} subjects"
        )
    except Exception as exc:
        typer.echo(f"neo4j    {settings.neo4j_uri}: unreachable ({type(exc).__name__})")
    try:
        client = redis.Redis.from_url(settings.redis_url, socket_timeout=2)
        beat_at = client.get(HEARTBEAT_KEY)
        age = f"{time.time() - float(beat_at):.0f} s ago" if beat_at else "none yet"
        waiting = client.xlen(AUDIT_STREAM)  # grows while Neo4j or the worker is away
        typer.echo(
            f"redis    {settings.redis_url}: ok; last worker heartbeat {age}; "
            f"{waiting} audit entries waiting to be chained"
        )
    except Exception as exc:
        typer.echo(f"redis    {settings.redis_url}: unreachable ({type(exc).__name__})")
    storage = settings.storage_config
    try:  # a key nobody stores: the store answers, or says why not
        open_storage(storage).exists("status-probe")
        typer.echo(f"storage  {storage.where}: ok")
    except StorageUnavailable as exc:
        typer.echo(f"storage  {storage.where}: unreachable ({exc})")
    try:
        ready = httpx.get(f"{settings.base_url}/readyz", timeout=3)
        typer.echo(f"api      {settings.base_url}: {ready.status_code} {ready.text}")
    except httpx.HTTPError as exc:
        typer.echo(f"api      {settings.base_url}: unreachable ({type(exc).__name__})")


def _start(run_dir: Path, logs: Path, name: str, command: list[str]) -> None:
    if services.read_pid(run_dir, name):
        err.print(f"{name}: already running")
        return
    proc = services.spawn_rotated(command, logs / f"{name}.log")
    services.write_pid(run_dir, name, proc.pid)
    err.print(f"{name}: started (pid {proc.pid}, log {logs / f'{name}.log'})")


def up(
    demo_subjects: Annotated[
        int, typer.Option(help="Subjects to seed into an empty graph.")
    ] = 2000,
    stores_only: Annotated[
        bool, typer.Option("--stores-only", help="Only Neo4j and Redis (to `hub restore`).")
    ] = False,
) -> None:
    """Start Neo4j, Redis, the API, a worker and beat; migrate; seed an empty graph."""
    settings = get_settings()
    run_dir, logs = settings.data_dir / "run", settings.data_dir / "logs"
    try:
        services.start_stores(settings, err.print)
    except services.ServiceError as exc:
        raise fail(str(exc)) from None
    if stores_only:
        return
    migrate_cmd()

    if with_store(subject_count) == 0:
        seed(subjects=demo_subjects, seed=42, out=None, batch=10000)
        # Demo grades explained by the current model; no partner is registered yet to tell.
        rate_cmd(all_subjects=True, notify=False)
    else:
        err.print("the graph already has subjects; not seeding")
    hub = [sys.executable, "-m", "hub"]
    _start(run_dir, logs, "api", [*hub, "serve"])
    _start(run_dir, logs, "worker", [*hub, "worker"])
    _start(run_dir, logs, "beat", [*hub, "beat"])
    _wait_ready(settings)
    _welcome(settings)


def api_ready(base: str, seconds: float) -> bool:
    """Whether the API at ``base`` answers ``/readyz`` (Neo4j and Redis reachable from it)
    within ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    return False


def _wait_ready(settings: Settings, seconds: float = 60) -> None:
    if not api_ready(settings.base_url, seconds):
        raise fail(f"the API did not become ready; see {settings.data_dir / 'logs' / 'api.log'}")


_DEMO_ROLES = (  # role, agency, division, clearance, purpose
    ("partner", "BANK-ICBC-NMG", "150000", "SHARED", "loan-review"),
    ("investigator", "NMG150000", "150000", "CONFIDENTIAL", "investigation:DEMO-2026-001"),
    ("submitter", "NMG152201", "152201", "RESTRICTED", None),
    ("reviewer", "NMG152200", "152200", "RESTRICTED", None),
    ("admin", "NMG150000", "150000", "RESTRICTED", None),
)


def _welcome(settings: Settings) -> None:
    url = settings.base_url
    from hub.http.metrics import scrape_token  # prometheus-client only where it is used

    token = scrape_token(settings)
    scrape = f"Authorization: Bearer {token}" if token else "off: set HUB_METRICS_TOKEN"
    graphiql = f"\n  GraphiQL {url}/graphql in a browser" if settings.env == "development" else ""
    typer.echo(
        f"\nCredit hub is up.\n  portal   {url}/ (public, in Chinese)"
        f"\n  GraphQL  POST {url}/graphql{graphiql}"
        f"\n  contract {url}/schema.graphql (your token's SDL)\n  health   {url}/healthz"
        f"\n  ready    {url}/readyz\n  metrics  {url}/metrics ({scrape})"
        f"\n  uploads  {settings.storage_config.where} (HUB_STORAGE)\n\nDemo tokens (1 day):"
    )
    tokens = {}
    for role, agency, div, clearance, purpose in _DEMO_ROLES:
        tokens[role] = dev_token(settings, role, agency, div, clearance, purpose, 86400)
        typer.echo(f"  {role:12} {tokens[role]}")
    from demo.planted import PLANTED

    code = PLANTED.phoenix.sanctioned  # a seriously dishonest company, worth a look
    typer.echo(
        "\nTry:\n"
        f"  curl -s {url}/graphql -H 'Authorization: Bearer {tokens['partner']}' \\\n"
        "    -H 'Content-Type: application/json' \\\n"
        f'    -d \'{{"query":"{{ subject(creditCode: \\"{code}\\") {{ name status '
        "rating { grade score } sanctions { listing measures } } }\"}'\n"
        f"  curl -s {url}/graphql -H 'Authorization: Bearer {tokens['partner']}' \\\n"
        "    -H 'Content-Type: application/json' \\\n"
        '    -d \'{"query":"{ subjects(filter: {division: \\"152200\\"}, first: 5) '
        "{ edges { node { creditCode name grade } } pageInfo { hasNextPage endCursor } } }\"}'\n"
        "\nStop everything with `make down`."
    )


def down() -> None:
    """Stop what `hub up` started (API, beat, worker, Redis, Neo4j), cleanly."""
    run_dir = get_settings().data_dir / "run"
    # The stores' clients first, together; then the stores, together.
    for group in (["api", "beat", "worker"], ["redis", "neo4j"]):
        for name, was_running in services.stop_named(run_dir, group, timeout=90).items():
            err.print(f"{name}: stopped" if was_running else f"{name}: was not running")
