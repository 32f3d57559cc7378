"""The verifier's local index of registry events, kept in SQLite.

Verification on the hot path reads only this index: anchors, batch and document statuses,
departments, signer keys and document types. A follower thread keeps it current with
:meth:`ChainIndex.sync` (or :meth:`ChainIndex.follow`), one SQLite transaction per scanned chunk
together with the cursor, so a crash mid catch-up resumes from the last committed chunk and never
applies an event twice.

Reorganisations are detected before each pass by comparing the stored hash of the cursor block
with the chain's; everything indexed above the newest block whose hash still matches is dropped
and the governance tables are recomputed from the governance events kept in their own table.

Storage: WAL mode, one writer connection (guarded by a lock) and one read connection per thread.
The schema is versioned in ``meta``; a mismatch (or another registry or start block) drops and
rebuilds the file.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, cast

from eth_typing import ABIEvent
from eth_utils.abi import event_abi_to_log_topic
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from web3.exceptions import Web3RPCError
from web3.types import RPCEndpoint

from chain.artifacts import Artifact, load_artifact
from chain.client import ChainClient
from chain.errors import ChainError, ChainUnavailable, RpcError
from chain.events import Event, EventScanner
from chain.types import ZERO32, Action, Role, State

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
CONTRACT_NAME = "DocumentRegistry"

#: Largest number of block headers asked for in one JSON-RPC batch.
_HEADER_BATCH = 200
#: Block headers (hash, timestamp) kept in memory between chunks and passes.
_HEADER_CACHE = 4_096

GOVERNANCE_EVENTS = frozenset(
    {
        "DepartmentRegistered",
        "DepartmentActivationChanged",
        "DepartmentRolesChanged",
        "SignerKeyAdded",
        "SignerKeyRetired",
        "DocumentTypeRegistered",
        "DocumentTypeAuthorized",
        "DocumentTypeDeauthorized",
    }
)
STATUS_EVENTS: dict[str, Action] = {
    "DocumentRevoked": Action.REVOKE,
    "DocumentSuspended": Action.SUSPEND,
    "DocumentReinstated": Action.REINSTATE,
    "DocumentSuperseded": Action.SUPERSEDE,
}
_STATE_AFTER: dict[Action, State] = {
    Action.REVOKE: State.REVOKED,
    Action.SUSPEND: State.SUSPENDED,
    Action.REINSTATE: State.ACTIVE,
    Action.SUPERSEDE: State.SUPERSEDED,
}

_TABLES = (
    "meta",
    "cursor",
    "block_hashes",
    "governance_events",
    "departments",
    "signer_keys",
    "document_types",
    "department_types",
    "anchors",
    "status_events",
)

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE cursor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    block_number INTEGER NOT NULL,
    block_hash TEXT,
    synced_at REAL
);
CREATE TABLE block_hashes (number INTEGER PRIMARY KEY, hash TEXT NOT NULL);
CREATE TABLE governance_events (
    block_number INTEGER NOT NULL,
    log_index INTEGER NOT NULL,
    name TEXT NOT NULL,
    args TEXT NOT NULL,
    block_hash TEXT NOT NULL,
    tx_hash TEXT NOT NULL,
    timestamp INTEGER NOT NULL,
    PRIMARY KEY (block_number, log_index)
);
CREATE TABLE departments (
    id BLOB PRIMARY KEY,
    name TEXT NOT NULL,
    credit_code TEXT NOT NULL,
    idx INTEGER NOT NULL,
    roles INTEGER NOT NULL,
    active INTEGER NOT NULL,
    registered_block INTEGER NOT NULL,
    registered_at INTEGER NOT NULL
);
CREATE TABLE signer_keys (
    signer TEXT PRIMARY KEY,
    department BLOB NOT NULL,
    valid_from INTEGER NOT NULL,
    valid_until INTEGER NOT NULL,
    added_block INTEGER NOT NULL
);
CREATE TABLE document_types (
    id BLOB PRIMARY KEY,
    name TEXT NOT NULL,
    idx INTEGER NOT NULL,
    registered_block INTEGER NOT NULL
);
CREATE TABLE department_types (
    department BLOB NOT NULL,
    doc_type BLOB NOT NULL,
    authorized INTEGER NOT NULL,
    changed_block INTEGER NOT NULL,
    PRIMARY KEY (department, doc_type)
);
CREATE TABLE anchors (
    root BLOB PRIMARY KEY,
    signer TEXT NOT NULL,
    department BLOB NOT NULL,
    doc_type BLOB NOT NULL,
    count INTEGER NOT NULL,
    anchored_at INTEGER NOT NULL,
    block_number INTEGER NOT NULL,
    tx_hash TEXT NOT NULL,
    log_index INTEGER NOT NULL
);
CREATE INDEX anchors_block ON anchors (block_number);
CREATE TABLE status_events (
    root BLOB NOT NULL,
    target_hash BLOB NOT NULL,
    action INTEGER NOT NULL,
    reason INTEGER NOT NULL,
    department BLOB NOT NULL,
    successor_root BLOB NOT NULL,
    successor BLOB NOT NULL,
    block_number INTEGER NOT NULL,
    block_hash TEXT NOT NULL,
    tx_hash TEXT NOT NULL,
    log_index INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    PRIMARY KEY (block_number, log_index)
);
CREATE INDEX status_events_key ON status_events (root, target_hash, block_number, log_index);
"""

