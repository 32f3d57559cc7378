"""The durable request queue and the transaction outbox of the relay.

A request is stored (and fsynced) before the client hears 202; a transaction is stored, with
its signed raw bytes and the requests it carries, before it is handed to the node. After a
crash the outbox says exactly which transactions may be on chain, so nothing is lost and
nothing is sent twice.

Request states: ``QUEUED → SUBMITTED(tx) → ANCHORED(block) → FINAL``, or ``REJECTED`` with a
reason. Transaction states: ``PREPARED → SENT → MINED | FAILED``.

A request is known outside the queue by its id alone: 128 random bits in lowercase hex, made
here, so that ids cannot be walked. The integer key of its row only joins tables and orders
the queue; it never leaves this module (nor :mod:`registry_api.queue_pg`).
"""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from common.errors import EregError

Kind = Literal["anchor", "status"]
KINDS: tuple[Kind, ...] = ("anchor", "status")

QUEUED = "QUEUED"
SUBMITTED = "SUBMITTED"
ANCHORED = "ANCHORED"
FINAL = "FINAL"
REJECTED = "REJECTED"
REQUEST_STATES = (QUEUED, SUBMITTED, ANCHORED, FINAL, REJECTED)
#: The states in which a request's transaction is mined: what it carries is public on chain.
ON_CHAIN_STATES = frozenset({ANCHORED, FINAL})

PREPARED = "PREPARED"
SENT = "SENT"
MINED = "MINED"
FAILED = "FAILED"
TX_STATES = (PREPARED, SENT, MINED, FAILED)


#: A request id: 32 lowercase hex digits (what :func:`new_request_id` makes).
REQUEST_ID = re.compile(r"[0-9a-f]{32}")


def new_request_id() -> str:
    """128 bits from the operating system's CSPRNG: unguessable, and unique in practice (the
    stores' UNIQUE constraint refuses the astronomically unlikely repeat)."""
    return secrets.token_hex(16)


class QueueError(EregError):
    """Root of the queue's errors (the relay's own store refusing a step: the relay's fault, 500)."""

    code = "QUEUE_ERROR"
    message_zh = "中继请求队列操作失败"


class QueueConflict(QueueError):
    """Another live request already claims the same department's root (anchors) or signer nonce
    (status changes)."""

    code = "QUEUE_CONFLICT"
    message_zh = "已有待处理的请求占用同一批次根哈希或签名序号"
    http_status = 409

    def __init__(self, index: int, existing_id: str, conflict_key: str) -> None:
        super().__init__(f"item {index} conflicts with request {existing_id} ({conflict_key})")
        self.index = index
        self.existing_id = existing_id
        self.conflict_key = conflict_key


@dataclass(frozen=True)
class NewRequest:
    """A checked, signed request about to be stored."""

    kind: Kind
    payload: dict[str, Any]
    signer: str
    department: str
    root: str
    target: str
    dedup_key: str  # the EIP-712 digest: the same signed message is the same request
    conflict_key: str  # anchors: department and root; status changes: signer and nonce
    deadline: int


@dataclass(frozen=True)
class RequestRecord:
    id: str  # the random id, never the row's integer key
    kind: Kind
    payload: dict[str, Any]
    signer: str
    department: str
    root: str
    target: str
    dedup_key: str
    deadline: int
    state: str
    tx_hash: str | None
    block: int | None
    reason: str | None
    attempts: int
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class Accepted:
    id: str
    state: str
    duplicate: bool


@dataclass(frozen=True)
class TxRecord:
    tx_hash: str
    kind: Kind
    nonce: int
    raw: bytes
    state: str
    block: int | None
    error: str | None
    request_ids: list[str]
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class Outcome:
    """What became of one request once its transaction is settled."""

    request_id: str
    state: str  # FINAL, REJECTED or QUEUED (to be sent again)
    reason: str | None = None
    block: int | None = None
    tx_hash: str | None = None


