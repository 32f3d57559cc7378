"""Connecting, chain-id checks, transport failures and Besu behaviours, on real nodes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account
from web3 import Web3
from web3.exceptions import ExtraDataLengthError

from chain.client import connect
from chain.deploy import deploy_council, deploy_registry
from chain.errors import ChainError, ChainUnavailable, RegistryNotFound, TransactionRejected, WrongChain
from chain.registry import RegistryClient
from chain.sender import TransactionSender
from chain.settings import ChainSettings
from devstack.hardhat import HardhatNode, start_hardhat, stop_hardhat
from devstack.process import free_port
from tests.factories import World


@pytest.fixture
def own_node(tmp_path: Path) -> Iterator[HardhatNode]:
    """A node of this test's own, so that stopping it disturbs no other test."""
    node = start_hardhat(tmp_path, mode="dev")
    try:
        yield node
    finally:
        stop_hardhat(node)


def test_wrong_chain_id_is_refused(world: World) -> None:
    settings = ChainSettings(rpc_url=world.node.rpc_url, chain_id=world.chain_id + 1)
    with pytest.raises(WrongChain) as info:
        connect(settings)
    assert info.value.actual == world.chain_id
    assert info.value.expected == world.chain_id + 1


def test_a_view_of_an_address_without_code_is_registry_not_found(world: World) -> None:
    """A reset chain, a resyncing node or a wrong address: the view's empty answer is a ChainError
    that says so, not web3's decoding error (which the services turned into a 500)."""
    nowhere = RegistryClient(world.client, "0x" + "ab" * 20)
    with pytest.raises(RegistryNotFound) as info:
        nowhere.department(b"\x01" * 32)
    assert isinstance(info.value, ChainError)


def test_nothing_listening_is_chain_unavailable() -> None:
    settings = ChainSettings(
        rpc_url=f"http://127.0.0.1:{free_port()}", chain_id=1337, request_timeout=2
    )
    with pytest.raises(ChainUnavailable):
        connect(settings)


def test_stopped_node_is_chain_unavailable_then_recovers(
    own_node: HardhatNode, tmp_path: Path
) -> None:
    settings = ChainSettings(
        rpc_url=own_node.rpc_url, chain_id=own_node.chain_id, request_timeout=2
    )
    client = connect(settings)
    assert client.block_number() >= 0
    stop_hardhat(own_node)
    with pytest.raises(ChainUnavailable):
        client.block_number()
    restarted = start_hardhat(tmp_path / "again", mode="dev", port=own_node.port)
    try:
        assert client.block_number() >= 0
    finally:
        stop_hardhat(restarted)


def test_poa_extra_data_is_accepted(world: World) -> None:
    block = world.client.w3.eth.get_block("latest")
    if world.node.besu_gateway:
        # The Besu-like gateway serves QBFT-sized extraData; without the PoA middleware web3
        # refuses such blocks, which is why the client always installs it.
        assert len(block["proofOfAuthorityData"]) > 32
        bare = Web3(Web3.HTTPProvider(world.node.rpc_url))
        with pytest.raises(ExtraDataLengthError):
            bare.eth.get_block("latest")
    else:
        assert block["number"] >= 0


def test_sender_outside_allowlist_is_rejected(tmp_path: Path) -> None:
    allowed = Account.create()
    other = Account.create()
    members = [Account.create().address for _ in range(3)]
    node = start_hardhat(tmp_path, mode="besu", allowlist=[allowed.address])
    try:
        client = connect(
            ChainSettings(rpc_url=node.rpc_url, chain_id=node.chain_id, deployments_dir=tmp_path)
        )
        council = deploy_council(
            client,
            TransactionSender(client, allowed),
            deployments_dir=tmp_path / "a",
            members=members,
            threshold=2,
            veto_threshold=1,
            delay=60,
        )
        deployment = deploy_registry(
            client, TransactionSender(client, allowed), deployments_dir=tmp_path / "a", council=council.address
        )
        assert RegistryClient(client, deployment.address).governor_role()
        with pytest.raises(TransactionRejected) as info:
            deploy_registry(
                client, TransactionSender(client, other), deployments_dir=tmp_path / "b", council=council.address
            )
        assert info.value.rpc_code == -32007
        with pytest.raises(TransactionRejected):
            deploy_council(
                client,
                TransactionSender(client, other),
                deployments_dir=tmp_path / "b",
                members=members,
                threshold=2,
                veto_threshold=1,
                delay=60,
            )
    finally:
        stop_hardhat(node)
