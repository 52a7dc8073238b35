"""``hub associations``: load the membership of industry associations the department holds, in
bulk, from a CSV file (``association,creditCode,since``), reporting every row it refused."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from graph.associations.membership import AssociationRefused, set_membership
from graph.db import Store
from graph.identifiers import InvalidIdentifier, validate_uscc
from hub.cli.kit import err, fail, with_store
from hub.settings import Settings
from policies.associations import Association, default_associations

app = typer.Typer(help="Industry associations and their members.", no_args_is_help=True)
COLUMNS = ("association", "creditCode", "since")


def _row(raw: dict[str, Any], today: date) -> tuple[Association, str, date]:
    """A row's association, credit code and first day, or AssociationRefused saying why."""
    found = default_associations().get((raw.get("association") or "").strip())
    if found is None:
        raise AssociationRefused("BAD_USER_INPUT", "unknown-association", "no such association")
    try:
        code = validate_uscc((raw.get("creditCode") or "").strip())
    except InvalidIdentifier as exc:
        raise AssociationRefused("BAD_USER_INPUT", "invalid-credit-code", str(exc)) from None
    try:
        since = date.fromisoformat((raw.get("since") or "").strip())
    except ValueError:
        raise AssociationRefused("BAD_USER_INPUT", "invalid-date", "since is YYYY-MM-DD") from None
    return found, code, since


@app.command("members")
def members_cmd(
    file: Annotated[Path, typer.Argument(help="CSV with the header association,creditCode,since.")],
) -> None:
    """Record each row's membership (a current one gets the day given); print what was set and
    every refused row with its line and reason (JSON). Exit 1 when a row was refused: the
    good rows are recorded all the same."""
    try:
        with file.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
            header = tuple(rows[0]) if rows else ()
    except OSError as exc:
        raise fail(f"cannot read {file}: {exc}") from None
    if header != COLUMNS:
        raise fail(f"the header is {','.join(COLUMNS)}")
    today = date.today()

    async def work(store: Store, _settings: Settings) -> dict[str, Any]:
        done, refused = 0, []
        for line, raw in enumerate(rows, start=2):
            try:
                association, code, since = _row(raw, today)
                await set_membership(
                    store, association, code, since=since, by="hub associations", today=today
                )
                done += 1
            except AssociationRefused as exc:
                refused.append({"line": line, "reason": exc.reason, "message": str(exc)})
        return {"set": done, "refused": refused}

    report = with_store(work)
    typer.echo(json.dumps(report, ensure_ascii=False, indent=1))
    if report["refused"]:
        err.print(f"{len(report['refused'])} rows refused; the others are recorded")
        raise typer.Exit(1)
