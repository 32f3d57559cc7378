"""The QBFT genesis: ``extraData`` against Besu's own vector, the block hash against Besu's own tests.

Every encoding is read back with the ``rlp`` package (an implementation independent of
:mod:`network.rlp`, which wrote it).
"""

from __future__ import annotations

import os

import pytest
import rlp as independent
from eth_utils.crypto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from common.hexutil import from_hex, to_hex
from network import rlp
from network.errors import GenesisError
from network.genesis import QBFT_MIX_HASH, build_genesis, genesis_block_hash, qbft_extra_data, state_root
from network.trie import EMPTY_TRIE_ROOT
from tests.network.vectors import (
    DOCS_QBFT_EXTRA_DATA,
    DOCS_QBFT_VALIDATORS,
    GENESIS_WITH_ALLOCS,
    GENESIS_WITH_ALLOCS_STATE_ROOT,
    GENESIS_WITH_NONCE,
    GENESIS_WITH_NONCE_HASH,
)


def addresses(count: int) -> list[str]:
    return [to_hex(os.urandom(20)) for _ in range(count)]


def genesis_of(validators: list[str], **overrides: int) -> dict[str, object]:
    params = {
        "chain_id": 341500,
        "block_period_seconds": 2,
        "epoch_length": 30000,
        "request_timeout_seconds": 4,
        "gas_limit": 60_000_000,
        "timestamp": 1_767_225_600,
    } | overrides
    return build_genesis(validators=validators, **params)


# ------------------------------------------------------------------------------ extraData
def test_the_validators_of_besus_documentation_encode_to_its_extra_data_byte_for_byte() -> None:
    assert to_hex(qbft_extra_data(DOCS_QBFT_VALIDATORS)) == DOCS_QBFT_EXTRA_DATA


def test_besus_extra_data_decodes_to_vanity_validators_no_vote_round_zero_no_seals() -> None:
    vanity, validators, vote, round_, seals = independent.decode(from_hex(DOCS_QBFT_EXTRA_DATA))
    assert vanity == bytes(32)
    assert [to_hex(v) for v in validators] == DOCS_QBFT_VALIDATORS
    assert vote == [] and seals == []
    # QBFT writes the round as an RLP scalar: 0 is the empty string (0x80), not IBFT 2.0's 4 bytes
    assert round_ == b""
    assert DOCS_QBFT_EXTRA_DATA.endswith("c080c0")


def test_generated_extra_data_holds_the_validators_sorted() -> None:
    validators = addresses(7)
    genesis = genesis_of(validators)
    vanity, decoded, vote, round_, seals = independent.decode(from_hex(str(genesis["extraData"])))
    assert vanity == bytes(32) and vote == [] and round_ == b"" and seals == []
    assert decoded == sorted(from_hex(v) for v in validators)


def test_a_validator_listed_twice_or_none_is_refused() -> None:
    one = addresses(1)
    with pytest.raises(ValueError, match="twice"):
        genesis_of(one + one)
    with pytest.raises(ValueError, match="at least one"):
        genesis_of([])


items = st.recursive(
    st.binary(max_size=80) | st.integers(min_value=0, max_value=2**256),
    lambda children: st.lists(children, max_size=6),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(items)
def test_the_encoder_agrees_with_the_rlp_package(item: rlp.Item) -> None:
    assert rlp.encode(item) == independent.encode(item)


# ------------------------------------------------------------------------- the block hash
def test_the_state_root_of_besus_genesis_test_with_allocs() -> None:
    assert to_hex(state_root(GENESIS_WITH_ALLOCS["alloc"])) == GENESIS_WITH_ALLOCS_STATE_ROOT


def test_the_block_hash_of_besus_genesis_test_with_a_nonce() -> None:
    assert to_hex(genesis_block_hash(GENESIS_WITH_NONCE)) == GENESIS_WITH_NONCE_HASH


def test_an_empty_alloc_has_the_empty_trie_root() -> None:
    assert to_hex(state_root({})) == "0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421"
    assert keccak(b"\x80") == EMPTY_TRIE_ROOT


def test_the_generated_genesis_is_a_free_gas_berlin_qbft_genesis() -> None:
    genesis = genesis_of(addresses(4))
    config = genesis["config"]
    assert isinstance(config, dict)
    assert config["chainId"] == 341500 and config["berlinBlock"] == 0
    assert not {"londonBlock", "zeroBaseFee", "shanghaiTime", "cancunTime"} & set(config)
    assert config["qbft"] == {"blockperiodseconds": 2, "epochlength": 30000, "requesttimeoutseconds": 4}
    assert genesis["difficulty"] == "0x1" and genesis["mixHash"] == QBFT_MIX_HASH
    assert int(str(genesis["gasLimit"]), 16) == 60_000_000 and genesis["alloc"] == {}


def test_the_generated_genesis_hash_is_the_hash_of_its_15_field_header() -> None:
    """The header written out field by field with the rlp package (Besu's GenesisState.buildHeader,
    before London), hashed: the same hash."""
    genesis = genesis_of(addresses(4))
    header = [
        bytes(32),  # parent
        keccak(independent.encode([])),  # ommers
        bytes(20),  # coinbase
        keccak(independent.encode(b"")),  # state root of the empty alloc
        keccak(independent.encode(b"")),  # transactions
        keccak(independent.encode(b"")),  # receipts
        bytes(256),  # bloom
        1,  # difficulty
        0,  # number
        60_000_000,
        0,  # gas used
        1_767_225_600,
        from_hex(str(genesis["extraData"])),
        from_hex(QBFT_MIX_HASH),
        bytes(8),  # nonce
    ]
    assert genesis_block_hash(genesis) == keccak(independent.encode(header))


@pytest.mark.parametrize("fork", ["londonBlock", "shanghaiTime", "cancunTime", "pragueTime"])
def test_a_genesis_with_a_later_fork_at_block_zero_is_not_hashed(fork: str) -> None:
    genesis = genesis_of(addresses(1))
    genesis["config"][fork] = 0  # type: ignore[index]
    with pytest.raises(GenesisError) as info:
        genesis_block_hash(genesis)
    assert fork.lower() in info.value.message and "伦敦" in info.value.message_zh


def test_a_fork_after_genesis_does_not_change_the_header() -> None:
    genesis = genesis_of(addresses(1))
    before = genesis_block_hash(genesis)
    genesis["config"]["londonBlock"] = 100  # type: ignore[index]
    assert genesis_block_hash(genesis) == before
