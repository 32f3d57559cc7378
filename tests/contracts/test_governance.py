"""GovernanceCouncil: M-of-N approvals, replay protection, the time lock, vetoes and council changes.

The test council is 3 of 5 members, 2 to veto, one hour of time lock (tests.factories). Every
test runs on the real node in both chain modes and asserts the contract's custom errors.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3.logs import DISCARD

from chain.artifacts import load_artifact
from chain.deploy import deploy_council, deploy_registry
from chain.governance import (
    DEFAULT_APPROVAL_WINDOW,
    TIMELOCK,
    Call,
    CouncilClient,
    Governance,
    OperationState,
    Proposal,
    ProposalKind,
    classify,
    new_proposal,
    proposal_digest,
    recover_proposal_signer,
    sign_proposal,
    sign_veto,
    veto_signable,
)
from chain.registry import RegistryClient
from chain.sender import Receipt, TransactionSender
from chain.types import ZERO32, Action, Role, StatusChange, department_id
from tests.contracts.helpers import anchor_direct, block_time, one_event
from tests.factories import (
    COUNCIL_DELAY,
    COUNCIL_SIZE,
    COUNCIL_THRESHOLD,
    COUNCIL_VETO,
    NATRES,
    SAMR,
    TAX,
    World,
    expect_revert,
)

HOUSING = department_id("LA-HOUSING")
#: TimelockController's encoding of "expected state Ready" (1 << OperationState.Ready).
READY_BITMAP = (1 << int(OperationState.READY)).to_bytes(32, "big")


# ----------------------------------------------------------------------------------- helpers


def relayer(world: World) -> TransactionSender:
    return world.sender(world.relayer)


def add_key_call(world: World, department: bytes = SAMR) -> tuple[Call, str]:
    """The call that gives ``department`` a fresh signing key, and that key's address."""
    key = world.new_account().address
    return world.registry.call("addSignerKey", department, key, world.now() - 60, 0), key


def propose(
    world: World, calls: list[Call], kind: ProposalKind = ProposalKind.SCHEDULED, *, window: int = 86_400
) -> Proposal:
    return new_proposal(calls, kind, now=world.now(), window=window)


def sigs(world: World, proposal: Proposal, members: list[LocalAccount], *, council: str | None = None) -> list[bytes]:
    address = council or world.council.address
    return [sign_proposal(m, proposal, chain_id=world.chain_id, council=address) for m in members]


def veto_sigs(world: World, digest: bytes, deadline: int, members: list[LocalAccount]) -> list[bytes]:
    return [sign_veto(m, digest, deadline, chain_id=world.chain_id, council=world.council.address) for m in members]


def execute(world: World, proposal: Proposal, signatures: list[bytes]) -> Receipt:
    return world.council.execute(relayer(world), proposal, signatures)


def council_events(world: World, receipt: Receipt, name: str) -> list[dict[str, Any]]:
    event = getattr(world.council.contract.events, name)()
    return [dict(log["args"]) for log in event.process_receipt(receipt.raw, errors=DISCARD)]


def one_council_event(world: World, receipt: Receipt, name: str) -> dict[str, Any]:
    found = council_events(world, receipt, name)
    assert len(found) == 1, f"expected one {name} event, got {found}"
    return found[0]


def is_key(world: World, signer: str) -> bool:
    return world.registry.can_anchor(signer, ZERO32)[0] != ZERO32


def addresses(accounts: list[LocalAccount]) -> list[str]:
    return [a.address for a in accounts]


# ------------------------------------------------------------------- approvals: M of N


def test_no_single_key_adds_a_signer_key(world: World) -> None:
    """The forgery of one stolen governor key is gone: neither the deployer nor any one member
    can give a department a key, directly or through the council."""
    _, key = add_key_call(world)
    governor_role = world.registry.governor_role()
    for account in (world.governor, *world.members):
        expect_revert(
            lambda account=account: world.registry.add_signer_key(world.sender(account), SAMR, key, 0),
            "AccessControlUnauthorizedAccount",
            account=account.address,
            neededRole=governor_role,
        )
    for kind in ProposalKind:
        call, _ = add_key_call(world)
        proposal = propose(world, [call], kind)
        digest = world.council.digest(proposal)
        for member in world.members:
            expect_revert(
                lambda member=member, proposal=proposal: world.council.execute(
                    world.sender(member), proposal, sigs(world, proposal, [member])
                ),
                "GovernanceCouncilInsufficientApprovals",
                digest=digest,
                approvals=1,
                needed=COUNCIL_THRESHOLD,
            )
        # The deployer is no member: its signature does not count at all.
        expect_revert(
            lambda proposal=proposal: execute(world, proposal, sigs(world, proposal, [world.governor])),
            "GovernanceCouncilInvalidSignature",
            index=0,
        )
    assert not is_key(world, key)


