"""PropertyRegistry on the real node: registration, transfers with parallel approvals, mortgages,
seizures, the chain of title, and the DocumentRegistry's supersede hook it relies on.

Every test deploys a PropertyRegistry on the shared world's DocumentRegistry and adds the
departments of the property workflow (housing, two courts, two banks) with their keys.
"""

from __future__ import annotations

import itertools
import os
from typing import Any

import pytest
from hexbytes import HexBytes

from chain.governance import Call
from chain.property import PROPERTY_REGISTRY_ROLE, CaseState, Certificate, Owner, PropertyCall, PropertyClient, deploy_property_registry
from chain.types import (
    REASON_CORRECTED,
    REASON_MORTGAGE_RELEASED,
    REASON_TRANSFERRED,
    ZERO32,
    Action,
    Role,
    State,
    StatusChange,
    type_id,
)
from tests.contracts.helpers import gov, one_event, same_address
from tests.factories import BUSINESS_LICENSE, NATRES, SAMR, TAX, World, expect_revert
from tests.property_setup import BANK, BUYER, CORRECTED_BUYERS, COURT, GAS, HOUSING, MORTGAGE_CERTIFICATE, OTHER_BANK, OTHER_COURT, SELLERS, UNIT_NUMBER, Setup, make_setup, owners, unit_of

ZERO_ADDRESS = "0x" + "00" * 20


@pytest.fixture(name="s")
def _setup(world: World) -> Setup:
    """The world's PropertyRegistry and the workflow's departments (tests.property_setup)."""
    return make_setup(world)


# ---------------------------------------------------------------------------- the seed's case

ORDERS = list(itertools.permutations((Role.NATRES, Role.TAX, Role.HOUSING)))


@pytest.mark.parametrize("order", ORDERS, ids=lambda o: "-".join(r.name or "" for r in o))
def test_second_hand_flat_transferred_at_one_window(s: Setup, order: tuple[Role, Role, Role]) -> None:
    unit, old = s.register()
    case_id, new = s.open(unit)
    transactions = 1
    for step, role in enumerate(order, start=1):
        receipt = s.approve(case_id, role)
        transactions += 1
        GAS.setdefault(f"approveTransfer #{step}" + (" (finalizes)" if step == 3 else ""), receipt.gas_used)
        state = s.prop.unit_state(unit)
        if step < 3:
            assert state.cert_target == old.target
            assert state.open_case is not None and state.open_case.state == CaseState.OPEN
            assert s.status(old) == State.ACTIVE
            assert Role(state.open_case.approved_roles) & role
    assert transactions <= 5
    # The last approval finalized atomically: new certificate and owners current, old superseded.
    finalized = s.prop.receipt_event(receipt, "TransferFinalized")
    assert finalized["caseId"] == case_id and bytes(finalized["previousTarget"]) == old.target
    state = s.prop.unit_state(unit)
    assert (state.cert_root, state.cert_target) == (new.root, new.target)
    assert state.owners == (Owner(BUYER.commitment, 10_000),)
    assert state.open_case is None
    old_status = s.world.registry.document_status(NATRES, old.root, old.target)
    assert old_status.document.state == State.SUPERSEDED
    assert old_status.successor == new.target
    # Replaced by the PropertyRegistry (actor 0, no department key), in NATRES's record.
    assert old_status.document.changed_by == ZERO32
    assert old_status.document.signer == ZERO_ADDRESS
    assert old_status.document.reason == REASON_TRANSFERRED
    assert old_status.effective_state == State.SUPERSEDED
    assert not old_status.title_locked
    new_status = s.world.registry.document_status(NATRES, new.root, new.target)
    assert new_status.effective_state == State.ACTIVE and new_status.title_locked
    superseded = one_event(s.world, receipt, "DocumentSuperseded")
    assert (superseded["department"], superseded["root"], superseded["targetHash"]) == (NATRES, old.root, old.target)
    assert superseded["actor"] == ZERO32 and same_address(superseded["signer"], s.prop.address)
    assert (superseded["successorRoot"], superseded["successor"]) == (new.root, new.target)
    assert superseded["reason"] == REASON_TRANSFERRED
    assert one_event(s.world, receipt, "TitleLocked") == {
        "department": NATRES,
        "root": new.root,
        "targetHash": new.target,
    }
    case = s.prop.transfer_case(case_id)
    assert case.state == CaseState.FINALIZED
    assert (case.natres_approver, case.tax_approver, case.housing_approver) == (NATRES, TAX, HOUSING)


