"""``ereg gov``: the governance council's proposals, from a draft to its effect on chain.

The ceremony, each step by whoever holds the file:

1. ``ereg dept … --proposal p.json`` (and ``ereg property deploy|approve-correction --proposal``)
   add calls to a draft;
2. ``ereg gov propose p.json`` seals it: Immediate (protective actions only, at once) or Scheduled
   (through the time lock), a fresh nonce, a deadline for the approvals, the chain and council;
3. each member checks the words and signs offline: ``ereg gov sign p.json --key MEMBER`` (no chain
   node needed), or approves on chain: ``ereg gov approve p.json --key MEMBER``;
4. anyone runs ``ereg gov execute p.json --key SENDER``: an Immediate proposal takes effect; a
   Scheduled one enters the time lock, and the same command after the delay carries it out;
5. during the delay ``ereg gov cancel p.json --key M1 --key M2`` vetoes it.

``ereg gov show p.json`` and ``ereg gov list`` say where proposals stand.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes

from chain.client import ChainClient
from chain.deploy import recorded_council
from chain.errors import RegistryNotFound
from chain.events import EventScanner
from chain.governance import (
    Call,
    CouncilClient,
    OperationState,
    Proposal,
    ProposalFile,
    ProposalKind,
    classify,
    describe,
    new_proposal,
    recover_veto_signer,
    sign_proposal,
    sign_veto,
)
from chain.registry import read_deployment_record
from issuer import parsing
from issuer.context import CliContext, get
from issuer.errors import GovernanceError, NotEnoughApprovals, NotReady, UsageError
from issuer.proposals import KIND_WORDS, Approvals, approvals, check_chain, echo_calls, is_draft, names_for, read, write
from issuer.relayed import SignatureCheckFailed

app = typer.Typer(no_args_is_help=True)

FileArgument = Annotated[Path, typer.Argument(help="The proposal file (ereg-proposal/1).")]
MemberKey = Annotated[str, typer.Option("--key", "-k", help="A council member's key.")]

#: How long a veto's signatures stay good.
VETO_WINDOW = 3600


# ------------------------------------------------------------------------------ helpers
def _when(ts: int) -> str:
    return parsing.format_time(ts)


def _span(seconds: int) -> str:
    seconds = max(0, seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172_800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def _council_of(c: CliContext, pf: ProposalFile, path: Path) -> CouncilClient:
    check_chain(pf, path, c.client)
    council = CouncilClient(c.client, pf.council)
    try:
        council.ensure_deployed()
    except RegistryNotFound:
        raise GovernanceError(
            f"{path} names council {pf.council}, which is not on chain {c.client.chain_id}",
            f"{path} 所指的治理委员会 {pf.council} 不在链 {c.client.chain_id} 上",
        ) from None
    return council


@dataclass(frozen=True)
class Standing:
    """Where a sealed proposal stands on chain."""

    code: str  # PENDING, EXPIRED, WAITING, READY, DONE, VETOED, NONCE_USED
    english: str
    chinese: str
    ready_at: int = 0


def standing(pf: ProposalFile, council: CouncilClient) -> Standing:
    proposal, digest = pf.proposal, pf.digest
    if council.is_vetoed(digest):
        return Standing("VETOED", "vetoed: it can no longer run", "已被否决，不能再执行")
    used = council.is_nonce_used(proposal.nonce)
    if proposal.kind is ProposalKind.SCHEDULED:
        state = council.operation_state(proposal)
        if state is OperationState.WAITING:
            ready_at = council.ready_at(proposal)
            return Standing(
                "WAITING",
                f"waiting in the time lock until {_when(ready_at)}",
                f"在时间锁中等待，{_when(ready_at)} 后可执行",
                ready_at,
            )
        if state is OperationState.READY:
            return Standing(
                "READY", "ready: the delay has passed, `ereg gov execute` carries it out",
                "延迟期已满，可用 `ereg gov execute` 执行", council.ready_at(proposal),
            )
        if state is OperationState.DONE:
            return Standing("DONE", "done: carried out through the time lock", "已经时间锁执行完毕")
        if used:
            return Standing("NONCE_USED", "its nonce was used by another proposal: it can no longer run",
                            "其随机数已被其他提案使用，不能再执行")
    elif used:
        return Standing("DONE", "done: carried out at once", "已立即执行完毕")
    if council.client.latest_block_time() > proposal.deadline:
        return Standing("EXPIRED", f"expired at {_when(proposal.deadline)} before it was carried out",
                        f"已于 {_when(proposal.deadline)} 过期，未执行")
    return Standing("PENDING", "not yet carried out", "尚未执行")


def _echo_header(path: Path, pf: ProposalFile) -> None:
    en, zh = KIND_WORDS[pf.proposal.kind]
    typer.echo(f"proposal {path} for council {pf.council} on chain {pf.chain_id} / 提案 {path}")
    typer.echo(f"kind / 类型: {en} / {zh}")
    typer.echo(f"digest / 摘要: 0x{pf.digest.hex()}")
    typer.echo(f"deadline / 批准截止: {_when(pf.proposal.deadline)}")


def _echo_approvals(found: Approvals) -> None:
    signed = ", ".join(found.signed) or "none"
    typer.echo(f"signatures of members in the file / 文件中委员签名: {len(found.signed)} ({signed})")
    if found.outsiders:
        typer.echo(f"  not members, not counted / 非委员签名（不计）: {', '.join(found.outsiders)}")
    on_chain = ", ".join(found.on_chain) or "none"
    typer.echo(f"approvals on chain / 链上批准: {len(found.on_chain)} ({on_chain})")
    typer.echo(
        f"approvals / 批准数: {found.count} of {found.threshold} needed / "
        f"需 {found.threshold} 票，已有 {found.count} 票"
    )


def _power_adding(calls: tuple[Call, ...], client: ChainClient) -> list[int]:
    return [i for i, call in enumerate(calls, 1) if classify([call], client) is ProposalKind.SCHEDULED]


# ------------------------------------------------------------------------------ propose
@app.command("propose")
def propose(
    ctx: typer.Context,
    file: FileArgument,
    immediate: Annotated[bool, typer.Option("--immediate", help="Run at once (protective actions only).")] = False,
    scheduled: Annotated[bool, typer.Option("--scheduled", help="Go through the time lock (any action).")] = False,
    valid_hours: Annotated[
        int, typer.Option(min=1, max=24 * 90, help="Hours the members have to approve and submit it.")
    ] = 168,
) -> None:
    """Seal a draft: kind (chosen from its calls unless told), nonce, deadline, chain and council."""
    if immediate and scheduled:
        raise UsageError("give --immediate or --scheduled, not both")
    c = get(ctx)
    pf = read(file)
    if not is_draft(pf):
        raise GovernanceError(
            f"{file} is sealed already (digest 0x{pf.digest.hex()}); start a new draft to change it",
            f"{file} 已封存（摘要 0x{pf.digest.hex()}），如需修改请另建草稿",
        )
    check_chain(pf, file, c.client)
    council = c.council
    if pf.council != council.address:
        raise GovernanceError(
            f"{file} was drafted for council {pf.council}, but registry {c.registry.address} is governed by "
            f"{council.address}; draft it again here",
            f"{file} 是为治理委员会 {pf.council} 起草的，而登记合约 {c.registry.address} 由 {council.address} 治理，"
            "请重新起草",
        )
    calls = pf.proposal.calls
    chosen = classify(calls, c.client)
    if immediate and chosen is ProposalKind.SCHEDULED:
        adding = ", ".join(str(i) for i in _power_adding(calls, c.client))
        raise GovernanceError(
            f"cannot be Immediate: call(s) {adding} add power and must wait out the time lock (use --scheduled)",
            f"不能立即执行：第 {adding} 项会增加权限，必须经时间锁延迟（请用 --scheduled）",
        )
    if scheduled:
        chosen = ProposalKind.SCHEDULED
    proposal = new_proposal(calls, chosen, now=c.chain_now(), window=valid_hours * 3600)
    sealed = ProposalFile(c.client.chain_id, council.address, proposal)
    write(sealed, file)
    typer.echo(f"sealed {file} / 已封存 {file}")
    _echo_header(file, sealed)
    if chosen is ProposalKind.SCHEDULED:
        delay = council.min_delay()
        typer.echo(f"time lock delay / 时间锁延迟: {delay} s ({_span(delay)})")
    typer.echo("calls / 调用:")
    echo_calls(calls, names_for(calls, c.registry))
    typer.echo(
        f"approvals needed / 所需批准: {council.threshold()} of {len(council.members())} members; "
        f"each signs with `ereg gov sign {file} --key MEMBER` / 各委员用 `ereg gov sign {file} --key 委员密钥` 签署"
    )


# --------------------------------------------------------------------------------- show
@app.command("show")
def show(ctx: typer.Context, file: FileArgument) -> None:
    """What the proposal does, who approved it, and where it stands on chain."""
    c = get(ctx)
    pf = read(file)
    if is_draft(pf):
        typer.echo(f"draft {file}, not sealed / 草稿 {file}，尚未封存 ({len(pf.proposal.calls)} call(s))")
        typer.echo("calls / 调用:")
        echo_calls(pf.proposal.calls, names_for(pf.proposal.calls, c.registry))
        typer.echo("state / 状态: draft: seal it with `ereg gov propose` / 草稿：请用 `ereg gov propose` 封存")
        return
    council = _council_of(c, pf, file)
    _echo_header(file, pf)
    typer.echo("calls / 调用:")
    echo_calls(pf.proposal.calls, names_for(pf.proposal.calls, c.registry))
    _echo_approvals(approvals(pf, council))
    where = standing(pf, council)
    typer.echo(f"state / 状态: {where.code}: {where.english} / {where.chinese}")


# --------------------------------------------------------------------------------- sign
@app.command("sign")
def sign(
    ctx: typer.Context,
    file: FileArgument,
    key: MemberKey,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Sign without asking for confirmation.")] = False,
) -> None:
    """Sign the proposal as a member, offline (the chain and council are in the file)."""
    c = get(ctx)
    pf = read(file, sealed=True)
    c.keystore.info(key)  # a missing or unreadable key is said before the words, not after
    now = parsing.timestamp("now")
    if now > pf.proposal.deadline:
        raise GovernanceError(
            f"{file} expired at {_when(pf.proposal.deadline)}: it can no longer be carried out; propose it anew",
            f"{file} 已于 {_when(pf.proposal.deadline)} 过期，不能再执行，请重新提案",
        )
    _echo_header(file, pf)
    typer.echo("calls / 调用:")
    echo_calls(pf.proposal.calls, names_for(pf.proposal.calls))
    if not yes and not typer.confirm("Sign this proposal? / 确认签署此提案？", default=False):
        raise GovernanceError("not signed", "未签署")
    account = c.account(key)
    signature = sign_proposal(account, pf.proposal, chain_id=pf.chain_id, council=pf.council)
    signer = pf.add_signature(signature)
    if to_checksum_address(signer) != to_checksum_address(account.address):
        raise SignatureCheckFailed(
            f"the signature recovers to {signer}, not to the key {account.address}; nothing written",
            zh=f"签名恢复出的地址 {signer} 与密钥 {account.address} 不符，未写入",
        )
    write(pf, file)
    typer.echo(
        f"signed by {account.address}: {len(pf.signatures)} signature(s) in {file} / "
        f"已由 {account.address} 签署，文件中共 {len(pf.signatures)} 个签名"
    )


# ------------------------------------------------------------------------------ approve
@app.command("approve")
def approve(ctx: typer.Context, file: FileArgument, key: MemberKey) -> None:
    """Approve the proposal on chain as a member (instead of signing the file)."""
    c = get(ctx)
    pf = read(file, sealed=True)
    council = _council_of(c, pf, file)
    sender = c.sender(key)
    if not council.is_member(sender.address):
        raise GovernanceError(f"{sender.address} is not a member of council {council.address}",
                              f"{sender.address} 不是治理委员会 {council.address} 的委员")
    where = standing(pf, council)
    if where.code not in ("PENDING",):
        raise GovernanceError(f"nothing to approve: {where.english}", f"无需批准：{where.chinese}")
    digest = pf.digest
    if council.has_approved(digest, sender.address):
        typer.echo(f"{sender.address} approved 0x{digest.hex()} on chain already / 已在链上批准")
    else:
        receipt = council.approve(sender, digest)
        typer.echo(f"approved 0x{digest.hex()} on chain as {sender.address} (tx {receipt.tx_hash}) / 已在链上批准")
    found = approvals(pf, council)
    typer.echo(f"approvals / 批准数: {found.count} of {found.threshold} needed")


# ------------------------------------------------------------------------------ execute
@app.command("execute")
def execute(
    ctx: typer.Context,
    file: FileArgument,
    key: Annotated[str, typer.Option("--key", "-k", help="Any funded key: it only sends.")],
) -> None:
    """Carry out the proposal: at once (Immediate), or into the time lock and, after the delay, out of it."""
    c = get(ctx)
    pf = read(file, sealed=True)
    council = _council_of(c, pf, file)
    proposal = pf.proposal
    where = standing(pf, council)
    if where.code in ("VETOED", "DONE", "NONCE_USED", "EXPIRED"):
        raise GovernanceError(f"cannot execute: {where.english}", f"无法执行：{where.chinese}")
    if where.code == "WAITING":
        wait = where.ready_at - c.client.latest_block_time()
        raise NotReady(
            f"not ready: waiting in the time lock until {_when(where.ready_at)} (about {_span(wait)} more)",
            f"尚不能执行：在时间锁中等待至 {_when(where.ready_at)}（约还需 {_span(wait)}）",
        )
    names = names_for(proposal.calls, c.registry)
    if where.code == "READY":
        receipt = council.execute_scheduled(c.sender(key), proposal)
        _echo_done(file, proposal, names, receipt.tx_hash, receipt.block_number)
        return
    found = approvals(pf, council)
    if not found.enough:
        raise NotEnoughApprovals(
            f"not enough approvals: {found.count} of {found.threshold} ({len(found.signed)} member signature(s) in "
            f"the file, {len(found.on_chain)} on chain); {found.threshold - found.count} more needed",
            f"批准不足：需 {found.threshold} 票，仅有 {found.count} 票（文件中委员签名 {len(found.signed)} 个，"
            f"链上批准 {len(found.on_chain)} 个），还差 {found.threshold - found.count} 票",
        )
    sender = c.sender(key)
    receipt = council.execute(sender, proposal, pf.signature_bytes(council.members()))
    if proposal.kind is ProposalKind.IMMEDIATE:
        _echo_done(file, proposal, names, receipt.tx_hash, receipt.block_number)
        return
    ready_at = council.ready_at(proposal)
    typer.echo(
        f"scheduled {file} in the time lock (tx {receipt.tx_hash}): ready at {_when(ready_at)}; "
        f"run `ereg gov execute {file}` again then / "
        f"已进入时间锁，{_when(ready_at)} 后再次运行 `ereg gov execute {file}` 执行"
    )
    echo_calls(proposal.calls, names)
    if council.min_delay() == 0:  # a development council: nothing to wait for
        receipt = council.execute_scheduled(sender, proposal)
        _echo_done(file, proposal, names, receipt.tx_hash, receipt.block_number)


def _echo_done(file: Path, proposal: Proposal, names: dict[bytes, str], tx: str, block: int) -> None:
    typer.echo(f"carried out {file} in block {block} (tx {tx}) / 已执行 {file}（区块 {block}）:")
    echo_calls(proposal.calls, names)


# ------------------------------------------------------------------------------- cancel
@app.command("cancel")
def cancel(
    ctx: typer.Context,
    file: FileArgument,
    key: Annotated[
        list[str], typer.Option("--key", "-k", help="A member's key; repeat for as many as a veto needs.")
    ],
) -> None:
    """Veto the proposal with the keys of enough members (the first key sends)."""
    c = get(ctx)
    pf = read(file, sealed=True)
    council = _council_of(c, pf, file)
    where = standing(pf, council)
    if where.code in ("VETOED", "DONE", "NONCE_USED"):
        raise GovernanceError(f"nothing to veto: {where.english}", f"无需否决：{where.chinese}")
    needed = council.veto_threshold()
    accounts: list[LocalAccount] = []
    for name in dict.fromkeys(key):
        account = c.account(name)
        if not council.is_member(account.address):
            raise GovernanceError(f"{account.address} ({name}) is not a member of council {council.address}",
                                  f"{account.address}（{name}）不是治理委员会 {council.address} 的委员")
        if all(a.address != account.address for a in accounts):
            accounts.append(account)
    if len(accounts) < needed:
        raise NotEnoughApprovals(
            f"a veto needs {needed} members' keys, {len(accounts)} given",
            f"否决需 {needed} 名委员的密钥，仅提供了 {len(accounts)} 个",
        )
    digest = pf.digest
    deadline = c.chain_now() + VETO_WINDOW
    signatures = []
    for account in accounts:
        signature = sign_veto(account, digest, deadline, chain_id=pf.chain_id, council=pf.council)
        recovered = recover_veto_signer(digest, deadline, signature, chain_id=pf.chain_id, council=pf.council)
        if to_checksum_address(recovered) != to_checksum_address(account.address):
            raise SignatureCheckFailed(
                f"the veto signature recovers to {recovered}, not {account.address}; nothing sent",
                zh="否决签名核验失败，未发送",
            )
        signatures.append(signature)
    receipt = council.veto(c.sender(key[0]), pf.proposal, deadline, signatures)
    typer.echo(
        f"vetoed 0x{digest.hex()} with {len(accounts)} member(s) (tx {receipt.tx_hash}): it will not run / "
        f"已否决，该提案不会执行:"
    )
    echo_calls(pf.proposal.calls, names_for(pf.proposal.calls, c.registry))


# --------------------------------------------------------------------------------- list
@dataclass
class Listed:
    digest: bytes
    kind: str
    block: int
    tx_hash: str
    operation: bytes | None = None
    ready_at: int = 0
    vetoed: bool = False
    done: bool = False


@app.command("list")
def list_proposals(ctx: typer.Context) -> None:
    """The council's proposals, from its events: digest, kind, state and ready time."""
    c = get(ctx)
    council = c.council
    start = _council_block(c, council.address)
    found: dict[bytes, Listed] = {}
    scanner = EventScanner(c.client, council.artifact, council.address)
    for event in scanner.scan(start, c.client.block_number()):
        if event.name not in ("ProposalExecuted", "ProposalScheduled", "ProposalVetoed"):
            continue
        digest = bytes(event.args["proposal"])
        entry = found.get(digest)
        if entry is None:
            kind = {"ProposalExecuted": "IMMEDIATE", "ProposalScheduled": "SCHEDULED"}.get(event.name, "-")
            entry = found[digest] = Listed(digest, kind, event.block_number, event.tx_hash)
        if event.name == "ProposalExecuted":
            entry.done = True
        elif event.name == "ProposalScheduled":
            entry.kind, entry.operation, entry.ready_at = "SCHEDULED", bytes(event.args["operation"]), int(
                event.args["readyAt"]
            )
            entry.block, entry.tx_hash = event.block_number, event.tx_hash
        else:
            entry.vetoed = True
    if not found:
        typer.echo(f"no proposals carried out, scheduled or vetoed by council {council.address} / 暂无提案")
        return
    for entry in found.values():
        if entry.vetoed:
            state = "VETOED"
        elif entry.operation is not None:
            op_state = council.operation_state_of(entry.operation)
            state = {OperationState.WAITING: "WAITING", OperationState.READY: "READY", OperationState.DONE: "DONE"}.get(
                op_state, "CANCELLED"
            )
        else:
            state = "DONE" if entry.done else "-"
        ready = f" ready {_when(entry.ready_at)}" if entry.ready_at else ""
        typer.echo(f"0x{entry.digest.hex()} {entry.kind} {state}{ready} block {entry.block} tx {entry.tx_hash}")
        for english, _chinese in _words_of(c, council, entry.tx_hash, entry.digest):
            typer.echo(f"    {english}")


