"""The governance council: M-of-N proposals, their EIP-712 approvals, the time lock, and words for people.

Every governance action is a :class:`Proposal` of calls. Members approve it by signing its
EIP-712 digest (offline, anywhere) or on chain; anyone submits it with the signatures. An
Immediate proposal runs at once as the council, which the registry lets do protective actions
only; a Scheduled one waits out the time lock (OpenZeppelin TimelockController) and is then
executed by anyone. A veto of ``vetoThreshold`` members cancels a proposal during its delay.
"""

from __future__ import annotations

import enum
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from eth_abi.abi import decode as abi_decode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from eth_utils.exceptions import ValidationError
from hexbytes import HexBytes

from chain.artifacts import load_artifact
from chain.client import ChainClient
from chain.contract import ContractClient
from chain.eip712 import typed_domain
from chain.errors import ChainError
from chain.sender import Receipt, TransactionSender
from chain.types import REASONS, Action, Role

COUNCIL = "GovernanceCouncil"
TIMELOCK = "TimelockController"
DOMAIN_NAME = "e-Registry GovernanceCouncil"
DOMAIN_VERSION = "1"

PROPOSAL_TYPES = {
    "Proposal": [
        {"name": "kind", "type": "uint8"},
        {"name": "calls", "type": "Call[]"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint64"},
    ],
    "Call": [
        {"name": "target", "type": "address"},
        {"name": "data", "type": "bytes"},
    ],
}
VETO_TYPES = {"Veto": [{"name": "proposal", "type": "bytes32"}, {"name": "deadline", "type": "uint64"}]}

#: How long approvals of a new proposal stay good unless told otherwise.
DEFAULT_APPROVAL_WINDOW = 7 * 86_400


class ProposalKind(enum.IntEnum):
    IMMEDIATE = 0  # protective actions: at once
    SCHEDULED = 1  # anything that adds power: through the time lock


class OperationState(enum.IntEnum):
    """TimelockController.OperationState."""

    UNSET = 0
    WAITING = 1
    READY = 2
    DONE = 3


@dataclass(frozen=True)
class Call:
    target: str
    data: bytes

    def as_tuple(self) -> tuple[str, bytes]:
        return (to_checksum_address(self.target), self.data)


@dataclass(frozen=True)
class Proposal:
    kind: ProposalKind
    calls: tuple[Call, ...]
    nonce: int
    deadline: int

    def as_tuple(self) -> tuple[Any, ...]:
        return (int(self.kind), [c.as_tuple() for c in self.calls], self.nonce, self.deadline)

    def message(self) -> dict[str, Any]:
        return {
            "kind": int(self.kind),
            "calls": [{"target": to_checksum_address(c.target), "data": c.data} for c in self.calls],
            "nonce": self.nonce,
            "deadline": self.deadline,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.name.lower(),
            "calls": [{"target": to_checksum_address(c.target), "data": "0x" + c.data.hex()} for c in self.calls],
            "nonce": str(self.nonce),
            "deadline": self.deadline,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Proposal:
        try:
            kind = ProposalKind[str(raw["kind"]).upper()]
            calls = tuple(
                Call(to_checksum_address(str(c["target"])), bytes(HexBytes(str(c["data"])))) for c in raw["calls"]
            )
            return cls(kind, calls, int(raw["nonce"]), int(raw["deadline"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a proposal: {exc}") from exc


def new_proposal(
    calls: Sequence[Call], kind: ProposalKind, *, now: int | None = None, window: int = DEFAULT_APPROVAL_WINDOW
) -> Proposal:
    """A proposal with a fresh random nonce whose approvals stay good for ``window`` seconds."""
    if not calls:
        raise ValueError("a proposal needs at least one call")
    start = int(time.time()) if now is None else now
    return Proposal(kind, tuple(calls), int.from_bytes(os.urandom(16), "big"), start + window)


def council_domain(chain_id: int, council: str) -> dict[str, Any]:
    return typed_domain(DOMAIN_NAME, DOMAIN_VERSION, chain_id, council)


def proposal_signable(proposal: Proposal, *, chain_id: int, council: str) -> Any:
    return encode_typed_data(council_domain(chain_id, council), PROPOSAL_TYPES, proposal.message())


def veto_signable(digest: bytes, deadline: int, *, chain_id: int, council: str) -> Any:
    return encode_typed_data(
        council_domain(chain_id, council), VETO_TYPES, {"proposal": digest, "deadline": deadline}
    )


def proposal_digest(proposal: Proposal, *, chain_id: int, council: str) -> bytes:
    """The proposal's id: the EIP-712 digest members sign (computed off chain, equal to the contract's)."""
    signable = proposal_signable(proposal, chain_id=chain_id, council=council)
    return bytes(keccak(b"\x19\x01" + signable.header + signable.body))


def sign_proposal(account: LocalAccount, proposal: Proposal, *, chain_id: int, council: str) -> bytes:
    return bytes(account.sign_message(proposal_signable(proposal, chain_id=chain_id, council=council)).signature)


def recover_proposal_signer(proposal: Proposal, signature: bytes, *, chain_id: int, council: str) -> str:
    """The address that signed ``proposal``; raises ValueError for a malformed signature."""
    signable = proposal_signable(proposal, chain_id=chain_id, council=council)
    return _recover(signable, signature)


def _recover(signable: Any, signature: bytes) -> str:
    try:
        return str(Account.recover_message(signable, signature=signature))
    except (ValueError, ValidationError) as exc:
        raise ValueError(f"malformed signature: {exc}") from exc


def sign_veto(account: LocalAccount, digest: bytes, deadline: int, *, chain_id: int, council: str) -> bytes:
    signable = veto_signable(digest, deadline, chain_id=chain_id, council=council)
    return bytes(account.sign_message(signable).signature)


def recover_veto_signer(digest: bytes, deadline: int, signature: bytes, *, chain_id: int, council: str) -> str:
    signable = veto_signable(digest, deadline, chain_id=chain_id, council=council)
    return _recover(signable, signature)


class CouncilClient(ContractClient):
    """The deployed council and its time lock."""

    contract_name = COUNCIL

    def __init__(self, client: ChainClient, address: str) -> None:
        super().__init__(client, address)
        self._timelock: str | None = None

    # ---------------------------------------------------------------------------- reads
    def members(self) -> list[str]:
        return [to_checksum_address(a) for a in self._call("members")]

    def is_member(self, account: str) -> bool:
        return bool(self._call("isMember", to_checksum_address(account)))

    def threshold(self) -> int:
        return int(self._call("threshold"))

    def veto_threshold(self) -> int:
        return int(self._call("vetoThreshold"))

    def development(self) -> bool:
        return bool(self._call("development"))

    def timelock(self) -> str:
        if self._timelock is None:
            self._timelock = to_checksum_address(self._call("timelock"))
        return self._timelock

    def min_delay(self) -> int:
        return int(self._timelock_call("getMinDelay"))

    def proposal_digest(self, proposal: Proposal) -> bytes:
        return bytes(self._call("proposalDigest", proposal.as_tuple()))

    def veto_digest(self, digest: bytes, deadline: int) -> bytes:
        return bytes(self._call("vetoDigest", digest, deadline))

    def operation_id(self, proposal: Proposal) -> bytes:
        return bytes(self._call("operationId", proposal.as_tuple()))

    def operation_state(self, proposal: Proposal) -> OperationState:
        return self.operation_state_of(self.operation_id(proposal))

    def operation_state_of(self, operation: bytes) -> OperationState:
        """The time lock's state of an operation id (as ProposalScheduled names it)."""
        return OperationState(int(self._timelock_call("getOperationState", operation)))

    def ready_at(self, proposal: Proposal) -> int:
        """Block time from which a scheduled proposal may be executed (0: not scheduled; 1: done)."""
        return int(self._timelock_call("getTimestamp", self.operation_id(proposal)))

    def has_approved(self, digest: bytes, member: str) -> bool:
        return bool(self._call("hasApproved", digest, to_checksum_address(member)))

    def is_nonce_used(self, nonce: int) -> bool:
        return bool(self._call("isNonceUsed", nonce))

    def is_vetoed(self, digest: bytes) -> bool:
        return bool(self._call("isVetoed", digest))

    def digest(self, proposal: Proposal) -> bytes:
        """The proposal's id, computed locally (no call)."""
        return proposal_digest(proposal, chain_id=self.client.chain_id, council=self.address)

    # --------------------------------------------------------------------------- writes
    def approve(self, sender: TransactionSender, digest: bytes) -> Receipt:
        return self._send(sender, "approve", digest)

    def revoke_approval(self, sender: TransactionSender, digest: bytes) -> Receipt:
        return self._send(sender, "revokeApproval", digest)

    def execute(self, sender: TransactionSender, proposal: Proposal, signatures: Sequence[bytes] = ()) -> Receipt:
        return self._send(sender, "execute", proposal.as_tuple(), list(signatures))

    def execute_scheduled(self, sender: TransactionSender, proposal: Proposal) -> Receipt:
        return self._send(sender, "executeScheduled", proposal.as_tuple())

    def veto(
        self, sender: TransactionSender, proposal: Proposal, deadline: int, signatures: Sequence[bytes]
    ) -> Receipt:
        return self._send(sender, "veto", proposal.as_tuple(), deadline, list(signatures))

    def set_council_call(self, members: Sequence[str], threshold: int, veto_threshold: int) -> Call:
        """The call that replaces the council (to be scheduled: only the time lock may make it)."""
        data = self.contract.encode_abi(
            "setCouncil", args=[[to_checksum_address(m) for m in members], threshold, veto_threshold]
        )
        return Call(self.address, bytes(HexBytes(data)))

    def _timelock_call(self, fn_name: str, *args: Any) -> Any:
        timelock = self.client.contract(TIMELOCK, self.timelock())
        fn = getattr(timelock.functions, fn_name)(*args)
        return self.client.run(lambda: fn.call(), load_artifact(TIMELOCK))


class Governor(Protocol):
    """Whatever carries out governance calls: the council acting through its members."""

    def run(self, calls: Sequence[Call], *, kind: ProposalKind | None = None) -> Receipt | None: ...


@dataclass
class Governance:
    """The council acting with members' keys held here (the demo, tests, a signing ceremony).

    ``run`` classifies the calls (protective → Immediate, anything else → Scheduled), has the
    first ``threshold`` members sign, submits through ``relayer``, and for a Scheduled proposal
    waits out the delay with ``wait(seconds)`` (sleep on a real network; move the clock on a
    test node) before executing it. Inside :meth:`batch`, calls are gathered into one proposal.
    """

    council: CouncilClient
    members: Sequence[LocalAccount]
    relayer: TransactionSender
    wait: Callable[[int], None] = field(default=time.sleep)
    last_proposal: Proposal | None = None
    _pending: list[Call] | None = None

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Gather every call made inside into one proposal, carried out on leaving the block."""
        if self._pending is not None:
            yield
            return
        self._pending = []
        try:
            yield
            calls = self._pending
        finally:
            self._pending = None
        if calls:
            self.run(calls)

    def run(self, calls: Sequence[Call], *, kind: ProposalKind | None = None) -> Receipt | None:
        """Carry out ``calls`` as one proposal (None inside :meth:`batch`, where they wait)."""
        if self._pending is not None:
            self._pending.extend(calls)
            return None
        chosen = kind if kind is not None else classify(calls, self.council.client)
        proposal = new_proposal(calls, chosen, now=self.council.client.latest_block_time())
        self.last_proposal = proposal
        receipt = self.council.execute(self.relayer, proposal, self.signatures(proposal))
        if chosen is ProposalKind.IMMEDIATE:
            return receipt
        self.wait_until_ready(proposal)
        return self.council.execute_scheduled(self.relayer, proposal)

    def signatures(self, proposal: Proposal, count: int | None = None) -> list[bytes]:
        needed = self.council.threshold() if count is None else count
        chain_id, address = self.council.client.chain_id, self.council.address
        return [sign_proposal(m, proposal, chain_id=chain_id, council=address) for m in self.members[:needed]]

    def wait_until_ready(self, proposal: Proposal) -> None:
        ready_at = self.council.ready_at(proposal)
        remaining = ready_at - self.council.client.latest_block_time()
        if remaining >= 0:
            self.wait(remaining + 1)


# ------------------------------------------------------------------------- what a call does
_SELECTORS: dict[bytes, tuple[str, dict[str, Any]]] = {}


def _function_table() -> dict[bytes, tuple[str, dict[str, Any]]]:
    if not _SELECTORS:
        for name in ("DocumentRegistry", "PropertyRegistry", "Sm2KeyRegistry", COUNCIL, TIMELOCK):
            for item in load_artifact(name).abi:
                if item.get("type") != "function":
                    continue
                signature = f"{item['name']}({','.join(_canonical(i) for i in item.get('inputs', []))})"
                _SELECTORS.setdefault(keccak(text=signature)[:4], (name, item))
    return _SELECTORS


def _canonical(param: dict[str, Any]) -> str:
    kind: str = param["type"]
    if kind.startswith("tuple"):
        return f"({','.join(_canonical(c) for c in param.get('components', []))}){kind[len('tuple'):]}"
    return kind


@dataclass(frozen=True)
class DecodedCall:
    contract: str
    function: str
    args: dict[str, Any]


def decode_call(call: Call) -> DecodedCall:
    """The function and arguments of ``call``; ValueError when it is none of the project's functions."""
    found = _function_table().get(call.data[:4])
    if found is None:
        raise ValueError(f"unknown function selector 0x{call.data[:4].hex()} on {call.target}")
    contract, item = found
    inputs = item.get("inputs", [])
    values = abi_decode([_canonical(i) for i in inputs], call.data[4:])
    args = {i["name"]: _checksummed(i["type"], v) for i, v in zip(inputs, values, strict=True)}
    return DecodedCall(contract, item["name"], args)


def _checksummed(kind: str, value: Any) -> Any:
    """Addresses as people compare them (EIP-55), not as the decoder gives them (lower case)."""
    if kind == "address":
        return to_checksum_address(value)
    if kind == "address[]":
        return [to_checksum_address(v) for v in value]
    return value


def classify(calls: Sequence[Call], client: ChainClient | None = None, *, now: int | None = None) -> ProposalKind:
    """Immediate when every call only protects (the registry allows the council those at once).

    Withdrawing roles reads the department's current roles, so it needs ``client``; without one it
    counts as adding power.
    """
    at = now if now is not None else (client.latest_block_time() if client is not None else int(time.time()))
    for call in calls:
        try:
            decoded = decode_call(call)
        except ValueError:
            return ProposalKind.SCHEDULED
        if not _protective(call, decoded, at, client):
            return ProposalKind.SCHEDULED
    return ProposalKind.IMMEDIATE


def _protective(call: Call, decoded: DecodedCall, now: int, client: ChainClient | None) -> bool:
    name, args = decoded.function, decoded.args
    if decoded.contract == "Sm2KeyRegistry" and name == "retireSm2Key":
        until = int(args["validUntil"])  # as a signer key's: from now on protects, backdated waits
        return until == 0 or until >= now + 60
    if decoded.contract != "DocumentRegistry":
        return False
    if name == "retireSignerKey":
        until = int(args["validUntil"])  # 0: from the block the proposal runs in
        return until == 0 or until >= now + 60  # a margin for the time the proposal takes to run
    if name == "setDepartmentActive":
        return not args["active"]
    if name == "deauthorizeDocumentType":
        return True
    if name == "setDepartmentRoles":
        if client is None:
            return False
        contract = client.contract("DocumentRegistry", call.target)
        fn = contract.functions.getDepartment(bytes(args["id"]))
        try:
            current = int(client.run(lambda: fn.call(), load_artifact("DocumentRegistry"))[4])
        except ChainError:
            return False  # an unknown department: let the registry say so, after the time lock
        return int(args["roles"]) & ~current == 0
    if name == "governChangeStatus":
        return int(args["change"][0]) == Action.SUSPEND
    return False


def _hex(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def _when(timestamp: int) -> str:
    if timestamp == 0:
        return "—"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(timestamp))


def _roles(value: int) -> str:
    return "|".join(r.name or "" for r in Role if r and int(value) & int(r)) or "NONE"


def describe(call: Call, names: dict[bytes, str] | None = None) -> tuple[str, str]:
    """What ``call`` does, in English and in Chinese, for people who must approve it."""
    try:
        decoded = decode_call(call)
    except ValueError:
        text = f"call 0x{call.data[:4].hex()} on {call.target} (unknown to this tool: do not sign blind)"
        return text, f"调用 {call.target} 的未知函数 0x{call.data[:4].hex()}（本工具无法解读，请勿盲签）"
    a = decoded.args
    known = names or {}

    def dept(key: str) -> str:
        value = bytes(a[key])
        return f"{known[value]} ({_hex(value)[:10]}…)" if value in known else _hex(value)

    def dept_id(key: str) -> str:
        return f"{_hex(bytes(a[key]))[:10]}…"

    name = decoded.function
    if name == "registerDepartment":
        return (
            f"register department {a['name']} ({dept_id('id')}), credit code {a['creditCode']}, "
            f"roles {_roles(a['roles'])}",
            f"登记部门 {a['name']}（{dept_id('id')}），统一社会信用代码 {a['creditCode']}，角色 {_roles(a['roles'])}",
        )
    if name == "setDepartmentActive":
        if a["active"]:
            return f"reactivate department {dept('id')}", f"恢复部门 {dept('id')}"
        return f"deactivate department {dept('id')} (it can no longer anchor or change statuses)", (
            f"停用部门 {dept('id')}（不能再上链或变更状态）"
        )
    if name == "setDepartmentRoles":
        roles = _roles(a["roles"])
        return f"set the roles of {dept('id')} to {roles}", f"将 {dept('id')} 的角色设为 {roles}"
    if name == "addSignerKey":
        until = int(a["validUntil"])
        return (
            f"add signing key {a['signer']} to {dept('department')}, valid from {_when(int(a['validFrom']))}"
            f" until {_when(until) if until else 'further notice'}",
            f"为 {dept('department')} 添加签名密钥 {a['signer']}，自 {_when(int(a['validFrom']))} 起"
            f"{'至 ' + _when(until) if until else '长期'}有效",
        )
    if name == "retireSignerKey":
        until = int(a["validUntil"])
        when_en = _when(until) if until else "the moment this proposal runs"
        when_zh = _when(until) if until else "本提案执行之时"
        return (
            f"retire signing key {a['signer']} from {when_en} (what it signed after then no longer counts)",
            f"自 {when_zh} 起停用签名密钥 {a['signer']}（此后所签一律无效）",
        )
    if name == "addSm2Key":
        until = int(a["validUntil"])
        key = f"0x{bytes(a['x']).hex()}{bytes(a['y']).hex()}"
        return (
            f"add SM2 key {key[:18]}…{key[-8:]} (signs ereg/1-sm batch roots) to {dept('department')}, valid from "
            f"{_when(int(a['validFrom']))} until {_when(until) if until else 'further notice'}",
            f"为 {dept('department')} 添加 SM2 签名密钥 {key[:18]}…{key[-8:]}（签署 ereg/1-sm 批次根），自 "
            f"{_when(int(a['validFrom']))} 起{'至 ' + _when(until) if until else '长期'}有效",
        )
    if name == "retireSm2Key":
        until = int(a["validUntil"])
        when_en = _when(until) if until else "the moment this proposal runs"
        when_zh = _when(until) if until else "本提案执行之时"
        kid = _hex(a["keyId"])
        return (
            f"retire SM2 key {kid[:10]}… from {when_en} (batches it signed after then no longer verify)",
            f"自 {when_zh} 起停用 SM2 密钥 {kid[:10]}…（此后所签批次一律无效）",
        )
    if name == "registerDocumentType":
        return f"register document type {a['name']}", f"登记文书类型 {a['name']}"
    if name == "authorizeDocumentType":
        return (
            f"let {dept('department')} issue document type {_hex(a['docType'])[:10]}…",
            f"授权 {dept('department')} 签发文书类型 {_hex(a['docType'])[:10]}…",
        )
    if name == "deauthorizeDocumentType":
        return (
            f"stop {dept('department')} issuing document type {_hex(a['docType'])[:10]}…",
            f"停止 {dept('department')} 签发文书类型 {_hex(a['docType'])[:10]}…",
        )
    if name == "governChangeStatus":
        action = Action(int(a["change"][0])).name.lower()
        root, target = _hex(a["change"][1]), _hex(a["change"][2])
        document = int.from_bytes(a["change"][2], "big") != 0
        what = f"document {target[:10]}… of batch {root[:10]}…" if document else f"batch {root[:10]}…"
        what_zh = f"批次 {root[:10]}… 中的文书 {target[:10]}…" if document else f"批次 {root[:10]}…"
        zh = {"revoke": "撤销", "suspend": "暂停", "reinstate": "恢复", "supersede": "替换"}.get(action, action)
        reason = int(a["change"][7])
        words = REASONS.get(reason, (str(reason), str(reason)))
        return (
            f"{action} {what} of {dept('department')} (reason {reason}: {words[0]})",
            f"{zh} {dept('department')} 的{what_zh}（原因 {reason}：{words[1]}）",
        )
    if name in ("grantRole", "revokeRole"):
        role = _ROLE_NAMES.get(bytes(a["role"]), _hex(a["role"]))
        account = to_checksum_address(a["account"])
        on = to_checksum_address(call.target)
        if name == "grantRole":
            return f"grant {role} to {account} on contract {on}", f"在合约 {on} 上授予 {account} {role}"
        return f"revoke {role} from {account} on contract {on}", f"在合约 {on} 上撤回 {account} 的 {role}"
    if name == "setCouncil":
        members = ", ".join(str(m) for m in a["members_"])
        size, threshold, veto = len(a["members_"]), a["threshold_"], a["vetoThreshold_"]
        return (
            f"replace the council by {threshold} of {size} ({members}), {veto} to veto",
            f"更换治理委员会：{size} 人中须 {threshold} 人批准，{veto} 人可否决（{members}）",
        )
    if name == "updateDelay":
        return f"set the time lock's delay to {a['newDelay']} s", f"将时间锁延迟设为 {a['newDelay']} 秒"
    if name == "approveCorrection":
        return f"approve correction case {a['caseId']} (更正登记)", f"批准更正登记案件 {a['caseId']}"
    text = ", ".join(f"{k}={_plain(v)}" for k, v in a.items())
    return f"{decoded.contract}.{name}({text})", f"{decoded.contract}.{name}（{text}）"


def _plain(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return _hex(bytes(value))
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_plain(v) for v in value) + "]"
    return str(value)


_ROLE_NAMES = {
    keccak(text="GOVERNOR_ROLE"): "GOVERNOR_ROLE",
    keccak(text="GUARDIAN_ROLE"): "GUARDIAN_ROLE",
    keccak(text="PROPERTY_REGISTRY_ROLE"): "PROPERTY_REGISTRY_ROLE",
    b"\x00" * 32: "DEFAULT_ADMIN_ROLE",
}


# --------------------------------------------------------------------------------- proposal files
@dataclass
class ProposalFile:
    """A proposal on its way through the council, as a JSON file members pass around.

    It names the chain and council it is for, the proposal itself, and the members' signatures
    collected so far (address → signature). :meth:`from_json` checks the stated digest against
    the proposal; :meth:`signature_bytes` checks each signature against the member it is filed
    under, and :meth:`add_signature` files a signature under the address it recovers to.
    """

    chain_id: int
    council: str
    proposal: Proposal
    signatures: dict[str, str] = field(default_factory=dict)

    @property
    def digest(self) -> bytes:
        return proposal_digest(self.proposal, chain_id=self.chain_id, council=self.council)

    def add_signature(self, signature: bytes) -> str:
        signer = recover_proposal_signer(self.proposal, signature, chain_id=self.chain_id, council=self.council)
        self.signatures[to_checksum_address(signer)] = "0x" + signature.hex()
        return signer

    def signature_bytes(self, members: Sequence[str] | None = None) -> list[bytes]:
        """The signatures of current ``members`` (all when None), each checked against its signer."""
        allowed = None if members is None else {to_checksum_address(m) for m in members}
        found = []
        for address, signature in sorted(self.signatures.items()):
            raw = bytes(HexBytes(signature))
            signer = recover_proposal_signer(self.proposal, raw, chain_id=self.chain_id, council=self.council)
            if to_checksum_address(signer) != to_checksum_address(address):
                raise ValueError(f"the signature filed for {address} was made by {signer}")
            if allowed is None or to_checksum_address(signer) in allowed:
                found.append(raw)
        return found

    def to_json(self) -> dict[str, Any]:
        return {
            "format": "ereg-proposal/1",
            "chainId": self.chain_id,
            "council": to_checksum_address(self.council),
            "digest": "0x" + self.digest.hex(),
            "proposal": self.proposal.to_json(),
            "signatures": dict(sorted(self.signatures.items())),
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> ProposalFile:
        if not isinstance(raw, dict) or raw.get("format") != "ereg-proposal/1":
            raise ValueError("not an ereg-proposal/1 file")
        try:
            found = cls(
                int(raw["chainId"]),
                to_checksum_address(str(raw["council"])),
                Proposal.from_json(raw["proposal"]),
                {to_checksum_address(k): str(v) for k, v in dict(raw.get("signatures") or {}).items()},
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not an ereg-proposal/1 file: {exc}") from exc
        stated = str(raw.get("digest", ""))
        if stated and stated.lower() != "0x" + found.digest.hex():
            raise ValueError("the file's digest does not match its proposal (edited after sealing?)")
        return found

    def write(self, path: Path) -> None:
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, path)

    @classmethod
    def read(cls, path: Path) -> ProposalFile:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ChainError(f"no proposal file {path}") from exc
        except (OSError, ValueError) as exc:
            raise ChainError(f"proposal file {path} is unreadable: {exc}") from exc
        try:
            return cls.from_json(raw)
        except ValueError as exc:
            raise ChainError(f"proposal file {path}: {exc}") from exc
