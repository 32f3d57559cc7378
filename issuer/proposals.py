"""Proposal files (``ereg-proposal/1``) as the CLI drafts, reads, checks and prints them.

A *draft* is a proposal file whose deadline is 0: governance commands (``ereg dept …
--proposal FILE``) add calls to it; nothing is signed and nothing can run (the council refuses
a deadline in the past). ``ereg gov propose`` *seals* it: kind, nonce and deadline are set, and
from then on its digest, which members sign, is fixed; adding calls is refused.

Reading a file checks it holds together: the digest it states is the digest of its proposal,
and every signature in it recovers to the member it is filed under. A file edited after sealing
fails one of the two and is refused by every command.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import typer
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes

from chain.client import ChainClient
from chain.errors import ContractRevert
from chain.governance import (
    Call,
    CouncilClient,
    Proposal,
    ProposalFile,
    ProposalKind,
    classify,
    decode_call,
    describe,
    recover_proposal_signer,
)
from chain.registry import RegistryClient
from chain.sender import Receipt
from issuer.errors import GovernanceError, ProposalDraft, ProposalSealed, ProposalTampered

FORMAT = "ereg-proposal/1"

KIND_WORDS = {
    ProposalKind.IMMEDIATE: ("Immediate: runs at once (protective actions only)", "立即执行（仅限保护性措施）"),
    ProposalKind.SCHEDULED: ("Scheduled: runs after the time lock's delay", "定时执行：时间锁延迟期满后执行"),
}


def is_draft(pf: ProposalFile) -> bool:
    return pf.proposal.deadline == 0


# ------------------------------------------------------------------------------- reading
def read(path: Path, *, sealed: bool | None = None) -> ProposalFile:
    """The proposal file at ``path``, checked; ``sealed`` True/False also requires that state."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GovernanceError(f"no proposal file {path}", f"找不到提案文件 {path}") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise GovernanceError(
            f"proposal file {path} is unreadable: {exc}", f"提案文件 {path} 无法读取：{exc}"
        ) from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise GovernanceError(f"{path} is not an {FORMAT} file", f"{path} 不是 {FORMAT} 提案文件")
    try:
        pf = ProposalFile.from_json(raw)
    except ValueError as exc:
        if "digest does not match" in str(exc):
            raise _tampered(path, "its digest does not match its calls", "其摘要与所含调用不符") from None
        raise GovernanceError(f"{path} is not a valid proposal file: {exc}", f"{path} 不是有效的提案文件") from None
    if not is_draft(pf):
        if not raw.get("digest"):
            raise _tampered(path, "it states no digest", "文件缺少摘要")
        _check_signatures(path, pf)
    elif pf.signatures:
        raise _tampered(path, "a draft carries signatures", "草稿中不应有签名")
    if sealed is True and is_draft(pf):
        raise ProposalDraft(
            f"{path} is a draft: seal it first with `ereg gov propose {path}`",
            f"{path} 尚是草稿：请先用 `ereg gov propose {path}` 封存",
        )
    if sealed is False and not is_draft(pf):
        raise ProposalSealed(
            f"{path} is sealed (digest 0x{pf.digest.hex()}): no call can be added; start a new proposal file",
            f"{path} 已封存（摘要 0x{pf.digest.hex()}），不能再添加调用；请另建提案文件",
        )
    return pf


def _check_signatures(path: Path, pf: ProposalFile) -> None:
    for address, signature in pf.signatures.items():
        try:
            signer = recover_proposal_signer(
                pf.proposal, bytes(HexBytes(signature)), chain_id=pf.chain_id, council=pf.council
            )
        except Exception:  # noqa: BLE001 - any malformed signature is the file's fault
            raise _tampered(
                path, f"the signature filed for {address} is malformed", f"{address} 的签名格式有误"
            ) from None
        if to_checksum_address(signer) != to_checksum_address(address):
            raise _tampered(
                path,
                f"the signature filed for {address} does not sign this proposal",
                f"{address} 名下的签名并非对本提案的签名",
            )


def _tampered(path: Path, why: str, why_zh: str) -> ProposalTampered:
    return ProposalTampered(
        f"proposal file {path} was altered after sealing ({why}); do not sign or execute it",
        f"提案文件 {path} 在封存后被改动（{why_zh}），请勿签署或执行",
    )


