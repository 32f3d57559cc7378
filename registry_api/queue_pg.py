"""The durable request queue and outbox in PostgreSQL, for several relay instances on one database.

Same interface and states as :class:`registry_api.queue.SqliteQueue`. Every write is one
transaction committed with ``synchronous_commit = on`` (the commit is flushed to the server's
WAL before it returns), so a 202 survives a crash of the relay and of the database server.

Several instances (each with its own batcher) may share the database:

- the same signed request accepted twice, by any instance at once, is one row: ``dedup_key`` is
  UNIQUE and the insert is ``INSERT … ON CONFLICT (dedup_key) DO NOTHING``; a second live
  request for the same department's root (or signer nonce) is refused by a partial unique
  index, however the accepts interleave;
- :meth:`PostgresQueue.queued` *claims* the requests it returns for the calling thread of this
  queue object (``SELECT … FOR UPDATE SKIP LOCKED``, then a lease of ``lease`` seconds on the
  database's clock): any other batcher, in this process or another, skips them, so two
  batchers never put the same request in two transactions. :meth:`record_transaction` turns
  the claim into SUBMITTED(tx) and refuses a request claimed by another live lease; a crashed
  instance's claims expire and are taken again;
- settling a transaction is idempotent: the outcomes of :meth:`mark_failed` apply once, and only
  to requests still carried by that transaction, whichever instance settles it.

Requests are known outside by their random ``public_id`` (see :mod:`registry_api.queue`); a
database of an older relay gets the column, and each of its requests an id, at the first start
(under the schema lock: one instance migrates, the others wait and find it done).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.errors import UniqueViolation
from psycopg_pool import ConnectionPool

from registry_api.queue import (
    QUEUED,
    REQUEST_STATES,
    Accepted,
    Kind,
    NewRequest,
    Outcome,
    QueueConflict,
    QueueError,
    RequestRecord,
    TxRecord,
    new_request_id,
)

#: Serializes schema creation when several instances start at once (any constant of our own).
_SCHEMA_LOCK = 0x45524547_51554555  # "EREGQUEU"

log = logging.getLogger("ereg.relay.queue")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id     TEXT NOT NULL CONSTRAINT requests_public_id_form CHECK (public_id ~ '^[0-9a-f]{32}$'),
    kind          TEXT NOT NULL CHECK (kind IN ('anchor', 'status')),
    payload       TEXT NOT NULL,
    signer        TEXT NOT NULL,
    department    TEXT NOT NULL,
    root          TEXT NOT NULL,
    target        TEXT NOT NULL,
    dedup_key     TEXT NOT NULL UNIQUE,
    conflict_key  TEXT NOT NULL,
    deadline      BIGINT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('QUEUED', 'SUBMITTED', 'ANCHORED', 'FINAL', 'REJECTED')),
    tx_hash       TEXT,
    block         BIGINT,
    reason        TEXT,
    attempts      INTEGER NOT NULL DEFAULT 0,
    created_at    DOUBLE PRECISION NOT NULL,
    updated_at    DOUBLE PRECISION NOT NULL,
    claimed_by    TEXT,
    claim_expires TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS requests_state ON requests (kind, state, id);
CREATE INDEX IF NOT EXISTS requests_root ON requests (root);
CREATE INDEX IF NOT EXISTS requests_tx ON requests (tx_hash);
CREATE UNIQUE INDEX IF NOT EXISTS requests_live_conflict ON requests (kind, conflict_key) WHERE state <> 'REJECTED';
CREATE TABLE IF NOT EXISTS transactions (
    tx_hash    TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    nonce      BIGINT NOT NULL,
    raw        BYTEA NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('PREPARED', 'SENT', 'MINED', 'FAILED')),
    block      BIGINT,
    error      TEXT,
    created_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS transactions_state ON transactions (state, created_at);
CREATE TABLE IF NOT EXISTS transaction_requests (
    tx_hash    TEXT NOT NULL REFERENCES transactions (tx_hash),
    request_id BIGINT NOT NULL REFERENCES requests (id),
    PRIMARY KEY (tx_hash, request_id)
);
CREATE INDEX IF NOT EXISTS transaction_requests_request ON transaction_requests (request_id);
CREATE INDEX IF NOT EXISTS requests_department ON requests (department, state);
CREATE TABLE IF NOT EXISTS property_steps (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    signer     TEXT NOT NULL,
    nonce      NUMERIC(78) NOT NULL,
    digest     TEXT NOT NULL,
    tx_hash    TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    UNIQUE (signer, nonce)
);
"""

