"""Request ids cannot be walked, and a status answer shows no content before it is on chain.

Ids are 128 random bits (32 lowercase hex digits) made by the relay; the queue's integer key
never leaves it. ``GET /v1/requests/{id}`` answers one and the same 404 for every id it did
not give out, well-formed or not. A request's root, target hash, transaction hash and block
(and the 32-byte values in its reason) are shown only once its transaction is mined
(ANCHORED, FINAL): until then a leaked id tells nothing of what is anchored.
"""

from __future__ import annotations

import itertools
import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from chain.types import Action, StatusChange
from registry_api.app import create_app
from registry_api.batcher import Batcher
from registry_api.queue import ANCHORED, FINAL, QUEUED, REJECTED, SUBMITTED, SqliteQueue, new_request_id
from registry_api.settings import RelaySettings
from tests.factories import SAMR, World
from tests.registry_api.conftest import MakeQueue, MakeRelay, anchor_json, change_json, relay_settings, runtime_of
from tests.registry_api.old_schemas import SQLITE_V1
from tests.registry_api.test_queue import request as new_request

pytestmark = pytest.mark.chain

ID = re.compile(r"[0-9a-f]{32}")
HIDDEN = ("root", "targetHash", "txHash", "block")


class Crash(Exception):
    """Stands in for the process dying right after the transaction is recorded and sent."""


