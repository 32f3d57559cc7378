"""Event scanning in chunks across more than 1,000 blocks."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from chain.errors import RpcError
from chain.events import EventScanner
from chain.types import Action, StatusChange, type_id
from tests.factories import BUSINESS_LICENSE, SAMR, World


def _anchor_spread(world: World, gaps: int = 3, gap_blocks: int = 1_100) -> list[bytes]:
    roots = []
    for _ in range(gaps):
        tree, _targets = world.anchor_batch(2)
        roots.append(tree.root)
        world.mine(gap_blocks)
    return roots


def test_scan_across_more_than_a_thousand_blocks(world: World) -> None:
    start = world.client.block_number() + 1
    roots = _anchor_spread(world)
    end = world.client.block_number()
    assert end - start > 3_000
    scanner = EventScanner(
        world.client, world.registry.artifact, world.registry.address, chunk_size=1_000
    )
    events = [e for e in scanner.scan(start, end) if e.name == "BatchAnchored"]
    assert [e.args["root"] for e in events] == roots
    assert all(e.args["docType"] == type_id(BUSINESS_LICENSE) for e in events)
    assert all(e.args["signer"] == world.samr_key.address for e in events)
    assert scanner.requests >= 4
    assert [e.block_number for e in events] == sorted(e.block_number for e in events)


def test_oversized_ranges_are_split(world: World) -> None:
    """The Besu-like gateway refuses ranges over 1,000 blocks; the scanner halves until served."""
    start = world.client.block_number() + 1
    roots = _anchor_spread(world, gaps=2, gap_blocks=2_500)
    end = world.client.block_number()
    scanner = EventScanner(
        world.client, world.registry.artifact, world.registry.address, chunk_size=10_000
    )
    events = [e for e in scanner.scan(start, end) if e.name == "BatchAnchored"]
    assert [e.args["root"] for e in events] == roots
    if world.node.besu_gateway:
        assert scanner.requests > 5  # refused, halved, then served in <= 1,000-block pieces
        with pytest.raises(RpcError):
            world.client.run(
                lambda: world.client.w3.eth.get_logs({"fromBlock": start, "toBlock": end})  # type: ignore[typeddict-item]
            )
    else:  # no cap: 156 blocks, 312, 625 ... the range doubles on a sparse chain
        assert scanner.requests < 10


def test_chunks_report_their_ranges(world: World) -> None:
    start = world.client.block_number() + 1
    world.mine(2_500)
    end = world.client.block_number()
    scanner = EventScanner(
        world.client, world.registry.artifact, world.registry.address, chunk_size=1_000
    )
    ranges = [(a, b) for a, b, _ in scanner.chunks(start, end)]
    assert ranges[0][0] == start and ranges[-1][1] == end
    assert all(b - a + 1 <= 1_000 for a, b in ranges)
    assert all(ranges[i][1] + 1 == ranges[i + 1][0] for i in range(len(ranges) - 1))


def test_status_events_carry_department_actor_and_signer(world: World) -> None:
    """The status events' new topics: the record's department indexed, then actor and signer."""
    start = world.client.block_number() + 1
    tree, targets = world.anchor_batch(2)
    proof = tree.proof(0)
    world.registry.change_status(
        world.sender(world.samr_key), StatusChange(Action.SUSPEND, tree.root, targets[0], proof, reason=4)
    )
    world.registry.govern_change_status(
        world.governance, SAMR, StatusChange(Action.SUSPEND, tree.root, targets[1], tree.proof(1), reason=5)
    )
    scanner = EventScanner(world.client, world.registry.artifact, world.registry.address)
    found = [e for e in scanner.scan(start, world.client.block_number()) if e.name == "DocumentSuspended"]
    assert [e.args for e in found] == [
        {
            "department": SAMR,
            "root": tree.root,
            "targetHash": targets[0],
            "actor": SAMR,
            "signer": world.samr_key.address,
            "reason": 4,
        },
        {  # governance: no acting department, the council (a suspension is protective) signs
            "department": SAMR,
            "root": tree.root,
            "targetHash": targets[1],
            "actor": b"\x00" * 32,
            "signer": world.council.address,
            "reason": 5,
        },
    ]


# ------------------------------------------------------------- the next range, fetched ahead
class _Recorded(EventScanner):
    """A scanner over a made-up chain with ``per_block`` logs in every block; fetches are recorded."""

    def __init__(
        self, chunk_size: int = 640, max_logs: int = 2_000, per_block: int = 0, fail: set[tuple[int, int]] | None = None
    ) -> None:
        from web3 import Web3

        from chain.artifacts import load_artifact
        from chain.client import ChainClient
        from chain.settings import ChainSettings

        client = ChainClient(Web3(), ChainSettings(rpc_url="http://127.0.0.1:9", chain_id=31_337))
        super().__init__(client, load_artifact("DocumentRegistry"), "0x" + "11" * 20, chunk_size, max_logs)
        self.per_block = per_block
        self.fail = fail or set()
        self.fetched: list[tuple[int, int]] = []
        self.second = threading.Event()

    def fetch_logs(self, start: int, end: int) -> list[Any]:
        self.fetched.append((start, end))
        if len(self.fetched) == 2:
            self.second.set()
        if (start, end) in self.fail:
            raise RpcError("range too large")
        return [block for block in range(start, end + 1) for _ in range(self.per_block)]

    def decode(self, log: Any) -> Any:
        return log

    def block_of(self, log: Any) -> int:
        return int(log)


def test_the_next_range_is_fetched_while_the_caller_applies_this_one() -> None:
    """Catching up, the node prepares the next chunk's logs while this process applies the last."""
    scanner = _Recorded(chunk_size=640, per_block=1)
    chunks = scanner.chunks(1, 200)
    first = next(chunks)
    assert first == (1, 10, list(range(1, 11)))
    # the caller is still busy with blocks 1..10, and the next range is already asked for
    assert scanner.second.wait(5), "the next range was not fetched ahead"
    rest = list(chunks)
    ranges = [(1, 10)] + [(a, b) for a, b, _ in rest]
    assert ranges == [(1, 10), (11, 30), (31, 70), (71, 150), (151, 200)]  # sparse: the range doubles
    assert [block for _a, _b, logs in rest for block in logs] == list(range(11, 201))
    assert scanner.fetched == ranges  # each range once


