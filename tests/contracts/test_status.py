"""Status changes: revoke, suspend, reinstate and supersede a batch or one document.

Shared behaviour runs for each actor path: the department key sending changeStatus (direct),
a relayer sending the key's signed change (changeStatusSigned), and governance (the council's
governChangeStatus: a suspension at once, anything else through the time lock).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount

from chain.governance import ProposalKind
from chain.property import Certificate
from chain.sender import Receipt
from chain.types import (
    ZERO32,
    Action,
    DocumentStatus,
    SignedStatusChange,
    State,
    StatusChange,
    StatusRecord,
    type_id,
)
from documents.merkle import MerkleTree, hash_pair
from tests.contracts.helpers import add_key, block_time, events, gov, one_event, random_hash
from tests.factories import (
    COUNCIL_DELAY,
    FOOD_LICENSE,
    NATRES,
    PROPERTY_CERTIFICATE,
    SAMR,
    World,
    expect_revert,
)
from tests.property_setup import SELLERS, UNIT_NUMBER, make_setup, owners, unit_of

ACTIVE = StatusRecord(State.ACTIVE, 0, 0, ZERO32)
NO_SIGNER = "0x" + "00" * 20


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
    send: Callable[[World, StatusChange, LocalAccount, bytes], Receipt]

    def apply(
        self, world: World, change: StatusChange, key: LocalAccount | None = None, department: bytes = SAMR
    ) -> Receipt:
        """Send ``change`` with ``key`` (a department path) or as governance on ``department``'s record."""
        return self.send(world, change, key or world.samr_key, department)

    def actor(self, department: bytes = SAMR) -> bytes:
        """changedBy / the event's actor: the key's department, or 0 for governance."""
        return ZERO32 if self.governance else department

    def record_signer(self, key: LocalAccount) -> str:
        """StatusRecord.signer: the department key, or the zero address for governance."""
        return NO_SIGNER if self.governance else key.address

    def event_signer(self, world: World, key: LocalAccount, action: Action) -> str:
        """The event's signer: the key, or the contract that called (council at once, else time lock)."""
        if not self.governance:
            return key.address
        return world.council.address if action == Action.SUSPEND else world.council.timelock()

    def record(self, world: World, receipt: Receipt, state: State, reason: int, key: LocalAccount) -> StatusRecord:
        """The StatusRecord this path's change of ``receipt`` leaves in force."""
        return StatusRecord(state, reason, block_time(world, receipt), self.actor(), self.record_signer(key))

    def event(
        self, world: World, key: LocalAccount, change: StatusChange, department: bytes = SAMR, **extra: Any
    ) -> dict[str, Any]:
        """The event arguments this path's ``change`` of ``department``'s record emits."""
        return {
            "department": department,
            "root": change.root,
            "targetHash": change.target_hash,
            "actor": self.actor(department),
            "signer": self.event_signer(world, key, change.action),
            **extra,
            "reason": change.reason,
        }


def _direct(world: World, change: StatusChange, key: LocalAccount, department: bytes) -> Receipt:
    return world.registry.change_status(world.sender(key), change)


def _relayed(world: World, change: StatusChange, key: LocalAccount, department: bytes) -> Receipt:
    signed = world.sign_change(change, key=key)
    return world.registry.change_status_signed(world.sender(world.relayer), signed)


def _governance(world: World, change: StatusChange, key: LocalAccount, department: bytes) -> Receipt:
    receipt = world.registry.govern_change_status(gov(world), department, change)
    assert receipt is not None
    return receipt


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


def prepare(world: World, *changes: StatusChange, department: bytes = SAMR) -> None:
    """Brings documents into a state as governance (not the path under test), in one proposal."""
    g = gov(world)
    with g.batch():
        for change in changes:
            world.registry.govern_change_status(g, department, change)


def status(world: World, batch: Batch, index: int | None = None, department: bytes = SAMR) -> DocumentStatus:
    """The DocumentStatus of ``batch`` (index None) or of its document ``index`` under ``department``."""
    target = ZERO32 if index is None else batch.targets[index]
    return world.registry.document_status(department, batch.root, target)


