"""IssuerRegistry: departments, signing keys with windows, document types, and their views.

Governance is the council (``gov(world)``): protective actions run at once as Immediate
proposals, anything that adds power waits out the time lock (Scheduled, the test node's clock
is moved). No single key, the deployer's included, governs directly.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from web3.logs import DISCARD

from chain.governance import Call, ProposalKind
from chain.registry import RegistryClient
from chain.sender import Receipt, TransactionSender
from chain.types import ZERO32, Action, Department, Role, SignerKey, State, StatusChange, department_id, type_id
from devstack.hardhat import rpc
from tests.contracts.helpers import add_key, anchor_direct, block_time, call, events, gov, one_event, random_hash
from tests.factories import (
    BUSINESS_LICENSE,
    COUNCIL_DELAY,
    FOOD_LICENSE,
    NATRES,
    PROPERTY_CERTIFICATE,
    SAMR,
    TAX,
    World,
    expect_revert,
)

HOUSING = department_id("LA-HOUSING")
HOUSING_NAME = "六安市住房和城乡建设局"
HOUSING_CODE = "11341500MB0000004D"
BL = type_id(BUSINESS_LICENSE)
FOOD = type_id(FOOD_LICENSE)
PC = type_id(PROPERTY_CERTIFICATE)
MAX_KEYS = 8
MAX_TYPES = 32
DEFAULT_ADMIN_ROLE = ZERO32


def register_housing(world: World, roles: Role = Role.HOUSING) -> Receipt:
    receipt = world.registry.register_department(gov(world), HOUSING, HOUSING_NAME, HOUSING_CODE, roles)
    assert receipt is not None
    return receipt


def after_delay(world: World, seconds: int) -> int:
    """A block time ``seconds`` after a Scheduled proposal started now has run (the delay passed).

    "Now" is the time of a block mined here: the latest block's time lags the node's clock by as
    long as the node sat idle (on a shared node, while other tests ran), and a window counted from
    it could close before the proposal runs."""
    world.mine(1)
    return world.now() + COUNCIL_DELAY + seconds


def ran_at_once(world: World, receipt: Receipt | None) -> Receipt:
    """``receipt`` of an Immediate proposal: the council ran it without the time lock."""
    assert receipt is not None
    assert world.governance.last_proposal is not None
    assert world.governance.last_proposal.kind is ProposalKind.IMMEDIATE
    executed = world.council.contract.events.ProposalExecuted().process_receipt(receipt.raw, errors=DISCARD)
    assert len(executed) == 1
    return receipt


def key_window(world: World, signer: str) -> tuple[int, int]:
    key = world.registry.signer_key(signer)
    return key.valid_from, key.valid_until


# ------------------------------------------------------------------------------ departments


def test_register_department(world: World) -> None:
    roles = Role.HOUSING | Role.BANK
    receipt = register_housing(world, roles)

    assert one_event(world, receipt, "DepartmentRegistered") == {
        "department": HOUSING,
        "index": 4,
        "name": HOUSING_NAME,
        "creditCode": HOUSING_CODE,
        "roles": int(roles),
    }
    assert world.registry.department(HOUSING) == Department(
        id=HOUSING,
        name=HOUSING_NAME,
        credit_code=HOUSING_CODE,
        index=4,
        roles=roles,
        active=True,
        registered_at=block_time(world, receipt),
    )
    assert world.registry.department_ids() == [SAMR, NATRES, TAX, HOUSING]
    assert world.registry.live_signer_keys(HOUSING) == []
    assert world.registry.authorized_types(HOUSING) == []


def test_register_department_with_most_roles_and_limit_lengths(world: World) -> None:
    name = "局" * 42 + "xx"  # 128 bytes of UTF-8
    roles = Role.HOUSING | Role.COURT | Role.BANK  # one workflow role at most
    world.registry.register_department(gov(world), HOUSING, name, HOUSING_CODE, roles)
    department = world.registry.department(HOUSING)
    assert department.name == name
    assert department.roles == roles


CONFLICTING_ROLES = [
    Role.NATRES | Role.TAX,
    Role.TAX | Role.HOUSING,
    Role.NATRES | Role.HOUSING,
    Role.NATRES | Role.TAX | Role.HOUSING,
    Role(31),
]


@pytest.mark.parametrize("roles", CONFLICTING_ROLES, ids=lambda r: str(int(r)))
def test_register_department_with_two_workflow_roles(world: World, roles: Role) -> None:
    """Separation of duties: one department approves a transfer for one of NATRES, TAX, HOUSING."""
    expect_revert(
        lambda: register_housing(world, roles),
        "IssuerRegistryConflictingRoles",
        roles=int(roles),
    )
    assert world.registry.department_ids() == [SAMR, NATRES, TAX]


@pytest.mark.parametrize(
    ("dept", "roles"),
    [
        (TAX, Role.TAX | Role.HOUSING),
        (NATRES, Role.NATRES | Role.TAX | Role.BANK),
        (SAMR, Role.NATRES | Role.HOUSING),
    ],
    ids=["tax+housing", "natres+tax+bank", "samr-natres+housing"],
)
def test_set_department_roles_with_two_workflow_roles(world: World, dept: bytes, roles: Role) -> None:
    before = world.registry.department(dept).roles
    expect_revert(
        lambda: world.registry.set_department_roles(gov(world), dept, roles),
        "IssuerRegistryConflictingRoles",
        roles=int(roles),
    )
    assert world.registry.department(dept).roles == before
    # Moving a department from one workflow role to another is one change, not two roles at once.
    world.registry.set_department_roles(gov(world), TAX, Role.HOUSING | Role.BANK)
    assert world.registry.department(TAX).roles == Role.HOUSING | Role.BANK


def test_register_department_twice(world: World) -> None:
    expect_revert(
        lambda: world.registry.register_department(gov(world), SAMR, "another", HOUSING_CODE),
        "IssuerRegistryDepartmentExists",
        department=SAMR,
    )


@pytest.mark.parametrize(
    ("dept", "name", "code"),
    [
        (ZERO32, HOUSING_NAME, HOUSING_CODE),
        (HOUSING, "", HOUSING_CODE),
        (HOUSING, "局" * 43, HOUSING_CODE),  # 129 bytes
        (HOUSING, HOUSING_NAME, HOUSING_CODE[:-1]),
        (HOUSING, HOUSING_NAME, HOUSING_CODE + "X"),
        (HOUSING, HOUSING_NAME, ""),
    ],
    ids=["zero-id", "empty-name", "long-name", "code-17", "code-19", "no-code"],
)
def test_register_department_invalid(world: World, dept: bytes, name: str, code: str) -> None:
    expect_revert(
        lambda: world.registry.register_department(gov(world), dept, name, code),
        "IssuerRegistryInvalidDepartment",
        department=dept,
    )
    assert world.registry.department_ids() == [SAMR, NATRES, TAX]


@pytest.mark.parametrize("roles", [32, 64, 255])
def test_register_department_invalid_roles(world: World, roles: int) -> None:
    expect_revert(
        lambda: world.registry.register_department(gov(world), HOUSING, HOUSING_NAME, HOUSING_CODE, Role(roles)),
        "IssuerRegistryInvalidRoles",
        roles=roles,
    )


GovernanceCall = Callable[[World, TransactionSender], Receipt | None]
GUARDIAN = "GUARDIAN_ROLE"
GOVERNOR = "GOVERNOR_ROLE"
ADMIN = "DEFAULT_ADMIN_ROLE"

#: Every governance write of the registry, and the role it needs (protective ones: the guardian).
GOVERNANCE_CALLS: dict[str, tuple[GovernanceCall, str]] = {
    "registerDepartment": (
        lambda w, s: w.registry.register_department(s, HOUSING, HOUSING_NAME, HOUSING_CODE),
        GOVERNOR,
    ),
    "deactivateDepartment": (lambda w, s: w.registry.set_department_active(s, SAMR, False), GUARDIAN),
    "reactivateDepartment": (lambda w, s: w.registry.set_department_active(s, SAMR, True), GOVERNOR),
    "addDepartmentRole": (lambda w, s: w.registry.set_department_roles(s, TAX, Role.TAX | Role.BANK), GOVERNOR),
    "withdrawDepartmentRole": (lambda w, s: w.registry.set_department_roles(s, TAX, Role.NONE), GUARDIAN),
    "addSignerKey": (lambda w, s: w.registry.add_signer_key(s, SAMR, w.new_account().address, 0), GOVERNOR),
    "retireSignerKeyFromNow": (
        lambda w, s: w.registry.retire_signer_key(s, w.samr_key.address, w.now() + 600),
        GUARDIAN,
    ),
    "retireSignerKeyBackdated": (
        lambda w, s: w.registry.retire_signer_key(s, w.samr_key.address, w.now() - 60),
        GOVERNOR,
    ),
    "registerDocumentType": (lambda w, s: w.registry.register_document_type(s, "permit"), GOVERNOR),
    "authorizeDocumentType": (lambda w, s: w.registry.authorize_document_type(s, SAMR, PC), GOVERNOR),
    "deauthorizeDocumentType": (lambda w, s: w.registry.deauthorize_document_type(s, SAMR, BL), GUARDIAN),
    "governSuspend": (
        lambda w, s: w.registry.govern_change_status(s, SAMR, StatusChange(Action.SUSPEND, random_hash())),
        GUARDIAN,
    ),
    "governRevoke": (
        lambda w, s: w.registry.govern_change_status(s, SAMR, StatusChange(Action.REVOKE, random_hash())),
        GOVERNOR,
    ),
    "grantRole": (lambda w, s: w.registry.grant_role(s, w.registry.governor_role(), s.address), ADMIN),
}


def role_named(world: World, name: str) -> bytes:
    return {
        GUARDIAN: world.registry.guardian_role(),
        GOVERNOR: world.registry.governor_role(),
        ADMIN: DEFAULT_ADMIN_ROLE,
    }[name]


@pytest.mark.parametrize("fn_name", list(GOVERNANCE_CALLS))
def test_no_single_key_governs(world: World, fn_name: str) -> None:
    """Not a department key, the relayer, a council member, nor the deployer: only the council."""
    fn, role_name = GOVERNANCE_CALLS[fn_name]
    role = role_named(world, role_name)
    for account in (world.samr_key, world.relayer, world.members[0], world.governor):
        expect_revert(
            lambda account=account: fn(world, world.sender(account)),
            "AccessControlUnauthorizedAccount",
            account=account.address,
            neededRole=role,
        )


def test_roles_of_the_deployed_registry(world: World) -> None:
    """The time lock administers and governs, the council guards, the deployer holds nothing."""
    registry = world.registry
    timelock, council = world.council.timelock(), world.council.address
    governor, guardian = registry.governor_role(), registry.guardian_role()
    assert registry.has_role(DEFAULT_ADMIN_ROLE, timelock)
    assert registry.has_role(governor, timelock)
    assert registry.has_role(guardian, council)
    assert not registry.has_role(governor, council)
    assert not registry.has_role(DEFAULT_ADMIN_ROLE, council)
    for account in (world.governor.address, *(m.address for m in world.members)):
        for role in (DEFAULT_ADMIN_ROLE, governor, guardian):
            assert not registry.has_role(role, account)
    assert call(world, "getRoleAdmin", governor) == DEFAULT_ADMIN_ROLE
    assert call(world, "getRoleAdmin", guardian) == DEFAULT_ADMIN_ROLE


PROTECTIVE: dict[str, Callable[[World], Receipt | None]] = {
    "deactivateDepartment": lambda w: w.registry.set_department_active(gov(w), SAMR, False),
    "deauthorizeDocumentType": lambda w: w.registry.deauthorize_document_type(gov(w), SAMR, FOOD),
    "withdrawDepartmentRole": lambda w: w.registry.set_department_roles(gov(w), TAX, Role.NONE),
    "retireSignerKeyFromNow": lambda w: w.registry.retire_signer_key(gov(w), w.samr_key.address, w.now() + 600),
}


@pytest.mark.parametrize("action", list(PROTECTIVE))
def test_protective_actions_run_at_once(world: World, action: str) -> None:
    before = world.now()
    receipt = ran_at_once(world, PROTECTIVE[action](world))
    assert block_time(world, receipt) - before < COUNCIL_DELAY  # no time lock waited out
    registry = world.registry
    if action == "deactivateDepartment":
        assert not registry.department(SAMR).active
        assert registry.can_anchor(world.samr_key.address, BL) == (SAMR, False)
    elif action == "deauthorizeDocumentType":
        assert registry.authorized_types(SAMR) == [BL]
    elif action == "withdrawDepartmentRole":
        assert registry.department(TAX).roles == Role.NONE
    else:
        assert registry.signer_key(world.samr_key.address).valid_until == before + 600
        assert registry.can_anchor(world.samr_key.address, BL) == (SAMR, True)  # until then


def power_calls(world: World) -> dict[str, tuple[Call, bytes]]:
    """Calls that add power, and the role the council would need to make them itself."""
    r, key = world.registry, world.new_account().address
    governor = r.governor_role()
    root = anchor_direct(world, world.samr_key)
    return {
        "registerDepartment": (r.call("registerDepartment", HOUSING, HOUSING_NAME, HOUSING_CODE, 0), governor),
        "reactivateDepartment": (r.call("setDepartmentActive", SAMR, True), governor),
        "addDepartmentRole": (r.call("setDepartmentRoles", TAX, int(Role.TAX | Role.BANK)), governor),
        "addSignerKey": (r.call("addSignerKey", SAMR, key, 0, 0), governor),
        "retireSignerKeyBackdated": (r.call("retireSignerKey", world.samr_key.address, world.now() - 60), governor),
        "registerDocumentType": (r.call("registerDocumentType", "permit"), governor),
        "authorizeDocumentType": (r.call("authorizeDocumentType", SAMR, PC), governor),
        "governRevoke": (r.call("governChangeStatus", SAMR, StatusChange(Action.REVOKE, root).as_tuple()), governor),
        "grantRole": (r.call("grantRole", governor, key), DEFAULT_ADMIN_ROLE),
    }


POWER = [
    "registerDepartment",
    "reactivateDepartment",
    "addDepartmentRole",
    "addSignerKey",
    "retireSignerKeyBackdated",
    "registerDocumentType",
    "authorizeDocumentType",
    "governRevoke",
    "grantRole",
]


@pytest.mark.parametrize("action", POWER)
def test_power_adding_actions_are_refused_at_once(world: World, action: str) -> None:
    """Sent as an Immediate proposal (signed by the council), what adds power is refused: it
    must wait out the time lock, where members can still veto it."""
    proposed, role = power_calls(world)[action]
    expect_revert(
        lambda: world.governance.run([proposed], kind=ProposalKind.IMMEDIATE),
        "AccessControlUnauthorizedAccount",
        account=world.council.address,
        neededRole=role,
    )
    assert world.registry.department_ids() == [SAMR, NATRES, TAX]
    assert world.registry.department(TAX).roles == Role.TAX
    assert world.registry.signer_key(world.samr_key.address).valid_until == 0
    # Scheduled, the same call goes through.
    world.governance.run([proposed])
    assert world.governance.last_proposal is not None
    assert world.governance.last_proposal.kind is ProposalKind.SCHEDULED


def test_admin_grants_and_revokes_governor_role(world: World) -> None:
    """The time lock administers the roles; what it grants through the council it can take back."""
    role = world.registry.governor_role()
    deputy = world.new_account()
    admin = gov(world)
    world.registry.grant_role(admin, role, deputy.address)
    assert world.registry.has_role(role, deputy.address)

    register_housing(world)  # the time lock keeps its role
    world.registry.register_document_type(world.sender(deputy), "permit")
    assert world.registry.is_document_type(type_id("permit"))

    admin.run([world.registry.call("revokeRole", role, deputy.address)])
    assert not world.registry.has_role(role, deputy.address)
    expect_revert(
        lambda: world.registry.register_document_type(world.sender(deputy), "permit-2"),
        "AccessControlUnauthorizedAccount",
        account=deputy.address,
        neededRole=role,
    )
    assert world.registry.has_role(role, world.council.timelock())


def test_deactivated_department_cannot_anchor_and_keeps_its_documents(world: World) -> None:
    tree, targets = world.anchor_batch(2)
    receipt = ran_at_once(world, world.registry.set_department_active(gov(world), SAMR, False))

    assert one_event(world, receipt, "DepartmentActivationChanged") == {
        "department": SAMR,
        "active": False,
    }
    assert not world.registry.department(SAMR).active
    assert world.registry.can_anchor(world.samr_key.address, BL) == (SAMR, False)
    expect_revert(
        lambda: anchor_direct(world, world.samr_key),
        "IssuerRegistryDepartmentInactive",
        department=SAMR,
    )
    # Its key cannot change statuses either; governance still can.
    expect_revert(
        lambda: world.registry.change_status(world.sender(world.samr_key), StatusChange(Action.SUSPEND, tree.root)),
        "IssuerRegistryDepartmentInactive",
        department=SAMR,
    )
    for target in targets:
        status = world.registry.document_status(SAMR, tree.root, target)
        assert status.anchored
        assert status.department == SAMR
        assert status.effective_state == State.ACTIVE
    suspend = StatusChange(Action.SUSPEND, tree.root, targets[0], tree.proof(0))
    ran_at_once(world, world.registry.govern_change_status(gov(world), SAMR, suspend))
    assert world.registry.document_status(SAMR, tree.root, targets[0]).effective_state == State.SUSPENDED
    # Other departments are unaffected.
    anchor_direct(world, world.natres_key, PROPERTY_CERTIFICATE)

    receipt = world.registry.set_department_active(gov(world), SAMR, True)  # through the time lock
    assert receipt is not None
    assert one_event(world, receipt, "DepartmentActivationChanged") == {"department": SAMR, "active": True}
    assert world.registry.can_anchor(world.samr_key.address, BL) == (SAMR, True)
    root = anchor_direct(world, world.samr_key)
    assert world.registry.document_status(SAMR, root).anchored


def test_set_department_active_is_idempotent_and_checks_the_department(world: World) -> None:
    receipt = world.registry.set_department_active(gov(world), SAMR, True)
    assert receipt is not None
    assert events(world, receipt, "DepartmentActivationChanged") == []
    world.registry.set_department_active(gov(world), SAMR, False)
    receipt = world.registry.set_department_active(gov(world), SAMR, False)  # at once, again
    assert events(world, ran_at_once(world, receipt), "DepartmentActivationChanged") == []
    expect_revert(
        lambda: world.registry.set_department_active(gov(world), HOUSING, False),
        "IssuerRegistryUnknownDepartment",
        department=HOUSING,
    )


def test_changes_made_while_inactive_apply_on_reactivation(world: World) -> None:
    registry = world.registry
    registry.set_department_active(gov(world), SAMR, False)
    with gov(world).batch():  # one proposal through the time lock
        new_key = add_key(world, SAMR)
        registry.register_document_type(gov(world), "permit")
        registry.authorize_document_type(gov(world), SAMR, type_id("permit"))
    registry.deauthorize_document_type(gov(world), SAMR, FOOD)
    until = after_delay(world, 300)  # still open once the reactivation has waited out the time lock
    registry.retire_signer_key(gov(world), world.samr_key.address, until)
    expect_revert(lambda: anchor_direct(world, new_key, "permit"), "IssuerRegistryDepartmentInactive", department=SAMR)

    registry.set_department_active(gov(world), SAMR, True)
    anchor_direct(world, new_key, "permit")
    anchor_direct(world, world.samr_key, "permit")
    anchor_direct(world, new_key, BUSINESS_LICENSE)
    expect_revert(
        lambda: anchor_direct(world, new_key, FOOD_LICENSE),
        "IssuerRegistryTypeNotAuthorized",
        department=SAMR,
        docType=FOOD,
    )
    world.increase_time(until - world.now() + 1)
    expect_revert(
        lambda: anchor_direct(world, world.samr_key),
        "IssuerRegistryKeyNotValid",
        signer=world.samr_key.address,
        validUntil=until,
    )


def test_set_department_roles(world: World) -> None:
    registry = world.registry
    assert registry.has_department_role(TAX, Role.TAX)
    assert registry.has_department_role(NATRES, Role.NATRES)
    assert not registry.has_department_role(TAX, Role.BANK)
    assert not registry.has_department_role(TAX, Role.NONE)
    assert not registry.has_department_role(SAMR, Role.TAX)
    assert not registry.has_department_role(HOUSING, Role.TAX)

    receipt = registry.set_department_roles(gov(world), TAX, Role.TAX | Role.BANK)
    assert one_event(world, receipt, "DepartmentRolesChanged") == {"department": TAX, "roles": 18}
    assert registry.department(TAX).roles == Role.TAX | Role.BANK
    assert registry.has_department_role(TAX, Role.TAX | Role.BANK)
    assert registry.has_department_role(TAX, Role.BANK)
    assert not registry.has_department_role(TAX, Role.TAX | Role.COURT)

    receipt = ran_at_once(world, registry.set_department_roles(gov(world), TAX, Role.TAX))  # withdraws BANK
    assert one_event(world, receipt, "DepartmentRolesChanged") == {"department": TAX, "roles": 2}
    ran_at_once(world, registry.set_department_roles(gov(world), TAX, Role.NONE))
    assert not registry.has_department_role(TAX, Role.TAX)
    assert registry.department(TAX).roles == Role.NONE


def test_set_department_roles_rejects(world: World) -> None:
    expect_revert(
        lambda: world.registry.set_department_roles(gov(world), TAX, Role(32)),
        "IssuerRegistryInvalidRoles",
        roles=32,
    )
    # (Scheduled explicitly: classifying a role change reads the department's current roles.)
    unknown = world.registry.call("setDepartmentRoles", HOUSING, int(Role.TAX))
    expect_revert(
        lambda: gov(world).run([unknown], kind=ProposalKind.SCHEDULED),
        "IssuerRegistryUnknownDepartment",
        department=HOUSING,
    )
    assert world.registry.department(TAX).roles == Role.TAX


# ---------------------------------------------------------------------------- signing keys


def test_add_signer_key(world: World) -> None:
    key = world.new_account()
    valid_from, valid_until = world.now() - 10, world.now() + 10_000
    receipt = world.registry.add_signer_key(gov(world), SAMR, key.address, valid_from, valid_until)

    assert one_event(world, receipt, "SignerKeyAdded") == {
        "department": SAMR,
        "signer": key.address,
        "validFrom": valid_from,
        "validUntil": valid_until,
    }
    assert world.registry.signer_key(key.address) == SignerKey(SAMR, valid_from, valid_until)
    assert world.registry.live_signer_keys(SAMR) == [world.samr_key.address, key.address]
    assert world.registry.can_anchor(key.address, BL) == (SAMR, True)
    assert world.registry.can_anchor(key.address, FOOD) == (SAMR, True)
    assert world.registry.can_anchor(key.address, PC) == (SAMR, False)
    root = anchor_direct(world, key, FOOD_LICENSE)
    status = world.registry.document_status(SAMR, root)
    assert (status.signer, status.department, status.doc_type) == (key.address, SAMR, FOOD)


def test_add_signer_key_rejects(world: World) -> None:
    registry, samr = world.registry, world.samr_key.address
    fresh = world.new_account().address
    expect_revert(
        lambda: registry.add_signer_key(gov(world), HOUSING, fresh, 0),
        "IssuerRegistryUnknownDepartment",
        department=HOUSING,
    )
    expect_revert(
        lambda: registry.add_signer_key(gov(world), SAMR, samr, 0),
        "IssuerRegistrySignerExists",
        signer=samr,
        department=SAMR,
    )
    # A key is never reassigned, not even to another department.
    expect_revert(
        lambda: registry.add_signer_key(gov(world), NATRES, samr, 0),
        "IssuerRegistrySignerExists",
        signer=samr,
        department=SAMR,
    )
    zero = "0x" + "00" * 20
    expect_revert(
        lambda: registry.add_signer_key(gov(world), SAMR, zero, 0),
        "IssuerRegistryUnknownSigner",
        signer=zero,
    )
    for valid_from, valid_until in ((1000, 1000), (1000, 999), (2**40 - 1, 1)):
        expect_revert(
            lambda f=valid_from, u=valid_until: registry.add_signer_key(gov(world), SAMR, fresh, f, u),
            "IssuerRegistryInvalidKeyWindow",
            signer=fresh,
            validFrom=valid_from,
            validUntil=valid_until,
        )


def test_retired_key_is_never_reassigned(world: World) -> None:
    samr = world.samr_key.address
    world.registry.retire_signer_key(gov(world), samr, world.now() - 1)
    expect_revert(
        lambda: world.registry.add_signer_key(gov(world), NATRES, samr, 0),
        "IssuerRegistrySignerExists",
        signer=samr,
        department=SAMR,
    )


def test_too_many_keys_and_expired_keys_are_pruned_on_add(world: World) -> None:
    registry = world.registry
    # `short` outlives the batch's delay and the next (refused) add's, not the one after.
    short_until = after_delay(world, COUNCIL_DELAY + 600)
    with gov(world).batch():
        short = add_key(world, SAMR, valid_until=short_until)
        others = [add_key(world, SAMR) for _ in range(MAX_KEYS - 2)]
    assert len(registry.live_signer_keys(SAMR)) == MAX_KEYS
    assert short.address in registry.live_signer_keys(SAMR)
    ninth = world.new_account()
    expect_revert(
        lambda: registry.add_signer_key(gov(world), SAMR, ninth.address, 0),
        "IssuerRegistryTooManyKeys",
        department=SAMR,
        max=MAX_KEYS,
    )
    add_key(world, NATRES)  # the limit is per department
    assert world.now() < short_until + COUNCIL_DELAY

    world.increase_time(max(short_until - world.now(), 0) + 1)
    registry.add_signer_key(gov(world), SAMR, ninth.address, world.now() - 1)
    live = registry.live_signer_keys(SAMR)
    assert len(live) == MAX_KEYS
    assert short.address not in live
    assert ninth.address in live
    assert registry.can_anchor(short.address, BL) == (SAMR, False)
    anchor_direct(world, ninth)

    # A compromised key (window ended in the past) frees its slot at once.
    registry.retire_signer_key(gov(world), others[0].address, world.now() - 1)
    assert others[0].address not in registry.live_signer_keys(SAMR)
    tenth = add_key(world, SAMR)
    assert tenth.address in registry.live_signer_keys(SAMR)


def test_a_window_counted_from_now_survives_an_idle_node(world: World) -> None:
    """The node sat idle for two minutes (its clock moved, no block was mined): a key whose window
    ends a minute after the time lock is still live once the proposal ran."""
    rpc(world.node.rpc_url, "evm_increaseTime", [120])  # as two idle minutes of a shared node
    until = after_delay(world, 60)
    key = add_key(world, SAMR, valid_until=until)
    assert key.address in world.registry.live_signer_keys(SAMR)


def test_live_signer_keys_excludes_expired_keys(world: World) -> None:
    """liveSignerKeys lists "keys that can still sign now or later": not one whose window ended."""
    until = after_delay(world, 60)
    key = add_key(world, SAMR, valid_until=until)
    assert key.address in world.registry.live_signer_keys(SAMR)
    world.increase_time(until - world.now() + 1)
    assert world.registry.can_anchor(key.address, BL) == (SAMR, False)
    assert world.registry.live_signer_keys(SAMR) == [world.samr_key.address]


def test_key_rotation(world: World) -> None:
    registry, old = world.registry, world.samr_key
    new = add_key(world, SAMR, valid_from=world.now())
    old_root = anchor_direct(world, old)
    valid_from, _ = key_window(world, old.address)
    until = world.now() + 120

    receipt = ran_at_once(world, registry.retire_signer_key(gov(world), old.address, until))
    assert one_event(world, receipt, "SignerKeyRetired") == {
        "department": SAMR,
        "signer": old.address,
        "validUntil": until,
    }
    assert registry.signer_key(old.address) == SignerKey(SAMR, valid_from, until)
    assert old.address in registry.live_signer_keys(SAMR)
    overlap_root = anchor_direct(world, old)  # still inside its window
    anchor_direct(world, new)

    world.increase_time(180)
    revert = expect_revert(
        lambda: anchor_direct(world, old),
        "IssuerRegistryKeyNotValid",
        signer=old.address,
        validFrom=valid_from,
        validUntil=until,
    )
    assert revert.arguments["at"] >= until
    assert registry.can_anchor(old.address, BL) == (SAMR, False)
    new_root = anchor_direct(world, new)

    for root, signer in ((old_root, old), (overlap_root, old), (new_root, new)):
        status = registry.document_status(SAMR, root)
        assert status.signer == signer.address
        assert status.department == SAMR
        assert status.effective_state == State.ACTIVE


def test_key_window_only_shrinks(world: World) -> None:
    registry = world.registry
    until = after_delay(world, 10 * COUNCIL_DELAY)  # still ahead after the proposals below
    key = add_key(world, SAMR, valid_until=until)
    valid_from, _ = key_window(world, key.address)
    # Later ends run at once (protective), earlier ones through the time lock: both are checked.
    for bad in (until, until + 1000, valid_from, valid_from - 1):  # (0 means "now": see test_compromised_keys)
        expect_revert(
            lambda bad=bad: registry.retire_signer_key(gov(world), key.address, bad),
            "IssuerRegistryInvalidKeyWindow",
            signer=key.address,
            validFrom=valid_from,
            validUntil=bad,
        )
    ran_at_once(world, registry.retire_signer_key(gov(world), key.address, until - 500))
    expect_revert(
        lambda: registry.retire_signer_key(gov(world), key.address, until - 500),
        "IssuerRegistryInvalidKeyWindow",
        signer=key.address,
        validFrom=valid_from,
        validUntil=until - 500,
    )
    assert registry.signer_key(key.address).valid_until == until - 500
    # An open-ended key can be given any end after its start.
    registry.retire_signer_key(gov(world), world.samr_key.address, 2**40 - 1)
    assert registry.signer_key(world.samr_key.address).valid_until == 2**40 - 1

    stranger = world.new_account().address
    expect_revert(
        lambda: registry.retire_signer_key(gov(world), stranger, world.now() + 600),
        "IssuerRegistryUnknownSigner",
        signer=stranger,
    )


def test_retire_to_the_past_is_a_compromise(world: World) -> None:
    registry, key = world.registry, world.samr_key
    root = anchor_direct(world, key)
    valid_from, _ = key_window(world, key.address)
    until = world.now() - 60

    registry.retire_signer_key(gov(world), key.address, until)  # backdated: through the time lock
    assert world.governance.last_proposal is not None
    assert world.governance.last_proposal.kind is ProposalKind.SCHEDULED
    assert key.address not in registry.live_signer_keys(SAMR)
    assert registry.can_anchor(key.address, BL) == (SAMR, False)
    expect_revert(
        lambda: anchor_direct(world, key),
        "IssuerRegistryKeyNotValid",
        signer=key.address,
        validFrom=valid_from,
        validUntil=until,
    )
    expect_revert(
        lambda: registry.change_status(world.sender(key), StatusChange(Action.REVOKE, root)),
        "IssuerRegistryKeyNotValid",
        signer=key.address,
        validFrom=valid_from,
        validUntil=until,
    )
    # What it anchored stays attributed to it; governance decides what to revoke.
    assert registry.document_status(SAMR, root).signer == key.address
    registry.govern_change_status(gov(world), SAMR, StatusChange(Action.REVOKE, root, reason=2))
    status = registry.document_status(SAMR, root)
    assert status.batch.state == State.REVOKED
    assert status.batch.changed_by == ZERO32
    assert int(status.batch.signer, 16) == 0  # governance, not a department key


def test_key_valid_from_the_future(world: World) -> None:
    registry = world.registry
    valid_from = after_delay(world, 600)
    key = add_key(world, SAMR, valid_from=valid_from)
    assert key.address in registry.live_signer_keys(SAMR)
    assert registry.can_anchor(key.address, BL) == (SAMR, False)
    revert = expect_revert(
        lambda: anchor_direct(world, key),
        "IssuerRegistryKeyNotValid",
        signer=key.address,
        validFrom=valid_from,
        validUntil=0,
    )
    assert revert.arguments["at"] < valid_from

    world.increase_time(valid_from - world.now() + 1)
    assert registry.can_anchor(key.address, BL) == (SAMR, True)
    root = anchor_direct(world, key)
    assert registry.document_status(SAMR, root).signer == key.address


def test_unknown_signer_cannot_anchor(world: World) -> None:
    stranger = world.new_account()
    assert world.registry.can_anchor(stranger.address, BL) == (ZERO32, False)
    expect_revert(
        lambda: anchor_direct(world, stranger),
        "IssuerRegistryUnknownSigner",
        signer=stranger.address,
    )
    # Governance is not a signing key either.
    expect_revert(
        lambda: anchor_direct(world, world.governor),
        "IssuerRegistryUnknownSigner",
        signer=world.governor.address,
    )


# -------------------------------------------------------------------------- document types


def test_register_document_type(world: World) -> None:
    registry, name = world.registry, "drug-business-license"
    doc_type = type_id(name)
    assert not registry.is_document_type(doc_type)
    assert call(world, "registerDocumentType", name, sender=world.council.timelock()) == doc_type

    receipt = registry.register_document_type(gov(world), name)
    assert one_event(world, receipt, "DocumentTypeRegistered") == {
        "docType": doc_type,
        "index": 4,
        "name": name,
    }
    assert registry.is_document_type(doc_type)
    expect_revert(
        lambda: registry.register_document_type(gov(world), name),
        "IssuerRegistryDocumentTypeExists",
        docType=doc_type,
    )
    # Registered is not authorized.
    expect_revert(
        lambda: anchor_direct(world, world.samr_key, name),
        "IssuerRegistryTypeNotAuthorized",
        department=SAMR,
        docType=doc_type,
    )


@pytest.mark.parametrize("name", ["x" * 64, "证" * 21 + "x"], ids=["ascii-64", "utf8-64"])
def test_register_document_type_longest_name(world: World, name: str) -> None:
    world.registry.register_document_type(gov(world), name)
    assert world.registry.is_document_type(type_id(name))


@pytest.mark.parametrize("name", ["", "x" * 65, "证" * 22], ids=["empty", "ascii-65", "utf8-66"])
def test_register_document_type_invalid(world: World, name: str) -> None:
    revert = expect_revert(
        lambda: world.registry.register_document_type(gov(world), name),
        "IssuerRegistryInvalidDocumentType",
    )
    assert revert.arguments == {"name": name}  # (`name` is also expect_revert's own parameter)


def test_authorize_and_deauthorize_document_type(world: World) -> None:
    registry = world.registry
    expect_revert(
        lambda: anchor_direct(world, world.samr_key, PROPERTY_CERTIFICATE),
        "IssuerRegistryTypeNotAuthorized",
        department=SAMR,
        docType=PC,
    )
    receipt = registry.authorize_document_type(gov(world), SAMR, PC)
    assert one_event(world, receipt, "DocumentTypeAuthorized") == {"department": SAMR, "docType": PC}
    assert registry.authorized_types(SAMR) == [BL, FOOD, PC]
    assert registry.can_anchor(world.samr_key.address, PC) == (SAMR, True)
    root = anchor_direct(world, world.samr_key, PROPERTY_CERTIFICATE)

    receipt = registry.deauthorize_document_type(gov(world), SAMR, PC)
    assert one_event(world, receipt, "DocumentTypeDeauthorized") == {"department": SAMR, "docType": PC}
    assert registry.authorized_types(SAMR) == [BL, FOOD]
    assert registry.can_anchor(world.samr_key.address, PC) == (SAMR, False)
    expect_revert(
        lambda: anchor_direct(world, world.samr_key, PROPERTY_CERTIFICATE),
        "IssuerRegistryTypeNotAuthorized",
        department=SAMR,
        docType=PC,
    )
    status = registry.document_status(SAMR, root)  # anchored before: unaffected
    assert (status.anchored, status.doc_type, status.effective_state) == (True, PC, State.ACTIVE)
    anchor_direct(world, world.natres_key, PROPERTY_CERTIFICATE)  # other departments unaffected
    anchor_direct(world, world.samr_key, BUSINESS_LICENSE)


def test_authorize_document_type_rejects(world: World) -> None:
    registry, unknown = world.registry, random_hash()
    expect_revert(
        lambda: registry.authorize_document_type(gov(world), SAMR, unknown),
        "IssuerRegistryUnknownDocumentType",
        docType=unknown,
    )
    expect_revert(
        lambda: registry.authorize_document_type(gov(world), HOUSING, BL),
        "IssuerRegistryUnknownDepartment",
        department=HOUSING,
    )
    expect_revert(
        lambda: registry.authorize_document_type(gov(world), SAMR, BL),
        "IssuerRegistryTypeAlreadyAuthorized",
        department=SAMR,
        docType=BL,
    )
    expect_revert(
        lambda: registry.deauthorize_document_type(gov(world), TAX, BL),
        "IssuerRegistryTypeNotAuthorized",
        department=TAX,
        docType=BL,
    )
    expect_revert(
        lambda: registry.deauthorize_document_type(gov(world), HOUSING, BL),
        "IssuerRegistryUnknownDepartment",
        department=HOUSING,
    )


def test_too_many_types(world: World) -> None:
    registry = world.registry
    names = [f"type-{i}" for i in range(MAX_TYPES - 2)]
    half = len(names) // 2
    for part in (names[:half], names[half:]):  # two proposals of 30 calls each
        with gov(world).batch():
            for name in part:
                registry.register_document_type(gov(world), name)
                registry.authorize_document_type(gov(world), SAMR, type_id(name))
    assert len(registry.authorized_types(SAMR)) == MAX_TYPES
    registry.register_document_type(gov(world), "one-too-many")
    extra = type_id("one-too-many")
    expect_revert(
        lambda: registry.authorize_document_type(gov(world), SAMR, extra),
        "IssuerRegistryTooManyTypes",
        department=SAMR,
        max=MAX_TYPES,
    )
    registry.authorize_document_type(gov(world), NATRES, extra)  # the limit is per department

    registry.deauthorize_document_type(gov(world), SAMR, type_id(names[0]))
    registry.authorize_document_type(gov(world), SAMR, extra)
    anchor_direct(world, world.samr_key, "one-too-many")
    anchor_direct(world, world.samr_key, names[-1])


# ----------------------------------------------------------------------------------- views


def test_views_of_the_deployed_registry(world: World) -> None:
    registry: RegistryClient = world.registry
    assert registry.department_ids() == [SAMR, NATRES, TAX]
    samr = registry.department(SAMR)
    assert (samr.id, samr.name, samr.credit_code) == (SAMR, "六安市市场监督管理局", "11341500MB0000001A")
    assert (samr.index, samr.roles, samr.active) == (1, Role.NONE, True)
    assert 0 < samr.registered_at <= world.now()
    assert registry.department(NATRES).index == 2
    assert registry.department(NATRES).roles == Role.NATRES

    assert registry.live_signer_keys(SAMR) == [world.samr_key.address]
    assert registry.live_signer_keys(NATRES) == [world.natres_key.address]
    assert registry.live_signer_keys(TAX) == []
    assert registry.authorized_types(SAMR) == [BL, FOOD]
    assert registry.authorized_types(NATRES) == [PC]
    assert registry.authorized_types(TAX) == []
    assert all(registry.is_document_type(t) for t in (BL, FOOD, PC))
    assert not registry.is_document_type(random_hash())
    assert not registry.is_document_type(ZERO32)

    key = registry.signer_key(world.samr_key.address)
    assert (key.department, key.valid_until) == (SAMR, 0)
    assert key.valid_at(world.now())
    assert registry.can_anchor(world.samr_key.address, BL) == (SAMR, True)
    assert registry.can_anchor(world.samr_key.address, PC) == (SAMR, False)
    assert registry.can_anchor(world.natres_key.address, PC) == (NATRES, True)
    assert registry.can_anchor(world.natres_key.address, random_hash()) == (NATRES, False)
    timelock = world.council.timelock()
    assert registry.has_role(registry.governor_role(), timelock)
    assert registry.has_role(ZERO32, timelock)  # DEFAULT_ADMIN_ROLE
    assert registry.has_role(registry.guardian_role(), world.council.address)
    assert not registry.has_role(registry.governor_role(), world.governor.address)
    assert not registry.has_role(registry.governor_role(), world.samr_key.address)
    assert call(world, "MAX_KEYS") == MAX_KEYS
    assert call(world, "MAX_TYPES") == MAX_TYPES


def test_view_errors(world: World) -> None:
    expect_revert(lambda: world.registry.department(HOUSING), "IssuerRegistryUnknownDepartment", department=HOUSING)
    for index in (0, 4):
        expect_revert(
            lambda index=index: call(world, "departmentIdAt", index),
            "IssuerRegistryUnknownDepartment",
            department=index.to_bytes(32, "big"),
        )
    stranger = world.new_account().address
    expect_revert(lambda: world.registry.signer_key(stranger), "IssuerRegistryUnknownSigner", signer=stranger)
