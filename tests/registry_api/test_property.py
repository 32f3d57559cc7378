"""The relay's property workflow endpoints over the real node: each step signed by the acting
department's key, sent by the relay's own account, answered with the step's events; replays,
refusals with their codes, and a step that is not mined within the relay's wait.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from fastapi.testclient import TestClient

from chain.errors import ContractRevert
from chain.property import CaseState, Certificate, Owner, PropertyCall, SignedAction, sign_action
from chain.registry import deployment_record_path, read_deployment_record
from chain.types import REASON_CORRECTED, Action, Role, State, StatusChange
from devstack.hardhat import rpc
from registry_api.property import refusal
from tests.factories import NATRES, TAX, expect_revert
from tests.property_setup import (
    BANK,
    BUYER,
    CORRECTED_BUYERS,
    SELLERS,
    UNIT_NUMBER,
    Setup,
    owners,
    s,  # noqa: F401 - the fixture
    unit_of,
)
from tests.registry_api.conftest import MakeRelay, anchor_json, change_json, runtime_of

pytestmark = pytest.mark.chain


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def certificate_json(cert: Certificate) -> dict[str, Any]:
    return {"root": _hex(cert.root), "target": _hex(cert.target), "proof": [_hex(p) for p in cert.proof]}


def owners_json(items: list[Owner]) -> list[dict[str, Any]]:
    return [{"commitment": _hex(o.commitment), "share": o.share} for o in items]


def signed_json(signed: SignedAction) -> dict[str, Any]:
    return {"nonce": str(signed.nonce), "deadline": signed.deadline, "signature": _hex(signed.signature)}


class Window:
    """A department's client of the relay: signs each step with its key, posts it, returns the answer."""

    def __init__(self, setup: Setup, client: TestClient) -> None:
        self.s = setup
        self.client = client
        self._nonce = 1000

    def sign(self, key: LocalAccount, call: PropertyCall, *, nonce: int | None = None, deadline: int | None = None):
        if nonce is None:
            self._nonce += 1
            nonce = self._nonce
        return sign_action(
            key,
            chain_id=self.s.world.chain_id,
            registry=self.s.prop.address,
            data=self.s.prop.calldata(call),
            nonce=nonce,
            deadline=deadline if deadline is not None else self.s.world.now() + 3600,
        )

    def post(self, key: LocalAccount, call: PropertyCall, path: str, body: dict[str, Any], **sign: Any) -> Any:
        signed = self.sign(key, call, **sign)
        return self.client.post(path, json={**body, **signed_json(signed)})

    # the steps, as a window would call them
    def register(self, key: LocalAccount, unit: bytes, cert: Certificate, people: list[Owner], **kw: Any) -> Any:
        call = PropertyCall.register_unit(unit, cert, people)
        body = {"certificate": certificate_json(cert), "owners": owners_json(people)}
        return self.post(key, call, f"/v1/property/units/{_hex(unit)}", body, **kw)

    def open(self, key: LocalAccount, unit: bytes, cert: Certificate, people: list[Owner], **kw: Any) -> Any:
        call = PropertyCall.open_transfer(unit, cert, people)
        body = {"certificate": certificate_json(cert), "owners": owners_json(people)}
        return self.post(key, call, f"/v1/property/units/{_hex(unit)}/transfers", body, **kw)

    def approve(self, key: LocalAccount, case_id: int, role: Role, round_: int = 1, **kw: Any) -> Any:
        call = PropertyCall.approve_transfer(case_id, round_, role)
        body = {"round": round_, "roles": [r.name for r in Role if r and r in role]}
        return self.post(key, call, f"/v1/property/transfers/{case_id}/approvals", body, **kw)

    def open_correction(
        self, key: LocalAccount, unit: bytes, cert: Certificate | None, people: list[Owner], reason: int, **kw: Any
    ) -> Any:
        call = PropertyCall.open_correction(unit, cert, people, reason)
        body: dict[str, Any] = {"owners": owners_json(people), "reason": reason}
        if cert is not None:
            body["certificate"] = certificate_json(cert)
        return self.post(key, call, f"/v1/property/units/{_hex(unit)}/corrections", body, **kw)

    def approve_correction(self, key: LocalAccount, case_id: int, **kw: Any) -> Any:
        call = PropertyCall.approve_correction(case_id)
        return self.post(key, call, f"/v1/property/corrections/{case_id}/approvals", {}, **kw)