def post(relay: TestClient, path: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    reply = relay.post(path, json=items)
    assert reply.status_code == 202, reply.text
    answered: list[dict[str, Any]] = reply.json()["requests"]
    return answered


def status(relay: TestClient, request_id: str) -> dict[str, Any]:
    reply = relay.get(f"/v1/requests/{request_id}")
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def internal_keys(relay: TestClient) -> list[int]:
    """The queue file's integer primary keys, read as another process would."""
    db = sqlite3.connect(runtime_of(relay).settings.queue_path)
    try:
        return [int(row[0]) for row in db.execute("SELECT id FROM requests ORDER BY id")]
    finally:
        db.close()


def test_ids_are_128_random_bits_unrelated_from_one_post_to_the_next(world: World, relay: TestClient) -> None:
    (first,) = post(relay, "/v1/anchors", [anchor_json(world.sign_anchor(os.urandom(32)))])
    (second,) = post(relay, "/v1/anchors", [anchor_json(world.sign_anchor(os.urandom(32)))])
    many = post(relay, "/v1/anchors", [anchor_json(world.sign_anchor(os.urandom(32))) for _ in range(20)])
    ids = [first["id"], second["id"], *(r["id"] for r in many)]
    assert all(isinstance(i, str) and ID.fullmatch(i) for i in ids), ids
    assert len(set(ids)) == len(ids)
    for a, b in itertools.pairwise(ids):
        # random 128-bit values differ in about 64 bits, a counter or a clock in a handful (16 or
        # fewer by chance: about 1e-16); and they are far apart, not the next value
        assert bin(int(a, 16) ^ int(b, 16)).count("1") > 16, (a, b)
        assert abs(int(a, 16) - int(b, 16)) > 2**64, (a, b)
    # the integer key stays inside the queue: no answer names it
    keys = internal_keys(relay)
    assert len(keys) == len(ids)
    assert not {str(k) for k in keys} & set(ids)
    assert status(relay, first["id"])["id"] == first["id"]


def test_walking_ids_finds_nothing_and_every_unknown_id_gets_the_same_404(world: World, relay: TestClient) -> None:
    post(relay, "/v1/anchors", [anchor_json(world.sign_anchor(os.urandom(32))) for _ in range(5)])
    unknown = relay.get(f"/v1/requests/{os.urandom(16).hex()}")
    assert unknown.status_code == 404, unknown.text
    body = unknown.json()
    assert body["error"]["code"] == "NOT_FOUND" and body["error"]["message_zh"]
    walked = [f"{n}" for n in range(1, 31)] + [f"{n:032x}" for n in range(0, 31)] + ["0"]
    malformed = ["abc", "-1", "0x" + "ab" * 16, "AB" * 15, "ab" * 17, "g" * 32, "%20" + "ab" * 16]
    for probe in walked + malformed:
        reply = relay.get(f"/v1/requests/{probe}")
        assert (reply.status_code, reply.json()) == (404, body), (probe, reply.text)


def test_a_request_shows_its_content_only_once_its_transaction_is_mined(world: World, make_relay: MakeRelay) -> None:
    relay = make_relay(confirmations=2)
    root = os.urandom(32)
    root_hex = "0x" + root.hex()
    (accepted,) = post(relay, "/v1/anchors", [anchor_json(world.sign_anchor(root))])
    # the department that signed it gets its root back in the POST answer
    assert accepted["root"] == root_hex and accepted["state"] == QUEUED
    queued = status(relay, accepted["id"])
    assert queued["state"] == QUEUED and all(queued[field] is None for field in HIDDEN), queued
    assert root.hex() not in relay.get(f"/v1/requests/{accepted['id']}").text

    runtime = runtime_of(relay)

    class Dying(Batcher):
        def _broadcast(self, raw: bytes) -> None:
            raise Crash  # recorded, not sent: the transaction (and its calldata) is not on chain

    with pytest.raises(Crash):
        Dying(world.registry, runtime.queue, world.relayer).run_once(force=True)
    submitted = status(relay, accepted["id"])
    assert submitted["state"] == SUBMITTED and all(submitted[field] is None for field in HIDDEN), submitted

    runtime.batcher.run_once(force=True)  # sends the recorded transaction: mined, two confirmations to go
    anchored = status(relay, accepted["id"])
    assert anchored["state"] == ANCHORED and anchored["root"] == root_hex
    assert anchored["txHash"] and isinstance(anchored["block"], int)
    world.mine(2)
    runtime.batcher.run_once()
    final = status(relay, accepted["id"])
    assert final["state"] == FINAL and (final["root"], final["txHash"]) == (root_hex, anchored["txHash"])


def test_a_queued_status_change_shows_neither_its_root_nor_its_target(world: World, relay: TestClient) -> None:
    tree, targets = world.anchor_batch(3)
    change = world.sign_change(StatusChange(Action.SUSPEND, tree.root, targets[1], tree.proof(1), reason=6))
    (accepted,) = post(relay, "/v1/status-changes", [change_json(change)])
    text = relay.get(f"/v1/requests/{accepted['id']}").text
    assert targets[1].hex() not in text and tree.root.hex() not in text, text
    # the view by root names the root it was asked about, but not the queued change's target
    view = relay.get(f"/v1/anchors/0x{tree.root.hex()}")
    assert view.status_code == 200, view.text
    assert targets[1].hex() not in view.text, view.text
    runtime_of(relay).batcher.run_once(force=True)
    final = status(relay, accepted["id"])
    assert final["state"] == FINAL and final["targetHash"] == "0x" + targets[1].hex()


def test_a_rejected_request_keeps_its_content_hidden_and_its_reason(world: World, relay: TestClient) -> None:
    tree, targets = world.anchor_batch(2)
    first = world.sign_change(StatusChange(Action.SUSPEND, tree.root, targets[0], tree.proof(0)))
    second = world.sign_change(StatusChange(Action.SUSPEND, tree.root, targets[0], tree.proof(0)))
    ids = [r["id"] for r in post(relay, "/v1/status-changes", [change_json(first), change_json(second)])]
    runtime_of(relay).batcher.run_once(force=True)
    rejected = relay.get(f"/v1/requests/{ids[1]}")
    body = rejected.json()
    assert body["state"] == REJECTED and all(body[field] is None for field in HIDDEN), body
    # the code and the decoded error stay; the 32-byte values in its arguments do not
    assert body["reason"].startswith("INVALID_TRANSITION: DocumentRegistryInvalidTransition("), body
    assert tree.root.hex() not in rejected.text and targets[0].hex() not in rejected.text, rejected.text


def test_a_thousand_ids_are_distinct_random_hex_in_no_order(make_queue: MakeQueue) -> None:
    """On both stores: 1000 requests stored at once get 1000 different ids of 32 lowercase hex
    digits, in no order (the queue still serves them in their order of arrival), with every bit
    as often 0 as 1: nothing of a counter, a clock or a row key."""
    queue = make_queue()
    accepted = queue.add([new_request(n) for n in range(1, 1001)])
    ids = [a.id for a in accepted]
    assert all(ID.fullmatch(i) for i in ids), [i for i in ids if not ID.fullmatch(i)][:5]
    assert len(set(ids)) == 1000
    numbers = [int(i, 16) for i in ids]
    # in arrival order, about half the steps go up (a counter or a clock: all of them)
    ups = sum(b > a for a, b in itertools.pairwise(numbers))
    assert 350 < ups < 650, ups
    assert min(abs(b - a) for a, b in itertools.pairwise(numbers)) > 2**64  # no neighbour is the next value
    # each of the 128 bits is set in about 500 of the 1000 ids (binomial: sd 16; 150 off is 9 sd)
    for bit in range(128):
        ones = sum(n >> bit & 1 for n in numbers)
        assert 350 < ones < 650, (bit, ones)
    assert not {str(k) for k in range(1, 1001)} & set(ids)
    assert [r.id for r in queue.queued("anchor", 1000)] == ids  # first in, first out, by the inner key
    assert [a.id for a in queue.add([new_request(n) for n in (1, 500, 1000)])] == [ids[0], ids[499], ids[999]]


def test_ids_come_from_the_systems_generator(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``secrets`` (the OS's CSPRNG) makes the ids, 16 bytes each: not ``random``, not uuid4 (122 bits)."""
    asked: list[int] = []

    def token_hex(nbytes: int) -> str:
        asked.append(nbytes)
        return f"{len(asked):032x}"

    monkeypatch.setattr("registry_api.queue.secrets.token_hex", token_hex)
    assert new_request_id() == f"{1:032x}" and asked == [16]
    queue = SqliteQueue(tmp_path / "q.sqlite")
    try:
        assert [a.id for a in queue.add([new_request(1), new_request(2)])] == [f"{2:032x}", f"{3:032x}"]
    finally:
        queue.close()


def test_the_same_404_for_every_id_that_is_not_one_given_out(world: World, relay: TestClient) -> None:
    """Byte for byte the same answer: status, body and content type, for a well-formed unknown
    id, the old counter, and paths that are no id at all; the id is never echoed."""
    (accepted,) = post(relay, "/v1/anchors", [anchor_json(world.sign_anchor(os.urandom(32)))])
    probes = [
        os.urandom(16).hex(),
        accepted["id"][:-1] + ("0" if accepted["id"][-1] != "0" else "1"),  # one digit off a real id
        "1",
        "2",
        "9" * 19,  # past a 64-bit counter
        "not-an-id",
        accepted["id"] + "0",
        "%E4%B8%AD" * 4,
    ]
    answers = [relay.get(f"/v1/requests/{probe}") for probe in probes]
    first = answers[0]
    assert first.status_code == 404
    for probe, answer in zip(probes, answers, strict=True):
        assert answer.status_code == 404, (probe, answer.text)
        assert answer.content == first.content, (probe, answer.text)
        assert answer.headers["content-type"] == first.headers["content-type"]
        assert probe not in answer.text
    assert first.json() == {"error": {"code": "NOT_FOUND", "message": "no such request", "message_zh": "未找到该请求"}}
    # the real id, in either case, is found
    assert status(relay, accepted["id"])["state"] == QUEUED
    assert status(relay, accepted["id"].upper())["id"] == accepted["id"]


# ------------------------------------------------------------------ an older relay's store
@contextmanager
def started(world: World, settings: RelaySettings) -> Iterator[TestClient]:
    """A relay on ``settings``' store (the batcher run by hand), stopped on leaving."""
    with TestClient(create_app(settings, relayer=world.relayer, run_batcher=False)) as client:
        yield client


def to_old_sqlite(path: Path) -> None:
    """Turn a queue file into what an older relay would have left: the same rows under the old
    schema (no ``public_id``), the integer keys as they were."""
    old = path.with_name("old-" + path.name)
    db = sqlite3.connect(old)
    try:
        db.executescript(SQLITE_V1)
        db.execute("ATTACH DATABASE ? AS current", (str(path),))
        columns = {
            "requests": "id, kind, payload, signer, department, root, target, dedup_key, conflict_key, deadline,"
            " state, tx_hash, block, reason, attempts, created_at, updated_at",
            "transactions": "tx_hash, kind, nonce, raw, state, block, error, created_at, updated_at",
            "transaction_requests": "tx_hash, request_id",
            "property_steps": "id, signer, nonce, digest, tx_hash, created_at",
        }
        for table, names in columns.items():
            db.execute(f"INSERT INTO main.{table} ({names}) SELECT {names} FROM current.{table} ORDER BY 1")  # noqa: S608
        db.commit()
        db.execute("DETACH DATABASE current")
    finally:
        db.close()
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    old.replace(path)


def to_old_postgres(url: str) -> None:
    """The same for a PostgreSQL queue: dropping the column drops its index and check with it."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER TABLE requests DROP COLUMN public_id")


def inner_keys(settings: RelaySettings, url: str | None) -> dict[str, int]:
    """The stored requests' random ids and integer keys, read as another process would."""
    query = "SELECT public_id, id FROM requests"
    if url is not None:
        with psycopg.connect(url) as conn:
            return {str(k): int(v) for k, v in conn.execute(query).fetchall()}
    db = sqlite3.connect(settings.queue_path)
    try:
        return {str(k): int(v) for k, v in db.execute(query).fetchall()}
    finally:
        db.close()


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_a_store_of_an_older_relay_goes_on_working_under_random_ids(
    world: World, tmp_path: Path, request: pytest.FixtureRequest, store: str
) -> None:
    """An older relay left one request FINAL and one QUEUED. The new relay opens its store: the
    old counters are unknown (the same 404 as any), each request is found again by posting its
    signed message (``duplicate: true``, a random id, its state kept) or by its root, the queued
    one is sent and anchored, and what it carries is shown only once it is on chain."""
    url: str | None = request.getfixturevalue("postgres_url") if store == "postgres" else None
    settings = relay_settings(world, tmp_path, **({"queue_url": url} if url else {}))
    signed = [world.sign_anchor(os.urandom(32), count=2) for _ in range(2)]
    roots = ["0x" + s.root.hex() for s in signed]
    with started(world, settings) as relay:  # what the older relay did, in the same rows
        post(relay, "/v1/anchors", [anchor_json(signed[0])])
        runtime_of(relay).batcher.run_once(force=True)
        post(relay, "/v1/anchors", [anchor_json(signed[1])])
        before = {r.root: r for r in (runtime_of(relay).queue.by_root(root)[0] for root in roots)}
    assert [before[root].state for root in roots] == [FINAL, QUEUED]
    if url is None:
        to_old_sqlite(settings.queue_path)
    else:
        to_old_postgres(url)

    with started(world, settings) as relay:
        unknown = relay.get(f"/v1/requests/{os.urandom(16).hex()}")
        for counter in ("1", "2", *(before[root].id for root in roots)):  # no id of before is an id now
            old = relay.get(f"/v1/requests/{counter}")
            assert (old.status_code, old.content) == (404, unknown.content), (counter, old.text)
        again = post(relay, "/v1/anchors", [anchor_json(s) for s in signed])
        assert [(a["duplicate"], a["state"], a["root"]) for a in again] == [
            (True, FINAL, roots[0]),
            (True, QUEUED, roots[1]),
        ]
        ids = [a["id"] for a in again]
        assert all(ID.fullmatch(i) for i in ids) and len(set(ids)) == 2
        assert not set(ids) & {before[root].id for root in roots}, "every request got a new random id"
        assert post(relay, "/v1/anchors", [anchor_json(signed[1])])[0]["id"] == ids[1]  # and keeps it
        keys = inner_keys(settings, url)
        assert [keys[i] for i in ids] == [1, 2], "the integer keys (the queue's order) are kept"
        assert [r["id"] for r in relay.get(f"/v1/anchors/{roots[1]}").json()["requests"]] == [ids[1]]

        final = status(relay, ids[0])
        assert (final["state"], final["root"], final["txHash"]) == (FINAL, roots[0], before[roots[0]].tx_hash)
        queued = status(relay, ids[1])
        assert queued["state"] == QUEUED and all(queued[field] is None for field in HIDDEN), queued
        runtime_of(relay).batcher.run_once(force=True)  # the old queued request is sent as before
        anchored = status(relay, ids[1])
        assert anchored["state"] == FINAL and anchored["root"] == roots[1] and anchored["txHash"]
        status_on_chain = world.registry.document_status(SAMR, signed[1].root)
        assert status_on_chain.anchored and status_on_chain.count == 2
        (fresh,) = post(relay, "/v1/anchors", [anchor_json(world.sign_anchor(os.urandom(32)))])
        assert ID.fullmatch(fresh["id"]) and inner_keys(settings, url)[fresh["id"]] == 3
