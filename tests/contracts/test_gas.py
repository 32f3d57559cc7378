"""Gas of the anchoring hot path (gas is deterministic, so plain bounds are stable).

Roots and counts without zero bytes are the costliest calldata, so they are the cases bounded.
"""

from __future__ import annotations

import os

import pytest

from chain.types import type_id
from tests.factories import BUSINESS_LICENSE, World

DIRECT_ANCHOR_GAS = 50_000
RELAYED_ANCHOR_GAS = 75_000

COUNTS = [1, 2**32 - 1]


def dense_root() -> bytes:
    """A random root with no zero byte (every calldata byte at the non-zero price)."""
    return bytes(b or 1 for b in os.urandom(32))


@pytest.mark.parametrize("count", COUNTS)
def test_direct_anchor_gas(world: World, count: int) -> None:
    receipt = world.registry.anchor(world.sender(world.samr_key), dense_root(), type_id(BUSINESS_LICENSE), count)
    assert receipt.gas_used <= DIRECT_ANCHOR_GAS, receipt.gas_used


@pytest.mark.parametrize("count", COUNTS)
def test_relayed_anchor_gas(world: World, count: int) -> None:
    signed = world.sign_anchor(dense_root(), count=count, deadline=2**64 - 1)
    receipt = world.registry.anchor_signed(world.sender(world.relayer), signed)
    assert receipt.gas_used <= RELAYED_ANCHOR_GAS, receipt.gas_used
