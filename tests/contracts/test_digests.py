"""The client's EIP-712 messages hash to exactly what the contract verifies."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi import encode as abi_encode
from eth_account.messages import encode_typed_data
from eth_keys import keys
from eth_utils import keccak

from chain.eip712 import (
    ANCHOR_TYPES,
    DOMAIN_NAME,
    DOMAIN_VERSION,
    STATUS_CHANGE_TYPES,
    anchor_message,
    domain,
    recover_anchor_signer,
    recover_status_change_signer,
    status_change_message,
)
from chain.types import ZERO32, Action, SignedAnchor, StatusChange, type_id
from tests.contracts.helpers import call, random_hash
from tests.factories import BUSINESS_LICENSE, World

DOMAIN_TYPEHASH = keccak(text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")


def typed_digest(chain_id: int, registry: str, types: dict[str, Any], message: dict[str, Any]) -> bytes:
    """keccak256(0x19 0x01 ‖ domainSeparator ‖ hashStruct(message)), via eth_account."""
    signable = encode_typed_data(domain(chain_id, registry), types, message)
    return keccak(b"\x19\x01" + signable.header + signable.body)


def domain_separator(chain_id: int, registry: str) -> bytes:
    """The EIP-712 domain separator, encoded by hand."""
    return keccak(
        abi_encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [DOMAIN_TYPEHASH, keccak(text=DOMAIN_NAME), keccak(text=DOMAIN_VERSION), chain_id, registry],
        )
    )


def recover(digest: bytes, signature: bytes) -> str:
    """The address whose key made ``signature`` (r ‖ s ‖ v, v in {27, 28}) over ``digest``."""
    vrs = signature[:64] + bytes([signature[64] - 27])
    return str(keys.Signature(vrs).recover_public_key_from_msg_hash(digest).to_checksum_address())


def type_string(types: dict[str, Any]) -> str:
    ((name, fields),) = types.items()
    members = ",".join(f"{field['type']} {field['name']}" for field in fields)
    return f"{name}({members})"


def test_typehashes_match_the_contract(world: World) -> None:
    assert call(world, "ANCHOR_TYPEHASH") == keccak(text=type_string(ANCHOR_TYPES))
    assert call(world, "STATUS_CHANGE_TYPEHASH") == keccak(text=type_string(STATUS_CHANGE_TYPES))


def test_domain_matches_the_contract(world: World) -> None:
    _fields, name, version, chain_id, contract, salt, extensions = call(world, "eip712Domain")
    assert (name, version) == (DOMAIN_NAME, DOMAIN_VERSION)
    assert chain_id == world.chain_id == world.node.chain_id
    assert contract.lower() == world.registry.address.lower()
    assert (salt, list(extensions)) == (ZERO32, [])
    signable = encode_typed_data(
        domain(world.chain_id, world.registry.address),
        ANCHOR_TYPES,
        {
            "root": ZERO32,
            "docType": ZERO32,
            "count": 0,
            "deadline": 0,
        },
    )
    assert signable.header == domain_separator(world.chain_id, world.registry.address)


ANCHORS = [
    (random_hash(), type_id(BUSINESS_LICENSE), 1, 1_900_000_000),
    (ZERO32, ZERO32, 0, 0),
    (b"\xff" * 32, b"\x01" * 32, 2**32 - 1, 2**64 - 1),
]


@pytest.mark.parametrize("fields", ANCHORS, ids=["typical", "zeros", "maxima"])
def test_anchor_digest(world: World, fields: tuple[bytes, bytes, int, int]) -> None:
    root, doc_type, count, deadline = fields
    expected = typed_digest(
        world.chain_id, world.registry.address, ANCHOR_TYPES, anchor_message(root, doc_type, count, deadline)
    )
    by_hand = keccak(
        b"\x19\x01"
        + domain_separator(world.chain_id, world.registry.address)
        + keccak(
            abi_encode(
                ["bytes32", "bytes32", "bytes32", "uint32", "uint64"],
                [keccak(text=type_string(ANCHOR_TYPES)), root, doc_type, count, deadline],
            )
        )
    )
    assert expected == by_hand
    for signature in (b"", b"\x42" * 65):  # the signature is not part of the digest
        signed = SignedAnchor(root, doc_type, count, deadline, signature)
        assert world.registry.anchor_digest(signed) == expected


def _changes() -> dict[str, tuple[StatusChange, int, int]]:
    proof = [random_hash() for _ in range(3)]
    return {
        "revoke-batch": (StatusChange(Action.REVOKE, random_hash()), 0, 0),
        "suspend-document": (
            StatusChange(Action.SUSPEND, random_hash(), random_hash(), proof[:1], reason=6),
            12345,
            1_900_000_000,
        ),
        "supersede": (
            StatusChange(
                Action.SUPERSEDE,
                random_hash(),
                random_hash(),
                proof,
                successor_root=random_hash(),
                successor=random_hash(),
                successor_proof=proof[1:],
                reason=5,
            ),
            2**256 - 1,
            2**64 - 1,
        ),
        "reinstate-max-reason": (
            StatusChange(Action.REINSTATE, random_hash(), random_hash(), proof, reason=2**16 - 1),
            2**255,
            1,
        ),
    }


CHANGES = _changes()


@pytest.mark.parametrize("case", list(CHANGES))
def test_status_change_digest(world: World, case: str) -> None:
    change, nonce, deadline = CHANGES[case]
    expected = typed_digest(
        world.chain_id, world.registry.address, STATUS_CHANGE_TYPES, status_change_message(change, nonce, deadline)
    )
    assert world.registry.status_change_digest(change, nonce, deadline) == expected


def test_proof_order_and_content_change_the_digest(world: World) -> None:
    proof = [random_hash(), random_hash()]
    change = StatusChange(Action.REVOKE, random_hash(), random_hash(), proof)
    digests = {
        world.registry.status_change_digest(c, 1, 1)
        for c in (
            change,
            StatusChange(Action.REVOKE, change.root, change.target_hash, proof[::-1]),
            StatusChange(Action.REVOKE, change.root, change.target_hash, proof[:1]),
            StatusChange(Action.REVOKE, change.root, change.target_hash, [], successor_proof=proof),
        )
    }
    assert len(digests) == 4


def test_domain_binds_chain_id_and_registry(world: World) -> None:
    message = anchor_message(random_hash(), type_id(BUSINESS_LICENSE), 3, 1_900_000_000)
    signed = SignedAnchor(message["root"], message["docType"], message["count"], message["deadline"], b"")
    on_chain = world.registry.anchor_digest(signed)
    assert on_chain == typed_digest(world.chain_id, world.registry.address, ANCHOR_TYPES, message)
    assert on_chain != typed_digest(world.chain_id + 1, world.registry.address, ANCHOR_TYPES, message)
    other_registry = world.new_account().address
    assert on_chain != typed_digest(world.chain_id, other_registry, ANCHOR_TYPES, message)

    change = StatusChange(Action.REVOKE, random_hash())
    on_chain = world.registry.status_change_digest(change, 5, 1_900_000_000)
    change_message = status_change_message(change, 5, 1_900_000_000)
    assert on_chain != typed_digest(world.chain_id + 1, world.registry.address, STATUS_CHANGE_TYPES, change_message)
    assert on_chain != typed_digest(world.chain_id, other_registry, STATUS_CHANGE_TYPES, change_message)


def test_client_signatures_sign_the_contract_digest(world: World) -> None:
    """What the helpers sign recovers, from the contract's own digest, to the department key."""
    signed = world.sign_anchor(random_hash(), count=2)
    digest = world.registry.anchor_digest(signed)
    assert recover(digest, signed.signature) == world.samr_key.address
    assert recover_anchor_signer(signed, chain_id=world.chain_id, registry=world.registry.address) == (
        world.samr_key.address
    )

    change = world.sign_change(StatusChange(Action.SUSPEND, random_hash(), random_hash(), [random_hash()]))
    digest = world.registry.status_change_digest(change.change, change.nonce, change.deadline)
    assert recover(digest, change.signature) == world.samr_key.address
    assert recover_status_change_signer(change, chain_id=world.chain_id, registry=world.registry.address) == (
        world.samr_key.address
    )
