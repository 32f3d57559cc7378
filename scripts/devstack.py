#!/usr/bin/env python3
"""Start, stop and show the local stack (a chain node + js-ipfs daemon).

Usage:
  python scripts/devstack.py start [--run-dir .run] [--mode besu|dev|anvil] [--chain-port N] [--ipfs-port N] [--no-ipfs]
  python scripts/devstack.py stop [--run-dir .run]
  python scripts/devstack.py status [--run-dir .run]

The chain node is Hardhat in the `besu` (free gas, behind the Besu-like gateway) and `dev` modes,
Anvil in the `anvil` mode (free gas, Berlin, chain id 2019). `start` prints the environment to use
(EREG_RPC_URL, EREG_CHAIN_ID, EREG_IPFS_API); services keep running until `stop`, which stops
them by their pid files only.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devstack.node import CHAIN_MODES
from devstack.process import DevstackError
from devstack.stack import read_stack, start_stack, stop_stack


def main() -> int:
    parser = argparse.ArgumentParser(description="the e-Registry local stack")
    parser.add_argument("action", choices=["start", "stop", "status"])
    parser.add_argument("--run-dir", type=Path, default=Path(".run"))
    parser.add_argument("--mode", choices=list(CHAIN_MODES), default="besu")
    parser.add_argument("--chain-port", type=int)
    parser.add_argument("--ipfs-port", type=int)
    parser.add_argument("--no-ipfs", action="store_true")
    args = parser.parse_args()
    run_dir = args.run_dir.resolve()
    try:
        if args.action == "start":
            if read_stack(run_dir):
                print(f"a stack is recorded in {run_dir}; stop it first", file=sys.stderr)
                return 1
            stack = start_stack(
                run_dir, mode=args.mode, chain_port=args.chain_port, ipfs=not args.no_ipfs, ipfs_port=args.ipfs_port
            )
            print(f"export EREG_RPC_URL={stack.rpc_url} EREG_CHAIN_ID={stack.chain_id}", end="")
            print(f" EREG_IPFS_API={stack.ipfs_api}" if stack.ipfs_api else "")
            return 0
        if args.action == "stop":
            stopped = stop_stack(run_dir)
            print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
            return 0
        stack = read_stack(run_dir)
        if stack is None:
            print("no stack recorded")
            return 1
        print(f"{stack.mode} chain {stack.chain_id} at {stack.rpc_url}; ipfs {stack.ipfs_api or 'off'}")
        return 0
    except DevstackError as exc:
        print(f"devstack: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