def test_threshold_minus_one_is_not_enough_three_are(world: World) -> None:
    call, key = add_key_call(world)
    proposal = propose(world, [call])
    digest = world.council.digest(proposal)
    expect_revert(
        lambda: execute(world, proposal, sigs(world, proposal, world.members[:2])),
        "GovernanceCouncilInsufficientApprovals",
        digest=digest,
        approvals=COUNCIL_THRESHOLD - 1,
        needed=COUNCIL_THRESHOLD,
    )
    assert not world.council.is_nonce_used(proposal.nonce)

    signers = [world.members[4], world.members[1], world.members[2]]  # any three, in any order
    receipt = execute(world, proposal, sigs(world, proposal, signers))
    scheduled = one_council_event(world, receipt, "ProposalScheduled")
    assert scheduled["proposal"] == digest
    assert scheduled["operation"] == world.council.operation_id(proposal)
    assert scheduled["nonce"] == proposal.nonce
    assert scheduled["readyAt"] == block_time(world, receipt) + COUNCIL_DELAY
    assert scheduled["approvers"] == addresses(signers)
    assert world.council.is_nonce_used(proposal.nonce)
    assert not is_key(world, key)  # waiting in the time lock

    world.increase_time(COUNCIL_DELAY)
    receipt = world.council.execute_scheduled(relayer(world), proposal)
    assert one_event(world, receipt, "SignerKeyAdded")["signer"] == key
    assert is_key(world, key)


def test_every_member_may_sign(world: World) -> None:
    """More than the threshold is fine; each distinct member counts once."""
    proposal = propose(world, [world.registry.call("setDepartmentActive", SAMR, False)], ProposalKind.IMMEDIATE)
    receipt = execute(world, proposal, sigs(world, proposal, world.members))
    executed = one_council_event(world, receipt, "ProposalExecuted")
    assert executed == {
        "proposal": world.council.digest(proposal),
        "nonce": proposal.nonce,
        "approvers": addresses(world.members),
    }
    assert not world.registry.department(SAMR).active


def test_on_chain_approvals_count_with_signatures(world: World) -> None:
    council, members = world.council, world.members
    call, key = add_key_call(world)
    proposal = propose(world, [call])
    digest = council.digest(proposal)
    receipt = council.approve(world.sender(members[0]), digest)
    assert one_council_event(world, receipt, "Approved") == {"digest": digest, "member": members[0].address}
    assert council.has_approved(digest, members[0].address)
    assert not council.has_approved(digest, members[1].address)

    # A member who approved on chain and also signed counts once.
    expect_revert(
        lambda: execute(world, proposal, sigs(world, proposal, members[:2])),
        "GovernanceCouncilInsufficientApprovals",
        digest=digest,
        approvals=2,
        needed=COUNCIL_THRESHOLD,
    )
    # A withdrawn approval does not count.
    council.approve(world.sender(members[3]), digest)
    receipt = council.revoke_approval(world.sender(members[3]), digest)
    assert one_council_event(world, receipt, "ApprovalRevoked") == {"digest": digest, "member": members[3].address}
    assert not council.has_approved(digest, members[3].address)
    expect_revert(
        lambda: execute(world, proposal, sigs(world, proposal, [members[1]])),
        "GovernanceCouncilInsufficientApprovals",
        digest=digest,
        approvals=2,
        needed=COUNCIL_THRESHOLD,
    )

    receipt = execute(world, proposal, sigs(world, proposal, members[1:3]))
    approvers = one_council_event(world, receipt, "ProposalScheduled")["approvers"]
    assert approvers == [members[1].address, members[2].address, members[0].address]
    world.increase_time(COUNCIL_DELAY)
    council.execute_scheduled(relayer(world), proposal)
    assert is_key(world, key)


def test_on_chain_approvals_alone(world: World) -> None:
    proposal = propose(
        world,
        [world.registry.call("deauthorizeDocumentType", SAMR, world.registry.authorized_types(SAMR)[0])],
        ProposalKind.IMMEDIATE,
    )
    digest = world.council.digest(proposal)
    for member in world.members[2:]:
        world.council.approve(world.sender(member), digest)
    receipt = execute(world, proposal, [])
    assert one_council_event(world, receipt, "ProposalExecuted")["approvers"] == addresses(world.members[2:])
    assert len(world.registry.authorized_types(SAMR)) == 1


