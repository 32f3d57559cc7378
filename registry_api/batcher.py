"""The batcher: queued signed requests go on chain in few transactions, none lost, none doubled.

Each round first settles the transactions the outbox still has open (after a crash these are
the ones that may or may not be on chain): those of its own relayer key, and those of keys no
live instance holds (an instance of a shared PostgreSQL queue that died). Then it finalizes
requests buried under the confirmation depth, then sends new batches: anchors first, then
status changes, by count (``batch_size``) or age (``batch_age``).

A transaction is signed locally and recorded (hash and raw bytes) before it is sent, so after
a crash it is either found on chain by its hash or sent again with the very same bytes (the
same nonce: it can be mined once at most). A batch that reverts loses nothing: each of its
requests is checked on its own against the chain; the done ones are FINAL, the impossible ones
REJECTED with the decoded reason, the rest go back to the queue. The registry itself never
anchors a department's root twice (while its anchor is in force) nor accepts a nonce twice, so
even a resend cannot double an anchor. Anchors are per department: another department's anchor
of the same root is another record, and neither settles nor blocks a request.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3.exceptions import TransactionNotFound

from chain.errors import ChainError, ContractRevert, RpcError
from chain.registry import RegistryClient
from chain.sender import TransactionSender
from registry_api.messages import anchor_from_payload, status_change_from_payload, to_bytes
from registry_api.metrics import RelayMetrics
from registry_api.queue import (
    FINAL,
    KINDS,
    PREPARED,
    QUEUED,
    REJECTED,
    Kind,
    Outcome,
    QueueError,
    RequestQueue,
    RequestRecord,
    TxRecord,
)
from registry_api.relay import anchor_in_force, reason_of

log = logging.getLogger("ereg.relay.batcher")

#: How often (seconds) a round checks that the queue still holds this instance's relayer key.
RELAYER_CHECK_INTERVAL = 2.0


class Batcher:
    """Moves requests from the queue to the chain with the relayer's own account."""

    def __init__(
        self,
        registry: RegistryClient,
        queue: RequestQueue,
        account: LocalAccount,
        *,
        batch_size: int = 200,
        batch_age: float = 2.0,
        poll_interval: float = 0.1,
        retry_max: float = 10.0,
        metrics: RelayMetrics | None = None,
    ) -> None:
        self.registry = registry
        self.client = registry.client
        self.queue = queue
        self.account = account
        self.sender = TransactionSender(registry.client, account)
        self.batch_size = batch_size
        self.batch_age = batch_age
        self.poll_interval = poll_interval
        self.retry_max = retry_max
        self.metrics = metrics
        self.stop_event = threading.Event()
        self.last_error: ChainError | None = None
        self.last_round: float | None = None
        self._chain_checked = False
        self._held_at = 0.0
        #: The relayer that signed each open transaction of the outbox (recovered from its bytes).
        self._senders: dict[str, str | None] = {}

    # ------------------------------------------------------------------------- loop
    def run(self) -> None:
        """Rounds until :attr:`stop_event` is set; an unreachable node only delays (backoff)."""
        backoff = self.poll_interval
        while not self.stop_event.is_set():
            try:
                self.run_once()  # no registry code at the address (a reset chain) is a ChainError: waited out too
            except ChainError as exc:
                self.last_error = exc
                if self.metrics is not None:
                    self.metrics.chain_errors.labels(exc.code).inc()
                log.warning("batcher round cut short (%s): %s; next try in %.1f s", exc.code, exc, backoff)
                self.stop_event.wait(backoff)
                backoff = min(backoff * 2, self.retry_max)
                continue
            except QueueError as exc:
                # e.g. a claim whose lease ran out mid-round (PostgreSQL): the next round starts over
                log.warning("batcher round cut short by the queue: %s", exc)
                self.stop_event.wait(backoff)
                continue
            self.last_error = None
            self.last_round = time.time()
            backoff = self.poll_interval
            self.stop_event.wait(self.poll_interval)

    def run_once(self, *, force: bool = False) -> None:
        """One round: settle open transactions, finalize, send what is due (everything if ``force``)."""
        if not self._chain_checked:
            self.client.check_chain_id()
            self._chain_checked = True
        if time.monotonic() - self._held_at >= RELAYER_CHECK_INTERVAL:
            # still this instance's key (a database restart drops the hold: taken again here, or
            # RELAYER_KEY_IN_USE, and nothing is sent, if another instance took it meanwhile)
            self.queue.hold_relayer(self.account.address)
            self._held_at = time.monotonic()
        if not self.settle_open():
            return  # a transaction is still pending: send nothing new before it is settled
        self.finalize()
        for kind in KINDS:
            while not self.stop_event.is_set() and self._due(kind, force):
                batch = self.queue.queued(kind, self.batch_size)
                if not batch or not self._send_group(kind, batch):
                    break
        self.finalize()

    def _due(self, kind: Kind, force: bool) -> bool:
        count = self.queue.count_queued(kind)
        if count == 0:
            return False
        if force or count >= self.batch_size:
            return True
        oldest = self.queue.oldest_queued_at(kind)
        return oldest is not None and time.time() - oldest >= self.batch_age

    # --------------------------------------------------------------------- settling
    def settle_open(self) -> bool:
        """Settle the PREPARED or SENT transactions of the outbox that are this instance's: its own
        relayer's, and those of relayers no live instance holds (their instance died or was
        retired; the recorded bytes are sent again as they are). A live instance's own are left to
        it. False while one of them is still pending."""
        open_txs = self.queue.open_transactions()
        for stale in self._senders.keys() - {tx.tx_hash for tx in open_txs}:
            del self._senders[stale]
        return all(self._settle(tx) for tx in open_txs if self._ours_to_settle(tx))

    def _ours_to_settle(self, tx: TxRecord) -> bool:
        if tx.tx_hash not in self._senders:
            try:
                self._senders[tx.tx_hash] = str(Account.recover_transaction(tx.raw)).lower()
            except Exception:  # noqa: BLE001 - bytes no key signed (never written by a batcher)
                self._senders[tx.tx_hash] = None
        sender = self._senders[tx.tx_hash]
        if sender is None or sender == self.account.address.lower():
            return True
        if self.queue.relayer_live(sender):
            return False
        log.info("settling transaction %s of relayer %s, which no live instance holds", tx.tx_hash, sender)
        return True

    def _settle(self, tx: TxRecord) -> bool:
        receipt = self._receipt(tx.tx_hash)
        if receipt is None:
            if not self._known(tx.tx_hash):
                try:
                    self._broadcast(tx.raw)
                except (RpcError, ContractRevert) as exc:
                    # Hardhat mines a reverting transaction and answers the send with the revert;
                    # anything else (nonce taken, refused sender) means it can never be mined.
                    receipt = self._receipt(tx.tx_hash)
                    if receipt is None and not self._known(tx.tx_hash):
                        self._fail(tx, f"the node refused the transaction: {exc}")
                        return True
            if tx.state == PREPARED:
                self.queue.mark_sent(tx.tx_hash)
            if receipt is None:
                receipt = self._wait_receipt(tx.tx_hash)
            if receipt is None:
                return False
        if int(receipt["status"]) == 1:
            self.queue.mark_mined(tx.tx_hash, int(receipt["blockNumber"]))
            self._count(tx.kind, "mined")
        else:
            self._fail(tx, "the transaction reverted")
        return True

    def _fail(self, tx: TxRecord, error: str) -> None:
        requests = [r for r in (self.queue.get(i) for i in tx.request_ids) if r is not None]
        outcomes = [self._check_one(r) or Outcome(r.id, QUEUED, reason=f"sent again after: {error}") for r in requests]
        log.warning("transaction %s failed (%s); %d requests re-checked", tx.tx_hash, error, len(outcomes))
        self.queue.mark_failed(tx.tx_hash, error, outcomes)
        self._count(tx.kind, "failed")
        self._settled(outcomes)

    def finalize(self) -> None:
        """ANCHORED requests buried under the confirmation depth become FINAL."""
        anchored = self.queue.anchored()
        if not anchored:
            return
        depth = self.client.settings.confirmations
        head = self.client.block_number()
        by_tx: dict[str, list[RequestRecord]] = {}
        for req in anchored:
            if req.block is not None and head - req.block >= depth and req.tx_hash is not None:
                by_tx.setdefault(req.tx_hash, []).append(req)
        for tx_hash, requests in by_tx.items():
            if depth:
                receipt = self._receipt(tx_hash)  # still in the canonical chain at the same block?
                if receipt is None or int(receipt["blockNumber"]) != requests[0].block:
                    log.warning("transaction %s moved or left the chain; not final yet", tx_hash)
                    continue
            self.queue.finalize([r.id for r in requests])
            if self.metrics is not None:
                self.metrics.settled.labels(FINAL).inc(len(requests))

    # ---------------------------------------------------------------------- sending
    def _calldata(self, kind: Kind, requests: Sequence[RequestRecord]) -> str:
        contract = self.registry.contract
        if kind == "anchor":
            return str(
                contract.encode_abi("anchorMany", args=[[anchor_from_payload(r.payload).as_tuple() for r in requests]])
            )
        changes = [status_change_from_payload(r.payload).as_tuple() for r in requests]
        return str(contract.encode_abi("changeStatusMany", args=[changes]))

    def _send_group(self, kind: Kind, requests: list[RequestRecord]) -> bool:
        """Send ``requests`` in one transaction; split around refusals. False when nothing moved."""
        tx: dict[str, Any] = {
            "from": self.account.address,
            "to": self.registry.address,
            "data": self._calldata(kind, requests),
            "value": 0,
            "chainId": self.client.chain_id,
        }
        try:
            estimate = self.client.run(
                lambda: int(self.client.w3.eth.estimate_gas(tx)),  # type: ignore[arg-type]
                self.registry.artifact,
            )
        except ContractRevert:
            return self._split(kind, requests)
        tx["gas"] = int(estimate * self.client.settings.gas_multiplier) + 5_000
        self.sender.fee_policy().apply(tx)
        # The relayer key also sends property steps (registry_api.property) through the same
        # sender: its nonce lock is held from taking the nonce until the node has the transaction.
        with self.sender.nonces.lock:
            tx["nonce"] = self.sender.nonces.take()
            signed = self.account.sign_transaction(tx)
            tx_hash = HexBytes(signed.hash).to_0x_hex()
            self.queue.record_transaction(
                tx_hash, kind, int(tx["nonce"]), bytes(signed.raw_transaction), [r.id for r in requests]
            )
            if self.metrics is not None:
                self.metrics.batch_size.observe(len(requests))
            log.info("sending %s batch of %d in %s (nonce %d)", kind, len(requests), tx_hash, tx["nonce"])
            # settled below whatever the node says: mined (a revert, on Hardhat), known, or refused
            with contextlib.suppress(RpcError, ContractRevert):
                self._broadcast(bytes(signed.raw_transaction))
        record = self.queue.transaction(tx_hash)
        if record is not None:
            self._settle(record)
        return True

    def _split(self, kind: Kind, requests: list[RequestRecord]) -> bool:
        """The batch would revert: settle the requests that are done or impossible, send the rest."""
        outcomes: list[Outcome] = []
        sendable: list[RequestRecord] = []
        for req in requests:
            outcome = self._check_one(req)
            if outcome is None:
                sendable.append(req)
            else:
                outcomes.append(outcome)
        if outcomes:
            self.queue.settle(outcomes)
            self._settled(outcomes)
        if not sendable:
            return bool(outcomes)
        if outcomes:
            return self._send_group(kind, sendable)
        if len(sendable) == 1:
            log.warning("request %s passes alone but not as a batch; retrying later", sendable[0].id)
            return False
        half = len(sendable) // 2
        first = self._send_group(kind, sendable[:half])
        second = self._send_group(kind, sendable[half:])
        return first or second

    def _check_one(self, req: RequestRecord) -> Outcome | None:
        """What the chain says of one request now: FINAL, REJECTED, or None (it can be sent)."""
        functions = self.registry.contract.functions
        if req.kind == "anchor":
            signed = anchor_from_payload(req.payload)
            # The record of the request's own department: another department's anchor of the same
            # root (a front-run) is its own record and changes nothing here.
            status = self.registry.document_status(to_bytes(req.department), signed.root)
            if status.anchored:
                if status.signer.lower() == req.signer.lower() and status.doc_type == signed.doc_type:
                    return Outcome(req.id, FINAL, reason="anchored by another transaction")
                if anchor_in_force(self.registry, status):
                    return Outcome(req.id, REJECTED, reason=f"ALREADY_ANCHORED: by {status.signer}")
                # anchored by a key retired back to before it: the department anchors it again
            function = functions.anchorSigned(signed.as_tuple())
        else:
            function = functions.changeStatusSigned(status_change_from_payload(req.payload).as_tuple())
        try:
            self.client.run(lambda: function.call({"from": self.account.address}), self.registry.artifact)
        except ContractRevert as revert:
            return Outcome(req.id, REJECTED, reason=reason_of(revert))
        return None

    # ------------------------------------------------------------------ node access
    def _broadcast(self, raw: bytes) -> None:
        """Hand the signed bytes to the node (the same bytes, whatever the number of tries)."""
        try:
            self.client.run(lambda: self.client.w3.eth.send_raw_transaction(raw), self.registry.artifact)
        except RpcError as exc:
            lowered = str(exc).lower()
            if "already known" in lowered or "known transaction" in lowered or "already imported" in lowered:
                return
            raise

    def _receipt(self, tx_hash: str) -> Any:
        eth = self.client.w3.eth

        def fetch() -> Any:
            try:
                return eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
            except TransactionNotFound:
                return None

        return self.client.run(fetch)

    def _known(self, tx_hash: str) -> bool:
        eth = self.client.w3.eth

        def fetch() -> bool:
            try:
                eth.get_transaction(tx_hash)  # type: ignore[arg-type]
            except TransactionNotFound:
                return False
            return True

        return self.client.run(fetch)

    def _wait_receipt(self, tx_hash: str) -> Any:
        settings = self.client.settings
        deadline = time.monotonic() + settings.receipt_timeout
        while not self.stop_event.is_set():
            receipt = self._receipt(tx_hash)
            if receipt is not None:
                return receipt
            if time.monotonic() > deadline:
                log.warning("no receipt for %s after %.0f s; will look again", tx_hash, settings.receipt_timeout)
                return None
            time.sleep(settings.poll_interval)
        return None

    # ---------------------------------------------------------------------- metrics
    def _count(self, kind: Kind, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.transactions.labels(kind, outcome).inc()

    def _settled(self, outcomes: Sequence[Outcome]) -> None:
        if self.metrics is None:
            return
        for outcome in outcomes:
            if outcome.state in (FINAL, REJECTED):
                self.metrics.settled.labels(outcome.state).inc()