# -------------------------------------------------------------------------- transitions


def test_revoke_batch(world: World, changer: Changer, batch: Batch) -> None:
    change = batch.whole(Action.REVOKE, reason=2)
    receipt = changer.apply(world, change)

    assert one_event(world, receipt, "DocumentRevoked") == changer.event(world, world.samr_key, change)
    revoked = changer.record(world, receipt, State.REVOKED, 2, world.samr_key)
    for target in (ZERO32, *batch.targets):
        found = world.registry.document_status(SAMR, batch.root, target)
        assert found.batch == revoked
        assert found.document == ACTIVE
        assert found.effective_state == State.REVOKED
    assert world.registry.status_history_length(SAMR, batch.root) == 1
    assert world.registry.status_history_length(SAMR, batch.root, batch.targets[0]) == 0


def test_revoke_one_document(world: World, changer: Changer, batch: Batch) -> None:
    change = batch.doc(1, Action.REVOKE, reason=1)
    receipt = changer.apply(world, change)

    assert one_event(world, receipt, "DocumentRevoked") == changer.event(world, world.samr_key, change)
    found = status(world, batch, 1)
    assert found.document == changer.record(world, receipt, State.REVOKED, 1, world.samr_key)
    assert found.batch == ACTIVE
    assert found.effective_state == State.REVOKED
    for i in (0, 2, 3):
        other = status(world, batch, i)
        assert (other.batch, other.document, other.effective_state) == (ACTIVE, ACTIVE, State.ACTIVE)
    assert status(world, batch).batch == ACTIVE
    assert world.registry.status_history_length(SAMR, batch.root, batch.targets[1]) == 1
    assert world.registry.status_history_length(SAMR, batch.root) == 0


def test_suspend_and_reinstate_batch(world: World, changer: Changer, batch: Batch) -> None:
    suspend = batch.whole(Action.SUSPEND, reason=6)
    receipt = changer.apply(world, suspend)
    assert one_event(world, receipt, "DocumentSuspended") == changer.event(world, world.samr_key, suspend)
    suspended_at = block_time(world, receipt)
    found = status(world, batch, 3)
    assert found.batch == changer.record(world, receipt, State.SUSPENDED, 6, world.samr_key)
    assert found.effective_state == State.SUSPENDED

    world.increase_time(100)
    reinstate = batch.whole(Action.REINSTATE, reason=7)
    receipt = changer.apply(world, reinstate)
    assert one_event(world, receipt, "DocumentReinstated") == changer.event(world, world.samr_key, reinstate)
    reinstated_at = block_time(world, receipt)
    assert reinstated_at >= suspended_at + 100
    found = status(world, batch, 3)
    assert found.batch == StatusRecord(
        State.ACTIVE, 7, reinstated_at, changer.actor(), changer.record_signer(world.samr_key)
    )
    assert found.effective_state == State.ACTIVE
    assert world.registry.status_history_length(SAMR, batch.root) == 2


def test_suspend_and_reinstate_document(world: World, changer: Changer, batch: Batch) -> None:
    suspend = batch.doc(2, Action.SUSPEND, reason=6)
    receipt = changer.apply(world, suspend)
    assert one_event(world, receipt, "DocumentSuspended") == changer.event(world, world.samr_key, suspend)
    found = status(world, batch, 2)
    assert found.document == changer.record(world, receipt, State.SUSPENDED, 6, world.samr_key)
    assert found.effective_state == State.SUSPENDED
    assert status(world, batch, 0).effective_state == State.ACTIVE

    reinstate = batch.doc(2, Action.REINSTATE, reason=7)
    receipt = changer.apply(world, reinstate)
    assert one_event(world, receipt, "DocumentReinstated") == changer.event(world, world.samr_key, reinstate)
    found = status(world, batch, 2)
    assert found.document == changer.record(world, receipt, State.ACTIVE, 7, world.samr_key)
    assert found.batch == ACTIVE


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
    change = batch.supersede(0, successor, 1, reason=5)
    receipt = changer.apply(world, change)

    assert one_event(world, receipt, "DocumentSuperseded") == changer.event(
        world, world.samr_key, change, successorRoot=successor.root, successor=successor.targets[1]
    )
    old = status(world, batch, 0)
    assert old.document == changer.record(world, receipt, State.SUPERSEDED, 5, world.samr_key)
    assert old.successor == successor.targets[1]
    assert old.effective_state == State.SUPERSEDED
    assert old.batch == ACTIVE
    new = status(world, successor, 1)
    assert (new.effective_state, new.successor) == (State.ACTIVE, ZERO32)
    untouched = status(world, batch, 1)
    assert (untouched.effective_state, untouched.successor) == (State.ACTIVE, ZERO32)