def test_chain_of_title_is_keyed_by_unit(s: Setup) -> None:
    unit, _ = s.register()
    other, _ = s.register(unit_of("341502001001GB00002F00010001"))
    case_id, _ = s.open(unit)
    for role in (Role.TAX, Role.HOUSING, Role.NATRES):
        s.approve(case_id, role)
    s.prop.open_transfer(s.natres, other, s.certificate(), owners((BUYER,), (10_000,)))
    names = [e.name for e in s.prop.history(unit)]
    assert names == [
        "UnitRegistered",
        "TransferOpened",
        "TransferApproved",
        "TransferApproved",
        "TransferApproved",
        "TransferFinalized",
    ]
    assert [e.name for e in s.prop.history(other)] == ["UnitRegistered", "TransferOpened"]


# ----------------------------------------------------------------- rejection, return, cancel


def test_rejection_closes_the_case_and_changes_nothing(s: Setup) -> None:
    unit, old = s.register()
    case_id, _ = s.open(unit)
    s.approve(case_id, Role.NATRES)
    receipt = s.prop.reject_transfer(s.tax, case_id, 2)
    event = s.prop.receipt_event(receipt, "TransferRejected")
    assert (bytes(event["department"]), event["reason"]) == (TAX, 2)
    state = s.prop.unit_state(unit)
    assert state.open_case is None and state.cert_target == old.target
    assert state.owners == tuple(owners(SELLERS, (6000, 4000)))
    assert s.status(old) == State.ACTIVE
    assert s.prop.transfer_case(case_id).state == CaseState.REJECTED
    expect_revert(
        lambda: s.approve(case_id, Role.HOUSING),
        "PropertyRegistryInvalidCaseState",
        caseId=case_id,
        state=int(CaseState.REJECTED),
    )
    expect_revert(lambda: s.prop.reject_transfer(s.housing, case_id, 2), "PropertyRegistryInvalidCaseState")
    # The unit is free for a new case.
    new_case, _ = s.open(unit)
    assert new_case == case_id + 1


def test_return_and_resubmit_clears_the_approvals(s: Setup) -> None:
    unit, old = s.register()
    case_id, _ = s.open(unit)
    s.approve(case_id, Role.TAX)
    s.approve(case_id, Role.HOUSING)
    s.prop.return_transfer(s.natres, case_id, 10)
    case = s.prop.transfer_case(case_id)
    assert case.state == CaseState.RETURNED
    expect_revert(
        lambda: s.approve(case_id, Role.NATRES),
        "PropertyRegistryInvalidCaseState",
        caseId=case_id,
        state=int(CaseState.RETURNED),
    )
    expect_revert(
        lambda: s.prop.resubmit_transfer(s.tax, case_id, s.certificate(), owners(CORRECTED_BUYERS, (5000, 5000))),
        "PropertyRegistryUnauthorized",
        department=TAX,
        roles=int(Role.NATRES),
    )
    corrected = s.certificate()
    receipt = s.prop.resubmit_transfer(s.natres, case_id, corrected, owners(CORRECTED_BUYERS, (5000, 5000)))
    assert s.prop.receipt_event(receipt, "TransferResubmitted")["round"] == 2
    case = s.prop.transfer_case(case_id)
    assert (case.state, case.round, case.approved_roles) == (CaseState.OPEN, 2, Role.NONE)
    assert case.tax_approver == b"\x00" * 32 and case.cert_target == corrected.target
    # An approval of the earlier round no longer counts.
    expect_revert(
        lambda: s.approve(case_id, Role.TAX, round_=1),
        "PropertyRegistryStaleRound",
        caseId=case_id,
        round=1,
        current=2,
    )
    for role in (Role.HOUSING, Role.NATRES):
        s.approve(case_id, role, round_=2)
    assert s.prop.unit_state(unit).cert_target == old.target  # two approvals of round 2 only
    s.approve(case_id, Role.TAX, round_=2)
    state = s.prop.unit_state(unit)
    assert state.cert_target == corrected.target
    assert state.owners == tuple(owners(CORRECTED_BUYERS, (5000, 5000)))
    assert s.world.registry.document_status(NATRES, old.root, old.target).successor == corrected.target


