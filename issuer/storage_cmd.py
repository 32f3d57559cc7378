"""``ereg storage check | repair``: documents replicated over several IPFS nodes.

The documents looked at are every document CID the configured nodes pin, plus those this home
has written (``<home>/storage/written.txt``, one CID per line, appended by ``ereg issue`` when
``EREG_IPFS_API`` lists several nodes). ``check`` reports the documents pinned on fewer nodes
than the replication factor and, as LOST, those written here that no node pins; ``repair``
copies each of them from a node that holds an intact copy (checked against its CID) to the
nodes missing it, and pins it there. Both exit 0 when every document is at the factor, 1
otherwise. Only nodes with the Kubo RPC API (Kubo, js-ipfs) are supported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from issuer.context import get
from issuer.errors import UsageError
from storage.errors import StorageError

if TYPE_CHECKING:
    from storage.replicated import Audit, BlobReplicas, ReplicatedStore

#: Bound of one IPFS operation of these commands (seconds).
IPFS_TIMEOUT = 30.0

app = typer.Typer(no_args_is_help=True, help="Replicated document storage: check and repair the IPFS nodes' copies.")

ApiOption = Annotated[
    str | None,
    typer.Option(
        "--ipfs-api",
        envvar="EREG_IPFS_API",
        metavar="LIST",
        help="IPFS RPC APIs, comma-separated: multiaddrs or http://host:port (Kubo RPC API only).",
    ),
]
FactorOption = Annotated[
    str | None,
    typer.Option(
        "--factor",
        envvar="EREG_IPFS_REPLICATION",
        metavar="N",
        help="Nodes every document must be on [default: all configured nodes].",
    ),
]


@app.command("check")
def check(ctx: typer.Context, ipfs_api: ApiOption = None, factor: FactorOption = None) -> None:
    """Report the documents on fewer nodes than the factor, and those written here that no node has."""
    with _open(ctx, ipfs_api, factor) as store:
        audit = store.audit()
        _print_audit(store, audit)
    if not audit.ok:
        raise typer.Exit(1)


@app.command("repair")
def repair(ctx: typer.Context, ipfs_api: ApiOption = None, factor: FactorOption = None) -> None:
    """Copy every document below the factor from a node that has it to the nodes missing it, pinned."""
    with _open(ctx, ipfs_api, factor) as store:
        audit = store.audit()
        for node in audit.unreachable:
            typer.echo(f"node {node.api}: {_down(node.error)}; nothing is copied to it")
        todo = [blob for blob in audit.blobs if blob.count < audit.factor]
        repaired = copies = 0
        still_short: list[str] = []
        for blob in todo:
            result = store.repair(blob)
            for target in result.copied_to:
                if target == result.source:
                    typer.echo(f"{blob.cid}: pinned again on {target}, which still held it unpinned")
                else:
                    typer.echo(f"{blob.cid}: copied from {result.source} to {target}")
            copies += len(result.copied_to)
            if result.source is None:
                typer.echo(f"{blob.cid}: LOST, no node has an intact copy")
            for target, reason in result.failed:
                if result.source is not None:
                    typer.echo(f"{blob.cid}: not copied to {target} ({reason})")
            if result.holders_after >= audit.factor:
                repaired += 1
            else:
                still_short.append(blob.cid)
                if result.source is not None:
                    typer.echo(f"{blob.cid}: on {result.holders_after} of {len(store.apis)} nodes, "
                               f"below the factor {audit.factor}")
    total, nodes = len(audit.blobs), len(store.apis)
    if audit.reachable < audit.factor:
        typer.echo(f"only {audit.reachable} of {nodes} nodes answer, fewer than the factor {audit.factor}")
    if not todo:
        if audit.reachable >= audit.factor:
            typer.echo(f"nothing to repair: all {total} documents are on at least {audit.factor} of {nodes} nodes")
    else:
        summary = f"repaired {repaired} of {len(todo)} documents below the factor ({copies} copies made)"
        if still_short:
            typer.echo(f"{summary}; {len(still_short)} still below the factor {audit.factor}")
        else:
            typer.echo(f"{summary}; all {total} documents are on at least {audit.factor} of {nodes} nodes")
    if still_short or audit.reachable < audit.factor:
        raise typer.Exit(1)


def _open(ctx: typer.Context, ipfs_api: str | None, factor: str | None) -> ReplicatedStore:
    """The configured nodes as one store with the home's ledger; a one-line error if unusable."""
    # imported here: the replicated store pulls in the HTTP client, which other commands do not need
    from storage.ipfs import IpfsStore
    from storage.replicated import (
        LEDGER_PATH,
        ReplicatedStore,
        StorageConfigError,
        WrittenLedger,
        check_factor,
        parse_api_list,
        parse_replication,
    )

    c = get(ctx)
    if not ipfs_api or not ipfs_api.strip():
        raise UsageError(
            "no IPFS nodes configured: give --ipfs-api or set EREG_IPFS_API (RPC APIs, comma-separated)",
            "未配置 IPFS 节点：请用 --ipfs-api 或 EREG_IPFS_API 指定（RPC 接口，逗号分隔）",
        )
    try:
        apis = parse_api_list(ipfs_api)
        wanted = check_factor(parse_replication(factor), len(apis))
    except StorageConfigError as exc:
        raise UsageError(exc.message, exc.message_zh) from None
    nodes: list[IpfsStore] = []
    try:
        for api in apis:
            nodes.append(IpfsStore(api, timeout=IPFS_TIMEOUT))
        return ReplicatedStore(nodes, replication=wanted, ledger=WrittenLedger(c.home / LEDGER_PATH))
    except StorageError:
        for node in nodes:
            node.close()
        raise


