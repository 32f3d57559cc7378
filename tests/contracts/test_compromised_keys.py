"""A stolen department key, and the council retiring it backdated to the compromise.

Every status change is kept on chain; the change in force is the latest whose key was inside its
window when it was made (governance's always count). Retiring a key backdated to the compromise
voids what it changed since: the change before is in force again, and the department can act on
the record as before. Retiring a key from now on protects at once (an Immediate proposal); a
backdated retirement restores what the key revoked, so it waits out the time lock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from eth_account.signers.local import LocalAccount

from chain.governance import OperationState, ProposalKind, classify, new_proposal
from chain.sender import Receipt
from chain.types import ZERO32, Action, DocumentStatus, State, StatusChange, StatusRecord, type_id
from documents.merkle import MerkleTree
from tests.contracts.helpers import add_key, block_time, gov, one_event, random_hash
from tests.factories import BUSINESS_LICENSE, COUNCIL_DELAY, SAMR, World, expect_revert

ACTIVE = StatusRecord(State.ACTIVE, 0, 0, ZERO32)


@dataclass(frozen=True)
class Path:
    """How a department key's status change reaches the registry."""

    name: str
    send: Callable[[World, LocalAccount, StatusChange], Receipt]


def _direct(world: World, key: LocalAccount, change: StatusChange) -> Receipt:
    return world.registry.change_status(world.sender(key), change)


def _relayed(world: World, key: LocalAccount, change: StatusChange) -> Receipt:
    return world.registry.change_status_signed(world.sender(world.relayer), world.sign_change(change, key=key))


PATHS = [Path("direct", _direct), Path("relayed", _relayed)]


@pytest.fixture(params=PATHS, ids=[p.name for p in PATHS])
def path(request: pytest.FixtureRequest) -> Path:
    chosen: Path = request.param
    return chosen


@dataclass(frozen=True)
class Batch:
    """Four business licences SAMR's good key anchored before the compromise."""

    tree: MerkleTree
    targets: list[bytes]

    @property
    def root(self) -> bytes:
        return self.tree.root

    def whole(self, action: Action, reason: int = 0) -> StatusChange:
        return StatusChange(action, self.root, reason=reason)

    def doc(self, index: int, action: Action, reason: int = 0) -> StatusChange:
        return StatusChange(action, self.root, self.targets[index], self.tree.proof(index), reason=reason)


@pytest.fixture
def batch(world: World) -> Batch:
    tree, targets = world.anchor_batch(4)
    return Batch(tree, targets)


@pytest.fixture
def stolen(world: World) -> LocalAccount:
    """A second key of SAMR, the one that will be stolen."""
    return add_key(world, SAMR)


def status(world: World, batch: Batch, index: int | None = None) -> DocumentStatus:
    target = ZERO32 if index is None else batch.targets[index]
    return world.registry.document_status(SAMR, batch.root, target)


def compromise(world: World) -> int:
    """The moment the key is stolen: a second ago, so everything the thief does comes after."""
    world.increase_time(60)
    at = world.now()
    world.increase_time(1)
    return at


def retire_backdated(world: World, key: LocalAccount, until: int) -> Receipt:
    """The council retires ``key`` from ``until`` (in the past): a Scheduled proposal."""
    g = gov(world)
    receipt = world.registry.retire_signer_key(g, key.address, until)
    assert receipt is not None
    assert g.last_proposal is not None and g.last_proposal.kind == ProposalKind.SCHEDULED
    assert world.registry.signer_key(key.address).valid_until == until
    return receipt


# ------------------------------------------------------------------------ what is voided


