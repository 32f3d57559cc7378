"""Status changes: revoke, suspend, reinstate and supersede a batch or one document.

Shared behaviour runs for each actor path: the department key sending changeStatus (direct),
a relayer sending the key's signed change (changeStatusSigned), and governance.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount

from chain.sender import Receipt
from chain.types import ZERO32, Action, SignedStatusChange, State, StatusChange, StatusRecord
from documents.merkle import MerkleTree, hash_pair
from tests.contracts.helpers import add_key, block_time, events, gov, one_event, random_hash
from tests.factories import NATRES, PROPERTY_CERTIFICATE, SAMR, World, expect_revert

ACTIVE = StatusRecord(State.ACTIVE, 0, 0, ZERO32)


@dataclass(frozen=True)
class Batch:
    """An anchored batch and the changes that name it or one of its documents."""

    tree: MerkleTree
    targets: list[bytes]

    @property
    def root(self) -> bytes:
        return self.tree.root

    def whole(self, action: Action, **fields: Any) -> StatusChange:
        return StatusChange(action, self.root, **fields)

    def doc(self, index: int, action: Action, **fields: Any) -> StatusChange:
        return StatusChange(action, self.root, self.targets[index], self.tree.proof(index), **fields)

    def supersede(self, index: int, successor: Batch, successor_index: int, **fields: Any) -> StatusChange:
        return self.doc(
            index,
            Action.SUPERSEDE,
            successor_root=successor.root,
            successor=successor.targets[successor_index],
            successor_proof=successor.tree.proof(successor_index),
            **fields,
        )


def anchor(world: World, size: int = 4, key: LocalAccount | None = None, doc_type: str | None = None) -> Batch:
    if doc_type is None:
        tree, targets = world.anchor_batch(size, key=key)
    else:
        tree, targets = world.anchor_batch(size, key=key, doc_type=doc_type)
    return Batch(tree, targets)


@dataclass(frozen=True)
class Changer:
    """One way a status change reaches the registry."""

    name: str
    governance: bool
    send: Callable[[World, StatusChange, LocalAccount], Receipt]

    def apply(self, world: World, change: StatusChange, key: LocalAccount | None = None) -> Receipt:
        return self.send(world, change, key or world.samr_key)

    def actor(self, department: bytes = SAMR) -> bytes:
        """changedBy / the event's department: the key's department, or 0 for governance."""
        return ZERO32 if self.governance else department


def _direct(world: World, change: StatusChange, key: LocalAccount) -> Receipt:
    return world.registry.change_status(world.sender(key), change)


def _relayed(world: World, change: StatusChange, key: LocalAccount) -> Receipt:
    signed = world.sign_change(change, key=key)
    return world.registry.change_status_signed(world.sender(world.relayer), signed)


def _governance(world: World, change: StatusChange, key: LocalAccount) -> Receipt:
    return world.registry.change_status(gov(world), change)


DIRECT = Changer("direct", False, _direct)
RELAYED = Changer("relayed", False, _relayed)
GOVERNANCE = Changer("governance", True, _governance)


@pytest.fixture(params=[DIRECT, RELAYED, GOVERNANCE], ids=lambda c: c.name)
def changer(request: pytest.FixtureRequest) -> Changer:
    chosen: Changer = request.param
    return chosen


@pytest.fixture(params=[DIRECT, RELAYED], ids=lambda c: c.name)
def department_changer(request: pytest.FixtureRequest) -> Changer:
    chosen: Changer = request.param
    return chosen


@pytest.fixture
def batch(world: World) -> Batch:
    """Four business licences anchored by SAMR."""
    return anchor(world)


def prepare(world: World, *changes: StatusChange) -> None:
    """Brings documents into a state as governance (not the path under test)."""
    for change in changes:
        world.registry.change_status(gov(world), change)


# -------------------------------------------------------------------------- transitions


def test_revoke_batch(world: World, changer: Changer, batch: Batch) -> None:
    receipt = changer.apply(world, batch.whole(Action.REVOKE, reason=2))

    assert one_event(world, receipt, "DocumentRevoked") == {
        "root": batch.root,
        "targetHash": ZERO32,
        "department": changer.actor(),
        "reason": 2,
    }
    revoked = StatusRecord(State.REVOKED, 2, block_time(world, receipt), changer.actor())
    for target in (ZERO32, *batch.targets):
        status = world.registry.document_status(batch.root, target)
        assert status.batch == revoked
        assert status.document == ACTIVE
        assert status.effective_state == State.REVOKED


def test_revoke_one_document(world: World, changer: Changer, batch: Batch) -> None:
    receipt = changer.apply(world, batch.doc(1, Action.REVOKE, reason=1))

    assert one_event(world, receipt, "DocumentRevoked") == {
        "root": batch.root,
        "targetHash": batch.targets[1],
        "department": changer.actor(),
        "reason": 1,
    }
    status = world.registry.document_status(batch.root, batch.targets[1])
    assert status.document == StatusRecord(State.REVOKED, 1, block_time(world, receipt), changer.actor())
    assert status.batch == ACTIVE
    assert status.effective_state == State.REVOKED
    for i in (0, 2, 3):
        other = world.registry.document_status(batch.root, batch.targets[i])
        assert (other.batch, other.document, other.effective_state) == (ACTIVE, ACTIVE, State.ACTIVE)
    assert world.registry.document_status(batch.root).batch == ACTIVE


def test_suspend_and_reinstate_batch(world: World, changer: Changer, batch: Batch) -> None:
    receipt = changer.apply(world, batch.whole(Action.SUSPEND, reason=6))
    assert one_event(world, receipt, "DocumentSuspended") == {
        "root": batch.root,
        "targetHash": ZERO32,
        "department": changer.actor(),
        "reason": 6,
    }
    suspended_at = block_time(world, receipt)
    status = world.registry.document_status(batch.root, batch.targets[3])
    assert status.batch == StatusRecord(State.SUSPENDED, 6, suspended_at, changer.actor())
    assert status.effective_state == State.SUSPENDED

    world.increase_time(100)
    receipt = changer.apply(world, batch.whole(Action.REINSTATE, reason=7))
    assert one_event(world, receipt, "DocumentReinstated") == {
        "root": batch.root,
        "targetHash": ZERO32,
        "department": changer.actor(),
        "reason": 7,
    }
    reinstated_at = block_time(world, receipt)
    assert reinstated_at >= suspended_at + 100
    status = world.registry.document_status(batch.root, batch.targets[3])
    assert status.batch == StatusRecord(State.ACTIVE, 7, reinstated_at, changer.actor())
    assert status.effective_state == State.ACTIVE


def test_suspend_and_reinstate_document(world: World, changer: Changer, batch: Batch) -> None:
    receipt = changer.apply(world, batch.doc(2, Action.SUSPEND, reason=6))
    assert one_event(world, receipt, "DocumentSuspended")["targetHash"] == batch.targets[2]
    status = world.registry.document_status(batch.root, batch.targets[2])
    assert status.document == StatusRecord(State.SUSPENDED, 6, block_time(world, receipt), changer.actor())
    assert status.effective_state == State.SUSPENDED
    assert world.registry.document_status(batch.root, batch.targets[0]).effective_state == State.ACTIVE

    receipt = changer.apply(world, batch.doc(2, Action.REINSTATE, reason=7))
    assert one_event(world, receipt, "DocumentReinstated")["targetHash"] == batch.targets[2]
    status = world.registry.document_status(batch.root, batch.targets[2])
    assert status.document == StatusRecord(State.ACTIVE, 7, block_time(world, receipt), changer.actor())
    assert status.batch == ACTIVE


def test_reinstate_requires_suspended(world: World, changer: Changer, batch: Batch) -> None:
    expect_revert(
        lambda: changer.apply(world, batch.whole(Action.REINSTATE)),
        "DocumentRegistryNotSuspended",
        root=batch.root,
        targetHash=ZERO32,
    )
    expect_revert(
        lambda: changer.apply(world, batch.doc(0, Action.REINSTATE)),
        "DocumentRegistryNotSuspended",
        root=batch.root,
        targetHash=batch.targets[0],
    )
    successor = anchor(world, 1)
    prepare(world, batch.supersede(1, successor, 0))
    expect_revert(
        lambda: changer.apply(world, batch.doc(1, Action.REINSTATE)),
        "DocumentRegistryNotSuspended",
        root=batch.root,
        targetHash=batch.targets[1],
    )


def test_supersede(world: World, changer: Changer, batch: Batch) -> None:
    successor = anchor(world, 2)
    receipt = changer.apply(world, batch.supersede(0, successor, 1, reason=5))

    assert one_event(world, receipt, "DocumentSuperseded") == {
        "root": batch.root,
        "targetHash": batch.targets[0],
        "department": changer.actor(),
        "successorRoot": successor.root,
        "successor": successor.targets[1],
        "reason": 5,
    }
    old = world.registry.document_status(batch.root, batch.targets[0])
    assert old.document == StatusRecord(State.SUPERSEDED, 5, block_time(world, receipt), changer.actor())
    assert old.successor == successor.targets[1]
    assert old.effective_state == State.SUPERSEDED
    assert old.batch == ACTIVE
    new = world.registry.document_status(successor.root, successor.targets[1])
    assert (new.effective_state, new.successor) == (State.ACTIVE, ZERO32)
    untouched = world.registry.document_status(batch.root, batch.targets[1])
    assert (untouched.effective_state, untouched.successor) == (State.ACTIVE, ZERO32)


def test_supersede_within_the_batch_and_across_departments(world: World, changer: Changer, batch: Batch) -> None:
    changer.apply(world, batch.supersede(2, batch, 3))
    assert world.registry.document_status(batch.root, batch.targets[2]).successor == batch.targets[3]
    # The successor may have been anchored by another department (for example after a transfer).
    other = anchor(world, 1, key=world.natres_key, doc_type=PROPERTY_CERTIFICATE)
    changer.apply(world, batch.supersede(1, other, 0))
    assert world.registry.document_status(batch.root, batch.targets[1]).successor == other.targets[0]
    # A superseded document's successor can itself be superseded later (a chain of documents).
    changer.apply(world, batch.supersede(3, batch, 0))
    assert world.registry.document_status(batch.root, batch.targets[3]).successor == batch.targets[0]


SuccessorCase = Callable[[World, Batch, Batch], StatusChange]


def _unanchored(world: World, batch: Batch, successor: Batch) -> StatusChange:
    return batch.doc(0, Action.SUPERSEDE, successor_root=random_hash(), successor=random_hash())


def _bad_proof(world: World, batch: Batch, successor: Batch) -> StatusChange:
    return replace(batch.supersede(0, successor, 0), successor_proof=successor.tree.proof(1))


def _not_in_batch(world: World, batch: Batch, successor: Batch) -> StatusChange:
    return replace(batch.supersede(0, successor, 0), successor=random_hash())


def _revoked_document(world: World, batch: Batch, successor: Batch) -> StatusChange:
    prepare(world, successor.doc(0, Action.REVOKE))
    return batch.supersede(0, successor, 0)


def _revoked_batch(world: World, batch: Batch, successor: Batch) -> StatusChange:
    prepare(world, successor.whole(Action.REVOKE))
    return batch.supersede(0, successor, 0)


def _suspended_document(world: World, batch: Batch, successor: Batch) -> StatusChange:
    prepare(world, successor.doc(0, Action.SUSPEND))
    return batch.supersede(0, successor, 0)


def _superseded_document(world: World, batch: Batch, successor: Batch) -> StatusChange:
    prepare(world, successor.supersede(0, successor, 1))
    return batch.supersede(0, successor, 0)


def _itself(world: World, batch: Batch, successor: Batch) -> StatusChange:
    return batch.supersede(0, batch, 0)


def _zero(world: World, batch: Batch, successor: Batch) -> StatusChange:
    return batch.doc(0, Action.SUPERSEDE, successor_root=successor.root)


SUCCESSOR_CASES: dict[str, SuccessorCase] = {
    "unanchored": _unanchored,
    "bad-proof": _bad_proof,
    "not-in-batch": _not_in_batch,
    "revoked-document": _revoked_document,
    "revoked-batch": _revoked_batch,
    "suspended-document": _suspended_document,
    "superseded-document": _superseded_document,
    "itself": _itself,
    "zero": _zero,
}


@pytest.mark.parametrize("case", list(SUCCESSOR_CASES))
def test_invalid_successor(world: World, changer: Changer, batch: Batch, case: str) -> None:
    successor = anchor(world, 2)
    change = SUCCESSOR_CASES[case](world, batch, successor)
    expect_revert(
        lambda: changer.apply(world, change),
        "DocumentRegistryInvalidSuccessor",
        successorRoot=change.successor_root,
        successor=change.successor,
    )
    status = world.registry.document_status(batch.root, batch.targets[0])
    assert (status.document, status.successor) == (ACTIVE, ZERO32)


def test_successor_in_a_suspended_batch_is_not_valid(world: World, batch: Batch) -> None:
    """A successor must be live: a document of a suspended batch is not (its effective state is
    SUSPENDED), just as a suspended document is not."""
    successor = anchor(world, 2)
    prepare(world, successor.whole(Action.SUSPEND))
    assert world.registry.document_status(successor.root, successor.targets[0]).effective_state == (State.SUSPENDED)
    change = batch.supersede(0, successor, 0)
    expect_revert(
        lambda: DIRECT.apply(world, change),
        "DocumentRegistryInvalidSuccessor",
        successorRoot=successor.root,
        successor=successor.targets[0],
    )


@pytest.mark.parametrize(
    ("action", "whole"),
    [(Action.NONE, True), (Action.NONE, False), (Action.SUPERSEDE, True)],
    ids=["none-batch", "none-document", "supersede-batch"],
)
def test_invalid_action(world: World, changer: Changer, batch: Batch, action: Action, whole: bool) -> None:
    change = batch.whole(action) if whole else batch.doc(0, action)
    expect_revert(lambda: changer.apply(world, change), "DocumentRegistryInvalidAction", action=int(action))


@pytest.mark.parametrize("action", [Action.REVOKE, Action.SUSPEND, Action.REINSTATE, Action.SUPERSEDE])
def test_unknown_root(world: World, changer: Changer, action: Action) -> None:
    root, target = random_hash(), random_hash()
    change = StatusChange(action, root, target)
    expect_revert(lambda: changer.apply(world, change), "DocumentRegistryUnknownRoot", root=root)
    if action != Action.SUPERSEDE:
        whole = StatusChange(action, root)
        expect_revert(lambda: changer.apply(world, whole), "DocumentRegistryUnknownRoot", root=root)


def _inner_node(batch: Batch) -> StatusChange:
    """An inner node of the tree posing as a document: the 0x00 leaf prefix tells them apart."""
    node = hash_pair(batch.tree.leaf(0), batch.tree.leaf(1))
    return StatusChange(Action.REVOKE, batch.root, node, batch.tree.proof(0)[1:])


PROOF_CASES: dict[str, Callable[[Batch], StatusChange]] = {
    "other-document-proof": lambda b: replace(b.doc(0, Action.REVOKE), proof=b.tree.proof(1)),
    "empty-proof": lambda b: replace(b.doc(0, Action.REVOKE), proof=[]),
    "truncated-proof": lambda b: replace(b.doc(0, Action.REVOKE), proof=b.tree.proof(0)[:1]),
    "not-in-batch": lambda b: replace(b.doc(0, Action.REVOKE), target_hash=random_hash()),
    "leaf-as-target": lambda b: replace(b.doc(0, Action.REVOKE), target_hash=b.tree.leaf(0)),
    "inner-node": _inner_node,
    "suspend": lambda b: replace(b.doc(2, Action.SUSPEND), proof=b.tree.proof(3)),
}


@pytest.mark.parametrize("case", list(PROOF_CASES))
def test_invalid_proof(world: World, changer: Changer, batch: Batch, case: str) -> None:
    change = PROOF_CASES[case](batch)
    expect_revert(
        lambda: changer.apply(world, change),
        "DocumentRegistryInvalidProof",
        root=batch.root,
        targetHash=change.target_hash,
    )
    assert world.registry.document_status(batch.root, change.target_hash).document == ACTIVE


def test_another_department_is_unauthorized(world: World, department_changer: Changer, batch: Batch) -> None:
    for change in (batch.whole(Action.REVOKE), batch.doc(0, Action.SUSPEND)):
        expect_revert(
            lambda change=change: department_changer.apply(world, change, world.natres_key),
            "DocumentRegistryUnauthorized",
            department=NATRES,
            root=batch.root,
        )
    theirs = anchor(world, 2, key=world.natres_key, doc_type=PROPERTY_CERTIFICATE)
    expect_revert(
        lambda: department_changer.apply(world, theirs.doc(1, Action.REVOKE)),
        "DocumentRegistryUnauthorized",
        department=SAMR,
        root=theirs.root,
    )
    department_changer.apply(world, theirs.doc(1, Action.REVOKE, reason=9), world.natres_key)
    status = world.registry.document_status(theirs.root, theirs.targets[1])
    assert (status.document.state, status.document.changed_by) == (State.REVOKED, NATRES)
    assert world.registry.document_status(batch.root).batch == ACTIVE


def test_another_key_of_the_department_may_act(world: World, department_changer: Changer, batch: Batch) -> None:
    colleague = add_key(world, SAMR)
    department_changer.apply(world, batch.doc(3, Action.REVOKE, reason=3), colleague)
    status = world.registry.document_status(batch.root, batch.targets[3])
    assert (status.document.state, status.document.changed_by) == (State.REVOKED, SAMR)


def test_governance_acts_on_every_department(world: World) -> None:
    theirs = anchor(world, 2, key=world.natres_key, doc_type=PROPERTY_CERTIFICATE)
    world.registry.set_department_active(gov(world), NATRES, False)
    receipt = GOVERNANCE.apply(world, theirs.doc(0, Action.REVOKE, reason=4))
    status = world.registry.document_status(theirs.root, theirs.targets[0])
    assert status.document == StatusRecord(State.REVOKED, 4, block_time(world, receipt), ZERO32)


def test_already_revoked(world: World, changer: Changer, batch: Batch) -> None:
    changer.apply(world, batch.doc(0, Action.REVOKE))
    successor = anchor(world, 1)
    for change in (
        batch.doc(0, Action.REVOKE),
        batch.doc(0, Action.SUSPEND),
        batch.doc(0, Action.REINSTATE),
        batch.supersede(0, successor, 0),
    ):
        expect_revert(
            lambda change=change: changer.apply(world, change),
            "DocumentRegistryAlreadyRevoked",
            root=batch.root,
            targetHash=batch.targets[0],
        )
    # the rest of the batch is untouched
    changer.apply(world, batch.doc(1, Action.SUSPEND))


def test_revoked_batch_is_final_for_its_documents(world: World, changer: Changer, batch: Batch) -> None:
    changer.apply(world, batch.whole(Action.REVOKE))
    successor = anchor(world, 1)
    for change in (
        batch.whole(Action.REVOKE),
        batch.whole(Action.SUSPEND),
        batch.whole(Action.REINSTATE),
        batch.doc(0, Action.REVOKE),
        batch.doc(1, Action.SUSPEND),
        batch.supersede(2, successor, 0),
    ):
        expect_revert(
            lambda change=change: changer.apply(world, change),
            "DocumentRegistryAlreadyRevoked",
            root=batch.root,
            targetHash=ZERO32,
        )


TransitionCase = tuple[Callable[[Batch, Batch], list[StatusChange]], Callable[[Batch, Batch], StatusChange]]

TRANSITIONS: dict[str, tuple[TransitionCase, State, Action]] = {
    "suspend-superseded-document": (
        (lambda b, s: [b.supersede(0, s, 0)], lambda b, s: b.doc(0, Action.SUSPEND)),
        State.SUPERSEDED,
        Action.SUSPEND,
    ),
    "suspend-suspended-batch": (
        (lambda b, s: [b.whole(Action.SUSPEND)], lambda b, s: b.whole(Action.SUSPEND)),
        State.SUSPENDED,
        Action.SUSPEND,
    ),
    "suspend-suspended-document": (
        (lambda b, s: [b.doc(0, Action.SUSPEND)], lambda b, s: b.doc(0, Action.SUSPEND)),
        State.SUSPENDED,
        Action.SUSPEND,
    ),
    "supersede-suspended-document": (
        (lambda b, s: [b.doc(0, Action.SUSPEND)], lambda b, s: b.supersede(0, s, 0)),
        State.SUSPENDED,
        Action.SUPERSEDE,
    ),
    "supersede-superseded-document": (
        (lambda b, s: [b.supersede(0, s, 0)], lambda b, s: b.supersede(0, s, 0)),
        State.SUPERSEDED,
        Action.SUPERSEDE,
    ),
}


@pytest.mark.parametrize("case", list(TRANSITIONS))
def test_invalid_transition(world: World, changer: Changer, batch: Batch, case: str) -> None:
    (setup, make), state, action = TRANSITIONS[case]
    successor = anchor(world, 1)
    prepare(world, *setup(batch, successor))
    change = make(batch, successor)
    expect_revert(
        lambda: changer.apply(world, change),
        "DocumentRegistryInvalidTransition",
        root=batch.root,
        targetHash=change.target_hash,
        state=int(state),
        action=int(action),
    )


def test_revoke_from_every_live_state(world: World, changer: Changer, batch: Batch) -> None:
    successor = anchor(world, 1)
    prepare(world, batch.whole(Action.SUSPEND), batch.doc(0, Action.SUSPEND), batch.supersede(1, successor, 0))
    # documents first: once the batch is revoked, its documents take no more changes
    for change in (batch.doc(0, Action.REVOKE), batch.doc(1, Action.REVOKE), batch.whole(Action.REVOKE)):
        changer.apply(world, change, world.samr_key)
    assert world.registry.document_status(batch.root).batch.state == State.REVOKED
    assert world.registry.document_status(batch.root, batch.targets[0]).document.state == State.REVOKED
    superseded = world.registry.document_status(batch.root, batch.targets[1])
    assert superseded.document.state == State.REVOKED
    assert superseded.successor == successor.targets[0]  # history of the replacement is kept


def test_largest_reason_code(world: World, changer: Changer, batch: Batch) -> None:
    changer.apply(world, batch.doc(0, Action.SUSPEND, reason=2**16 - 1))
    assert world.registry.document_status(batch.root, batch.targets[0]).document.reason == 2**16 - 1


def test_inactive_department_key_cannot_change_statuses(
    world: World, department_changer: Changer, batch: Batch
) -> None:
    world.registry.set_department_active(gov(world), SAMR, False)
    expect_revert(
        lambda: department_changer.apply(world, batch.whole(Action.SUSPEND)),
        "IssuerRegistryDepartmentInactive",
        department=SAMR,
    )


def test_key_outside_its_window_cannot_change_statuses(world: World, department_changer: Changer, batch: Batch) -> None:
    key = world.samr_key
    valid_from = world.registry.signer_key(key.address).valid_from
    until = world.now() - 1
    world.registry.retire_signer_key(gov(world), key.address, until)
    revert = expect_revert(
        lambda: department_changer.apply(world, batch.doc(0, Action.REVOKE)),
        "IssuerRegistryKeyNotValid",
        signer=key.address,
        validFrom=valid_from,
        validUntil=until,
    )
    assert revert.arguments["at"] >= until
    later = world.now() + 600
    early = add_key(world, SAMR, valid_from=later)
    expect_revert(
        lambda: department_changer.apply(world, batch.doc(0, Action.REVOKE), early),
        "IssuerRegistryKeyNotValid",
        signer=early.address,
        validFrom=later,
        validUntil=0,
    )


def test_stranger_cannot_change_statuses(world: World, batch: Batch) -> None:
    stranger = world.new_account()
    expect_revert(
        lambda: world.registry.change_status(world.sender(stranger), batch.whole(Action.REVOKE)),
        "IssuerRegistryUnknownSigner",
        signer=stranger.address,
    )
    # The relayer has no say either: it only carries signed changes.
    expect_revert(
        lambda: world.registry.change_status(world.sender(world.relayer), batch.whole(Action.REVOKE)),
        "IssuerRegistryUnknownSigner",
        signer=world.relayer.address,
    )


# ------------------------------------------------------------------------- relayed only


def relay(world: World, signed: SignedStatusChange) -> Receipt:
    return world.registry.change_status_signed(world.sender(world.relayer), signed)


def test_nonce_is_single_use(world: World, batch: Batch) -> None:
    samr = world.samr_key.address
    assert not world.registry.is_nonce_used(samr, 7)
    signed = world.sign_change(batch.doc(0, Action.SUSPEND), nonce=7)
    receipt = relay(world, signed)
    assert one_event(world, receipt, "NonceUsed") == {"signer": samr, "nonce": 7}
    assert world.registry.is_nonce_used(samr, 7)
    assert not world.registry.is_nonce_used(samr, 6)
    assert not world.registry.is_nonce_used(samr, 8)
    assert not world.registry.is_nonce_used(world.natres_key.address, 7)

    expect_revert(lambda: relay(world, signed), "DocumentRegistryNonceUsed", signer=samr, nonce=7)
    other_change = world.sign_change(batch.doc(1, Action.REVOKE), nonce=7)
    expect_revert(lambda: relay(world, other_change), "DocumentRegistryNonceUsed", signer=samr, nonce=7)
    assert world.registry.document_status(batch.root, batch.targets[1]).document == ACTIVE
    relay(world, world.sign_change(batch.doc(1, Action.REVOKE), nonce=8))


def test_nonce_bitmap_words(world: World, batch: Batch) -> None:
    samr = world.samr_key.address
    used = [0, 255, 256, 2**256 - 1]
    for nonce, index in zip(used, range(4), strict=True):
        relay(world, world.sign_change(batch.doc(index, Action.SUSPEND), nonce=nonce))
    assert all(world.registry.is_nonce_used(samr, n) for n in used)
    assert not any(world.registry.is_nonce_used(samr, n) for n in (1, 254, 257, 511, 2**256 - 2))


def test_same_nonce_for_two_signers(world: World, batch: Batch) -> None:
    theirs = anchor(world, 1, key=world.natres_key, doc_type=PROPERTY_CERTIFICATE)
    relay(world, world.sign_change(batch.whole(Action.SUSPEND), nonce=42))
    relay(world, world.sign_change(theirs.whole(Action.SUSPEND), key=world.natres_key, nonce=42))
    assert world.registry.is_nonce_used(world.samr_key.address, 42)
    assert world.registry.is_nonce_used(world.natres_key.address, 42)
    assert world.registry.document_status(theirs.root).batch.state == State.SUSPENDED


def test_failed_change_does_not_use_its_nonce(world: World, batch: Batch) -> None:
    failing = world.sign_change(StatusChange(Action.REVOKE, random_hash()), nonce=99)
    expect_revert(lambda: relay(world, failing), "DocumentRegistryUnknownRoot")
    assert not world.registry.is_nonce_used(world.samr_key.address, 99)
    relay(world, world.sign_change(batch.whole(Action.REVOKE), nonce=99))
    assert world.registry.is_nonce_used(world.samr_key.address, 99)


def test_expired_signed_change(world: World, batch: Batch) -> None:
    deadline = world.now() - 1
    signed = world.sign_change(batch.whole(Action.REVOKE), deadline=deadline)
    expect_revert(lambda: relay(world, signed), "DocumentRegistryExpiredSignature", deadline=deadline)
    assert not world.registry.is_nonce_used(world.samr_key.address, signed.nonce)


@pytest.mark.parametrize("tamper", ["chain-id", "registry", "change", "nonce", "deadline"])
def test_signature_does_not_match(world: World, batch: Batch, tamper: str) -> None:
    change = batch.doc(0, Action.REVOKE)
    if tamper == "chain-id":
        signed = world.sign_change(change, chain_id=world.chain_id + 1)
    elif tamper == "registry":
        signed = world.sign_change(change, registry=world.new_account().address)
    else:
        signed = world.sign_change(change)
        fields: dict[str, dict[str, Any]] = {
            "change": {"change": replace(change, reason=1)},
            "nonce": {"nonce": signed.nonce + 1},
            "deadline": {"deadline": signed.deadline + 1},
        }
        signed = replace(signed, **fields[tamper])
    revert = expect_revert(lambda: relay(world, signed), "IssuerRegistryUnknownSigner")
    assert revert.arguments["signer"].lower() != world.samr_key.address.lower()


@pytest.mark.parametrize("signature", [b"", b"\x00" * 64, b"\x00" * 65], ids=["empty", "64-zero", "65-zero"])
def test_malformed_signed_change(world: World, batch: Batch, signature: bytes) -> None:
    signed = replace(world.sign_change(batch.whole(Action.REVOKE)), signature=signature)
    expect_revert(lambda: relay(world, signed), "DocumentRegistryInvalidSignature")


def test_governor_signature_is_not_a_department(world: World, batch: Batch) -> None:
    """Governance acts by sending changeStatus itself; its signature names no department."""
    signed = world.sign_change(batch.whole(Action.REVOKE), key=world.governor)
    expect_revert(lambda: relay(world, signed), "IssuerRegistryUnknownSigner", signer=world.governor.address)


def test_change_status_many(world: World, batch: Batch) -> None:
    theirs = anchor(world, 2, key=world.natres_key, doc_type=PROPERTY_CERTIFICATE)
    signed = [
        world.sign_change(batch.doc(0, Action.REVOKE, reason=1), nonce=1),
        world.sign_change(theirs.whole(Action.SUSPEND, reason=6), key=world.natres_key, nonce=1),
        world.sign_change(batch.doc(1, Action.SUSPEND), nonce=2),
        world.sign_change(batch.doc(1, Action.REINSTATE), nonce=3),  # sees the previous element
    ]
    receipt = world.registry.change_status_many(world.sender(world.relayer), signed)

    assert [e["nonce"] for e in events(world, receipt, "NonceUsed")] == [1, 1, 2, 3]
    assert len(events(world, receipt, "DocumentReinstated")) == 1
    at = block_time(world, receipt)
    assert world.registry.document_status(batch.root, batch.targets[0]).document == StatusRecord(
        State.REVOKED, 1, at, SAMR
    )
    assert world.registry.document_status(theirs.root).batch == StatusRecord(State.SUSPENDED, 6, at, NATRES)
    assert world.registry.document_status(batch.root, batch.targets[1]).document == StatusRecord(
        State.ACTIVE, 0, at, SAMR
    )


BAD_CHANGES: dict[str, tuple[Callable[[World, Batch], SignedStatusChange], str]] = {
    "unknown-root": (
        lambda w, b: w.sign_change(StatusChange(Action.REVOKE, random_hash())),
        "DocumentRegistryUnknownRoot",
    ),
    "unauthorized": (
        lambda w, b: w.sign_change(b.whole(Action.SUSPEND), key=w.natres_key),
        "DocumentRegistryUnauthorized",
    ),
    "reused-nonce": (lambda w, b: w.sign_change(b.doc(3, Action.REVOKE), nonce=1), "DocumentRegistryNonceUsed"),
    "expired": (
        lambda w, b: w.sign_change(b.doc(3, Action.REVOKE), deadline=w.now() - 1),
        "DocumentRegistryExpiredSignature",
    ),
    "revoked-twice": (lambda w, b: w.sign_change(b.doc(0, Action.REVOKE)), "DocumentRegistryAlreadyRevoked"),
}


@pytest.mark.parametrize("kind", list(BAD_CHANGES))
def test_change_status_many_is_all_or_nothing(world: World, batch: Batch, kind: str) -> None:
    good = [
        world.sign_change(batch.doc(0, Action.REVOKE), nonce=1),
        world.sign_change(batch.whole(Action.SUSPEND), nonce=2),
    ]
    make_bad, error = BAD_CHANGES[kind]
    expect_revert(
        lambda: world.registry.change_status_many(world.sender(world.relayer), [*good, make_bad(world, batch)]),
        error,
    )
    assert world.registry.document_status(batch.root, batch.targets[0]).document == ACTIVE
    assert world.registry.document_status(batch.root).batch == ACTIVE
    assert not world.registry.is_nonce_used(world.samr_key.address, 1)
    assert not world.registry.is_nonce_used(world.samr_key.address, 2)


def test_change_status_many_empty(world: World) -> None:
    expect_revert(
        lambda: world.registry.change_status_many(world.sender(world.relayer), []),
        "DocumentRegistryEmptyBatch",
    )