@pytest.fixture
def w(s: Setup, make_relay: MakeRelay) -> Window:  # noqa: F811 - s is the imported fixture
    # The relay finds the PropertyRegistry in the deployment record, as in production.
    return Window(s, make_relay(deployments_dir=s.world.settings.deployments_dir))


def events(response: Any, name: str) -> list[dict[str, Any]]:
    return [e["args"] for e in response.json()["events"] if e["event"] == name]


def error_code(response: Any) -> str:
    body = response.json()
    assert body["error"]["message"] and body["error"]["message_zh"], body
    return str(body["error"]["code"])


def test_second_hand_flat_transferred_through_the_relay(w: Window) -> None:
    st, prop = w.s, w.s.prop
    unit, old = unit_of(UNIT_NUMBER), st.certificate()
    r = w.register(st.natres.account, unit, old, owners(SELLERS, (6000, 4000)))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == "EXECUTED" and body["duplicate"] is False and body["function"] == "registerUnit"
    assert body["signer"] == st.natres.address and body["txHash"].startswith("0x") and body["gasUsed"] > 0
    assert events(r, "UnitRegistered")[0]["department"] == _hex(NATRES)
    new = st.certificate()
    r = w.open(st.natres.account, unit, new, owners((BUYER,), (10_000,)))
    case_id = int(events(r, "TransferOpened")[0]["caseId"])
    for sender, role in ((st.tax, Role.TAX), (st.housing, Role.HOUSING)):
        r = w.approve(sender.account, case_id, role)
        assert r.status_code == 200, r.text
        assert not events(r, "TransferFinalized")
    r = w.approve(st.natres.account, case_id, Role.NATRES)
    final = events(r, "TransferFinalized")[0]
    assert final["certTarget"] == _hex(new.target) and final["previousTarget"] == _hex(old.target)
    assert prop.transfer_case(case_id).state is CaseState.FINALIZED
    assert st.status(old) is State.SUPERSEDED and st.status(new) is State.ACTIVE
    # The relay's account sent the transaction; it acts for no department.
    tx = st.world.client.w3.eth.get_transaction(r.json()["txHash"])
    assert tx["from"] == st.world.relayer.address
    # What the chain says now, through the relay.
    view = w.client.get(f"/v1/property/units/{_hex(unit)}").json()
    assert view["certTarget"] == _hex(new.target) and view["owners"] == owners_json(owners((BUYER,), (10_000,)))
    assert view["openCase"] is None
    case = w.client.get(f"/v1/property/transfers/{case_id}", params={"unitId": _hex(unit)}).json()
    assert case["state"] == "FINALIZED" and sorted(case["approvedRoles"]) == ["HOUSING", "NATRES", "TAX"]
    metrics = w.client.get("/metrics").text
    assert 'ereg_relay_property_steps_total{function="approveTransfer",outcome="EXECUTED"} 3.0' in metrics


def test_the_same_signed_step_twice_is_one_step(w: Window) -> None:
    st = w.s
    unit, _ = st.register()
    case_id, _ = st.open(unit)
    signed = w.sign(st.tax.account, PropertyCall.approve_transfer(case_id, 1, Role.TAX))
    body = {"round": 1, "roles": ["TAX"], **signed_json(signed)}
    first = w.client.post(f"/v1/property/transfers/{case_id}/approvals", json=body)
    again = w.client.post(f"/v1/property/transfers/{case_id}/approvals", json=body)
    assert first.status_code == again.status_code == 200, again.text
    assert again.json()["duplicate"] is True and again.json()["txHash"] == first.json()["txHash"]
    assert again.json()["events"] == first.json()["events"]
    assert len(st.prop.transfer_case(case_id).approved_roles) == 1
    # Another step under the same nonce is a conflict, not a duplicate.
    other = w.sign(st.tax.account, PropertyCall.reject_transfer(case_id, 3), nonce=signed.nonce)
    r = w.client.post(f"/v1/property/transfers/{case_id}/rejection", json={"reason": 3, **signed_json(other)})
    assert r.status_code == 409 and error_code(r) == "NONCE_USED"
    assert st.prop.transfer_case(case_id).state is CaseState.OPEN


