"""``ereg dept``: governance of departments, their keys and their document types."""

from __future__ import annotations

from typing import Annotated

import typer

from chain.types import type_id
from issuer import parsing
from issuer.context import get

app = typer.Typer(no_args_is_help=True)

KeyOption = Annotated[str, typer.Option("--key", "-k", help="Governance key (GOVERNOR_ROLE).")]


@app.command("register")
def register(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="Department code (its id is keccak256 of it) or 0x id.")],
    name: Annotated[str, typer.Option(help="Registered name, e.g. 六安市市场监督管理局.")],
    credit_code: Annotated[str, typer.Option(help="Unified social credit code (18 characters).")],
    key: KeyOption,
    roles: Annotated[str | None, typer.Option(help="Property roles: natres,tax,housing,court,bank.")] = None,
) -> None:
    """Register a department."""
    c = get(ctx)
    dept = parsing.department(code)
    receipt = c.registry.register_department(c.sender(key), dept, name, credit_code, parsing.roles(roles))
    typer.echo(f"registered {name} as 0x{dept.hex()} (tx {receipt.tx_hash})")


@app.command("add-key")
def add_key(
    ctx: typer.Context,
    code: str,
    signer: Annotated[str, typer.Argument(help="Address of the signing key, or the name of a local key.")],
    key: KeyOption,
    valid_from: Annotated[str, typer.Option(help="now, Unix time or ISO 8601.")] = "now",
    valid_until: Annotated[str | None, typer.Option(help="End of the window (default: open).")] = None,
) -> None:
    """Give a department a signing key with a validity window."""
    c = get(ctx)
    dept = parsing.department(code)
    address = signer if signer.startswith("0x") else c.keystore.info(signer).address
    start = parsing.timestamp(valid_from)
    until = parsing.timestamp(valid_until, default_now=False) if valid_until else 0
    receipt = c.registry.add_signer_key(c.sender(key), dept, parsing.address(address), start, until)
    typer.echo(f"key {address} added to 0x{dept.hex()} from {parsing.format_time(start)} (tx {receipt.tx_hash})")


@app.command("retire-key")
def retire_key(
    ctx: typer.Context,
    signer: str,
    key: KeyOption,
    at: Annotated[str, typer.Option(help="End of the key's window: now, Unix time or ISO 8601.")] = "now",
) -> None:
    """End a key's window (rotation, or an earlier time for a compromised key)."""
    c = get(ctx)
    address = signer if signer.startswith("0x") else c.keystore.info(signer).address
    until = parsing.timestamp(at)
    receipt = c.registry.retire_signer_key(c.sender(key), parsing.address(address), until)
    typer.echo(f"key {address} valid until {parsing.format_time(until)} (tx {receipt.tx_hash})")


@app.command("authorize")
def authorize(
    ctx: typer.Context,
    code: str,
    doc_type: Annotated[str, typer.Argument(help="Document type name, e.g. business-license.")],
    key: KeyOption,
) -> None:
    """Let a department issue a document type (registering the type if it is new)."""
    c = get(ctx)
    dept = parsing.department(code)
    sender = c.sender(key)
    if not c.registry.is_document_type(type_id(doc_type)):
        c.registry.register_document_type(sender, doc_type)
    receipt = c.registry.authorize_document_type(sender, dept, type_id(doc_type))
    typer.echo(f"0x{dept.hex()} may issue {doc_type} (tx {receipt.tx_hash})")


@app.command("show")
def show(ctx: typer.Context, code: str) -> None:
    """A department's record, keys and document types."""
    c = get(ctx)
    dept = c.registry.department(parsing.department(code))
    state = "active" if dept.active else "inactive"
    typer.echo(f"{dept.name} 0x{dept.id.hex()} credit code {dept.credit_code} {state} roles {dept.roles!s}")
    for signer in c.registry.live_signer_keys(dept.id):
        window = c.registry.signer_key(signer)
        until = parsing.format_time(window.valid_until) if window.valid_until else "open"
        typer.echo(f"  key {signer} {parsing.format_time(window.valid_from)} .. {until}")
    for doc_type in c.registry.authorized_types(dept.id):
        typer.echo(f"  type 0x{doc_type.hex()}")


@app.command("list")
def list_departments(ctx: typer.Context) -> None:
    """Every registered department."""
    c = get(ctx)
    for dept_id in c.registry.department_ids():
        dept = c.registry.department(dept_id)
        typer.echo(f"0x{dept.id.hex()} {dept.name} {'active' if dept.active else 'inactive'}")
