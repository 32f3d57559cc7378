"""From the queue to the chain: few transactions, nothing lost, nothing sent twice.

The batcher is driven round by round (``run_once``) except where the background thread is the
point. "Sent" is counted on chain: the relayer's transaction count and BatchAnchored events.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from chain.types import Action, State, StatusChange, type_id
from devstack.hardhat import start_hardhat, stop_hardhat
from registry_api.app import create_app
from registry_api.batcher import Batcher
from registry_api.messages import AnchorRequest
from registry_api.queue import ANCHORED, FINAL, PREPARED, QUEUED, REJECTED, SqliteQueue
from registry_api.relay import Relay
from tests.contracts.helpers import add_key, gov
from tests.factories import BUSINESS_LICENSE, NATRES, PROPERTY_CERTIFICATE, SAMR, World, build_world, wait_until
from tests.registry_api.conftest import MakeRelay, anchor_json, change_json, relay_settings, runtime_of

pytestmark = pytest.mark.chain


class Crash(Exception):
    """Stands in for the process dying at a chosen point."""


def relayer_nonce(world: World) -> int:
    return int(world.client.w3.eth.get_transaction_count(world.relayer.address))


def anchored_events(world: World, tx_hash: str) -> int:
    receipt = world.client.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
    return len(world.registry.contract.events.BatchAnchored().process_receipt(receipt))


def post_anchors(world: World, relay: TestClient, count: int, **kwargs: Any) -> list[str]:
    items = [anchor_json(world.sign_anchor(os.urandom(32), count=3, **kwargs)) for _ in range(count)]
    reply = relay.post("/v1/anchors", json=items)
    assert reply.status_code == 202, reply.text
    return [r["id"] for r in reply.json()["requests"]]


def states(relay: TestClient, ids: list[str]) -> list[str]:
    return [relay.get(f"/v1/requests/{i}").json()["state"] for i in ids]


def test_two_departments_anchored_in_one_transaction(world: World, relay: TestClient) -> None:
    before = relayer_nonce(world)
    samr = post_anchors(world, relay, 30)
    natres = post_anchors(world, relay, 20, key=world.natres_key, doc_type=PROPERTY_CERTIFICATE)
    runtime_of(relay).batcher.run_once(force=True)
    assert states(relay, samr + natres) == [FINAL] * 50
    records = [relay.get(f"/v1/requests/{i}").json() for i in samr + natres]
    tx_hashes = {r["txHash"] for r in records}
    assert len(tx_hashes) == 1 and relayer_nonce(world) == before + 1
    assert anchored_events(world, tx_hashes.pop()) == 50
    root = records[-1]["root"]
    view = relay.get(f"/v1/anchors/{root}").json()
    assert view["chain"]["anchored"] is True and view["chain"]["department"] == "0x" + NATRES.hex()
    assert view["requests"][0]["state"] == FINAL
    assert world.registry.document_status(SAMR, bytes.fromhex(records[0]["root"][2:])).anchored
    assert not world.registry.document_status(NATRES, bytes.fromhex(records[0]["root"][2:])).anchored


def test_batches_are_cut_by_count(world: World, make_relay: MakeRelay) -> None:
    relay = make_relay(batch_size=20)
    ids = post_anchors(world, relay, 45)
    before = relayer_nonce(world)
    runtime_of(relay).batcher.run_once(force=True)
    assert states(relay, ids) == [FINAL] * 45
    hashes = [relay.get(f"/v1/requests/{i}").json()["txHash"] for i in ids]
    assert [anchored_events(world, h) for h in dict.fromkeys(hashes)] == [20, 20, 5]
    assert relayer_nonce(world) == before + 3


def test_the_background_batcher_sends_by_age(world: World, make_relay: MakeRelay) -> None:
    relay = make_relay(run_batcher=True, batch_age=0.3)
    ids = post_anchors(world, relay, 5)
    assert wait_until(lambda: states(relay, ids) == [FINAL] * 5, timeout=15), states(relay, ids)
    again = post_anchors(world, relay, 3)
    assert wait_until(lambda: states(relay, again) == [FINAL] * 3, timeout=15)
    assert relay.get("/healthz").json()["batcher"]["running"] is True


def test_a_duplicate_is_anchored_once(world: World, relay: TestClient) -> None:
    signed = world.sign_anchor(os.urandom(32))
    first = relay.post("/v1/anchors", json=[anchor_json(signed)]).json()["requests"][0]["id"]
    runtime_of(relay).batcher.run_once(force=True)
    again = relay.post("/v1/anchors", json=[anchor_json(signed)]).json()["requests"][0]
    assert again["id"] == first and again["duplicate"] and again["state"] == FINAL
    before = relayer_nonce(world)
    runtime_of(relay).batcher.run_once(force=True)
    assert relayer_nonce(world) == before


def test_a_root_anchored_directly_meanwhile_is_final_without_resending(world: World, relay: TestClient) -> None:
    signed = [world.sign_anchor(os.urandom(32)) for _ in range(3)]
    ids = [r["id"] for r in relay.post("/v1/anchors", json=[anchor_json(s) for s in signed]).json()["requests"]]
    world.registry.anchor_signed(world.sender(world.new_account()), signed[1])  # someone else relays it first
    before = relayer_nonce(world)
    runtime_of(relay).batcher.run_once(force=True)
    assert states(relay, ids) == [FINAL] * 3
    middle = relay.get(f"/v1/requests/{ids[1]}").json()
    assert middle["reason"] == "anchored by another transaction" and middle["txHash"] is None
    assert relayer_nonce(world) == before + 1  # one transaction, with the two others only
    assert anchored_events(world, relay.get(f"/v1/requests/{ids[0]}").json()["txHash"]) == 2


def test_a_reverted_batch_loses_nothing(world: World, relay: TestClient) -> None:
    """The root gets anchored between the estimate and the mining: the batch reverts on chain."""
    signed = [world.sign_anchor(os.urandom(32)) for _ in range(3)]
    ids = [r["id"] for r in relay.post("/v1/anchors", json=[anchor_json(s) for s in signed]).json()["requests"]]
    runtime = runtime_of(relay)
    front_runner = world.sender(world.new_account())  # relays the same signed anchor first

    class Raced(Batcher):
        raced = False

        def _broadcast(self, raw: bytes) -> None:
            if not self.raced:
                self.raced = True
                world.registry.anchor_signed(front_runner, signed[2])
            super()._broadcast(raw)

    batcher = Raced(world.registry, runtime.queue, world.relayer)
    batcher.run_once(force=True)
    failed = [tx for tx in _all_transactions(runtime.queue) if tx.state == "FAILED"]
    assert len(failed) == 1 and failed[0].request_ids == ids
    batcher.run_once(force=True)
    assert states(relay, ids) == [FINAL] * 3
    assert relay.get(f"/v1/requests/{ids[2]}").json()["reason"] == "anchored by another transaction"


def test_a_front_run_by_another_department_is_still_anchored_for_the_requester(world: World, relay: TestClient) -> None:
    """Issue 10: another department anchoring the same roots first, before the round or between the
    estimate and the mining (a front-run from the mempool), claims nothing and blocks nothing: the
    relay anchors the roots for SAMR, in one transaction that does not revert, and they reach FINAL."""
    signed = [world.sign_anchor(os.urandom(32), count=7) for _ in range(2)]
    ids = [r["id"] for r in relay.post("/v1/anchors", json=[anchor_json(s) for s in signed]).json()["requests"]]
    natres = world.sender(world.natres_key)
    certificate = type_id(PROPERTY_CERTIFICATE)
    world.registry.anchor(natres, signed[0].root, certificate, 1)  # before the round
    runtime = runtime_of(relay)

    class FrontRun(Batcher):
        front_run = False

        def _broadcast(self, raw: bytes) -> None:
            if not self.front_run:
                self.front_run = True
                world.registry.anchor(natres, signed[1].root, certificate, 1)  # in the mempool's gap
            super()._broadcast(raw)

    before = relayer_nonce(world)
    FrontRun(world.registry, runtime.queue, world.relayer).run_once(force=True)
    assert states(relay, ids) == [FINAL] * 2
    assert not [tx for tx in _all_transactions(runtime.queue) if tx.state == "FAILED"]
    records = [relay.get(f"/v1/requests/{i}").json() for i in ids]
    assert len({r["txHash"] for r in records}) == 1 and relayer_nonce(world) == before + 1
    assert anchored_events(world, records[0]["txHash"]) == 2
    for s in signed:
        ours = world.registry.document_status(SAMR, s.root)
        theirs = world.registry.document_status(NATRES, s.root)
        assert ours.anchored and ours.signer == world.samr_key.address and ours.count == 7
        assert theirs.anchored and theirs.signer == world.natres_key.address and theirs.count == 1
        view = relay.get(f"/v1/anchors/0x{s.root.hex()}").json()
        assert view["chain"]["signer"] == world.samr_key.address and view["requests"][0]["state"] == FINAL


def test_another_department_changes_only_its_own_record_of_a_root(world: World, relay: TestClient) -> None:
    root = os.urandom(32)
    (ours,) = relay.post("/v1/anchors", json=[anchor_json(world.sign_anchor(root))]).json()["requests"]
    natres_anchor = world.sign_anchor(root, key=world.natres_key, doc_type=PROPERTY_CERTIFICATE)
    (theirs,) = relay.post("/v1/anchors", json=[anchor_json(natres_anchor)]).json()["requests"]
    runtime_of(relay).batcher.run_once(force=True)
    assert states(relay, [ours["id"], theirs["id"]]) == [FINAL, FINAL]
    revoke = world.sign_change(StatusChange(Action.REVOKE, root, reason=3), key=world.natres_key)
    (change,) = relay.post("/v1/status-changes", json=[change_json(revoke)]).json()["requests"]
    runtime_of(relay).batcher.run_once(force=True)
    assert states(relay, [change["id"]]) == [FINAL]
    assert world.registry.document_status(NATRES, root).batch.state == State.REVOKED
    assert world.registry.document_status(SAMR, root).batch.state == State.ACTIVE


@pytest.mark.parametrize("through_the_relay", [False, True], ids=["direct", "relayed"])
def test_a_root_anchored_by_a_compromised_key_is_anchored_again(
    world: World, relay: TestClient, through_the_relay: bool
) -> None:
    """The key that anchored SAMR's root is retired back to before that anchor (a compromise): the
    anchor no longer counts, and the relay anchors the genuine root again for SAMR, even when the
    voided anchor came through the relay itself (its FINAL request does not block the new one)."""
    stolen = add_key(world, SAMR)
    root = os.urandom(32)
    if through_the_relay:
        (first,) = relay.post("/v1/anchors", json=[anchor_json(world.sign_anchor(root, key=stolen))]).json()["requests"]
        runtime_of(relay).batcher.run_once(force=True)
        assert states(relay, [first["id"]]) == [FINAL]
    else:
        world.registry.anchor(world.sender(stolen), root, type_id(BUSINESS_LICENSE), 1)
    anchored_at = world.registry.document_status(SAMR, root).anchored_at
    world.registry.retire_signer_key(gov(world), stolen.address, anchored_at - 1)
    signed = world.sign_anchor(root, count=4)
    reply = relay.post("/v1/anchors", json=[anchor_json(signed)])
    assert reply.status_code == 202, reply.text
    (item,) = reply.json()["requests"]
    # one re-anchor at a time: another signature over the same voided anchor waits for this one
    other = world.sign_anchor(root, count=4, deadline=world.now() + 7200)
    conflict = relay.post("/v1/anchors", json=[anchor_json(other)])
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "ALREADY_QUEUED"
    runtime_of(relay).batcher.run_once(force=True)
    assert states(relay, [item["id"]]) == [FINAL]
    status = world.registry.document_status(SAMR, root)
    assert status.signer == world.samr_key.address and status.count == 4
    # anchored by a key in force now: a further anchor of it is refused
    refused = relay.post("/v1/anchors", json=[anchor_json(other)])
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "ALREADY_ANCHORED"


def _all_transactions(queue: SqliteQueue) -> list[Any]:
    hashes = [row[0] for row in queue._db.execute("SELECT tx_hash FROM transactions ORDER BY created_at")]
    return [queue.transaction(h) for h in hashes]


def test_an_expired_request_is_rejected_with_the_decoded_reason(world: World, relay: TestClient) -> None:
    signed = world.sign_anchor(os.urandom(32), deadline=world.now() + 60)
    (item,) = relay.post("/v1/anchors", json=[anchor_json(signed)]).json()["requests"]
    world.increase_time(120)
    runtime_of(relay).batcher.run_once(force=True)
    status = relay.get(f"/v1/requests/{item['id']}").json()
    assert status["state"] == REJECTED
    assert status["reason"].startswith("EXPIRED: DocumentRegistryExpiredSignature")


def test_anchor_and_status_change_of_the_same_root_in_one_round(world: World, relay: TestClient) -> None:
    root = os.urandom(32)
    (anchor,) = relay.post("/v1/anchors", json=[anchor_json(world.sign_anchor(root))]).json()["requests"]
    change = world.sign_change(StatusChange(Action.SUSPEND, root, reason=6))
    (suspend,) = relay.post("/v1/status-changes", json=[change_json(change)]).json()["requests"]
    runtime_of(relay).batcher.run_once(force=True)
    assert states(relay, [anchor["id"], suspend["id"]]) == [FINAL, FINAL]
    status = world.registry.document_status(SAMR, root)
    assert status.batch.state == State.SUSPENDED and status.batch.reason == 6
    assert world.registry.is_nonce_used(world.samr_key.address, change.nonce)


def test_status_changes_that_conflict_in_one_batch_are_split(world: World, relay: TestClient) -> None:
    tree, targets = world.anchor_batch(2)
    first = world.sign_change(StatusChange(Action.SUSPEND, tree.root, targets[0], tree.proof(0)))
    second = world.sign_change(StatusChange(Action.SUSPEND, tree.root, targets[0], tree.proof(0)))
    ids = [
        r["id"]
        for r in relay.post("/v1/status-changes", json=[change_json(first), change_json(second)]).json()["requests"]
    ]
    runtime_of(relay).batcher.run_once(force=True)
    replies = [relay.get(f"/v1/requests/{i}").json() for i in ids]
    assert [r["state"] for r in replies] == [FINAL, REJECTED]
    assert replies[1]["reason"].startswith("INVALID_TRANSITION: DocumentRegistryInvalidTransition")


def test_confirmation_depth(world: World, make_relay: MakeRelay) -> None:
    relay = make_relay(confirmations=2)
    ids = post_anchors(world, relay, 2)
    batcher = runtime_of(relay).batcher
    batcher.run_once(force=True)
    block = relay.get(f"/v1/requests/{ids[0]}").json()["block"]
    assert states(relay, ids) == [ANCHORED] * 2 and isinstance(block, int)
    world.mine(2)
    batcher.run_once()
    assert states(relay, ids) == [FINAL] * 2


@pytest.mark.parametrize("crash_after_send", [False, True], ids=["before-send", "after-send"])
def test_restart_reconciles_without_sending_twice(world: World, tmp_path: Path, crash_after_send: bool) -> None:
    settings = relay_settings(world, tmp_path)
    client = world.client
    queue = SqliteQueue(settings.queue_path)
    relay = Relay(world.registry, queue, chain_id=world.chain_id, relayer_address=world.relayer.address)
    signed = [world.sign_anchor(os.urandom(32)) for _ in range(4)]
    accepted = relay.accept_anchors([AnchorRequest.model_validate(anchor_json(s)) for s in signed])
    ids = [a.id for a in accepted]

    class Dying(Batcher):
        def _broadcast(self, raw: bytes) -> None:
            if crash_after_send:
                super()._broadcast(raw)
            raise Crash

    before = relayer_nonce(world)
    with pytest.raises(Crash):
        Dying(world.registry, queue, world.relayer).run_once(force=True)
    (open_tx,) = queue.open_transactions()
    assert open_tx.state == PREPARED and open_tx.request_ids == ids
    queue.close()

    reopened = SqliteQueue(settings.queue_path)  # a new process on the same file
    Batcher(world.registry, reopened, world.relayer).run_once(force=True)
    assert relayer_nonce(world) == before + 1, "exactly one transaction reached the chain"
    records = [reopened.get(i) for i in ids]
    assert [r.state for r in records if r] == [FINAL] * 4
    assert {r.tx_hash for r in records if r} == {open_tx.tx_hash}
    assert anchored_events(world, open_tx.tx_hash) == 4
    tx = reopened.transaction(open_tx.tx_hash)
    assert tx is not None and tx.state == "MINED"
    assert client.w3.eth.get_transaction_receipt(open_tx.tx_hash)["status"] == 1  # type: ignore[arg-type]
    reopened.close()


def test_a_stopped_node_only_delays(tmp_path: Path) -> None:
    node = start_hardhat(tmp_path / "node", mode="dev")
    try:
        world = build_world(node, tmp_path / "deployments")
        settings = relay_settings(world, tmp_path, request_timeout=0.5, retry_max=0.5, batch_age=0.2)
        with TestClient(create_app(settings, relayer=world.relayer, run_batcher=True)) as relay:
            ids = post_anchors(world, relay, 3)
            os.killpg(node.process.pid, signal.SIGSTOP)
            try:
                # readiness comes from the prober's last look: it turns once the prober sees the node hang
                assert wait_until(lambda: relay.get("/healthz").status_code == 503, timeout=10)
                more = anchor_json(world.sign_anchor(os.urandom(32), deadline=2**40))
                refused = relay.post("/v1/anchors", json=[more])
                assert refused.status_code == 503 and refused.json()["error"]["code"] == "CHAIN_UNAVAILABLE"
                time.sleep(1.5)
                assert set(states(relay, ids)) <= {QUEUED, "SUBMITTED"}
                assert runtime_of(relay).batcher.last_error is not None
            finally:
                os.killpg(node.process.pid, signal.SIGCONT)
            assert wait_until(lambda: states(relay, ids) == [FINAL] * 3, timeout=30), states(relay, ids)
            assert wait_until(lambda: relay.get("/healthz").status_code == 200, timeout=10)
            assert len({relay.get(f"/v1/requests/{i}").json()["txHash"] for i in ids}) == 1
    finally:
        stop_hardhat(node)
