"""The chain client refuses a node of another network: another chain id, or another genesis block.

Two networks may share a chain id (a rebuilt test network, a copy of the production genesis with
other validators); their block 0 differs. ``EREG_GENESIS_HASH`` pins it (``ereg network init``
prints the hash it computed; the operator confirms it on the first validator).
"""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from chain.client import connect
from chain.errors import ChainError, WrongChain, WrongGenesis
from chain.settings import ChainSettings
from devstack.hardhat import HardhatNode, rpc

CJK = re.compile(r"[\u4e00-\u9fff]")


def block_zero_hash(node: HardhatNode) -> str:
    return str(rpc(node.rpc_url, "eth_getBlockByNumber", ["0x0", False])["hash"])


def test_the_right_genesis_hash_is_accepted_in_either_case(node: HardhatNode) -> None:
    genesis = block_zero_hash(node)
    for spelling in (genesis, "0x" + genesis[2:].upper()):
        client = connect(ChainSettings(rpc_url=node.rpc_url, chain_id=node.chain_id, genesis_hash=spelling))
        client.check_chain_id()


def test_a_wrong_genesis_hash_is_refused(node: HardhatNode) -> None:
    wrong = "0x" + "ab" * 32
    with pytest.raises(WrongGenesis) as info:
        connect(ChainSettings(rpc_url=node.rpc_url, chain_id=node.chain_id, genesis_hash=wrong))
    error = info.value
    assert isinstance(error, ChainError) and error.code == "WRONG_GENESIS" and error.http_status == 503
    assert (error.expected, error.actual) == (wrong, block_zero_hash(node))
    assert wrong in error.message and "EREG_GENESIS_HASH" in error.message
    assert CJK.search(error.message_zh) and wrong in error.message_zh


def test_the_genesis_is_checked_wherever_the_chain_id_is(node: HardhatNode) -> None:
    """Services call ``check_chain_id`` before their first chain read: it checks the genesis too."""
    client = connect(
        ChainSettings(rpc_url=node.rpc_url, chain_id=node.chain_id, genesis_hash="0x" + "01" * 32), check_chain=False
    )
    with pytest.raises(WrongGenesis):
        client.check_chain_id()


def test_a_wrong_chain_id_is_refused_before_the_genesis_is_read(node: HardhatNode) -> None:
    settings = ChainSettings(rpc_url=node.rpc_url, chain_id=node.chain_id + 1, genesis_hash=block_zero_hash(node))
    with pytest.raises(WrongChain) as info:
        connect(settings)
    assert (info.value.expected, info.value.actual) == (node.chain_id + 1, node.chain_id)


def test_without_a_configured_hash_only_the_chain_id_is_checked(node: HardhatNode) -> None:
    connect(ChainSettings(rpc_url=node.rpc_url, chain_id=node.chain_id)).check_chain_id()


def test_the_hash_comes_from_the_environment_and_must_be_32_bytes_of_hex(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EREG_RPC_URL", "http://127.0.0.1:8545")
    monkeypatch.setenv("EREG_CHAIN_ID", "341500")
    monkeypatch.setenv("EREG_GENESIS_HASH", "0x" + "cd" * 32)
    assert ChainSettings().genesis_hash == "0x" + "cd" * 32  # type: ignore[call-arg]
    for bad in ("cd" * 32, "0x" + "cd" * 31, "0x" + "zz" * 32):
        monkeypatch.setenv("EREG_GENESIS_HASH", bad)
        with pytest.raises(ValidationError):
            ChainSettings()  # type: ignore[call-arg]
