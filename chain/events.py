"""Scan a contract's events in block chunks (Besu caps eth_getLogs at 1,000 blocks)."""

from __future__ import annotations

from collections.abc import Iterator
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

    A node that refuses a range as too large gets smaller ranges, down to one block.
    """

    def __init__(self, client: ChainClient, artifact: Artifact, address: str, chunk_size: int | None = None) -> None:
        self.client = client
        self.artifact = artifact
        self.address = to_checksum_address(address)
        self.chunk_size = chunk_size or client.settings.log_chunk_size
        self._by_topic: dict[HexBytes, Any] = {}
        for abi in artifact.event_abis():
            self._by_topic[HexBytes(event_abi_to_log_topic(cast(ABIEvent, abi)))] = abi
        self.requests = 0

    def scan(self, from_block: int, to_block: int) -> Iterator[Event]:
        for _start, _end, events in self.chunks(from_block, to_block):
            yield from events

    def chunks(self, from_block: int, to_block: int) -> Iterator[tuple[int, int, list[Event]]]:
        """Like :meth:`scan`, one list per chunk with its range (for callers that checkpoint)."""
        start = from_block
        chunk = self.chunk_size
        while start <= to_block:
            end = min(start + chunk - 1, to_block)
            try:
                logs = self.fetch_logs(start, end)
            except TransactionRejected:
                raise
            except RpcError:
                if chunk == 1:
                    raise
                chunk = max(1, chunk // 2)
                continue
            yield start, end, [self.decode(log) for log in logs]
            start = end + 1

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
