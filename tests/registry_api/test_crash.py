"""Crash safety: the relay SIGKILLed at random points, restarted on the same queue file.

The relay runs as a real process (``python -m registry_api``) against a Hardhat node of this
test's own (interval mining, so a sent transaction waits for its block; two confirmations, so
mined requests wait to be FINAL). A client thread keeps posting signed anchors and suspensions;
the relay is killed while starting, while accepting, with a transaction recorded or sent, while
requests await confirmations, and at random moments; then the node is frozen (SIGSTOP) for a
while. At the end every promise is checked against the queue file and the chain's events
(tests/registry_api/relay_process.py, ``check_run``). scripts/chaos_relay.py does the same
with 100 cycles.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.hardhat import HARDHAT_BIN, start_hardhat, stop_hardhat
from tests.conftest import require
from tests.factories import World
from tests.registry_api.relay_process import (
    NOT_DELIVERED,
    STRATEGIES,
    ChainFacts,
    ClientLog,
    Item,
    StoredRequest,
    check_run,
    coverage,
    relay_world,
    run_chaos,
)

#: At least 20 kill/restart cycles in CI (EREG_CRASH_CYCLES raises it locally).
CYCLES = max(20, int(os.environ.get("EREG_CRASH_CYCLES", "20")))


# ------------------------------------------------------------------- the checker can fail

ROOT_A = "0x" + "aa" * 32
ROOT_B = "0x" + "bb" * 32
ROOT_C = "0x" + "cc" * 32
TX_1 = "0x" + "01" * 32
TX_2 = "0x" + "02" * 32


def _log(*, accepted: dict[str, str], unanswered: tuple[str, ...] = (), refused: tuple[str, ...] = ()) -> ClientLog:
    log = ClientLog()
    for key in [*accepted, *unanswered, *refused]:
        kind, _, root = key.partition(":")
        log.items[key] = Item(kind, root, {})  # type: ignore[arg-type]
    log.accepted.update(accepted)
    log.unanswered.update({k: log.items[k] for k in unanswered})
    log.refused.update(dict.fromkeys(refused, "CHAIN_UNAVAILABLE"))
    return log


def _id(n: int) -> str:
    """A request id of the checker's made-up runs (the relay's are random; any 32 hex digits do)."""
    return f"{n:032x}"


def _stored(*rows: tuple[int, str, str]) -> dict[str, StoredRequest]:
    out = {}
    for n, key, state in rows:
        kind, _, root = key.partition(":")
        out[_id(n)] = StoredRequest(_id(n), kind, root, f"d{n}", state, TX_1, None)
    return out


def test_a_clean_run_passes_the_checks() -> None:
    log = _log(accepted={f"anchor:{ROOT_A}": _id(1)}, unanswered=(f"anchor:{ROOT_B}",), refused=(f"anchor:{ROOT_C}",))
    stored = _stored((1, f"anchor:{ROOT_A}", "FINAL"))
    chain = ChainFacts(anchored={ROOT_A: [TX_1]}, suspended={}, relayer_transactions=1)
    verdict = check_run(log, stored, chain)
    assert verdict.ok, verdict.problems
    assert verdict.final == 1 and verdict.duplicates == 0


def test_a_root_anchored_twice_is_caught() -> None:
    log = _log(accepted={f"anchor:{ROOT_A}": _id(1)})
    stored = _stored((1, f"anchor:{ROOT_A}", "FINAL"))
    chain = ChainFacts(anchored={ROOT_A: [TX_1, TX_2]}, suspended={}, relayer_transactions=2)
    verdict = check_run(log, stored, chain)
    assert verdict.duplicates == 1
    assert any("on chain 2 times" in p for p in verdict.problems), verdict.problems


def test_a_lost_or_unsettled_request_is_caught() -> None:
    log = _log(accepted={f"anchor:{ROOT_A}": _id(1), f"anchor:{ROOT_B}": _id(2)})
    stored = _stored((2, f"anchor:{ROOT_B}", "SUBMITTED"))
    chain = ChainFacts(anchored={}, suspended={}, relayer_transactions=0)
    problems = check_run(log, stored, chain).problems
    assert any(f"request {_id(1)}, which is not stored" in p for p in problems), problems
    assert any(f"request {_id(2)} is SUBMITTED" in p for p in problems), problems
    assert any("on chain 0 times" in p for p in problems), problems


def test_a_half_stored_refused_or_phantom_request_is_caught() -> None:
    log = _log(accepted={}, unanswered=(f"anchor:{ROOT_A}",), refused=(f"anchor:{ROOT_B}",))
    stored = _stored((1, f"anchor:{ROOT_A}", "QUEUED"), (2, f"anchor:{ROOT_B}", "FINAL"))
    phantom = "0x" + "dd" * 32
    chain = ChainFacts(anchored={ROOT_B: [TX_1], phantom: [TX_2]}, suspended={}, relayer_transactions=2)
    problems = check_run(log, stored, chain).problems
    assert any("unanswered, stored half-way" in p for p in problems), problems
    assert any("refused (CHAIN_UNAVAILABLE) but stored" in p for p in problems), problems
    assert any(f"anchor:{phantom}: on chain, never sent" in p for p in problems), problems


def test_a_wasted_relayer_transaction_is_caught() -> None:
    """A second transaction for roots already anchored reverts: it leaves a nonce, no event."""
    log = _log(accepted={f"anchor:{ROOT_A}": _id(1)})
    stored = _stored((1, f"anchor:{ROOT_A}", "FINAL"))
    chain = ChainFacts(anchored={ROOT_A: [TX_1]}, suspended={}, relayer_transactions=2)
    problems = check_run(log, stored, chain).problems
    assert any("a transaction was wasted" in p for p in problems), problems


# ------------------------------------------------------------------------ the crash run


@pytest.fixture
def chaos_world(tmp_path: Path) -> Iterator[World]:
    """A registry on a node of this test's own: it is frozen and its mining mode changed."""
    require(HARDHAT_BIN.exists(), "Hardhat is not installed (run `npm ci` in hardhat_local)")
    node = start_hardhat(tmp_path / "node", mode="dev")
    try:
        yield relay_world(node, tmp_path / "deployments")
    finally:
        stop_hardhat(node)  # SIGTERM to a frozen group still ends it; node_stopped always thaws it


