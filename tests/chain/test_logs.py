"""The fixed-layout log decoders of chain.logs against web3's own decoder on the compiled ABIs.

No node: each log is built from the artifact's event ABI (topic 0 from the event's signature,
indexed arguments as topics, the rest ABI-encoded as data, all with eth_abi), given to the raw
decoder as ``eth_getLogs`` JSON and to web3's ``contract.events.<Name>().process_log`` as web3
formats it; both must read the same arguments.
"""

from __future__ import annotations

import random
from typing import Any

import eth_abi
import pytest
from eth_utils.abi import event_abi_to_log_topic
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract

from chain.artifacts import Artifact, load_artifact
from chain.client import ChainClient
from chain.errors import ChainError
from chain.events import Event
from chain.logs import (
    GOVERNANCE_EVENTS,
    PROPERTY_EVENT_SIGNATURES,
    PROPERTY_EVENTS,
    STATUS_EVENTS,
    RawLogScanner,
    decode_owners,
    decode_property_log,
)
from chain.property import CONTRACT_NAME as PROPERTY_REGISTRY
from chain.registry import CONTRACT_NAME as DOCUMENT_REGISTRY
from chain.settings import ChainSettings

REGISTRY_ADDRESS = to_checksum_address("0x" + "5a" * 20)
PROPERTY_ADDRESS = to_checksum_address("0x" + "c3" * 20)
BLOCK_HASH = "0x" + "ab" * 32
TX_HASH = "0x" + "cd" * 32
OWNER_EVENTS = sorted(name for name, signature in PROPERTY_EVENT_SIGNATURES.items() if "[]" in signature)


def abi_type(arg: Any) -> str:
    if arg["type"].startswith("tuple"):
        return "(" + ",".join(abi_type(c) for c in arg["components"]) + ")" + arg["type"][len("tuple") :]
    return str(arg["type"])


def event_abi(artifact: Artifact, name: str) -> dict[str, Any]:
    return next(abi for abi in artifact.event_abis() if abi["name"] == name)


def value_of(rng: random.Random, arg: Any, owners: int) -> Any:
    """A value of the argument's type, often at the edges of its range."""
    kind = str(arg["type"])
    if kind == "bytes32":
        return rng.randbytes(32)
    if kind.startswith("uint"):
        top = 2 ** int(kind[4:]) - 1
        return rng.choice([0, 1, top, rng.randrange(top)])
    if kind == "address":
        return to_checksum_address(rng.randbytes(20))
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "string":
        return rng.choice(["", "SAMR", "国家市场监督管理总局", "91341500MA2N" * 9])
    if kind == "tuple[]":
        return [tuple(value_of(rng, c, owners) for c in arg["components"]) for _ in range(owners)]
    raise AssertionError(f"no values for {kind}")


def build_log(
    artifact: Artifact, name: str, address: str, *, seed: int = 1, owners: int = 2, block: int = 77, index: int = 3
) -> tuple[dict[str, Any], dict[str, Any]]:
    """One log of event ``name`` with random arguments: (as eth_getLogs JSON, as web3 formats it)."""
    rng = random.Random(f"{name}-{seed}")
    abi = event_abi(artifact, name)
    indexed = [arg for arg in abi["inputs"] if arg["indexed"]]
    data_args = [arg for arg in abi["inputs"] if not arg["indexed"]]
    topics = [bytes(event_abi_to_log_topic(abi))]
    topics += [eth_abi.encode([abi_type(arg)], [value_of(rng, arg, owners)]) for arg in indexed]
    data = eth_abi.encode([abi_type(arg) for arg in data_args], [value_of(rng, arg, owners) for arg in data_args])
    raw = {
        "address": address.lower(),
        "topics": ["0x" + topic.hex() for topic in topics],
        "data": "0x" + data.hex(),
        "blockNumber": hex(block),
        "blockHash": BLOCK_HASH.upper().replace("0X", "0x"),
        "transactionHash": TX_HASH,
        "transactionIndex": "0x1",
        "logIndex": hex(index),
        "removed": False,
    }
    formatted = {
        "address": to_checksum_address(address),
        "topics": [HexBytes(topic) for topic in topics],
        "data": HexBytes(data),
        "blockNumber": block,
        "blockHash": HexBytes(BLOCK_HASH),
        "transactionHash": HexBytes(TX_HASH),
        "transactionIndex": 1,
        "logIndex": index,
    }
    return raw, formatted


