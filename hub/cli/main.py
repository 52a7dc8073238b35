"""The ``hub`` command line."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlparse

import httpx
import typer
from neo4j import AsyncDriver

from graph.archive.ingest import ImportReport, decode_lines, ingest_rows
from graph.migrations import MIGRATIONS, Migration, applied_versions, migrate
from hub.cli import services
from hub.cli.archive import app as archive_app
from hub.cli.archive import assess_cmd, rate_cmd
from hub.cli.audit import app as audit_app
from hub.cli.certificates import app as certificates_app
from hub.cli.feeds import app as feeds_app
from hub.cli.kit import err, fail, progress_bar, with_driver
from hub.cli.operations import app as operations_app
from hub.cli.outbox import app as outbox_app
from hub.cli.outbox import run_backfill
from hub.cli.partners import app as partners_app
from hub.cli.schema import schema_cmd
from hub.cli.search import reindex_cmd
from hub.http.auth import mint_dev_token
from hub.keys import dev_jwt_secret, pii_secret
from hub.settings import Settings, get_settings
from policies.divisions import REGION_CODE
from policies.principal import ROLES, Clearance
from policies.units import units_by_code

app = typer.Typer(help="Credit information exchange hub.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
app.add_typer(operations_app, name="operations")
app.add_typer(archive_app, name="archive")
app.add_typer(partners_app, name="partners")
app.add_typer(feeds_app, name="feeds")
app.add_typer(outbox_app, name="outbox")
app.add_typer(certificates_app, name="certificates")
app.command("rate")(rate_cmd)
app.command("assess")(assess_cmd)
app.command("reindex")(reindex_cmd)
app.command("schema")(schema_cmd)


@app.command()
def serve(
    workers: Annotated[int | None, typer.Option(help="Worker processes.")] = None,
) -> None:
    """Run the API (uvicorn)."""
    import uvicorn

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
        access_log=False,
        timeout_graceful_shutdown=10,
    )


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(help="Worker processes.")] = 2,
) -> None:
    """Run a Celery worker."""
    from connectors.celery_app import app as celery

    celery.worker_main(["worker", "--loglevel=INFO", f"--concurrency={concurrency}"])


@app.command()
def beat() -> None:
    """Run the Celery beat scheduler."""
    from connectors.celery_app import app as celery

    schedule = get_settings().data_dir / "run" / "celerybeat-schedule"
    schedule.parent.mkdir(parents=True, exist_ok=True)
    celery.start(["beat", "--loglevel=INFO", f"--schedule={schedule}"])


def _print_migration(migration: Migration, new: bool) -> None:
    state = "applied" if new else "already applied"
    err.print(f"migration {migration.version}: {migration.description} ({state})")


@app.command("migrate")
def migrate_cmd() -> None:
    """Create constraints and indexes (idempotent, versioned)."""

    async def work(driver: AsyncDriver, settings: Settings) -> list[int]:
        return await migrate(driver, settings.neo4j_database, _print_migration)

    new = with_driver(work)
    err.print(f"schema at version {MIGRATIONS[-1].version}; {len(new)} new migration(s)")


def _print_report(report: ImportReport, seconds: float, show: int = 50) -> None:
    rate = report.accepted / seconds if seconds else 0.0
    err.print(
        f"read {report.read} lines: {report.accepted} accepted, {len(report.rejected)} rejected "
        f"in {seconds:.1f} s ({rate:,.0f} rows/s)"
    )
    for rejection in report.rejected[:show]:
        err.print(f"  line {rejection.line}: {rejection.reason}: {rejection.message}")
    if len(report.rejected) > show:
        err.print(f"  ... and {len(report.rejected) - show} more (use --report FILE)")


def _store(rows: Iterable[Any], label: str, batch: int) -> tuple[ImportReport, float]:
    """Validate and write rows with a progress display; the report and the seconds taken."""
    settings = get_settings()
    secret = pii_secret(settings.keys_dir)
    started = time.monotonic()
    with progress_bar(label) as bar:
        task = bar.add_task(label, total=None, note="")

        def tick(report: ImportReport) -> None:
            bar.update(task, completed=report.read, note=f"{len(report.rejected)} rejected")
            if not bar.console.is_terminal and os.environ.get("HUB_PROGRESS_LOG") == "1":
                err.print(f"{label}: {report.read} rows")

        async def work(driver: AsyncDriver, s: Settings) -> ImportReport:
            return await ingest_rows(
                rows, driver, s.neo4j_database, secret, batch_size=batch, progress=tick
            )

        report = with_driver(work)
    return report, time.monotonic() - started


@app.command()
def seed(
    subjects: Annotated[int, typer.Option(help="How many subjects.")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same data.")] = 42,
    out: Annotated[Path | None, typer.Option(help="Write JSON Lines here instead.")] = None,
    batch: Annotated[int, typer.Option(help="Rows per write transaction.")] = 10000,
    if_empty: Annotated[bool, typer.Option(help="Only when the graph has no subject.")] = False,
) -> None:
    """Build a realistic, deterministic demo graph (or write it as JSON Lines)."""
    from demo.seed import generate

    if if_empty and out is None and with_driver(_subject_count) > 0:
        err.print("the graph already has subjects; not seeding")
        return

    if out is not None:
        started = time.monotonic()
        count = 0
        with out.open("w", encoding="utf-8") as handle:
            for row in generate(subjects, seed):
                handle.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")))
                handle.write("\n")
                count += 1
        err.print(f"wrote {count} rows to {out} in {time.monotonic() - started:.1f} s")
        return
    report, seconds = _store(generate(subjects, seed), f"seeding {subjects} subjects", batch)
    _print_report(report, seconds)
    run_backfill()  # seeded listings reach the feed like decided ones
    if report.rejected:
        raise fail("the generator produced rows the importer refused (a bug: report it)")


async def _subject_count(driver: AsyncDriver, settings: Settings) -> int:
    records, _, _ = await driver.execute_query(
        "MATCH (n:Subject) RETURN count(n) AS n", database_=settings.neo4j_database
    )
    return int(records[0]["n"])


def _lines(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8-sig") as handle:
        yield from handle


@app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="A JSON Lines file (docs/data-format.md).")],
    report_file: Annotated[
        Path | None, typer.Option("--report", help="Write the full report as JSON here.")
    ] = None,
    batch: Annotated[int, typer.Option(help="Rows per write transaction.")] = 5000,
) -> None:
    """Load a JSON Lines file: each line validated, bad lines reported, good lines kept."""
    if not file.is_file():
        raise fail(f"{file} is not a file")
    report, seconds = _store(decode_lines(_lines(file)), f"importing {file.name}", batch)
    _print_report(report, seconds)
    if report.by_kind.get("Sanction"):
        run_backfill()  # imported listings reach the feed like decided ones
    if report_file is not None:
        report_file.write_text(json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
    if report.rejected:
        raise typer.Exit(3)  # partial success: good rows stored, some refused


@app.command()
def token(
    role: Annotated[str, typer.Option(help=f"One of {', '.join(sorted(ROLES))}.")],
    agency: Annotated[str, typer.Option(help="The caller's organisation code.")],
    division: Annotated[
        str | None,
        typer.Option(help="6-digit division; a unit's own by default, 150000 for a partner."),
    ] = None,
    clearance: Annotated[str | None, typer.Option(help="PUBLIC … CONFIDENTIAL.")] = None,
    purpose: Annotated[str | None, typer.Option(help="Why the calls are made.")] = None,
    ttl: Annotated[
        int, typer.Option(help="Lifetime in seconds, at most HUB_JWT_MAX_LIFETIME.")
    ] = 3600,
) -> None:
    """Print a development token, alone on standard output."""
    if role not in ROLES:
        raise fail(f"role must be one of {', '.join(sorted(ROLES))}")
    level = clearance or ("SHARED" if role == "partner" else "RESTRICTED")
    if level not in Clearance.__members__:
        raise fail("clearance must be PUBLIC, SHARED, RESTRICTED or CONFIDENTIAL")
    settings = get_settings()
    if not 0 < ttl <= settings.jwt_max_lifetime:
        # The hub would refuse a longer-lived token: say so now, not at the first request.
        raise fail(f"--ttl must be from 1 to {settings.jwt_max_lifetime} (HUB_JWT_MAX_LIFETIME)")
    if division is None:  # a unit's token carries its unit's division, or the hub refuses it
        unit = units_by_code().get(agency)
        division = unit.division if unit is not None and role != "partner" else REGION_CODE
    try:
        signed = mint_dev_token(
            dev_jwt_secret(settings.keys_dir),
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            role=role,
            agency=agency,
            division_code=division,
            clearance=level,
            purpose=purpose,
            ttl=ttl,
        )
    except Exception as exc:
        raise fail(str(exc)) from None
    typer.echo(signed)


def _hostport(url: str, default: int) -> tuple[str, int]:
    parsed = urlparse(url)
    return parsed.hostname or "127.0.0.1", parsed.port or default


@app.command()
def status() -> None:
    """What runs, what the graph holds, whether workers answer."""
    import redis

    from connectors.audit_drain import AUDIT_STREAM
    from connectors.tasks import HEARTBEAT_KEY

    settings = get_settings()
    run_dir = settings.data_dir / "run"
    for name in ("neo4j", "redis", "api", "worker", "beat"):
        pid = services.read_pid(run_dir, name)
        typer.echo(f"{name:8} {'running, pid ' + str(pid) if pid else 'not started by hub up'}")

    async def graph(driver: AsyncDriver, s: Settings) -> dict[str, Any]:
        versions = await applied_versions(driver, s.neo4j_database)
        return {"schema": max(versions, default=0), "subjects": await _subject_count(driver, s)}

    try:
        info = with_driver(graph)
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
    try:
        ready = httpx.get(f"{settings.base_url}/readyz", timeout=3)
        typer.echo(f"api      {settings.base_url}: {ready.status_code} {ready.text}")
    except httpx.HTTPError as exc:
        typer.echo(f"api      {settings.base_url}: unreachable ({type(exc).__name__})")


def _start(run_dir: Path, logs: Path, name: str, command: list[str]) -> None:
    if services.read_pid(run_dir, name):
        err.print(f"{name}: already running")
        return
    proc = services.spawn(command, logs / f"{name}.log")
    services.write_pid(run_dir, name, proc.pid)
    err.print(f"{name}: started (pid {proc.pid}, log {logs / f'{name}.log'})")


@app.command()
def up(
    demo_subjects: Annotated[
        int, typer.Option(help="Subjects to seed into an empty graph.")
    ] = 2000,
) -> None:
    """Start Neo4j, Redis, the API, a worker and beat; migrate; seed an empty graph."""
    settings = get_settings()
    run_dir, logs = settings.data_dir / "run", settings.data_dir / "logs"
    neo_host, neo_port = _hostport(settings.neo4j_uri, 7687)
    redis_host, redis_port = _hostport(settings.redis_url, 6379)
    try:
        if not services.read_pid(run_dir, "neo4j"):
            err.print(
                f"neo4j: starting on {neo_host}:{neo_port} (first start resolves Maven "
                "artifacts, a few minutes)"
            )
            spec = services.Neo4jSpec(
                settings.data_dir / "neo4j",
                neo_host,
                neo_port,
                os.environ.get("NEO4J_PAGECACHE", "2g"),
                os.environ.get("NEO4J_HEAP", "2g"),
            )
            proc = services.start_neo4j(spec, settings.data_dir / "cache", logs / "neo4j.log")
            services.write_pid(run_dir, "neo4j", proc.pid)
        if not services.read_pid(run_dir, "redis"):
            err.print(f"redis: starting on {redis_host}:{redis_port}")
            proc = services.start_redis(
                services.RedisSpec(settings.data_dir / "redis", redis_host, redis_port),
                logs / "redis.log",
            )
            services.write_pid(run_dir, "redis", proc.pid)
    except services.ServiceError as exc:
        raise fail(str(exc)) from None
    migrate_cmd()

    if with_driver(_subject_count) == 0:
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


def _wait_ready(settings: Settings, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{settings.base_url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise fail(f"the API did not become ready; see {settings.data_dir / 'logs' / 'api.log'}")


_DEMO_ROLES = (  # role, agency, division, clearance, purpose
    ("partner", "BANK-ICBC-NMG", "150000", "SHARED", "loan-review"),
    ("investigator", "NMG150000", "150000", "CONFIDENTIAL", "investigation:DEMO-2026-001"),
    ("submitter", "NMG152201", "152201", "RESTRICTED", None),
    ("reviewer", "NMG152200", "152200", "RESTRICTED", None),
    ("admin", "NMG150000", "150000", "RESTRICTED", None),
)


def _welcome(settings: Settings) -> None:
    secret = dev_jwt_secret(settings.keys_dir)
    url = settings.base_url
    from hub.http.metrics import scrape_token  # prometheus-client only where it is used

    token = scrape_token(settings)
    scrape = f"Authorization: Bearer {token}" if token else "off: set HUB_METRICS_TOKEN"
    graphiql = f"\n  GraphiQL {url}/graphql in a browser" if settings.env == "development" else ""
    typer.echo(
        f"\nCredit hub is up.\n  GraphQL  POST {url}/graphql{graphiql}"
        f"\n  contract {url}/schema.graphql (your token's SDL)\n  health   {url}/healthz"
        f"\n  ready    {url}/readyz\n  metrics  {url}/metrics ({scrape})\n\nDemo tokens (1 day):"
    )
    tokens = {}
    for role, agency, div, clearance, purpose in _DEMO_ROLES:
        tokens[role] = mint_dev_token(
            secret,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            role=role,
            agency=agency,
            division_code=div,
            clearance=clearance,
            purpose=purpose,
            ttl=86400,
        )
        typer.echo(f"  {role:12} {tokens[role]}")
    from demo.seed import PLANTED

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


@app.command()
def down() -> None:
    """Stop what `hub up` started (API, beat, worker, Redis, Neo4j), cleanly."""
    run_dir = get_settings().data_dir / "run"
    for name in ("api", "beat", "worker", "redis", "neo4j"):
        if services.stop_named(run_dir, name, timeout=90):
            err.print(f"{name}: stopped")
        else:
            err.print(f"{name}: was not running")