def test_a_stolen_key_s_revocations_are_voided(world: World, path: Path, batch: Batch, stolen: LocalAccount) -> None:
    # Before the compromise the department's good key suspended document 1.
    receipt = path.send(world, world.samr_key, batch.doc(1, Action.SUSPEND, reason=6))
    legit = StatusRecord(State.SUSPENDED, 6, block_time(world, receipt), SAMR, world.samr_key.address)
    compromised_at = compromise(world)

    # The thief revokes document 0 (active) and document 1 (suspended).
    for index in (0, 1):
        receipt = path.send(world, stolen, batch.doc(index, Action.REVOKE, reason=2))
        assert block_time(world, receipt) > compromised_at
        assert one_event(world, receipt, "DocumentRevoked")["signer"] == stolen.address
        assert status(world, batch, index).document.state == State.REVOKED
    # The department cannot undo a revocation itself.
    expect_revert(
        lambda: path.send(world, world.samr_key, batch.doc(1, Action.REINSTATE)),
        "DocumentRegistryAlreadyRevoked",
        root=batch.root,
        targetHash=batch.targets[1],
    )

    retire_backdated(world, stolen, compromised_at)

    restored = status(world, batch, 0)
    assert restored.document == StatusRecord(State.ACTIVE, 0, 0, ZERO32, voided=1)
    assert restored.effective_state == State.ACTIVE
    earlier = status(world, batch, 1)
    assert earlier.document == StatusRecord(
        legit.state, legit.reason, legit.changed_at, legit.changed_by, legit.signer, voided=1
    )
    assert earlier.effective_state == State.SUSPENDED
    # Nothing is deleted: both records keep the thief's change in their history.
    assert world.registry.status_history_length(SAMR, batch.root, batch.targets[0]) == 1
    assert world.registry.status_history_length(SAMR, batch.root, batch.targets[1]) == 2
    for index in (2, 3):
        assert status(world, batch, index).document == ACTIVE

    # The thief can do no more; the department acts on the records again.
    expect_revert(
        lambda: path.send(world, stolen, batch.doc(2, Action.REVOKE)),
        "IssuerRegistryKeyNotValid",
        signer=stolen.address,
        validUntil=compromised_at,
    )
    receipt = path.send(world, world.samr_key, batch.doc(1, Action.REINSTATE, reason=7))
    assert status(world, batch, 1).document == StatusRecord(
        State.ACTIVE, 7, block_time(world, receipt), SAMR, world.samr_key.address
    )
    receipt = path.send(world, world.samr_key, batch.doc(0, Action.REVOKE, reason=1))
    assert status(world, batch, 0).document == StatusRecord(
        State.REVOKED, 1, block_time(world, receipt), SAMR, world.samr_key.address
    )


def test_a_stolen_key_s_suspensions_and_reinstatements_are_voided(
    world: World, path: Path, batch: Batch, stolen: LocalAccount
) -> None:
    receipt = path.send(world, world.samr_key, batch.doc(1, Action.SUSPEND, reason=6))
    legit = StatusRecord(State.SUSPENDED, 6, block_time(world, receipt), SAMR, world.samr_key.address)
    compromised_at = compromise(world)

    # The thief suspends document 0, and reinstates document 1 the department had suspended.
    path.send(world, stolen, batch.doc(0, Action.SUSPEND, reason=6))
    path.send(world, stolen, batch.doc(1, Action.REINSTATE, reason=7))
    # ... and suspends and reinstates document 2 (two changes, both voided).
    path.send(world, stolen, batch.doc(2, Action.SUSPEND))
    path.send(world, stolen, batch.doc(2, Action.REINSTATE))
    assert [status(world, batch, i).document.state for i in range(3)] == [
        State.SUSPENDED,
        State.ACTIVE,
        State.ACTIVE,
    ]
    assert status(world, batch, 1).document.signer == stolen.address

    retire_backdated(world, stolen, compromised_at)

    assert status(world, batch, 0).document == StatusRecord(State.ACTIVE, 0, 0, ZERO32, voided=1)
    suspended_again = status(world, batch, 1)
    assert suspended_again.document == StatusRecord(
        legit.state, legit.reason, legit.changed_at, legit.changed_by, legit.signer, voided=1
    )
    assert suspended_again.effective_state == State.SUSPENDED
    assert status(world, batch, 2).document == StatusRecord(State.ACTIVE, 0, 0, ZERO32, voided=2)

    # The transitions follow the change in force: document 1 is suspended again, 0 is not.
    expect_revert(
        lambda: path.send(world, world.samr_key, batch.doc(0, Action.REINSTATE)),
        "DocumentRegistryNotSuspended",
        root=batch.root,
        targetHash=batch.targets[0],
    )
    expect_revert(
        lambda: path.send(world, world.samr_key, batch.doc(1, Action.SUSPEND)),
        "DocumentRegistryInvalidTransition",
        root=batch.root,
        targetHash=batch.targets[1],
        state=int(State.SUSPENDED),
        action=int(Action.SUSPEND),
    )
    path.send(world, world.samr_key, batch.doc(0, Action.SUSPEND, reason=6))
    receipt = path.send(world, world.samr_key, batch.doc(1, Action.REINSTATE, reason=7))
    assert status(world, batch, 1).document == StatusRecord(
        State.ACTIVE, 7, block_time(world, receipt), SAMR, world.samr_key.address
    )
    assert status(world, batch, 0).document.state == State.SUSPENDED


def test_a_stolen_key_s_batch_revocation_is_voided(
    world: World, path: Path, batch: Batch, stolen: LocalAccount
) -> None:
    compromised_at = compromise(world)
    path.send(world, stolen, batch.whole(Action.REVOKE, reason=2))
    expect_revert(
        lambda: path.send(world, world.samr_key, batch.doc(0, Action.SUSPEND)),
        "DocumentRegistryAlreadyRevoked",
        root=batch.root,
        targetHash=ZERO32,
    )

    retire_backdated(world, stolen, compromised_at)

    restored = status(world, batch, 0)
    assert restored.batch == StatusRecord(State.ACTIVE, 0, 0, ZERO32, voided=1)
    assert restored.effective_state == State.ACTIVE
    path.send(world, world.samr_key, batch.doc(0, Action.SUSPEND, reason=6))
    assert status(world, batch, 0).document.state == State.SUSPENDED
    path.send(world, world.samr_key, batch.whole(Action.REVOKE, reason=1))
    assert status(world, batch).batch.signer == world.samr_key.address


