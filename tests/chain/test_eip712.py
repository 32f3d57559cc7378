"""EIP-712 signing helpers agree with the contract and recover the signer."""

from __future__ import annotations

import os

from eth_account import Account

from chain.eip712 import (
    recover_anchor_signer,
    recover_status_change_signer,
    sign_anchor,
    sign_status_change,
)
from chain.types import Action, StatusChange


def test_anchor_signature_recovers_to_the_key() -> None:
    key = Account.create()
    registry = "0x" + "ab" * 20
    signed = sign_anchor(
        key,
        chain_id=2018,
        registry=registry,
        root=os.urandom(32),
        doc_type=os.urandom(32),
        count=7,
        deadline=10**10,
    )
    assert recover_anchor_signer(signed, chain_id=2018, registry=registry) == key.address
    assert recover_anchor_signer(signed, chain_id=1337, registry=registry) != key.address
    assert recover_anchor_signer(signed, chain_id=2018, registry="0x" + "cd" * 20) != key.address


def test_status_change_signature_binds_every_field() -> None:
    key = Account.create()
    registry = "0x" + "ab" * 20
    change = StatusChange(Action.REVOKE, os.urandom(32), os.urandom(32), [os.urandom(32)], reason=3)
    signed = sign_status_change(
        key, chain_id=1337, registry=registry, change=change, nonce=5, deadline=10**10
    )
    assert recover_status_change_signer(signed, chain_id=1337, registry=registry) == key.address
    altered = type(signed)(
        change=StatusChange(
            Action.SUSPEND, change.root, change.target_hash, change.proof, reason=3
        ),
        nonce=signed.nonce,
        deadline=signed.deadline,
        signature=signed.signature,
    )
    assert recover_status_change_signer(altered, chain_id=1337, registry=registry) != key.address
