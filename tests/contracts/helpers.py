"""Small helpers shared by the contract behaviour tests."""

from __future__ import annotations

import os
from typing import Any

from eth_account.signers.local import LocalAccount
from web3.logs import DISCARD

from chain.governance import Governance
from chain.sender import Receipt, TransactionSender
from chain.types import ZERO32, type_id
from tests.factories import BUSINESS_LICENSE, World


def gov(world: World) -> Governance:
    """The council (3 of 5 members sign; Scheduled proposals wait out the time lock on the node's clock)."""
    return world.governance


def random_hash() -> bytes:
    return os.urandom(32)


def block_time(world: World, receipt: Receipt) -> int:
    """Timestamp of the block that mined ``receipt``."""
    return int(world.client.w3.eth.get_block(receipt.block_number)["timestamp"])


def events(world: World, receipt: Receipt, name: str) -> list[dict[str, Any]]:
    """Decoded ``name`` events of ``receipt`` (arguments only)."""
    event = getattr(world.registry.contract.events, name)()
    return [dict(log["args"]) for log in event.process_receipt(receipt.raw, errors=DISCARD)]


def one_event(world: World, receipt: Receipt, name: str) -> dict[str, Any]:
    found = events(world, receipt, name)
    assert len(found) == 1, f"expected one {name} event, got {found}"
    return found[0]


def add_key(
    world: World,
    department: bytes,
    *,
    valid_from: int | None = None,
    valid_until: int = 0,
) -> LocalAccount:
    """A fresh signing key of ``department`` (valid from an hour ago unless told)."""
    key = world.new_account()
    start = valid_from if valid_from is not None else world.now() - 3600
    world.registry.add_signer_key(gov(world), department, key.address, start, valid_until)
    return key


def anchor_direct(world: World, key: LocalAccount, doc_type: str = BUSINESS_LICENSE, count: int = 1) -> bytes:
    """Anchors a random root with ``key`` sending the transaction; returns the root."""
    root = random_hash()
    world.registry.anchor(world.sender(key), root, type_id(doc_type), count)
    return root


def call(world: World, fn_name: str, *args: Any, sender: str | None = None) -> Any:
    """A read-only call of ``fn_name`` (as ``sender`` if given), reverts decoded."""
    fn = getattr(world.registry.contract.functions, fn_name)(*args)
    params: Any = {"from": sender} if sender else {}
    return world.client.run(lambda: fn.call(params), world.registry.artifact)


def same_address(actual: str, expected: str) -> bool:
    return actual.lower() == expected.lower()


__all__ = [
    "ZERO32",
    "add_key",
    "anchor_direct",
    "block_time",
    "call",
    "events",
    "gov",
    "one_event",
    "random_hash",
    "same_address",
]
