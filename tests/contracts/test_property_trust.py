"""Trust on chain: each test replays an attack of the audit on the PropertyRegistry and shows it
refused by the new contracts (on the old ones every one of these went through).

- one department holding NATRES, TAX and HOUSING finalized a transfer alone;
- NATRES revoked (or suspended, superseded) a unit's current title certificate directly in the
  DocumentRegistry, or the whole batch holding it, and governance could do the same;
- titles had no correction path besides such direct changes (now: a correction case, 更正登记);
- one mortgage certificate served several mortgages, banks or units, or came from anyone;
- one certificate served as the title of two units.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import pytest
from eth_account.signers.local import LocalAccount

from chain.governance import ProposalKind
from chain.property import CaseKind, CaseState, Certificate, Owner, PropertyCall, sign_action
from chain.sender import Receipt, TransactionSender
from chain.types import (
    REASON_CORRECTED,
    REASON_MORTGAGE_RELEASED,
    REASON_TRANSFERRED,
    ZERO32,
    Action,
    Role,
    State,
    StatusChange,
    department_id,
    type_id,
)
from documents.merkle import MerkleTree
from tests.contracts.helpers import add_key, block_time, gov, one_event, same_address
from tests.factories import NATRES, PROPERTY_CERTIFICATE, SAMR, TAX, World, expect_revert
from tests.property_setup import BANK, BUYER, CORRECTED_BUYERS, COURT, HOUSING, MORTGAGE_CERTIFICATE, SELLERS, UNIT_NUMBER, Setup, make_setup, owners, unit_of

OTHER_NATRES = department_id("LA-NATRES-JINAN")
OTHER_UNIT = unit_of("341502001001GB00002F00010001")
#: Reason of the corrections below: issued in error (错误签发).
ISSUED_IN_ERROR = 1
#: ROLE_* flags of the departments that may approve a correction (NATRES, TAX, HOUSING, COURT).
CORRECTION_ROLES = Role.NATRES | Role.TAX | Role.HOUSING | Role.COURT


@pytest.fixture(name="s")
def _setup(world: World) -> Setup:
    """The world's PropertyRegistry and the workflow's departments (tests.property_setup)."""
    return make_setup(world)


# ------------------------------------------------------------------------------------ helpers


@dataclass(frozen=True)
class Batch:
    """A batch of four documents anchored by one key, with every proof at hand."""

    tree: MerkleTree
    targets: list[bytes]

    @property
    def root(self) -> bytes:
        return self.tree.root

    def certificate(self, index: int = 2) -> Certificate:
        return Certificate(self.tree.root, self.targets[index], tuple(self.tree.proof(index)))

    def change(self, action: Action, index: int | None = 2, *, reason: int = 2) -> StatusChange:
        """A status change of document ``index``, or of the whole batch (None)."""
        if index is None:
            return StatusChange(action, self.tree.root, reason=reason)
        return StatusChange(action, self.tree.root, self.targets[index], self.tree.proof(index), reason=reason)


def anchor(s: Setup, doc_type: str = PROPERTY_CERTIFICATE, key: LocalAccount | None = None) -> Batch:
    tree, targets = s.world.anchor_batch(4, key=key or s.world.natres_key, doc_type=doc_type)
    return Batch(tree, targets)


def supersede(current: Certificate, successor: Certificate) -> StatusChange:
    return StatusChange(
        Action.SUPERSEDE,
        current.root,
        current.target,
        list(current.proof),
        successor_root=successor.root,
        successor=successor.target,
        successor_proof=list(successor.proof),
        reason=5,
    )


def register(s: Setup, unit: bytes = unit_of(UNIT_NUMBER)) -> tuple[bytes, Batch]:
    """``unit`` registered to SELLERS with document 2 of a fresh NATRES batch as its title."""
    batch = anchor(s)
    s.prop.register_unit(s.natres, unit, batch.certificate(), owners(SELLERS, (6000, 4000)))
    return unit, batch


def transfer(s: Setup, unit: bytes) -> tuple[int, Certificate]:
    """A transfer of ``unit`` to BUYER, approved by NATRES, TAX and HOUSING."""
    case_id, new = s.open(unit)
    for role in (Role.NATRES, Role.TAX, Role.HOUSING):
        s.approve(case_id, role)
    return case_id, new


def locked(s: Setup, cert: Certificate, department: bytes = NATRES) -> bool:
    return s.world.registry.document_status(department, cert.root, cert.target).title_locked


def relay(s: Setup, sender: TransactionSender, call: PropertyCall) -> Receipt:
    """``call`` signed by ``sender``'s key and submitted by a relayer that is no department key."""
    signed = sign_action(
        sender.account,
        chain_id=s.world.chain_id,
        registry=s.prop.address,
        data=s.prop.calldata(call),
        nonce=int.from_bytes(os.urandom(8), "big"),
        deadline=s.world.now() + 3600,
    )
    return s.prop.execute_signed(s.world.sender(s.world.new_account()), signed)


