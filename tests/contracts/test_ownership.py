"""Roots are owned by their department: anchors are kept under (department, root).

Another department anchoring a root first (for example copied from a pending transaction) gets a
record of its own: it neither blocks the department's anchor nor claims its documents. An anchor
made by a key outside its window (a retirement backdated to a compromise) gives way: the
department anchors its genuine root again, with a fresh history.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from eth_account.signers.local import LocalAccount

from chain.governance import ProposalKind
from chain.sender import Receipt
from chain.types import ZERO32, Action, State, StatusChange, StatusRecord, type_id
from documents.merkle import MerkleTree
from tests.contracts.helpers import add_key, block_time, gov, one_event, random_hash
from tests.factories import (
    BUSINESS_LICENSE,
    FOOD_LICENSE,
    NATRES,
    PROPERTY_CERTIFICATE,
    SAMR,
    World,
    expect_revert,
)

ACTIVE = StatusRecord(State.ACTIVE, 0, 0, ZERO32)


@dataclass(frozen=True)
class Path:
    """How a department's anchor or status change reaches the registry."""

    name: str
    anchor: Callable[[World, LocalAccount, bytes, str, int], Receipt]
    change: Callable[[World, LocalAccount, StatusChange], Receipt]


def _anchor_direct(world: World, key: LocalAccount, root: bytes, doc_type: str, count: int) -> Receipt:
    return world.registry.anchor(world.sender(key), root, type_id(doc_type), count)


def _anchor_relayed(world: World, key: LocalAccount, root: bytes, doc_type: str, count: int) -> Receipt:
    signed = world.sign_anchor(root, key=key, doc_type=doc_type, count=count)
    return world.registry.anchor_signed(world.sender(world.relayer), signed)


def _change_direct(world: World, key: LocalAccount, change: StatusChange) -> Receipt:
    return world.registry.change_status(world.sender(key), change)


def _change_relayed(world: World, key: LocalAccount, change: StatusChange) -> Receipt:
    return world.registry.change_status_signed(world.sender(world.relayer), world.sign_change(change, key=key))


PATHS = [Path("direct", _anchor_direct, _change_direct), Path("relayed", _anchor_relayed, _change_relayed)]


@pytest.fixture(params=PATHS, ids=[p.name for p in PATHS])
def path(request: pytest.FixtureRequest) -> Path:
    chosen: Path = request.param
    return chosen


def documents(size: int = 4) -> tuple[MerkleTree, list[bytes]]:
    targets = [random_hash() for _ in range(size)]
    return MerkleTree(targets), targets


def doc(tree: MerkleTree, targets: list[bytes], index: int, action: Action, reason: int = 0) -> StatusChange:
    return StatusChange(action, tree.root, targets[index], tree.proof(index), reason=reason)