def test_refusals_carry_the_registry_code_and_send_nothing(w: Window) -> None:
    st = w.s
    relayer = st.world.relayer.address
    eth = st.world.client.w3.eth
    unit, _ = st.register()
    case_id, _ = st.open(unit)
    sent_before = eth.get_transaction_count(relayer)

    def refused(response: Any, status: int, code: str) -> None:
        assert response.status_code == status, response.text
        assert error_code(response) == code

    refused(w.approve(st.bank.account, case_id, Role.TAX), 403, "NOT_AUTHORIZED")  # a bank approving as TAX
    refused(w.approve(st.tax.account, 999, Role.TAX), 404, "UNKNOWN_CASE")
    refused(w.approve(st.tax.account, case_id, Role.TAX, round_=2), 409, "STALE_ROUND")
    refused(w.approve(st.world.sender(st.world.new_account()).account, case_id, Role.TAX), 401, "UNKNOWN_KEY")
    refused(w.approve(st.tax.account, case_id, Role.TAX, deadline=st.world.now() - 5), 401, "EXPIRED")
    bad_shares = owners((BUYER, SELLERS[0]), (5000, 4000))
    refused(w.register(st.natres.account, unit_of("另一单元"), st.certificate(), bad_shares), 422, "INVALID_SHARES")
    refused(w.register(st.natres.account, unit, st.certificate(), owners((BUYER,), (10_000,))), 409, "UNIT_EXISTS")
    # The body says TAX, the key signed HOUSING: the signature recovers to a stranger.
    signed = w.sign(st.tax.account, PropertyCall.approve_transfer(case_id, 1, Role.HOUSING))
    r = w.client.post(
        f"/v1/property/transfers/{case_id}/approvals", json={"round": 1, "roles": ["TAX"], **signed_json(signed)}
    )
    refused(r, 401, "UNKNOWN_KEY")
    # Signed for another chain or registry, as the body says.
    signed = w.sign(st.tax.account, PropertyCall.approve_transfer(case_id, 1, Role.TAX))
    auth = signed_json(signed)
    body = {"round": 1, "roles": ["TAX"], **auth}
    path = f"/v1/property/transfers/{case_id}/approvals"
    refused(w.client.post(path, json={**body, "chainId": st.world.chain_id + 1}), 403, "WRONG_CHAIN")
    refused(w.client.post(path, json={**body, "registry": st.world.registry.address}), 403, "WRONG_CHAIN")
    # Malformed requests.
    refused(w.client.post(path, json={**body, "roles": ["COURT"]}), 422, "INVALID_REQUEST")
    refused(w.client.post(path, json={**body, "signature": "0x" + "00" * 65}), 401, "BAD_SIGNATURE")
    no_point = "0x" + "d488307195c6e140bf08fc8ec99c196af33684cd2db14cc0fbf518e363dabcfa" + "11" * 32 + "1c"
    refused(w.client.post(path, json={**body, "signature": no_point}), 401, "BAD_SIGNATURE")
    refused(w.client.post(path, json={**body, "extra": 1}), 422, "INVALID_REQUEST")
    refused(
        w.client.post("/v1/property/units/0x1234/seizures", json={"ruling": _hex(keccak(b"r")), **auth}),
        400,
        "INVALID_UNIT",
    )
    refused(w.client.get(f"/v1/property/units/{_hex(unit_of('无此单元'))}"), 404, "UNKNOWN_UNIT")
    refused(w.client.get("/v1/property/transfers/999", params={"unitId": _hex(unit)}), 404, "UNKNOWN_CASE")
    refused(w.client.post(path, content=b"{", headers={"content-type": "application/json"}), 400, "MALFORMED_JSON")
    assert eth.get_transaction_count(relayer) == sent_before
    # The signature that was refused with the wrong body is good with the right one.
    assert w.client.post(path, json=body).status_code == 200