#: After :data:`_SCHEMA` and the migration of an older database (which lacks the column before).
_PUBLIC_ID_INDEX = "CREATE UNIQUE INDEX IF NOT EXISTS requests_public_id ON requests (public_id)"

_REQUEST_COLUMNS = (
    "public_id, kind, payload, signer, department, root, target, dedup_key, deadline, state, tx_hash, block, reason, "
    "attempts, created_at, updated_at"
)
_RETURNING = ", ".join("r." + c.strip() for c in _REQUEST_COLUMNS.split(","))
_TX_COLUMNS = "tx_hash, kind, nonce, raw, state, block, error, created_at, updated_at"
#: A request another live lease holds is not this instance's to claim or send.
_CLAIMABLE = "(claimed_by IS NULL OR claimed_by = %(me)s OR claim_expires < clock_timestamp())"


#: Relayer keys are held as two-key advisory locks (objsubid 2 in pg_locks): this space, and 31
#: bits of a hash of the address. The schema lock is a one-key lock: another space.
_RELAYER_LOCK_SPACE = 0x45524C59  # "ERLY"


def _relayer_lock_key(address: str) -> int:
    """The lock key of a relayer address (two addresses share one with odds of 1 in 2**31: the
    second instance would then be refused, naming its own address, and be given another key)."""
    digest = hashlib.blake2b(address.lower().encode("ascii"), digest_size=4).digest()
    return int.from_bytes(digest, "big") & 0x7FFFFFFF


class RelayerKeyInUse(QueueError):
    """Another live relay instance on this queue sends with the same relayer key."""

    code = "RELAYER_KEY_IN_USE"

    def __init__(self, address: str) -> None:
        super().__init__(
            f"another live relay instance on this queue sends with the relayer key {address}:"
            " give each instance its own key (EREG_RELAYER_KEYSTORE)",
            f"本队列上另一个运行中的中继实例正在使用中继账户 {address}："
            "请为每个实例配置各自的密钥（EREG_RELAYER_KEYSTORE）",
        )


