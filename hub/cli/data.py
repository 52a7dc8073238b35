"""``hub migrate``, ``hub seed``, ``hub import``, ``hub reindex``, ``hub outbox``, ``hub backup``
and ``hub restore``: the graph's schema, its bulk data, what a bulk load leaves to do (search
keys, the feed's events), and backups of it all."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from neo4j.exceptions import ServiceUnavailable, SessionExpired
from redis.exceptions import ConnectionError as RedisConnectionError

from graph.archive.bulk import BulkFiles, finish, write_bulk_files
from graph.archive.ingest import ImportReport, decode_lines, ingest_rows
from graph.db import Store
from graph.exchange.backfill import BackfillReport, backfill
from graph.migrations import MIGRATIONS, Migration, migrate
from graph.search import reindex_names
from hub.backup.file import BadBackup
from hub.backup.run import BackupError, Progress, backup, restore
from hub.cli import services
from hub.cli.kit import err, fail, progress_bar, with_store
from hub.keys import pii_secret
from hub.settings import Settings, catalogue, get_settings


def _print_migration(migration: Migration, new: bool) -> None:
    state = "applied" if new else "already applied"
    err.print(f"migration {migration.version}: {migration.description} ({state})")


def migrate_cmd() -> None:
    """Create constraints and indexes (idempotent, versioned)."""

    async def work(store: Store, settings: Settings) -> list[int]:
        return await migrate(store, _print_migration)

    new = with_store(work)
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


@contextmanager
def _row_progress(label: str) -> Iterator[Callable[[ImportReport], None]]:
    """A progress display of the rows read and refused; yields what updates it."""
    settings = get_settings()
    with progress_bar(label) as bar:
        task = bar.add_task(label, total=None, note="")

        def tick(report: ImportReport) -> None:
            bar.update(task, completed=report.read, note=f"{len(report.rejected)} rejected")
            if not bar.console.is_terminal and settings.progress_log:
                err.print(f"{label}: {report.read} rows")

        yield tick


def _store(rows: Iterable[Any], label: str, batch: int) -> tuple[ImportReport, float]:
    """Validate and write rows with a progress display; the report and the seconds taken."""
    settings = get_settings()
    secret = pii_secret(settings.keys_dir)
    started = time.monotonic()
    with _row_progress(label) as tick:

        async def work(store: Store, s: Settings) -> ImportReport:
            return await ingest_rows(rows, store, secret, batch_size=batch, progress=tick)

        report = with_store(work)
    return report, time.monotonic() - started


BULK_HELP = (
    "Build a new store with Neo4j's bulk importer (Neo4j stopped, no store yet), then start "
    "Neo4j and Redis, migrate and fill the feed."
)


def _bulk_load(rows: Iterable[Any], label: str) -> ImportReport:
    """Validate rows into the bulk importer's files, import them into a new store, start the
    stores and do what a load leaves to do (migrations, the feed's backfill)."""
    settings = get_settings()
    spec = services.neo4j_spec(settings)
    if services.read_pid(settings.data_dir / "run", "neo4j") or services.port_open(
        spec.host, spec.port
    ):
        raise fail(
            f"Neo4j is running on {spec.host}:{spec.port}: the bulk importer builds the store "
            "itself; stop it with `hub down` first (or load into it without --bulk)"
        )
    if services.store_files(spec).exists():
        raise fail(
            f"{services.store_files(spec)} holds a graph already: --bulk only builds a new "
            "store; load into it without --bulk (after `hub up`), or move it away first"
        )
    directory = settings.data_dir / "bulk"
    shutil.rmtree(directory, ignore_errors=True)
    started = time.monotonic()
    with _row_progress(label) as tick:
        secret = pii_secret(settings.keys_dir)
        report, files = write_bulk_files(
            rows, secret, directory, datetime.now(UTC), tick, workers=os.cpu_count() or 1
        )
    _print_report(report, time.monotonic() - started)
    err.print(f"bulk import of {report.accepted:,} rows into {spec.home} (neo4j-admin)")
    try:
        services.bulk_import(
            spec, settings.data_dir / "cache", files.arguments(), directory / "import.report"
        )
        shutil.rmtree(directory)
        services.start_stores(settings, err.print)
    except services.ServiceError as exc:
        raise fail(str(exc)) from None
    migrate_cmd()
    _finish(files)
    run_backfill()
    err.print(
        f"loaded in {time.monotonic() - started:.1f} s; Neo4j and Redis are running: "
        "`hub up` starts the API, a worker and beat"
    )
    return report


def _finish(files: BulkFiles) -> None:
    async def work(store: Store, settings: Settings) -> int:
        return await finish(store, files)

    if set_after := with_store(work):
        err.print(f"{set_after} empty lists set after the import")


def seed(
    subjects: Annotated[int, typer.Option(help="How many subjects.")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same data.")] = 42,
    out: Annotated[Path | None, typer.Option(help="Write JSON Lines here instead.")] = None,
    batch: Annotated[int, typer.Option(help="Rows per write transaction.")] = 10000,
    if_empty: Annotated[bool, typer.Option(help="Only when the graph has no subject.")] = False,
    bulk: Annotated[bool, typer.Option("--bulk", help=BULK_HELP)] = False,
) -> None:
    """Build a realistic, deterministic demo graph (or write it as JSON Lines)."""
    from demo.seed import generate

    if bulk:
        if out is not None or if_empty:
            raise fail("--bulk builds a new store: it takes neither --out nor --if-empty")
        report = _bulk_load(generate(subjects, seed), f"seeding {subjects} subjects")
        if report.rejected:
            raise fail("the generator produced rows the importer refused (a bug: report it)")
        return
    if if_empty and out is None and with_store(subject_count) > 0:
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


async def subject_count(store: Store, settings: Settings) -> int:
    records = await store.execute("MATCH (n:Subject) RETURN count(n) AS n", read=True)
    return int(records[0]["n"])


def _lines(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8-sig") as handle:
        yield from handle


def import_cmd(
    file: Annotated[Path, typer.Argument(help="A JSON Lines file (docs/data-format.md).")],
    report_file: Annotated[
        Path | None, typer.Option("--report", help="Write the full report as JSON here.")
    ] = None,
    batch: Annotated[int, typer.Option(help="Rows per write transaction.")] = 5000,
    bulk: Annotated[bool, typer.Option("--bulk", help=BULK_HELP)] = False,
) -> None:
    """Load a JSON Lines file: each line validated, bad lines reported, good lines kept."""
    if not file.is_file():
        raise fail(f"{file} is not a file")
    if bulk:
        report = _bulk_load(decode_lines(_lines(file)), f"importing {file.name}")
    else:
        report, seconds = _store(decode_lines(_lines(file)), f"importing {file.name}", batch)
        _print_report(report, seconds)
        if report.by_kind.get("Sanction"):
            run_backfill()  # imported listings reach the feed like decided ones
    if report_file is not None:
        report_file.write_text(json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
    if report.rejected:
        raise typer.Exit(3)  # partial success: good rows stored, some refused


outbox_app = typer.Typer(
    help="The outbox behind the sanction feed and webhooks.", no_args_is_help=True
)


def run_backfill() -> BackfillReport:
    """Announce the listings the seed or an import wrote without events; print what it did."""

    async def work(store: Store, s: Settings) -> BackfillReport:
        return await backfill(store, catalogue(), date.today())

    report = with_store(work)
    err.print(
        f"feed backfill: {report.compared} listings compared, {report.listed} announced as "
        f"listed, {report.ended} as ended, {report.deliveries} deliveries queued in "
        f"{report.seconds:.1f} s"
    )
    return report


@outbox_app.command("backfill")
def backfill_cmd() -> None:
    """Write the outbox events of listings that entered by the seed or `hub import` (idempotent:
    `hub seed` and `hub import` run it after loading; run it again after a restore)."""
    run_backfill()


def reindex_cmd(
    everything: Annotated[
        bool,
        typer.Option("--all", help="Rewrite every name's keys (after the name rules changed)."),
    ] = False,
    batch: Annotated[int, typer.Option(help="Names per transaction.", min=100)] = 5000,
) -> None:
    """Write the normalised, pinyin and initials keys that name search uses (policies/names.py)
    for subjects and people that lack them; with --all, for every one."""
    started = time.monotonic()
    with progress_bar("search keys") as bar:
        task = bar.add_task("reindex", total=None, note="")

        async def work(store: Store, s: Settings) -> dict[str, int]:
            return await reindex_names(
                store,
                everything=everything,
                batch_size=batch,
                progress=lambda label, n: bar.update(task, completed=n, note=label),
            )

        written = with_store(work)
    seconds = time.monotonic() - started
    total = sum(written.values())
    err.print(
        f"search keys written for {written['Subject']:,} subjects and {written['Person']:,} "
        f"people in {seconds:.1f} s ({total / seconds if seconds else 0:,.0f}/s)"
    )


STORES_DOWN = (ServiceUnavailable, SessionExpired, RedisConnectionError)


def _stores_down(exc: Exception) -> typer.Exit:
    settings = get_settings()
    return fail(
        f"Neo4j at {settings.neo4j_uri} or Redis at {settings.redis_url} is not reachable "
        f"({exc.__class__.__name__}): start them with `make up`, or point HUB_NEO4J_URI and "
        "HUB_REDIS_URL at running servers"
    )


def _phases(bar: Any) -> Progress:
    """A progress callback drawing one bar per phase (nodes, relationships)."""
    tasks: dict[str, Any] = {}

    def progress(phase: str, done: int, total: int) -> None:
        if phase not in tasks:
            tasks[phase] = bar.add_task(phase, total=total, note=phase)
        bar.update(tasks[phase], completed=done)
        if not bar.console.is_terminal and get_settings().progress_log:
            err.print(f"{phase}: {done} of {total}")

    return progress


def backup_cmd(
    out: Annotated[
        Path | None,
        typer.Option(help="The file to write; default HUB_DATA_DIR/backups/hub-TIME.jsonl.gz."),
    ] = None,
) -> None:
    """Write a consistent backup of the graph and the Redis state the hub needs, while the hub
    runs: writes are paused meanwhile (reads go on). The keys directory is not in it."""
    settings = get_settings()
    if out is None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        out = settings.data_dir / "backups" / f"hub-{stamp}.jsonl.gz"
    if out.exists():
        raise fail(f"{out} exists: name another file with --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    try:
        with progress_bar("backup") as bar:
            tally = backup(settings, out, err.print, _phases(bar))
    except BackupError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"could not write {out}: {exc}") from None
    except STORES_DOWN as exc:
        raise _stores_down(exc) from None
    err.print(
        f"backed up {tally.nodes} nodes, {tally.relationships} relationships and "
        f"{sum(tally.redis.values())} kept Redis entries in {time.monotonic() - started:.1f} s"
    )
    typer.echo(str(out))


def restore_cmd(
    file: Annotated[Path, typer.Argument(help="A file `hub backup` wrote.")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace what a non-empty store holds.")
    ] = False,
) -> None:
    """Restore a backup into an empty Neo4j and Redis (stop the API and workers first), then
    check it: counts per label and type, the schema, the audit chains, the kept Redis state."""
    settings = get_settings()
    started = time.monotonic()
    try:
        with progress_bar("restore") as bar:
            checks = restore(settings, file, force, err.print, _phases(bar))
    except BadBackup as exc:
        raise fail(f"{exc}; nothing was changed") from None
    except BackupError as exc:
        raise fail(str(exc)) from None
    except STORES_DOWN as exc:
        raise _stores_down(exc) from None
    for check in checks:
        typer.echo(f"ok: {check}")
    typer.echo(f"restored {file} in {time.monotonic() - started:.1f} s")
