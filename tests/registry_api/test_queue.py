"""The durable queue on its own: dedup, conflicts, atomic adds, the outbox, restarts, threads.

The contract tests run against every back end (``make_queue``: SQLite and a real PostgreSQL
server); PostgreSQL's own concerns (several instances, server restarts) are in test_queue_pg.py.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from registry_api.queue import (
    ANCHORED,
    FINAL,
    PREPARED,
    QUEUED,
    REJECTED,
    SENT,
    SUBMITTED,
    NewRequest,
    Outcome,
    QueueConflict,
    RequestQueue,
    SqliteQueue,
)
from tests.registry_api.conftest import MakeQueue
from tests.registry_api.old_schemas import SQLITE_V1

#: A request id as the relay gives it out: 128 random bits in lowercase hex.
ID = re.compile(r"[0-9a-f]{32}")


def request(n: int, *, root: str | None = None, dedup: str | None = None) -> NewRequest:
    root = root or "0x" + n.to_bytes(32, "big").hex()
    return NewRequest(
        kind="anchor",
        payload={"root": root, "n": n},
        signer="0x" + "11" * 20,
        department="0x" + "22" * 32,
        root=root,
        target="0x" + "00" * 32,
        dedup_key=dedup or f"digest-{n}",
        conflict_key=root,
        deadline=2_000_000_000,
    )


def old_rows(now: float = 1_700_000_000.0) -> dict[str, list[tuple[Any, ...]]]:
    """What an older relay left in its store: two requests in a sent transaction, one queued, one
    FINAL in a mined transaction, and a remembered property step (the same rows for both back ends)."""
    requests = []
    for key, (state, tx_hash, block) in enumerate(
        [("SUBMITTED", "0xaa", None), ("SUBMITTED", "0xaa", None), ("QUEUED", None, None), ("FINAL", "0x99", 5)], 1
    ):
        r = request(key)
        requests.append(
            (
                key,
                r.kind,
                json.dumps({"n": key}),
                r.signer,
                r.department,
                r.root,
                r.target,
                r.dedup_key,
                r.conflict_key,
                r.deadline,
                state,
                tx_hash,
                block,
                None,
                1 if tx_hash else 0,
                now,
                now,
            )
        )
    return {
        "requests": requests,
        "transactions": [
            ("0xaa", "anchor", 7, b"raw-aa", "SENT", None, None, now, now),
            ("0x99", "anchor", 6, b"raw-99", "MINED", 5, None, now, now),
        ],
        "transaction_requests": [("0xaa", 1), ("0xaa", 2), ("0x99", 4)],
        "property_steps": [("0x" + "ab" * 20, "7", "0x" + "01" * 32, "0x" + "02" * 32, now)],
    }


def check_migrated(queue: RequestQueue, public: dict[int, str]) -> None:
    """The old rows under random ids: the same requests, the same outbox, and nothing else changed."""
    assert sorted(public) == [1, 2, 3, 4]
    assert all(ID.fullmatch(i) for i in public.values()) and len(set(public.values())) == 4, public
    assert not {str(k) for k in public} & set(public.values())
    (tx,) = queue.open_transactions()
    assert (tx.tx_hash, tx.state, tx.raw, tx.request_ids) == ("0xaa", "SENT", b"raw-aa", [public[1], public[2]])
    mined = queue.transaction("0x99")
    assert mined is not None and mined.request_ids == [public[4]]
    assert [r.id for r in queue.queued("anchor", 10)] == [public[3]]
    final = queue.get(public[4])
    assert final is not None and (final.state, final.tx_hash, final.block, final.root) == (
        FINAL,
        "0x99",
        5,
        request(4).root,
    )
    assert final.payload == {"n": 4} and final.dedup_key == "digest-4"
    assert queue.get("1") is None and queue.get(f"{1:032x}") is None  # the counter is no id any more
    assert queue.find_step("0x" + "ab" * 20, 7) == ("0x" + "01" * 32, "0x" + "02" * 32)
    # the outbox goes on where it was: the sent transaction is mined, its requests FINAL
    queue.mark_mined("0xaa", 8)
    assert sorted(r.id for r in queue.anchored()) == sorted([public[1], public[2]])
    queue.finalize([public[1], public[2]])
    assert queue.counts()[FINAL] == 3 and queue.counts()[QUEUED] == 1
    (new,) = queue.add([request(9)])
    assert ID.fullmatch(new.id) and new.id not in public.values()


def test_an_old_queue_file_is_migrated_and_each_request_gets_a_random_id(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript(SQLITE_V1)
    for table, values in old_rows().items():
        marks = ", ".join("?" * len(values[0]))
        columns = "signer, nonce, digest, tx_hash, created_at" if table == "property_steps" else None
        target = f"{table} ({columns})" if columns else table
        db.executemany(f"INSERT INTO {target} VALUES ({marks})", values)  # noqa: S608
    db.commit()
    db.close()

    queue = SqliteQueue(path)
    public = dict(queue._db.execute("SELECT id, public_id FROM requests").fetchall())
    check_migrated(queue, public)
    new_key = queue._db.execute("SELECT MAX(id) FROM requests").fetchone()[0]
    assert new_key == 5, "the integer key goes on counting (never reused)"
    assert queue._db.execute("PRAGMA foreign_key_check").fetchall() == []
    assert queue._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    schema = _schema(queue._db)
    queue.close()

    fresh = SqliteQueue(tmp_path / "fresh.sqlite")
    assert schema == _schema(fresh._db), "a migrated file has the schema of a new one"
    fresh.close()
    again = SqliteQueue(path)  # the migration runs once: the ids stay
    assert {k: v for k, v in again._db.execute("SELECT id, public_id FROM requests") if k <= 4} == public
    again.close()


def _schema(db: sqlite3.Connection) -> list[tuple[str, str, str]]:
    """Tables and indexes as SQLite records them (a renamed table's name is quoted: unquoted here)."""
    rows = db.execute("SELECT type, name, sql FROM sqlite_master WHERE name != 'sqlite_sequence' ORDER BY name")
    return [(kind, name, (sql or "").replace('"', "")) for kind, name, sql in rows]


def test_ids_are_random_and_the_integer_key_stays_inside(make_queue: MakeQueue) -> None:
    queue = make_queue()
    ids = [a.id for a in queue.add([request(n) for n in range(1, 21)])]
    assert all(ID.fullmatch(i) for i in ids) and len(set(ids)) == 20, ids
    assert [r.id for r in queue.queued("anchor", 30)] == ids  # still served oldest first
    assert queue.get("1") is None and queue.get(ids[0].upper()) is None
    record = queue.get(ids[3])
    assert record is not None and record.root == request(4).root


def test_the_same_request_twice_is_one_request(make_queue: MakeQueue) -> None:
    queue = make_queue()
    first = queue.add([request(1)])
    again = queue.add([request(1)])
    assert first[0].duplicate is False and again[0].duplicate is True
    assert again[0].id == first[0].id
    assert queue.counts()[QUEUED] == 1


def test_a_root_claimed_by_a_live_request_is_a_conflict_until_it_is_rejected(make_queue: MakeQueue) -> None:
    queue = make_queue()
    (first,) = queue.add([request(1)])
    with pytest.raises(QueueConflict) as raised:
        queue.add([request(1, dedup="another-signature")])
    assert raised.value.existing_id == first.id
    queue.settle([Outcome(first.id, REJECTED, reason="EXPIRED: test")])
    (second,) = queue.add([request(1, dedup="another-signature")])
    assert second.id != first.id and not second.duplicate


def test_add_is_all_or_nothing(make_queue: MakeQueue) -> None:
    queue = make_queue()
    queue.add([request(1)])
    with pytest.raises(QueueConflict) as raised:
        queue.add([request(2), request(3), request(1, dedup="other")])
    assert raised.value.index == 2
    assert queue.counts()[QUEUED] == 1
    assert queue.by_root(request(2).root) == []


def test_accepted_requests_and_the_outbox_survive_a_reopen(make_queue: MakeQueue) -> None:
    queue = make_queue()
    ids = [a.id for a in queue.add([request(i) for i in range(1, 6)])]
    queue.record_transaction("0xaa", "anchor", 7, b"\x01raw", ids[:3])
    queue.close()

    reopened = make_queue()
    (tx,) = reopened.open_transactions()
    assert (tx.tx_hash, tx.state, tx.nonce, tx.raw, tx.request_ids) == ("0xaa", PREPARED, 7, b"\x01raw", ids[:3])
    assert [r.state for r in (reopened.get(i) for i in ids) if r] == [SUBMITTED] * 3 + [QUEUED] * 2
    assert [r.id for r in reopened.queued("anchor", 10)] == ids[3:]
    reopened.close()


def test_the_queue_file_is_wal_with_full_sync(tmp_path: Path) -> None:
    path = tmp_path / "q.sqlite"
    queue = SqliteQueue(path)
    queue.add([request(1)])
    assert queue._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert queue._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    # another connection (another process after a crash) sees the committed request at once
    other = sqlite3.connect(path)
    assert other.execute("SELECT COUNT(*) FROM requests").fetchone()[0] == 1
    other.close()
    queue.close()


def test_outbox_lifecycle(make_queue: MakeQueue) -> None:
    queue = make_queue()
    ids = [a.id for a in queue.add([request(i) for i in range(1, 4)])]
    queue.record_transaction("0xbb", "anchor", 0, b"raw", ids)
    queue.mark_sent("0xbb")
    assert queue.open_transactions()[0].state == SENT
    queue.mark_mined("0xbb", 42)
    assert queue.open_transactions() == []
    anchored = queue.anchored()
    assert [(r.state, r.block, r.tx_hash) for r in anchored] == [(ANCHORED, 42, "0xbb")] * 3
    queue.finalize(ids)
    assert queue.counts()[FINAL] == 3


def test_a_failed_transaction_settles_each_request(make_queue: MakeQueue) -> None:
    queue = make_queue()
    a, b, c = (x.id for x in queue.add([request(i) for i in range(1, 4)]))
    queue.record_transaction("0xcc", "anchor", 0, b"raw", [a, b, c])
    queue.mark_failed(
        "0xcc",
        "reverted",
        [
            Outcome(a, FINAL, reason="anchored by another transaction"),
            Outcome(b, REJECTED, reason="EXPIRED"),
            Outcome(c, QUEUED),
        ],
    )
    states = {r.id: (r.state, r.tx_hash) for r in (queue.get(i) for i in (a, b, c)) if r}
    assert states == {a: (FINAL, "0xcc"), b: (REJECTED, "0xcc"), c: (QUEUED, None)}
    tx = queue.transaction("0xcc")
    assert tx is not None and tx.state == "FAILED"
    with pytest.raises(Exception, match="not QUEUED"):
        queue.record_transaction("0xdd", "anchor", 1, b"raw", [a])
    assert queue.transaction("0xdd") is None  # the whole record rolled back


def test_concurrent_adds_keep_one_request_per_signed_message(make_queue: MakeQueue) -> None:
    queue = make_queue()
    ids: list[str] = []
    lock = threading.Lock()

    def worker(seed: int) -> None:
        for n in range(40):
            number = (n + seed * 7) % 60 + 1  # overlapping ranges between threads
            (accepted,) = queue.add([request(number)])
            with lock:
                ids.append(accepted.id)

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ids) == 320
    distinct = len({(n * 1 + s * 7) % 60 + 1 for s in range(8) for n in range(40)})
    assert len(set(ids)) == distinct == queue.counts()[QUEUED]