def test_cancel_by_natres_only(s: Setup) -> None:
    unit, _ = s.register()
    case_id, _ = s.open(unit)
    expect_revert(lambda: s.open(unit), "PropertyRegistryCaseAlreadyOpen", unitId=unit, caseId=case_id)
    expect_revert(
        lambda: s.prop.cancel_transfer(s.housing, case_id, 3),
        "PropertyRegistryUnauthorized",
        department=HOUSING,
        roles=int(Role.NATRES),
    )
    s.prop.cancel_transfer(s.natres, case_id, 3)
    assert s.prop.transfer_case(case_id).state == CaseState.CANCELLED
    assert s.prop.unit_state(unit).open_case is None
    expect_revert(lambda: s.prop.cancel_transfer(s.natres, case_id, 3), "PropertyRegistryInvalidCaseState")
    expect_revert(lambda: s.prop.transfer_case(99), "PropertyRegistryUnknownCase", caseId=99)


# ------------------------------------------------------------------- seizures and mortgages


def test_seizure_blocks_the_transfer_until_the_court_releases_it(s: Setup) -> None:
    unit, old = s.register()
    case_id, new = s.open(unit)
    s.approve(case_id, Role.TAX)
    s.approve(case_id, Role.HOUSING)
    ruling = os.urandom(32)
    receipt, seizure_id = s.prop.register_seizure(s.court, unit, ruling)
    GAS.setdefault("registerSeizure", receipt.gas_used)
    state = s.prop.unit_state(unit)
    assert state.seized and state.seizures[0].court == COURT and state.seizures[0].ruling == ruling
    expect_revert(lambda: s.approve(case_id, Role.NATRES), "PropertyRegistryUnitSeized", unitId=unit, active=1)
    # Nor does a mortgage register or a case open on a seized unit.
    expect_revert(
        lambda: s.prop.register_mortgage(s.bank, unit, s.certificate(MORTGAGE_CERTIFICATE)),
        "PropertyRegistryUnitSeized",
        unitId=unit,
    )
    expect_revert(
        lambda: s.prop.release_seizure(s.other_court, unit, seizure_id),
        "PropertyRegistryNotSeizingCourt",
        unitId=unit,
        seizureId=seizure_id,
        department=OTHER_COURT,
    )
    receipt = s.prop.release_seizure(s.court, unit, seizure_id)
    GAS.setdefault("releaseSeizure", receipt.gas_used)
    expect_revert(
        lambda: s.prop.release_seizure(s.court, unit, seizure_id),
        "PropertyRegistrySeizureReleased",
        unitId=unit,
        seizureId=seizure_id,
    )
    s.approve(case_id, Role.NATRES)
    assert s.prop.unit_state(unit).cert_target == new.target
    assert s.status(old) == State.SUPERSEDED
    history = s.prop.seizure_history(unit)
    assert len(history) == 1 and history[0].released_at != 0


def test_no_case_opens_on_a_seized_unit(s: Setup) -> None:
    unit, _ = s.register()
    s.prop.register_seizure(s.court, unit, os.urandom(32))
    s.prop.register_seizure(s.other_court, unit, os.urandom(32))  # 轮候查封: a second court
    expect_revert(lambda: s.open(unit), "PropertyRegistryUnitSeized", unitId=unit, active=2)
    expect_revert(lambda: s.prop.register_seizure(s.court, unit, b"\x00" * 32), "PropertyRegistryInvalidRuling")
    expect_revert(
        lambda: s.prop.register_seizure(s.bank, unit, os.urandom(32)),
        "PropertyRegistryUnauthorized",
        department=BANK,
        roles=int(Role.COURT),
    )


