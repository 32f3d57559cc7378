"""``ereg deploy | anchor``: the council and the registry it governs, and raw batch roots."""

from __future__ import annotations

from typing import Annotated

import typer

from chain.deploy import deploy_council, deploy_registry
from chain.governance import CouncilClient
from chain.types import type_id
from issuer import parsing
from issuer.context import CliContext, get
from issuer.errors import CouncilSetupError, NotAuthorized
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


#: The council's time lock delay unless told otherwise: 48 hours.
DEFAULT_DELAY = 172_800
#: Members a council may have (GovernanceCouncil.MAX_MEMBERS).
MAX_MEMBERS = 16


def deploy(
    ctx: typer.Context,
    key: Annotated[str, typer.Option("--key", "-k", help="Deployer key; it holds no role afterwards.")],
    member: Annotated[
        list[str],
        typer.Option("--member", "-m", help="A council member: key name or address; repeat for each member."),
    ],
    threshold: Annotated[int, typer.Option(min=1, max=MAX_MEMBERS, help="Approvals a proposal needs (M of N).")],
    veto: Annotated[
        int | None, typer.Option(min=1, max=MAX_MEMBERS, help="Approvals a veto needs (default: 2, or M if smaller).")
    ] = None,
    delay: Annotated[int, typer.Option(min=0, help="Time lock delay in seconds for actions that add power.")] = (
        DEFAULT_DELAY
    ),
    dev_council: Annotated[
        bool,
        typer.Option("--dev-council", help="Local development only: allow a 1-member council and a delay of 0."),
    ] = False,
    force: Annotated[bool, typer.Option(help="Deploy anew even if the record names live contracts.")] = False,
) -> None:
    """Deploy the governance council (with its time lock), then the DocumentRegistry it governs.

    Each is reused when this chain's deployment record names a live one built from the same
    sources and wired the same way.
    """
    c = get(ctx)
    members = [c.address_of(m) for m in member]
    veto_threshold = veto if veto is not None else min(2, threshold)
    _check_council(members, threshold, veto_threshold, delay, dev_council)
    if dev_council:
        typer.echo(
            "warning: a development council (one member or no delay allowed) is for a local chain only / "
            "警告：开发用治理委员会（允许单一委员或零延迟）仅限本地测试链使用",
            err=True,
        )
    sender = c.sender(key)
    directory = c.settings.deployments_dir
    council = deploy_council(
        c.client,
        sender,
        deployments_dir=directory,
        members=members,
        threshold=threshold,
        veto_threshold=veto_threshold,
        delay=delay,
        development=dev_council,
        force=force,
    )
    registry = deploy_registry(c.client, sender, deployments_dir=directory, council=council.address, force=force)
    timelock = CouncilClient(c.client, council.address).timelock()
    verb = "reused" if council.reused else "deployed"
    typer.echo(
        f"{verb} GovernanceCouncil at {council.address} on chain {council.chain_id}: {threshold} of {len(members)} "
        f"members approve, {veto_threshold} veto / 治理委员会：{len(members)} 人中须 {threshold} 人批准，"
        f"{veto_threshold} 人可否决"
    )
    typer.echo(f"time lock (TimelockController) at {timelock}, delay {delay} s / 时间锁延迟 {delay} 秒")
    verb = "reused" if registry.reused else "deployed"
    typer.echo(f"{verb} DocumentRegistry at {registry.address} governed by the council / 登记合约由该委员会治理")
    typer.echo(f"record: {registry.record_path}")


def _check_council(members: list[str], threshold: int, veto: int, delay: int, development: bool) -> None:
    """What the contract would refuse, and what only a development council may be, said before sending."""
    size = len(members)
    if len(set(members)) != size:
        raise CouncilSetupError("a member is given twice", "委员重复")
    if size > MAX_MEMBERS:
        raise CouncilSetupError(
            f"a council has at most {MAX_MEMBERS} members, not {size}", f"委员至多 {MAX_MEMBERS} 人"
        )
    if threshold > size:
        raise CouncilSetupError(
            f"--threshold {threshold} is more than the {size} member(s)", f"批准门槛 {threshold} 超过委员人数 {size}"
        )
    if veto > threshold:
        raise CouncilSetupError(
            f"--veto {veto} is more than --threshold {threshold}", f"否决门槛 {veto} 不能高于批准门槛 {threshold}"
        )
    if development:
        return
    if size < 2 or threshold < 2:
        raise CouncilSetupError(
            f"a {threshold}-of-{size} council lets one person govern: give two or more members and --threshold 2 "
            "or more (or --dev-council on a local chain)",
            f"{size} 人中 {threshold} 人批准的委员会等于一人说了算：至少需两名委员、批准门槛至少为 2"
            "（本地测试链可用 --dev-council）",
        )
    if delay == 0:
        raise CouncilSetupError(
            "--delay 0 leaves no time to veto an action that adds power (use --dev-council on a local chain)",
            "零延迟无法对增加权限的操作行使否决（本地测试链可用 --dev-council）",
        )


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
