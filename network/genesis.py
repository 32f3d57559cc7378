"""The QBFT genesis file: validators in ``extraData``, the free-gas settings, and its block hash.

``extraData`` of a QBFT genesis block (Besu: ``QbftExtraDataCodec.encode``; docs: "Configure QBFT
consensus", section "Extra data") is::

    RLP([32 bytes of vanity, [validator addresses], [] (no vote), round, [] (no seals)])

The round is written as an RLP *scalar* (``writeIntScalar``), so round 0 is the empty string
(``0x80``), not four zero bytes: the four-byte round (``writeInt``) is IBFT 2.0's layout. The
validators are written in the order given; :func:`build_genesis` sorts them ascending, as Besu's
documentation asks of the list given to ``besu rlp encode --type=QBFT_EXTRA_DATA``.

The block hash is keccak256 of the RLP of the header. Besu hashes a QBFT block without its commit
seals and round (``BftBlockHashing.calculateHashOfBftBlockOnchain``), but ``serializeHeader`` keeps
block 0's ``extraData`` as it is, so the genesis hash is the plain header hash. Before London the
header has 15 fields; this module computes exactly that form and refuses the others (a base fee,
withdrawals, blobs, requests at genesis), rather than guess a field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from eth_utils.crypto import keccak

from common.hexutil import from_hex, to_hex
from network import rlp
from network.errors import GenesisError
from network.trie import EMPTY_TRIE_ROOT, trie_root

#: Istanbul BFT's "mixHash" ("ctical byzantine fault tolerance"): Besu requires it of QBFT blocks.
QBFT_MIX_HASH = "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365"
VANITY = bytes(32)
#: keccak256(RLP([])): the ommers hash of a block without ommers.
EMPTY_LIST_HASH = keccak(rlp.encode([]))
#: keccak256 of empty code.
EMPTY_CODE_HASH = keccak(b"")

#: Milestones after Berlin whose presence at genesis adds header fields (London: base fee;
#: Shanghai: withdrawals root; Cancun: blob gas and beacon root; Prague: requests hash; ...).
_LATER_AT_GENESIS = (
    "londonblock",
    "arrowglacierblock",
    "grayglacierblock",
    "mergenetsplitblock",
    "shanghaitime",
    "cancuntime",
    "praguetime",
    "osakatime",
    "amsterdamtime",
)
_ADDRESS = re.compile(r"^(0x)?[0-9a-fA-F]{40}$")


def qbft_extra_data(validators: Iterable[str | bytes]) -> bytes:
    """``extraData`` of a QBFT genesis block with these validators (block-header validator selection)."""
    addresses = [_address(v) for v in validators]
    return rlp.encode([VANITY, addresses, [], 0, []])


def build_genesis(
    *,
    chain_id: int,
    validators: Sequence[str],
    block_period_seconds: int,
    epoch_length: int,
    request_timeout_seconds: int,
    gas_limit: int,
    timestamp: int,
) -> dict[str, Any]:
    """The genesis file of a free-gas QBFT network whose validators are ``validators``.

    Berlin from block 0, no London: Besu's free-gas guide ("Configure free gas networks") needs only
    ``min-gas-price=0`` on every node before London, and ``zeroBaseFee: true`` in the genesis of
    every node only from London on. Without a base fee the blocks carry none and the chain client
    sends legacy transactions at gas price 0 — the path the project tests on its Berlin "besu" node
    (hardhat_local, devstack) — and the contracts are compiled for ``paris``, whose opcodes Berlin
    runs (no PUSH0). This is also the milestone of the genesis example of Besu's QBFT page.
    ``contractSizeLimit`` stays Besu's default (24,576 bytes): the contracts are sized for it.
    The alloc is empty: on a free-gas chain no account needs a balance.
    """
    if not validators:
        raise ValueError("a QBFT network needs at least one validator")
    ordered = sorted({_address(v) for v in validators})
    if len(ordered) != len(validators):
        raise ValueError("a validator is listed twice")
    return {
        "config": {
            "chainId": chain_id,
            "berlinBlock": 0,
            "qbft": {
                "blockperiodseconds": block_period_seconds,
                "epochlength": epoch_length,
                "requesttimeoutseconds": request_timeout_seconds,
            },
        },
        "nonce": "0x0",
        "timestamp": hex(timestamp),
        "gasLimit": hex(gas_limit),
        "difficulty": "0x1",
        "mixHash": QBFT_MIX_HASH,
        "coinbase": to_hex(bytes(20)),
        "extraData": to_hex(qbft_extra_data(ordered)),
        "alloc": {},
    }


# ------------------------------------------------------------------------------ the block hash
def state_root(alloc: Mapping[str, Mapping[str, Any]]) -> bytes:
    """The state root of a genesis ``alloc``: accounts keyed by keccak256(address)."""
    accounts: dict[bytes, bytes] = {}
    for address, account in alloc.items():
        fields = {k.lower(): v for k, v in account.items()}
        storage: dict[bytes, bytes] = {}
        for slot, value in (fields.get("storage") or {}).items():
            number = _int(value, f"alloc.{address}.storage", hex_only=True)
            if number:  # a zero slot is no entry
                key = _int(slot, f"alloc.{address}.storage", hex_only=True).to_bytes(32, "big")
                storage[keccak(key)] = rlp.encode(number)
        code = _bytes(fields.get("code") or "0x", f"alloc.{address}.code")
        accounts[keccak(_address(address))] = rlp.encode(
            [
                _int(fields.get("nonce", 0), f"alloc.{address}.nonce", hex_only=True),
                _int(fields.get("balance", 0), f"alloc.{address}.balance"),
                trie_root(storage),
                keccak(code),
            ]
        )
    return trie_root(accounts) if accounts else EMPTY_TRIE_ROOT


def genesis_header(genesis: Mapping[str, Any]) -> list[rlp.Item]:
    """The 15 fields of the genesis block's header, as Besu's ``GenesisState.buildHeader`` fills them."""
    top = {k.lower(): v for k, v in genesis.items()}
    config = {k.lower(): v for k, v in (top.get("config") or {}).items()}
    later = [name for name in _LATER_AT_GENESIS if name in config and _int(config[name], name) == 0]
    if later or "basefeepergas" in top:
        reason = ", ".join(later) or "baseFeePerGas"
        raise GenesisError(
            f"the genesis header has fields after London ({reason}); its hash is not computed here",
            f"该创世区块含伦敦升级之后的字段（{reason}），此处不计算其哈希",
        )
    nonce = _int(top.get("nonce", "0x0"), "nonce", hex_only=True)
    return [
        _bytes(top.get("parenthash") or to_hex(bytes(32)), "parentHash", 32),
        EMPTY_LIST_HASH,
        _address(top.get("coinbase") or to_hex(bytes(20))),
        state_root(top.get("alloc") or {}),
        EMPTY_TRIE_ROOT,  # transactions
        EMPTY_TRIE_ROOT,  # receipts
        bytes(256),  # logs bloom
        _int(_required(top, "difficulty"), "difficulty"),
        0,  # number
        _int(_required(top, "gaslimit"), "gasLimit"),
        0,  # gas used
        _int(top.get("timestamp", "0x0"), "timestamp"),
        _bytes(top.get("extradata") or "0x", "extraData"),
        _bytes(top.get("mixhash") or to_hex(bytes(32)), "mixHash", 32),
        nonce.to_bytes(8, "big"),
    ]


def genesis_block_hash(genesis: Mapping[str, Any]) -> bytes:
    """keccak256(RLP(header)) of the genesis block: what ``eth_getBlockByNumber(0)`` answers as ``hash``."""
    return keccak(rlp.encode(genesis_header(genesis)))


# ------------------------------------------------------------------------------------ helpers
def _address(value: str | bytes) -> bytes:
    if isinstance(value, bytes):
        if len(value) != 20:
            raise ValueError(f"an address has 20 bytes, not {len(value)}")
        return value
    if not _ADDRESS.match(value):
        raise ValueError(f"not an address: {value!r}")
    return from_hex(value)


def _required(fields: Mapping[str, Any], name: str) -> Any:
    if name not in fields:
        raise GenesisError(f"the genesis has no {name}", f"创世文件缺少 {name}")
    return fields[name]


def _int(value: Any, name: str, *, hex_only: bool = False) -> int:
    """A genesis number as Besu reads it: ``0x`` hex, else decimal — or always hex (``hex_only``:
    nonces and storage, which Besu parses as hex with or without the ``0x``)."""
    try:
        if isinstance(value, bool):
            raise ValueError(value)
        if isinstance(value, int):
            number = value
        elif isinstance(value, str):
            text = value.strip()
            hexadecimal = hex_only or text[:2].lower() == "0x"
            number = int(text.removeprefix("0x").removeprefix("0X") or "0", 16) if hexadecimal else int(text, 10)
        else:
            raise ValueError(value)
    except ValueError:
        raise GenesisError(f"{name} is not a number: {value!r}", f"{name} 不是数字：{value!r}") from None
    if number < 0:
        raise GenesisError(f"{name} is negative", f"{name} 为负数")
    return number


def _bytes(value: Any, name: str, size: int | None = None) -> bytes:
    try:
        data = from_hex(value) if isinstance(value, str) else b""
        if not isinstance(value, str):
            raise ValueError(value)
    except ValueError:
        raise GenesisError(f"{name} is not hex: {value!r}", f"{name} 不是十六进制：{value!r}") from None
    if size is not None and len(data) != size:
        if len(data) < size and name in {"parentHash", "mixHash"}:
            return data.rjust(size, b"\0")  # Besu reads these "leniently": short hex is left-padded
        raise GenesisError(f"{name} must have {size} bytes", f"{name} 应为 {size} 字节")
    return data