def test_supersede_within_the_batch_and_in_a_chain(world: World, changer: Changer, batch: Batch) -> None:
    changer.apply(world, batch.supersede(2, batch, 3))
    assert status(world, batch, 2).successor == batch.targets[3]
    # The successor may be in another batch of the department, of the same type.
    other = anchor(world, 1)
    changer.apply(world, batch.supersede(1, other, 0))
    assert status(world, batch, 1).successor == other.targets[0]
    # A superseded document's successor can itself be superseded later (a chain of documents).
    changer.apply(world, batch.supersede(3, batch, 0))
    assert status(world, batch, 3).successor == batch.targets[0]


def test_supersede_of_another_department_s_record(world: World, changer: Changer) -> None:
    """NATRES's documents, superseded by NATRES or by governance acting on NATRES's record."""
    theirs = anchor(world, 2, key=world.natres_key, doc_type=PROPERTY_CERTIFICATE)
    change = theirs.supersede(0, theirs, 1, reason=5)
    receipt = changer.apply(world, change, world.natres_key, NATRES)
    assert one_event(world, receipt, "DocumentSuperseded") == changer.event(
        world, world.natres_key, change, NATRES, successorRoot=theirs.root, successor=theirs.targets[1]
    )
    found = status(world, theirs, 0, NATRES)
    assert found.document == StatusRecord(
        State.SUPERSEDED,
        5,
        block_time(world, receipt),
        changer.actor(NATRES),
        changer.record_signer(world.natres_key),
    )
    assert found.successor == theirs.targets[1]


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


def _other_department(world: World, batch: Batch, successor: Batch) -> StatusChange:
    """A successor is the department's own: another department's document is not (only the
    PropertyRegistry replaces a title across departments)."""
    theirs = anchor(world, 2, key=world.natres_key, doc_type=PROPERTY_CERTIFICATE)
    return batch.supersede(0, theirs, 1)


def _same_root_of_another_department(world: World, batch: Batch, successor: Batch) -> StatusChange:
    """NATRES anchoring the same root as SAMR's successor batch makes it NATRES's record, not SAMR's."""
    world.registry.anchor(world.sender(world.natres_key), successor.root, type_id(PROPERTY_CERTIFICATE), 2)
    prepare(world, successor.whole(Action.REVOKE))  # SAMR's record of that root is dead
    return batch.supersede(0, successor, 0)


def _other_type(world: World, batch: Batch, successor: Batch) -> StatusChange:
    food = anchor(world, 2, doc_type=FOOD_LICENSE)
    return batch.supersede(0, food, 0)


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
    "other-department": _other_department,
    "same-root-of-another-department": _same_root_of_another_department,
    "other-type": _other_type,
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
    found = status(world, batch, 0)
    assert (found.document, found.successor) == (ACTIVE, ZERO32)


def test_successor_in_a_suspended_batch_is_not_valid(world: World, batch: Batch) -> None:
    """A successor must be live: a document of a suspended batch is not (its effective state is
    SUSPENDED), just as a suspended document is not."""
    successor = anchor(world, 2)
    prepare(world, successor.whole(Action.SUSPEND))
    assert status(world, successor, 0).effective_state == State.SUSPENDED
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
    assert world.registry.document_status(SAMR, batch.root, change.target_hash).document == ACTIVE


