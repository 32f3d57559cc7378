"""The PostgreSQL queue against a real server: durability, several instances, and two relays on one chain.

The queue's contract (dedup, conflicts, the outbox…) runs for this back end in test_queue.py;
here are what only a shared database brings: commits flushed before they return, a server
restart under a live queue, concurrent claims and accepts from two instances, idempotent
settling, and two relay processes' batchers sharing one database on the real chain.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
from pydantic import SecretStr

from devstack.postgres import PostgresServer, restart_postgres
from registry_api.queue import FINAL, QUEUED, SUBMITTED, Outcome, QueueConflict, QueueError
from registry_api.queue_pg import PostgresQueue
from tests.factories import World, wait_until
from tests.registry_api.conftest import MakeRelay, anchor_json, runtime_of
from tests.registry_api.old_schemas import POSTGRES_V1
from tests.registry_api.test_queue import ID, check_migrated, old_rows, request


def rows(url: str, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Read the database with a connection of its own (what another process would see)."""
    with psycopg.connect(url) as conn:
        return list(conn.execute(query, params).fetchall())


def test_an_old_database_is_migrated_and_each_request_gets_a_random_id(postgres_url: str) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        for statement in POSTGRES_V1.split(";"):
            if statement.strip():
                conn.execute(statement)
        for table, values in old_rows().items():
            marks = ", ".join(["%s"] * len(values[0]))
            if table == "requests":  # an identity column ALWAYS generated: the old rows keep their keys
                conn.cursor().executemany(f"INSERT INTO requests OVERRIDING SYSTEM VALUE VALUES ({marks})", values)  # noqa: S608
                continue
            columns = " (signer, nonce, digest, tx_hash, created_at)" if table == "property_steps" else ""
            conn.cursor().executemany(f"INSERT INTO {table}{columns} VALUES ({marks})", values)  # noqa: S608
        conn.execute("SELECT setval(pg_get_serial_sequence('requests', 'id'), 4)")

    # two instances of the new relay start at once on the old database: one migrates, under the lock
    with ThreadPoolExecutor(2) as pool:
        queues = list(pool.map(lambda _: PostgresQueue(postgres_url), range(2)))
    try:
        public = dict(rows(postgres_url, "SELECT id, public_id FROM requests"))
        check_migrated(queues[1], public)
        assert rows(postgres_url, "SELECT MAX(id) FROM requests") == [(5,)], "the key goes on counting"
        column = rows(
            postgres_url,
            "SELECT is_nullable FROM information_schema.columns WHERE table_name = 'requests'"
            " AND column_name = 'public_id'",
        )
        assert column == [("NO",)]
        with pytest.raises(psycopg.errors.UniqueViolation), psycopg.connect(postgres_url) as conn:
            conn.execute("UPDATE requests SET public_id = %s WHERE id = 2", (public[1],))
        with pytest.raises(psycopg.errors.CheckViolation), psycopg.connect(postgres_url) as conn:
            conn.execute("UPDATE requests SET public_id = '2' WHERE id = 2")
    finally:
        for queue in queues:
            queue.close()
    again = PostgresQueue(postgres_url)  # the migration runs once: the ids stay
    try:
        assert dict(rows(postgres_url, "SELECT id, public_id FROM requests WHERE id <= 4")) == public
    finally:
        again.close()


def test_a_new_database_refuses_a_missing_or_malformed_id(postgres_url: str) -> None:
    queue = PostgresQueue(postgres_url)
    try:
        (accepted,) = queue.add([request(1)])
        assert ID.fullmatch(accepted.id)
        with pytest.raises(psycopg.errors.CheckViolation), psycopg.connect(postgres_url) as conn:
            conn.execute("UPDATE requests SET public_id = upper(public_id)")
        with pytest.raises(psycopg.errors.NotNullViolation), psycopg.connect(postgres_url) as conn:
            conn.execute("UPDATE requests SET public_id = NULL")
    finally:
        queue.close()


def test_commits_wait_for_the_flush_to_disk(postgres_url: str) -> None:
    queue = PostgresQueue(postgres_url)
    try:
        with queue._pool.connection() as conn:
            assert conn.execute("SHOW synchronous_commit").fetchone() == ("on",)
            assert conn.execute("SHOW fsync").fetchone() == ("on",)
        (accepted,) = queue.add([request(1)])
        # committed on return: a connection of its own sees it at once
        assert rows(postgres_url, "SELECT public_id, state FROM requests") == [(accepted.id, QUEUED)]
    finally:
        queue.close()


