"""Adversarial bodies through the relay: every POST route refuses each with a 4xx and the one
error body, before any other work (nothing stored, not one request to the node).

The bodies are the ones tried against today's services: an unclosed string after 65 brackets
(the depth check's string-stripping regex was quadratic in it: 120 KB held the event loop and
the batcher for about 35 s), deep nesting, 1 MiB of one-character strings, duplicate keys (in
the list of items and inside an item), escaped lone surrogates, UTF-16 and byte order marks,
10,000-digit numbers, NaN. That the guard's work is linear in the body is shown in
tests/httpkit (work counted by the scanner); here the relay must route every body through it.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from fastapi.testclient import TestClient

from chain.types import Action, StatusChange
from tests.factories import World
from tests.registry_api.conftest import anchor_json, change_json, runtime_of
from tests.registry_api.rpc_count import counting_rpc
from tests.registry_api.test_accept import assert_error, assert_nothing_stored

pytestmark = pytest.mark.chain

#: Path parameters of the POST routes, valid in form (the guard answers before they matter).
PATH_VALUES = {"{unitId}": "0x" + "11" * 32, "{caseId}": "1", "{mortgageId}": "1", "{seizureId}": "1"}

#: 120 KB: the size that took about 35 s on the former depth check.
UNCLOSED = b"[" * 65 + b'"' + b'\\"' * 60_000
MIB = 1_048_576


def post_routes(relay: TestClient) -> list[str]:
    paths = relay.get("/openapi.json").json()["paths"]
    routes = []
    for path, operations in paths.items():
        if "post" in operations:
            for name, value in PATH_VALUES.items():
                path = path.replace(name, value)
            routes.append(path)
    return sorted(routes)


def valid_item(world: World) -> dict[str, Any]:
    return anchor_json(world.sign_anchor(os.urandom(32)))


def duplicate_key_in_item(world: World) -> bytes:
    item = json.dumps(valid_item(world))
    return ("[" + item[:-1] + ', "root": "0x' + "00" * 32 + '"}]').encode()


def adversarial(world: World) -> dict[str, bytes]:
    """name → body; every one of them is refused by the JSON guard (400 MALFORMED_JSON)."""
    one_char_strings = b"[" + b",".join([b'"a"'] * (MIB // 4)) + b"]"
    valid = json.dumps([valid_item(world)])
    return {
        "deep nesting": b"[" * 100_000 + b"]" * 100_000,
        "deep nesting of objects": b'{"a":' * 1_000 + b"1" + b"}" * 1_000,
        "1 MiB of one-character strings": one_char_strings,
        "duplicate key in an item": duplicate_key_in_item(world),
        "duplicate key in an object body": b'{"nonce": "1", "nonce": "2", "deadline": 1, "signature": "0x"}',
        "duplicate key deep down": b'[{"proof": [{"a": 1, "a": 2}]}]',
        "escaped lone surrogate in a value": b'[{"root": "\\ud800"}]',
        "escaped lone surrogate in a key": b'{"\\udc00": 1}',
        "raw lone surrogate": b'["\xed\xa0\x80"]',
        "UTF-16 with BOM": valid.encode("utf-16"),
        "UTF-16 without BOM": valid.encode("utf-16-le"),
        "UTF-32": valid.encode("utf-32"),
        "UTF-8 BOM": b"\xef\xbb\xbf" + valid.encode(),
        "10,000-digit number": b'[{"deadline": 1' + b"0" * 9_999 + b"}]",
        "10,000-digit number in an object": b'{"round": ' + b"9" * 10_000 + b"}",
        "NaN": b"[NaN]",
        "Infinity": b'{"deadline": Infinity}',
        "trailing garbage": valid.encode() + b" []",
        "unclosed string after 65 brackets (120 KB)": UNCLOSED,
        "unclosed string after 65 brackets (1 MiB)": b"[" * 65 + b'"' + b'\\"' * (MIB // 2),
    }


def test_every_post_route_refuses_every_adversarial_body(world: World, relay: TestClient) -> None:
    routes = post_routes(relay)
    assert len(routes) == 16, routes
    bodies = adversarial(world)
    client = runtime_of(relay).registry.client
    refused = 0
    with counting_rpc(client) as rpc:
        for name, body in bodies.items():
            for route in routes:
                reply = relay.post(route, content=body, headers={"content-type": "application/json"})
                assert reply.status_code == 400, (name, route, reply.status_code, reply.text[:300])
                assert_error(reply, 400, "MALFORMED_JSON")
                refused += 1
    assert rpc.total() == 0, rpc.calls
    assert_nothing_stored(relay)
    metrics = relay.get("/metrics").text
    assert f'ereg_relay_refused_total{{code="MALFORMED_JSON"}} {float(refused)}' in metrics, metrics


def test_a_body_over_the_limit_is_refused_before_it_is_read(world: World, relay: TestClient) -> None:
    limit = runtime_of(relay).settings.max_body_bytes
    assert limit == 4 * MIB
    body = b"[" + b" " * limit + b"]"
    for route in post_routes(relay):
        assert_error(
            relay.post(route, content=body, headers={"content-type": "application/json"}), 413, "PAYLOAD_TOO_LARGE"
        )


def test_json_under_another_media_type_is_refused_too(world: World, relay: TestClient) -> None:
    """A body the guard does not parse as JSON is never parsed as JSON by anyone else."""
    body = duplicate_key_in_item(world)
    for headers in ({"content-type": "text/plain"}, {}, {"content-type": "application/x-www-form-urlencoded"}):
        reply = relay.post("/v1/anchors", content=body, headers=headers)
        assert 400 <= reply.status_code < 500, (headers, reply.text)
        assert set(reply.json()) == {"error"}, reply.text
    # UTF-16 announced as such is still refused: UTF-8 only
    utf16 = json.dumps([valid_item(world)]).encode("utf-16")
    assert_error(
        relay.post("/v1/anchors", content=utf16, headers={"content-type": "application/json; charset=utf-16"}),
        400,
        "MALFORMED_JSON",
    )
    assert_nothing_stored(relay)


def test_a_full_request_of_signed_items_passes_the_guard(world: World, relay: TestClient) -> None:
    """The limits leave room for max_items signed items with long proofs: the guard refuses
    attacks, not the largest request the relay is meant to take."""
    settings = runtime_of(relay).settings
    change = world.sign_change(StatusChange(Action.REVOKE, os.urandom(32), os.urandom(32), [os.urandom(32)] * 32))
    body = json.dumps([change_json(change)] * settings.max_items).encode()
    assert len(body) < settings.max_body_bytes
    reply = relay.post("/v1/status-changes", content=body, headers={"content-type": "application/json"})
    # past the guard and the validator: the relay checked the first item (its root is unknown)
    assert_error(reply, 422, "UNKNOWN_ROOT")
