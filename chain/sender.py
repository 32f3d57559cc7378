"""Sign transactions locally and send them raw; wait for receipts; decode reverts.

Works unchanged on a Hardhat dev node (EIP-1559), a free-gas node (legacy, gas price 0) and a
Besu QBFT network (no node-held keys, allowlisted senders, instant finality).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3.contract.contract import ContractFunction
from web3.types import TxParams

from chain.artifacts import Artifact
from chain.client import ChainClient
from chain.errors import ChainError, ContractRevert, TransactionTimeout


@dataclass(frozen=True)
class Receipt:
    tx_hash: str
    block_number: int
    block_hash: str
    gas_used: int
    status: int
    logs: list[Any]
    raw: Any


@dataclass(frozen=True)
class FeePolicy:
    """Legacy (gasPrice) on free-gas or pre-London chains, EIP-1559 otherwise."""

    legacy: bool
    gas_price: int = 0
    max_fee: int = 0
    priority_fee: int = 0

    def apply(self, tx: dict[str, Any]) -> None:
        if self.legacy:
            tx["gasPrice"] = self.gas_price  # no "type" key: eth-account rejects type 0
        else:
            tx["maxFeePerGas"] = self.max_fee
            tx["maxPriorityFeePerGas"] = self.priority_fee


class NonceManager:
    """Hands out the nonces of one account to concurrent callers of this process.

    A caller holds ``lock`` from :meth:`take` until the signed transaction is handed to the node,
    and :meth:`take` reads the account's "pending" transaction count from the node each time, so
    the node receives an account's transactions in nonce order (Hardhat's automine refuses gaps;
    Besu would park them) and nothing is counted locally that could go stale: a refused send, a
    transaction sent by another component from the same key (the relay's batcher and its property
    steps), or a chain reverted under the process all show in the node's count.
    """

    def __init__(self, client: ChainClient, address: str) -> None:
        self._client = client
        self._address = address
        self.lock = threading.RLock()

    def take(self) -> int:
        """The next nonce; call it holding :attr:`lock` until the transaction is sent."""
        with self.lock:
            return self._client.run(
                lambda: int(self._client.w3.eth.get_transaction_count(self._address, "pending"))  # type: ignore[arg-type]
            )


class TransactionSender:
    """Sends transactions from one locally held account."""

    def __init__(self, client: ChainClient, account: LocalAccount) -> None:
        self.client = client
        self.account = account
        self.nonces = NonceManager(client, account.address)
        self._fees_lock = threading.Lock()
        self._fees: FeePolicy | None = None
        self._fees_at = 0.0

    @property
    def address(self) -> str:
        return str(self.account.address)

    def fee_policy(self) -> FeePolicy:
        """Looked up from the chain, cached for two seconds."""
        with self._fees_lock:
            if self._fees is None or time.monotonic() - self._fees_at > 2.0:
                self._fees = self._read_fee_policy()
                self._fees_at = time.monotonic()
            return self._fees

    def _read_fee_policy(self) -> FeePolicy:
        eth = self.client.w3.eth
        block = self.client.run(lambda: eth.get_block("latest"))
        gas_price = self.client.run(lambda: int(eth.gas_price))
        base_fee = block.get("baseFeePerGas")
        if base_fee is None or gas_price == 0:
            return FeePolicy(legacy=True, gas_price=gas_price)
        try:
            priority = self.client.run(lambda: int(eth.max_priority_fee))
        except ChainError:
            priority = 10**9
        return FeePolicy(legacy=False, max_fee=2 * int(base_fee) + priority, priority_fee=priority)

    def build(self, function: ContractFunction, artifact: Artifact | None = None) -> dict[str, Any]:
        """The unsigned transaction of a contract call (no RPC beyond the cached fee policy)."""
        base: dict[str, Any] = {"from": self.account.address, "chainId": self.client.chain_id, "gas": 1, "nonce": 0}
        self.fee_policy().apply(base)
        params: TxParams = base  # type: ignore[assignment]
        return dict(self.client.run(lambda: function.build_transaction(params), artifact))

    def transact(
        self, function: ContractFunction, artifact: Artifact | None = None, *, gas: int | None = None
    ) -> Receipt:
        """Estimate, sign and send a contract call, and wait for its receipt.

        A call that would revert fails at estimation with the decoded ContractRevert and uses
        no nonce.
        """
        tx = self.build(function, artifact)
        return self.wait(self.submit_transaction(tx, artifact, gas=gas), artifact, tx=tx)

    def submit(self, function: ContractFunction, artifact: Artifact | None = None, *, gas: int | None = None) -> str:
        """Like :meth:`transact`, but return the transaction hash once the node has it."""
        return self.submit_transaction(self.build(function, artifact), artifact, gas=gas)

    def send(self, tx: dict[str, Any], artifact: Artifact | None = None, *, gas: int | None = None) -> Receipt:
        """Send a prepared transaction (e.g. a deployment) and wait for its receipt."""
        return self.wait(self.submit_transaction(tx, artifact, gas=gas), artifact, tx=tx)

    def submit_transaction(
        self, tx: dict[str, Any], artifact: Artifact | None = None, *, gas: int | None = None
    ) -> str:
        """Fill fees, gas and nonce, sign locally, hand the raw transaction to the node; return its hash."""
        for key in ("gas", "gasPrice", "maxFeePerGas", "maxPriorityFeePerGas", "nonce", "type"):
            tx.pop(key, None)
        tx["from"] = self.account.address
        tx["chainId"] = self.client.chain_id
        tx.setdefault("value", 0)
        self.fee_policy().apply(tx)
        if gas is None:
            # Against the pending block: its time is now, even on a local node that seals blocks
            # only when a transaction comes (a time lock that expired since the last block).
            estimate = self.client.run(
                lambda: int(self.client.w3.eth.estimate_gas(tx, "pending")),  # type: ignore[arg-type]
                artifact,
            )
            gas = int(estimate * self.client.settings.gas_multiplier) + 5_000
        tx["gas"] = gas
        with self.nonces.lock:
            tx["nonce"] = self.nonces.take()
            signed = self.account.sign_transaction(tx)
            tx_hash = self.client.run(lambda: self.client.w3.eth.send_raw_transaction(signed.raw_transaction), artifact)
        return HexBytes(tx_hash).to_0x_hex()

    def wait(self, tx_hash: str, artifact: Artifact | None = None, *, tx: dict[str, Any] | None = None) -> Receipt:
        """Poll for the receipt, then for the confirmation depth; decode a revert."""
        settings = self.client.settings
        deadline = time.monotonic() + settings.receipt_timeout
        eth = self.client.w3.eth
        raw = None
        while raw is None:
            raw = self.client.run(lambda: _receipt_or_none(eth, tx_hash))
            if raw is None:
                if time.monotonic() > deadline:
                    raise TransactionTimeout(tx_hash, settings.receipt_timeout)
                time.sleep(settings.poll_interval)
        receipt = Receipt(
            tx_hash=tx_hash,
            block_number=int(raw["blockNumber"]),
            block_hash=HexBytes(raw["blockHash"]).to_0x_hex(),
            gas_used=int(raw["gasUsed"]),
            status=int(raw["status"]),
            logs=list(raw["logs"]),
            raw=raw,
        )
        if receipt.status != 1:
            raise self._revert_of(receipt, tx, artifact)
        while settings.confirmations and self.client.block_number() - receipt.block_number < settings.confirmations:
            if time.monotonic() > deadline:
                raise TransactionTimeout(tx_hash, settings.receipt_timeout)
            time.sleep(max(settings.poll_interval, 0.05))
        return receipt

    def _revert_of(self, receipt: Receipt, tx: dict[str, Any] | None, artifact: Artifact | None) -> ContractRevert:
        """Replay a failed transaction as a call at its block to learn the revert reason."""
        if tx is None:
            return ContractRevert("Reverted", tx_hash=receipt.tx_hash)
        call = {k: tx[k] for k in ("from", "to", "data", "value") if k in tx}
        try:
            self.client.run(lambda: self.client.w3.eth.call(call, receipt.block_number - 1), artifact)  # type: ignore[arg-type]
        except ContractRevert as revert:
            revert.tx_hash = receipt.tx_hash
            return revert
        return ContractRevert("Reverted", tx_hash=receipt.tx_hash)


def _receipt_or_none(eth: Any, tx_hash: str) -> Any:
    from web3.exceptions import TransactionNotFound

    try:
        return eth.get_transaction_receipt(tx_hash)
    except TransactionNotFound:
        return None