def test_mortgaged_unit_needs_the_banks_consent(s: Setup) -> None:
    unit, _ = s.register()
    mortgage_cert = s.certificate(MORTGAGE_CERTIFICATE)
    receipt, mortgage_id = s.prop.register_mortgage(s.bank, unit, mortgage_cert)
    GAS.setdefault("registerMortgage", receipt.gas_used)
    case_id, new = s.open(unit)
    s.approve(case_id, Role.TAX)
    s.approve(case_id, Role.HOUSING)
    expect_revert(
        lambda: s.approve(case_id, Role.NATRES),
        "PropertyRegistryMortgageNotConsented",
        unitId=unit,
        mortgageId=mortgage_id,
        bank=BANK,
    )
    expect_revert(
        lambda: s.prop.consent_to_transfer(s.other_bank, case_id, 1, mortgage_id),
        "PropertyRegistryNotMortgagee",
        unitId=unit,
        mortgageId=mortgage_id,
        department=OTHER_BANK,
    )
    receipt = s.prop.consent_to_transfer(s.bank, case_id, 1, mortgage_id)
    GAS.setdefault("consentToTransfer", receipt.gas_used)
    assert s.prop.unit_state(unit).mortgages[0].consented_to_open_case
    expect_revert(
        lambda: s.prop.consent_to_transfer(s.bank, case_id, 1, mortgage_id),
        "PropertyRegistryAlreadyConsented",
        caseId=case_id,
        mortgageId=mortgage_id,
    )
    s.approve(case_id, Role.NATRES)
    state = s.prop.unit_state(unit)
    assert state.cert_target == new.target
    # The mortgage follows the unit (带押过户): still registered, to the same bank, its certificate locked.
    assert [(m.id, m.bank, m.cert_target) for m in state.mortgages] == [(mortgage_id, BANK, mortgage_cert.target)]
    mortgage_status = s.world.registry.document_status(NATRES, mortgage_cert.root, mortgage_cert.target)
    assert mortgage_status.title_locked and mortgage_status.effective_state == State.ACTIVE


def test_mortgage_released_first_lets_the_transfer_through(s: Setup) -> None:
    unit, _ = s.register()
    mortgage_cert = s.certificate(MORTGAGE_CERTIFICATE)
    _, mortgage_id = s.prop.register_mortgage(s.bank, unit, mortgage_cert)
    assert s.world.registry.document_status(NATRES, mortgage_cert.root, mortgage_cert.target).title_locked
    case_id, new = s.open(unit)
    for role in (Role.TAX, Role.HOUSING):
        s.approve(case_id, role)
    expect_revert(
        lambda: s.prop.release_mortgage(s.other_bank, unit, mortgage_id),
        "PropertyRegistryNotMortgagee",
        department=OTHER_BANK,
    )
    receipt = s.prop.release_mortgage(s.bank, unit, mortgage_id)
    GAS.setdefault("releaseMortgage", receipt.gas_used)
    # The released mortgage's certificate is revoked by the PropertyRegistry, and unlocked.
    revoked = one_event(s.world, receipt, "DocumentRevoked")
    assert (revoked["department"], revoked["root"], revoked["targetHash"]) == (
        NATRES,
        mortgage_cert.root,
        mortgage_cert.target,
    )
    assert revoked["actor"] == ZERO32 and same_address(revoked["signer"], s.prop.address)
    assert revoked["reason"] == REASON_MORTGAGE_RELEASED
    released = s.world.registry.document_status(NATRES, mortgage_cert.root, mortgage_cert.target)
    assert released.document.state == State.REVOKED and released.document.reason == REASON_MORTGAGE_RELEASED
    assert not released.title_locked
    expect_revert(
        lambda: s.prop.release_mortgage(s.bank, unit, mortgage_id),
        "PropertyRegistryMortgageReleased",
        unitId=unit,
        mortgageId=mortgage_id,
    )
    s.approve(case_id, Role.NATRES)
    state = s.prop.unit_state(unit)
    assert state.cert_target == new.target and state.mortgages == ()
    assert [m.released_at != 0 for m in s.prop.mortgage_history(unit)] == [True]


def test_consent_counts_for_one_round(s: Setup) -> None:
    unit, _ = s.register()
    _, mortgage_id = s.prop.register_mortgage(s.bank, unit, s.certificate(MORTGAGE_CERTIFICATE))
    case_id, _ = s.open(unit)
    s.prop.consent_to_transfer(s.bank, case_id, 1, mortgage_id)
    s.prop.return_transfer(s.housing, case_id, 10)
    s.prop.resubmit_transfer(s.natres, case_id, s.certificate(), owners(CORRECTED_BUYERS, (5000, 5000)))
    assert not s.prop.unit_state(unit).mortgages[0].consented_to_open_case
    for role in (Role.TAX, Role.HOUSING):
        s.approve(case_id, role, round_=2)
    expect_revert(lambda: s.approve(case_id, Role.NATRES, round_=2), "PropertyRegistryMortgageNotConsented", bank=BANK)
    expect_revert(
        lambda: s.prop.consent_to_transfer(s.bank, case_id, 1, mortgage_id),
        "PropertyRegistryStaleRound",
        round=1,
        current=2,
    )
    s.prop.consent_to_transfer(s.bank, case_id, 2, mortgage_id)
    s.approve(case_id, Role.NATRES, round_=2)
    assert s.prop.transfer_case(case_id).state == CaseState.FINALIZED


