#!/usr/bin/env python3
"""Chaos run of the relay: SIGKILL it at random points, restart it, prove nothing was lost or doubled.

Starts its own Hardhat node (besu mode by default: free gas, behind the Besu-like gateway) on
a free loopback port, deploys the registry, and runs the relay as a real process
(``python -m registry_api``) on one SQLite queue file. A client thread keeps posting signed
anchors and suspensions while the relay is killed with SIGKILL ``--cycles`` times (while
starting, accepting, just after a commit, with a transaction recorded or sent, while requests
await confirmations, at random moments) and restarted; then the node is frozen (SIGSTOP) for
``--pause`` seconds with the relay killed and restarted meanwhile. At the end every accepted
request must be FINAL and on chain exactly once, checked against the chain's events
(tests/registry_api/relay_process.py does the work; tests/registry_api/test_crash.py runs it
with 20 cycles in CI).

Usage: python scripts/chaos_relay.py [--cycles 100] [--mode besu|dev] [--seed N] [--cold]
Exit status 1 if any promise was broken.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eth_account import Account

from devstack.hardhat import start_hardhat, stop_hardhat
from tests.factories import build_world
from tests.registry_api.relay_process import CycleRecord, run_chaos


def main() -> int:
    parser = argparse.ArgumentParser(description="SIGKILL the relay at random points; check the chain afterwards")
    parser.add_argument("--cycles", type=int, default=100, help="kill/restart cycles (default 100)")
    parser.add_argument("--mode", choices=["besu", "dev"], default="besu", help="chain mode of the node")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: the time)")
    parser.add_argument("--pause", type=float, default=3.0, help="seconds the node is frozen (0: not at all)")
    parser.add_argument("--block-time", type=int, default=250, help="interval mining in ms (0: a block per tx)")
    parser.add_argument("--confirmations", type=int, default=2, help="blocks before a request is FINAL")
    parser.add_argument("--batch-size", type=int, default=8, help="roots per transaction at most")
    parser.add_argument("--cold", action="store_true", help="every restart a plain `python -m registry_api`")
    parser.add_argument("--run-dir", type=Path, default=None, help="keep the node, queue and logs here")
    parser.add_argument("--quiet", action="store_true", help="no line per cycle")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else int(time.time())

    with tempfile.TemporaryDirectory(prefix="ereg-chaos-") as scratch:
        run_dir = args.run_dir or Path(scratch)
        run_dir.mkdir(parents=True, exist_ok=True)
        print(f"chaos run: {args.cycles} cycles, {args.mode} node, seed {seed}, files in {run_dir}", flush=True)
        node = start_hardhat(run_dir / "node", mode=args.mode)
        try:
            world = build_world(node, run_dir / "deployments")
            # The check counts every transaction of the relay's key; the world's council submitted
            # its set-up proposal with world.relayer, so the relay gets a key of its own.
            world.relayer = Account.create()
            world.sender(world.relayer)

            def progress(number: int, cycle: CycleRecord) -> None:
                if args.quiet:
                    return
                started = "-" if cycle.start_seconds is None else f"{cycle.start_seconds:.2f} s"
                aimed = cycle.strategy if cycle.hit else f"{cycle.strategy} (missed)"
                print(
                    f"  kill {number + 1:>3}: {aimed:<20} start-up {started:<8} {cycle.at_kill.describe()}", flush=True
                )

            report = run_chaos(
                world,
                run_dir / "relay",
                cycles=args.cycles,
                seed=seed,
                pause_seconds=args.pause,
                block_time_ms=args.block_time,
                prewarm=not args.cold,
                on_cycle=progress,
                confirmations=args.confirmations,
                batch_size=args.batch_size,
            )
        finally:
            stop_hardhat(node)
    print(f"seed {seed}, {args.mode} node")
    print(report.summary())
    print("OK: every accepted request FINAL and on chain exactly once" if not report.problems else "FAILED")
    return 0 if not report.problems else 1


if __name__ == "__main__":
    sys.exit(main())