def is_postgres_url(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


class PostgresQueue:
    """:class:`~registry_api.queue.RequestQueue` in PostgreSQL, safe across threads and instances."""

    def __init__(self, url: str, *, lease: float = 120.0, pool_size: int = 8, connect_timeout: float = 10.0) -> None:
        if not is_postgres_url(url):
            raise ValueError("a PostgreSQL queue needs a postgresql:// URL")
        #: Who holds a claim: one id per queue object (one per relay process), and the thread.
        self.instance = uuid.uuid4().hex
        self.lease = lease
        self._url = url
        self._connect_timeout = connect_timeout
        #: The relayer key this instance holds (its lock key) and the connection holding it.
        self._relayer: tuple[int, psycopg.Connection[Any]] | None = None
        self._relayer_lock = threading.Lock()
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            kwargs={"autocommit": True, "connect_timeout": max(1, int(connect_timeout))},
            configure=self._configure,
            check=ConnectionPool.check_connection,  # a connection cut by a server restart is replaced
            open=False,
            name="ereg-relay-queue",
        )
        try:
            self._pool.open(wait=True, timeout=connect_timeout)
            with self._tx() as conn:
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                self._migrate(conn)
                conn.execute(_PUBLIC_ID_INDEX)
        except BaseException:
            self._pool.close()
            raise

    @staticmethod
    def _migrate(conn: psycopg.Connection[Any]) -> None:
        """A database of an older relay: ``public_id`` added, a random id for each request, then
        made NOT NULL and checked as a new database's is (in the caller's transaction)."""
        found = conn.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()"
            " AND table_name = 'requests' AND column_name = 'public_id'"
        ).fetchone()
        if found is not None:
            return
        conn.execute("ALTER TABLE requests ADD COLUMN public_id TEXT")
        keys = [row[0] for row in conn.execute("SELECT id FROM requests ORDER BY id")]
        with conn.cursor() as cursor:
            cursor.executemany(
                "UPDATE requests SET public_id = %s WHERE id = %s", [(new_request_id(), key) for key in keys]
            )
        conn.execute("ALTER TABLE requests ALTER COLUMN public_id SET NOT NULL")
        conn.execute("ALTER TABLE requests ADD CONSTRAINT requests_public_id_form CHECK (public_id ~ '^[0-9a-f]{32}$')")

    # ------------------------------------------------------------------------ plumbing
    def _claimant(self) -> str:
        """Claims belong to one thread of one queue object: a batcher takes its own claims again
        (after a cut-short round) but never another's, in this process or elsewhere."""
        return f"{self.instance}:{threading.get_ident()}"

    @staticmethod
    def _configure(conn: psycopg.Connection[Any]) -> None:
        # Durable on return: the commit waits for its WAL flush (also if the server's default differs).
        conn.execute("SET synchronous_commit = on")

    @contextmanager
    def _tx(self) -> Iterator[psycopg.Connection[Any]]:
        """One transaction on a pooled connection: committed on exit, rolled back on an exception."""
        with self._pool.connection() as conn, conn.transaction():
            yield conn

    def _read(self, query: str, params: dict[str, Any] | Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._pool.connection() as conn:
            return list(conn.execute(query, params).fetchall())

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
        # A request for the same root (or nonce) inserted by another connection after our check
        # trips the partial unique index once that one commits: the whole call is tried again,
        # and the check then sees it (a duplicate of ours, or a rival).
        for attempt in range(3):
            try:
                return self._add(requests)
            except UniqueViolation:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _add(self, requests: Sequence[NewRequest]) -> list[Accepted]:
        now = time.time()
        results: list[Accepted] = []
        with self._tx() as conn:
            for index, req in enumerate(requests):
                # One statement, one snapshot: the same message and a live rival are seen together
                # (two statements could miss a duplicate committed between them and call it a rival).
                found = conn.execute(
                    "SELECT public_id, state, dedup_key FROM requests WHERE dedup_key = %s"
                    " OR (kind = %s AND conflict_key = %s AND state <> 'REJECTED') ORDER BY id",
                    (req.dedup_key, req.kind, req.conflict_key),
                ).fetchall()
                existing = next(((row[0], row[1]) for row in found if row[2] == req.dedup_key), None)
                if existing is None:
                    if found:
                        raise QueueConflict(index, str(found[0][0]), req.conflict_key)
                    inserted = conn.execute(
                        "INSERT INTO requests (public_id, kind, payload, signer, department, root, target,"
                        " dedup_key, conflict_key, deadline, state, created_at, updated_at)"
                        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'QUEUED', %s, %s)"
                        " ON CONFLICT (dedup_key) DO NOTHING RETURNING public_id",
                        (
                            new_request_id(),
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
                    ).fetchone()
                    if inserted is not None:
                        results.append(Accepted(str(inserted[0]), QUEUED, duplicate=False))
                        continue
                    # Stored by another instance since the check: that row is this request.
                    existing = conn.execute(
                        "SELECT public_id, state FROM requests WHERE dedup_key = %s", (req.dedup_key,)
                    ).fetchone()
                    if existing is None:
                        raise QueueError(f"item {index}: the stored duplicate is not readable")
                results.append(Accepted(str(existing[0]), existing[1], duplicate=True))
        return results

    def get(self, request_id: str) -> RequestRecord | None:
        rows = self._read(f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE public_id = %s", (request_id,))  # noqa: S608
        return self._request(rows[0]) if rows else None

    def by_dedup_key(self, dedup_key: str) -> RequestRecord | None:
        rows = self._read(f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE dedup_key = %s", (dedup_key,))  # noqa: S608
        return self._request(rows[0]) if rows else None

    def by_root(self, root: str) -> list[RequestRecord]:
        rows = self._read(f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE root = %s ORDER BY id", (root,))  # noqa: S608
        return [self._request(r) for r in rows]

    def queued(self, kind: Kind, limit: int) -> list[RequestRecord]:
        """The oldest QUEUED requests of ``kind`` no other instance holds, now claimed for this one."""
        with self._tx() as conn:
            rows = conn.execute(
                f"WITH picked AS (SELECT id FROM requests WHERE kind = %(kind)s AND state = 'QUEUED'"  # noqa: S608
                f" AND {_CLAIMABLE} ORDER BY id LIMIT %(limit)s FOR UPDATE SKIP LOCKED),"
                " claimed AS (UPDATE requests AS r SET claimed_by = %(me)s,"
                " claim_expires = clock_timestamp() + make_interval(secs => %(lease)s)"
                f" FROM picked WHERE r.id = picked.id RETURNING r.id AS queue_order, {_RETURNING})"
                f" SELECT {_REQUEST_COLUMNS} FROM claimed ORDER BY queue_order",
                {"kind": kind, "limit": limit, "me": self._claimant(), "lease": self.lease},
            ).fetchall()
        return [self._request(r) for r in rows]

    def release(self) -> None:
        """Give up this instance's claims (on a clean stop), so others need not wait for the lease."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE requests SET claimed_by = NULL, claim_expires = NULL WHERE claimed_by LIKE %s",
                (f"{self.instance}:%",),
            )

    def oldest_queued_at(self, kind: Kind) -> float | None:
        rows = self._read(
            f"SELECT MIN(updated_at) FROM requests WHERE kind = %(kind)s AND state = 'QUEUED' AND {_CLAIMABLE}",  # noqa: S608
            {"kind": kind, "me": self._claimant()},
        )
        return None if not rows or rows[0][0] is None else float(rows[0][0])

    def count_queued(self, kind: Kind) -> int:
        rows = self._read(
            f"SELECT COUNT(*) FROM requests WHERE kind = %(kind)s AND state = 'QUEUED' AND {_CLAIMABLE}",  # noqa: S608
            {"kind": kind, "me": self._claimant()},
        )
        return int(rows[0][0])

    def count_queued_of_department(self, department: str) -> int:
        # every QUEUED request of the department, claimed by a batcher or not: its whole backlog
        rows = self._read(
            "SELECT COUNT(*) FROM requests WHERE department = %s AND state = 'QUEUED'", (department.lower(),)
        )
        return int(rows[0][0])

    # ---------------------------------------------------------------------- outbox
    def record_transaction(self, tx_hash: str, kind: Kind, nonce: int, raw: bytes, request_ids: Sequence[str]) -> None:
        now = time.time()
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO transactions (tx_hash, kind, nonce, raw, state, created_at, updated_at)"
                " VALUES (%s, %s, %s, %s, 'PREPARED', %s, %s)",
                (tx_hash, kind, nonce, raw, now, now),
            )
            for request_id in request_ids:
                # The row lock taken here makes a concurrent record of the same request wait, then miss.
                updated = conn.execute(
                    "UPDATE requests SET state = 'SUBMITTED', tx_hash = %(tx)s, attempts = attempts + 1,"  # noqa: S608
                    " updated_at = %(now)s, claimed_by = NULL, claim_expires = NULL"
                    f" WHERE public_id = %(id)s AND state = 'QUEUED' AND {_CLAIMABLE} RETURNING id",
                    {"tx": tx_hash, "now": now, "id": request_id, "me": self._claimant()},
                ).fetchall()
                if len(updated) != 1:
                    raise QueueError(f"request {request_id} is not QUEUED (or is claimed by another instance)")
                conn.execute(
                    "INSERT INTO transaction_requests (tx_hash, request_id) VALUES (%s, %s)", (tx_hash, updated[0][0])
                )

    def mark_sent(self, tx_hash: str) -> None:
        with self._tx() as conn:
            conn.execute(
                "UPDATE transactions SET state = 'SENT', updated_at = %s WHERE tx_hash = %s AND state = 'PREPARED'",
                (time.time(), tx_hash),
            )

    def mark_mined(self, tx_hash: str, block: int) -> None:
        now = time.time()
        with self._tx() as conn:
            conn.execute(
                "UPDATE transactions SET state = 'MINED', block = %s, updated_at = %s WHERE tx_hash = %s",
                (block, now, tx_hash),
            )
            conn.execute(
                "UPDATE requests SET state = 'ANCHORED', block = %s, reason = NULL, updated_at = %s"
                " WHERE tx_hash = %s AND state = 'SUBMITTED'",
                (block, now, tx_hash),
            )

    def mark_failed(self, tx_hash: str, error: str, outcomes: Sequence[Outcome]) -> None:
        now = time.time()
        with self._tx() as conn:
            settled = conn.execute(
                "UPDATE transactions SET state = 'FAILED', error = %s, updated_at = %s"
                " WHERE tx_hash = %s AND state IN ('PREPARED', 'SENT')",
                (error, now, tx_hash),
            ).rowcount
            if settled == 1:  # else another instance settled it first: its outcomes stand
                self._apply(conn, outcomes, now, tx_hash=tx_hash)

    def settle(self, outcomes: Sequence[Outcome]) -> None:
        with self._tx() as conn:
            self._apply(conn, outcomes, time.time())

    @staticmethod
    def _apply(
        conn: psycopg.Connection[Any], outcomes: Sequence[Outcome], now: float, tx_hash: str | None = None
    ) -> None:
        # With ``tx_hash``: only requests that transaction still carries (not ones sent again since).
        carried = " AND tx_hash = %(carrier)s" if tx_hash is not None else ""
        live = "WHERE public_id = %(id)s AND state IN ('QUEUED', 'SUBMITTED', 'ANCHORED')" + carried
        for out in outcomes:
            params = {
                "state": out.state,
                "reason": out.reason,
                "block": out.block,
                "tx": out.tx_hash,
                "now": now,
                "id": out.request_id,
                "carrier": tx_hash,
            }
            if out.state == QUEUED:
                conn.execute(
                    "UPDATE requests SET state = 'QUEUED', tx_hash = NULL, block = NULL, reason = %(reason)s,"  # noqa: S608
                    " updated_at = %(now)s, claimed_by = NULL, claim_expires = NULL " + live,
                    params,
                )
            else:
                conn.execute(
                    "UPDATE requests SET state = %(state)s, reason = %(reason)s, block = COALESCE(%(block)s, block),"  # noqa: S608
                    " tx_hash = COALESCE(%(tx)s, tx_hash), updated_at = %(now)s, claimed_by = NULL,"
                    " claim_expires = NULL " + live,
                    params,
                )

    def _transactions(self, where: str, params: Sequence[Any] = ()) -> list[TxRecord]:
        with self._pool.connection() as conn:
            rows = conn.execute(f"SELECT {_TX_COLUMNS} FROM transactions {where}", params).fetchall()  # noqa: S608
            records = []
            for row in rows:
                ids = [
                    str(r[0])
                    for r in conn.execute(
                        "SELECT r.public_id FROM transaction_requests l JOIN requests r ON r.id = l.request_id"
                        " WHERE l.tx_hash = %s ORDER BY l.request_id",
                        (row[0],),
                    )
                ]
                records.append(
                    TxRecord(
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
                )
        return records

    def open_transactions(self) -> list[TxRecord]:
        return self._transactions("WHERE state IN ('PREPARED', 'SENT') ORDER BY created_at, nonce")

    def transaction(self, tx_hash: str) -> TxRecord | None:
        found = self._transactions("WHERE tx_hash = %s", (tx_hash,))
        return found[0] if found else None

    def anchored(self) -> list[RequestRecord]:
        rows = self._read(f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE state = 'ANCHORED' ORDER BY id")  # noqa: S608
        return [self._request(r) for r in rows]

    def finalize(self, request_ids: Sequence[str]) -> None:
        if not request_ids:
            return
        with self._tx() as conn:
            conn.execute(
                "UPDATE requests SET state = 'FINAL', updated_at = %s WHERE public_id = ANY(%s) AND state = 'ANCHORED'",
                (time.time(), list(request_ids)),
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
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO property_steps (signer, nonce, digest, tx_hash, created_at) VALUES (%s, %s, %s, %s, %s)"
                " ON CONFLICT (signer, nonce) DO UPDATE SET digest = excluded.digest, tx_hash = excluded.tx_hash",
                (signer.lower(), nonce, digest, tx_hash, time.time()),
            )
            conn.execute("DELETE FROM property_steps WHERE id <= (SELECT MAX(id) FROM property_steps) - %s", (keep,))

    def find_step(self, signer: str, nonce: int) -> tuple[str, str] | None:
        rows = self._read(
            "SELECT digest, tx_hash FROM property_steps WHERE signer = %s AND nonce = %s", (signer.lower(), nonce)
        )
        return (str(rows[0][0]), str(rows[0][1])) if rows else None

    # ------------------------------------------------------------------- relayer keys
    def hold_relayer(self, address: str) -> None:
        """Hold ``address`` as this instance's relayer key for as long as it lives, or raise
        :class:`RelayerKeyInUse` when another live instance holds it.

        The hold is a session-level advisory lock on a connection of its own: the server drops it
        when the connection ends, so a killed instance frees its key at once. Called again (each
        batcher round), it checks the connection and takes the lock again if a server restart
        cut it.
        """
        key = _relayer_lock_key(address)
        with self._relayer_lock:
            if self._relayer is not None:
                held, conn = self._relayer
                if held != key:
                    raise ValueError("this queue already holds another relayer key")
                try:
                    conn.execute("SELECT 1")
                    return
                except psycopg.Error:
                    log.warning("the connection holding the relayer key was lost; taking the key again")
                    with contextlib.suppress(psycopg.Error):
                        conn.close()
                    self._relayer = None
            try:
                conn = psycopg.connect(
                    self._url,
                    autocommit=True,
                    connect_timeout=max(1, int(self._connect_timeout)),
                    # a peer that vanished without closing is noticed in about a minute
                    keepalives=1,
                    keepalives_idle=30,
                    keepalives_interval=10,
                    keepalives_count=3,
                )
            except psycopg.Error as exc:
                raise QueueError(f"the queue's database is unreachable: {exc}", "无法连接中继队列数据库") from None
            try:
                row = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", (_RELAYER_LOCK_SPACE, key)).fetchone()
            except psycopg.Error as exc:
                conn.close()
                raise QueueError(f"the queue's database is unreachable: {exc}", "无法连接中继队列数据库") from None
            if row is None or not row[0]:
                conn.close()
                raise RelayerKeyInUse(address)
            self._relayer = (key, conn)

    def relayer_live(self, address: str) -> bool:
        """Whether a live instance (this one included) holds ``address`` as its relayer key."""
        rows = self._read(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2"
            " AND classid = %s::oid AND objid = %s::oid"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))",
            (_RELAYER_LOCK_SPACE, _relayer_lock_key(address)),
        )
        return bool(rows[0][0])

    def _release_relayer(self) -> None:
        with self._relayer_lock:
            if self._relayer is not None:
                with contextlib.suppress(psycopg.Error):
                    self._relayer[1].close()  # the server drops the lock with the session
                self._relayer = None

    def close(self) -> None:
        self._release_relayer()
        if self._pool.closed:
            return
        try:
            with contextlib.suppress(psycopg.Error):  # unreachable database: the claims expire with their lease
                self.release()
        finally:
            self._pool.close()
