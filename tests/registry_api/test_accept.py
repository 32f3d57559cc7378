"""Accepting and refusing signed requests on the real node (both chain modes).

Every refusal has its HTTP status, its stable code and messages in both languages, and stores
nothing; an accepted request is stored before the 202.
"""

from __future__ import annotations

import os
import re

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from chain.types import Action, StatusChange, type_id
from registry_api.queue import QUEUED
from tests.contracts.helpers import gov
from tests.factories import NATRES, PROPERTY_CERTIFICATE, SAMR, World
from tests.registry_api.conftest import anchor_json, change_json, runtime_of

CJK = re.compile(r"[\u4e00-\u9fff]")
STACK_MARKERS = ("Traceback", 'File "', ".py")

pytestmark = pytest.mark.chain


def assert_error(reply: Response, status: int, code: str) -> None:
    assert reply.status_code == status, reply.text
    body = reply.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "message_zh"}, body
    assert body["error"]["code"] == code, body
    assert body["error"]["message"] and CJK.search(body["error"]["message_zh"]), body
    assert not any(marker in reply.text for marker in STACK_MARKERS), reply.text


def assert_nothing_stored(relay: TestClient) -> None:
    assert sum(runtime_of(relay).queue.counts().values()) == 0


def test_a_signed_anchor_is_accepted_stored_and_reported(world: World, relay: TestClient) -> None:
    signed = world.sign_anchor(os.urandom(32), count=10)
    reply = relay.post("/v1/anchors", json=[anchor_json(signed, chainId=world.chain_id)])
    assert reply.status_code == 202, reply.text
    (item,) = reply.json()["requests"]
    assert item["state"] == QUEUED and item["duplicate"] is False
    assert item["signer"] == world.samr_key.address
    stored = runtime_of(relay).queue.get(item["id"])
    assert stored is not None and stored.state == QUEUED and stored.department == "0x" + SAMR.hex()
    assert item["root"] == "0x" + signed.root.hex()  # the signer gets its root back
    status = relay.get(f"/v1/requests/{item['id']}").json()
    # not on chain yet: the answer shows no root (tests/registry_api/test_request_ids.py)
    assert (status["state"], status["root"], status["txHash"]) == (QUEUED, None, None)


def test_the_stored_digest_is_the_contracts_digest(world: World, relay: TestClient) -> None:
    signed = world.sign_anchor(os.urandom(32))
    (item,) = relay.post("/v1/anchors", json=[anchor_json(signed)]).json()["requests"]
    stored = runtime_of(relay).queue.get(item["id"])
    assert stored is not None and stored.dedup_key == "0x" + world.registry.anchor_digest(signed).hex()


def test_a_document_type_may_be_given_by_name(world: World, relay: TestClient) -> None:
    signed = world.sign_anchor(os.urandom(32))
    reply = relay.post("/v1/anchors", json=[anchor_json(signed, docType="business-license")])
    assert reply.status_code == 202, reply.text


def test_the_same_signed_anchor_twice_is_one_request(world: World, relay: TestClient) -> None:
    signed = world.sign_anchor(os.urandom(32))
    first = relay.post("/v1/anchors", json=[anchor_json(signed)]).json()["requests"][0]
    again = relay.post("/v1/anchors", json=[anchor_json(signed), anchor_json(signed)]).json()["requests"]
    assert [r["id"] for r in again] == [first["id"]] * 2 and all(r["duplicate"] for r in again)
    assert sum(runtime_of(relay).queue.counts().values()) == 1


def test_bad_signature(world: World, relay: TestClient) -> None:
    signed = world.sign_anchor(os.urandom(32))
    body = anchor_json(signed)
    body["signature"] = body["signature"][:-2] + "1d"  # v = 29
    assert_error(relay.post("/v1/anchors", json=[body]), 401, "BAD_SIGNATURE")
    high_s = anchor_json(signed)
    high_s["signature"] = "0x" + "11" * 32 + "ff" * 32 + "1b"
    assert_error(relay.post("/v1/anchors", json=[high_s]), 401, "BAD_SIGNATURE")
    # r is no x coordinate on the curve: nothing can be recovered (found by the schema test)
    no_point = anchor_json(signed)
    no_point["signature"] = (
        "0xd488307195c6e140bf08fc8ec99c196af33684cd2db14cc0fbf518e363dabcfa"
        "06bb5db0485ff4eafea745303662bc9564b9de0cadcacdb856cbab5acc2c4b501c"
    )
    assert_error(relay.post("/v1/anchors", json=[no_point]), 401, "BAD_SIGNATURE")
    assert_nothing_stored(relay)


