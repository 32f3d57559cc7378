"""Rate limits and quotas of the relay: per client address, per department key, and a quota of
queued requests per department; each refusal a 429 with Retry-After and words in both languages.

The buckets refill so slowly here (one token in a hundred seconds) that no refill happens during
a test: what is refused is decided by the counts, never by the clock.
"""

from __future__ import annotations

import os

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from chain.property import PropertyCall
from chain.types import Action, Role, StatusChange
from registry_api.queue import QUEUED
from tests.factories import PROPERTY_CERTIFICATE, World
from tests.property_setup import Setup, s  # noqa: F401 - the fixture
from tests.registry_api.conftest import MakeRelay, anchor_json, change_json, runtime_of
from tests.registry_api.rpc_count import counting_rpc
from tests.registry_api.test_accept import assert_error
from tests.registry_api.test_property import Window, signed_json

pytestmark = pytest.mark.chain

SLOW = 0.01  # tokens per second: none comes back within a test


def assert_too_many(reply: Response, code: str) -> None:
    assert_error(reply, 429, code)
    retry = reply.headers.get("retry-after")
    assert retry is not None and retry.isdigit() and int(retry) >= 1, reply.headers


def anchors(world: World, count: int, **kwargs: object) -> list[dict[str, object]]:
    return [anchor_json(world.sign_anchor(os.urandom(32), **kwargs)) for _ in range(count)]  # type: ignore[arg-type]


def test_a_client_address_over_its_rate_gets_429_and_health_stays_exempt(make_relay: MakeRelay) -> None:
    relay = make_relay(rate_limit_per_second=SLOW, rate_limit_burst=3)
    for _ in range(3):
        assert relay.get("/v1/requests/1").status_code == 404
    assert_too_many(relay.get("/v1/requests/1"), "RATE_LIMITED")
    assert_too_many(relay.post("/v1/anchors", json=[]), "RATE_LIMITED")  # refused before the body is looked at
    for path in ("/healthz", "/livez", "/readyz", "/metrics"):
        assert relay.get(path).status_code == 200, path


def test_a_department_key_over_its_rate_gets_429_before_any_chain_read(world: World, make_relay: MakeRelay) -> None:
    relay = make_relay(key_rate_limit_per_second=SLOW, key_rate_limit_burst=3)
    assert relay.post("/v1/anchors", json=anchors(world, 2)).status_code == 202
    client = runtime_of(relay).registry.client
    with counting_rpc(client) as rpc:
        refused = relay.post("/v1/anchors", json=anchors(world, 2))  # 4 items signed by one key: one too many
    assert_too_many(refused, "RATE_LIMITED")
    assert rpc.total() == 0, rpc.calls
    assert runtime_of(relay).queue.counts()[QUEUED] == 2
    # Another department's key has its own bucket.
    other = anchors(world, 3, key=world.natres_key, doc_type=PROPERTY_CERTIFICATE)
    assert relay.post("/v1/anchors", json=other).status_code == 202


def test_the_last_token_of_a_key_is_spent_by_a_status_change_too(world: World, make_relay: MakeRelay) -> None:
    relay = make_relay(key_rate_limit_per_second=SLOW, key_rate_limit_burst=2)
    tree, _ = world.anchor_batch()
    first = world.sign_change(StatusChange(Action.SUSPEND, tree.root, reason=6))
    assert relay.post("/v1/status-changes", json=[change_json(first)]).status_code == 202
    assert relay.post("/v1/anchors", json=anchors(world, 1)).status_code == 202
    again = world.sign_change(StatusChange(Action.REVOKE, tree.root))
    assert_too_many(relay.post("/v1/status-changes", json=[change_json(again)]), "RATE_LIMITED")


def test_a_property_step_over_its_key_rate_gets_429_and_sends_nothing(
    s: Setup,  # noqa: F811
    make_relay: MakeRelay,
) -> None:
    client = make_relay(
        deployments_dir=s.world.settings.deployments_dir, key_rate_limit_per_second=SLOW, key_rate_limit_burst=1
    )
    w = Window(s, client)
    unit, _ = s.register()
    case_id, _ = s.open(unit)
    eth = s.world.client.w3.eth
    first = w.approve(s.tax.account, case_id, Role.TAX)
    assert first.status_code == 200, first.text
    sent = eth.get_transaction_count(s.world.relayer.address)
    signed = w.sign(s.tax.account, PropertyCall.reject_transfer(case_id, 3))
    body = {"reason": 3, **signed_json(signed)}
    with counting_rpc(runtime_of(client).registry.client) as rpc:
        refused = client.post(f"/v1/property/transfers/{case_id}/rejection", json=body)
    assert_too_many(refused, "RATE_LIMITED")
    assert rpc.total() == 0, rpc.calls
    assert eth.get_transaction_count(s.world.relayer.address) == sent
    # HOUSING's key is not TAX's
    assert w.approve(s.housing.account, case_id, Role.HOUSING).status_code == 200


def test_a_department_over_its_quota_of_queued_requests_gets_429(world: World, make_relay: MakeRelay) -> None:
    relay = make_relay(department_queue_quota=3)
    accepted = relay.post("/v1/anchors", json=anchors(world, 2))
    assert accepted.status_code == 202
    over = anchors(world, 2)
    assert_too_many(relay.post("/v1/anchors", json=over), "QUOTA_EXCEEDED")
    queue = runtime_of(relay).queue
    assert queue.counts()[QUEUED] == 2, "nothing of a refused request is stored"
    assert relay.post("/v1/anchors", json=over[:1]).status_code == 202  # exactly the quota
    assert_too_many(relay.post("/v1/anchors", json=over[1:]), "QUOTA_EXCEEDED")
    # Sending the same signed request again is not a new request: it does not count.
    again = relay.post("/v1/anchors", json=over[:1])
    assert again.status_code == 202 and again.json()["requests"][0]["duplicate"] is True
    # Another department has its own quota.
    other = anchors(world, 3, key=world.natres_key, doc_type=PROPERTY_CERTIFICATE)
    assert relay.post("/v1/anchors", json=other).status_code == 202
    # Once the batcher sent them, the department may queue again.
    runtime_of(relay).batcher.run_once(force=True)
    assert relay.post("/v1/anchors", json=over[1:]).status_code == 202


def test_the_quota_counts_status_changes_too(world: World, make_relay: MakeRelay) -> None:
    relay: TestClient = make_relay(department_queue_quota=2)
    tree, _ = world.anchor_batch()
    assert relay.post("/v1/anchors", json=anchors(world, 1)).status_code == 202
    change = world.sign_change(StatusChange(Action.SUSPEND, tree.root, reason=6))
    assert relay.post("/v1/status-changes", json=[change_json(change)]).status_code == 202
    revoke = world.sign_change(StatusChange(Action.REVOKE, tree.root))
    assert_too_many(relay.post("/v1/status-changes", json=[change_json(revoke)]), "QUOTA_EXCEEDED")