def new_department(
    s: Setup, dept: bytes, name: str, code: str, roles: Role, doc_types: Sequence[str] = ()
) -> TransactionSender:
    """One more department with a key and the document types it may issue (one proposal)."""
    world = s.world
    g = gov(world)
    with g.batch():
        world.registry.register_department(g, dept, name, code, roles)
        authorize(s, dept, doc_types)
        key = add_key(world, dept)
    return world.sender(key)


def authorize(s: Setup, dept: bytes, doc_types: Sequence[str]) -> None:
    g = gov(s.world)
    with g.batch():
        for doc_type in doc_types:
            s.world.registry.authorize_document_type(g, dept, type_id(doc_type))


# ----------------------------------------------------------------- the all-roles department


@pytest.mark.parametrize(
    "roles",
    [
        Role.NATRES | Role.TAX | Role.HOUSING,
        Role.NATRES | Role.TAX | Role.HOUSING | Role.COURT | Role.BANK,
        Role.NATRES | Role.TAX,
        Role.TAX | Role.HOUSING | Role.BANK,
    ],
    ids=lambda r: str(int(r)),
)
def test_no_department_is_registered_or_set_with_two_approving_roles(s: Setup, roles: Role) -> None:
    world = s.world
    registry = world.registry
    all_in_one = department_id("LA-ONE-STOP")
    expect_revert(
        lambda: registry.register_department(
            gov(world), all_in_one, "六安市一站式登记中心", "11341500MB000000AK", roles
        ),
        "IssuerRegistryConflictingRoles",
        roles=int(roles),
    )
    assert all_in_one not in registry.department_ids()
    for dept, held in ((NATRES, Role.NATRES), (TAX, Role.TAX), (HOUSING, Role.HOUSING)):
        expect_revert(
            lambda dept=dept: registry.set_department_roles(gov(world), dept, roles),
            "IssuerRegistryConflictingRoles",
            roles=int(roles),
        )
        assert registry.department(dept).roles == held


def test_no_single_department_finalizes_a_transfer(s: Setup) -> None:
    unit, batch = register(s)
    case_id, _ = s.open(unit)
    s.approve(case_id, Role.NATRES)
    # NATRES cannot approve for the roles it does not hold, one at a time or all at once ...
    for role in (Role.TAX, Role.HOUSING):
        expect_revert(
            lambda role=role: s.prop.approve_transfer(s.natres, case_id, 1, role),
            "PropertyRegistryUnauthorized",
            department=NATRES,
            roles=int(role),
        )
    expect_revert(
        lambda: s.prop.approve_transfer(s.natres, case_id, 1, Role.NATRES | Role.TAX | Role.HOUSING),
        "PropertyRegistryInvalidApprovalRoles",
        roles=int(Role.NATRES | Role.TAX | Role.HOUSING),
    )
    # ... nor approve twice.
    expect_revert(
        lambda: s.approve(case_id, Role.NATRES), "PropertyRegistryAlreadyApproved", caseId=case_id, department=NATRES
    )
    case = s.prop.transfer_case(case_id)
    assert case.state == CaseState.OPEN and case.approved_roles == Role.NATRES
    assert s.prop.unit_state(unit).cert_target == batch.certificate().target


def test_three_approvals_come_from_three_departments(s: Setup) -> None:
    world = s.world
    unit, _ = register(s)
    case_id, new = s.open(unit)
    s.approve(case_id, Role.TAX)
    expect_revert(
        lambda: s.approve(case_id, Role.TAX), "PropertyRegistryAlreadyApproved", caseId=case_id, department=TAX
    )
    # TAX, given HOUSING instead of TAX in the middle of the case, still counts once.
    world.registry.set_department_roles(gov(world), TAX, Role.HOUSING)
    expect_revert(
        lambda: s.prop.approve_transfer(s.tax, case_id, 1, Role.HOUSING),
        "PropertyRegistryAlreadyApproved",
        caseId=case_id,
        department=TAX,
    )
    # A second tax department cannot approve the role already approved.
    expect_revert(
        lambda: s.prop.approve_transfer(s.other_tax, case_id, 1, Role.TAX),
        "PropertyRegistryRoleAlreadyApproved",
        caseId=case_id,
        role=int(Role.TAX),
    )
    s.approve(case_id, Role.HOUSING)
    assert s.prop.transfer_case(case_id).state == CaseState.OPEN
    s.approve(case_id, Role.NATRES)
    case = s.prop.transfer_case(case_id)
    assert case.state == CaseState.FINALIZED
    approvers = (case.natres_approver, case.tax_approver, case.housing_approver)
    assert approvers == (NATRES, TAX, HOUSING) and len(set(approvers)) == 3
    assert s.prop.unit_state(unit).cert_target == new.target


# --------------------------------------------------------------------- the direct title revoke