def test_unknown_key(world: World, relay: TestClient) -> None:
    signed = world.sign_anchor(os.urandom(32), key=world.new_account())
    assert_error(relay.post("/v1/anchors", json=[anchor_json(signed)]), 401, "UNKNOWN_KEY")
    assert_nothing_stored(relay)


def test_a_signature_for_another_chain_or_registry_is_refused(world: World, relay: TestClient) -> None:
    other_chain = world.sign_anchor(os.urandom(32), chain_id=world.chain_id + 1)
    reply = relay.post("/v1/anchors", json=[anchor_json(other_chain, chainId=world.chain_id + 1)])
    assert_error(reply, 403, "WRONG_CHAIN")
    other_registry = world.sign_anchor(os.urandom(32), registry="0x" + "12" * 20)
    reply = relay.post("/v1/anchors", json=[anchor_json(other_registry, registry="0x" + "12" * 20)])
    assert_error(reply, 403, "WRONG_CHAIN")
    # without the declared domain, the signature recovers to nobody the registry knows
    assert_error(relay.post("/v1/anchors", json=[anchor_json(other_chain)]), 401, "UNKNOWN_KEY")
    assert_nothing_stored(relay)


def test_expired_and_nearly_expired_deadlines(world: World, relay: TestClient) -> None:
    past = world.sign_anchor(os.urandom(32), deadline=world.now() - 1)
    assert_error(relay.post("/v1/anchors", json=[anchor_json(past)]), 401, "EXPIRED")
    too_soon = world.sign_anchor(os.urandom(32), deadline=world.now() + 5)  # margin is 30 s
    assert_error(relay.post("/v1/anchors", json=[anchor_json(too_soon)]), 401, "EXPIRED")
    assert_nothing_stored(relay)


def test_a_key_outside_its_window(world: World, relay: TestClient) -> None:
    future_key = world.new_account()
    world.registry.add_signer_key(gov(world), SAMR, future_key.address, world.now() + 86_400)
    signed = world.sign_anchor(os.urandom(32), key=future_key)
    assert_error(relay.post("/v1/anchors", json=[anchor_json(signed)]), 403, "KEY_NOT_VALID")
    assert_nothing_stored(relay)


def test_a_department_outside_its_types(world: World, relay: TestClient) -> None:
    signed = world.sign_anchor(os.urandom(32), doc_type=PROPERTY_CERTIFICATE)
    assert_error(relay.post("/v1/anchors", json=[anchor_json(signed)]), 403, "NOT_AUTHORIZED")
    assert_nothing_stored(relay)


def test_a_root_anchored_already(world: World, relay: TestClient) -> None:
    tree, _ = world.anchor_batch(2)
    signed = world.sign_anchor(tree.root, count=2)
    assert_error(relay.post("/v1/anchors", json=[anchor_json(signed)]), 409, "ALREADY_ANCHORED")
    assert_nothing_stored(relay)


def test_a_root_anchored_by_another_department_neither_blocks_nor_counts(world: World, relay: TestClient) -> None:
    """Issue 10: NATRES anchoring SAMR's root first (e.g. a front-run of a root it saw) gives NATRES
    a record of its own; SAMR's anchor of the root is still accepted for SAMR."""
    root = os.urandom(32)
    world.registry.anchor(world.sender(world.natres_key), root, type_id(PROPERTY_CERTIFICATE), 1)
    reply = relay.post("/v1/anchors", json=[anchor_json(world.sign_anchor(root, count=5))])
    assert reply.status_code == 202, reply.text
    (item,) = reply.json()["requests"]
    stored = runtime_of(relay).queue.get(item["id"])
    assert stored is not None and stored.department == "0x" + SAMR.hex()
    # the relay reports the requesting department's record: not anchored yet, whatever NATRES did
    view = relay.get(f"/v1/anchors/0x{root.hex()}").json()
    assert view["department"] == "0x" + SAMR.hex() and view["chain"]["anchored"] is False
    theirs = relay.get(f"/v1/anchors/0x{root.hex()}", params={"department": "LA-NATRES"}).json()
    assert theirs["requests"] == [] and theirs["chain"]["anchored"] is True
    assert theirs["chain"]["signer"] == world.natres_key.address


