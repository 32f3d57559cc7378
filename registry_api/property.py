"""Relaying the property workflow: each step signed by the acting department, sent by the relay.

A step is one ``executeSigned`` transaction of the PropertyRegistry. Unlike anchors, steps are
not queued and batched: a window clerk waits for the answer (the case id, the finalization),
the steps are few, and each depends on the chain's state at the moment it runs. So the relay
checks the signature, asks the registry whether it would take the step (an estimate that
decodes the registry's custom error), sends it, and answers with the receipt's events.

Nothing is queued, so nothing can be lost: the signed step carries the signer's nonce, which the
registry consumes once. Sending the same signed step again is how a client whose answer was lost
(or came back 202 SUBMITTED) learns the outcome: the relay answers with the step's transaction,
marked ``duplicate``.

Finding that transaction is bounded work, however old the step (its calldata is public once
mined, so anyone can replay it): the relay records every step it sends (signer, nonce → digest,
transaction; the newest ``steps_kept`` in its store, so a restart keeps them); a step it never
saw is looked for in the registry's ``SignedActionExecuted`` logs at most ``lookback_chunks``
eth_getLogs chunks back from the head, found ones are recorded too, and a step not found there
is refused with 409 NONCE_USED ("more than N blocks ago"), remembered so that a repeat costs no
eth_getLogs at all. Nothing ever scans toward the deployment block.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Protocol, TypeVar

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3.exceptions import TransactionNotFound

from chain.client import ChainClient
from chain.errors import ChainError, ChainUnavailable, ContractRevert, RegistryNotFound, TransactionTimeout
from chain.property import (
    PropertyCall,
    PropertyClient,
    SignedAction,
    action_signable,
    recorded_property_registry,
)
from chain.sender import Receipt, TransactionSender
from httpkit.ratelimit import RateLimiter
from registry_api import errors
from registry_api.errors import RelayError
from registry_api.relay import check_key_rate, eip191_digest, recover

log = logging.getLogger("ereg.relay.property")
T = TypeVar("T")

EXECUTED = "EXECUTED"
SUBMITTED = "SUBMITTED"

_EXECUTED_TOPIC = keccak(text="SignedActionExecuted(address,uint256,bytes32)")

#: The registry's custom errors -> (HTTP status, code, Chinese message). English is the decoded error.
REVERTS: dict[str, tuple[int, str, str]] = {
    "PropertyRegistryExpiredSignature": (401, "EXPIRED", "签名已过期"),
    "PropertyRegistryInvalidSignature": (401, "BAD_SIGNATURE", "签名无法验证"),
    "PropertyRegistryUnknownKey": (401, "UNKNOWN_KEY", "签名密钥未登记"),
    "PropertyRegistryKeyNotValid": (403, "KEY_NOT_VALID", "签名密钥不在有效期内"),
    "PropertyRegistryDepartmentInactive": (403, "DEPARTMENT_INACTIVE", "该部门已停用"),
    "PropertyRegistryUnauthorized": (403, "NOT_AUTHORIZED", "该部门无权进行此操作"),
    "PropertyRegistryNotMortgagee": (403, "NOT_MORTGAGEE", "只有登记该抵押的银行可以进行此操作"),
    "PropertyRegistryNotSeizingCourt": (403, "NOT_SEIZING_COURT", "只有作出该查封的法院可以解除查封"),
    "PropertyRegistryActionNotAllowed": (422, "ACTION_NOT_ALLOWED", "所签名的调用不是不动产登记操作"),
    "PropertyRegistryNonceUsed": (409, "NONCE_USED", "该签名序号已被使用"),
    "PropertyRegistryUnknownUnit": (404, "UNKNOWN_UNIT", "不动产单元未登记"),
    "PropertyRegistryUnknownCase": (404, "UNKNOWN_CASE", "登记案件不存在"),
    "PropertyRegistryUnknownMortgage": (404, "UNKNOWN_MORTGAGE", "该抵押登记不存在"),
    "PropertyRegistryUnknownSeizure": (404, "UNKNOWN_SEIZURE", "该查封登记不存在"),
    "PropertyRegistryUnitExists": (409, "UNIT_EXISTS", "该不动产单元已登记"),
    "PropertyRegistryCaseAlreadyOpen": (409, "CASE_ALREADY_OPEN", "该不动产单元已有办理中的案件（转移或更正登记）"),
    "PropertyRegistryInvalidCaseState": (409, "INVALID_CASE_STATE", "案件当前状态不允许此操作"),
    "PropertyRegistryStaleRound": (409, "STALE_ROUND", "案件已退回重新提交，请按最新一轮办理"),
    "PropertyRegistryAlreadyApproved": (
        409,
        "ALREADY_APPROVED",
        "该部门已审核通过本轮案件，或本部门受理的更正登记须由另一部门审核",
    ),
    "PropertyRegistryRoleAlreadyApproved": (409, "ROLE_ALREADY_APPROVED", "该职能已由其他部门审核通过"),
    "PropertyRegistryUnitSeized": (409, "UNIT_SEIZED", "该不动产已被查封"),
    "PropertyRegistryMortgageNotConsented": (409, "MORTGAGE_NOT_CONSENTED", "抵押权人银行尚未同意转移"),
    "PropertyRegistryMortgageReleased": (409, "MORTGAGE_RELEASED", "该抵押已注销"),
    "PropertyRegistrySeizureReleased": (409, "SEIZURE_RELEASED", "该查封已解除"),
    "PropertyRegistryAlreadyConsented": (409, "ALREADY_CONSENTED", "银行已同意本轮转移"),
    "PropertyRegistryTooManyEncumbrances": (409, "TOO_MANY_ENCUMBRANCES", "该不动产的抵押或查封数量已达上限"),
    "PropertyRegistryCertificateNotActive": (409, "CERTIFICATE_NOT_ACTIVE", "证书已撤销、暂停或被取代"),
    "PropertyRegistryCertificateUnchanged": (409, "CERTIFICATE_UNCHANGED", "新证书与现行证书相同"),
    "PropertyRegistryInvalidUnit": (422, "INVALID_UNIT", "不动产单元号有误"),
    "PropertyRegistryInvalidOwnerCount": (422, "INVALID_OWNER_COUNT", "权利人数量有误"),
    "PropertyRegistryInvalidOwner": (422, "INVALID_OWNER", "权利人承诺值或份额有误"),
    "PropertyRegistryInvalidShares": (422, "INVALID_SHARES", "共有份额之和必须为 10000 基点"),
    "PropertyRegistryInvalidCertificateProof": (422, "INVALID_CERTIFICATE_PROOF", "证书的默克尔证明有误"),
    "PropertyRegistryCertificateNotAnchored": (422, "CERTIFICATE_NOT_ANCHORED", "证书未在区块链上登记"),
    "PropertyRegistryCertificateWrongType": (422, "CERTIFICATE_WRONG_TYPE", "证书类型不符"),
    "PropertyRegistryCertificateForeignIssuer": (422, "CERTIFICATE_FOREIGN_ISSUER", "证书不是由办理部门签发"),
    "PropertyRegistryInvalidRuling": (422, "INVALID_RULING", "裁定书哈希不能为空"),
    "PropertyRegistryInvalidApprovalRoles": (
        422,
        "INVALID_APPROVAL_ROLES",
        "审核职能有误：每次审核须且只能选择一个职能（自然资源、税务或住建）",
    ),
    "PropertyRegistryWrongCaseKind": (409, "WRONG_CASE_KIND", "案件类型不符：转移登记与更正登记的操作不能混用"),
    "PropertyRegistryMortgageCertificateUsed": (
        409,
        "MORTGAGE_CERTIFICATE_USED",
        "该不动产登记证明已用于一项抵押登记，不能再次使用",
    ),
    "PropertyRegistryCertificateInUse": (
        409,
        "CERTIFICATE_IN_USE",
        "该证书已是某不动产单元的现行权属证书或有效抵押的证明",
    ),
    # A title is changed by the DocumentRegistry on the PropertyRegistry's behalf; its refusals
    # bubble up through the step.
    "DocumentRegistryTitleLocked": (
        409,
        "TITLE_LOCKED",
        "该证书为不动产现行权属证书或有效抵押的证明，只能通过不动产登记流程变更",
    ),
    # Raised by governance only (a department holds at most one of NATRES/TAX/HOUSING); named here
    # so that it never reaches a window as an unnamed refusal.
    "IssuerRegistryConflictingRoles": (
        409,
        "CONFLICTING_ROLES",
        "一个部门只能承担自然资源、税务、住建职能中的一项",
    ),
}


def refusal(revert: ContractRevert) -> RelayError:
    status, code, zh = REVERTS.get(revert.name, (422, "CONTRACT_REFUSED", "不动产登记合约拒绝了该操作"))
    return RelayError(status, code, f"the property registry refuses this step: {revert}", zh)


def nonce_used_long_ago(signer: str, nonce: int, blocks: int) -> RelayError:
    """The nonce is used, by a step the relay neither sent nor finds within its look-back."""
    return RelayError(
        409,
        "NONCE_USED",
        f"key {signer} has used nonce {nonce} already, more than {blocks} blocks ago: the relay looks no "
        "further back for the step that used it",
        f"该签名序号已被使用（早于 {blocks} 个区块之前，中继服务不再向前查找）",
    )


class StepRecord(Protocol):
    """Where the relay remembers the property steps it sent or found (its queue store)."""

    def remember_step(self, signer: str, nonce: int, digest: str, tx_hash: str, *, keep: int) -> None: ...

    def find_step(self, signer: str, nonce: int) -> tuple[str, str] | None: ...


#: (signer, nonce) pairs whose step was not found within the look-back, remembered for repeats.
_NOT_FOUND_KEPT = 10_000


def not_deployed(detail: str) -> RelayError:
    return RelayError(
        503, "PROPERTY_REGISTRY_UNAVAILABLE", f"no property registry is available: {detail}", "不动产登记合约不可用"
    )


@dataclass(frozen=True)
class StepEvent:
    event: str
    args: dict[str, Any]
    log_index: int


@dataclass(frozen=True)
class StepResult:
    state: str  # EXECUTED or SUBMITTED
    duplicate: bool
    function: str
    signer: str
    tx_hash: str
    block: int | None
    gas_used: int | None
    events: list[StepEvent]


class PropertyRelay:
    """Checks, sends and reports department-signed property steps."""

    def __init__(
        self,
        client: ChainClient,
        sender: TransactionSender,
        *,
        address: str | None,
        document_registry: str,
        deployments_dir: Path,
        deadline_margin: int = 30,
        wait: float = 20.0,
        steps: StepRecord | None = None,
        steps_kept: int = 100_000,
        lookback_chunks: int = 10,
        key_limiter: RateLimiter | None = None,
    ) -> None:
        self.client = client
        self.sender = sender
        self._address = address
        self.document_registry = document_registry
        self.deployments_dir = deployments_dir
        self.deadline_margin = deadline_margin
        self.wait = wait
        self.steps = steps
        self.steps_kept = steps_kept
        self.lookback_chunks = lookback_chunks
        self.key_limiter = key_limiter
        self._prop: PropertyClient | None = None
        self._from_block = 0
        self._lock = threading.Lock()
        self._not_found: OrderedDict[tuple[str, int], None] = OrderedDict()
        self._not_found_lock = threading.Lock()

    @property
    def lookback_blocks(self) -> int:
        return self.lookback_chunks * self.client.settings.log_chunk_size

    # --------------------------------------------------------------------- the registry
    def registry(self) -> PropertyClient:
        """The PropertyRegistry, found on first use (the relay starts while the chain is down)."""
        with self._lock:
            if self._prop is None:
                self._prop = self._chain(self._resolve)
            return self._prop

    def address_or_none(self) -> str | None:
        try:
            return self.registry().address
        except RelayError:
            return None

    def _resolve(self) -> PropertyClient:
        self.client.check_chain_id()  # the node must serve the chain the signatures are bound to
        address = self._address
        if address is None:
            try:
                recorded = recorded_property_registry(
                    self.deployments_dir, self.client.chain_id, document_registry=self.document_registry
                )
            except RegistryNotFound as exc:
                raise not_deployed(f"no address is configured, and {exc}") from None
            address, self._from_block = recorded.address, recorded.block_number
        prop = PropertyClient(self.client, address)
        try:
            prop.ensure_deployed()
        except RegistryNotFound as exc:
            raise not_deployed(str(exc)) from None
        return prop

    # -------------------------------------------------------------------------- steps
    def submit(
        self,
        call: PropertyCall,
        *,
        nonce: int,
        deadline: int,
        signature: bytes,
        chain_id: int | None = None,
        registry: str | None = None,
    ) -> StepResult:
        prop = self.registry()
        return self._chain(lambda: self._submit(prop, call, nonce, deadline, signature, chain_id, registry))

    def _submit(
        self,
        prop: PropertyClient,
        call: PropertyCall,
        nonce: int,
        deadline: int,
        signature: bytes,
        chain_id: int | None,
        registry: str | None,
    ) -> StepResult:
        if chain_id is not None and chain_id != self.client.chain_id:
            raise errors.wrong_chain(f"chain id {chain_id}, this relay serves {self.client.chain_id}")
        if registry is not None and registry.lower() != prop.address.lower():
            raise errors.wrong_chain(f"property registry {registry}, this relay serves {prop.address}")
        signed = SignedAction(prop.calldata(call), nonce, deadline, signature)
        signable = action_signable(signed.data, nonce, deadline, self.client.chain_id, prop.address)
        digest = eip191_digest(signable)
        signer = recover(signable, signature)
        check_key_rate(self.key_limiter, [signer])  # before any chain read of this step
        if prop.is_nonce_used(signer, nonce):
            return self._executed(prop, call, signer, nonce, digest)
        now = int(self.client.run(lambda: self.client.w3.eth.get_block("latest"))["timestamp"])
        if deadline < now + self.deadline_margin:
            raise errors.expired(deadline, now, self.deadline_margin)
        function = prop.execute_signed_function(signed)
        try:
            # The estimate runs the step as the registry would: a refusal here costs nothing. The
            # batcher sends from the same key through the same sender (one nonce lock).
            tx_hash = self.sender.submit(function, prop.artifact)
        except ContractRevert as revert:
            raise refusal(revert) from None
        log.info("property step %s of %s sent: %s", call.function, signer, tx_hash)
        self._remember(signer, nonce, digest, tx_hash)
        try:
            receipt = self._receipt(tx_hash, prop)
        except ContractRevert as revert:
            if revert.name == "PropertyRegistryNonceUsed":
                # the same step was sent twice at once and the other copy ran it: report that one
                return self._executed(prop, call, signer, nonce, digest)
            raise refusal(revert) from None
        if receipt is None:
            return StepResult(SUBMITTED, False, call.function, signer, tx_hash, None, None, [])
        return self._result(prop, call.function, signer, receipt, duplicate=False)

    def _receipt(self, tx_hash: str, prop: PropertyClient) -> Receipt | None:
        """The receipt once mined, None if not within ``wait`` seconds; raises a revert's ContractRevert."""
        give_up = time.monotonic() + self.wait
        eth = self.client.w3.eth
        while not self.client.run(lambda: _has_receipt(eth, tx_hash)):
            if time.monotonic() > give_up:
                return None
            time.sleep(0.05)
        try:
            return self.sender.wait(tx_hash, prop.artifact)
        except TransactionTimeout:
            return None

    def _executed(self, prop: PropertyClient, call: PropertyCall, signer: str, nonce: int, digest: bytes) -> StepResult:
        """The answer to a step whose nonce is used: the same signed step already ran, or a conflict."""
        receipt = self._find_executed(prop, signer, nonce, digest)
        if receipt is not None:
            for event in prop.action_events(receipt):
                if event.name == "SignedActionExecuted" and HexBytes(event.args["digest"]) == HexBytes(digest):
                    return self._result(prop, call.function, signer, receipt, duplicate=True)
        raise errors.nonce_used(signer, nonce)

    def _find_executed(self, prop: PropertyClient, signer: str, nonce: int, digest: bytes) -> Receipt | None:
        """The receipt of ``signer``'s step with ``nonce``: from the relay's record, else from the
        logs of the look-back; raises NONCE_USED ("long ago") when it is older than that."""
        recorded = self.steps.find_step(signer, nonce) if self.steps is not None else None
        if recorded is not None:
            recorded_digest, tx_hash = recorded
            receipt = self._mined(tx_hash, prop)
            if receipt is not None and (
                recorded_digest.lower() != "0x" + digest.hex() or _carries(prop, receipt, digest)
            ):
                return receipt  # this step's transaction, or another step's under the same nonce
            # the recorded transaction did not run it (dropped, reverted, another copy ran first): look
        key = (signer.lower(), nonce)
        with self._not_found_lock:
            if key in self._not_found:
                raise nonce_used_long_ago(signer, nonce, self.lookback_blocks)
        receipt = self._scan(prop, signer, nonce)
        if receipt is None:
            with self._not_found_lock:
                self._not_found[key] = None
                while len(self._not_found) > _NOT_FOUND_KEPT:
                    self._not_found.popitem(last=False)
            raise nonce_used_long_ago(signer, nonce, self.lookback_blocks)
        for event in prop.action_events(receipt):
            if (
                event.name == "SignedActionExecuted"
                and str(event.args["signer"]).lower() == signer.lower()
                and int(event.args["nonce"]) == nonce
            ):
                self._remember(signer, nonce, bytes(HexBytes(event.args["digest"])), receipt.tx_hash)
        return receipt

    def _mined(self, tx_hash: str, prop: PropertyClient) -> Receipt | None:
        """The receipt of ``tx_hash`` if it is mined and succeeded; None otherwise (no waiting)."""
        raw = self.client.run(lambda: _receipt_or_none(self.client.w3.eth, tx_hash))
        if raw is None or int(raw["status"]) != 1:
            return None
        return self.sender.wait(tx_hash, prop.artifact)

    def _scan(self, prop: PropertyClient, signer: str, nonce: int) -> Receipt | None:
        """``signer``'s step with ``nonce`` in the last ``lookback_chunks`` chunks of logs, newest first."""
        topics = [
            "0x" + _EXECUTED_TOPIC.hex(),
            "0x" + bytes.fromhex(to_checksum_address(signer)[2:]).rjust(32, b"\0").hex(),
            "0x" + nonce.to_bytes(32, "big").hex(),
        ]
        chunk = self.client.settings.log_chunk_size
        end = self.client.block_number()
        for _ in range(self.lookback_chunks):
            if end < self._from_block:
                break
            start = max(self._from_block, end - chunk + 1)
            params: Any = {"address": prop.address, "topics": topics, "fromBlock": start, "toBlock": end}
            logs = self.client.run(partial(self.client.w3.eth.get_logs, params))
            if logs:
                tx_hash = HexBytes(logs[-1]["transactionHash"]).to_0x_hex()
                return self.sender.wait(tx_hash, prop.artifact)
            end = start - 1
        return None

    def _remember(self, signer: str, nonce: int, digest: bytes, tx_hash: str) -> None:
        if self.steps is not None:
            self.steps.remember_step(signer, nonce, "0x" + digest.hex(), tx_hash, keep=self.steps_kept)

    def _result(
        self, prop: PropertyClient, function: str, signer: str, receipt: Receipt, *, duplicate: bool
    ) -> StepResult:
        events = [StepEvent(e.name, e.args, e.log_index) for e in prop.action_events(receipt)]
        return StepResult(
            EXECUTED, duplicate, function, signer, receipt.tx_hash, receipt.block_number, receipt.gas_used, events
        )

    # -------------------------------------------------------------------------- reads
    def read(self, fn: Callable[[PropertyClient], T]) -> T:
        prop = self.registry()
        return self._chain(lambda: fn(prop))

    def _chain(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except RegistryNotFound:
            # no code at the registry's address any more (a reset chain)
            with self._lock:
                self._prop = None  # found again (or not) on the next step
            raise not_deployed("no contract answers at its address") from None
        except ChainUnavailable:
            raise errors.chain_unavailable() from None
        except ContractRevert as revert:
            raise refusal(revert) from None
        except ChainError as exc:
            raise RelayError(502, exc.code, f"the chain refused a call: {exc}", exc.message_zh) from None


def _carries(prop: PropertyClient, receipt: Receipt, digest: bytes) -> bool:
    """Whether ``receipt`` holds the ``SignedActionExecuted`` of the step with ``digest``."""
    return any(
        event.name == "SignedActionExecuted" and HexBytes(event.args["digest"]) == HexBytes(digest)
        for event in prop.action_events(receipt)
    )


def _receipt_or_none(eth: Any, tx_hash: str) -> Any:
    try:
        return eth.get_transaction_receipt(tx_hash)
    except TransactionNotFound:
        return None


def _has_receipt(eth: Any, tx_hash: str) -> bool:
    return _receipt_or_none(eth, tx_hash) is not None
