"""``hub reindex``: write the name search keys of graphs loaded before they existed."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from graph.db import Store
from graph.search import reindex_names
from hub.cli.kit import err, progress_bar, with_store
from hub.settings import Settings


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