def test_seizure_and_mortgage_steps_through_the_relay(w: Window) -> None:
    st = w.s
    unit, _ = st.register()
    u = _hex(unit)
    # A bank registers its mortgage, evidenced by a mortgage certificate anchored by NATRES.
    mortgage_cert = st.certificate("mortgage-certificate")
    call = PropertyCall.register_mortgage(unit, mortgage_cert)
    r = w.post(
        st.bank.account, call, f"/v1/property/units/{u}/mortgages", {"certificate": certificate_json(mortgage_cert)}
    )
    assert r.status_code == 200, r.text
    mortgage_id = int(events(r, "MortgageRegistered")[0]["mortgageId"])
    assert events(r, "MortgageRegistered")[0]["bank"] == _hex(BANK)
    case_id, _ = st.open(unit)
    for sender, role in ((st.tax, Role.TAX), (st.housing, Role.HOUSING)):
        assert w.approve(sender.account, case_id, role).status_code == 200
    r = w.approve(st.natres.account, case_id, Role.NATRES)
    assert r.status_code == 409 and error_code(r) == "MORTGAGE_NOT_CONSENTED"
    # A court seizes the unit: nothing finalizes until that court releases it.
    ruling = keccak(text="(2026)皖1502执保12号")
    r = w.post(
        st.court.account,
        PropertyCall.register_seizure(unit, ruling),
        f"/v1/property/units/{u}/seizures",
        {"ruling": _hex(ruling)},
    )
    seizure_id = int(events(r, "SeizureRegistered")[0]["seizureId"])
    call = PropertyCall.consent_to_transfer(case_id, 1, mortgage_id)
    r = w.post(
        st.bank.account, call, f"/v1/property/transfers/{case_id}/consents", {"round": 1, "mortgageId": mortgage_id}
    )
    assert r.status_code == 200, r.text
    r = w.approve(st.natres.account, case_id, Role.NATRES)
    assert r.status_code == 409 and error_code(r) == "UNIT_SEIZED"
    release = PropertyCall.release_seizure(unit, seizure_id)
    r = w.post(st.other_court.account, release, f"/v1/property/units/{u}/seizures/{seizure_id}/release", {})
    assert r.status_code == 403 and error_code(r) == "NOT_SEIZING_COURT"
    r = w.post(st.court.account, release, f"/v1/property/units/{u}/seizures/{seizure_id}/release", {})
    assert r.status_code == 200 and events(r, "SeizureReleased")
    r = w.approve(st.natres.account, case_id, Role.NATRES)
    assert r.status_code == 200 and events(r, "TransferFinalized")
    # The mortgage stays registered until its bank releases it.
    release_m = PropertyCall.release_mortgage(unit, mortgage_id)
    r = w.post(st.other_bank.account, release_m, f"/v1/property/units/{u}/mortgages/{mortgage_id}/release", {})
    assert r.status_code == 403 and error_code(r) == "NOT_MORTGAGEE"
    r = w.post(st.bank.account, release_m, f"/v1/property/units/{u}/mortgages/{mortgage_id}/release", {})
    assert r.status_code == 200 and not st.prop.unit_state(unit).mortgages


