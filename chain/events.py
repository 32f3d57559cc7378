"""Scan a contract's events in block chunks (Besu caps eth_getLogs at 1,000 blocks)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, cast

from eth_typing import ABIEvent
from eth_utils.abi import event_abi_to_log_topic
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from web3._utils.events import get_event_data

from chain.artifacts import Artifact
from chain.client import ChainClient
from chain.errors import ChainError, ChainUnavailable, RpcError, TransactionRejected


@dataclass(frozen=True)
class Event:
    name: str
    args: dict[str, Any]
    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int


class EventScanner:
    """Yields decoded events of one contract between two blocks, ``chunk_size`` blocks a request.

    A node that refuses a range as too large gets smaller ranges, down to one block. The range
    also follows the chain's density: it starts at a 64th of ``chunk_size``, doubles (up to
    ``chunk_size``) while a response holds fewer than a quarter of ``max_logs`` logs, halves
    while one holds more than ``max_logs``, and is remembered from one scan to the next. A busy
    network's 1,000 blocks can hold 100,000 anchors; one response of them would be tens of
    megabytes, and nothing could overlap with it.
    """

    def __init__(
        self,
        client: ChainClient,
        artifact: Artifact,
        address: str,
        chunk_size: int | None = None,
        max_logs: int = 2_000,
    ) -> None:
        if max_logs < 1:
            raise ValueError("max_logs must be >= 1")
        self.client = client
        self.artifact = artifact
        self.address = to_checksum_address(address)
        self.chunk_size = chunk_size or client.settings.log_chunk_size
        self.max_logs = max_logs
        self._range = max(1, self.chunk_size // 64)
        self._by_topic: dict[HexBytes, Any] = {}
        for abi in artifact.event_abis():
            self._by_topic[HexBytes(event_abi_to_log_topic(cast(ABIEvent, abi)))] = abi
        self.requests = 0

    def scan(self, from_block: int, to_block: int) -> Iterator[Event]:
        for _start, _end, events in self.chunks(from_block, to_block):
            yield from events

    def chunks(
        self,
        from_block: int,
        to_block: int,
        prepare: Callable[[int, int, set[int]], None] | None = None,
    ) -> Generator[tuple[int, int, list[Event]], None, None]:
        """Like :meth:`scan`, one list per chunk with its range (for callers that checkpoint).

        While the caller handles one chunk, the next range's logs are already being fetched on
        a second thread: catching up, the node prepares a response while this process decodes
        and applies the last one. At most one request is ahead; a caller that stops early waits
        for it and it is dropped. ``prepare(start, end, blocks)`` (``blocks``: the numbers of the blocks
        whose logs were fetched) runs on that thread after each fetch ahead, for what the caller
        will read next (block headers); it is best effort, and what it raises is dropped.
        """
        start = from_block
        chunk = self._range
        # the fetch of (start, start + chunk - 1) already under way: it is submitted with the
        # chunk the next turn of the loop uses, so its range is always the one that turn wants
        ahead: Future[list[Any]] | None = None
        pool: ThreadPoolExecutor | None = None
        try:
            while start <= to_block:
                end = min(start + chunk - 1, to_block)
                pending, ahead = ahead, None
                try:
                    logs = pending.result() if pending is not None else self.fetch_logs(start, end)
                except TransactionRejected:
                    raise
                except RpcError:
                    if chunk == 1:
                        raise
                    chunk = max(1, chunk // 2)
                    continue
                if len(logs) > self.max_logs:
                    chunk = max(1, chunk // 2)
                elif len(logs) < self.max_logs // 4:
                    chunk = min(self.chunk_size, chunk * 2)
                self._range = chunk
                following = end + 1
                if following <= to_block:
                    if pool is None:
                        pool = ThreadPoolExecutor(1, thread_name_prefix="logs-ahead")
                    last = min(following + chunk - 1, to_block)
                    ahead = pool.submit(self._fetch_ahead, following, last, prepare)
                yield start, end, [self.decode(log) for log in logs]
                start = end + 1
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)

    def _fetch_ahead(
        self, start: int, end: int, prepare: Callable[[int, int, set[int]], None] | None
    ) -> list[Any]:
        logs = self.fetch_logs(start, end)
        if prepare is not None:
            # A warm-up only: whatever it failed to prepare, the caller reads again itself.
            with contextlib.suppress(Exception):
                prepare(start, end, {self.block_of(log) for log in logs})
        return logs

    def block_of(self, log: Any) -> int:
        """The block number of one raw log as :meth:`fetch_logs` returns it."""
        return int(log["blockNumber"])

    def fetch_logs(self, start: int, end: int) -> list[Any]:
        """The raw logs of blocks ``start``..``end``; subclasses may fetch and decode differently."""
        self.requests += 1
        params = {"address": self.address, "fromBlock": start, "toBlock": end}
        return list(self.client.run(lambda: self.client.w3.eth.get_logs(params)))  # type: ignore[arg-type]

    def decode(self, log: Any) -> Event:
        topics = log["topics"]
        if not topics:
            raise ChainError("anonymous log from the registry")
        abi = self._by_topic.get(HexBytes(topics[0]))
        if abi is None:
            raise ChainError(f"unknown event topic {HexBytes(topics[0]).to_0x_hex()}")
        data = get_event_data(self.client.w3.codec, abi, log)
        return Event(
            name=str(data["event"]),
            args=dict(data["args"]),
            block_number=int(log["blockNumber"]),
            block_hash=HexBytes(log["blockHash"]).to_0x_hex(),
            tx_hash=HexBytes(log["transactionHash"]).to_0x_hex(),
            log_index=int(log["logIndex"]),
        )


__all__ = ["ChainUnavailable", "Event", "EventScanner"]
