"""EIP-712 messages a department key signs so that anyone can relay its anchors and status changes.

The domain binds the chain id and the registry address, so a signature is good on one chain
and one contract only. The typed structures mirror DocumentRegistry's ANCHOR_TYPEHASH and
STATUS_CHANGE_TYPEHASH.
"""

from __future__ import annotations

from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address

from chain.types import SignedAnchor, SignedStatusChange, StatusChange

DOMAIN_NAME = "e-Registry DocumentRegistry"
DOMAIN_VERSION = "1"

ANCHOR_TYPES = {
    "Anchor": [
        {"name": "root", "type": "bytes32"},
        {"name": "docType", "type": "bytes32"},
        {"name": "count", "type": "uint32"},
        {"name": "deadline", "type": "uint64"},
    ]
}

STATUS_CHANGE_TYPES = {
    "StatusChange": [
        {"name": "action", "type": "uint8"},
        {"name": "root", "type": "bytes32"},
        {"name": "targetHash", "type": "bytes32"},
        {"name": "proof", "type": "bytes32[]"},
        {"name": "successorRoot", "type": "bytes32"},
        {"name": "successor", "type": "bytes32"},
        {"name": "successorProof", "type": "bytes32[]"},
        {"name": "reason", "type": "uint16"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint64"},
    ]
}


def typed_domain(name: str, version: str, chain_id: int, contract: str) -> dict[str, Any]:
    """An EIP-712 domain bound to one chain and one contract (OpenZeppelin EIP712's fields)."""
    return {"name": name, "version": version, "chainId": chain_id, "verifyingContract": to_checksum_address(contract)}


def domain(chain_id: int, registry: str) -> dict[str, Any]:
    """The DocumentRegistry's domain."""
    return typed_domain(DOMAIN_NAME, DOMAIN_VERSION, chain_id, registry)


def anchor_message(root: bytes, doc_type: bytes, count: int, deadline: int) -> dict[str, Any]:
    return {"root": root, "docType": doc_type, "count": count, "deadline": deadline}


def status_change_message(change: StatusChange, nonce: int, deadline: int) -> dict[str, Any]:
    return {
        "action": int(change.action),
        "root": change.root,
        "targetHash": change.target_hash,
        "proof": list(change.proof),
        "successorRoot": change.successor_root,
        "successor": change.successor,
        "successorProof": list(change.successor_proof),
        "reason": change.reason,
        "nonce": nonce,
        "deadline": deadline,
    }


def sign_anchor(
    account: LocalAccount,
    *,
    chain_id: int,
    registry: str,
    root: bytes,
    doc_type: bytes,
    count: int,
    deadline: int,
) -> SignedAnchor:
    signable = encode_typed_data(
        domain(chain_id, registry), ANCHOR_TYPES, anchor_message(root, doc_type, count, deadline)
    )
    signature = bytes(account.sign_message(signable).signature)
    return SignedAnchor(root=root, doc_type=doc_type, count=count, deadline=deadline, signature=signature)


def sign_status_change(
    account: LocalAccount,
    *,
    chain_id: int,
    registry: str,
    change: StatusChange,
    nonce: int,
    deadline: int,
) -> SignedStatusChange:
    signable = encode_typed_data(
        domain(chain_id, registry),
        STATUS_CHANGE_TYPES,
        status_change_message(change, nonce, deadline),
    )
    signature = bytes(account.sign_message(signable).signature)
    return SignedStatusChange(change=change, nonce=nonce, deadline=deadline, signature=signature)


def recover_anchor_signer(signed: SignedAnchor, *, chain_id: int, registry: str) -> str:
    """The address that signed ``signed`` (for the relay's checks and the CLI's self-check)."""
    signable = encode_typed_data(
        domain(chain_id, registry),
        ANCHOR_TYPES,
        anchor_message(signed.root, signed.doc_type, signed.count, signed.deadline),
    )
    return str(Account.recover_message(signable, signature=signed.signature))


def recover_status_change_signer(signed: SignedStatusChange, *, chain_id: int, registry: str) -> str:
    signable = encode_typed_data(
        domain(chain_id, registry),
        STATUS_CHANGE_TYPES,
        status_change_message(signed.change, signed.nonce, signed.deadline),
    )
    return str(Account.recover_message(signable, signature=signed.signature))