def test_return_resubmit_reject_and_cancel_through_the_relay(w: Window) -> None:
    st = w.s
    unit, _ = st.register()
    case_id, _ = st.open(unit)
    assert w.approve(st.tax.account, case_id, Role.TAX).status_code == 200
    call = PropertyCall.return_transfer(case_id, 4)
    r = w.post(st.housing.account, call, f"/v1/property/transfers/{case_id}/return", {"reason": 4})
    assert events(r, "TransferReturned")[0]["reason"] == 4
    corrected, people = st.certificate(), owners((BUYER,), (10_000,))
    call = PropertyCall.resubmit_transfer(case_id, corrected, people)
    body = {"certificate": certificate_json(corrected), "owners": owners_json(people)}
    r = w.post(st.natres.account, call, f"/v1/property/transfers/{case_id}/resubmission", body)
    assert events(r, "TransferResubmitted")[0]["round"] == 2
    assert w.approve(st.tax.account, case_id, Role.TAX).status_code == 409  # round 1 is over
    assert w.approve(st.tax.account, case_id, Role.TAX, round_=2).status_code == 200
    call = PropertyCall.reject_transfer(case_id, 7)
    r = w.post(st.tax.account, call, f"/v1/property/transfers/{case_id}/rejection", {"reason": 7})
    assert r.status_code == 200 and st.prop.transfer_case(case_id).state is CaseState.REJECTED
    case_id, _ = st.open(unit)
    call = PropertyCall.cancel_transfer(case_id, 0)
    r = w.post(st.tax.account, call, f"/v1/property/transfers/{case_id}/cancellation", {"reason": 0})
    assert r.status_code == 403 and error_code(r) == "NOT_AUTHORIZED"  # only NATRES cancels
    r = w.post(st.natres.account, call, f"/v1/property/transfers/{case_id}/cancellation", {})
    assert r.status_code == 200 and st.prop.transfer_case(case_id).state is CaseState.CANCELLED


def test_a_step_not_mined_in_time_is_submitted_and_sending_it_again_tells_the_outcome(
    s: Setup,  # noqa: F811
    make_relay: MakeRelay,
) -> None:
    w = Window(s, make_relay(deployments_dir=s.world.settings.deployments_dir, property_wait=0.3))
    unit, _ = s.register()
    signed = w.sign(s.court.account, PropertyCall.register_seizure(unit, keccak(text="ruling")))
    body = {"ruling": _hex(keccak(text="ruling")), **signed_json(signed)}
    url = s.world.node.rpc_url
    rpc(url, "evm_setAutomine", [False])
    try:
        r = w.client.post(f"/v1/property/units/{_hex(unit)}/seizures", json=body)
        assert r.status_code == 202, r.text
        assert r.json()["state"] == "SUBMITTED" and r.json()["events"] == []
        tx_hash = r.json()["txHash"]
        assert not s.prop.unit_state(unit).seized
        rpc(url, "evm_mine")
    finally:
        rpc(url, "evm_setAutomine", [True])
    again = w.client.post(f"/v1/property/units/{_hex(unit)}/seizures", json=body)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert again.json()["txHash"] == tx_hash and events(again, "SeizureRegistered")
    assert len(s.prop.unit_state(unit).seizures) == 1


def test_without_a_property_registry_the_steps_answer_503(
    s: Setup,  # noqa: F811
    make_relay: MakeRelay,
    tmp_path: Path,
) -> None:
    client = make_relay(deployments_dir=tmp_path / "empty")
    assert client.get("/healthz").json()["propertyRegistry"] is None
    w = Window(s, client)
    r = w.approve(s.tax.account, 1, Role.TAX)
    assert r.status_code == 503 and error_code(r) == "PROPERTY_REGISTRY_UNAVAILABLE"
    # A recorded PropertyRegistry wired to another DocumentRegistry is not used.
    record = read_deployment_record(s.world.settings.deployments_dir, s.world.chain_id)
    assert record is not None
    record["contracts"]["PropertyRegistry"]["documentRegistry"] = "0x" + "11" * 20
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    deployment_record_path(elsewhere, s.world.chain_id).write_text(json.dumps(record), encoding="utf-8")
    client = make_relay(deployments_dir=elsewhere)
    assert client.get("/healthz").json()["propertyRegistry"] is None
    r = Window(s, client).approve(s.tax.account, 1, Role.TAX)
    assert r.status_code == 503 and "another DocumentRegistry" in r.json()["error"]["message"]
    # Named in the settings, it is used (and reported) without any record.
    client = make_relay(deployments_dir=tmp_path / "empty", property_registry_address=s.prop.address)
    assert client.get("/healthz").json()["propertyRegistry"] == s.prop.address
    assert runtime_of(client).property.registry().address == s.prop.address