# ----------------------------------------------------------------------- unauthorized actors


def test_bank_approving_as_tax_is_refused(s: Setup) -> None:
    unit, _ = s.register()
    case_id, _ = s.open(unit)
    expect_revert(
        lambda: s.prop.approve_transfer(s.bank, case_id, 1, Role.TAX),
        "PropertyRegistryUnauthorized",
        department=BANK,
        roles=int(Role.TAX),
    )
    expect_revert(
        lambda: s.prop.approve_transfer(s.bank, case_id, 1, Role.BANK),
        "PropertyRegistryInvalidApprovalRoles",
        roles=int(Role.BANK),
    )
    expect_revert(
        lambda: s.prop.approve_transfer(s.tax, case_id, 1, Role.TAX | Role.HOUSING),
        "PropertyRegistryInvalidApprovalRoles",
        roles=int(Role.TAX | Role.HOUSING),
    )
    expect_revert(
        lambda: s.prop.reject_transfer(s.court, case_id, 4),
        "PropertyRegistryUnauthorized",
        department=COURT,
    )


def test_department_approving_twice_is_refused(s: Setup) -> None:
    unit, _ = s.register()
    case_id, _ = s.open(unit)
    s.approve(case_id, Role.TAX)
    expect_revert(
        lambda: s.approve(case_id, Role.TAX), "PropertyRegistryAlreadyApproved", caseId=case_id, department=TAX
    )
    # Another tax department cannot approve the role a second time either.
    expect_revert(
        lambda: s.prop.approve_transfer(s.other_tax, case_id, 1, Role.TAX),
        "PropertyRegistryRoleAlreadyApproved",
        caseId=case_id,
        role=int(Role.TAX),
    )


@pytest.mark.parametrize(
    "roles", [Role.HOUSING | Role.TAX, Role.HOUSING | Role.NATRES, Role.NATRES | Role.TAX | Role.HOUSING]
)
def test_department_cannot_hold_two_approving_roles(s: Setup, roles: Role) -> None:
    world = s.world
    expect_revert(
        lambda: world.registry.set_department_roles(gov(world), HOUSING, roles),
        "IssuerRegistryConflictingRoles",
        roles=int(roles),
    )
    assert world.registry.department(HOUSING).roles == Role.HOUSING
    # A role outside the three may be added to an approving department.
    world.registry.set_department_roles(gov(world), HOUSING, Role.HOUSING | Role.COURT)
    assert world.registry.department(HOUSING).roles == Role.HOUSING | Role.COURT


@pytest.mark.parametrize(
    "roles",
    [
        Role.TAX | Role.HOUSING,
        Role.NATRES | Role.TAX,
        Role.NATRES | Role.HOUSING,
        Role.NATRES | Role.TAX | Role.HOUSING,
        Role.NONE,
        Role.HOUSING | Role.COURT,
    ],
)
def test_approval_names_exactly_one_role(s: Setup, roles: Role) -> None:
    unit, _ = s.register()
    case_id, _ = s.open(unit)
    for sender in (s.housing, s.natres):
        expect_revert(
            lambda sender=sender: s.prop.approve_transfer(sender, case_id, 1, roles),
            "PropertyRegistryInvalidApprovalRoles",
            roles=int(roles),
        )
    case = s.prop.transfer_case(case_id)
    assert case.approved_roles == Role.NONE and case.state == CaseState.OPEN


def test_court_releasing_another_courts_seizure_is_refused(s: Setup) -> None:
    unit, _ = s.register()
    _, seizure_id = s.prop.register_seizure(s.court, unit, os.urandom(32))
    expect_revert(
        lambda: s.prop.release_seizure(s.other_court, unit, seizure_id),
        "PropertyRegistryNotSeizingCourt",
        unitId=unit,
        seizureId=seizure_id,
        department=OTHER_COURT,
    )
    expect_revert(
        lambda: s.prop.release_seizure(s.court, unit, 7), "PropertyRegistryUnknownSeizure", unitId=unit, seizureId=7
    )
    assert s.prop.unit_state(unit).seized