def write(pf: ProposalFile, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(pf.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def check_chain(pf: ProposalFile, path: Path, client: ChainClient) -> None:
    if pf.chain_id != client.chain_id:
        raise GovernanceError(
            f"{path} is for chain {pf.chain_id}, the node serves chain {client.chain_id}",
            f"{path} 属于链 {pf.chain_id}，而节点是链 {client.chain_id}",
        )


# -------------------------------------------------------------------------------- drafts
def add_calls(
    path: Path, calls: Sequence[Call], *, chain_id: int, council: str, client: ChainClient | None = None
) -> ProposalFile:
    """Append ``calls`` to the draft at ``path`` (created if missing); refused once it is sealed."""
    if path.exists():
        pf = read(path, sealed=False)
        if pf.chain_id != chain_id or pf.council.lower() != council.lower():
            raise GovernanceError(
                f"{path} is a draft for council {pf.council} on chain {pf.chain_id}, not {council} on chain {chain_id}",
                f"{path} 是链 {pf.chain_id} 上治理委员会 {pf.council} 的草稿，与当前的 {council}（链 {chain_id}）不符",
            )
        existing = pf.proposal.calls
    else:
        existing = ()
    every = (*existing, *calls)
    kind = classify(every, client) if client is not None else ProposalKind.SCHEDULED
    pf = ProposalFile(chain_id, to_checksum_address(council), Proposal(kind, every, 0, 0))
    write(pf, path)
    return pf


@dataclass
class DraftGovernor:
    """A :class:`chain.governance.Governor` that carries nothing out: it adds the calls to a draft."""

    path: Path
    chain_id: int
    council: str
    client: ChainClient | None = None
    added: list[Call] = field(default_factory=list)

    def run(self, calls: Sequence[Call], *, kind: ProposalKind | None = None) -> Receipt | None:
        add_calls(self.path, calls, chain_id=self.chain_id, council=self.council, client=self.client)
        self.added.extend(calls)
        return None


# ------------------------------------------------------------------------------- printing
def names_for(calls: Sequence[Call], registry: RegistryClient | None = None) -> dict[bytes, str]:
    """Names of the departments the calls name: registered in the same proposal, or on chain."""
    names: dict[bytes, str] = {}
    wanted: set[bytes] = set()
    for call in calls:
        try:
            decoded = decode_call(call)
        except ValueError:
            continue
        args = decoded.args
        if decoded.function == "registerDepartment":
            names[bytes(args["id"])] = str(args["name"])
        for key in ("id", "department"):
            if key in args and isinstance(args[key], bytes | bytearray) and len(args[key]) == 32:
                wanted.add(bytes(args[key]))
    if registry is not None:
        for dept in wanted - names.keys():
            try:
                found = registry.department(dept)
            except ContractRevert:  # not registered (yet): the id is printed instead
                found = None
            if found is not None and found.name:
                names[dept] = found.name
    return names


def echo_calls(calls: Sequence[Call], names: dict[bytes, str], *, start: int = 1) -> None:
    """Every call's effect in words, English then Chinese."""
    for number, call in enumerate(calls, start=start):
        english, chinese = describe(call, names)
        typer.echo(f"  {number}. {english}")
        typer.echo(f"     {chinese}")


def echo_added(path: Path, pf: ProposalFile, added: Sequence[Call], registry: RegistryClient | None) -> None:
    calls = pf.proposal.calls
    typer.echo(f"added to draft {path} ({len(calls)} call(s) in all) / 已加入提案草稿 {path}（共 {len(calls)} 项）:")
    echo_calls(added, names_for(calls, registry), start=len(calls) - len(added) + 1)
    typer.echo(
        f"next: `ereg gov propose {path}` seals it for signing / 下一步：`ereg gov propose {path}` 封存后交委员签署"
    )


# ------------------------------------------------------------------------------ approvals
@dataclass(frozen=True)
class Approvals:
    """Who approved a sealed proposal: valid signatures in the file and approvals on chain."""

    signed: tuple[str, ...]  # current members whose signature is in the file
    on_chain: tuple[str, ...]  # current members who approved on chain (and did not sign)
    outsiders: tuple[str, ...]  # signatures in the file by non-members (not sent)
    threshold: int

    @property
    def count(self) -> int:
        return len(self.signed) + len(self.on_chain)

    @property
    def enough(self) -> bool:
        return self.count >= self.threshold


def approvals(pf: ProposalFile, council: CouncilClient) -> Approvals:
    members = council.members()
    current = {to_checksum_address(m) for m in members}
    signed = tuple(a for a in sorted(pf.signatures) if a in current)
    outsiders = tuple(a for a in sorted(pf.signatures) if a not in current)
    digest = pf.digest
    on_chain = tuple(m for m in members if m not in signed and council.has_approved(digest, m))
    return Approvals(signed, on_chain, outsiders, council.threshold())
