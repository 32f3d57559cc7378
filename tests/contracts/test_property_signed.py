"""PropertyRegistry.executeSigned on the real node: every workflow step relayed for the key that
signed it, and every way a relayed step must fail (replay, another contract or chain, expiry,
a call that is no action, a forged sender).
"""

from __future__ import annotations

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from chain.property import ACTION_TYPES, CaseState, PropertyCall, PropertyClient, SignedAction, action_domain, deploy_property_registry, recover_action_signer, sign_action
from chain.sender import Receipt, TransactionSender
from chain.types import Role, State
from tests.contracts.helpers import gov
from tests.factories import NATRES, TAX, World, expect_revert
from tests.property_setup import BANK, BUYER, COURT, GAS, HOUSING, SELLERS, UNIT_NUMBER, Setup, make_setup, owners, unit_of


@pytest.fixture(name="s")
def _setup(world: World) -> Setup:
    """The world's PropertyRegistry and the workflow's departments (tests.property_setup)."""
    return make_setup(world)


class Relay:
    """Signs with a department key and submits with a relayer that holds no department key."""

    def __init__(self, setup: Setup) -> None:
        self.s = setup
        self.prop = setup.prop
        self.relayer = setup.world.sender(setup.world.new_account())
        self._nonce = 0

    def sign(
        self,
        key: LocalAccount,
        call: PropertyCall,
        *,
        nonce: int | None = None,
        deadline: int | None = None,
        chain_id: int | None = None,
        registry: str | None = None,
    ) -> SignedAction:
        if nonce is None:
            self._nonce += 1
            nonce = self._nonce
        return sign_action(
            key,
            chain_id=chain_id or self.s.world.chain_id,
            registry=registry or self.prop.address,
            data=self.prop.calldata(call),
            nonce=nonce,
            deadline=deadline if deadline is not None else self.s.world.now() + 3600,
        )

    def run(self, sender: TransactionSender, call: PropertyCall, **kw: object) -> Receipt:
        return self.prop.execute_signed(self.relayer, self.sign(sender.account, call, **kw))  # type: ignore[arg-type]


@pytest.fixture
def r(s: Setup) -> Relay:
    return Relay(s)


def test_whole_transfer_relayed_for_the_departments(r: Relay) -> None:
    st, prop = r.s, r.prop
    unit, old = unit_of(UNIT_NUMBER), st.certificate()
    receipt = r.run(st.natres, PropertyCall.register_unit(unit, old, owners(SELLERS, (6000, 4000))))
    assert prop.receipt_event(receipt, "UnitRegistered")["department"] == NATRES
    new = st.certificate()
    receipt = r.run(st.natres, PropertyCall.open_transfer(unit, new, owners((BUYER,), (10_000,))))
    case_id = int(prop.receipt_event(receipt, "TransferOpened")["caseId"])
    GAS.setdefault("executeSigned(openTransfer)", receipt.gas_used)
    for sender, role, dept in ((st.tax, Role.TAX, TAX), (st.housing, Role.HOUSING, HOUSING)):
        receipt = r.run(sender, PropertyCall.approve_transfer(case_id, 1, role))
        assert prop.receipt_event(receipt, "TransferApproved")["department"] == dept
    GAS.setdefault("executeSigned(approveTransfer)", receipt.gas_used)
    receipt = r.run(st.natres, PropertyCall.approve_transfer(case_id, 1, Role.NATRES))
    GAS.setdefault("executeSigned(approveTransfer, final)", receipt.gas_used)
    final = prop.receipt_event(receipt, "TransferFinalized")
    assert final["certTarget"] == new.target and final["previousTarget"] == old.target
    assert prop.transfer_case(case_id).state is CaseState.FINALIZED
    assert st.status(old) is State.SUPERSEDED and st.status(new) is State.ACTIVE
    # The relayer paid and sent; it acted for no department and holds none.
    assert receipt.raw["from"] == r.relayer.address


