"""Test vectors from Hyperledger Besu itself, with where each comes from.

* ``DOCS_QBFT_VALIDATORS`` / ``DOCS_QBFT_EXTRA_DATA``: Besu's documentation, "Configure QBFT
  consensus", section "Extra data" → "Generate extra data"
  (https://besu.hyperledger.org/private-networks/how-to/configure/consensus/qbft, source
  hyperledger/besu-docs docs/private-networks/how-to/configure/consensus/qbft.md): the validators of
  ``toEncode.json`` and the ``extraData`` that ``besu rlp encode --type=QBFT_EXTRA_DATA`` prints for
  them (the order of the file, which the encoding keeps).
* ``GENESIS_WITH_ALLOCS`` and its state root, ``GENESIS_WITH_NONCE`` and its block hash: Besu's
  ``GenesisStateTest`` (hyperledger/besu ethereum/core/src/test/java/org/hyperledger/besu/ethereum/
  chain/GenesisStateTest.java, ``createFromJsonWithAllocs`` and ``createFromJsonWithNonce``) on its
  resources ``genesis1.json`` and ``genesisNonce.json`` (same directory under src/test/resources).
"""

from __future__ import annotations

from typing import Any

DOCS_QBFT_VALIDATORS = [
    "0x4592c8e45706cc08b8f44b11e43cba0cfc5892cb",
    "0x06e23768a0f59cf365e18c2e0c89e151bcdedc70",
    "0xc5327f96ee02d7bcbc1bf1236b8c15148971e1de",
    "0xab5e7f4061c605820d3744227eed91ff8e2c8908",
]
DOCS_QBFT_EXTRA_DATA = (
    "0xf87aa00000000000000000000000000000000000000000000000000000000000000000f854944592c8e45706cc08b8f44b11e43cba0"
    "cfc5892cb9406e23768a0f59cf365e18c2e0c89e151bcdedc7094c5327f96ee02d7bcbc1bf1236b8c15148971e1de94ab5e7f4061c6"
    "05820d3744227eed91ff8e2c8908c080c0"
)

GENESIS_WITH_ALLOCS: dict[str, Any] = {
    "config": {"chainId": 15, "eip158Block": 0},
    "alloc": {
        "0x0000000000000000000000000000000000000001": {"balance": "111111111"},
        "0x0000000000000000000000000000000000000002": {"balance": "222222222"},
    },
    "coinbase": "0x0000000000000000000000000000000000000000",
    "difficulty": "0x0000001",
    "extraData": "",
    "gasLimit": "0x2fefd8",
    "nonce": "0x0000000000000107",
    "mixhash": "0x0000000000000000000000000000000000000000000000000000000000000000",
    "parentHash": "0x0000000000000000000000000000000000000000000000000000000000000000",
    "timestamp": "0x00",
}
GENESIS_WITH_ALLOCS_STATE_ROOT = "0x92683e6af0f8a932e5fe08c870f2ae9d287e39d4518ec544b0be451f1035fd39"

GENESIS_WITH_NONCE: dict[str, Any] = {
    "config": {
        "ethash": {"fixeddifficulty": 0},
        "homesteadBlock": 0,
        "eip150Block": 0,
        "eip158Block": 0,
        "byzantiumBlock": 0,
        "constantinopleBlock": 0,
    },
    "coinbase": "0x8888f1f195afa192cfee860698584c030f4c9db1",
    "difficulty": "0x020000",
    "extraData": "0x42",
    "gasLimit": "0x2fefd8",
    "mixHash": "0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421",
    "nonce": "0x0102030405060708",
    "timestamp": "0x54c98c81",
    "alloc": {
        "0xa94f5374fce5edbc8e2a8697c15331677e6ebf0b": {
            "balance": "0x0de0b6b3a7640000",
            "code": "0x",
            "nonce": "0x00",
            "storage": {},
        },
        "0xec0e71ad0a90ffe1909d27dac207f7680abba42d": {
            "balance": "0x01",
            "code": "0x6010ff",
            "nonce": "0x03",
            "storage": {},
        },
    },
}
GENESIS_WITH_NONCE_HASH = "0x36750291f1a8429aeb553a790dc2d149d04dbba0ca4cfc7fd5eb12d478117c9f"
