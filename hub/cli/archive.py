"""``hub archive``, ``hub rate`` and ``hub assess``: a unit's archives, ratings, assessment."""

from __future__ import annotations

import csv
import getpass
import json
import sys
import time
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from connectors.celery_app import wake
from graph.archive.files import FORMATS, ArchiveFormatError
from graph.archive.imports import Counts, all_rejections, find_import, new_import_id, run_import
from graph.assessment import ASSESSMENT_COLUMNS, assess
from graph.db import Store
from graph.exchange.outbox import Emitted
from graph.rating import rate, rate_all
from graph.records.determination import expire_listings
from graph.records.review import expire
from hub.cli.kit import err, fail, progress_bar, with_store
from hub.settings import Settings, catalogue
from policies.units import units_by_code

app = typer.Typer(help="Credit archives of the department's units.", no_args_is_help=True)


def known_unit(agency: str) -> None:
    if agency not in units_by_code():
        raise fail(f"{agency!r} is not a unit of the department (codes are NMG + division code)")


async def _report(store: Store, s: Settings, import_id: str) -> dict[str, Any]:
    found = await find_import(store, import_id) or {}
    found["rejections"] = [
        {"line": r.line, "reason": r.reason, "message": r.message}
        async for r in all_rejections(store, import_id)
    ]
    return found


@app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="A JSON Lines, CSV or XLSX archive file.")],
    agency: Annotated[str, typer.Option(help="The submitting unit, e.g. NMG152201.")],
    by: Annotated[str | None, typer.Option(help="Who submits; default the login name.")] = None,
    fmt: Annotated[
        str | None, typer.Option("--format", help=f"One of {', '.join(FORMATS)}; default: guess.")
    ] = None,
    batch: Annotated[int, typer.Option(help="Rows per write transaction.")] = 2000,
) -> None:
    """Submit an archive file: every row checked, good rows stored PENDING for review, every
    bad row reported with its line and reason. Prints the report as JSON on standard output."""
    if not file.is_file():
        raise fail(f"{file} is not a file")
    if fmt is not None and fmt not in FORMATS:
        raise fail(f"--format must be one of {', '.join(FORMATS)}")
    known_unit(agency)
    import_id = new_import_id()
    submitter = by or f"cli:{getpass.getuser()}"
    started = time.monotonic()
    with progress_bar(f"importing {file.name}") as bar:
        task = bar.add_task("import", total=None, note="")

        def tick(counts: Counts) -> None:
            bar.update(task, completed=counts.read, note=f"{counts.rejected} rejected")

        async def work(store: Store, s: Settings) -> dict[str, Any]:
            await run_import(
                store,
                file,
                import_id=import_id,
                agency=agency,
                by=submitter,
                fmt=fmt,
                batch_size=batch,
                progress=tick,
                limits=s.xlsx_limits,
            )
            return await _report(store, s, import_id)

        try:
            report = with_store(work)
        except ArchiveFormatError as exc:
            raise fail(f"{file.name}: {exc}") from None
    seconds = time.monotonic() - started
    err.print(
        f"{report['read']} rows: {report['created']} new, {report['updated']} updated, "
        f"{report['unchanged']} unchanged, {report['rejected']} rejected in {seconds:.1f} s "
        f"({report['read'] / seconds if seconds else 0:,.0f} rows/s); import {import_id}"
    )
    typer.echo(json.dumps(report, ensure_ascii=False, indent=1))
    if report["rejected"]:
        raise typer.Exit(3)  # partial success: good rows stored, some refused


@app.command("report")
def report_cmd(import_id: Annotated[str, typer.Argument(help="The import id, IMP-…")]) -> None:
    """Print an import's progress and every rejected row as JSON."""

    async def work(store: Store, s: Settings) -> dict[str, Any]:
        return await _report(store, s, import_id)

    report = with_store(work)
    if "id" not in report:
        raise fail(f"no import {import_id}")
    typer.echo(json.dumps(report, ensure_ascii=False, indent=1))


@app.command("expire")
def expire_cmd() -> None:
    """End the publication of records and listings past their maximum period, re-rate their
    subjects and tell partners (the beat runs this every hour)."""

    async def work(store: Store, s: Settings) -> tuple[int, list[Emitted]]:
        records = await expire(store, catalogue())
        return records, await expire_listings(store, catalogue(), date.today())

    records, ended = with_store(work)
    for event in ended:
        wake(event.partners, event.subject)
    err.print(f"{records} record(s) and {len(ended)} listing(s) expired")


def rate_cmd(
    codes: Annotated[list[str] | None, typer.Argument(help="Credit codes to rate.")] = None,
    all_subjects: Annotated[bool, typer.Option("--all", help="Rate every subject.")] = False,
    batch: Annotated[int, typer.Option(help="Subjects per transaction.")] = 2000,
    notify: Annotated[
        bool,
        typer.Option(
            "--notify/--silent",
            help="Tell partners of grade changes that change their duties (rating.changed).",
        ),
    ] = True,
) -> None:
    """Recompute ratings with the current model (policies/rating.yaml)."""
    if bool(codes) == all_subjects:
        raise fail("give credit codes or --all")
    started = time.monotonic()
    with progress_bar("rating") as bar:
        task = bar.add_task("rate", total=None, note="")

        async def work(store: Store, s: Settings) -> tuple[int, int]:
            if not all_subjects:
                rated = await rate(store, codes or [], notify=notify)
                for code, result in rated.items():
                    typer.echo(f"{code} {result.grade} {result.score:.2f}")
                return len(rated), len(set(codes or [])) - len(rated)
            return await rate_all(
                store,
                batch_size=batch,
                progress=lambda n: bar.update(task, completed=n, note=""),
                notify=notify,
            )

        done, skipped = with_store(work)
    seconds = time.monotonic() - started
    err.print(
        f"rated {done} subjects in {seconds:.1f} s ({done / seconds if seconds else 0:,.0f}/s)"
    )
    if skipped:
        err.print(f"{skipped} not rated: unknown, or registered without a status")


def assess_cmd(
    start: Annotated[str, typer.Option("--from", help="First decision date, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option("--to", help="Last decision date, YYYY-MM-DD.")],
    unit: Annotated[str | None, typer.Option(help="Only this unit.")] = None,
    out: Annotated[Path | None, typer.Option("--csv", help="Write CSV here ('-': stdout).")] = None,
) -> None:
    """Per-unit assessment of the collection work: volume, timeliness, returns, overdue."""
    try:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError:
        raise fail("--from and --to are YYYY-MM-DD dates") from None
    if first > last:
        raise fail("--from is after --to")

    async def work(store: Store, s: Settings) -> list[dict[str, Any]]:
        return await assess(store, first, last, date.today(), unit)

    rows = with_store(work)
    if out is None:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    stream = sys.stdout if str(out) == "-" else out.open("w", encoding="utf-8-sig", newline="")
    writer = csv.DictWriter(stream, fieldnames=ASSESSMENT_COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    if stream is not sys.stdout:
        stream.close()
        err.print(f"wrote {len(rows)} unit(s) to {out}")
