"""Honest health and bounded blocking work.

Liveness and readiness apart: ``/livez`` is 200 while the process runs; ``/readyz`` (and
``/healthz``, which says the same with the relay's identity) is 200 only when the chain answers
with the right chain id, the DocumentRegistry's code is at its address (and the
PropertyRegistry's, if one is configured), the queue answers and the batcher runs. They are
answered from what a background prober last saw, so they never wait on a hung backend; nor does
``/metrics``. Requests that need the chain run in a bounded pool, each with a deadline: a hung
node holds only those requests, and only so many of them.

"While" below is shown by order, not by the clock: the health answers come back while requests
to the hung node are still held.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from devstack.hardhat import HardhatNode, start_hardhat, stop_hardhat
from registry_api.app import create_app
from tests.factories import World, build_world, wait_until
from tests.registry_api.conftest import MakeRelay, anchor_json, relay_settings, runtime_of
from tests.registry_api.test_accept import assert_error

pytestmark = pytest.mark.chain


def test_liveness_readiness_and_health(world: World, relay: TestClient) -> None:
    assert relay.get("/livez").status_code == 200
    ready = relay.get("/readyz")
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["status"] == "ok" and body["ready"] is True
    chain = body["chain"]
    assert chain["reachable"] is True and chain["chainId"] == world.chain_id and chain["rightChain"] is True
    assert chain["registryCode"] is True and isinstance(chain["head"], int)
    assert body["queueReachable"] is True and body["queue"]["QUEUED"] == 0
    health = relay.get("/healthz")
    assert health.status_code == 200
    assert health.json()["chainId"] == world.chain_id and health.json()["registry"] == world.registry.address
    assert health.json()["chain"]["reachable"] is True


def test_a_registry_missing_at_its_address_is_not_ready_and_refuses_with_503(
    world: World, make_relay: MakeRelay
) -> None:
    """A reset chain, a node resyncing or a wrong address: no code where the registry should be."""
    relay = make_relay(registry_address="0x" + os.urandom(20).hex())
    ready = relay.get("/readyz")
    assert ready.status_code == 503 and ready.json()["ready"] is False, ready.text
    assert ready.json()["chain"]["reachable"] is True and ready.json()["chain"]["registryCode"] is False
    assert relay.get("/livez").status_code == 200
    reply = relay.post("/v1/anchors", json=[anchor_json(world.sign_anchor(os.urandom(32)))])
    assert_error(reply, 503, "REGISTRY_NOT_FOUND")
    assert sum(relay.get("/readyz").json()["queue"].values()) == 0


def test_a_wrong_chain_id_is_not_ready(world: World, make_relay: MakeRelay) -> None:
    relay = make_relay(chain_id=world.chain_id + 1)
    ready = relay.get("/readyz")
    assert ready.status_code == 503 and ready.json()["chain"]["rightChain"] is False, ready.text
    assert relay.get("/healthz").status_code == 503


def test_a_node_of_another_genesis_is_not_ready(world: World, make_relay: MakeRelay) -> None:
    relay = make_relay(genesis_hash="0x" + "ab" * 32)
    ready = relay.get("/readyz")
    assert ready.status_code == 503 and ready.json()["chain"]["rightChain"] is False, ready.text
    right = "0x" + bytes(world.client.w3.eth.get_block(0)["hash"]).hex()
    assert make_relay(genesis_hash=right, relayer=world.new_account()).get("/readyz").json()["chain"]["rightChain"]


@pytest.fixture
def own_world(tmp_path: Path) -> Iterator[World]:
    """A node of this test's own (it is stopped with SIGSTOP), with the registry deployed."""
    node = start_hardhat(tmp_path / "node", mode="dev")
    try:
        yield build_world(node, tmp_path / "deployments")
    finally:
        stop_hardhat(node)


@contextmanager
def hung(node: HardhatNode) -> Iterator[None]:
    """The node's process stopped (not dead: connections are accepted, nothing answers)."""
    os.killpg(node.process.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.killpg(node.process.pid, signal.SIGCONT)


class Held:
    """A request sent from its own thread; ``done`` once its answer is in."""

    def __init__(self, client: TestClient, body: list[dict[str, object]]) -> None:
        self.reply: Response | None = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(client, body), daemon=True)
        self.thread.start()

    def _run(self, client: TestClient, body: list[dict[str, object]]) -> None:
        try:
            self.reply = client.post("/v1/anchors", json=body)
        finally:
            self.done.set()


def test_a_hung_node_holds_only_the_requests_that_need_it(own_world: World, tmp_path: Path) -> None:
    world = own_world
    # Each call to the node gives up after request_timeout; the pool runs 2 requests and queues
    # none; readiness is probed every 0.2 s.
    settings = relay_settings(
        world, tmp_path, request_timeout=20.0, workers=2, worker_queue=0, request_deadline=60.0, health_interval=0.2
    )
    bodies = [[anchor_json(world.sign_anchor(os.urandom(32), deadline=2**40))] for _ in range(4)]  # signed ahead
    with TestClient(create_app(settings, relayer=world.relayer, run_batcher=True)) as relay:
        assert relay.get("/readyz").status_code == 200
        first = relay.post("/v1/anchors", json=bodies[0])
        assert first.status_code == 202, first.text
        first_id = first.json()["requests"][0]["id"]
        pool = runtime_of(relay).chain_pool
        with hung(world.node):
            held = [Held(relay, body) for body in bodies[1:3]]
            assert wait_until(lambda: pool.in_flight == 2, timeout=10)
            # The pool is full: a third request is refused at once, not queued behind the hung node.
            busy = relay.post("/v1/anchors", json=bodies[3])
            assert_error(busy, 503, "BUSY")
            assert busy.headers.get("retry-after") == "1"
            for path in ("/livez", "/metrics", "/healthz", "/readyz"):
                assert relay.get(path).status_code in (200, 503), path
            assert wait_until(lambda: relay.get("/readyz").status_code == 503, timeout=10)
            assert relay.get("/healthz").json()["chain"]["reachable"] is False
            assert relay.get("/livez").status_code == 200
            assert relay.get(f"/v1/requests/{first_id}").status_code == 200  # the queue answers: no chain needed
            assert not any(h.done.is_set() for h in held), "the answers above came while the two were held"
        for h in held:
            assert h.done.wait(60)
        assert wait_until(lambda: relay.get("/readyz").status_code == 200, timeout=30)


def test_a_request_past_its_deadline_is_answered_503(own_world: World, tmp_path: Path) -> None:
    world = own_world
    settings = relay_settings(world, tmp_path, request_timeout=20.0, request_deadline=0.5)
    body = [anchor_json(world.sign_anchor(os.urandom(32), deadline=2**40))]
    with TestClient(create_app(settings, relayer=world.relayer, run_batcher=False)) as relay, hung(world.node):
        reply = relay.post("/v1/anchors", json=body)
        # the node would have been given up on after 20 s (CHAIN_UNAVAILABLE); the deadline came first
        assert_error(reply, 503, "DEADLINE_EXCEEDED")
        assert relay.get("/livez").status_code == 200