@pytest.mark.parametrize("action", [Action.REVOKE, Action.SUSPEND, Action.SUPERSEDE], ids=lambda a: a.name)
def test_natres_cannot_change_a_current_title_directly(s: Setup, action: Action) -> None:
    world = s.world
    unit, batch = register(s)
    title = batch.certificate()
    change = supersede(title, anchor(s).certificate()) if action == Action.SUPERSEDE else batch.change(action)
    expect_revert(
        lambda: world.registry.change_status(s.natres, change),
        "DocumentRegistryTitleLocked",
        root=title.root,
        targetHash=title.target,
    )
    # Nor signed and relayed.
    signed = world.sign_change(change, key=world.natres_key)
    expect_revert(
        lambda: world.registry.change_status_signed(world.sender(world.relayer), signed),
        "DocumentRegistryTitleLocked",
        root=title.root,
        targetHash=title.target,
    )
    status = world.registry.document_status(NATRES, title.root, title.target)
    assert status.effective_state == State.ACTIVE and status.title_locked
    assert world.registry.status_history_length(NATRES, title.root, title.target) == 0
    assert s.prop.unit_state(unit).cert_target == title.target


@pytest.mark.parametrize("action", [Action.REVOKE, Action.SUSPEND])
def test_the_batch_holding_a_title_cannot_be_changed_whole(s: Setup, action: Action) -> None:
    world = s.world
    _, batch = register(s)
    expect_revert(
        lambda: world.registry.change_status(s.natres, batch.change(action, None)),
        "DocumentRegistryTitleLocked",
        root=batch.root,
        targetHash=ZERO32,
    )
    # The lock is the title's: the other documents of the batch change as before.
    world.registry.change_status(s.natres, batch.change(action, 0))
    assert world.registry.document_status(NATRES, batch.root, batch.targets[0]).document.state != State.ACTIVE
    expect_revert(
        lambda: world.registry.change_status(s.natres, batch.change(action, None)),
        "DocumentRegistryTitleLocked",
        root=batch.root,
        targetHash=ZERO32,
    )
    assert world.registry.document_status(NATRES, batch.root).batch.state == State.ACTIVE


@pytest.mark.parametrize(
    "action,index",
    [(Action.SUSPEND, 2), (Action.SUSPEND, None), (Action.REVOKE, 2), (Action.REVOKE, None)],
    ids=["suspend-title", "suspend-batch", "revoke-title", "revoke-batch"],
)
def test_governance_cannot_change_a_current_title_either(s: Setup, action: Action, index: int | None) -> None:
    """A suspension runs at once (Immediate proposal), a revocation through the time lock: both refused."""
    world = s.world
    _, batch = register(s)
    change = batch.change(action, index, reason=6)
    expect_revert(
        lambda: world.registry.govern_change_status(gov(world), NATRES, change),
        "DocumentRegistryTitleLocked",
        root=batch.root,
        targetHash=change.target_hash,
    )
    expected = ProposalKind.IMMEDIATE if action == Action.SUSPEND else ProposalKind.SCHEDULED
    last = gov(world).last_proposal
    assert last is not None and last.kind == expected
    title = batch.certificate()
    status = world.registry.document_status(NATRES, title.root, title.target)
    assert status.effective_state == State.ACTIVE and status.title_locked


def test_after_a_transfer_the_old_certificate_is_released_and_the_new_one_locked(s: Setup) -> None:
    world = s.world
    unit, batch = register(s)
    old = batch.certificate()
    _, new = transfer(s, unit)
    old_status = world.registry.document_status(NATRES, old.root, old.target)
    assert old_status.document.state == State.SUPERSEDED and old_status.document.reason == REASON_TRANSFERRED
    assert not old_status.title_locked and locked(s, new)
    # The new title is locked, document and batch ...
    expect_revert(
        lambda: world.registry.change_status(
            s.natres, StatusChange(Action.REVOKE, new.root, new.target, list(new.proof))
        ),
        "DocumentRegistryTitleLocked",
        root=new.root,
        targetHash=new.target,
    )
    expect_revert(
        lambda: world.registry.change_status(s.natres, StatusChange(Action.SUSPEND, new.root)),
        "DocumentRegistryTitleLocked",
        root=new.root,
        targetHash=ZERO32,
    )
    # ... the old one is history, and its batch is free again.
    world.registry.change_status(s.natres, batch.change(Action.REVOKE, None))
    assert world.registry.document_status(NATRES, old.root).batch.state == State.REVOKED
    state = s.prop.unit_state(unit)
    assert state.cert_target == new.target and state.owners == (Owner(BUYER.commitment, 10_000),)


# ------------------------------------------------------------------------ correction (更正登记)