def test_accounts_without_a_current_department_key_are_refused(s: Setup) -> None:
    world = s.world
    stranger = world.sender(world.new_account())
    expect_revert(
        lambda: s.prop.register_unit(stranger, unit_of(UNIT_NUMBER), s.certificate(), owners((BUYER,), (10_000,))),
        "PropertyRegistryUnknownKey",
        account=stranger.address,
    )
    unit, _ = s.register()
    case_id, _ = s.open(unit)
    expect_revert(lambda: s.prop.approve_transfer(stranger, case_id, 1, Role.TAX), "PropertyRegistryUnknownKey")
    # Governance holds no department key: neither the deployer nor the council's time lock can act
    # in the workflow.
    deployer = world.sender(world.governor)
    expect_revert(
        lambda: s.prop.approve_transfer(deployer, case_id, 1, Role.TAX),
        "PropertyRegistryUnknownKey",
        account=deployer.address,
    )
    approve = s.prop.calldata(PropertyCall.approve_transfer(case_id, 1, Role.TAX))
    expect_revert(
        lambda: gov(world).run([Call(s.prop.address, approve)]),
        "PropertyRegistryUnknownKey",
        account=world.council.timelock(),
    )
    # A key of a department without the role.
    samr = world.sender(world.samr_key)
    expect_revert(
        lambda: s.prop.open_transfer(samr, unit, s.certificate(), owners((BUYER,), (10_000,))),
        "PropertyRegistryUnauthorized",
        department=SAMR,
        roles=int(Role.NATRES),
    )
    # A retired key, and a key of a deactivated department.
    world.registry.retire_signer_key(gov(world), s.tax.address, world.now() - 10)
    expect_revert(lambda: s.approve(case_id, Role.TAX), "PropertyRegistryKeyNotValid", signer=s.tax.address)
    world.registry.set_department_active(gov(world), HOUSING, False)
    expect_revert(lambda: s.approve(case_id, Role.HOUSING), "PropertyRegistryDepartmentInactive", department=HOUSING)


# ---------------------------------------------------------------------- owners, certificates


@pytest.mark.parametrize("shares", [(6000, 3999), (6000, 4001), (5000, 5000, 1)])
def test_shares_not_summing_to_10000_are_refused(s: Setup, shares: tuple[int, ...]) -> None:
    people = (*SELLERS, BUYER)[: len(shares)]
    expect_revert(
        lambda: s.prop.register_unit(s.natres, unit_of(UNIT_NUMBER), s.certificate(), owners(people, shares)),
        "PropertyRegistryInvalidShares",
        total=sum(shares),
    )
    unit, _ = s.register()
    expect_revert(
        lambda: s.prop.open_transfer(s.natres, unit, s.certificate(), owners(people, shares)),
        "PropertyRegistryInvalidShares",
        total=sum(shares),
    )


def test_owners_must_be_distinct_non_zero_commitments(s: Setup) -> None:
    cert = s.certificate()
    unit = unit_of(UNIT_NUMBER)
    duplicate = [Owner(BUYER.commitment, 5000), Owner(BUYER.commitment, 5000)]
    expect_revert(
        lambda: s.prop.register_unit(s.natres, unit, cert, duplicate),
        "PropertyRegistryInvalidOwner",
        index=1,
        commitment=BUYER.commitment,
    )
    zero_share = [Owner(BUYER.commitment, 10_000), Owner(SELLERS[0].commitment, 0)]
    expect_revert(
        lambda: s.prop.register_unit(s.natres, unit, cert, zero_share), "PropertyRegistryInvalidOwner", index=1
    )
    expect_revert(lambda: s.prop.register_unit(s.natres, unit, cert, []), "PropertyRegistryInvalidOwnerCount", count=0)
    s.prop.register_unit(s.natres, unit, cert, owners((BUYER,), (10_000,)))
    expect_revert(
        lambda: s.prop.register_unit(s.natres, unit, s.certificate(), owners((BUYER,), (10_000,))),
        "PropertyRegistryUnitExists",
        unitId=unit,
    )