class RequestQueue(Protocol):
    """The durable queue the relay and its batcher share (SQLite here; other back ends alike)."""

    def add(self, requests: Sequence[NewRequest]) -> list[Accepted]:
        """Store all of ``requests`` durably, or none; a known dedup key answers the existing id."""
        ...

    def get(self, request_id: str) -> RequestRecord | None:
        """The request of id ``request_id`` (as given out: lowercase hex), or None."""
        ...

    def by_dedup_key(self, dedup_key: str) -> RequestRecord | None: ...

    def by_root(self, root: str) -> list[RequestRecord]: ...

    def queued(self, kind: Kind, limit: int) -> list[RequestRecord]:
        """The oldest QUEUED requests of ``kind``."""
        ...

    def oldest_queued_at(self, kind: Kind) -> float | None: ...

    def count_queued(self, kind: Kind) -> int: ...

    def count_queued_of_department(self, department: str) -> int:
        """QUEUED requests (either kind) of ``department`` (0x id): what its quota counts."""
        ...

    def record_transaction(self, tx_hash: str, kind: Kind, nonce: int, raw: bytes, request_ids: Sequence[str]) -> None:
        """Outbox: the transaction PREPARED and its requests SUBMITTED, before it is sent."""
        ...

    def mark_sent(self, tx_hash: str) -> None: ...

    def mark_mined(self, tx_hash: str, block: int) -> None:
        """The transaction succeeded: its requests are ANCHORED at ``block``."""
        ...

    def mark_failed(self, tx_hash: str, error: str, outcomes: Sequence[Outcome]) -> None:
        """The transaction reverted or was dropped: settle each of its requests."""
        ...

    def settle(self, outcomes: Sequence[Outcome]) -> None:
        """Settle requests that were never sent (FINAL, REJECTED or back to QUEUED)."""
        ...

    def open_transactions(self) -> list[TxRecord]:
        """Transactions PREPARED or SENT, oldest first."""
        ...

    def transaction(self, tx_hash: str) -> TxRecord | None: ...

    def anchored(self) -> list[RequestRecord]:
        """Requests ANCHORED and waiting for the confirmation depth."""
        ...

    def finalize(self, request_ids: Sequence[str]) -> None: ...

    def requeue(self, request_ids: Sequence[str]) -> None:
        """ANCHORED requests whose block left the chain go back to the queue."""
        ...

    def counts(self) -> dict[str, int]: ...

    def remember_step(self, signer: str, nonce: int, digest: str, tx_hash: str, *, keep: int) -> None:
        """Record that ``signer``'s property step with ``nonce`` (EIP-191 ``digest``) went in ``tx_hash``;
        only the newest ``keep`` records are kept."""
        ...

    def find_step(self, signer: str, nonce: int) -> tuple[str, str] | None:
        """``(digest, tx_hash)`` of ``signer``'s recorded step with ``nonce``, or None."""
        ...

    def hold_relayer(self, address: str) -> None:
        """Hold ``address`` as this instance's relayer key while it lives; a QueueError (code
        ``RELAYER_KEY_IN_USE``) when another live instance of the queue holds it. Called at start
        and again each batcher round (cheap when nothing changed)."""
        ...

    def relayer_live(self, address: str) -> bool:
        """Whether a live instance of the queue (this one included) holds ``address``: its open
        transactions are that instance's to settle; any instance settles a key nobody holds."""
        ...

    def close(self) -> None: ...


#: The requests table, named so that a migration can build it beside an old one.
_REQUESTS_TABLE = """
CREATE TABLE IF NOT EXISTS {name} (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    public_id    TEXT NOT NULL UNIQUE CHECK (length(public_id) = 32 AND public_id NOT GLOB '*[^0-9a-f]*'),
    kind         TEXT NOT NULL CHECK (kind IN ('anchor', 'status')),
    payload      TEXT NOT NULL,
    signer       TEXT NOT NULL,
    department   TEXT NOT NULL,
    root         TEXT NOT NULL,
    target       TEXT NOT NULL,
    dedup_key    TEXT NOT NULL UNIQUE,
    conflict_key TEXT NOT NULL,
    deadline     INTEGER NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('QUEUED', 'SUBMITTED', 'ANCHORED', 'FINAL', 'REJECTED')),
    tx_hash      TEXT,
    block        INTEGER,
    reason       TEXT,
    attempts     INTEGER NOT NULL DEFAULT 0,
    created_at   REAL NOT NULL,
    updated_at   REAL NOT NULL
)"""

_SCHEMA = (
    _REQUESTS_TABLE.format(name="requests")
    + """;
CREATE INDEX IF NOT EXISTS requests_state ON requests (kind, state, id);
CREATE INDEX IF NOT EXISTS requests_root ON requests (root);
CREATE INDEX IF NOT EXISTS requests_conflict ON requests (conflict_key);
CREATE TABLE IF NOT EXISTS transactions (
    tx_hash    TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    nonce      INTEGER NOT NULL,
    raw        BLOB NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('PREPARED', 'SENT', 'MINED', 'FAILED')),
    block      INTEGER,
    error      TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS transactions_state ON transactions (state, created_at);
CREATE TABLE IF NOT EXISTS transaction_requests (
    tx_hash    TEXT NOT NULL REFERENCES transactions (tx_hash),
    request_id INTEGER NOT NULL REFERENCES requests (id),
    PRIMARY KEY (tx_hash, request_id)
);
CREATE INDEX IF NOT EXISTS transaction_requests_request ON transaction_requests (request_id);
CREATE INDEX IF NOT EXISTS requests_department ON requests (department, state);
CREATE TABLE IF NOT EXISTS property_steps (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    signer     TEXT NOT NULL,
    nonce      TEXT NOT NULL,
    digest     TEXT NOT NULL,
    tx_hash    TEXT NOT NULL,
    created_at REAL NOT NULL,
    UNIQUE (signer, nonce)
);
"""
)

