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


#: The SM2 curve of GB/T 32918.5: y² = x³ + a·x + b over F_p, a = p - 3 (p ≡ 3 mod 4).
SM2_P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
SM2_B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
#: The curve's base point G.
SM2_G = (
    0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7,
    0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0,
)


def sm2_on_curve(x: int, y: int) -> bool:
    return x < SM2_P and y < SM2_P and (y * y - (x**3 - 3 * x + SM2_B)) % SM2_P == 0


def sm2_point() -> tuple[bytes, bytes]:
    """A random point of the SM2 curve (the group's order is prime: every point is a public key)."""
    while True:
        x = int.from_bytes(os.urandom(32), "big") % SM2_P
        rhs = (x**3 - 3 * x + SM2_B) % SM2_P
        y = pow(rhs, (SM2_P + 1) // 4, SM2_P)
        if y * y % SM2_P == rhs:
            return x.to_bytes(32, "big"), y.to_bytes(32, "big")


__all__ = [
    "SM2_B",
    "SM2_G",
    "SM2_P",
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
    "sm2_on_curve",
    "sm2_point",
]
