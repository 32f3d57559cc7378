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
    sm2: Annotated[
        bool, typer.Option("--sm2", help="An SM2 key (signs ereg/1-sm batch roots) instead of an EVM key.")
    ] = False,
) -> None:
    """Create a key; the password is asked twice (or read from EREG_KEY_PASSWORD)."""
    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    if sm2:
        sm2_info = get(ctx).sm2_keystore.create(name, password)
        typer.echo(f"{sm2_info.name} sm2 {sm2_info.public_key} {sm2_info.path}")
        return
    info = get(ctx).keystore.create(name, password)
    typer.echo(f"{info.name} {info.address} {info.path}")


@app.command("list")
def list_keys(ctx: typer.Context) -> None:
    """Names and addresses of the keys (SM2 keys: their public key)."""
    c = get(ctx)
    for info in c.keystore.list():
        typer.echo(f"{info.name} {info.address}")
    for sm2_info in c.sm2_keystore.list():
        typer.echo(f"{sm2_info.name} sm2 {sm2_info.public_key}")


@app.command("address")
def address(
    ctx: typer.Context,
    name: str,
    sm2: Annotated[bool, typer.Option("--sm2", help="The public key (x ‖ y) of an SM2 key.")] = False,
) -> None:
    """The address of a key, or with --sm2 an SM2 key's public key (no password needed)."""
    if sm2:
        typer.echo(get(ctx).sm2_keystore.info(name).public_key)
        return
    typer.echo(get(ctx).keystore.info(name).address)