def _print_audit(store: ReplicatedStore, audit: Audit) -> None:
    total_nodes = len(store.apis)
    typer.echo(f"IPFS nodes: {total_nodes}, replication factor {audit.factor}")
    for node in audit.nodes:
        if node.pins is None:
            typer.echo(f"  {node.api}: {_down(node.error)}")
        else:
            typer.echo(f"  {node.api}: {len(node.pins)} documents pinned")
    in_ledger = sum(1 for blob in audit.blobs if blob.in_ledger)
    typer.echo(f"documents: {len(audit.blobs)} known ({in_ledger} written by this home)")
    short, lost = audit.short, audit.lost
    if short:
        typer.echo(f"below the factor: {len(short)} documents")
        for blob in short:
            typer.echo(f"  {blob.cid}: on {blob.count} of {total_nodes} nodes; missing on {_missing(blob)}")
    if lost:
        typer.echo(f"LOST: {len(lost)} documents written by this home are on no node")
        for blob in lost:
            unknown = f"; {len(blob.unknown)} node(s) unreachable" if blob.unknown else ""
            typer.echo(f"  {blob.cid}: LOST (pinned on none of the nodes that answered{unknown})")
    if audit.reachable < audit.factor:
        typer.echo(f"only {audit.reachable} of {total_nodes} nodes answer, fewer than the factor {audit.factor}: "
                   "nothing written now can reach it")
    if audit.ok:
        typer.echo(f"all {len(audit.blobs)} documents are on at least {audit.factor} of {total_nodes} nodes")
    else:
        typer.echo(f"{len(short)} documents below the factor {audit.factor}, {len(lost)} lost")


def _down(error: str | None) -> str:
    """``UNREACHABLE (why)`` for a node that could not be asked."""
    why = (error or "no answer").removeprefix("unreachable").strip()
    return f"UNREACHABLE {why}" if why.startswith("(") else f"UNREACHABLE ({why})"


def _missing(blob: BlobReplicas) -> str:
    return ", ".join([*blob.missing, *(f"{api} (unreachable)" for api in blob.unknown)])