def test_two_departments_may_queue_the_same_root(world: World, relay: TestClient) -> None:
    root = os.urandom(32)
    samr = relay.post("/v1/anchors", json=[anchor_json(world.sign_anchor(root))])
    natres_signed = world.sign_anchor(root, key=world.natres_key, doc_type=PROPERTY_CERTIFICATE)
    natres = relay.post("/v1/anchors", json=[anchor_json(natres_signed)])
    assert samr.status_code == natres.status_code == 202, natres.text
    # within one department, one live request per root still
    resigned = world.sign_anchor(root, deadline=world.now() + 7200)
    assert_error(relay.post("/v1/anchors", json=[anchor_json(resigned)]), 409, "ALREADY_QUEUED")
    assert_error(relay.get(f"/v1/anchors/0x{root.hex()}"), 400, "DEPARTMENT_REQUIRED")
    for department, key in ((SAMR, world.samr_key), (NATRES, world.natres_key)):
        view = relay.get(f"/v1/anchors/0x{root.hex()}", params={"department": "0x" + department.hex()}).json()
        assert [r["signer"] for r in view["requests"]] == [key.address]
        assert view["department"] == "0x" + department.hex() and view["chain"]["anchored"] is False


def test_anchor_views_by_department(world: World, relay: TestClient) -> None:
    tree, _ = world.anchor_batch(2)  # by SAMR, directly: the relay has no request for it
    root = "0x" + tree.root.hex()
    assert_error(relay.get(f"/v1/anchors/{root}"), 404, "NOT_FOUND")  # whose anchor? nobody said
    view = relay.get(f"/v1/anchors/{root}", params={"department": "LA-SAMR"})
    assert view.status_code == 200, view.text
    assert view.json()["chain"]["anchored"] is True and view.json()["chain"]["count"] == 2
    assert_error(relay.get(f"/v1/anchors/{root}", params={"department": "LA-NATRES"}), 404, "NOT_FOUND")
    assert_error(relay.get(f"/v1/anchors/{root}", params={"department": "0x12"}), 400, "INVALID_DEPARTMENT")


def test_a_root_queued_under_another_signature(world: World, relay: TestClient) -> None:
    root = os.urandom(32)
    relay.post("/v1/anchors", json=[anchor_json(world.sign_anchor(root))])
    resigned = world.sign_anchor(root, deadline=world.now() + 7200)
    assert_error(relay.post("/v1/anchors", json=[anchor_json(resigned)]), 409, "ALREADY_QUEUED")
    assert sum(runtime_of(relay).queue.counts().values()) == 1


def test_one_bad_item_refuses_the_whole_list(world: World, relay: TestClient) -> None:
    good = world.sign_anchor(os.urandom(32))
    bad = world.sign_anchor(os.urandom(32), key=world.new_account())
    reply = relay.post("/v1/anchors", json=[anchor_json(good), anchor_json(bad)])
    assert_error(reply, 401, "UNKNOWN_KEY")
    assert "item 1" in reply.json()["error"]["message"]
    assert_nothing_stored(relay)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda b: b.update(root="0x1234"),
        lambda b: b.update(root="0x" + "00" * 32),
        lambda b: b.update(signature="0xzz"),
        lambda b: b.update(count=0),
        lambda b: b.update(count="many"),
        lambda b: b.update(deadline=-1),
        lambda b: b.update(docType="0x12"),
        lambda b: b.update(extra=True),
        lambda b: b.pop("signature"),
    ],
)
def test_malformed_anchor_items(world: World, relay: TestClient, mutate: object) -> None:
    body = anchor_json(world.sign_anchor(os.urandom(32)))
    mutate(body)  # type: ignore[operator]
    assert_error(relay.post("/v1/anchors", json=[body]), 422, "INVALID_REQUEST")
    assert_nothing_stored(relay)


