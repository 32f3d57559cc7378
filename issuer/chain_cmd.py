"""``ereg deploy | anchor``: the registry itself and raw batch roots."""

from __future__ import annotations

from typing import Annotated

import typer

from chain.deploy import deploy_registry
from chain.types import type_id
from issuer import parsing
from issuer.context import CliContext, get
from issuer.errors import NotAuthorized
from issuer.relayed import (
    DEFAULT_DEADLINE_WINDOW,
    DEFAULT_WAIT_TIMEOUT,
    DeadlineOption,
    NoWaitOption,
    Via,
    ViaOption,
    WaitForOption,
    WaitTimeoutOption,
    anchor_body,
    check_accepted,
    deadline,
    signed_anchor,
)


def register(app: typer.Typer) -> None:
    app.command("deploy")(deploy)
    app.command("anchor")(anchor)


def deploy(
    ctx: typer.Context,
    key: Annotated[str, typer.Option("--key", "-k", help="Deployer key; becomes admin and governor.")],
    governor: Annotated[str | None, typer.Option(help="Governor address (default: the deployer).")] = None,
    force: Annotated[bool, typer.Option(help="Deploy anew even if the record names a live registry.")] = False,
) -> None:
    """Deploy the registry unless this chain's deployment record names a live one."""
    c = get(ctx)
    deployment = deploy_registry(
        c.client,
        c.sender(key),
        deployments_dir=c.settings.deployments_dir,
        governor=parsing.address(governor) if governor else None,
        force=force,
    )
    verb = "reused" if deployment.reused else "deployed"
    typer.echo(f"{verb} DocumentRegistry at {deployment.address} on chain {deployment.chain_id}")
    typer.echo(f"record: {deployment.record_path}")


def anchor(
    ctx: typer.Context,
    root: Annotated[str, typer.Argument(help="Batch Merkle root (0x + 64 hex digits).")],
    doc_type: Annotated[str, typer.Option("--type", "-t", help="Document type name.")],
    count: Annotated[int, typer.Option(min=1, max=2**32 - 1, help="Documents in the batch.")],
    key: Annotated[str, typer.Option("--key", "-k", help="Department signing key.")],
    via: ViaOption = None,
    wait_for: WaitForOption = "FINAL",
    no_wait: NoWaitOption = False,
    wait_timeout: WaitTimeoutOption = DEFAULT_WAIT_TIMEOUT,
    deadline_window: DeadlineOption = DEFAULT_DEADLINE_WINDOW,
) -> None:
    """Anchor a batch root with a department key (directly, or signed here and sent through --via)."""
    c = get(ctx)
    relay = Via.from_options(via, wait_for, no_wait, wait_timeout, deadline_window)
    root_b = parsing.bytes32(root, "root")
    if relay is not None:
        _anchor_via(c, relay, key, root_b, doc_type, count)
        return
    sender = c.sender(key)
    _department, allowed = c.registry.can_anchor(sender.address, type_id(doc_type))
    if not allowed:
        raise NotAuthorized(
            f"key {sender.address} may not anchor {doc_type} now (unknown key, key outside its window, "
            "inactive department or type not authorized)"
        )
    receipt = c.registry.anchor(sender, root_b, type_id(doc_type), count)
    typer.echo(
        f"anchored {root} ({count} documents) in block {receipt.block_number}, tx {receipt.tx_hash}, "
        f"gas {receipt.gas_used}"
    )


def _anchor_via(c: CliContext, relay: Via, key: str, root: bytes, doc_type: str, count: int) -> None:
    account = c.account(key)
    relay.client.check_domain(c.registry.client.chain_id, c.registry.address)
    signed = signed_anchor(
        account,
        c.registry,
        root=root,
        doc_type=type_id(doc_type),
        count=count,
        deadline=deadline(c.registry.client, relay.deadline_window),
    )
    accepted = relay.client.post_anchor(anchor_body(signed, c.registry))
    check_accepted(accepted, account)
    if relay.wait_for is None:
        typer.echo(f"submitted 0x{root.hex()} ({count} documents) to the relay: request {accepted.id} {accepted.state}")
        return
    state = relay.wait(accepted.id)
    typer.echo(f"anchored 0x{root.hex()} ({count} documents) through the relay ({state.describe()})")