def test_another_department_cannot_touch_the_records(world: World, department_changer: Changer, batch: Batch) -> None:
    """A department changes only its own records: to NATRES, SAMR's root is not anchored at all."""
    for change in (batch.whole(Action.REVOKE), batch.doc(0, Action.SUSPEND)):
        expect_revert(
            lambda change=change: department_changer.apply(world, change, world.natres_key),
            "DocumentRegistryUnknownRoot",
            root=batch.root,
        )
    theirs = anchor(world, 2, key=world.natres_key, doc_type=PROPERTY_CERTIFICATE)
    expect_revert(
        lambda: department_changer.apply(world, theirs.doc(1, Action.REVOKE)),
        "DocumentRegistryUnknownRoot",
        root=theirs.root,
    )
    assert status(world, theirs, 1, NATRES).document == ACTIVE
    department_changer.apply(world, theirs.doc(1, Action.REVOKE, reason=9), world.natres_key)
    found = status(world, theirs, 1, NATRES)
    assert (found.document.state, found.document.changed_by) == (State.REVOKED, NATRES)
    assert found.document.signer == world.natres_key.address
    assert status(world, batch).batch == ACTIVE
    assert status(world, batch, 0).document == ACTIVE


def test_another_key_of_the_department_may_act(world: World, department_changer: Changer, batch: Batch) -> None:
    colleague = add_key(world, SAMR)
    change = batch.doc(3, Action.REVOKE, reason=3)
    receipt = department_changer.apply(world, change, colleague)
    assert one_event(world, receipt, "DocumentRevoked") == department_changer.event(world, colleague, change)
    found = status(world, batch, 3)
    assert (found.document.state, found.document.changed_by) == (State.REVOKED, SAMR)
    assert found.document.signer == colleague.address
    assert found.signer == world.samr_key.address  # the anchoring key is unchanged


def test_governance_acts_on_every_department(world: World) -> None:
    theirs = anchor(world, 2, key=world.natres_key, doc_type=PROPERTY_CERTIFICATE)
    world.registry.set_department_active(gov(world), NATRES, False)
    change = theirs.doc(0, Action.REVOKE, reason=4)
    receipt = GOVERNANCE.apply(world, change, department=NATRES)
    assert one_event(world, receipt, "DocumentRevoked") == GOVERNANCE.event(world, world.natres_key, change, NATRES)
    found = status(world, theirs, 0, NATRES)
    assert found.document == StatusRecord(State.REVOKED, 4, block_time(world, receipt), ZERO32)
    # SAMR holds no record of that root: governance names the department whose record it changes.
    expect_revert(
        lambda: GOVERNANCE.apply(world, theirs.doc(1, Action.SUSPEND)),
        "DocumentRegistryUnknownRoot",
        root=theirs.root,
    )


_EVENTS = {
    Action.REVOKE: "DocumentRevoked",
    Action.SUSPEND: "DocumentSuspended",
    Action.REINSTATE: "DocumentReinstated",
    Action.SUPERSEDE: "DocumentSuperseded",
}


def test_governance_suspends_at_once_and_revokes_through_the_time_lock(world: World, batch: Batch) -> None:
    g = gov(world)
    before = world.now()
    receipt = GOVERNANCE.apply(world, batch.doc(0, Action.SUSPEND, reason=6))
    assert g.last_proposal is not None and g.last_proposal.kind == ProposalKind.IMMEDIATE
    assert block_time(world, receipt) < before + COUNCIL_DELAY
    assert one_event(world, receipt, "DocumentSuspended")["signer"] == world.council.address

    for change in (
        batch.doc(1, Action.REVOKE, reason=2),
        batch.doc(0, Action.REINSTATE, reason=7),
        batch.supersede(2, batch, 3, reason=5),
    ):
        before = world.now()
        receipt = GOVERNANCE.apply(world, change)
        assert g.last_proposal is not None and g.last_proposal.kind == ProposalKind.SCHEDULED
        assert block_time(world, receipt) >= before + COUNCIL_DELAY
        assert len(events(world, receipt, _EVENTS[change.action])) == 1
    assert [status(world, batch, i).document.state for i in range(4)] == [
        State.ACTIVE,
        State.REVOKED,
        State.SUPERSEDED,
        State.ACTIVE,
    ]