@pytest.mark.parametrize("second", ["tax", "housing", "court"])
def test_correction_replaces_the_title(s: Setup, second: str) -> None:
    world = s.world
    approver = getattr(s, second)
    approver_id = {"tax": TAX, "housing": HOUSING, "court": COURT}[second]
    unit, batch = register(s)
    old = batch.certificate()
    corrected = anchor(s).certificate()
    new_owners = owners(CORRECTED_BUYERS, (7000, 3000))
    receipt, case_id = s.prop.open_correction(s.natres, unit, corrected, new_owners, ISSUED_IN_ERROR)
    opened = s.prop.receipt_event(receipt, "CorrectionOpened")
    assert (opened["department"], opened["certTarget"], opened["reason"]) == (NATRES, corrected.target, ISSUED_IN_ERROR)
    # Nothing changes before the second department approves.
    state = s.prop.unit_state(unit)
    assert state.cert_target == old.target and state.owners == tuple(owners(SELLERS, (6000, 4000)))
    assert state.open_case is not None and state.open_case.kind == CaseKind.CORRECTION
    assert locked(s, old) and not locked(s, corrected)

    receipt = s.prop.approve_correction(approver, case_id)
    assert s.prop.receipt_event(receipt, "CorrectionApproved") == {
        "unitId": unit,
        "caseId": case_id,
        "department": approver_id,
    }
    assert s.prop.receipt_event(receipt, "TitleCorrected") == {
        "unitId": unit,
        "caseId": case_id,
        "certTarget": corrected.target,
        "certRoot": corrected.root,
        "previousRoot": old.root,
        "previousTarget": old.target,
    }
    superseded = one_event(world, receipt, "DocumentSuperseded")
    assert superseded["actor"] == ZERO32 and same_address(superseded["signer"], s.prop.address)
    assert superseded["reason"] == REASON_CORRECTED
    assert one_event(world, receipt, "TitleLocked")["targetHash"] == corrected.target
    old_status = world.registry.document_status(NATRES, old.root, old.target)
    assert old_status.document.state == State.SUPERSEDED and old_status.document.reason == REASON_CORRECTED
    assert old_status.successor == corrected.target and not old_status.title_locked
    assert locked(s, corrected)
    state = s.prop.unit_state(unit)
    assert (state.cert_root, state.cert_target) == (corrected.root, corrected.target)
    assert state.owners == tuple(new_owners) and state.open_case is None
    case = s.prop.transfer_case(case_id)
    assert (case.kind, case.state, case.reason) == (CaseKind.CORRECTION, CaseState.FINALIZED, ISSUED_IN_ERROR)
    # The corrected title is as locked as any.
    expect_revert(
        lambda: world.registry.change_status(s.natres, supersede(corrected, anchor(s).certificate())),
        "DocumentRegistryTitleLocked",
        root=corrected.root,
    )


def test_correction_needs_a_second_department(s: Setup) -> None:
    world = s.world
    unit, batch = register(s)
    _, case_id = s.prop.open_correction(
        s.natres, unit, anchor(s).certificate(), owners((BUYER,), (10_000,)), ISSUED_IN_ERROR
    )
    expect_revert(
        lambda: s.prop.approve_correction(s.natres, case_id),
        "PropertyRegistryAlreadyApproved",
        caseId=case_id,
        department=NATRES,
    )
    for sender, dept in ((s.bank, BANK), (world.sender(world.samr_key), SAMR)):
        expect_revert(
            lambda sender=sender: s.prop.approve_correction(sender, case_id),
            "PropertyRegistryUnauthorized",
            department=dept,
            roles=int(CORRECTION_ROLES),
        )
    stranger = world.sender(world.new_account())
    expect_revert(
        lambda: s.prop.approve_correction(stranger, case_id), "PropertyRegistryUnknownKey", account=stranger.address
    )
    # Only NATRES opens one.
    expect_revert(
        lambda: s.prop.open_correction(s.tax, unit, anchor(s).certificate(), owners((BUYER,), (10_000,)), 1),
        "PropertyRegistryUnauthorized",
        department=TAX,
        roles=int(Role.NATRES),
    )
    assert s.prop.transfer_case(case_id).state == CaseState.OPEN
    assert s.prop.unit_state(unit).cert_target == batch.certificate().target