def test_the_queue_survives_a_server_restart(postgres: PostgresServer, postgres_url: str) -> None:
    queue = PostgresQueue(postgres_url)
    try:
        ids = [a.id for a in queue.add([request(i) for i in range(1, 5)])]
        queue.record_transaction("0xaa", "anchor", 3, b"\x02raw", ids[:2])
        restart_postgres(postgres)  # every open connection is cut
        # the same queue object carries on over new connections, with nothing lost
        assert queue.counts()[SUBMITTED] == 2 and queue.counts()[QUEUED] == 2
        (tx,) = queue.open_transactions()
        assert (tx.tx_hash, tx.raw, tx.request_ids) == ("0xaa", b"\x02raw", ids[:2])
        (more,) = queue.add([request(9)])
        other = PostgresQueue(postgres_url)  # and another process sees the same
        try:
            assert [r.id for r in other.queued("anchor", 10)] == [*ids[2:], more.id]
        finally:
            other.close()
    finally:
        queue.close()


def test_two_instances_claiming_at_once_never_share_a_request(postgres_url: str) -> None:
    instances = [PostgresQueue(postgres_url), PostgresQueue(postgres_url)]
    try:
        total = 300
        for start in range(0, total, 100):
            instances[0].add([request(n) for n in range(start + 1, start + 101)])
        carried: list[tuple[str, list[str]]] = []
        errors: list[Exception] = []
        lock = threading.Lock()

        def batcher(queue: PostgresQueue, worker: int) -> None:
            try:
                for round_ in range(1000):
                    batch = queue.queued("anchor", 7)
                    if not batch:
                        return
                    tx_hash = f"0x{worker:02x}{round_:06x}"
                    queue.record_transaction(tx_hash, "anchor", round_, b"raw", [r.id for r in batch])
                    with lock:
                        carried.append((tx_hash, [r.id for r in batch]))
            except (QueueError, psycopg.Error) as exc:
                errors.append(exc)

        threads = [
            threading.Thread(target=batcher, args=(instances[w % 2], w)) for w in range(8)
        ]  # four threads per instance
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert errors == []
        per_request = Counter(i for _, ids in carried for i in ids)
        assert len(per_request) == total and set(per_request.values()) == {1}
        links = rows(postgres_url, "SELECT request_id, COUNT(*) FROM transaction_requests GROUP BY request_id")
        assert len(links) == total and {count for _, count in links} == {1}
        assert instances[0].counts()[SUBMITTED] == total
        assert len({h for h, _ in carried}) == len(carried) > total // 7
    finally:
        for queue in instances:
            queue.close()


def test_a_claim_holds_against_other_instances_until_its_lease_ends(postgres_url: str) -> None:
    first = PostgresQueue(postgres_url, lease=1.0)
    second = PostgresQueue(postgres_url)
    try:
        ids = [a.id for a in first.add([request(n) for n in range(1, 6)])]
        claimed = [r.id for r in first.queued("anchor", 3)]
        assert claimed == ids[:3]
        assert [r.id for r in second.queued("anchor", 10)] == ids[3:]
        assert second.count_queued("anchor") == 2  # its own two; the first's three are held
        with pytest.raises(QueueError, match="claimed by another instance"):
            second.record_transaction("0xbb", "anchor", 0, b"raw", claimed)
        assert second.transaction("0xbb") is None
        # the holder may take its own claims again, and send them
        assert [r.id for r in first.queued("anchor", 10)] == claimed
        # a holder that dies without a word: its claims are free once the lease runs out
        time.sleep(1.1)
        assert second.count_queued("anchor") == 5
        assert [r.id for r in second.queued("anchor", 10)] == ids
        second.record_transaction("0xcc", "anchor", 0, b"raw", claimed)
        with pytest.raises(QueueError):
            first.record_transaction("0xdd", "anchor", 1, b"raw", claimed)
    finally:
        first.close()
        second.close()


def test_a_clean_close_gives_the_claims_back(postgres_url: str) -> None:
    first = PostgresQueue(postgres_url)
    second = PostgresQueue(postgres_url)
    try:
        ids = [a.id for a in first.add([request(n) for n in range(1, 4)])]
        assert len(first.queued("anchor", 10)) == 3
        assert second.queued("anchor", 10) == []
        first.close()
        assert [r.id for r in second.queued("anchor", 10)] == ids
    finally:
        second.close()