def plain(value: Any) -> Any:
    """Decoded arguments as plain dicts and lists (web3 answers AttributeDicts and tuples)."""
    if isinstance(value, dict) or hasattr(value, "items"):
        return {k: plain(v) for k, v in dict(value).items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def web3_args(contract: Contract, name: str, formatted: dict[str, Any]) -> dict[str, Any]:
    decoded = contract.events[name]().process_log(formatted)
    assert decoded["event"] == name
    return plain(decoded["args"])


def assert_placed(event: Event, *, block: int = 77, index: int = 3) -> None:
    """The event's position, hashes in lower case whatever case the node wrote them in."""
    assert (event.block_number, event.log_index, event.block_hash, event.tx_hash) == (block, index, BLOCK_HASH, TX_HASH)


@pytest.fixture(scope="module")
def documents() -> Artifact:
    return load_artifact(DOCUMENT_REGISTRY)


@pytest.fixture(scope="module")
def property_registry() -> Artifact:
    return load_artifact(PROPERTY_REGISTRY)


@pytest.fixture(scope="module")
def scanner(documents: Artifact) -> RawLogScanner:
    """A scanner of both registries over a client that never connects (decoding needs no node)."""
    client = ChainClient(Web3(), ChainSettings(rpc_url="http://127.0.0.1:9", chain_id=31_337))
    return RawLogScanner(client, documents, REGISTRY_ADDRESS, 1_000, property_address=PROPERTY_ADDRESS)


def contract_of(artifact: Artifact) -> Contract:
    return Web3().eth.contract(abi=artifact.abi)


# ------------------------------------------------------------------------ the layouts
def test_the_property_signatures_are_the_artifacts(property_registry: Artifact) -> None:
    signatures = {
        str(abi["name"]): f"{abi['name']}({','.join(abi_type(i) for i in abi['inputs'])})"
        for abi in property_registry.event_abis()
    }
    assert {name: signatures[name] for name in PROPERTY_EVENT_SIGNATURES} == PROPERTY_EVENT_SIGNATURES
    assert set(signatures) - PROPERTY_EVENTS == {"EIP712DomainChanged", "SignedActionExecuted"}
    assert OWNER_EVENTS == ["CorrectionOpened", "TransferOpened", "TransferResubmitted", "UnitRegistered"]


def test_the_registry_event_names_are_the_artifacts(documents: Artifact) -> None:
    names = {str(abi["name"]) for abi in documents.event_abis()}
    assert names >= GOVERNANCE_EVENTS | set(STATUS_EVENTS)
    assert names - GOVERNANCE_EVENTS - set(STATUS_EVENTS) == {
        "BatchAnchored",
        "TitleLocked",
        "NonceUsed",
        "EIP712DomainChanged",
        "RoleAdminChanged",
        "RoleGranted",
        "RoleRevoked",
    }


# -------------------------------------------------------------------- property events
@pytest.mark.parametrize("name", sorted(PROPERTY_EVENT_SIGNATURES))
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_property_event_decodes_as_web3_does(
    property_registry: Artifact, scanner: RawLogScanner, name: str, seed: int
) -> None:
    raw, formatted = build_log(property_registry, name, PROPERTY_ADDRESS, seed=seed, owners=seed)
    expected = web3_args(contract_of(property_registry), name, formatted)
    event = decode_property_log(raw)
    assert event.name == name
    assert plain(event.args) == expected
    assert_placed(event)
    # the scanner sends the PropertyRegistry's logs to the same decoder, whatever the address's case
    assert scanner.decode({**raw, "address": PROPERTY_ADDRESS}) == event


@pytest.mark.parametrize("count", [0, 1, 5])
@pytest.mark.parametrize("name", OWNER_EVENTS)
def test_the_owners_array_decodes_as_web3_does(property_registry: Artifact, name: str, count: int) -> None:
    raw, formatted = build_log(property_registry, name, PROPERTY_ADDRESS, owners=count)
    expected = web3_args(contract_of(property_registry), name, formatted)
    owners = decode_property_log(raw).args["owners"]
    assert len(owners) == count
    assert owners == expected["owners"]
    assert all(set(owner) == {"commitment", "share"} and len(owner["commitment"]) == 32 for owner in owners)


def test_decode_owners_reads_the_abi_encoding_at_its_offset() -> None:
    owners = [(b"\x01" * 32, 0), (b"\x02" * 32, 65_535), (b"\x03" * 32, 3_333)]
    data = eth_abi.encode(["bytes32", "(bytes32,uint16)[]"], [b"\xee" * 32, owners])
    offset = int.from_bytes(data[32:64], "big")
    assert offset == 64
    assert decode_owners(data, offset) == [{"commitment": c, "share": s} for c, s in owners]
    with pytest.raises(ValueError, match="offset out of range"):
        decode_owners(data, len(data))
    with pytest.raises(ValueError, match="owners out of range"):
        decode_owners(data[:-32], offset)  # the last owner's share is cut off


def test_a_malformed_property_log_is_a_chain_error(property_registry: Artifact) -> None:
    raw, _ = build_log(property_registry, "TransferFinalized", PROPERTY_ADDRESS)
    with pytest.raises(ChainError, match="malformed TransferFinalized log"):
        decode_property_log({**raw, "data": raw["data"][:-64]})  # the last data word cut off
    with pytest.raises(ChainError, match="malformed TransferFinalized log"):
        decode_property_log({**raw, "topics": raw["topics"][:-1]})  # an indexed argument missing
    owners_raw, _ = build_log(property_registry, "UnitRegistered", PROPERTY_ADDRESS, owners=3)
    with pytest.raises(ChainError, match="owners out of range"):
        decode_property_log({**owners_raw, "data": owners_raw["data"][:-64]})


def test_another_property_event_comes_back_nameless(property_registry: Artifact, scanner: RawLogScanner) -> None:
    raw, _ = build_log(property_registry, "SignedActionExecuted", PROPERTY_ADDRESS)
    for event in (decode_property_log(raw), scanner.decode(raw)):
        assert event.name == "" and event.args == {"topic0": raw["topics"][0]}
        assert_placed(event)
    assert decode_property_log({**raw, "topics": []}).args == {"topic0": None}


# -------------------------------------------------------------------- registry events
#: The hot events (fixed layouts) and a few that go through web3's decoder (strings, bools, uint40).
REGISTRY_EVENTS = [
    "BatchAnchored",
    *sorted(STATUS_EVENTS),
    "TitleLocked",
    "SignerKeyAdded",
    "SignerKeyRetired",
    "DepartmentRegistered",
    "DepartmentActivationChanged",
    "DocumentTypeRegistered",
    "DocumentTypeAuthorized",
    "NonceUsed",
]


@pytest.mark.parametrize("name", REGISTRY_EVENTS)
@pytest.mark.parametrize("seed", [1, 2])
def test_a_registry_event_decodes_as_web3_does(
    documents: Artifact, scanner: RawLogScanner, name: str, seed: int
) -> None:
    raw, formatted = build_log(documents, name, REGISTRY_ADDRESS, seed=seed, block=5_000_000, index=0)
    expected = web3_args(contract_of(documents), name, formatted)
    event = scanner.decode(raw)
    assert event.name == name
    assert plain(event.args) == expected
    assert_placed(event, block=5_000_000, index=0)


def test_the_hot_layouts_read_the_right_words(documents: Artifact, scanner: RawLogScanner) -> None:
    """Known values in the fixed layouts' positions (not just agreement with web3)."""
    signer = to_checksum_address("0x" + "9f" * 20)
    data = eth_abi.encode(
        ["bytes32", "address", "bytes32", "bytes32", "uint16"], [b"\x11" * 32, signer, b"\x22" * 32, b"\x33" * 32, 7]
    )
    topic0 = "0x" + bytes(event_abi_to_log_topic(event_abi(documents, "DocumentSuperseded"))).hex()
    raw = {
        "address": REGISTRY_ADDRESS,
        "topics": [topic0, "0x" + "44" * 32, "0x" + "55" * 32, "0x" + "66" * 32],
        "data": "0x" + data.hex(),
        "blockNumber": "0x10",
        "blockHash": BLOCK_HASH,
        "transactionHash": TX_HASH,
        "logIndex": "0x2",
    }
    event = scanner.decode(raw)
    assert event == Event(
        name="DocumentSuperseded",
        args={
            "department": b"\x44" * 32,
            "root": b"\x55" * 32,
            "targetHash": b"\x66" * 32,
            "actor": b"\x11" * 32,
            "signer": signer,
            "successorRoot": b"\x22" * 32,
            "successor": b"\x33" * 32,
            "reason": 7,
        },
        block_number=16,
        block_hash=BLOCK_HASH,
        tx_hash=TX_HASH,
        log_index=2,
    )


def test_nonce_used_reads_its_signer_topic_and_nonce_word(documents: Artifact, scanner: RawLogScanner) -> None:
    signer = to_checksum_address("0x" + "a7" * 20)
    topic0 = "0x" + bytes(event_abi_to_log_topic(event_abi(documents, "NonceUsed"))).hex()
    raw = {
        "address": REGISTRY_ADDRESS,
        "topics": [topic0, "0x" + "00" * 12 + signer[2:].lower()],
        "data": "0x" + (2**200 + 9).to_bytes(32, "big").hex(),
        "blockNumber": "0x7",
        "blockHash": BLOCK_HASH,
        "transactionHash": TX_HASH,
        "logIndex": "0x0",
    }
    event = scanner.decode(raw)
    assert (event.name, event.args) == ("NonceUsed", {"signer": signer, "nonce": 2**200 + 9})


def test_an_unknown_registry_event_comes_back_nameless(scanner: RawLogScanner) -> None:
    raw = {
        "address": REGISTRY_ADDRESS,
        "topics": ["0x" + "ab" * 32],
        "data": "0x",
        "blockNumber": "0x5",
        "logIndex": "0x0",
        "blockHash": BLOCK_HASH,
        "transactionHash": TX_HASH,
    }
    event = scanner.decode(raw)
    assert (event.name, event.args, event.block_number) == ("", {"topic0": "0x" + "ab" * 32}, 5)