def test_correction_revoking_the_title_unregisters_the_unit(s: Setup) -> None:
    world = s.world
    unit, batch = register(s)
    old = batch.certificate()
    expect_revert(
        lambda: s.prop.open_correction(s.natres, unit, None, owners((BUYER,), (10_000,)), ISSUED_IN_ERROR),
        "PropertyRegistryInvalidOwnerCount",
        count=1,
    )
    receipt, case_id = s.prop.open_correction(s.natres, unit, None, [], 2)
    assert s.prop.receipt_event(receipt, "CorrectionOpened")["certTarget"] == ZERO32
    receipt = s.prop.approve_correction(s.housing, case_id)
    assert s.prop.receipt_event(receipt, "TitleCorrected") == {
        "unitId": unit,
        "caseId": case_id,
        "certTarget": ZERO32,
        "certRoot": ZERO32,
        "previousRoot": old.root,
        "previousTarget": old.target,
    }
    revoked = one_event(world, receipt, "DocumentRevoked")
    assert (revoked["department"], revoked["root"], revoked["targetHash"]) == (NATRES, old.root, old.target)
    assert revoked["actor"] == ZERO32 and same_address(revoked["signer"], s.prop.address)
    assert revoked["reason"] == REASON_CORRECTED
    status = world.registry.document_status(NATRES, old.root, old.target)
    assert status.document.state == State.REVOKED and status.document.reason == REASON_CORRECTED
    assert not status.title_locked
    assert not s.prop.unit_state(unit).registered
    assert s.prop.transfer_case(case_id).state == CaseState.FINALIZED
    # The unit has no title: no case opens ...
    expect_revert(lambda: s.open(unit), "PropertyRegistryUnknownUnit", unitId=unit)
    # ... the revoked certificate cannot come back ...
    expect_revert(
        lambda: s.prop.register_unit(s.natres, unit, old, owners(SELLERS, (6000, 4000))),
        "PropertyRegistryCertificateNotActive",
        root=old.root,
        targetHash=old.target,
    )
    # ... and it is registered again with a new certificate.
    again = anchor(s).certificate()
    s.prop.register_unit(s.natres, unit, again, owners((BUYER,), (10_000,)))
    state = s.prop.unit_state(unit)
    assert state.registered and state.cert_target == again.target and locked(s, again)
    assert state.owners == (Owner(BUYER.commitment, 10_000),)


def test_council_approves_a_correction_through_the_time_lock(s: Setup) -> None:
    world = s.world
    unit, batch = register(s)
    old = batch.certificate()
    corrected = anchor(s).certificate()
    _, case_id = s.prop.open_correction(s.natres, unit, corrected, owners((BUYER,), (10_000,)), 4)
    call = s.prop.approve_correction_call(case_id)
    # The council itself (an Immediate proposal) is no department and not the time lock.
    expect_revert(
        lambda: gov(world).run([call], kind=ProposalKind.IMMEDIATE),
        "PropertyRegistryUnknownKey",
        account=world.council.address,
    )
    assert s.prop.unit_state(unit).cert_target == old.target
    start = world.now()
    receipt = gov(world).run([call])
    assert receipt is not None
    last = gov(world).last_proposal
    assert last is not None and last.kind == ProposalKind.SCHEDULED
    assert block_time(world, receipt) >= start + world.council.min_delay()
    assert s.prop.receipt_event(receipt, "CorrectionApproved")["department"] == ZERO32
    assert s.prop.receipt_event(receipt, "TitleCorrected")["certTarget"] == corrected.target
    assert s.prop.unit_state(unit).cert_target == corrected.target
    assert s.status(old) == State.SUPERSEDED
    assert s.prop.transfer_case(case_id).state == CaseState.FINALIZED


def test_transfer_steps_do_not_apply_to_a_correction(s: Setup) -> None:
    unit, _ = register(s)
    _, case_id = s.prop.open_correction(
        s.natres, unit, anchor(s).certificate(), owners((BUYER,), (10_000,)), ISSUED_IN_ERROR
    )
    for role in (Role.NATRES, Role.TAX, Role.HOUSING):
        expect_revert(
            lambda role=role: s.approve(case_id, role),
            "PropertyRegistryWrongCaseKind",
            caseId=case_id,
            kind=int(CaseKind.CORRECTION),
        )
    expect_revert(
        lambda: s.prop.return_transfer(s.tax, case_id, 10),
        "PropertyRegistryWrongCaseKind",
        caseId=case_id,
        kind=int(CaseKind.CORRECTION),
    )
    assert s.prop.transfer_case(case_id).approved_roles == Role.NONE
    # Nor does a correction's approval apply to a transfer.
    s.prop.cancel_transfer(s.natres, case_id, 3)
    transfer_id, _ = s.open(unit)
    expect_revert(
        lambda: s.prop.approve_correction(s.tax, transfer_id),
        "PropertyRegistryWrongCaseKind",
        caseId=transfer_id,
        kind=int(CaseKind.TRANSFER),
    )


def test_one_case_at_a_time_whatever_its_kind(s: Setup) -> None:
    unit, _ = register(s)
    one = owners((BUYER,), (10_000,))
    _, correction = s.prop.open_correction(s.natres, unit, anchor(s).certificate(), one, ISSUED_IN_ERROR)
    expect_revert(lambda: s.open(unit), "PropertyRegistryCaseAlreadyOpen", unitId=unit, caseId=correction)
    expect_revert(
        lambda: s.prop.open_correction(s.natres, unit, anchor(s).certificate(), one, ISSUED_IN_ERROR),
        "PropertyRegistryCaseAlreadyOpen",
        unitId=unit,
        caseId=correction,
    )
    s.prop.approve_correction(s.court, correction)
    transfer_id, _ = s.open(unit)
    assert transfer_id == correction + 1
    expect_revert(
        lambda: s.prop.open_correction(s.natres, unit, None, [], ISSUED_IN_ERROR),
        "PropertyRegistryCaseAlreadyOpen",
        unitId=unit,
        caseId=transfer_id,
    )


