"""The audit's findings against the first version's trust model, one test each, stated as what must hold.

Run against the contracts before the governance council, department-owned records, title locks
and bound mortgage certificates, every one of these failed (the attack went through); the
detailed behaviour of each fix is tested in test_governance, test_ownership, test_compromised_keys
and test_property_trust.
"""

from __future__ import annotations

from chain.errors import ContractRevert
from chain.governance import Governance, ProposalKind, new_proposal
from chain.types import Action, Role, State, StatusChange, department_id, type_id
from tests.contracts.helpers import gov
from tests.factories import BUSINESS_LICENSE, NATRES, SAMR, World
from tests.property_setup import MORTGAGE_CERTIFICATE, Setup, s  # noqa: F401 - s is the fixture


def refused(fn) -> bool:  # type: ignore[no-untyped-def]
    try:
        fn()
    except ContractRevert:
        return True
    return False


def test_one_governance_key_cannot_add_a_key_to_a_department(world: World) -> None:
    """Neither the deployer nor one council member can add a signer key on their own."""
    thief = world.new_account()
    call = world.registry.call("addSignerKey", SAMR, thief.address, world.now() - 10, 0)
    assert refused(
        lambda: world.registry.add_signer_key(world.sender(world.governor), SAMR, thief.address, world.now() - 10)
    ), "the deployer added a signer to SAMR"
    one_member = Governance(world.council, world.members[:1], world.sender(world.governor), wait=world.increase_time)
    proposal = new_proposal([call], ProposalKind.SCHEDULED, now=world.now())
    assert refused(
        lambda: world.council.execute(world.sender(world.governor), proposal, one_member.signatures(proposal, 1))
    ), "one member's signature scheduled a new signer key"


def test_a_front_run_root_still_belongs_to_its_department(world: World) -> None:
    world.registry.authorize_document_type(gov(world), NATRES, type_id(BUSINESS_LICENSE))
    root = b"\x11" * 32
    world.registry.anchor(world.sender(world.natres_key), root, type_id(BUSINESS_LICENSE), 1)
    assert not refused(
        lambda: world.registry.anchor(world.sender(world.samr_key), root, type_id(BUSINESS_LICENSE), 1)
    ), "SAMR's own anchor of its root was refused after NATRES front-ran it"


def test_one_department_cannot_hold_all_three_approving_roles(world: World) -> None:
    dept = department_id("LA-ALL")
    assert refused(
        lambda: world.registry.register_department(
            gov(world), dept, "全能局", "11341500MB0000099Z", Role.NATRES | Role.TAX | Role.HOUSING
        )
    ), "a department got TAX|HOUSING|NATRES"


def test_a_units_current_title_cannot_be_revoked_directly(s: Setup) -> None:  # noqa: F811
    _, cert = s.register()
    tree_proof = list(cert.proof)
    change = StatusChange(Action.REVOKE, cert.root, cert.target, tree_proof, reason=1)
    assert refused(lambda: s.world.registry.change_status(s.natres, change)), "NATRES revoked the title"


def test_a_mortgage_certificate_is_used_once(s: Setup) -> None:  # noqa: F811
    unit, _ = s.register()
    cert = s.certificate(MORTGAGE_CERTIFICATE)
    s.prop.register_mortgage(s.bank, unit, cert)
    assert refused(lambda: s.prop.register_mortgage(s.other_bank, unit, cert)), "two banks, one certificate"


def test_a_released_mortgages_certificate_is_no_longer_valid(s: Setup) -> None:  # noqa: F811
    unit, _ = s.register()
    cert = s.certificate(MORTGAGE_CERTIFICATE)
    _, mortgage_id = s.prop.register_mortgage(s.bank, unit, cert)
    s.prop.release_mortgage(s.bank, unit, mortgage_id)
    assert s.status(cert) != State.ACTIVE, "a released mortgage's certificate is still ACTIVE"


def test_a_stolen_keys_revocation_can_be_undone(world: World) -> None:
    tree, _ = world.anchor_batch(2)
    world.registry.change_status(world.sender(world.samr_key), StatusChange(Action.REVOKE, tree.root, reason=2))
    world.registry.retire_signer_key(gov(world), world.samr_key.address, world.now() - 5)  # backdated
    status = world.registry.document_status(SAMR, tree.root)
    assert status.batch.state != State.REVOKED, "the stolen key's revocation stands for good"
