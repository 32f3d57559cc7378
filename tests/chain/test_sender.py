"""Local signing, fee selection, nonces under concurrency, receipts and confirmations."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from chain.client import ChainClient
from chain.errors import ContractRevert, RpcError, TransactionTimeout
from chain.sender import Receipt, TransactionSender
from chain.types import type_id
from devstack.hardhat import rpc
from tests.factories import BUSINESS_LICENSE, SAMR, World


def test_fee_policy_follows_the_chain(world: World) -> None:
    # a sender of its own: the world's cached one may hold a policy read before earlier tests raised
    # the base fee (it caches for two seconds)
    policy = TransactionSender(world.client, world.samr_key).fee_policy()
    if world.node.free_gas:
        assert policy.legacy and policy.gas_price == 0
    else:
        assert not policy.legacy
        base_fee = world.client.w3.eth.get_block("latest")["baseFeePerGas"]
        assert policy.max_fee >= base_fee + policy.priority_fee


def test_unfunded_key_transacts_only_on_free_gas(world: World) -> None:
    key = world.new_account()
    world.registry.add_signer_key(world.governance, SAMR, key.address, world.now() - 10)
    sender = TransactionSender(world.client, key)  # never funded
    if world.node.free_gas:
        receipt = world.registry.anchor(sender, os.urandom(32), type_id(BUSINESS_LICENSE), 1)
        assert receipt.status == 1
        tx = world.client.w3.eth.get_transaction(receipt.tx_hash)  # type: ignore[arg-type]
        assert tx["gasPrice"] == 0
        assert "maxFeePerGas" not in tx or tx["type"] == 0
    else:
        with pytest.raises(RpcError, match="funds"):
            world.registry.anchor(sender, os.urandom(32), type_id(BUSINESS_LICENSE), 1)


def test_concurrent_callers_get_distinct_nonces(world: World) -> None:
    sender = world.sender(world.samr_key)
    start = world.client.w3.eth.get_transaction_count(sender.account.address)
    roots = [os.urandom(32) for _ in range(16)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        receipts = list(
            pool.map(
                lambda r: world.registry.anchor(sender, r, type_id(BUSINESS_LICENSE), 1), roots
            )
        )
    nonces = sorted(int(world.client.w3.eth.get_transaction(r.tx_hash)["nonce"]) for r in receipts)  # type: ignore[arg-type]
    assert nonces == list(range(start, start + len(roots)))
    assert all(world.registry.document_status(SAMR, r).anchored for r in roots)


def test_revert_at_estimation_uses_no_nonce(world: World) -> None:
    sender = world.sender(world.samr_key)
    before = world.client.w3.eth.get_transaction_count(sender.account.address)
    with pytest.raises(ContractRevert):
        world.registry.anchor(sender, os.urandom(32), type_id("property-certificate"), 1)
    receipt = world.registry.anchor(sender, os.urandom(32), type_id(BUSINESS_LICENSE), 1)
    assert int(world.client.w3.eth.get_transaction(receipt.tx_hash)["nonce"]) == before  # type: ignore[arg-type]


def test_mined_revert_is_decoded(world: World) -> None:
    """A transaction that reverts on chain (sent with a fixed gas limit, so no estimation)."""
    sender = world.sender(world.samr_key)
    root = os.urandom(32)
    world.registry.anchor(sender, root, type_id(BUSINESS_LICENSE), 1)
    fn = world.registry.contract.functions.anchor(root, type_id(BUSINESS_LICENSE), 1)
    with pytest.raises(ContractRevert) as info:
        sender.transact(fn, world.registry.artifact, gas=200_000)
    assert info.value.name == "DocumentRegistryRootAlreadyAnchored"
    assert info.value.tx_hash is not None


def _client_with(world: World, **overrides: object) -> ChainClient:
    settings = world.settings.model_copy(update=overrides)
    return ChainClient(world.client.w3, settings)


def test_receipt_timeout_then_late_receipt(world: World) -> None:
    client = _client_with(world, receipt_timeout=0.5)
    sender = TransactionSender(client, world.samr_key)
    fn = world.registry.contract.functions.anchor(os.urandom(32), type_id(BUSINESS_LICENSE), 1)
    rpc(world.node.rpc_url, "evm_setAutomine", [False])
    try:
        with pytest.raises(TransactionTimeout) as info:
            sender.transact(fn, world.registry.artifact, gas=200_000)
        tx_hash = info.value.tx_hash
        rpc(world.node.rpc_url, "evm_mine")
    finally:
        rpc(world.node.rpc_url, "evm_setAutomine", [True])
    receipt = sender.wait(tx_hash)
    assert receipt.status == 1


def test_waits_for_confirmations(world: World) -> None:
    client = _client_with(world, confirmations=3, receipt_timeout=20)
    sender = TransactionSender(client, world.samr_key)
    fn = world.registry.contract.functions.anchor(os.urandom(32), type_id(BUSINESS_LICENSE), 1)
    miner = threading.Timer(0.3, lambda: rpc(world.node.rpc_url, "hardhat_mine", ["0x3"]))
    miner.start()
    try:
        receipt = sender.transact(fn, world.registry.artifact, gas=200_000)
    finally:
        miner.join()
    assert isinstance(receipt, Receipt)
    assert world.client.block_number() - receipt.block_number >= 3
    assert client.safe_block_number() == world.client.block_number() - 3