@pytest.mark.parametrize("action", [Action.REVOKE, Action.REINSTATE, Action.SUPERSEDE])
def test_council_cannot_change_statuses_at_once(world: World, batch: Batch, action: Action) -> None:
    """Only a suspension protects: the council running anything else Immediate is refused."""
    g = gov(world)
    prepare(world, batch.doc(0, Action.SUSPEND))
    change = batch.supersede(1, batch, 2) if action == Action.SUPERSEDE else batch.doc(0, action)
    call = world.registry.call("governChangeStatus", SAMR, change.as_tuple())
    expect_revert(
        lambda: g.run([call], kind=ProposalKind.IMMEDIATE),
        "AccessControlUnauthorizedAccount",
        account=world.council.address,
        neededRole=world.registry.governor_role(),
    )
    assert status(world, batch, 0).document.state == State.SUSPENDED
    assert status(world, batch, 1).document == ACTIVE


@pytest.mark.parametrize("action", [Action.REVOKE, Action.SUSPEND])
def test_governance_change_needs_the_council(world: World, batch: Batch, action: Action) -> None:
    """Sent directly, governChangeStatus is refused to everyone: the deployer, a member, a key."""
    needed = world.registry.guardian_role() if action == Action.SUSPEND else world.registry.governor_role()
    for account in (world.governor, world.members[0], world.samr_key):
        expect_revert(
            lambda account=account: world.registry.govern_change_status(
                world.sender(account), SAMR, batch.whole(action)
            ),
            "AccessControlUnauthorizedAccount",
            account=account.address,
            neededRole=needed,
        )
    assert status(world, batch).batch == ACTIVE


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
    assert status(world, batch).batch.state == State.REVOKED
    assert status(world, batch, 0).document.state == State.REVOKED
    superseded = status(world, batch, 1)
    assert superseded.document.state == State.REVOKED
    # The history of the replacement is kept on chain (both changes), but the view names a
    # successor only while the supersede is the change in force.
    assert world.registry.status_history_length(SAMR, batch.root, batch.targets[1]) == 2
    assert superseded.successor == ZERO32


def test_largest_reason_code(world: World, changer: Changer, batch: Batch) -> None:
    changer.apply(world, batch.doc(0, Action.SUSPEND, reason=2**16 - 1))
    assert status(world, batch, 0).document.reason == 2**16 - 1


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
    later = world.now() + COUNCIL_DELAY + 600  # adding the key waits out the time lock
    early = add_key(world, SAMR, valid_from=later)
    assert world.now() < later
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
    assert status(world, batch, 1).document == ACTIVE
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
    assert status(world, theirs, None, NATRES).batch.state == State.SUSPENDED
    assert status(world, batch).batch.state == State.SUSPENDED


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
    """Governance acts through the council's governChangeStatus; the signature of the deployer or of
    a council member names no department."""
    for account in (world.governor, world.members[0]):
        signed = world.sign_change(batch.whole(Action.REVOKE), key=account)
        expect_revert(lambda signed=signed: relay(world, signed), "IssuerRegistryUnknownSigner", signer=account.address)
    assert status(world, batch).batch == ACTIVE


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
    samr, natres = world.samr_key.address, world.natres_key.address
    assert status(world, batch, 0).document == StatusRecord(State.REVOKED, 1, at, SAMR, samr)
    assert status(world, theirs, None, NATRES).batch == StatusRecord(State.SUSPENDED, 6, at, NATRES, natres)
    assert status(world, batch, 1).document == StatusRecord(State.ACTIVE, 0, at, SAMR, samr)
    assert world.registry.status_history_length(SAMR, batch.root, batch.targets[1]) == 2
    suspended = events(world, receipt, "DocumentSuspended")
    assert len(suspended) == 2
    assert suspended[0] == {
        "department": NATRES,
        "root": theirs.root,
        "targetHash": ZERO32,
        "actor": NATRES,
        "signer": natres,
        "reason": 6,
    }