def test_another_department_anchoring_first_neither_blocks_nor_claims(world: World, path: Path) -> None:
    """NATRES anchors SAMR's root while SAMR's anchor is still pending: both records exist."""
    tree, targets = documents()
    path.anchor(world, world.natres_key, tree.root, PROPERTY_CERTIFICATE, 2)
    receipt = path.anchor(world, world.samr_key, tree.root, BUSINESS_LICENSE, 4)

    assert one_event(world, receipt, "BatchAnchored") == {
        "root": tree.root,
        "docType": type_id(BUSINESS_LICENSE),
        "signer": world.samr_key.address,
        "count": 4,
    }
    ours = world.registry.document_status(SAMR, tree.root, targets[1])
    assert (ours.anchored, ours.department, ours.signer) == (True, SAMR, world.samr_key.address)
    assert (ours.doc_type, ours.count, ours.anchored_at) == (type_id(BUSINESS_LICENSE), 4, block_time(world, receipt))
    assert (ours.batch, ours.document, ours.effective_state) == (ACTIVE, ACTIVE, State.ACTIVE)
    theirs = world.registry.document_status(NATRES, tree.root, targets[1])
    assert (theirs.anchored, theirs.department, theirs.signer) == (True, NATRES, world.natres_key.address)
    assert (theirs.doc_type, theirs.count) == (type_id(PROPERTY_CERTIFICATE), 2)
    assert theirs.anchored_at <= ours.anchored_at

    # NATRES revokes its record (the proofs are valid: it is the same root): SAMR's is untouched.
    receipt = path.change(world, world.natres_key, doc(tree, targets, 1, Action.REVOKE, reason=2))
    assert one_event(world, receipt, "DocumentRevoked")["department"] == NATRES
    path.change(world, world.natres_key, StatusChange(Action.SUSPEND, tree.root))
    theirs = world.registry.document_status(NATRES, tree.root, targets[1])
    assert (theirs.document.state, theirs.document.changed_by) == (State.REVOKED, NATRES)
    assert theirs.document.signer == world.natres_key.address
    assert theirs.batch.state == State.SUSPENDED
    ours = world.registry.document_status(SAMR, tree.root, targets[1])
    assert (ours.batch, ours.document, ours.effective_state) == (ACTIVE, ACTIVE, State.ACTIVE)
    assert world.registry.status_history_length(SAMR, tree.root, targets[1]) == 0
    assert world.registry.status_history_length(SAMR, tree.root) == 0

    # And the other way round: SAMR's changes stay in SAMR's record.
    path.change(world, world.samr_key, doc(tree, targets, 1, Action.SUSPEND, reason=6))
    assert world.registry.document_status(SAMR, tree.root, targets[1]).document.state == State.SUSPENDED
    assert world.registry.document_status(NATRES, tree.root, targets[1]).document.state == State.REVOKED
    assert world.registry.document_status(NATRES, tree.root, targets[0]).document == ACTIVE


def test_a_signed_anchor_still_goes_through_after_another_department_anchored_its_root(world: World) -> None:
    """The relayer's copy of SAMR's signed anchor is not spent by NATRES anchoring the root."""
    tree, _ = documents()
    signed = world.sign_anchor(tree.root, count=4)
    world.registry.anchor(world.sender(world.natres_key), tree.root, type_id(PROPERTY_CERTIFICATE), 1)
    world.registry.anchor_signed(world.sender(world.relayer), signed)
    assert world.registry.document_status(SAMR, tree.root).signer == world.samr_key.address
    assert world.registry.document_status(NATRES, tree.root).signer == world.natres_key.address


def test_the_same_department_anchors_a_root_once(world: World, path: Path) -> None:
    root = random_hash()
    path.anchor(world, world.natres_key, root, PROPERTY_CERTIFICATE, 1)
    path.anchor(world, world.samr_key, root, BUSINESS_LICENSE, 3)
    colleague = add_key(world, SAMR)
    for key, doc_type in (
        (world.samr_key, BUSINESS_LICENSE),
        (colleague, FOOD_LICENSE),
        (world.natres_key, PROPERTY_CERTIFICATE),
    ):
        expect_revert(
            lambda key=key, doc_type=doc_type: path.anchor(world, key, root, doc_type, 7),
            "DocumentRegistryRootAlreadyAnchored",
            root=root,
        )
    samr = world.registry.document_status(SAMR, root)
    assert (samr.signer, samr.count, samr.doc_type) == (world.samr_key.address, 3, type_id(BUSINESS_LICENSE))
    assert world.registry.document_status(NATRES, root).count == 1