def test_a_supersede_by_a_stolen_key_is_voided(world: World, batch: Batch, stolen: LocalAccount) -> None:
    compromised_at = compromise(world)
    change = StatusChange(
        Action.SUPERSEDE,
        batch.root,
        batch.targets[0],
        batch.tree.proof(0),
        successor_root=batch.root,
        successor=batch.targets[1],
        successor_proof=batch.tree.proof(1),
        reason=5,
    )
    _direct(world, stolen, change)
    assert status(world, batch, 0).successor == batch.targets[1]

    retire_backdated(world, stolen, compromised_at)

    restored = status(world, batch, 0)
    assert restored.document == StatusRecord(State.ACTIVE, 0, 0, ZERO32, voided=1)
    assert restored.successor == ZERO32


def test_governance_changes_always_count(world: World, batch: Batch, stolen: LocalAccount) -> None:
    """Governance's changes are in force whatever happens to a key, before or after the thief's."""
    g = gov(world)
    compromised_at = compromise(world)
    # Document 0: the thief suspends, then governance revokes (through the time lock).
    _direct(world, stolen, batch.doc(0, Action.SUSPEND))
    receipt = world.registry.govern_change_status(g, SAMR, batch.doc(0, Action.REVOKE, reason=4))
    assert receipt is not None
    revoked = StatusRecord(State.REVOKED, 4, block_time(world, receipt), ZERO32)
    # Document 1: governance suspends (at once), then the thief revokes.
    receipt = world.registry.govern_change_status(g, SAMR, batch.doc(1, Action.SUSPEND, reason=6))
    assert receipt is not None
    suspended = StatusRecord(State.SUSPENDED, 6, block_time(world, receipt), ZERO32)
    _direct(world, stolen, batch.doc(1, Action.REVOKE, reason=2))

    retire_backdated(world, stolen, compromised_at)

    assert status(world, batch, 0).document == revoked
    assert status(world, batch, 1).document == StatusRecord(
        suspended.state, suspended.reason, suspended.changed_at, suspended.changed_by, voided=1
    )
    assert status(world, batch, 1).effective_state == State.SUSPENDED


# ----------------------------------------------------------------- what is not voided


def test_a_retirement_after_the_change_does_not_void_it(world: World, batch: Batch, stolen: LocalAccount) -> None:
    """Rotation: the key was inside its window when it made the change, which stays in force."""
    receipt = _direct(world, stolen, batch.doc(0, Action.REVOKE, reason=1))
    changed_at = block_time(world, receipt)
    revoked = StatusRecord(State.REVOKED, 1, changed_at, SAMR, stolen.address)
    world.increase_time(10)
    # Backdated, but to after the change (still a Scheduled proposal).
    retire_backdated(world, stolen, changed_at + 1)
    assert status(world, batch, 0).document == revoked
    assert status(world, batch, 0).effective_state == State.REVOKED


def test_a_retirement_from_now_does_not_void_and_runs_at_once(world: World, batch: Batch, stolen: LocalAccount) -> None:
    g = gov(world)
    receipt = _direct(world, stolen, batch.doc(0, Action.REVOKE, reason=1))
    revoked = StatusRecord(State.REVOKED, 1, block_time(world, receipt), SAMR, stolen.address)
    _direct(world, stolen, batch.doc(1, Action.SUSPEND, reason=6))
    before = world.now()
    until = before + 120
    receipt = world.registry.retire_signer_key(g, stolen.address, until)
    assert receipt is not None
    assert g.last_proposal is not None and g.last_proposal.kind == ProposalKind.IMMEDIATE
    assert block_time(world, receipt) < before + COUNCIL_DELAY
    assert one_event(world, receipt, "SignerKeyRetired") == {
        "department": SAMR,
        "signer": stolen.address,
        "validUntil": until,
    }
    world.increase_time(300)
    assert status(world, batch, 0).document == revoked
    assert status(world, batch, 1).document.state == State.SUSPENDED
    assert status(world, batch, 1).document.voided == 0
    expect_revert(
        lambda: _direct(world, stolen, batch.doc(2, Action.REVOKE)),
        "IssuerRegistryKeyNotValid",
        signer=stolen.address,
        validUntil=until,
    )