def test_malformed_bodies(relay: TestClient) -> None:
    assert_error(relay.post("/v1/anchors", json=[]), 422, "INVALID_REQUEST")
    assert_error(relay.post("/v1/anchors", json={"root": "0x"}), 422, "INVALID_REQUEST")
    reply = relay.post("/v1/anchors", content=b"{not json", headers={"content-type": "application/json"})
    assert_error(reply, 400, "MALFORMED_JSON")  # the JSON guard's refusal, before any validation
    assert_error(relay.get("/v1/requests/abc"), 404, "NOT_FOUND")  # no id: the same 404 as an unknown one
    assert_error(relay.get("/v1/requests/999"), 404, "NOT_FOUND")
    assert_error(relay.get(f"/v1/requests/{os.urandom(16).hex()}"), 404, "NOT_FOUND")
    assert_error(relay.get("/v1/anchors/0x12"), 400, "INVALID_ROOT")
    assert_error(relay.get("/v1/anchors/0x" + "ab" * 32), 404, "NOT_FOUND")


def test_deeply_nested_json_is_refused_not_parsed(relay: TestClient) -> None:
    """Deep JSON would overflow the C stack of a process that imported web3 (its dependencies
    raise the recursion limit); it must be a 400, and the service must keep answering."""
    deep = b"[" * 200_000 + b"]" * 200_000
    for path in ("/v1/anchors", "/v1/status-changes"):
        reply = relay.post(path, content=deep, headers={"content-type": "application/json"})
        assert_error(reply, 400, "MALFORMED_JSON")
    assert relay.get("/v1/requests/999").status_code == 404


def test_oversized_bodies_and_lists(world: World, make_relay: object) -> None:
    small = make_relay(max_body_bytes=2048, max_items=3)  # type: ignore[operator]
    big = b"[" + b" " * 4096 + b"]"
    assert_error(
        small.post("/v1/anchors", content=big, headers={"content-type": "application/json"}), 413, "PAYLOAD_TOO_LARGE"
    )

    def chunks():  # a streamed body with no declared length
        for _ in range(8):
            yield b" " * 512

    reply = small.post("/v1/anchors", content=chunks(), headers={"content-type": "application/json"})
    assert_error(reply, 413, "PAYLOAD_TOO_LARGE")
    items = [anchor_json(world.sign_anchor(os.urandom(32))) for _ in range(4)]
    roomy = make_relay(max_items=3)  # type: ignore[operator]
    assert_error(roomy.post("/v1/anchors", json=items), 413, "TOO_MANY_ITEMS")


# ------------------------------------------------------------------------- status changes
def test_a_signed_status_change_is_accepted(world: World, relay: TestClient) -> None:
    tree, targets = world.anchor_batch(4)
    change = StatusChange(Action.SUSPEND, tree.root, targets[1], tree.proof(1), reason=6)
    signed = world.sign_change(change, nonce=2**200)
    reply = relay.post("/v1/status-changes", json=[change_json(signed)])
    assert reply.status_code == 202, reply.text
    stored = runtime_of(relay).queue.get(reply.json()["requests"][0]["id"])
    assert stored is not None and stored.kind == "status" and stored.target == "0x" + targets[1].hex()


def test_a_used_nonce_is_refused(world: World, relay: TestClient) -> None:
    tree, targets = world.anchor_batch(2)
    first = world.sign_change(StatusChange(Action.SUSPEND, tree.root, targets[0], tree.proof(0)), nonce=77)
    world.registry.change_status_signed(world.sender(world.relayer), first)
    replay = world.sign_change(StatusChange(Action.REVOKE, tree.root, targets[1], tree.proof(1)), nonce=77)
    assert_error(relay.post("/v1/status-changes", json=[change_json(replay)]), 409, "NONCE_USED")
    # a nonce claimed by a queued request is refused too
    queued = world.sign_change(StatusChange(Action.SUSPEND, tree.root, targets[1], tree.proof(1)), nonce=78)
    assert relay.post("/v1/status-changes", json=[change_json(queued)]).status_code == 202
    other = world.sign_change(StatusChange(Action.REVOKE, tree.root, reason=1), nonce=78)
    assert_error(relay.post("/v1/status-changes", json=[change_json(other)]), 409, "NONCE_USED")