def test_only_members_approve_on_chain(world: World) -> None:
    stranger = world.new_account()
    digest = os.urandom(32)
    for account in (stranger, world.governor):
        expect_revert(
            lambda account=account: world.council.approve(world.sender(account), digest),
            "GovernanceCouncilNotMember",
            account=account.address,
        )
    # Withdrawing needs an approval to withdraw.
    expect_revert(
        lambda: world.council.revoke_approval(world.sender(world.members[0]), digest),
        "GovernanceCouncilNotMember",
        account=world.members[0].address,
    )


def test_duplicated_signer(world: World) -> None:
    call, key = add_key_call(world)
    proposal = propose(world, [call])
    m0, m1 = world.members[0], world.members[1]
    for signers in ([m0, m0, m1], [m0, m1, m0]):
        expect_revert(
            lambda signers=signers: execute(world, proposal, sigs(world, proposal, signers)),
            "GovernanceCouncilDuplicateSigner",
            signer=m0.address,
        )
    assert not world.council.is_nonce_used(proposal.nonce)
    assert not is_key(world, key)


def test_signature_of_a_non_member(world: World) -> None:
    call, _ = add_key_call(world)
    proposal = propose(world, [call])
    m0, m1, m2 = world.members[:3]
    outsider = world.new_account()
    expect_revert(
        lambda: execute(world, proposal, sigs(world, proposal, [m0, outsider, m1, m2])),
        "GovernanceCouncilInvalidSignature",
        index=1,
    )
    malformed = [*sigs(world, proposal, [m0, m1]), b"\x00" * 65]
    expect_revert(lambda: execute(world, proposal, malformed), "GovernanceCouncilInvalidSignature", index=2)
    expect_revert(
        lambda: execute(world, proposal, [*sigs(world, proposal, [m0, m1]), b"\x01" * 10]),
        "GovernanceCouncilInvalidSignature",
        index=2,
    )
    # More signatures than members: refused before any is checked.
    many = sigs(world, proposal, [*world.members, outsider])
    expect_revert(lambda: execute(world, proposal, many), "GovernanceCouncilInvalidSignature", index=COUNCIL_SIZE)
    execute(world, proposal, sigs(world, proposal, [m0, m1, m2]))


def test_proposal_needs_calls(world: World) -> None:
    empty = Proposal(ProposalKind.IMMEDIATE, (), 1, world.now() + 3600)
    expect_revert(lambda: execute(world, empty, []), "GovernanceCouncilInvalidCalls", count=0)
    call = world.registry.call("setDepartmentActive", SAMR, False)
    too_many = Proposal(ProposalKind.IMMEDIATE, (call,) * 65, 2, world.now() + 3600)
    expect_revert(
        lambda: execute(world, too_many, sigs(world, too_many, world.members[:3])),
        "GovernanceCouncilInvalidCalls",
        count=65,
    )


def test_immediate_proposal_is_all_or_nothing(world: World) -> None:
    registry = world.registry
    food = registry.authorized_types(SAMR)[1]
    calls = [registry.call("setDepartmentActive", SAMR, False), registry.call("deauthorizeDocumentType", TAX, food)]
    proposal = propose(world, calls, ProposalKind.IMMEDIATE)
    expect_revert(
        lambda: execute(world, proposal, sigs(world, proposal, world.members[:3])),
        "IssuerRegistryTypeNotAuthorized",
        department=TAX,
        docType=food,
    )
    assert registry.department(SAMR).active
    assert not world.council.is_nonce_used(proposal.nonce)


# ------------------------------------------------------------------------------- replay


def test_replay_of_an_executed_proposal(world: World) -> None:
    registry = world.registry
    immediate = propose(world, [registry.call("setDepartmentActive", SAMR, False)], ProposalKind.IMMEDIATE)
    signatures = sigs(world, immediate, world.members[:3])
    execute(world, immediate, signatures)
    registry.set_department_active(world.governance, SAMR, True)
    expect_revert(lambda: execute(world, immediate, signatures), "GovernanceCouncilNonceUsed", nonce=immediate.nonce)
    assert registry.department(SAMR).active

    call, _ = add_key_call(world)
    scheduled = propose(world, [call])
    signatures = sigs(world, scheduled, world.members[:3])
    execute(world, scheduled, signatures)
    expect_revert(lambda: execute(world, scheduled, signatures), "GovernanceCouncilNonceUsed", nonce=scheduled.nonce)
    world.increase_time(COUNCIL_DELAY)
    world.council.execute_scheduled(relayer(world), scheduled)
    expect_revert(lambda: execute(world, scheduled, signatures), "GovernanceCouncilNonceUsed", nonce=scheduled.nonce)

    # Another proposal with a used nonce is refused too (a nonce is used once, whatever it carried).
    other_call, _ = add_key_call(world)
    reused = Proposal(ProposalKind.SCHEDULED, (other_call,), scheduled.nonce, scheduled.deadline)
    expect_revert(
        lambda: execute(world, reused, sigs(world, reused, world.members[:3])),
        "GovernanceCouncilNonceUsed",
        nonce=scheduled.nonce,
    )


