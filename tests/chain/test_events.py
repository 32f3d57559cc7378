"""Event scanning in chunks across more than 1,000 blocks."""

from __future__ import annotations

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
    else:
        assert scanner.requests == 1


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