def test_correction_steps_relayed(s: Setup) -> None:
    unit, batch = register(s)
    corrected = anchor(s).certificate()
    call = PropertyCall.open_correction(unit, corrected, owners(CORRECTED_BUYERS, (5000, 5000)), ISSUED_IN_ERROR)
    receipt = relay(s, s.natres, call)
    opened = s.prop.receipt_event(receipt, "CorrectionOpened")
    assert opened["department"] == NATRES
    case_id = int(opened["caseId"])
    expect_revert(
        lambda: relay(s, s.natres, PropertyCall.approve_correction(case_id)),
        "PropertyRegistryAlreadyApproved",
        caseId=case_id,
        department=NATRES,
    )
    expect_revert(
        lambda: relay(s, s.bank, PropertyCall.approve_correction(case_id)),
        "PropertyRegistryUnauthorized",
        department=BANK,
    )
    receipt = relay(s, s.tax, PropertyCall.approve_correction(case_id))
    assert s.prop.receipt_event(receipt, "CorrectionApproved")["department"] == TAX
    assert s.prop.receipt_event(receipt, "SignedActionExecuted")["signer"] == s.tax.address
    state = s.prop.unit_state(unit)
    assert state.cert_target == corrected.target
    assert state.owners == tuple(owners(CORRECTED_BUYERS, (5000, 5000)))
    assert s.status(batch.certificate()) == State.SUPERSEDED


def test_a_seized_units_title_is_corrected_only_by_the_council(s: Setup) -> None:
    world = s.world
    unit, _ = register(s)
    corrected = anchor(s).certificate()
    _, case_id = s.prop.open_correction(s.natres, unit, corrected, owners((BUYER,), (10_000,)), ISSUED_IN_ERROR)
    s.prop.register_seizure(s.court, unit, os.urandom(32))
    for sender in (s.tax, s.housing, s.court):
        expect_revert(
            lambda sender=sender: s.prop.approve_correction(sender, case_id),
            "PropertyRegistryUnitSeized",
            unitId=unit,
            active=1,
        )
    assert s.prop.transfer_case(case_id).state == CaseState.OPEN
    gov(world).run([s.prop.approve_correction_call(case_id)])
    state = s.prop.unit_state(unit)
    assert state.cert_target == corrected.target and state.seized


# ---------------------------------------------------------------------------------- mortgages


def test_an_active_mortgages_certificate_serves_no_other_mortgage(s: Setup) -> None:
    """While it evidences a mortgage the certificate is locked: no bank, unit or second use."""
    unit, _ = register(s)
    other, _ = register(s, OTHER_UNIT)
    cert = anchor(s, MORTGAGE_CERTIFICATE).certificate()
    receipt, mortgage_id = s.prop.register_mortgage(s.bank, unit, cert)
    lock = one_event(s.world, receipt, "TitleLocked")
    assert lock == {"department": NATRES, "root": cert.root, "targetHash": cert.target}
    for sender, target in ((s.other_bank, unit), (s.bank, unit), (s.bank, other), (s.other_bank, other)):
        expect_revert(
            lambda sender=sender, target=target: s.prop.register_mortgage(sender, target, cert),
            "PropertyRegistryMortgageCertificateUsed",
            root=cert.root,
            targetHash=cert.target,
        )
    assert [m.id for m in s.prop.unit_state(unit).mortgages] == [mortgage_id]
    assert s.prop.unit_state(other).mortgages == ()


@pytest.mark.parametrize("second", ["other-bank", "other-unit", "same-unit"])
def test_a_mortgage_certificate_is_used_once_ever(s: Setup, second: str) -> None:
    """Even when neither its lock nor its revocation stands in the way any more: the certificate's
    anchor was voided (its key retired, backdated, by the council) and NATRES anchored the genuine
    root again, a fresh record, active and unlocked."""
    world = s.world
    unit, _ = register(s)
    other, _ = register(s, OTHER_UNIT)
    compromised = add_key(world, NATRES)
    batch = anchor(s, MORTGAGE_CERTIFICATE, key=compromised)
    cert = batch.certificate()
    anchored_at = world.registry.document_status(NATRES, cert.root).anchored_at
    _, mortgage_id = s.prop.register_mortgage(s.bank, unit, cert)
    s.prop.release_mortgage(s.bank, unit, mortgage_id)
    world.registry.retire_signer_key(gov(world), compromised.address, anchored_at - 1)
    world.registry.anchor(s.natres, batch.root, type_id(MORTGAGE_CERTIFICATE), 4)
    fresh = world.registry.document_status(NATRES, cert.root, cert.target)
    assert fresh.anchored_at > anchored_at and fresh.effective_state == State.ACTIVE and not fresh.title_locked
    sender, target = {
        "other-bank": (s.other_bank, unit),
        "other-unit": (s.bank, other),
        "same-unit": (s.bank, unit),
    }[second]
    expect_revert(
        lambda: s.prop.register_mortgage(sender, target, cert),
        "PropertyRegistryMortgageCertificateUsed",
        root=cert.root,
        targetHash=cert.target,
    )
    assert len(s.prop.mortgage_history(unit)) == 1 and not s.prop.mortgage_history(other)