def test_expired_proposal(world: World) -> None:
    call, key = add_key_call(world)
    proposal = propose(world, [call], window=600)
    signatures = sigs(world, proposal, world.members[:3])
    world.increase_time(601)
    expect_revert(lambda: execute(world, proposal, signatures), "GovernanceCouncilExpired", deadline=proposal.deadline)
    assert not world.council.is_nonce_used(proposal.nonce)
    assert not is_key(world, key)


def test_signatures_for_another_chain_or_council(world: World, tmp_path: Path) -> None:
    """EIP-712 binds every approval to one chain and one council: elsewhere they recover to strangers."""
    call, key = add_key_call(world)
    proposal = propose(world, [call])
    m = world.members[:3]
    other_chain = [sign_proposal(a, proposal, chain_id=world.chain_id + 1, council=world.council.address) for a in m]
    expect_revert(lambda: execute(world, proposal, other_chain), "GovernanceCouncilInvalidSignature", index=0)
    for address in (world.registry.address, "0x" + "42" * 20):
        elsewhere = sigs(world, proposal, m, council=address)
        expect_revert(lambda e=elsewhere: execute(world, proposal, e), "GovernanceCouncilInvalidSignature", index=0)
    recovered = recover_proposal_signer(
        proposal, other_chain[0], chain_id=world.chain_id, council=world.council.address
    )
    assert recovered != m[0].address

    # A second council of the same members: what they signed for one does not run on the other.
    twin = deploy_council(
        world.client,
        world.sender(world.governor),
        deployments_dir=tmp_path,
        members=addresses(world.members),
        threshold=COUNCIL_THRESHOLD,
        veto_threshold=COUNCIL_VETO,
        delay=COUNCIL_DELAY,
    )
    for_twin = sigs(world, proposal, m, council=twin.address)
    expect_revert(lambda: execute(world, proposal, for_twin), "GovernanceCouncilInvalidSignature", index=0)
    twin_client = CouncilClient(world.client, twin.address)
    expect_revert(
        lambda: twin_client.execute(relayer(world), proposal, sigs(world, proposal, m)),
        "GovernanceCouncilInvalidSignature",
        index=0,
    )
    execute(world, proposal, sigs(world, proposal, m))
    assert not is_key(world, key)  # scheduled, not yet run


# ---------------------------------------------------------------------------- digests


def test_python_digest_equals_the_contract(world: World) -> None:
    registry, council = world.registry, world.council
    call, _ = add_key_call(world)
    several = [
        call,
        registry.call("setDepartmentRoles", TAX, int(Role.TAX | Role.BANK)),
        registry.call("governChangeStatus", SAMR, StatusChange(Action.SUSPEND, os.urandom(32)).as_tuple()),
        council.set_council_call(addresses(world.members), 3, 2),
        Call(registry.address, b""),
    ]
    for kind in ProposalKind:
        for calls in ([call], several):
            proposal = propose(world, calls, kind)
            expected = council.proposal_digest(proposal)
            assert proposal_digest(proposal, chain_id=world.chain_id, council=council.address) == expected
            assert council.digest(proposal) == expected
    # Every field is bound: kind, order of calls, nonce, deadline.
    base = propose(world, several)
    variants = [
        Proposal(ProposalKind.IMMEDIATE, base.calls, base.nonce, base.deadline),
        Proposal(base.kind, tuple(reversed(base.calls)), base.nonce, base.deadline),
        Proposal(base.kind, base.calls, base.nonce + 1, base.deadline),
        Proposal(base.kind, base.calls, base.nonce, base.deadline + 1),
        Proposal(base.kind, (*base.calls[:-1], Call(registry.address, b"\x00")), base.nonce, base.deadline),
    ]
    digests = {council.proposal_digest(p) for p in [base, *variants]}
    assert len(digests) == len(variants) + 1

    digest = council.digest(base)
    deadline = world.now() + 3600
    signable = veto_signable(digest, deadline, chain_id=world.chain_id, council=council.address)
    assert keccak(b"\x19\x01" + signable.header + signable.body) == council.veto_digest(digest, deadline)
    assert council.veto_digest(digest, deadline) != council.veto_digest(digest, deadline + 1)
    assert council.veto_digest(digest, deadline) != digest


# ---------------------------------------------------------------------------- time lock


