"""``hub operations``: register trusted documents (GraphQL operations partners may send)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from graphql import GraphQLError, parse, validate

from graph.db import Store
from graph.trusted_documents import Operation, register, registered
from hub.api.schema import graphql_schema
from hub.cli.kit import fail, with_store
from hub.settings import Settings

app = typer.Typer(help="Registered operations (trusted documents).", no_args_is_help=True)


@app.command("register")
def register_cmd(
    file: Annotated[Path, typer.Argument(help="A .graphql file with one operation.")],
    name: Annotated[
        str | None, typer.Option(help="A name for operators; default the file's.")
    ] = None,
) -> None:
    """Validate a document against the schema and register it; print its SHA-256."""
    if not file.is_file():
        raise fail(f"{file} is not a file")
    document = file.read_text(encoding="utf-8")
    try:
        errors = validate(graphql_schema(), parse(document))
    except GraphQLError as exc:
        raise fail(f"{file}: {exc.message}") from None
    if errors:
        raise fail(f"{file}: {errors[0].message}")

    async def work(store: Store, settings: Settings) -> Operation:
        return await register(store, document, name or file.stem)

    operation = with_store(work)
    typer.echo(f"sha256:{operation.hash}")


@app.command("list")
def list_cmd() -> None:
    """Print every registered operation: hash and name."""

    async def work(store: Store, settings: Settings) -> list[Operation]:
        return await registered(store)

    for operation in with_store(work):
        typer.echo(f"sha256:{operation.hash}  {operation.name}")