# --------------------------------------------------------------------------- read queries
_Q_ANCHOR = (
    "SELECT root, signer, department, doc_type, count, anchored_at, block_number, tx_hash, log_index "
    "FROM anchors WHERE root = ?"
)
_STATUS_COLUMNS = (
    "root, target_hash, action, reason, department, successor_root, successor, "
    "block_number, block_hash, tx_hash, log_index, timestamp"
)
_Q_LATEST_STATUS = (
    f"SELECT {_STATUS_COLUMNS} FROM status_events WHERE root = ? AND target_hash = ? "  # noqa: S608 - constants
    "ORDER BY block_number DESC, log_index DESC LIMIT 1"
)
_Q_STATUS_HISTORY = (
    f"SELECT {_STATUS_COLUMNS} FROM status_events WHERE root = ? AND target_hash = ? "  # noqa: S608 - constants
    "ORDER BY block_number, log_index"
)
_Q_DEPARTMENT = (
    "SELECT id, name, credit_code, idx, roles, active, registered_block, registered_at FROM departments WHERE id = ?"
)
_Q_SIGNER = "SELECT signer, department, valid_from, valid_until, added_block FROM signer_keys WHERE signer = ?"
_Q_TYPE_NAME = "SELECT name FROM document_types WHERE id = ?"
_Q_AUTHORIZED = "SELECT authorized FROM department_types WHERE department = ? AND doc_type = ?"
_Q_CURSOR = "SELECT block_number, block_hash, synced_at FROM cursor WHERE id = 1"


# ------------------------------------------------------------------------------ results
@dataclass(frozen=True)
class SyncResult:
    """One catch-up pass: blocks ``from_block``..``to_block`` (empty when to < from)."""

    from_block: int
    to_block: int
    events: int
    reorged: bool
    seconds: float
    #: events that changed the index (registry events other than NonceUsed and access control)
    applied: int = 0


class Head(NamedTuple):
    block_number: int
    block_hash: str | None
    synced_at: float | None


@dataclass(frozen=True)
class AnchorRecord:
    root: bytes
    signer: str
    department: bytes  # zero when the signer's key was added before the index's start block
    doc_type: bytes
    count: int
    anchored_at: int
    block_number: int
    tx_hash: str
    log_index: int


@dataclass(frozen=True)
class StatusEvent:
    """One status change of a batch (``target_hash`` zero) or of one document."""

    root: bytes
    target_hash: bytes
    action: Action
    state: State  # the state the change led to
    reason: int
    department: bytes  # acting department; zero for governance
    successor_root: bytes
    successor: bytes
    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int
    timestamp: int


@dataclass(frozen=True)
class DepartmentRecord:
    id: bytes
    name: str
    credit_code: str
    index: int
    roles: Role
    active: bool
    registered_block: int
    registered_at: int


@dataclass(frozen=True)
class SignerKeyRecord:
    signer: str
    department: bytes
    valid_from: int
    valid_until: int  # 0: open-ended
    added_block: int

    def valid_at(self, timestamp: int) -> bool:
        return timestamp >= self.valid_from and (self.valid_until == 0 or timestamp < self.valid_until)