#: The columns of the old requests table (before ``public_id``), copied as they are by the migration.
_V1_REQUEST_COLUMNS = (
    "id, kind, payload, signer, department, root, target, dedup_key, conflict_key, deadline, state, tx_hash, "
    "block, reason, attempts, created_at, updated_at"
)

_REQUEST_COLUMNS = (
    "public_id, kind, payload, signer, department, root, target, dedup_key, deadline, state, tx_hash, block, reason, "
    "attempts, created_at, updated_at"
)


class SqliteQueue:
    """:class:`RequestQueue` in one SQLite file (WAL, synchronous=FULL), safe across threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._relayer: str | None = None
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk (WAL fsynced) before it returns, so a 202 survives power loss.
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=OFF")  # the migration's rebuild drops a referenced table
        self._migrate()
        self._db.execute("PRAGMA foreign_keys=ON")
        with self._tx() as db:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)

    def _migrate(self) -> None:
        """A file of an older relay (requests known by their integer key): its requests table is
        rebuilt with ``public_id`` (SQLite cannot add a UNIQUE, CHECKed NOT NULL column), each
        row given a random id, the keys kept so that the outbox's links hold.

        The documented rebuild (new table, copy, drop, rename) with foreign keys off, as it must
        be: outside any transaction. One transaction, so a crash leaves the old file whole.
        """
        self._db.create_function("ereg_new_request_id", 0, new_request_id)
        with self._tx() as db:
            columns = {row[1] for row in db.execute("PRAGMA table_info(requests)")}
            if not columns or "public_id" in columns:
                return
            db.execute(_REQUESTS_TABLE.format(name="requests_migrated"))
            db.execute(
                f"INSERT INTO requests_migrated (public_id, {_V1_REQUEST_COLUMNS})"  # noqa: S608
                f" SELECT ereg_new_request_id(), {_V1_REQUEST_COLUMNS} FROM requests ORDER BY id"
            )
            sequence = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'requests'").fetchone()
            db.execute("DROP TABLE requests")
            db.execute("ALTER TABLE requests_migrated RENAME TO requests")
            if sequence is not None:  # the key goes on counting where it was (never reused)
                db.execute("UPDATE sqlite_sequence SET seq = MAX(seq, ?) WHERE name = 'requests'", (int(sequence[0]),))
            if db.execute("PRAGMA foreign_key_check").fetchall():
                raise QueueError(f"{self.path}: the migrated queue file has broken links; it is left as it was")

    # ------------------------------------------------------------------------ plumbing
    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self._db.execute(sql, params).fetchall())

    @staticmethod
    def _request(row: tuple[Any, ...]) -> RequestRecord:
        return RequestRecord(
            id=str(row[0]),
            kind=row[1],
            payload=json.loads(row[2]),
            signer=row[3],
            department=row[4],
            root=row[5],
            target=row[6],
            dedup_key=row[7],
            deadline=int(row[8]),
            state=row[9],
            tx_hash=row[10],
            block=None if row[11] is None else int(row[11]),
            reason=row[12],
            attempts=int(row[13]),
            created_at=float(row[14]),
            updated_at=float(row[15]),
        )

    # ------------------------------------------------------------------------ requests
    def add(self, requests: Sequence[NewRequest]) -> list[Accepted]:
        now = time.time()
        results: list[Accepted] = []
        with self._tx() as db:
            for index, req in enumerate(requests):
                existing = db.execute(
                    "SELECT public_id, state FROM requests WHERE dedup_key = ?", (req.dedup_key,)
                ).fetchone()
                if existing is not None:
                    results.append(Accepted(str(existing[0]), existing[1], duplicate=True))
                    continue
                conflict = db.execute(
                    "SELECT public_id FROM requests WHERE conflict_key = ? AND kind = ? AND state != 'REJECTED'"
                    " LIMIT 1",
                    (req.conflict_key, req.kind),
                ).fetchone()
                if conflict is not None:
                    raise QueueConflict(index, str(conflict[0]), req.conflict_key)
                public_id = new_request_id()
                db.execute(
                    "INSERT INTO requests (public_id, kind, payload, signer, department, root, target, dedup_key,"
                    " conflict_key, deadline, state, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'QUEUED', ?, ?)",
                    (
                        public_id,
                        req.kind,
                        json.dumps(req.payload, separators=(",", ":")),
                        req.signer,
                        req.department,
                        req.root,
                        req.target,
                        req.dedup_key,
                        req.conflict_key,
                        req.deadline,
                        now,
                        now,
                    ),
                )
                results.append(Accepted(public_id, QUEUED, duplicate=False))
        return results

    def get(self, request_id: str) -> RequestRecord | None:
        rows = self._read(f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE public_id = ?", (request_id,))  # noqa: S608
        return self._request(rows[0]) if rows else None

    def by_dedup_key(self, dedup_key: str) -> RequestRecord | None:
        rows = self._read(f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE dedup_key = ?", (dedup_key,))  # noqa: S608
        return self._request(rows[0]) if rows else None

    def by_root(self, root: str) -> list[RequestRecord]:
        rows = self._read(f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE root = ? ORDER BY id", (root,))  # noqa: S608
        return [self._request(r) for r in rows]

    def queued(self, kind: Kind, limit: int) -> list[RequestRecord]:
        rows = self._read(
            f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE kind = ? AND state = 'QUEUED' ORDER BY id LIMIT ?",  # noqa: S608
            (kind, limit),
        )
        return [self._request(r) for r in rows]

    def oldest_queued_at(self, kind: Kind) -> float | None:
        rows = self._read("SELECT MIN(updated_at) FROM requests WHERE kind = ? AND state = 'QUEUED'", (kind,))
        return None if not rows or rows[0][0] is None else float(rows[0][0])

    def count_queued(self, kind: Kind) -> int:
        rows = self._read("SELECT COUNT(*) FROM requests WHERE kind = ? AND state = 'QUEUED'", (kind,))
        return int(rows[0][0])

    def count_queued_of_department(self, department: str) -> int:
        rows = self._read(
            "SELECT COUNT(*) FROM requests WHERE department = ? AND state = 'QUEUED'", (department.lower(),)
        )
        return int(rows[0][0])

    # ---------------------------------------------------------------------- outbox
    def record_transaction(self, tx_hash: str, kind: Kind, nonce: int, raw: bytes, request_ids: Sequence[str]) -> None:
        now = time.time()
        with self._tx() as db:
            db.execute(
                "INSERT INTO transactions (tx_hash, kind, nonce, raw, state, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, 'PREPARED', ?, ?)",
                (tx_hash, kind, nonce, raw, now, now),
            )
            for request_id in request_ids:
                updated = db.execute(
                    "UPDATE requests SET state = 'SUBMITTED', tx_hash = ?, attempts = attempts + 1, updated_at = ?"
                    " WHERE public_id = ? AND state = 'QUEUED'",
                    (tx_hash, now, request_id),
                ).rowcount
                if updated != 1:
                    raise QueueError(f"request {request_id} is not QUEUED")
                db.execute(
                    "INSERT INTO transaction_requests (tx_hash, request_id)"
                    " SELECT ?, id FROM requests WHERE public_id = ?",
                    (tx_hash, request_id),
                )

    def mark_sent(self, tx_hash: str) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE transactions SET state = 'SENT', updated_at = ? WHERE tx_hash = ? AND state = 'PREPARED'",
                (time.time(), tx_hash),
            )

    def mark_mined(self, tx_hash: str, block: int) -> None:
        now = time.time()
        with self._tx() as db:
            db.execute(
                "UPDATE transactions SET state = 'MINED', block = ?, updated_at = ? WHERE tx_hash = ?",
                (block, now, tx_hash),
            )
            db.execute(
                "UPDATE requests SET state = 'ANCHORED', block = ?, reason = NULL, updated_at = ?"
                " WHERE tx_hash = ? AND state = 'SUBMITTED'",
                (block, now, tx_hash),
            )

    def mark_failed(self, tx_hash: str, error: str, outcomes: Sequence[Outcome]) -> None:
        now = time.time()
        with self._tx() as db:
            db.execute(
                "UPDATE transactions SET state = 'FAILED', error = ?, updated_at = ? WHERE tx_hash = ?",
                (error, now, tx_hash),
            )
            self._apply(db, outcomes, now)

    def settle(self, outcomes: Sequence[Outcome]) -> None:
        with self._tx() as db:
            self._apply(db, outcomes, time.time())

    @staticmethod
    def _apply(db: sqlite3.Connection, outcomes: Sequence[Outcome], now: float) -> None:
        for out in outcomes:
            if out.state == QUEUED:
                db.execute(
                    "UPDATE requests SET state = 'QUEUED', tx_hash = NULL, block = NULL, reason = ?, updated_at = ?"
                    " WHERE public_id = ? AND state IN ('QUEUED', 'SUBMITTED', 'ANCHORED')",
                    (out.reason, now, out.request_id),
                )
            else:
                db.execute(
                    "UPDATE requests SET state = ?, reason = ?, block = COALESCE(?, block),"
                    " tx_hash = COALESCE(?, tx_hash), updated_at = ?"
                    " WHERE public_id = ? AND state IN ('QUEUED', 'SUBMITTED', 'ANCHORED')",
                    (out.state, out.reason, out.block, out.tx_hash, now, out.request_id),
                )

    def _transaction(self, row: tuple[Any, ...]) -> TxRecord:
        ids = [
            str(r[0])
            for r in self._read(
                "SELECT r.public_id FROM transaction_requests l JOIN requests r ON r.id = l.request_id"
                " WHERE l.tx_hash = ? ORDER BY l.request_id",
                (row[0],),
            )
        ]
        return TxRecord(
            tx_hash=row[0],
            kind=row[1],
            nonce=int(row[2]),
            raw=bytes(row[3]),
            state=row[4],
            block=None if row[5] is None else int(row[5]),
            error=row[6],
            request_ids=ids,
            created_at=float(row[7]),
            updated_at=float(row[8]),
        )

    _TX_COLUMNS = "tx_hash, kind, nonce, raw, state, block, error, created_at, updated_at"

    def open_transactions(self) -> list[TxRecord]:
        rows = self._read(
            f"SELECT {self._TX_COLUMNS} FROM transactions WHERE state IN ('PREPARED', 'SENT')"  # noqa: S608
            " ORDER BY created_at, nonce"
        )
        return [self._transaction(r) for r in rows]

    def transaction(self, tx_hash: str) -> TxRecord | None:
        rows = self._read(f"SELECT {self._TX_COLUMNS} FROM transactions WHERE tx_hash = ?", (tx_hash,))  # noqa: S608
        return self._transaction(rows[0]) if rows else None

    def anchored(self) -> list[RequestRecord]:
        rows = self._read(f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE state = 'ANCHORED' ORDER BY id")  # noqa: S608
        return [self._request(r) for r in rows]

    def finalize(self, request_ids: Sequence[str]) -> None:
        now = time.time()
        with self._tx() as db:
            for request_id in request_ids:
                db.execute(
                    "UPDATE requests SET state = 'FINAL', updated_at = ? WHERE public_id = ? AND state = 'ANCHORED'",
                    (now, request_id),
                )

    def requeue(self, request_ids: Sequence[str]) -> None:
        self.settle([Outcome(i, QUEUED, reason="block left the chain") for i in request_ids])

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(REQUEST_STATES, 0)
        for state, count in self._read("SELECT state, COUNT(*) FROM requests GROUP BY state"):
            counts[state] = int(count)
        return counts

    # ------------------------------------------------------------------ property steps
    def remember_step(self, signer: str, nonce: int, digest: str, tx_hash: str, *, keep: int) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO property_steps (signer, nonce, digest, tx_hash, created_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (signer, nonce) DO UPDATE SET digest = excluded.digest, tx_hash = excluded.tx_hash",
                (signer.lower(), str(nonce), digest, tx_hash, time.time()),
            )
            db.execute("DELETE FROM property_steps WHERE id <= (SELECT MAX(id) FROM property_steps) - ?", (keep,))

    def find_step(self, signer: str, nonce: int) -> tuple[str, str] | None:
        rows = self._read(
            "SELECT digest, tx_hash FROM property_steps WHERE signer = ? AND nonce = ?", (signer.lower(), str(nonce))
        )
        return (str(rows[0][0]), str(rows[0][1])) if rows else None

    # One process per file: the only live relayer key is the one this queue object holds.
    def hold_relayer(self, address: str) -> None:
        with self._lock:
            if self._relayer is not None and self._relayer != address.lower():
                raise ValueError("this queue already holds another relayer key")
            self._relayer = address.lower()

    def relayer_live(self, address: str) -> bool:
        return self._relayer == address.lower()

    def close(self) -> None:
        with self._lock:
            self._db.close()