def test_signed_action_event_and_digest(r: Relay) -> None:
    st, prop = r.s, r.prop
    call = PropertyCall.register_unit(unit_of(UNIT_NUMBER), st.certificate(), owners(SELLERS, (6000, 4000)))
    signed = r.sign(st.natres.account, call, nonce=2**200 + 5)
    # The digest the contract computes is the one the key signed.
    from eth_account.messages import encode_typed_data

    signable = encode_typed_data(
        action_domain(st.world.chain_id, prop.address),
        ACTION_TYPES,
        {"data": signed.data, "nonce": signed.nonce, "deadline": signed.deadline},
    )
    digest = keccak(b"\x19" + signable.version + signable.header + signable.body)
    assert prop.action_digest(signed.data, signed.nonce, signed.deadline) == digest
    assert recover_action_signer(signed, chain_id=st.world.chain_id, registry=prop.address) == st.natres.address
    assert not prop.is_nonce_used(st.natres.address, signed.nonce)
    receipt = prop.execute_signed(r.relayer, signed)
    event = prop.receipt_event(receipt, "SignedActionExecuted")
    assert event == {"signer": st.natres.address, "nonce": signed.nonce, "digest": digest}
    assert prop.is_nonce_used(st.natres.address, signed.nonce)
    assert not prop.is_nonce_used(st.natres.address, signed.nonce + 1)
    names = [e.name for e in prop.action_events(receipt)]
    assert names == ["SignedActionExecuted", "UnitRegistered"]


def test_replayed_signature_and_reused_nonce_are_refused(r: Relay) -> None:
    st, prop = r.s, r.prop
    unit, _ = st.register()
    signed = r.sign(st.court.account, PropertyCall.register_seizure(unit, keccak(text="(2026)皖1502执保1号")))
    prop.execute_signed(r.relayer, signed)
    expect_revert(lambda: prop.execute_signed(r.relayer, signed), "PropertyRegistryNonceUsed", signer=st.court.address)
    other = r.sign(st.court.account, PropertyCall.register_seizure(unit, keccak(text="another")), nonce=signed.nonce)
    expect_revert(lambda: prop.execute_signed(r.relayer, other), "PropertyRegistryNonceUsed", nonce=signed.nonce)
    assert len(prop.unit_state(unit).seizures) == 1
    # A refused action leaves its nonce unused: the same nonce can carry the corrected action.
    stranger_ruling = r.sign(st.court.account, PropertyCall.release_seizure(unit, 9), nonce=77)
    expect_revert(lambda: prop.execute_signed(r.relayer, stranger_ruling), "PropertyRegistryUnknownSeizure")
    assert not prop.is_nonce_used(st.court.address, 77)
    prop.execute_signed(r.relayer, r.sign(st.court.account, PropertyCall.release_seizure(unit, 1), nonce=77))
    assert not prop.unit_state(unit).seized


def test_signature_for_another_contract_or_chain_acts_for_nobody(r: Relay) -> None:
    st, prop = r.s, r.prop
    unit, _ = st.register()
    call = PropertyCall.register_seizure(unit, keccak(text="ruling"))
    twin = deploy_property_registry(
        st.world.client,
        st.world.sender(st.world.governor),
        deployments_dir=st.world.settings.deployments_dir,
        document_registry=st.world.registry.address,
        governance=gov(st.world),
        force=True,
    )
    for signed in (
        r.sign(st.court.account, call, registry=twin.address),
        r.sign(st.court.account, call, chain_id=st.world.chain_id + 1),
    ):
        # The signature recovers to some other address, which is no department key.
        revert = expect_revert(
            lambda signed=signed: prop.execute_signed(r.relayer, signed), "PropertyRegistryUnknownKey"
        )
        assert revert.arguments["account"].lower() != st.court.address.lower()
    assert not prop.unit_state(unit).seized
    # The same signature is good on the contract it was made for (the twin knows no such unit).
    twin_prop = PropertyClient(st.world.client, twin.address)
    expect_revert(
        lambda: twin_prop.execute_signed(r.relayer, r.sign(st.court.account, call, registry=twin.address)),
        "PropertyRegistryUnknownUnit",
    )


