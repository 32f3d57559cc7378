"""A replayed property step (its calldata is public once mined) costs the relay a bounded number
of ``eth_getLogs``, however old the step: the steps the relay sent or found are answered from its
own record, a repeat from its cache, and the search for a step it never saw stops after a
look-back of ``property_lookback_chunks`` chunks (409 NONCE_USED) instead of scanning to the
deployment block.

The requests are counted at the relay's own web3 provider; the node is the real Hardhat node,
``hardhat_mine`` buries the step under tens of thousands of blocks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from chain.property import PropertyCall
from chain.types import Role
from tests.property_setup import Setup, s  # noqa: F401 - the fixture
from tests.registry_api.conftest import MakeRelay, runtime_of
from tests.registry_api.rpc_count import counting_rpc
from tests.registry_api.test_property import Window, error_code, signed_json

pytestmark = pytest.mark.chain

#: Blocks per eth_getLogs, and how many chunks back the relay looks for a step it never saw.
CHUNK = 100
LOOKBACK = 10
#: Far more blocks than the look-back covers (today's code scanned all of them, chunk by chunk).
BURIED = 20_000


def relay_for(s: Setup, make_relay: MakeRelay, **overrides: Any) -> TestClient:  # noqa: F811
    return make_relay(
        deployments_dir=s.world.settings.deployments_dir,
        log_chunk_size=CHUNK,
        property_lookback_chunks=LOOKBACK,
        **overrides,
    )


def approval(w: Window, case_id: int) -> tuple[str, dict[str, Any], Any]:
    signed = w.sign(w.s.tax.account, PropertyCall.approve_transfer(case_id, 1, Role.TAX))
    return f"/v1/property/transfers/{case_id}/approvals", {"round": 1, "roles": ["TAX"], **signed_json(signed)}, signed


def test_a_step_the_relay_sent_is_answered_from_its_record(
    s: Setup,  # noqa: F811
    make_relay: MakeRelay,
    tmp_path: Path,
) -> None:
    w = Window(s, relay_for(s, make_relay))
    unit, _ = s.register()
    case_id, _ = s.open(unit)
    path, body, _ = approval(w, case_id)
    first = w.client.post(path, json=body)
    assert first.status_code == 200, first.text
    s.world.mine(BURIED)
    with counting_rpc(runtime_of(w.client).registry.client) as rpc:
        again = w.client.post(path, json=body)
    assert again.status_code == 200 and again.json()["duplicate"] is True, again.text
    assert again.json()["txHash"] == first.json()["txHash"] and again.json()["events"] == first.json()["events"]
    assert rpc["eth_getLogs"] == 0, rpc.calls
    # The record is in the relay's store: a restarted relay on the same queue knows the step too.
    restarted = relay_for(s, make_relay)
    with counting_rpc(runtime_of(restarted).registry.client) as rpc:
        third = restarted.post(path, json=body)
    assert third.status_code == 200 and third.json()["txHash"] == first.json()["txHash"], third.text
    assert rpc["eth_getLogs"] == 0, rpc.calls


def test_a_step_sent_elsewhere_is_found_within_the_lookback_then_remembered(
    s: Setup,  # noqa: F811
    make_relay: MakeRelay,
) -> None:
    w = Window(s, relay_for(s, make_relay))
    unit, _ = s.register()
    case_id, _ = s.open(unit)
    path, body, signed = approval(w, case_id)
    receipt = s.prop.execute_signed(s.natres, signed)  # another relay sent it
    s.world.mine(CHUNK * 3)
    with counting_rpc(runtime_of(w.client).registry.client) as rpc:
        again = w.client.post(path, json=body)
    assert again.status_code == 200 and again.json()["duplicate"] is True, again.text
    assert again.json()["txHash"] == receipt.tx_hash
    assert 1 <= rpc["eth_getLogs"] <= LOOKBACK, rpc.calls
    with counting_rpc(runtime_of(w.client).registry.client) as rpc:
        repeat = w.client.post(path, json=body)
    assert repeat.status_code == 200 and repeat.json()["txHash"] == receipt.tx_hash
    assert rpc["eth_getLogs"] == 0, rpc.calls


def test_a_step_older_than_the_lookback_is_refused_without_scanning_toward_genesis(
    s: Setup,  # noqa: F811
    make_relay: MakeRelay,
) -> None:
    w = Window(s, relay_for(s, make_relay))
    unit, _ = s.register()
    case_id, _ = s.open(unit)
    steps = []
    for key, role in ((s.tax.account, Role.TAX), (s.housing.account, Role.HOUSING)):
        signed = w.sign(key, PropertyCall.approve_transfer(case_id, 1, role))
        s.prop.execute_signed(s.natres, signed)  # another relay sent them
        steps.append({"round": 1, "roles": [role.name], **signed_json(signed)})
    path = f"/v1/property/transfers/{case_id}/approvals"
    counts = []
    for body in steps:  # the second is buried under twice as many blocks: not one eth_getLogs more
        s.world.mine(BURIED)
        with counting_rpc(runtime_of(w.client).registry.client) as rpc:
            old = w.client.post(path, json=body)
        assert old.status_code == 409 and error_code(old) == "NONCE_USED", old.text
        assert f"more than {CHUNK * LOOKBACK} blocks ago" in old.json()["error"]["message"]
        counts.append(rpc["eth_getLogs"])
    assert counts == [LOOKBACK, LOOKBACK], counts
    with counting_rpc(runtime_of(w.client).registry.client) as rpc:
        repeat = w.client.post(path, json=steps[0])
    assert repeat.status_code == 409 and error_code(repeat) == "NONCE_USED"
    assert rpc["eth_getLogs"] == 0, rpc.calls
    # Another step under the same nonce is a conflict, whatever the age.
    nonce = int(steps[0]["nonce"])
    other = w.sign(s.tax.account, PropertyCall.reject_transfer(case_id, 3), nonce=nonce)
    conflict = w.client.post(f"/v1/property/transfers/{case_id}/rejection", json={"reason": 3, **signed_json(other)})
    assert conflict.status_code == 409 and error_code(conflict) == "NONCE_USED"
