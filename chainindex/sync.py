"""The chain index itself: the SQLite file, and the sync that keeps it current with the chain.

A follower thread keeps it current with :meth:`ChainIndex.sync` (or :meth:`ChainIndex.follow`), one
SQLite transaction per scanned chunk together with the cursor, so a crash mid catch-up resumes from
the last committed chunk and never applies an event twice. Both registries' logs come in the same
``eth_getLogs`` requests, so they share chunks, confirmations, cursor and reorganisation handling.

Reorganisations are detected before each pass by comparing the stored hash of the cursor block
with the chain's; everything indexed above the newest block whose hash still matches is dropped
(:func:`chainindex.projection.rollback_above`) and the governance tables are recomputed.

Storage: WAL mode, one writer connection (guarded by a lock) and one read connection per thread.
Built without a client, an index only reads (another worker's file, a test's, a tool's).
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from eth_utils.address import to_checksum_address
from web3.types import RPCEndpoint

from chain.artifacts import load_artifact
from chain.client import ChainClient
from chain.errors import ChainError, ChainUnavailable, RegistryNotFound, RpcError
from chain.events import Event
from chain.logs import RawLogScanner
from chainindex import schema
from chainindex.projection import apply_events, known_signers, rollback_above
from chainindex.reads import IndexReads
from chainindex.records import SyncResult

log = logging.getLogger(__name__)

CONTRACT_NAME = "DocumentRegistry"

#: Largest number of block headers asked for in one JSON-RPC batch.
_HEADER_BATCH = 200
#: Block headers (hash, timestamp) kept in memory between chunks and passes.
_HEADER_CACHE = 4_096


class _ChainMoved(Exception):
    """The chain changed under a chunk being scanned (a block vanished or changed its hash)."""


class ChainIndex(IndexReads):
    """SQLite index of one registry's events (and of its PropertyRegistry's); see :mod:`chainindex`."""

    def __init__(
        self,
        path: Path,
        client: ChainClient | None,
        registry_address: str,
        *,
        start_block: int,
        confirmations: int = 0,
        chunk_size: int = 1000,
        property_address: str | None = None,
    ) -> None:
        if start_block < 0:
            raise ValueError("start_block must be >= 0")
        if confirmations < 0:
            raise ValueError("confirmations must be >= 0")
        if chunk_size < 1:
            raise ValueError("chunk_size must be >= 1")
        super().__init__()
        self.path = Path(path)
        self.client = client
        self.registry_address = to_checksum_address(registry_address)
        #: The PropertyRegistry followed too (None: documents only).
        self.property_address = to_checksum_address(property_address) if property_address else None
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
        self._scanner: RawLogScanner | None = None
        self._closed = False
        self._property_checked = False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = self._open(writer=True)
        self._prepare_schema()
        self._signer_departments = known_signers(self._writer)

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
        """This thread's read connection, opened on first use."""
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
        return schema.expected_meta(self.registry_address, self.property_address, self.start_block)

    def _prepare_schema(self) -> None:
        """Keep the file if its ``meta`` is this index's, else drop and create the schema."""
        conn = self._writer
        with self._write_lock:
            stored = schema.stored_meta(conn)
            if stored == self._expected_meta():
                return
            if stored:
                log.warning("chain index %s has another schema or registry (%s); rebuilding", self.path, stored)
            conn.execute("BEGIN IMMEDIATE")
            try:
                # Another process may have created the schema while this one waited for the lock.
                if schema.has_meta(conn) and dict(conn.execute("SELECT key, value FROM meta")) == self._expected_meta():
                    conn.execute("COMMIT")
                    return
                schema.install(conn, self._expected_meta(), self.start_block)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    # ------------------------------------------------------------------------- property
    @property
    def follows_property(self) -> bool:
        """Whether this index follows a PropertyRegistry."""
        return self.property_address is not None

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
            if self.property_address is not None and not self._property_checked:
                # a wrong address would index nothing and every property certificate would read
                # NOT_REGISTERED: refuse to sync instead (the index stays stale, verdicts ERROR)
                if not client.code_at(self.property_address):
                    raise RegistryNotFound(f"no PropertyRegistry at {self.property_address} on this chain")
                self._property_checked = True
            reorged = self._handle_reorg(client)
            cursor, _hash, _at = self._cursor()
            safe = client.block_number() - self.confirmations
            to_block = safe if max_blocks is None else min(safe, cursor + max_blocks)
            from_block = cursor + 1
            events = applied = 0
            last = cursor
            if to_block >= from_block:
                scanner = self._get_scanner(client)
                # closed before the handler below clears the header cache: the read-ahead
                # thread, which fills that cache, has then stopped
                try:
                    with contextlib.closing(scanner.chunks(from_block, to_block, self._prefetch_headers)) as scan:
                        for start, end, chunk in scan:
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
    def _get_scanner(self, client: ChainClient) -> RawLogScanner:
        if self._scanner is None:
            self._scanner = RawLogScanner(
                client,
                load_artifact(CONTRACT_NAME),
                self.registry_address,
                self.chunk_size,
                property_address=self.property_address,
            )
        return self._scanner

    def _cursor(self) -> tuple[int, str | None, float | None]:
        return schema.read_cursor(self._writer)

    def _touch(self) -> None:
        self._writer.execute("UPDATE cursor SET synced_at = ? WHERE id = 1", (time.time(),))

    def _prefetch_headers(self, _start: int, end: int, blocks: set[int]) -> None:
        """On the scanner's read-ahead thread: the headers :meth:`_apply_chunk` will ask for."""
        client = self.client
        if client is not None:
            self._headers_of(client, blocks | {end})

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
            schema.clear(conn)
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
            rollback_above(conn, number)
            conn.execute("DELETE FROM block_hashes WHERE number > ?", (number,))
            conn.execute("UPDATE cursor SET block_number = ?, block_hash = ? WHERE id = 1", (number, block_hash))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        finally:
            self._signer_departments = known_signers(conn)

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
        timestamps = {number: header[1] for number, header in headers.items() if header is not None}
        conn = self._writer
        conn.execute("BEGIN IMMEDIATE")
        try:
            applied = apply_events(conn, events, timestamps, self._signer_departments)
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
        self._signer_departments.update(applied.signers)
        return applied.count


__all__ = ["ChainIndex"]