def test_steps_and_batches_share_the_relayer_key_without_nonce_clashes(
    s: Setup,  # noqa: F811
    make_relay: MakeRelay,
) -> None:
    """Property steps are sent while the batcher sends anchoring batches from the same account."""
    client = make_relay(deployments_dir=s.world.settings.deployments_dir, run_batcher=True, batch_age=0.05)
    w = Window(s, client)
    units = [unit_of(f"341502001001GB00003F{n:08d}") for n in range(6)]
    certificates = [s.certificate() for _ in units]
    roots: list[str] = []
    errors: list[str] = []

    def anchor_many() -> None:
        for _ in range(12):
            signed = s.world.sign_anchor(os.urandom(32))
            r = client.post("/v1/anchors", json=[anchor_json(signed)])
            if r.status_code != 202:
                errors.append(r.text)
            roots.append(_hex(signed.root))
            time.sleep(0.03)

    anchoring = threading.Thread(target=anchor_many)
    anchoring.start()
    for unit, cert in zip(units, certificates, strict=True):
        r = w.register(s.natres.account, unit, cert, owners(SELLERS, (6000, 4000)))
        assert r.status_code == 200, r.text
    anchoring.join()
    assert not errors, errors
    assert all(s.prop.unit_state(u).registered for u in units)
    give_up = time.monotonic() + 30
    while time.monotonic() < give_up:
        states = [client.get(f"/v1/anchors/{root}").json()["requests"][0]["state"] for root in roots]
        if all(state == "FINAL" for state in states):
            break
        time.sleep(0.1)
    assert states == ["FINAL"] * len(roots), states


# ------------------------------------------------------------------------------ corrections
def test_a_correction_replaces_the_title_once_a_second_department_approves(w: Window) -> None:
    st = w.s
    relayer, eth = st.world.relayer.address, st.world.client.w3.eth
    unit, old = st.register()
    new, people = st.certificate(), owners(CORRECTED_BUYERS, (5000, 5000))
    r = w.open_correction(st.natres.account, unit, new, people, reason=2)
    assert r.status_code == 200, r.text
    opened = events(r, "CorrectionOpened")[0]
    case_id = int(opened["caseId"])
    assert opened["certTarget"] == _hex(new.target) and opened["department"] == _hex(NATRES)
    view = w.client.get(f"/v1/property/corrections/{case_id}", params={"unitId": _hex(unit)}).json()
    assert (view["kind"], view["state"], view["reason"]) == ("CORRECTION", "OPEN", 2)
    sent_before = eth.get_transaction_count(relayer)
    # the opener does not approve its own correction, a bank never does, a transfer's step does not apply
    r = w.approve_correction(st.natres.account, case_id)
    assert r.status_code == 409 and error_code(r) == "ALREADY_APPROVED", r.text
    r = w.approve_correction(st.bank.account, case_id)
    assert r.status_code == 403 and error_code(r) == "NOT_AUTHORIZED", r.text
    r = w.approve(st.tax.account, case_id, Role.TAX)
    assert r.status_code == 409 and error_code(r) == "WRONG_CASE_KIND", r.text
    assert "PropertyRegistryWrongCaseKind" in r.json()["error"]["message"]
    assert eth.get_transaction_count(relayer) == sent_before  # refused at the estimate: nothing sent
    assert st.status(old) is State.ACTIVE
    r = w.approve_correction(st.tax.account, case_id)
    assert r.status_code == 200, r.text
    assert events(r, "CorrectionApproved")[0]["department"] == _hex(TAX)
    corrected = events(r, "TitleCorrected")[0]
    assert corrected["certTarget"] == _hex(new.target) and corrected["previousTarget"] == _hex(old.target)
    assert st.status(old) is State.SUPERSEDED and st.status(new) is State.ACTIVE
    assert st.world.registry.document_status(NATRES, old.root, old.target).document.reason == REASON_CORRECTED
    unit_view = w.client.get(f"/v1/property/units/{_hex(unit)}").json()
    assert unit_view["certTarget"] == _hex(new.target) and unit_view["owners"] == owners_json(people)
    of_unit = {"unitId": _hex(unit)}
    assert w.client.get(f"/v1/property/corrections/{case_id}", params=of_unit).json()["state"] == "FINALIZED"
    r = w.approve_correction(st.housing.account, case_id)
    assert r.status_code == 409 and error_code(r) == "INVALID_CASE_STATE"
    # a transfer case is no correction: neither read nor approved as one
    transfer_id, _ = st.open(unit)
    r = w.approve_correction(st.tax.account, transfer_id)
    assert r.status_code == 409 and error_code(r) == "WRONG_CASE_KIND"
    r = w.client.get(f"/v1/property/corrections/{transfer_id}", params={"unitId": _hex(unit)})
    assert r.status_code == 404 and error_code(r) == "UNKNOWN_CASE"
    assert w.client.get(f"/v1/property/transfers/{transfer_id}", params=of_unit).json()["kind"] == "TRANSFER"
    metrics = w.client.get("/metrics").text
    assert 'ereg_relay_property_steps_total{function="approveCorrection",outcome="EXECUTED"} 1.0' in metrics