def test_mortgage_certificate_comes_from_the_titles_issuer(s: Setup) -> None:
    world = s.world
    unit, _ = register(s)
    # A bank anchoring its own mortgage certificate: anchored, but in the bank's records.
    authorize(s, BANK, (MORTGAGE_CERTIFICATE,))
    own = anchor(s, MORTGAGE_CERTIFICATE, key=s.bank.account)
    assert world.registry.document_status(BANK, own.root).anchored
    expect_revert(
        lambda: s.prop.register_mortgage(s.bank, unit, own.certificate()),
        "PropertyRegistryCertificateNotAnchored",
        root=own.root,
        targetHash=own.targets[2],
    )
    # Another registration department's certificate is not the unit's issuer's either ...
    other_natres = new_department(
        s,
        OTHER_NATRES,
        "济南市自然资源和规划局",
        "11370100MB000000BL",
        Role.NATRES,
        (PROPERTY_CERTIFICATE, MORTGAGE_CERTIFICATE),
    )
    foreign = anchor(s, MORTGAGE_CERTIFICATE, key=other_natres.account)
    expect_revert(
        lambda: s.prop.register_mortgage(s.bank, unit, foreign.certificate()),
        "PropertyRegistryCertificateNotAnchored",
        root=foreign.root,
        targetHash=foreign.targets[2],
    )
    # ... though it is for the units it registered.
    other = OTHER_UNIT
    title = anchor(s, key=other_natres.account).certificate()
    s.prop.register_unit(other_natres, other, title, owners((BUYER,), (10_000,)))
    natres_cert = anchor(s, MORTGAGE_CERTIFICATE).certificate()
    expect_revert(
        lambda: s.prop.register_mortgage(s.bank, other, natres_cert),
        "PropertyRegistryCertificateNotAnchored",
        root=natres_cert.root,
    )
    _, mortgage_id = s.prop.register_mortgage(s.bank, other, foreign.certificate())
    assert locked(s, foreign.certificate(), OTHER_NATRES)
    assert [(m.id, m.cert_target) for m in s.prop.unit_state(other).mortgages] == [(mortgage_id, foreign.targets[2])]
    # And a property certificate is no mortgage certificate.
    expect_revert(
        lambda: s.prop.register_mortgage(s.bank, unit, anchor(s).certificate()),
        "PropertyRegistryCertificateWrongType",
        docType=type_id(PROPERTY_CERTIFICATE),
    )


def test_mortgage_certificate_locked_while_active_and_revoked_on_release(s: Setup) -> None:
    world = s.world
    unit, _ = register(s)
    batch = anchor(s, MORTGAGE_CERTIFICATE)
    cert = batch.certificate()
    _, mortgage_id = s.prop.register_mortgage(s.bank, unit, cert)
    assert locked(s, cert)
    for change in (batch.change(Action.REVOKE), batch.change(Action.SUSPEND), batch.change(Action.REVOKE, None)):
        expect_revert(
            lambda change=change: world.registry.change_status(s.natres, change),
            "DocumentRegistryTitleLocked",
            root=cert.root,
            targetHash=change.target_hash,
        )
    expect_revert(
        lambda: world.registry.govern_change_status(gov(world), NATRES, batch.change(Action.SUSPEND)),
        "DocumentRegistryTitleLocked",
        root=cert.root,
        targetHash=cert.target,
    )
    # The bank's release revokes it (reason 10) and lifts the lock.
    receipt = s.prop.release_mortgage(s.bank, unit, mortgage_id)
    revoked = one_event(world, receipt, "DocumentRevoked")
    assert revoked["reason"] == REASON_MORTGAGE_RELEASED and revoked["actor"] == ZERO32
    status = world.registry.document_status(NATRES, cert.root, cert.target)
    assert status.document.state == State.REVOKED and status.document.reason == REASON_MORTGAGE_RELEASED
    assert status.document.changed_by == ZERO32 and not status.title_locked
    # It evidences no mortgage again, for any bank or unit.
    other, _ = register(s, OTHER_UNIT)
    for sender, target in ((s.bank, unit), (s.other_bank, unit), (s.bank, other)):
        expect_revert(
            lambda sender=sender, target=target: s.prop.register_mortgage(sender, target, cert),
            "PropertyRegistryMortgageCertificateUsed",
            root=cert.root,
            targetHash=cert.target,
        )
    # The rest of its batch is free.
    world.registry.change_status(s.natres, batch.change(Action.REVOKE, None))
    assert world.registry.document_status(NATRES, batch.root).batch.state == State.REVOKED


