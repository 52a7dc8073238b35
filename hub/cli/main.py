"""The ``hub`` command: every sub-command, gathered under one Typer app (the entry point).

Each command's module is imported only when that command runs: together they load the API's
schema, Celery, the archive readers and the name index, which took three seconds before any
command could start, where one command needs a fraction of that."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

import typer
from typer.core import TyperGroup
from typer.main import get_command_from_info, get_group
from typer.models import CommandInfo

if TYPE_CHECKING:  # Typer 0.29 carries its own copy of Click: these are its types
    from typer._click import Command, Context

# name: (module, attribute), a Typer group or a command function
COMMANDS: dict[str, tuple[str, str]] = {
    "audit": ("hub.cli.audit", "app"),
    "retention": ("hub.cli.audit", "retention_app"),
    "operations": ("hub.cli.operations", "app"),
    "archive": ("hub.cli.archive", "app"),
    "partners": ("hub.cli.partners", "app"),
    "feeds": ("hub.cli.feeds", "app"),
    "outbox": ("hub.cli.data", "outbox_app"),
    "certificates": ("hub.cli.certificates", "app"),
    "cases": ("hub.cli.cases", "app"),
    "associations": ("hub.cli.associations", "app"),
    "rate": ("hub.cli.archive", "rate_cmd"),
    "assess": ("hub.cli.archive", "assess_cmd"),
    "reindex": ("hub.cli.data", "reindex_cmd"),
    "schema": ("hub.cli.schema", "schema_cmd"),
    "serve": ("hub.cli.stack", "serve"),
    "worker": ("hub.cli.stack", "worker"),
    "beat": ("hub.cli.stack", "beat"),
    "migrate": ("hub.cli.data", "migrate_cmd"),
    "seed": ("hub.cli.data", "seed"),
    "import": ("hub.cli.data", "import_cmd"),
    "backup": ("hub.cli.data", "backup_cmd"),
    "restore": ("hub.cli.data", "restore_cmd"),
    "token": ("hub.cli.tokens", "token"),
    "status": ("hub.cli.stack", "status"),
    "up": ("hub.cli.stack", "up"),
    "down": ("hub.cli.stack", "down"),
}


class LazyGroup(TyperGroup):
    """A group that imports a command's module when the command is asked for."""

    def list_commands(self, ctx: Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, attribute = COMMANDS[cmd_name]
        target = getattr(importlib.import_module(module), attribute)
        command: Command = (
            get_group(target)
            if isinstance(target, typer.Typer)
            else get_command_from_info(
                CommandInfo(name=cmd_name, callback=target),
                pretty_exceptions_short=app.pretty_exceptions_short,
                rich_markup_mode=app.rich_markup_mode,
            )
        )
        command.name = cmd_name
        return command


app = typer.Typer(cls=LazyGroup, help="Credit information exchange hub.", no_args_is_help=True)


@app.callback()
def connectors() -> None:
    # Before any command runs (and before `hub worker` forks its pool): the connectors get
    # their settings from the hub's, which alone read the environment.
    from connectors.config import configure
    from hub.settings import get_settings

    configure(get_settings().worker_config)