def test_a_correction_without_a_certificate_revokes_the_title(w: Window) -> None:
    st = w.s
    unit, old = st.register()
    r = w.open_correction(st.natres.account, unit, None, [], reason=5)
    assert r.status_code == 200, r.text
    case_id = int(events(r, "CorrectionOpened")[0]["caseId"])
    r = w.approve_correction(st.court.account, case_id)  # a court may approve a correction
    assert r.status_code == 200, r.text
    assert events(r, "TitleCorrected")[0]["certTarget"] == _hex(bytes(32))
    assert st.status(old) is State.REVOKED
    r = w.client.get(f"/v1/property/units/{_hex(unit)}")
    assert r.status_code == 404 and error_code(r) == "UNKNOWN_UNIT"
    # the unit has no title: it can be registered again, with a new certificate
    r = w.register(st.natres.account, unit, st.certificate(), owners((BUYER,), (10_000,)))
    assert r.status_code == 200, r.text


def test_correction_bodies_that_say_two_things_are_refused_before_sending(w: Window) -> None:
    st = w.s
    relayer, eth = st.world.relayer.address, st.world.client.w3.eth
    unit, _ = st.register()
    sent_before = eth.get_transaction_count(relayer)
    people = owners((BUYER,), (10_000,))
    cases = [
        (None, people),  # owners without a certificate
        (st.certificate(), []),  # a certificate without owners
        (Certificate(st.certificate().root, bytes(32)), people),  # a zero target reads as "revoke"
    ]
    for cert, who in cases:
        r = w.open_correction(st.natres.account, unit, cert, who, reason=1)
        assert r.status_code == 422 and error_code(r) == "INVALID_CORRECTION", r.text
        assert r.json()["error"]["message_zh"].startswith("更正登记")
    assert eth.get_transaction_count(relayer) == sent_before
    # a correction while a transfer is open: the registry's refusal, with its code
    st.open(unit)
    r = w.open_correction(st.natres.account, unit, st.certificate(), people, reason=1)
    assert r.status_code == 409 and error_code(r) == "CASE_ALREADY_OPEN"


def test_an_approval_with_two_roles_is_refused_before_sending(w: Window) -> None:
    st = w.s
    relayer, eth = st.world.relayer.address, st.world.client.w3.eth
    unit, _ = st.register()
    case_id, _ = st.open(unit)
    sent_before = eth.get_transaction_count(relayer)
    r = w.approve(st.tax.account, case_id, Role.TAX | Role.HOUSING)
    assert r.status_code == 422 and error_code(r) == "INVALID_APPROVAL_ROLES", r.text
    assert "exactly one role" in r.json()["error"]["message"] and "职能" in r.json()["error"]["message_zh"]
    assert eth.get_transaction_count(relayer) == sent_before
    assert st.prop.transfer_case(case_id).approved_roles == Role.NONE
    metrics = w.client.get("/metrics").text
    assert 'ereg_relay_property_steps_total{function="approveTransfer",outcome="INVALID_APPROVAL_ROLES"} 1.0' in metrics
    # the contract agrees: signed and sent directly, the same call reverts with the same code
    two_roles = PropertyCall.approve_transfer(case_id, 1, Role.TAX | Role.HOUSING)
    roles = int(Role.TAX | Role.HOUSING)
    expect_revert(lambda: st.prop.execute(st.tax, two_roles), "PropertyRegistryInvalidApprovalRoles", roles=roles)
    assert w.approve(st.tax.account, case_id, Role.TAX).status_code == 200