@pytest.mark.chain
def test_sigkill_at_any_point_loses_nothing_and_doubles_nothing(chaos_world: World, tmp_path: Path) -> None:
    began = time.monotonic()
    seed = int(os.environ.get("EREG_CRASH_SEED", str(int(time.time()))))
    report = run_chaos(chaos_world, tmp_path / "relay", cycles=CYCLES, seed=seed, pause_seconds=3.0)
    print(f"seed {seed}\n{report.summary()}\ntest time {time.monotonic() - began:.1f} s")
    assert not report.problems, f"seed {seed}\n{report.summary()}"
    log = report.log
    assert len(report.cycles) >= 20
    assert len(log.accepted) >= 30, "the client got too little accepted to prove anything"
    assert report.verdict.final >= len(log.accepted) and report.verdict.duplicates == 0
    assert any(key.startswith("status:") for key in log.accepted), "no suspension was accepted"
    assert set(log.refused.values()) <= {NOT_DELIVERED, "CHAIN_UNAVAILABLE"}, set(log.refused.values())
    kills = coverage(report.cycles)
    # The kills found the relay in the states that matter (else the run proved little).
    assert kills.get("dead with tx PREPARED", 0) + kills.get("dead with tx SENT", 0) >= 2, kills
    assert kills.get("dead with requests ANCHORED", 0) >= 1, kills
    aimed = {key.removeprefix("aim:").removesuffix("(missed)") for key in kills if key.startswith("aim:")}
    assert aimed == set(STRATEGIES), kills
    pause = report.pause
    assert pause["healthz"] == 503 and len(pause["held_requests"]) == 5 and pause["waiting_requests"] >= 5, pause