class _ChainMoved(Exception):
    """The chain changed under a chunk being scanned (a block vanished or changed its hash)."""


# ------------------------------------------------------------------------------- scanner
class _RawLogScanner(EventScanner):
    """EventScanner that reads logs as plain JSON and decodes the hot events from fixed layouts.

    web3's log formatting and generic ABI decoding cost about 0.5 ms an event; BatchAnchored and
    the status events have fixed layouts (indexed bytes32 topics, static data words) and are
    decoded directly. Every other event goes through :meth:`EventScanner.decode`; an event the
    ABI does not know comes back with an empty name instead of failing the scan.
    """

    def __init__(self, client: ChainClient, artifact: Artifact, address: str, chunk_size: int) -> None:
        super().__init__(client, artifact, address, chunk_size)
        self._names: dict[str, str] = {}
        for abi in artifact.event_abis():
            topic = "0x" + event_abi_to_log_topic(cast(ABIEvent, abi)).hex()
            self._names[topic] = str(abi["name"])
        self._checksums: dict[str, str] = {}

    def fetch_logs(self, start: int, end: int) -> list[Any]:
        self.requests += 1
        params = {"address": self.address, "fromBlock": hex(start), "toBlock": hex(end)}
        provider = self.client.w3.provider

        def fetch() -> list[Any]:
            response = provider.make_request(RPCEndpoint("eth_getLogs"), [params])
            if "error" in response or not isinstance(response.get("result"), list):
                raise Web3RPCError(str(response.get("error", response)), rpc_response=response)
            return list(response["result"])

        return self.client.run(fetch)

    def decode(self, log: Any) -> Event:
        topics: list[str] = log["topics"]
        name = self._names.get(topics[0].lower(), "") if topics else ""
        block_number = int(log["blockNumber"], 16)
        log_index = int(log["logIndex"], 16)
        data: str = log["data"]
        args: dict[str, Any]
        if name == "BatchAnchored":
            args = {
                "root": bytes.fromhex(topics[1][2:]),
                "docType": bytes.fromhex(topics[2][2:]),
                "signer": self._checksum(data[26:66]),
                "count": int(data[66:130], 16),
            }
        elif name in STATUS_EVENTS:
            args = {
                "root": bytes.fromhex(topics[1][2:]),
                "targetHash": bytes.fromhex(topics[2][2:]),
                "department": bytes.fromhex(topics[3][2:]),
            }
            if name == "DocumentSuperseded":
                args["successorRoot"] = bytes.fromhex(data[2:66])
                args["successor"] = bytes.fromhex(data[66:130])
                args["reason"] = int(data[130:194], 16)
            else:
                args["reason"] = int(data[2:66], 16)
        elif name:
            formatted = {
                "topics": [HexBytes(t) for t in topics],
                "data": HexBytes(data),
                "address": log["address"],
                "blockNumber": block_number,
                "blockHash": HexBytes(log["blockHash"]),
                "transactionHash": HexBytes(log["transactionHash"]),
                "transactionIndex": int(log.get("transactionIndex", "0x0"), 16),
                "logIndex": log_index,
            }
            return super().decode(formatted)
        else:
            args = {"topic0": topics[0] if topics else None}
        return Event(
            name=name,
            args=args,
            block_number=block_number,
            block_hash=str(log["blockHash"]).lower(),
            tx_hash=str(log["transactionHash"]).lower(),
            log_index=log_index,
        )

    def _checksum(self, hex40: str) -> str:
        found = self._checksums.get(hex40)
        if found is None:
            found = self._checksums[hex40] = to_checksum_address("0x" + hex40)
        return found


