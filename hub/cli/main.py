"""The ``hub`` command: every sub-command, gathered under one Typer app (the entry point)."""

from __future__ import annotations

import typer

from connectors.config import configure
from hub.cli.archive import app as archive_app
from hub.cli.archive import assess_cmd, rate_cmd
from hub.cli.associations import app as associations_app
from hub.cli.audit import app as audit_app
from hub.cli.audit import retention_app
from hub.cli.cases import app as cases_app
from hub.cli.certificates import app as certificates_app
from hub.cli.data import (
    backup_cmd,
    import_cmd,
    migrate_cmd,
    outbox_app,
    reindex_cmd,
    restore_cmd,
    seed,
)
from hub.cli.feeds import app as feeds_app
from hub.cli.operations import app as operations_app
from hub.cli.partners import app as partners_app
from hub.cli.schema import schema_cmd
from hub.cli.stack import beat, down, serve, status, up, worker
from hub.cli.tokens import token
from hub.settings import get_settings

app = typer.Typer(help="Credit information exchange hub.", no_args_is_help=True)


@app.callback()
def connectors() -> None:
    # Before any command runs (and before `hub worker` forks its pool): the connectors get
    # their settings from the hub's, which alone read the environment.
    configure(get_settings().worker_config)


app.add_typer(audit_app, name="audit")
app.add_typer(retention_app, name="retention")
app.add_typer(operations_app, name="operations")
app.add_typer(archive_app, name="archive")
app.add_typer(partners_app, name="partners")
app.add_typer(feeds_app, name="feeds")
app.add_typer(outbox_app, name="outbox")
app.add_typer(certificates_app, name="certificates")
app.add_typer(cases_app, name="cases")
app.add_typer(associations_app, name="associations")
app.command("rate")(rate_cmd)
app.command("assess")(assess_cmd)
app.command("reindex")(reindex_cmd)
app.command("schema")(schema_cmd)
app.command()(serve)
app.command()(worker)
app.command()(beat)
app.command("migrate")(migrate_cmd)
app.command()(seed)
app.command("import")(import_cmd)
app.command("backup")(backup_cmd)
app.command("restore")(restore_cmd)
app.command()(token)
app.command()(status)
app.command()(up)
app.command()(down)