def test_certificates_are_checked_against_the_document_registry(s: Setup) -> None:
    world = s.world
    unit = unit_of(UNIT_NUMBER)
    one = owners((BUYER,), (10_000,))
    # A certificate is looked up in the acting department's own records: another department's
    # anchor is not one of NATRES's ...
    licence = s.certificate(BUSINESS_LICENSE, key=world.samr_key)
    expect_revert(
        lambda: s.prop.register_unit(s.natres, unit, licence, one),
        "PropertyRegistryCertificateNotAnchored",
        root=licence.root,
        targetHash=licence.target,
    )
    # ... and one of NATRES's documents of another type is no property certificate.
    mortgage = s.certificate(MORTGAGE_CERTIFICATE)
    expect_revert(
        lambda: s.prop.register_unit(s.natres, unit, mortgage, one),
        "PropertyRegistryCertificateWrongType",
        root=mortgage.root,
        docType=type_id(MORTGAGE_CERTIFICATE),
    )
    cert = s.certificate()
    bad_proof = Certificate(cert.root, cert.target, ())
    expect_revert(
        lambda: s.prop.register_unit(s.natres, unit, bad_proof, one), "PropertyRegistryInvalidCertificateProof"
    )
    unanchored = Certificate(os.urandom(32), os.urandom(32))
    unanchored = Certificate(_leaf_root(unanchored.target), unanchored.target)
    expect_revert(
        lambda: s.prop.register_unit(s.natres, unit, unanchored, one), "PropertyRegistryCertificateNotAnchored"
    )
    world.registry.change_status(
        world.sender(world.natres_key), StatusChange(Action.REVOKE, cert.root, cert.target, list(cert.proof))
    )
    expect_revert(
        lambda: s.prop.register_unit(s.natres, unit, cert, one),
        "PropertyRegistryCertificateNotActive",
        root=cert.root,
        targetHash=cert.target,
    )
    unit, current = s.register()
    expect_revert(
        lambda: s.prop.open_transfer(s.natres, unit, current, one),
        "PropertyRegistryCertificateUnchanged",
        unitId=unit,
        targetHash=current.target,
    )
    expect_revert(lambda: s.open(unit_of("no such unit")), "PropertyRegistryUnknownUnit")


def _leaf_root(target: bytes) -> bytes:
    """Root of a batch of one (never anchored here)."""
    from documents.merkle import MerkleTree

    return MerkleTree([target]).root


# -------------------------------------------------------------------------------- privacy


def test_no_personal_identifier_in_clear_on_chain(s: Setup) -> None:
    world = s.world
    start = world.client.block_number() + 1
    unit, _ = s.register()
    _, mortgage_id = s.prop.register_mortgage(s.bank, unit, s.certificate(MORTGAGE_CERTIFICATE))
    case_id, _ = s.open(unit)
    s.prop.return_transfer(s.tax, case_id, 10)
    s.prop.resubmit_transfer(s.natres, case_id, s.certificate(), owners(CORRECTED_BUYERS, (5000, 5000)))
    s.prop.consent_to_transfer(s.bank, case_id, 2, mortgage_id)
    for role in ORDERS[3]:
        s.approve(case_id, role, round_=2)
    s.prop.register_seizure(s.court, unit, os.urandom(32))
    end = world.client.block_number()

    people = (*SELLERS, *CORRECTED_BUYERS)
    secrets: list[bytes] = [UNIT_NUMBER.encode()]
    for p in people:
        secrets += [p.name.encode("utf-8"), p.id_number.encode(), p.id_number[-8:].encode()]
    # What the chain holds about the unit: the single-call view (raw ABI output) ...
    w3 = world.client.w3
    call_data = s.prop.contract.encode_abi("unitState", [unit])
    blobs = [bytes(w3.eth.call({"to": s.prop.address, "data": call_data}))]
    # ... every log and every transaction of the test's blocks.
    for number in range(start, end + 1):
        block = w3.eth.get_block(number, full_transactions=True)
        transactions: list[Any] = list(block["transactions"])
        for tx in transactions:
            blobs.append(bytes(tx["input"]))
            for log in w3.eth.get_transaction_receipt(tx["hash"])["logs"]:
                blobs.append(bytes(log["data"]) + b"".join(bytes(t) for t in log["topics"]))
    haystack = b"\x00".join(blobs)
    hex_haystack = HexBytes(haystack).hex().encode()
    for secret in secrets:
        assert secret not in haystack, secret
        assert secret.hex().encode() not in hex_haystack, secret
    # The commitments are there instead, so the scan looked at the right data.
    assert all(p.commitment in haystack for p in people)
    assert unit in haystack