def test_a_change_at_the_retirement_second_is_voided(world: World, batch: Batch, stolen: LocalAccount) -> None:
    """The window ends before validUntil: a change made in that very second is outside it."""
    receipt = _direct(world, stolen, batch.doc(0, Action.REVOKE, reason=1))
    changed_at = block_time(world, receipt)
    world.increase_time(10)
    retire_backdated(world, stolen, changed_at)
    assert status(world, batch, 0).document == StatusRecord(State.ACTIVE, 0, 0, ZERO32, voided=1)


# ------------------------------------------------------------------ who may retire how


def test_a_backdated_retirement_cannot_run_at_once(world: World, batch: Batch, stolen: LocalAccount) -> None:
    """Backdating restores what the key revoked: the council may not do it as an Immediate proposal."""
    g = gov(world)
    compromised_at = compromise(world)
    _direct(world, stolen, batch.doc(0, Action.REVOKE))
    call = world.registry.call("retireSignerKey", stolen.address, compromised_at)
    expect_revert(
        lambda: g.run([call], kind=ProposalKind.IMMEDIATE),
        "AccessControlUnauthorizedAccount",
        account=world.council.address,
        neededRole=world.registry.governor_role(),
    )
    assert world.registry.signer_key(stolen.address).valid_until == 0
    assert status(world, batch, 0).document.state == State.REVOKED
    # Sent by anyone but the time lock, it is refused as well.
    for account in (world.governor, world.members[0], world.samr_key):
        expect_revert(
            lambda account=account: world.registry.retire_signer_key(
                world.sender(account), stolen.address, compromised_at
            ),
            "AccessControlUnauthorizedAccount",
            account=account.address,
            neededRole=world.registry.governor_role(),
        )


def test_a_scheduled_backdated_retirement_waits_out_the_delay(world: World, batch: Batch, stolen: LocalAccount) -> None:
    g = gov(world)
    relayer = world.sender(world.relayer)
    compromised_at = compromise(world)
    _direct(world, stolen, batch.doc(0, Action.REVOKE))
    call = world.registry.call("retireSignerKey", stolen.address, compromised_at)
    proposal = new_proposal([call], ProposalKind.SCHEDULED, now=world.now())
    world.council.execute(relayer, proposal, g.signatures(proposal))
    assert world.council.operation_state(proposal) == OperationState.WAITING
    ready_at = world.council.ready_at(proposal)
    assert ready_at >= world.now() + COUNCIL_DELAY - 5

    operation = world.council.operation_id(proposal)
    expect_revert(
        lambda: world.council.execute_scheduled(relayer, proposal),
        "TimelockUnexpectedOperationState",
        operationId=operation,
    )
    world.increase_time(ready_at - world.now() - 30)
    expect_revert(
        lambda: world.council.execute_scheduled(relayer, proposal),
        "TimelockUnexpectedOperationState",
        operationId=operation,
    )
    assert world.registry.signer_key(stolen.address).valid_until == 0
    assert status(world, batch, 0).document.state == State.REVOKED

    world.increase_time(ready_at - world.now() + 1)
    world.council.execute_scheduled(relayer, proposal)
    assert world.council.operation_state(proposal) == OperationState.DONE
    assert world.registry.signer_key(stolen.address).valid_until == compromised_at
    assert status(world, batch, 0).document == StatusRecord(State.ACTIVE, 0, 0, ZERO32, voided=1)


def test_anchors_of_the_stolen_key_stay_attributed_to_it(world: World, stolen: LocalAccount) -> None:
    """What the thief anchored after the compromise stays on record under its key, now outside its window."""
    compromised_at = compromise(world)
    root = random_hash()
    receipt = world.registry.anchor(world.sender(stolen), root, type_id(BUSINESS_LICENSE), 1)
    retire_backdated(world, stolen, compromised_at)
    anchored = world.registry.document_status(SAMR, root)
    assert (anchored.anchored, anchored.signer, anchored.anchored_at) == (
        True,
        stolen.address,
        block_time(world, receipt),
    )
    assert not world.registry.signer_key(stolen.address).valid_at(anchored.anchored_at)


def test_retirement_at_zero_means_the_block_it_runs_in(world: World) -> None:
    """An emergency retirement signed long before it runs is still protective: 0 = from this block."""
    key = add_key(world, SAMR)
    call = world.registry.call("retireSignerKey", key.address, 0)
    proposal = new_proposal([call], ProposalKind.IMMEDIATE, now=world.now())
    signatures = world.governance.signatures(proposal)
    world.increase_time(3 * 86_400)  # three days to gather the signatures
    receipt = world.council.execute(world.sender(world.governor), proposal, signatures)
    ran_at = int(world.client.w3.eth.get_block(receipt.block_number)["timestamp"])
    assert world.registry.signer_key(key.address).valid_until == ran_at
    assert classify([call], now=world.now() + 10**6) is ProposalKind.IMMEDIATE