# --------------------------------------------------------------------- one title, one unit


def test_a_units_title_cannot_be_another_units_title(s: Setup) -> None:
    unit, batch = register(s)
    title = batch.certificate()
    one = owners((BUYER,), (10_000,))
    expect_revert(
        lambda: s.prop.register_unit(s.natres, OTHER_UNIT, title, one),
        "PropertyRegistryCertificateInUse",
        root=title.root,
        targetHash=title.target,
    )
    other, other_batch = register(s, OTHER_UNIT)
    expect_revert(
        lambda: s.prop.open_transfer(s.natres, other, title, one),
        "PropertyRegistryCertificateInUse",
        root=title.root,
        targetHash=title.target,
    )
    expect_revert(
        lambda: s.prop.open_correction(s.natres, other, title, one, ISSUED_IN_ERROR),
        "PropertyRegistryCertificateInUse",
        root=title.root,
        targetHash=title.target,
    )
    # Another document of the title's batch is a certificate of its own.
    case_id, _ = s.open(other)
    s.prop.cancel_transfer(s.natres, case_id, 3)
    s.prop.open_transfer(s.natres, other, batch.certificate(0), one)
    assert s.prop.unit_state(other).cert_target == other_batch.certificate().target
    assert s.prop.unit_state(unit).cert_target == title.target and locked(s, title)


def test_one_proposed_certificate_cannot_become_two_titles(s: Setup) -> None:
    """Two cases may propose the same new certificate (it is no title yet); the second to take
    effect must not make it the title of a second unit."""
    unit, _ = register(s)
    other, other_batch = register(s, OTHER_UNIT)
    shared = anchor(s).certificate()
    one = owners((BUYER,), (10_000,))
    _, first = s.prop.open_transfer(s.natres, unit, shared, one)
    _, second = s.prop.open_transfer(s.natres, other, shared, one)
    for role in (Role.NATRES, Role.TAX, Role.HOUSING):
        s.approve(first, role)
    assert s.prop.unit_state(unit).cert_target == shared.target and locked(s, shared)
    s.approve(second, Role.NATRES)
    s.approve(second, Role.TAX)
    # Refused by the DocumentRegistry: a locked certificate is no successor.
    expect_revert(
        lambda: s.approve(second, Role.HOUSING),
        "DocumentRegistryInvalidSuccessor",
        successorRoot=shared.root,
        successor=shared.target,
    )
    assert s.prop.unit_state(other).cert_target == other_batch.certificate().target
    assert s.prop.transfer_case(second).state == CaseState.OPEN
    # Likewise a correction proposing it, and a unit registered with it.
    s.prop.cancel_transfer(s.natres, second, 3)
    spare = anchor(s).certificate()
    _, again = s.prop.open_correction(s.natres, other, spare, one, ISSUED_IN_ERROR)
    s.prop.register_unit(s.natres, unit_of("341502001001GB00003F00010001"), spare, one)
    expect_revert(
        lambda: s.prop.approve_correction(s.court, again),
        "DocumentRegistryInvalidSuccessor",
        successorRoot=spare.root,
        successor=spare.target,
    )
    assert s.prop.unit_state(other).cert_target == other_batch.certificate().target


# ------------------------------------------------- a title re-anchored after a compromised key

# Found while writing these tests: locks were kept per record, so a root anchored again after its
# key's backdated retirement started a fresh, unlocked record. Locks are now per (department, root,
# target).


def _reanchored_title(s: Setup) -> tuple[bytes, Batch]:
    """A unit whose title's batch was anchored by a NATRES key later retired, backdated, to before
    that anchor; NATRES then anchored the genuine root again."""
    world = s.world
    compromised = add_key(world, NATRES)
    batch = anchor(s, key=compromised)
    unit = unit_of(UNIT_NUMBER)
    s.prop.register_unit(s.natres, unit, batch.certificate(), owners(SELLERS, (6000, 4000)))
    anchored_at = world.registry.document_status(NATRES, batch.root).anchored_at
    world.registry.retire_signer_key(gov(world), compromised.address, anchored_at - 1)
    world.registry.anchor(s.natres, batch.root, type_id(PROPERTY_CERTIFICATE), 4)
    return unit, batch


def test_a_reanchored_title_stays_locked(s: Setup) -> None:
    world = s.world
    unit, batch = _reanchored_title(s)
    title = batch.certificate()
    assert s.prop.unit_state(unit).cert_target == title.target
    expect_revert(
        lambda: world.registry.change_status(s.natres, batch.change(Action.REVOKE)),
        "DocumentRegistryTitleLocked",
        root=title.root,
        targetHash=title.target,
    )


def test_a_unit_with_a_reanchored_title_still_transfers(s: Setup) -> None:
    unit, batch = _reanchored_title(s)
    _, new = transfer(s, unit)
    assert s.prop.unit_state(unit).cert_target == new.target
    assert s.status(batch.certificate()) == State.SUPERSEDED