def test_scheduled_proposal_waits_out_the_delay(world: World) -> None:
    council = world.council
    assert council.min_delay() == COUNCIL_DELAY
    call, key = add_key_call(world)
    proposal = propose(world, [call])
    digest = council.digest(proposal)
    expect_revert(
        lambda: council.execute_scheduled(relayer(world), proposal), "GovernanceCouncilNotScheduled", proposal=digest
    )
    receipt = execute(world, proposal, sigs(world, proposal, world.members[:3]))
    assert council.operation_state(proposal) == OperationState.WAITING
    assert council.ready_at(proposal) == block_time(world, receipt) + COUNCIL_DELAY
    operation = council.operation_id(proposal)
    expect_revert(
        lambda: council.execute_scheduled(relayer(world), proposal),
        "TimelockUnexpectedOperationState",
        operationId=operation,
        expectedStates=READY_BITMAP,
    )
    world.increase_time(COUNCIL_DELAY // 2)
    expect_revert(
        lambda: council.execute_scheduled(relayer(world), proposal),
        "TimelockUnexpectedOperationState",
        operationId=operation,
    )
    assert not is_key(world, key)

    world.increase_time(COUNCIL_DELAY // 2)
    assert council.operation_state(proposal) == OperationState.READY
    anyone = world.new_account()  # after the delay anyone may carry it out
    receipt = council.execute_scheduled(world.sender(anyone), proposal)
    assert is_key(world, key)
    assert council.operation_state(proposal) == OperationState.DONE
    timelock = world.client.contract(TIMELOCK, council.timelock())
    executed = [dict(e["args"]) for e in timelock.events.CallExecuted().process_receipt(receipt.raw, errors=DISCARD)]
    assert [(e["id"], e["target"], e["data"]) for e in executed] == [(operation, call.target, call.data)]
    expect_revert(
        lambda: council.execute_scheduled(relayer(world), proposal), "GovernanceCouncilNotScheduled", proposal=digest
    )


def test_immediate_proposal_is_not_scheduled(world: World) -> None:
    proposal = propose(world, [world.registry.call("setDepartmentActive", SAMR, False)], ProposalKind.IMMEDIATE)
    execute(world, proposal, sigs(world, proposal, world.members[:3]))
    assert world.council.operation_state(proposal) == OperationState.UNSET
    expect_revert(
        lambda: world.council.execute_scheduled(relayer(world), proposal),
        "GovernanceCouncilNotScheduled",
        proposal=world.council.digest(proposal),
    )


def test_nobody_bypasses_the_council_to_the_time_lock(world: World) -> None:
    council = world.council
    timelock = world.client.contract(TIMELOCK, council.timelock())
    call, key = add_key_call(world)
    proposer_role = bytes(world.client.run(lambda: timelock.functions.PROPOSER_ROLE().call()))
    canceller_role = bytes(world.client.run(lambda: timelock.functions.CANCELLER_ROLE().call()))
    assert bool(world.client.run(lambda: timelock.functions.hasRole(proposer_role, council.address).call()))
    assert bool(world.client.run(lambda: timelock.functions.hasRole(canceller_role, council.address).call()))
    schedule = timelock.functions.schedule(call.target, 0, call.data, ZERO32, os.urandom(32), COUNCIL_DELAY)
    for account in (world.governor, world.members[0]):
        expect_revert(
            lambda account=account: world.sender(account).transact(schedule, load_artifact(TIMELOCK)),
            "AccessControlUnauthorizedAccount",
            account=account.address,
            neededRole=proposer_role,
        )
    # Its own delay changes only through itself (a Scheduled proposal), never at once.
    update = Call(council.timelock(), bytes(HexBytes(timelock.encode_abi("updateDelay", args=[2 * COUNCIL_DELAY]))))
    expect_revert(
        lambda: world.governance.run([update], kind=ProposalKind.IMMEDIATE),
        "TimelockUnauthorizedCaller",
        caller=council.address,
    )
    world.governance.run([update])
    assert council.min_delay() == 2 * COUNCIL_DELAY
    proposal = propose(world, [call])
    receipt = execute(world, proposal, sigs(world, proposal, world.members[:3]))
    assert council.ready_at(proposal) == block_time(world, receipt) + 2 * COUNCIL_DELAY
    assert not is_key(world, key)


# -------------------------------------------------------------------------------- vetoes


def test_veto_cancels_a_waiting_proposal(world: World) -> None:
    council = world.council
    call, key = add_key_call(world)
    proposal = propose(world, [call])
    execute(world, proposal, sigs(world, proposal, world.members[:3]))
    digest = council.digest(proposal)
    deadline = world.now() + 3600
    veto_digest = council.veto_digest(digest, deadline)

    expect_revert(
        lambda: council.veto(
            relayer(world), proposal, deadline, veto_sigs(world, digest, deadline, world.members[3:4])
        ),
        "GovernanceCouncilInsufficientApprovals",
        digest=veto_digest,
        approvals=1,
        needed=COUNCIL_VETO,
    )
    # Signatures over the proposal itself are no veto.
    expect_revert(
        lambda: council.veto(relayer(world), proposal, deadline, sigs(world, proposal, world.members[3:])),
        "GovernanceCouncilInvalidSignature",
        index=0,
    )
    assert council.operation_state(proposal) == OperationState.WAITING

    receipt = council.veto(relayer(world), proposal, deadline, veto_sigs(world, digest, deadline, world.members[3:]))
    assert one_council_event(world, receipt, "ProposalVetoed") == {
        "proposal": digest,
        "approvers": addresses(world.members[3:]),
    }
    assert council.is_vetoed(digest)
    assert council.operation_state(proposal) == OperationState.UNSET  # cancelled in the time lock
    expect_revert(
        lambda: council.execute_scheduled(relayer(world), proposal), "GovernanceCouncilNotScheduled", proposal=digest
    )
    world.increase_time(COUNCIL_DELAY + 1)
    expect_revert(
        lambda: council.execute_scheduled(relayer(world), proposal), "GovernanceCouncilNotScheduled", proposal=digest
    )
    # It cannot be carried out again, not even with more approvals.
    expect_revert(
        lambda: execute(world, proposal, sigs(world, proposal, world.members)),
        "GovernanceCouncilVetoed",
        proposal=digest,
    )
    assert not is_key(world, key)


def test_veto_before_execution_and_on_chain(world: World) -> None:
    """A veto may come before the proposal is submitted; an on-chain approval counts for it."""
    council = world.council
    call, key = add_key_call(world)
    proposal = propose(world, [call])
    digest = council.digest(proposal)
    deadline = world.now() + 3600
    council.approve(world.sender(world.members[0]), council.veto_digest(digest, deadline))
    receipt = council.veto(relayer(world), proposal, deadline, veto_sigs(world, digest, deadline, world.members[1:2]))
    assert one_council_event(world, receipt, "ProposalVetoed")["approvers"] == [
        world.members[1].address,
        world.members[0].address,
    ]
    expect_revert(
        lambda: execute(world, proposal, sigs(world, proposal, world.members[:3])),
        "GovernanceCouncilVetoed",
        proposal=digest,
    )
    assert not world.council.is_nonce_used(proposal.nonce)
    assert not is_key(world, key)


def test_protective_proposals_cannot_be_vetoed(world: World) -> None:
    """A minority must not be able to keep a stolen key live: Immediate proposals have no veto."""
    council = world.council
    until = world.now() + 600
    retire = world.registry.call("retireSignerKey", world.samr_key.address, until)
    proposal = propose(world, [retire], ProposalKind.IMMEDIATE)
    digest = council.digest(proposal)
    deadline = world.now() + 3600
    expect_revert(
        lambda: council.veto(relayer(world), proposal, deadline, veto_sigs(world, digest, deadline, world.members)),
        "GovernanceCouncilNotScheduled",
        proposal=ZERO32,
    )
    assert not council.is_vetoed(digest)
    execute(world, proposal, sigs(world, proposal, world.members[:3]))
    assert world.registry.signer_key(world.samr_key.address).valid_until == until


def test_expired_veto(world: World) -> None:
    call, _ = add_key_call(world)
    proposal = propose(world, [call])
    execute(world, proposal, sigs(world, proposal, world.members[:3]))
    digest = world.council.digest(proposal)
    deadline = world.now() + 60
    signatures = veto_sigs(world, digest, deadline, world.members[3:])
    world.increase_time(120)
    expect_revert(
        lambda: world.council.veto(relayer(world), proposal, deadline, signatures),
        "GovernanceCouncilExpired",
        deadline=deadline,
    )
    assert world.council.operation_state(proposal) == OperationState.WAITING


# ------------------------------------------------------------------------ council changes


def test_council_changes_only_through_the_time_lock(world: World) -> None:
    council = world.council
    change = council.set_council_call(addresses(world.members[:3]), 2, 1)
    expect_revert(
        lambda: world.governance.run([change], kind=ProposalKind.IMMEDIATE),
        "GovernanceCouncilOnlyTimelock",
        caller=council.address,
    )
    fn = council.contract.functions.setCouncil(addresses(world.members[:3]), 2, 1)
    for account in (world.governor, world.members[0]):
        expect_revert(
            lambda account=account: world.sender(account).transact(fn, council.artifact),
            "GovernanceCouncilOnlyTimelock",
            caller=account.address,
        )
    assert council.members() == addresses(world.members)
    assert (council.threshold(), council.veto_threshold()) == (COUNCIL_THRESHOLD, COUNCIL_VETO)


def test_scheduled_council_change(world: World) -> None:
    council = world.council
    newcomer = world.new_account()
    world.sender(newcomer)
    new_members = [world.members[3], world.members[4], newcomer]
    # Prepared and approved on chain by old members before the change:
    pending_call, _ = add_key_call(world)
    pending = propose(world, [pending_call], window=DEFAULT_APPROVAL_WINDOW)
    for member in world.members[:2]:
        council.approve(world.sender(member), council.digest(pending))

    receipt = world.governance.run([council.set_council_call(addresses(new_members), 2, 1)])
    assert receipt is not None
    assert one_council_event(world, receipt, "CouncilChanged") == {
        "members": addresses(new_members),
        "threshold": 2,
        "vetoThreshold": 1,
    }
    assert council.members() == addresses(new_members)
    assert (council.threshold(), council.veto_threshold()) == (2, 1)
    assert not council.is_member(world.members[0].address)
    assert council.is_member(newcomer.address)

    # Old members' signatures and on-chain approvals no longer count.
    call, key = add_key_call(world)
    proposal = propose(world, [call])
    expect_revert(
        lambda: execute(world, proposal, sigs(world, proposal, world.members[:3])),
        "GovernanceCouncilInvalidSignature",
        index=0,
    )
    expect_revert(
        lambda: execute(world, pending, sigs(world, pending, [newcomer])),
        "GovernanceCouncilInsufficientApprovals",
        digest=council.digest(pending),
        approvals=1,
        needed=2,
    )
    # The new council governs: two of its three members.
    new_gov = Governance(council, new_members, relayer(world), wait=world.increase_time)
    world.registry.add_signer_key(new_gov, SAMR, key, world.now() - 60)
    assert is_key(world, key)
    assert new_gov.last_proposal is not None
    assert council.is_nonce_used(new_gov.last_proposal.nonce)


@pytest.mark.parametrize(
    ("size", "threshold", "veto"),
    [(2, 3, 1), (5, 2, 3), (5, 1, 1), (5, 0, 0), (0, 1, 1), (5, 3, 0), (17, 3, 2)],
    ids=["threshold>members", "veto>threshold", "threshold-1", "threshold-0", "no-members", "veto-0", "17-members"],
)
def test_invalid_council_configuration(world: World, size: int, threshold: int, veto: int) -> None:
    members = (addresses(world.members) + [world.new_account().address for _ in range(12)])[:size]
    change = world.council.set_council_call(members, threshold, veto)
    expect_revert(
        lambda: world.governance.run([change]),
        "GovernanceCouncilInvalidConfiguration",
        members=size,
        threshold=threshold,
        vetoThreshold=veto,
    )
    assert world.council.members() == addresses(world.members)
    assert world.council.threshold() == COUNCIL_THRESHOLD


@pytest.mark.parametrize("bad", ["duplicate", "zero"])
def test_invalid_council_members(world: World, bad: str) -> None:
    members = addresses(world.members[:3])
    members.append(members[0] if bad == "duplicate" else "0x" + "00" * 20)
    change = world.council.set_council_call(members, 3, 2)
    expect_revert(
        lambda: world.governance.run([change]),
        "GovernanceCouncilInvalidConfiguration",
        members=4,
        threshold=3,
        vetoThreshold=2,
    )
    assert world.council.members() == addresses(world.members)


# --------------------------------------------------------------------------- deployment


def test_single_member_or_no_delay_only_for_development(world: World, tmp_path: Path) -> None:
    deployer = world.sender(world.governor)
    one = [world.members[0].address]
    five = addresses(world.members)
    for members, threshold, veto, delay in ((one, 1, 1, 60), (five, 1, 1, 60), (five, 3, 2, 0), (one, 1, 1, 0)):
        expect_revert(
            lambda m=members, t=threshold, v=veto, d=delay: deploy_council(
                world.client, deployer, deployments_dir=tmp_path, members=m, threshold=t, veto_threshold=v, delay=d
            ),
            "GovernanceCouncilInvalidConfiguration",
            members=len(members),
            threshold=threshold,
            vetoThreshold=veto,
        )
    assert not (tmp_path / f"{world.chain_id}.json").exists()

    dev = deploy_council(
        world.client,
        deployer,
        deployments_dir=tmp_path,
        members=one,
        threshold=1,
        veto_threshold=1,
        delay=0,
        development=True,
    )
    council = CouncilClient(world.client, dev.address)
    assert council.development() and not world.council.development()
    assert (council.members(), council.threshold(), council.min_delay()) == (one, 1, 0)
    registry = RegistryClient(
        world.client, deploy_registry(world.client, deployer, deployments_dir=tmp_path, council=dev.address).address
    )
    solo = Governance(council, world.members[:1], relayer(world), wait=world.increase_time)
    registry.register_department(solo, HOUSING, "六安市住房和城乡建设局", "11341500MB0000004D", Role.HOUSING)
    assert registry.department(HOUSING).roles == Role.HOUSING
    assert solo.last_proposal is not None and solo.last_proposal.kind is ProposalKind.SCHEDULED
    registry.set_department_active(solo, HOUSING, False)
    assert not registry.department(HOUSING).active
    # Even a development council keeps 1 <= veto <= threshold <= members.
    expect_revert(
        lambda: solo.run([council.set_council_call(one, 2, 1)]),
        "GovernanceCouncilInvalidConfiguration",
        members=1,
        threshold=2,
        vetoThreshold=1,
    )


# --------------------------------------------------------------------------- classify


def test_classify_reads_the_registry(world: World) -> None:
    registry, client, now = world.registry, world.client, world.now()
    immediate = [
        registry.call("setDepartmentRoles", TAX, 0),
        registry.call("setDepartmentActive", SAMR, False),
        registry.call("retireSignerKey", world.samr_key.address, now + 600),
        registry.call("deauthorizeDocumentType", SAMR, registry.authorized_types(SAMR)[0]),
        registry.call("governChangeStatus", SAMR, StatusChange(Action.SUSPEND, os.urandom(32)).as_tuple()),
    ]
    assert classify(immediate, client) is ProposalKind.IMMEDIATE
    for call in immediate:
        assert classify([call], client) is ProposalKind.IMMEDIATE
    scheduled = [
        registry.call("setDepartmentRoles", TAX, int(Role.TAX | Role.BANK)),
        registry.call("setDepartmentRoles", TAX, int(Role.HOUSING)),  # withdraws TAX but gives HOUSING
        registry.call("retireSignerKey", world.samr_key.address, now + 30),  # too close to now to be sure
        registry.call("retireSignerKey", world.samr_key.address, now - 60),
    ]
    for call in scheduled:
        assert classify([call], client) is ProposalKind.SCHEDULED
        assert classify([*immediate, call], client) is ProposalKind.SCHEDULED
    # What the classification says, the contracts agree with: each protective call runs at once.
    for call in immediate[:4]:
        world.governance.run([call], kind=ProposalKind.IMMEDIATE)
    root = anchor_direct(world, world.natres_key, "property-certificate")
    suspend = registry.call("governChangeStatus", NATRES, StatusChange(Action.SUSPEND, root).as_tuple())
    assert classify([suspend], client) is ProposalKind.IMMEDIATE
    world.governance.run([suspend])
    assert world.governance.last_proposal is not None
    assert world.governance.last_proposal.kind is ProposalKind.IMMEDIATE


# ----------------------------------------------------------------------------------- gas


def test_gas_of_the_governance_paths(world: World) -> None:
    """Each path runs and costs what a governance action may (the benchmark script records figures)."""
    council, registry = world.council, world.registry
    used: dict[str, int] = {}

    immediate = propose(world, [registry.call("setDepartmentActive", SAMR, False)], ProposalKind.IMMEDIATE)
    used["execute (Immediate, 1 call)"] = execute(world, immediate, sigs(world, immediate, world.members[:3])).gas_used

    call, key = add_key_call(world)
    scheduled = propose(world, [call])
    used["execute (Scheduled)"] = execute(world, scheduled, sigs(world, scheduled, world.members[:3])).gas_used
    world.increase_time(COUNCIL_DELAY)
    used["executeScheduled"] = council.execute_scheduled(relayer(world), scheduled).gas_used
    assert is_key(world, key)

    other_call, _ = add_key_call(world)
    vetoed = propose(world, [other_call])
    execute(world, vetoed, sigs(world, vetoed, world.members[:3]))
    digest, deadline = council.digest(vetoed), world.now() + 3600
    used["veto"] = council.veto(
        relayer(world), vetoed, deadline, veto_sigs(world, digest, deadline, world.members[3:])
    ).gas_used
    used["approve"] = council.approve(world.sender(world.members[0]), os.urandom(32)).gas_used

    bounds = {
        "execute (Immediate, 1 call)": 200_000,
        "execute (Scheduled)": 250_000,
        "executeScheduled": 300_000,
        "veto": 200_000,
        "approve": 60_000,
    }
    for path, gas in used.items():
        assert 21_000 < gas < bounds[path], f"{path}: {gas} gas"