def test_status_change_refusals(world: World, relay: TestClient) -> None:
    tree, targets = world.anchor_batch(2)
    reinstate_active = world.sign_change(StatusChange(Action.REINSTATE, tree.root, targets[0], tree.proof(0)))
    assert_error(relay.post("/v1/status-changes", json=[change_json(reinstate_active)]), 409, "INVALID_TRANSITION")
    bad_proof = world.sign_change(StatusChange(Action.REVOKE, tree.root, targets[0], tree.proof(1)))
    assert_error(relay.post("/v1/status-changes", json=[change_json(bad_proof)]), 422, "INVALID_PROOF")
    unknown = world.sign_change(StatusChange(Action.REVOKE, os.urandom(32)))
    assert_error(relay.post("/v1/status-changes", json=[change_json(unknown)]), 422, "UNKNOWN_ROOT")
    # another department has no record of SAMR's root: to it, the root is unknown (the registry says so too)
    foreign = world.sign_change(StatusChange(Action.REVOKE, tree.root), key=world.natres_key)
    reply = relay.post("/v1/status-changes", json=[change_json(foreign)])
    assert_error(reply, 422, "UNKNOWN_ROOT")
    assert "0x" + NATRES.hex() in reply.json()["error"]["message"]
    whole_batch_supersede = world.sign_change(StatusChange(Action.SUPERSEDE, tree.root))
    assert_error(relay.post("/v1/status-changes", json=[change_json(whole_batch_supersede)]), 422, "INVALID_ACTION")
    expired = world.sign_change(StatusChange(Action.REVOKE, tree.root), deadline=world.now() - 10)
    assert_error(relay.post("/v1/status-changes", json=[change_json(expired)]), 401, "EXPIRED")
    stranger = world.sign_change(StatusChange(Action.REVOKE, tree.root), key=world.new_account())
    assert_error(relay.post("/v1/status-changes", json=[change_json(stranger)]), 401, "UNKNOWN_KEY")
    bad = change_json(world.sign_change(StatusChange(Action.REVOKE, tree.root)), action="DELETE")
    assert_error(relay.post("/v1/status-changes", json=[bad]), 422, "INVALID_REQUEST")
    assert_nothing_stored(relay)


def test_a_status_change_of_a_root_still_queued_is_accepted(world: World, relay: TestClient) -> None:
    root = os.urandom(32)
    relay.post("/v1/anchors", json=[anchor_json(world.sign_anchor(root))])
    change = world.sign_change(StatusChange(Action.SUSPEND, root, reason=6))
    assert relay.post("/v1/status-changes", json=[change_json(change)]).status_code == 202
    # SAMR's queued anchor is no record of NATRES's: NATRES cannot queue a change of it
    foreign = world.sign_change(StatusChange(Action.REVOKE, root), key=world.natres_key)
    assert_error(relay.post("/v1/status-changes", json=[change_json(foreign)]), 422, "UNKNOWN_ROOT")


def test_openapi_health_and_metrics(world: World, relay: TestClient) -> None:
    spec = relay.get("/openapi.json").json()
    assert {"/v1/anchors", "/v1/status-changes", "/v1/requests/{request_id}", "/v1/anchors/{root}"} <= set(
        spec["paths"]
    )
    health = relay.get("/healthz")
    assert health.json()["chain"]["reachable"] is True and health.json()["chainId"] == world.chain_id
    signed = world.sign_anchor(os.urandom(32), doc_type=PROPERTY_CERTIFICATE)
    relay.post("/v1/anchors", json=[anchor_json(signed)])
    text = relay.get("/metrics").text
    assert 'ereg_relay_refused_total{code="NOT_AUTHORIZED"} 1.0' in text
    assert type_id("business-license")  # the factories' types exist on chain