def test_a_certificate_in_use_is_refused_with_its_code(w: Window) -> None:
    st = w.s
    _, title = st.register()
    other = unit_of("341502001001GB00002F00020002")
    r = w.register(st.natres.account, other, title, owners((BUYER,), (10_000,)))
    assert r.status_code == 409 and error_code(r) == "CERTIFICATE_IN_USE", r.text
    assert "不动产单元" in r.json()["error"]["message_zh"]


def test_a_titles_certificate_changes_only_through_the_workflow(w: Window) -> None:
    """NATRES's own certificate, once a unit's title, is locked: a status change through the relay
    is refused with TITLE_LOCKED (the document, and the whole batch holding it), nothing queued."""
    st = w.s
    _, title = st.register()
    document = StatusChange(Action.REVOKE, title.root, title.target, list(title.proof), reason=1)
    batch = StatusChange(Action.SUSPEND, title.root, reason=1)
    for change in (document, batch):
        signed = st.world.sign_change(change, key=st.world.natres_key)
        r = w.client.post("/v1/status-changes", json=[change_json(signed)])
        assert r.status_code == 409 and error_code(r) == "TITLE_LOCKED", r.text
        assert "DocumentRegistryTitleLocked" in r.json()["error"]["message"]
        assert "不动产" in r.json()["error"]["message_zh"]
    assert sum(runtime_of(w.client).queue.counts().values()) == 0
    assert st.status(title) is State.ACTIVE


@pytest.mark.parametrize(
    "name",
    [
        "PropertyRegistryWrongCaseKind",
        "PropertyRegistryMortgageCertificateUsed",
        "PropertyRegistryCertificateInUse",
        "DocumentRegistryTitleLocked",
        "IssuerRegistryConflictingRoles",
        "PropertyRegistryInvalidApprovalRoles",
    ],
)
def test_the_new_custom_errors_have_codes_and_chinese_messages(name: str) -> None:
    error = refusal(ContractRevert(name, {}))
    assert error.code != "CONTRACT_REFUSED" and 400 <= error.status_code < 500
    assert name in error.message and re.search(r"[\u4e00-\u9fff]", error.message_zh)


def test_a_case_is_read_only_with_its_units_id(w: Window) -> None:
    """Case ids count up from 1 and a case names its unit: read by its id alone, every case would
    give away its unit's id, and with it the unit's records, to anyone walking the numbers. A
    case is read with its unit's id; another unit's id answers as a case that does not exist."""
    st = w.s
    unit, _ = st.register()
    case_id, _ = st.open(unit)
    other = _hex(unit_of("341502001001GB00009F00090009"))
    for kind in ("transfers", "corrections"):
        r = w.client.get(f"/v1/property/{kind}/{case_id}")
        assert r.status_code == 422 and error_code(r) == "INVALID_REQUEST", r.text
        assert _hex(unit) not in r.text
    r = w.client.get(f"/v1/property/transfers/{case_id}", params={"unitId": _hex(unit)})
    assert r.status_code == 200 and r.json()["unitId"] == _hex(unit) and r.json()["kind"] == "TRANSFER", r.text
    wrong = w.client.get(f"/v1/property/transfers/{case_id}", params={"unitId": other})
    missing = w.client.get("/v1/property/transfers/999", params={"unitId": other})
    assert wrong.status_code == missing.status_code == 404 and error_code(wrong) == "UNKNOWN_CASE", wrong.text
    assert wrong.json() == missing.json() and _hex(unit) not in wrong.text
    r = w.client.get(f"/v1/property/corrections/{case_id}", params={"unitId": other})
    assert r.status_code == 404 and error_code(r) == "UNKNOWN_CASE", r.text