def test_dense_blocks_get_smaller_ranges_and_sparse_ones_larger() -> None:
    """100 logs a block with max_logs 1,000: the range settles at 7 blocks; then a sparse stretch."""
    scanner = _Recorded(chunk_size=1_000, max_logs=1_000, per_block=100)
    ranges = [(a, b) for a, b, _ in scanner.chunks(1, 100)]
    assert [b - a + 1 for a, b in ranges[:3]] == [15, 7, 7]  # 1,500 logs: halved; 700: kept
    assert [a for a, _b in ranges] == [1] + [b + 1 for _a, b in ranges[:-1]] and ranges[-1][1] == 100
    # the range is remembered; where blocks are empty it doubles back up to chunk_size
    scanner.per_block = 0
    sizes = [b - a + 1 for a, b, _ in scanner.chunks(101, 3_000)]
    assert sizes[:7] == [14, 28, 56, 112, 224, 448, 896]  # the short last range above held 200: doubled
    assert set(sizes[7:-1]) == {1_000}


def test_a_refused_range_fetched_ahead_is_halved_as_before() -> None:
    scanner = _Recorded(chunk_size=640, max_logs=1)  # no doubling: every range holds no log, 0 < 1 // 4 is false
    ranges = [(a, b) for a, b, _ in scanner.chunks(1, 30)]
    assert ranges == [(1, 10), (11, 20), (21, 30)]
    scanner = _Recorded(chunk_size=640, fail={(11, 30)})
    ranges = [(a, b) for a, b, _ in scanner.chunks(1, 60)]
    assert ranges == [(1, 10), (11, 20), (21, 40), (41, 60)]
    assert (11, 30) in scanner.fetched  # asked for ahead, refused, then asked again halved


def test_prepare_gets_the_blocks_of_each_range_fetched_ahead() -> None:
    """The caller warms what it reads next from block numbers, whatever the raw logs look like."""
    scanner = _Recorded(chunk_size=640, per_block=2)
    prepared: list[tuple[int, int, set[int]]] = []
    ranges = [(a, b) for a, b, _ in scanner.chunks(1, 70, lambda a, b, blocks: prepared.append((a, b, blocks)))]
    assert ranges == [(1, 10), (11, 30), (31, 70)]
    assert prepared == [(11, 30, set(range(11, 31))), (31, 70, set(range(31, 71)))]  # the first is read in line


def test_what_prepare_raises_is_dropped() -> None:
    def broken(_a: int, _b: int, _blocks: set[int]) -> None:
        raise RuntimeError("header cache full")

    scanner = _Recorded(chunk_size=640, per_block=1)
    assert [block for _a, _b, logs in scanner.chunks(1, 30, broken) for block in logs] == list(range(1, 31))


def test_a_caller_that_stops_early_leaves_no_fetch_running() -> None:
    scanner = _Recorded()
    chunks = scanner.chunks(1, 1_000)
    next(chunks)
    chunks.close()  # the index stopped (a reorg, an error): the read ahead is waited for, then dropped
    assert not any(t.name.startswith("logs-ahead") for t in threading.enumerate())
    assert len(scanner.fetched) <= 2


def test_max_logs_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_logs"):
        _Recorded(max_logs=0)