def test_re_anchor_after_a_backdated_retirement(world: World, path: Path) -> None:
    """A root anchored by a key outside its (backdated) window is anchored again by the department
    with a good key; the new record starts Active, with none of the old record's changes."""
    g = gov(world)
    stolen = add_key(world, SAMR)
    tree, targets = documents()
    receipt = path.anchor(world, stolen, tree.root, BUSINESS_LICENSE, 4)
    first_at = block_time(world, receipt)
    # The department's good key suspends a document and the batch of the anchor in the meantime.
    path.change(world, world.samr_key, doc(tree, targets, 0, Action.SUSPEND, reason=6))
    path.change(world, world.samr_key, StatusChange(Action.SUSPEND, tree.root, reason=6))
    # Without a retirement the department cannot anchor it again.
    expect_revert(
        lambda: path.anchor(world, world.samr_key, tree.root, BUSINESS_LICENSE, 4),
        "DocumentRegistryRootAlreadyAnchored",
        root=tree.root,
    )

    # The council retires the key from before the anchor: a Scheduled proposal (time lock).
    compromised_at = first_at - 1
    world.registry.retire_signer_key(g, stolen.address, compromised_at)
    assert g.last_proposal is not None and g.last_proposal.kind == ProposalKind.SCHEDULED
    assert world.registry.signer_key(stolen.address).valid_until == compromised_at
    old = world.registry.document_status(SAMR, tree.root, targets[0])
    assert (old.signer, old.anchored_at) == (stolen.address, first_at)  # verifiers see a key outside its window
    assert (old.batch.state, old.document.state) == (State.SUSPENDED, State.SUSPENDED)

    receipt = path.anchor(world, world.samr_key, tree.root, FOOD_LICENSE, 4)
    assert one_event(world, receipt, "BatchAnchored")["signer"] == world.samr_key.address
    new = world.registry.document_status(SAMR, tree.root, targets[0])
    assert (new.anchored, new.department, new.signer) == (True, SAMR, world.samr_key.address)
    assert (new.doc_type, new.count, new.anchored_at) == (type_id(FOOD_LICENSE), 4, block_time(world, receipt))
    assert (new.batch, new.document, new.effective_state) == (ACTIVE, ACTIVE, State.ACTIVE)
    assert world.registry.status_history_length(SAMR, tree.root) == 0
    assert world.registry.status_history_length(SAMR, tree.root, targets[0]) == 0

    # The fresh record takes changes, and is itself anchored once.
    path.change(world, world.samr_key, doc(tree, targets, 0, Action.REVOKE, reason=1))
    assert world.registry.document_status(SAMR, tree.root, targets[0]).document.state == State.REVOKED
    assert world.registry.document_status(SAMR, tree.root, targets[1]).document == ACTIVE
    colleague = add_key(world, SAMR)
    expect_revert(
        lambda: path.anchor(world, colleague, tree.root, BUSINESS_LICENSE, 4),
        "DocumentRegistryRootAlreadyAnchored",
        root=tree.root,
    )


def test_a_retirement_from_now_does_not_free_the_root(world: World) -> None:
    """A key retired in the ordinary way (rotation) was inside its window when it anchored."""
    g = gov(world)
    rotated = add_key(world, SAMR)
    root = random_hash()
    world.registry.anchor(world.sender(rotated), root, type_id(BUSINESS_LICENSE), 1)
    world.registry.retire_signer_key(g, rotated.address, world.now() + 120)
    assert g.last_proposal is not None and g.last_proposal.kind == ProposalKind.IMMEDIATE
    world.increase_time(300)
    expect_revert(
        lambda: world.registry.anchor(world.sender(world.samr_key), root, type_id(BUSINESS_LICENSE), 1),
        "DocumentRegistryRootAlreadyAnchored",
        root=root,
    )
    assert world.registry.document_status(SAMR, root).signer == rotated.address


def test_another_department_s_voided_anchor_does_not_free_ours(world: World) -> None:
    """A backdated retirement of NATRES's key frees NATRES's record only."""
    natres_key = add_key(world, NATRES)
    root = random_hash()
    receipt = world.registry.anchor(world.sender(natres_key), root, type_id(PROPERTY_CERTIFICATE), 1)
    world.registry.anchor(world.sender(world.samr_key), root, type_id(BUSINESS_LICENSE), 1)
    world.registry.retire_signer_key(gov(world), natres_key.address, block_time(world, receipt) - 1)
    expect_revert(
        lambda: world.registry.anchor(world.sender(world.samr_key), root, type_id(BUSINESS_LICENSE), 1),
        "DocumentRegistryRootAlreadyAnchored",
        root=root,
    )
    world.registry.anchor(world.sender(world.natres_key), root, type_id(PROPERTY_CERTIFICATE), 2)
    assert world.registry.document_status(NATRES, root).signer == world.natres_key.address
    assert world.registry.document_status(SAMR, root).signer == world.samr_key.address