def test_queued_requests_are_counted_per_department(make_queue: MakeQueue) -> None:
    """The count behind the per-department quota: QUEUED rows only, of that department only."""
    queue = make_queue()
    ours, theirs = "0x" + "22" * 32, "0x" + "33" * 32
    ids = [a.id for a in queue.add([request(n) for n in range(1, 5)])]
    queue.add([NewRequest(**{**request(9).__dict__, "department": theirs})])
    assert queue.count_queued_of_department(ours) == 4
    assert queue.count_queued_of_department(theirs) == 1
    assert queue.count_queued_of_department("0x" + "44" * 32) == 0
    queue.record_transaction("0xdd", "anchor", 0, b"raw", ids[:3])  # SUBMITTED: no longer waiting
    assert queue.count_queued_of_department(ours) == 1
    queue.mark_failed("0xdd", "reverted", [Outcome(ids[0], QUEUED, reason="again"), Outcome(ids[1], REJECTED)])
    assert queue.count_queued_of_department(ours) == 2


def test_executed_property_steps_are_remembered_and_bounded(make_queue: MakeQueue) -> None:
    """The relay's record of property steps (signer, nonce → digest, transaction): durable, capped."""
    queue = make_queue()
    signer = "0x" + "ab" * 20
    queue.remember_step(signer, 7, "0x" + "01" * 32, "0x" + "02" * 32, keep=3)
    assert queue.find_step(signer, 7) == ("0x" + "01" * 32, "0x" + "02" * 32)
    assert queue.find_step(signer.upper().replace("0X", "0x"), 7) is not None  # the address in any case
    assert queue.find_step(signer, 8) is None
    queue.remember_step(signer, 7, "0x" + "01" * 32, "0x" + "03" * 32, keep=3)  # the same step, sent again
    assert queue.find_step(signer, 7) == ("0x" + "01" * 32, "0x" + "03" * 32)
    for nonce in range(10, 14):
        queue.remember_step(signer, nonce, "0x" + "05" * 32, "0x" + "06" * 32, keep=3)
    assert queue.find_step(signer, 7) is None, "the oldest are forgotten beyond `keep`"
    assert [queue.find_step(signer, n) is not None for n in range(10, 14)] == [False, True, True, True]
    again = make_queue()  # another process on the same store
    assert again.find_step(signer, 13) == ("0x" + "05" * 32, "0x" + "06" * 32)