def _council_block(c: CliContext, council: str) -> int:
    record = read_deployment_record(c.settings.deployments_dir, c.client.chain_id) or {}
    try:
        if recorded_council(c.settings.deployments_dir, c.client.chain_id).lower() == council.lower():
            entry = record["contracts"]["GovernanceCouncil"]
            return int(entry.get("blockNumber") or 0)
    except (RegistryNotFound, KeyError, TypeError, ValueError):
        pass
    return 0


def _words_of(c: CliContext, council: CouncilClient, tx_hash: str, digest: bytes) -> list[tuple[str, str]]:
    """The calls of the proposal sent in ``tx_hash`` (when it was sent to the council itself)."""
    try:
        tx = c.client.run(lambda: c.client.w3.eth.get_transaction(tx_hash))  # type: ignore[arg-type]
        if not tx.get("to") or to_checksum_address(tx["to"]) != council.address:
            return []
        _fn, params = council.contract.decode_function_input(HexBytes(tx["input"]))
        proposal = _proposal_of(params["proposal"])
    except Exception:  # noqa: BLE001 - the words are a courtesy; the digest and state stand
        return []
    if council.digest(proposal) != digest:
        return []
    return [describe(call) for call in proposal.calls]


def _proposal_of(raw: Any) -> Proposal:
    if isinstance(raw, dict):
        kind, calls, nonce, deadline = raw["kind"], raw["calls"], raw["nonce"], raw["deadline"]
    else:
        kind, calls, nonce, deadline = raw
    parsed = []
    for call in calls:
        target, data = (call["target"], call["data"]) if isinstance(call, dict) else call
        parsed.append(Call(to_checksum_address(target), bytes(data)))
    return Proposal(ProposalKind(int(kind)), tuple(parsed), int(nonce), int(deadline))


__all__ = ["app", "standing"]