BAD_CHANGES: dict[str, tuple[Callable[[World, Batch], SignedStatusChange], str]] = {
    "unknown-root": (
        lambda w, b: w.sign_change(StatusChange(Action.REVOKE, random_hash())),
        "DocumentRegistryUnknownRoot",
    ),
    "other-department": (  # to NATRES, SAMR's root is not anchored
        lambda w, b: w.sign_change(b.whole(Action.SUSPEND), key=w.natres_key),
        "DocumentRegistryUnknownRoot",
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
    assert status(world, batch, 0).document == ACTIVE
    assert status(world, batch).batch == ACTIVE
    assert not world.registry.is_nonce_used(world.samr_key.address, 1)
    assert not world.registry.is_nonce_used(world.samr_key.address, 2)


def test_change_status_many_empty(world: World) -> None:
    expect_revert(
        lambda: world.registry.change_status_many(world.sender(world.relayer), []),
        "DocumentRegistryEmptyBatch",
    )


# ------------------------------------------------------------------------ property titles


def test_a_current_title_changes_only_through_the_property_registry(world: World) -> None:
    """A unit's current title certificate (and the batch holding it) is locked: NATRES, relayed or
    direct, and governance alike are refused; the other documents of the batch are not."""
    setup = make_setup(world)
    certificates = anchor(world, 4, key=world.natres_key, doc_type=PROPERTY_CERTIFICATE)
    successor = anchor(world, 2, key=world.natres_key, doc_type=PROPERTY_CERTIFICATE)
    title = Certificate(certificates.root, certificates.targets[2], tuple(certificates.tree.proof(2)))
    receipt = setup.prop.register_unit(setup.natres, unit_of(UNIT_NUMBER), title, owners(SELLERS, (6000, 4000)))
    assert one_event(world, receipt, "TitleLocked") == {
        "department": NATRES,
        "root": certificates.root,
        "targetHash": certificates.targets[2],
    }
    assert status(world, certificates, 2, NATRES).title_locked
    assert not status(world, certificates, 1, NATRES).title_locked

    locked = [
        (certificates.doc(2, Action.REVOKE, reason=1), certificates.targets[2]),
        (certificates.doc(2, Action.SUSPEND, reason=6), certificates.targets[2]),
        (certificates.supersede(2, successor, 0, reason=5), certificates.targets[2]),
        (certificates.whole(Action.REVOKE, reason=1), ZERO32),
        (certificates.whole(Action.SUSPEND, reason=6), ZERO32),
    ]
    for path in (DIRECT, RELAYED):
        for change, target in locked:
            expect_revert(
                lambda path=path, change=change: path.apply(world, change, world.natres_key),
                "DocumentRegistryTitleLocked",
                root=certificates.root,
                targetHash=target,
            )
    for change, target in (locked[1], locked[0]):  # at once, then through the time lock
        expect_revert(
            lambda change=change: GOVERNANCE.apply(world, change, department=NATRES),
            "DocumentRegistryTitleLocked",
            root=certificates.root,
            targetHash=target,
        )
    found = status(world, certificates, 2, NATRES)
    assert (found.batch, found.document, found.title_locked) == (ACTIVE, ACTIVE, True)
    assert world.registry.status_history_length(NATRES, certificates.root, certificates.targets[2]) == 0

    # The other certificates of the batch still change as usual.
    DIRECT.apply(world, certificates.doc(1, Action.REVOKE, reason=1), world.natres_key)
    assert status(world, certificates, 1, NATRES).document.state == State.REVOKED
    assert status(world, certificates, 2, NATRES).effective_state == State.ACTIVE
