"""``ereg deploy | anchor``: the registry itself and raw batch roots."""

from __future__ import annotations

from typing import Annotated

import typer

from chain.deploy import deploy_registry
from chain.types import type_id
from issuer import parsing
from issuer.context import get
from issuer.errors import NotAuthorized


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
) -> None:
    """Anchor a batch root with a department key."""
    c = get(ctx)
    sender = c.sender(key)
    _department, allowed = c.registry.can_anchor(sender.address, type_id(doc_type))
    if not allowed:
        raise NotAuthorized(
            f"key {sender.address} may not anchor {doc_type} now (unknown key, key outside its window, "
            "inactive department or type not authorized)"
        )
    receipt = c.registry.anchor(sender, parsing.bytes32(root, "root"), type_id(doc_type), count)
    typer.echo(
        f"anchored {root} ({count} documents) in block {receipt.block_number}, tx {receipt.tx_hash}, "
        f"gas {receipt.gas_used}"
    )
