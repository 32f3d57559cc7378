"""Gas of the anchoring hot path (gas is deterministic, so plain bounds are stable), and of the
council's protective path (a suspension at once).

Roots and counts without zero bytes are the costliest calldata, so they are the cases bounded.
"""

from __future__ import annotations

import os

import pytest

from chain.governance import ProposalKind
from chain.types import Action, State, StatusChange, type_id
from tests.contracts.helpers import gov
from tests.factories import BUSINESS_LICENSE, SAMR, World

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


#: A suspension by the council (Immediate: three members' signatures checked, then the registry).
GOVERNANCE_SUSPEND_GAS = 220_000


def test_governance_suspend_gas(world: World) -> None:
    tree, targets = world.anchor_batch(4)
    change = StatusChange(Action.SUSPEND, tree.root, targets[0], tree.proof(0), reason=6)
    receipt = world.registry.govern_change_status(gov(world), SAMR, change)
    assert receipt is not None
    assert world.governance.last_proposal is not None
    assert world.governance.last_proposal.kind == ProposalKind.IMMEDIATE
    assert world.registry.document_status(SAMR, tree.root, targets[0]).document.state == State.SUSPENDED
    assert receipt.gas_used <= GOVERNANCE_SUSPEND_GAS, receipt.gas_used