def test_many_accepts_of_the_same_request_at_once_store_one_row(postgres_url: str) -> None:
    instances = [PostgresQueue(postgres_url), PostgresQueue(postgres_url)]
    try:
        barrier = threading.Barrier(16)
        accepted: list[tuple[str, str, bool]] = []
        conflicts: list[str] = []
        lock = threading.Lock()

        def accept(worker: int) -> None:
            queue = instances[worker % 2]
            barrier.wait()
            (same,) = queue.add([request(1)])  # the same signed message, sixteen times
            try:
                # and the same root under sixteen different signatures: one may be live
                (other,) = queue.add([request(2, dedup=f"signature-{worker}")])
            except QueueConflict as exc:
                with lock:
                    conflicts.append(exc.existing_id)
                other = None
            with lock:
                accepted.append(("same", same.id, same.duplicate))
                if other is not None:
                    accepted.append(("other", other.id, other.duplicate))

        threads = [threading.Thread(target=accept, args=(w,)) for w in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        same = [(i, dup) for which, i, dup in accepted if which == "same"]
        assert len(same) == 16 and len({i for i, _ in same}) == 1
        assert sorted(dup for _, dup in same) == [False] + [True] * 15
        winners = [i for which, i, _ in accepted if which == "other"]
        assert len(winners) == 1 and conflicts == winners * 15
        assert rows(postgres_url, "SELECT COUNT(*) FROM requests") == [(2,)]
    finally:
        for queue in instances:
            queue.close()


def test_settling_a_transaction_twice_applies_once(postgres_url: str) -> None:
    """Two instances settle the same failed transaction; the late one must not undo a resend."""
    first = PostgresQueue(postgres_url)
    second = PostgresQueue(postgres_url)
    try:
        a, b = (x.id for x in first.add([request(1), request(2)]))
        first.record_transaction("0x01", "anchor", 0, b"raw", [a, b])
        retry = [Outcome(a, QUEUED, reason="sent again"), Outcome(b, QUEUED, reason="sent again")]
        second.mark_failed("0x01", "nonce taken", retry)
        second.record_transaction("0x02", "anchor", 1, b"raw", [r.id for r in second.queued("anchor", 10)])
        first.mark_failed("0x01", "nonce taken", retry)  # late: the transaction is settled already
        records = [first.get(i) for i in (a, b)]
        assert [(r.state, r.tx_hash) for r in records if r] == [(SUBMITTED, "0x02")] * 2
        # outcomes only touch the requests the failed transaction still carries
        first.record_transaction("0x03", "anchor", 2, b"raw", [(first.add([request(3)])[0]).id])
        second.mark_failed("0x03", "reverted", [Outcome(a, FINAL, reason="not carried by 0x03")])
        record = first.get(a)
        assert record is not None and (record.state, record.tx_hash) == (SUBMITTED, "0x02")
    finally:
        first.close()
        second.close()


@pytest.mark.chain
def test_two_relays_sharing_one_database_anchor_everything_once(
    world: World, make_relay: MakeRelay, postgres_url: str
) -> None:
    url = SecretStr(postgres_url)
    keys = [world.relayer, world.new_account()]  # each instance its own relayer key
    world.sender(keys[1])  # funded on the dev chain
    relays = [make_relay(run_batcher=True, queue_url=url, batch_size=15, batch_age=0.1, relayer=k) for k in keys]
    start_nonces = [int(world.client.w3.eth.get_transaction_count(k.address)) for k in keys]
    signed = [world.sign_anchor(os.urandom(32), count=2) for _ in range(60)]
    ids: list[str] = []
    for wave in range(6):  # alternate relays while both batchers run
        items = [anchor_json(s) for s in signed[wave * 10 : wave * 10 + 10]]
        reply = relays[wave % 2].post("/v1/anchors", json=items)
        assert reply.status_code == 202, reply.text
        ids += [r["id"] for r in reply.json()["requests"]]
        # the same signed requests through the other relay are the same requests
        again = relays[(wave + 1) % 2].post("/v1/anchors", json=items[:3]).json()["requests"]
        assert [r["id"] for r in again] == ids[-10:-7] and all(r["duplicate"] for r in again)

    def states() -> list[str]:
        return [relays[n % 2].get(f"/v1/requests/{i}").json()["state"] for n, i in enumerate(ids)]

    assert wait_until(lambda: states() == [FINAL] * 60, timeout=40), Counter(states())
    queue_txs = rows(postgres_url, "SELECT tx_hash, state FROM transactions")
    mined = [h for h, state in queue_txs if state == "MINED"]
    assert {state for _, state in queue_txs} <= {"MINED", "FAILED"}
    # on chain: exactly the mined transactions, and each root anchored by exactly one of them
    nonces = [int(world.client.w3.eth.get_transaction_count(k.address)) for k in keys]
    sent = [now - then for now, then in zip(nonces, start_nonces, strict=True)]
    assert sum(sent) == len(mined)
    event = world.registry.contract.events.BatchAnchored()
    anchored: Counter[bytes] = Counter()
    for tx_hash in mined:
        receipt = world.client.w3.eth.get_transaction_receipt(tx_hash)
        anchored.update(bytes(log["args"]["root"]) for log in event.process_receipt(receipt))
    assert anchored == Counter(s.root for s in signed)
    # in the queue: every request carried by exactly one mined transaction, the one it names
    carried = rows(
        postgres_url,
        "SELECT r.public_id, r.tx_hash FROM requests r JOIN transaction_requests l ON l.request_id = r.id"
        " JOIN transactions t ON t.tx_hash = l.tx_hash AND t.state = 'MINED' AND t.tx_hash = r.tx_hash",
    )
    assert sorted(i for i, _ in carried) == sorted(ids)
    for relay in relays:
        assert relay.get("/healthz").json()["batcher"]["running"] is True
    assert all(runtime_of(r).queue.counts()[FINAL] == 60 for r in relays)
