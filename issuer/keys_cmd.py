"""``ereg keys``: encrypted signing keys."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from issuer.context import get
from issuer.keystore import PASSWORD_ENV

app = typer.Typer(no_args_is_help=True)


@app.command("new")
def new(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Name of the key, e.g. samr-2026.")],
) -> None:
    """Create a key; the password is asked twice (or read from EREG_KEY_PASSWORD)."""
    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    info = get(ctx).keystore.create(name, password)
    typer.echo(f"{info.name} {info.address} {info.path}")


@app.command("list")
def list_keys(ctx: typer.Context) -> None:
    """Names and addresses of the keys."""
    for info in get(ctx).keystore.list():
        typer.echo(f"{info.name} {info.address}")


@app.command("address")
def address(ctx: typer.Context, name: str) -> None:
    """The address of a key (no password needed)."""
    typer.echo(get(ctx).keystore.info(name).address)
