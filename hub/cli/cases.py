"""``hub cases``: case work run by hand, such as today's reminders of overdue transfers."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from connectors.celery_app import wake
from graph.cases.reminders import remind
from graph.db import Store
from graph.exchange.outbox import Emitted
from hub.cli.kit import err, fail, with_store
from hub.settings import Settings
from policies.cases import default_cases

app = typer.Typer(help="Cases and their deadlines (policies/cases.yaml).", no_args_is_help=True)


@app.command("remind")
def remind_cmd(
    today: Annotated[
        str | None,
        typer.Option(help="Run as of this day (YYYY-MM-DD) instead of today."),
    ] = None,
) -> None:
    """Send the reminders (催办) of overdue case duties due today, as the beat does hourly; run
    twice, it sends nothing twice."""
    try:
        day = date.fromisoformat(today) if today else date.today()
    except ValueError:
        raise fail(f"--today {today!r} is not a day like 2026-10-09") from None

    async def work(store: Store, s: Settings) -> list[Emitted]:
        return await remind(store, default_cases(), day)

    sent = with_store(work)
    for event in sent:
        wake(event.partners, event.subject)
    deliveries = sum(len(e.partners) for e in sent)
    err.print(f"{day}: {len(sent)} reminders sent, {deliveries} deliveries queued")
