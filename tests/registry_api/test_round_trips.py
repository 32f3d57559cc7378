"""The relay's acceptance reads the chain in a bounded number of JSON-RPC round trips per POST,
however many signed items the POST holds (batched reads, chain.batch), and still reports the
first failing item as it would check them one by one."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from chain.types import Action, StatusChange
from registry_api.queue import QUEUED
from tests.factories import PROPERTY_CERTIFICATE, World
from tests.registry_api.conftest import anchor_json, change_json, runtime_of
from tests.registry_api.rpc_count import RpcCount, counting_rpc
from tests.registry_api.test_accept import assert_error, assert_nothing_stored

pytestmark = pytest.mark.chain

#: Round trips one POST may take: the batch of reads, the departments of signers seen for the first
#: time, the keys behind roots already anchored, and (status changes) the simulated changes. None
#: of it grows with the number of items (up to a thousand reads per batch).
MOST_ROUND_TRIPS = 4
#: A relay's first POST checks the node's chain id (and genesis) and the registry's code, once.
CHAIN_CHECKS = 3


def post_counted(relay: TestClient, path: str, body: list[dict[str, object]]) -> tuple[int, RpcCount]:
    with counting_rpc(runtime_of(relay).registry.client) as rpc:
        reply = relay.post(path, json=body)
    return reply.status_code, rpc


def trips_by_size(
    relay: TestClient, path: str, body: Callable[[int], list[dict[str, object]]], sizes: tuple[int, ...]
) -> dict[int, int]:
    """The round trips to the node of one accepted POST of each size."""
    trips = {}
    for size in sizes:
        status, rpc = post_counted(relay, path, body(size))
        assert status == 202
        trips[size] = rpc.round_trips
    return trips


def test_one_post_of_anchors_reads_the_chain_in_as_many_round_trips_whatever_its_size(
    world: World, relay: TestClient
) -> None:
    def body(size: int) -> list[dict[str, object]]:
        items = [anchor_json(world.sign_anchor(os.urandom(32))) for _ in range(size)]
        other = world.sign_anchor(os.urandom(32), key=world.natres_key, doc_type=PROPERTY_CERTIFICATE)
        return [*items, anchor_json(other)]

    # A relay's first POST also checks the chain id and the registry's code, once, and learns the
    # departments of the signers; still no round trip per item.
    status, rpc = post_counted(relay, "/v1/anchors", body(40))
    assert status == 202
    assert rpc.round_trips <= MOST_ROUND_TRIPS + CHAIN_CHECKS, rpc.calls
    trips = trips_by_size(relay, "/v1/anchors", body, (1, 8, 60))
    assert trips == {1: 1, 8: 1, 60: 1}, trips  # one batch of reads per POST
    assert runtime_of(relay).queue.counts()[QUEUED] == 41 + 2 + 9 + 61


def test_one_post_of_status_changes_reads_the_chain_in_as_many_round_trips_whatever_its_size(
    world: World, relay: TestClient
) -> None:
    def body(size: int) -> list[dict[str, object]]:
        changes = []
        for _ in range(size):
            tree, targets = world.anchor_batch(2)
            change = StatusChange(Action.SUSPEND, tree.root, targets[0], tree.proof(0), reason=6)
            changes.append(change_json(world.sign_change(change)))
        return changes

    status, rpc = post_counted(relay, "/v1/status-changes", body(10))
    assert status == 202
    assert rpc.round_trips <= MOST_ROUND_TRIPS + CHAIN_CHECKS, rpc.calls
    trips = trips_by_size(relay, "/v1/status-changes", body, (1, 4, 24))
    assert trips == {1: 2, 4: 2, 24: 2}, trips  # the batch of reads, then the simulated changes


def test_the_first_failing_item_is_reported_whatever_fails_after_it(world: World, relay: TestClient) -> None:
    good = world.sign_anchor(os.urandom(32))
    tree, _ = world.anchor_batch()
    anchored = world.sign_anchor(tree.root, count=4)
    stranger = world.sign_anchor(os.urandom(32), key=world.new_account())
    status, rpc = post_counted(relay, "/v1/anchors", [anchor_json(good), anchor_json(anchored), anchor_json(stranger)])
    assert status == 409
    assert rpc.round_trips <= MOST_ROUND_TRIPS + CHAIN_CHECKS, rpc.calls  # this relay's first POST
    reply = relay.post("/v1/anchors", json=[anchor_json(good), anchor_json(anchored), anchor_json(stranger)])
    assert_error(reply, 409, "ALREADY_ANCHORED")
    assert "item 1" in reply.json()["error"]["message"]
    reply = relay.post("/v1/anchors", json=[anchor_json(good), anchor_json(stranger), anchor_json(anchored)])
    assert_error(reply, 401, "UNKNOWN_KEY")
    assert "item 1" in reply.json()["error"]["message"]
    assert_nothing_stored(relay)


def test_a_refused_status_change_after_good_ones_is_pointed_at(world: World, relay: TestClient) -> None:
    tree, targets = world.anchor_batch(2)
    good = world.sign_change(StatusChange(Action.SUSPEND, tree.root, targets[0], tree.proof(0), reason=6))
    unknown = world.sign_change(StatusChange(Action.SUSPEND, os.urandom(32), reason=6))
    wrong_proof = world.sign_change(StatusChange(Action.SUSPEND, tree.root, targets[1], tree.proof(0), reason=6))
    reply = relay.post("/v1/status-changes", json=[change_json(good), change_json(unknown), change_json(wrong_proof)])
    assert_error(reply, 422, "UNKNOWN_ROOT")
    assert "item 1" in reply.json()["error"]["message"]
    reply = relay.post("/v1/status-changes", json=[change_json(good), change_json(wrong_proof), change_json(unknown)])
    assert_error(reply, 422, "INVALID_PROOF")
    assert "item 1" in reply.json()["error"]["message"]
    assert_nothing_stored(relay)