def test_expired_malformed_and_non_action_calls_are_refused(r: Relay) -> None:
    st, prop = r.s, r.prop
    unit, _ = st.register()
    call = PropertyCall.register_seizure(unit, keccak(text="ruling"))
    expired = r.sign(st.court.account, call, deadline=st.world.now() - 1)
    expect_revert(lambda: prop.execute_signed(r.relayer, expired), "PropertyRegistryExpiredSignature")
    good = r.sign(st.court.account, call)
    for bad in (b"", b"\x00" * 65, good.signature[:64]):
        forged = SignedAction(good.data, good.nonce, good.deadline, bad)
        expect_revert(lambda forged=forged: prop.execute_signed(r.relayer, forged), "PropertyRegistryInvalidSignature")
    # Views, executeSigned itself and short data are not actions.
    view = bytes.fromhex(prop.contract.encode_abi("unitState", args=[unit])[2:])
    nested = bytes.fromhex(
        prop.contract.encode_abi("executeSigned", args=[good.data, good.nonce, good.deadline, good.signature])[2:]
    )
    for data, selector in ((view, view[:4]), (nested, nested[:4]), (b"\x01\x02", b"\x00" * 4)):
        signed = sign_action(
            st.court.account,
            chain_id=st.world.chain_id,
            registry=prop.address,
            data=data,
            nonce=99,
            deadline=good.deadline,
        )
        revert = expect_revert(
            lambda signed=signed: prop.execute_signed(r.relayer, signed), "PropertyRegistryActionNotAllowed"
        )
        assert bytes(revert.arguments["selector"]) == selector
    assert not prop.unit_state(unit).seized


def test_appended_sender_is_trusted_only_on_the_contracts_own_call(r: Relay) -> None:
    """ERC-2771 style: a stranger appending NATRES's address to its own call stays the stranger."""
    st, prop = r.s, r.prop
    unit, _ = st.register()
    stranger = st.world.sender(st.world.new_account())
    data = prop.calldata(PropertyCall.register_seizure(unit, keccak(text="ruling"))) + bytes.fromhex(
        st.court.address[2:]
    )
    tx = {"to": prop.address, "data": "0x" + data.hex()}
    expect_revert(
        lambda: stranger.send(dict(tx), prop.artifact), "PropertyRegistryUnknownKey", account=stranger.address
    )
    assert not prop.unit_state(unit).seized


@pytest.mark.parametrize("relayed", [False, True])
def test_unauthorized_actors_are_refused_alike_when_relayed(r: Relay, relayed: bool) -> None:
    st, prop = r.s, r.prop
    unit, _ = st.register()
    case_id, _ = st.open(unit)

    def act(sender: TransactionSender, call: PropertyCall) -> Receipt:
        return r.run(sender, call) if relayed else prop.execute(sender, call)

    expect_revert(
        lambda: act(st.bank, PropertyCall.approve_transfer(case_id, 1, Role.TAX)),
        "PropertyRegistryUnauthorized",
        department=BANK,
        roles=int(Role.TAX),
    )
    act(st.tax, PropertyCall.approve_transfer(case_id, 1, Role.TAX))
    expect_revert(
        lambda: act(st.tax, PropertyCall.approve_transfer(case_id, 1, Role.TAX)),
        "PropertyRegistryAlreadyApproved",
        department=TAX,
    )
    seized = act(st.court, PropertyCall.register_seizure(unit, keccak(text="r")))
    seizure = prop.receipt_event(seized, "SeizureRegistered")
    assert seizure["court"] == COURT
    expect_revert(
        lambda: act(st.other_court, PropertyCall.release_seizure(unit, int(seizure["seizureId"]))),
        "PropertyRegistryNotSeizingCourt",
    )
    act(st.housing, PropertyCall.approve_transfer(case_id, 1, Role.HOUSING))
    # The completing approval is refused while the unit is seized, relayed or not.
    expect_revert(
        lambda: act(st.natres, PropertyCall.approve_transfer(case_id, 1, Role.NATRES)), "PropertyRegistryUnitSeized"
    )