# --------------------------------------------------------------------------------- index
class ChainIndex:
    """SQLite index of one registry's events; see the module docstring."""

    def __init__(
        self,
        path: Path,
        client: ChainClient | None,
        registry_address: str,
        *,
        start_block: int,
        confirmations: int = 0,
        chunk_size: int = 1000,
    ) -> None:
        if start_block < 0:
            raise ValueError("start_block must be >= 0")
        if confirmations < 0:
            raise ValueError("confirmations must be >= 0")
        if chunk_size < 1:
            raise ValueError("chunk_size must be >= 1")
        self.path = Path(path)
        self.client = client
        self.registry_address = to_checksum_address(registry_address)
        self.start_block = start_block
        self.confirmations = confirmations
        self.chunk_size = chunk_size
        #: The last chain error met by :meth:`follow` (None after a successful pass).
        self.last_error: ChainError | None = None
        self.last_error_at: float | None = None
        self.failures = 0
        self._write_lock = threading.RLock()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._headers: dict[int, tuple[str, int]] = {}
        self._signer_departments: dict[str, bytes] = {}
        self._scanner: _RawLogScanner | None = None
        self._closed = False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = self._open(writer=True)
        self._prepare_schema()
        self._load_signer_departments()

    # ---------------------------------------------------------------------- connections
    def _open(self, *, writer: bool) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30.0)
        conn.execute("PRAGMA busy_timeout = 30000")
        if writer:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
        else:
            conn.execute("PRAGMA query_only = 1")
        return conn

    def _reader(self) -> sqlite3.Connection:
        if self._closed:
            raise RuntimeError("the chain index is closed")
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._open(writer=False)
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    def close(self) -> None:
        """Close every connection (the follower must be stopped first)."""
        with self._write_lock:
            self._closed = True
            with self._readers_lock:
                for conn in self._readers:
                    conn.close()
                self._readers.clear()
            self._writer.close()

    def __enter__(self) -> ChainIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --------------------------------------------------------------------------- schema
    def _expected_meta(self) -> dict[str, str]:
        return {
            "schema_version": str(SCHEMA_VERSION),
            "registry_address": self.registry_address,
            "start_block": str(self.start_block),
        }

    def _prepare_schema(self) -> None:
        conn = self._writer
        with self._write_lock:
            stored: dict[str, str] = {}
            try:
                stored = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            except sqlite3.OperationalError:
                stored = {}
            if stored == self._expected_meta():
                return
            if stored:
                log.warning("chain index %s has another schema or registry (%s); rebuilding", self.path, stored)
            conn.execute("BEGIN IMMEDIATE")
            try:
                # Another process may have created the schema while this one waited for the lock.
                if self._has_meta(conn) and dict(conn.execute("SELECT key, value FROM meta")) == self._expected_meta():
                    conn.execute("COMMIT")
                    return
                for table in _TABLES:
                    conn.execute(f"DROP TABLE IF EXISTS {table}")
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", self._expected_meta().items())
                conn.execute(
                    "INSERT INTO cursor (id, block_number, block_hash, synced_at) VALUES (1, ?, NULL, NULL)",
                    (self.start_block - 1,),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    @staticmethod
    def _has_meta(conn: sqlite3.Connection) -> bool:
        row = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone()
        return row is not None

    def _load_signer_departments(self) -> None:
        rows = self._writer.execute("SELECT signer, department FROM signer_keys").fetchall()
        self._signer_departments = {str(signer): bytes(dept) for signer, dept in rows}

    # ---------------------------------------------------------------------------- reads
    def anchor(self, root: bytes) -> AnchorRecord | None:
        row = self._reader().execute(_Q_ANCHOR, (root,)).fetchone()
        if row is None:
            return None
        return AnchorRecord(
            root=row[0],
            signer=row[1],
            department=row[2],
            doc_type=row[3],
            count=row[4],
            anchored_at=row[5],
            block_number=row[6],
            tx_hash=row[7],
            log_index=row[8],
        )

    def batch_status(self, root: bytes) -> StatusEvent | None:
        """The latest status change of the whole batch, or None (active if anchored)."""
        return self.document_status(root, ZERO32)

    def document_status(self, root: bytes, target_hash: bytes) -> StatusEvent | None:
        """The latest status change of one document (``target_hash`` zero: the batch), or None."""
        row = self._reader().execute(_Q_LATEST_STATUS, (root, target_hash)).fetchone()
        return None if row is None else _status_event(row)

    def status_history(self, root: bytes, target_hash: bytes = ZERO32) -> list[StatusEvent]:
        """Every status change of the key, oldest first."""
        rows = self._reader().execute(_Q_STATUS_HISTORY, (root, target_hash)).fetchall()
        return [_status_event(row) for row in rows]

    def department(self, dept_id: bytes) -> DepartmentRecord | None:
        row = self._reader().execute(_Q_DEPARTMENT, (dept_id,)).fetchone()
        if row is None:
            return None
        return DepartmentRecord(
            id=row[0],
            name=row[1],
            credit_code=row[2],
            index=row[3],
            roles=Role(row[4]),
            active=bool(row[5]),
            registered_block=row[6],
            registered_at=row[7],
        )

    def signer_key(self, address: str) -> SignerKeyRecord | None:
        row = self._reader().execute(_Q_SIGNER, (address.lower(),)).fetchone()
        if row is None:
            return None
        return SignerKeyRecord(
            signer=to_checksum_address(row[0]),
            department=row[1],
            valid_from=row[2],
            valid_until=row[3],
            added_block=row[4],
        )

    def type_name(self, doc_type: bytes) -> str | None:
        row = self._reader().execute(_Q_TYPE_NAME, (doc_type,)).fetchone()
        return None if row is None else str(row[0])

    def is_authorized(self, dept_id: bytes, doc_type: bytes) -> bool:
        """Whether the department may currently issue the document type."""
        row = self._reader().execute(_Q_AUTHORIZED, (dept_id, doc_type)).fetchone()
        return row is not None and bool(row[0])

    def head(self) -> Head:
        """The last indexed block (number, hash) and the wall time of the last successful sync."""
        row = self._reader().execute(_Q_CURSOR).fetchone()
        return Head(int(row[0]), row[1], row[2])

    def lag(self, chain_head: int) -> int:
        """Blocks between ``chain_head`` and the last indexed block."""
        return max(0, chain_head - self.head().block_number)

    def snapshot(self) -> dict[str, Any]:
        """A canonical dump of all derived state (not the bookkeeping: block hashes, sync time)."""
        conn = self._reader()
        conn.execute("BEGIN")
        try:
            number, block_hash, _synced = conn.execute(_Q_CURSOR).fetchone()
            dump: dict[str, Any] = {"cursor": {"block_number": number, "block_hash": block_hash}}
            tables = {
                "departments": "id",
                "signer_keys": "signer",
                "document_types": "id",
                "department_types": "department, doc_type",
                "anchors": "root",
                "status_events": "block_number, log_index",
                "governance_events": "block_number, log_index",
            }
            for table, order in tables.items():
                cur = conn.execute(f"SELECT * FROM {table} ORDER BY {order}")  # noqa: S608 - fixed names
                columns = [d[0] for d in cur.description]
                dump[table] = [
                    {c: ("0x" + v.hex() if isinstance(v, bytes) else v) for c, v in zip(columns, row, strict=True)}
                    for row in cur.fetchall()
                ]
        finally:
            conn.execute("COMMIT")
        return dump

    # ---------------------------------------------------------------------------- writes
    def rebuild(self) -> SyncResult:
        """Forget everything and index again from ``start_block``."""
        with self._write_lock:
            self._reset(self.start_block - 1, None)
            return self.sync()

    def follow(self, stop: threading.Event, interval: float = 0.5) -> None:
        """Sync, then wait ``interval``, until ``stop`` is set; chain errors are recorded, not raised."""
        while not stop.is_set():
            try:
                self.sync()
            except ChainError as exc:
                self.last_error = exc
                self.last_error_at = time.time()
                self.failures += 1
                log.warning("chain index sync failed (%s): %s", type(exc).__name__, exc)
            else:
                self.last_error = None
            stop.wait(interval)

    def sync(self, max_blocks: int | None = None) -> SyncResult:
        """One catch-up pass from the cursor to the safe head (at most ``max_blocks`` blocks).

        Raises ChainUnavailable (or another ChainError) when the chain cannot be read; what was
        committed before stays committed.
        """
        client = self.client
        if client is None:
            raise ChainUnavailable("this chain index has no chain client (read-only)")
        with self._write_lock:
            started = time.perf_counter()
            reorged = self._handle_reorg(client)
            cursor, _hash, _at = self._cursor()
            safe = client.block_number() - self.confirmations
            to_block = safe if max_blocks is None else min(safe, cursor + max_blocks)
            from_block = cursor + 1
            events = applied = 0
            last = cursor
            if to_block >= from_block:
                scanner = self._get_scanner(client)
                try:
                    for start, end, chunk in scanner.chunks(from_block, to_block):
                        if start != last + 1:
                            raise ChainError(f"scanner skipped blocks {last + 1}..{start - 1}")
                        applied += self._apply_chunk(client, end, chunk)
                        events += len(chunk)
                        last = end
                except _ChainMoved as moved:
                    self._headers.clear()
                    log.info("chain moved during the scan (%s); the next pass resumes at %d", moved, last + 1)
                    reorged = True
            if last == cursor:
                self._touch()
            return SyncResult(
                from_block=from_block,
                to_block=last,
                events=events,
                reorged=reorged,
                seconds=time.perf_counter() - started,
                applied=applied,
            )

    # ------------------------------------------------------------------------ internals
    def _get_scanner(self, client: ChainClient) -> _RawLogScanner:
        if self._scanner is None:
            self._scanner = _RawLogScanner(client, load_artifact(CONTRACT_NAME), self.registry_address, self.chunk_size)
        return self._scanner

    def _cursor(self) -> tuple[int, str | None, float | None]:
        number, block_hash, synced_at = self._writer.execute(_Q_CURSOR).fetchone()
        return int(number), block_hash, synced_at

    def _touch(self) -> None:
        self._writer.execute("UPDATE cursor SET synced_at = ? WHERE id = 1", (time.time(),))

    def _headers_of(self, client: ChainClient, numbers: Iterable[int]) -> dict[int, tuple[str, int] | None]:
        """(hash, timestamp) of each block number, None for a block the chain does not have."""
        result: dict[int, tuple[str, int] | None] = {}
        missing: list[int] = []
        for number in numbers:
            cached = self._headers.get(number)
            if cached is None:
                missing.append(number)
            else:
                result[number] = cached
        provider: Any = client.w3.provider  # an HTTP provider: it answers JSON-RPC batches
        for i in range(0, len(missing), _HEADER_BATCH):
            group = missing[i : i + _HEADER_BATCH]
            requests = [(RPCEndpoint("eth_getBlockByNumber"), [hex(n), False]) for n in group]

            def fetch(requests: list[tuple[RPCEndpoint, Any]] = requests) -> Any:
                return provider.make_batch_request(requests)

            replies = client.run(fetch)
            if not isinstance(replies, list) or len(replies) != len(group):
                raise RpcError(f"unexpected answer to a batch of block requests: {str(replies)[:200]}")
            for number, reply in zip(group, replies, strict=True):
                if "error" in reply:
                    error = reply["error"]
                    raise RpcError(str(error), rpc_code=error.get("code") if isinstance(error, dict) else None)
                block = reply.get("result")
                if block is None:
                    result[number] = None
                    continue
                header = (str(block["hash"]).lower(), int(block["timestamp"], 16))
                result[number] = header
                if len(self._headers) >= _HEADER_CACHE:
                    self._headers.clear()
                self._headers[number] = header
        return result

    def _handle_reorg(self, client: ChainClient) -> bool:
        """Detect a reorganisation below the cursor and roll the index back past it."""
        cursor, cursor_hash, _at = self._cursor()
        if cursor_hash is None:
            return False
        self._headers.pop(cursor, None)
        current = self._headers_of(client, [cursor])[cursor]
        if current is not None and current[0] == cursor_hash:
            return False
        self._headers.clear()
        stored = self._writer.execute(
            "SELECT number, hash FROM block_hashes WHERE number < ? ORDER BY number", (cursor,)
        )
        candidates: list[tuple[int, str]] = [(int(n), str(h)) for n, h in stored.fetchall()]
        # Hashes chain: once a block matches, every older one does. Binary search the newest match.
        low, high = 0, len(candidates) - 1
        found: tuple[int, str] | None = None
        while low <= high:
            middle = (low + high) // 2
            number, block_hash = candidates[middle]
            header = self._headers_of(client, [number])[number]
            if header is not None and header[0] == block_hash:
                found = (number, block_hash)
                low = middle + 1
            else:
                high = middle - 1
        if found is None:
            log.warning("chain index: no indexed block is on the chain any more; rebuilding from %d", self.start_block)
            self._reset(self.start_block - 1, None)
        else:
            log.warning("chain index: reorganisation below block %d; rolling back to block %d", cursor, found[0])
            self._rollback_to(*found)
        return True

    def _reset(self, number: int, block_hash: str | None) -> None:
        conn = self._writer
        conn.execute("BEGIN IMMEDIATE")
        try:
            for table in _TABLES:
                if table not in ("meta", "cursor"):
                    conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
            conn.execute("UPDATE cursor SET block_number = ?, block_hash = ? WHERE id = 1", (number, block_hash))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self._headers.clear()
        self._signer_departments = {}

    def _rollback_to(self, number: int, block_hash: str) -> None:
        conn = self._writer
        conn.execute("BEGIN IMMEDIATE")
        try:
            for table in ("anchors", "status_events", "governance_events"):
                conn.execute(f"DELETE FROM {table} WHERE block_number > ?", (number,))  # noqa: S608
            conn.execute("DELETE FROM block_hashes WHERE number > ?", (number,))
            for table in ("departments", "signer_keys", "document_types", "department_types"):
                conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
            replay = conn.execute(
                "SELECT name, args, block_number, timestamp FROM governance_events ORDER BY block_number, log_index"
            ).fetchall()
            for name, args, block, timestamp in replay:
                _apply_governance(conn, name, json.loads(args), block, timestamp)
            conn.execute("UPDATE cursor SET block_number = ?, block_hash = ? WHERE id = 1", (number, block_hash))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        finally:
            self._load_signer_departments()

    def _apply_chunk(self, client: ChainClient, end: int, events: Sequence[Event]) -> int:
        """Apply one scanned chunk and move the cursor to ``end``, in one transaction."""
        blocks = sorted({e.block_number for e in events} | {end})
        headers = self._headers_of(client, blocks)
        for event in events:
            header = headers[event.block_number]
            if header is None or header[0] != event.block_hash.lower():
                raise _ChainMoved(f"block {event.block_number} changed while it was scanned")
        end_header = headers[end]
        if end_header is None:
            raise _ChainMoved(f"block {end} vanished while it was scanned")
        conn = self._writer
        anchors: list[tuple[Any, ...]] = []
        statuses: list[tuple[Any, ...]] = []
        applied = 0
        added_signers: dict[str, bytes] = {}
        conn.execute("BEGIN IMMEDIATE")
        try:
            for event in events:
                name = event.name
                args = event.args
                if name == "BatchAnchored":
                    signer = str(args["signer"])
                    key = signer.lower()
                    department = added_signers.get(key) or self._signer_departments.get(key, ZERO32)
                    timestamp = cast(tuple[str, int], headers[event.block_number])[1]
                    anchors.append(
                        (
                            args["root"],
                            signer,
                            department,
                            args["docType"],
                            int(args["count"]),
                            timestamp,
                            event.block_number,
                            event.tx_hash,
                            event.log_index,
                        )
                    )
                elif name in STATUS_EVENTS:
                    timestamp = cast(tuple[str, int], headers[event.block_number])[1]
                    statuses.append(
                        (
                            args["root"],
                            args["targetHash"],
                            int(STATUS_EVENTS[name]),
                            int(args["reason"]),
                            args["department"],
                            args.get("successorRoot", ZERO32),
                            args.get("successor", ZERO32),
                            event.block_number,
                            event.block_hash,
                            event.tx_hash,
                            event.log_index,
                            timestamp,
                        )
                    )
                elif name in GOVERNANCE_EVENTS:
                    timestamp = cast(tuple[str, int], headers[event.block_number])[1]
                    normalized = _normalize(args)
                    conn.execute(
                        "INSERT INTO governance_events "
                        "(block_number, log_index, name, args, block_hash, tx_hash, timestamp) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (
                            event.block_number,
                            event.log_index,
                            name,
                            json.dumps(normalized, sort_keys=True),
                            event.block_hash,
                            event.tx_hash,
                            timestamp,
                        ),
                    )
                    _apply_governance(conn, name, normalized, event.block_number, timestamp)
                    if name == "SignerKeyAdded":
                        added_signers[str(normalized["signer"]).lower()] = bytes.fromhex(
                            str(normalized["department"])[2:]
                        )
                else:
                    continue  # NonceUsed, AccessControl events, anything unknown
                applied += 1
            if anchors:
                conn.executemany(
                    "INSERT INTO anchors (root, signer, department, doc_type, count, anchored_at, "
                    "block_number, tx_hash, log_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    anchors,
                )
            if statuses:
                conn.executemany(
                    f"INSERT INTO status_events ({_STATUS_COLUMNS}) "  # noqa: S608 - constants
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    statuses,
                )
            conn.executemany(
                "INSERT OR REPLACE INTO block_hashes (number, hash) VALUES (?, ?)",
                [(n, h[0]) for n, h in headers.items() if h is not None],
            )
            conn.execute(
                "UPDATE cursor SET block_number = ?, block_hash = ?, synced_at = ? WHERE id = 1",
                (end, end_header[0], time.time()),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self._signer_departments.update(added_signers)
        return applied


# ------------------------------------------------------------------------------ helpers
def _status_event(row: Sequence[Any]) -> StatusEvent:
    action = Action(row[2])
    return StatusEvent(
        root=row[0],
        target_hash=row[1],
        action=action,
        state=_STATE_AFTER[action],
        reason=row[3],
        department=row[4],
        successor_root=row[5],
        successor=row[6],
        block_number=row[7],
        block_hash=row[8],
        tx_hash=row[9],
        log_index=row[10],
        timestamp=row[11],
    )


def _normalize(args: dict[str, Any]) -> dict[str, Any]:
    """Event arguments as JSON values: bytes as 0x-hex, everything else as is."""
    return {k: ("0x" + bytes(v).hex() if isinstance(v, bytes | bytearray) else v) for k, v in args.items()}


def _b32(value: Any) -> bytes:
    return bytes.fromhex(str(value)[2:])


def _apply_governance(conn: sqlite3.Connection, name: str, args: dict[str, Any], block: int, timestamp: int) -> None:
    """Apply one governance event (arguments as from :func:`_normalize`) to the derived tables."""
    if name == "DepartmentRegistered":
        conn.execute(
            "INSERT OR REPLACE INTO departments "
            "(id, name, credit_code, idx, roles, active, registered_block, registered_at) "
            "VALUES (?, ?, ?, ?, ?, 1, ?, ?)",
            (
                _b32(args["department"]),
                str(args["name"]),
                str(args["creditCode"]),
                int(args["index"]),
                int(args["roles"]),
                block,
                timestamp,
            ),
        )
    elif name == "DepartmentActivationChanged":
        conn.execute(
            "UPDATE departments SET active = ? WHERE id = ?", (int(bool(args["active"])), _b32(args["department"]))
        )
    elif name == "DepartmentRolesChanged":
        conn.execute("UPDATE departments SET roles = ? WHERE id = ?", (int(args["roles"]), _b32(args["department"])))
    elif name == "SignerKeyAdded":
        conn.execute(
            "INSERT OR REPLACE INTO signer_keys (signer, department, valid_from, valid_until, added_block) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                str(args["signer"]).lower(),
                _b32(args["department"]),
                int(args["validFrom"]),
                int(args["validUntil"]),
                block,
            ),
        )
    elif name == "SignerKeyRetired":
        conn.execute(
            "UPDATE signer_keys SET valid_until = ? WHERE signer = ?",
            (int(args["validUntil"]), str(args["signer"]).lower()),
        )
    elif name == "DocumentTypeRegistered":
        conn.execute(
            "INSERT OR REPLACE INTO document_types (id, name, idx, registered_block) VALUES (?, ?, ?, ?)",
            (_b32(args["docType"]), str(args["name"]), int(args["index"]), block),
        )
    elif name in ("DocumentTypeAuthorized", "DocumentTypeDeauthorized"):
        conn.execute(
            "INSERT OR REPLACE INTO department_types (department, doc_type, authorized, changed_block) "
            "VALUES (?, ?, ?, ?)",
            (
                _b32(args["department"]),
                _b32(args["docType"]),
                1 if name == "DocumentTypeAuthorized" else 0,
                block,
            ),
        )


__all__ = [
    "AnchorRecord",
    "ChainIndex",
    "DepartmentRecord",
    "Head",
    "SignerKeyRecord",
    "StatusEvent",
    "SyncResult",
]
