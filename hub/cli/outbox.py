"""``hub outbox``: keep the feed level with listings that were loaded in bulk."""

from __future__ import annotations

from datetime import date

import typer

from graph.db import Store
from graph.exchange.backfill import BackfillReport, backfill
from hub.cli.kit import err, with_store
from hub.settings import Settings, catalogue

app = typer.Typer(help="The outbox behind the sanction feed and webhooks.", no_args_is_help=True)


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


@app.command("backfill")
def backfill_cmd() -> None:
    """Write the outbox events of listings that entered by the seed or `hub import` (idempotent:
    `hub seed` and `hub import` run it after loading; run it again after a restore)."""
    run_backfill()