# ------------------------------------------------------------ the DocumentRegistry's hook


def test_only_the_property_registry_locks_replaces_and_revokes_titles(s: Setup) -> None:
    world = s.world
    registry = world.registry
    assert bytes(registry.contract.functions.PROPERTY_REGISTRY_ROLE().call()) == PROPERTY_REGISTRY_ROLE
    assert registry.has_role(PROPERTY_REGISTRY_ROLE, s.prop.address)
    assert s.prop.document_registry() == registry.address
    old, new = s.certificate(), s.certificate()
    change = (NATRES, old.root, old.target, NATRES, new.root, new.target, REASON_TRANSFERRED)
    functions = registry.contract.functions
    hooks = {
        "lockTitle": functions.lockTitle(NATRES, old.root, old.target),
        "replaceTitle": functions.replaceTitle(change),
        "registryRevoke": functions.registryRevoke(NATRES, old.root, old.target, REASON_CORRECTED),
    }
    # Not the department that anchored the certificates, nor anyone else but the PropertyRegistry.
    for account in (world.natres_key, world.governor, world.new_account()):
        sender = world.sender(account)
        for fn in hooks.values():
            expect_revert(
                lambda sender=sender, fn=fn: sender.transact(fn, registry.artifact),
                "AccessControlUnauthorizedAccount",
                account=account.address,
                neededRole=PROPERTY_REGISTRY_ROLE,
            )
    assert not registry.document_status(NATRES, old.root, old.target).title_locked
    # Registering a unit locks its certificate, in the record of the department that anchored it.
    unit = unit_of(UNIT_NUMBER)
    receipt = s.prop.register_unit(s.natres, unit, old, owners(SELLERS, (6000, 4000)))
    locked = one_event(world, receipt, "TitleLocked")
    assert locked == {"department": NATRES, "root": old.root, "targetHash": old.target}
    status = registry.document_status(NATRES, old.root, old.target)
    assert status.title_locked and status.effective_state == State.ACTIVE
    assert not registry.document_status(NATRES, new.root, new.target).title_locked


def test_deployment_is_recorded_and_reused(s: Setup) -> None:
    world = s.world
    again = deploy_property_registry(
        world.client,
        world.sender(world.governor),
        deployments_dir=world.settings.deployments_dir,
        document_registry=world.registry.address,
        governance=gov(world),
    )
    assert again.reused and again.address == s.prop.address
    loaded = PropertyClient.from_record(world.client, world.settings.deployments_dir)
    assert loaded.address == s.prop.address


def test_gas_figures(s: Setup, capsys: pytest.CaptureFixture[str]) -> None:
    """Runs every measured step once (so the figures exist whatever ran before) and prints them."""
    unit, _ = s.register()
    _, mortgage_id = s.prop.register_mortgage(s.bank, unit, s.certificate(MORTGAGE_CERTIFICATE))
    s.prop.release_mortgage(s.bank, unit, mortgage_id)
    case_id, _ = s.open(unit)
    for step, role in enumerate((Role.TAX, Role.HOUSING, Role.NATRES), start=1):
        receipt = s.approve(case_id, role)
        GAS.setdefault(f"approveTransfer #{step}" + (" (finalizes)" if step == 3 else ""), receipt.gas_used)
    receipt, _ = s.prop.register_seizure(s.court, unit, os.urandom(32))
    GAS.setdefault("registerSeizure", receipt.gas_used)
    with capsys.disabled():
        print(f"\nPropertyRegistry gas ({world_mode(s)}):")
        for name, gas in sorted(GAS.items()):
            print(f"  {name:32} {gas:>9,}")
    # Bounds with headroom: a regression that doubles a step fails here.
    assert GAS["registerUnit (2 owners)"] < 400_000
    assert GAS["openTransfer (1 owner)"] < 400_000
    assert GAS["approveTransfer #3 (finalizes)"] < 300_000  # supersedes and unlocks the old title, locks the new
    assert max(GAS["approveTransfer #1"], GAS["approveTransfer #2"]) < 80_000


def world_mode(s: Setup) -> str:
    return s.world.node.mode
