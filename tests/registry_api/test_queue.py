"""The durable queue on its own: dedup, conflicts, atomic adds, the outbox, restarts, threads.

The contract tests run against every back end (``make_queue``: SQLite and a real PostgreSQL
server); PostgreSQL's own concerns (several instances, server restarts) are in test_queue_pg.py.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

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
    SqliteQueue,
)
from tests.registry_api.conftest import MakeQueue


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
    ids: list[int] = []
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
