"""The whole local stack: a chain node (Hardhat in dev or Besu-like mode, or Anvil) and a js-ipfs daemon.

``start_stack`` records what it started in ``<run_dir>/stack.json``; ``stop_stack`` stops every
service of a run directory by its pid file, whichever process started it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from devstack.anvil import start_anvil
from devstack.hardhat import start_hardhat
from devstack.ipfs import start_ipfs, stop_ipfs
from devstack.node import ChainMode, ChainNode
from devstack.process import DevstackError, stop_pid_file


@dataclass(frozen=True)
class Stack:
    run_dir: Path
    mode: str
    rpc_url: str
    chain_id: int
    ipfs_api: str | None
    ipfs_url: str | None

    def write(self) -> Path:
        path = self.run_dir / "stack.json"
        data = asdict(self)
        data["run_dir"] = str(self.run_dir)
        path.write_text(json.dumps(data, indent=2) + "\n")
        return path


def start_chain(run_dir: Path, *, mode: ChainMode, port: int | None = None) -> ChainNode:
    """The node of ``mode``: Anvil for ``anvil``, Hardhat (behind the Besu gateway for ``besu``) else."""
    if mode == "anvil":
        return start_anvil(run_dir, port=port)
    return start_hardhat(run_dir, mode=mode, port=port)


def start_stack(
    run_dir: Path,
    *,
    mode: ChainMode = "besu",
    chain_port: int | None = None,
    ipfs: bool = True,
    ipfs_port: int | None = None,
) -> Stack:
    run_dir.mkdir(parents=True, exist_ok=True)
    node = start_chain(run_dir, mode=mode, port=chain_port)
    try:
        daemon = start_ipfs(run_dir / "ipfs", ipfs_port) if ipfs else None
    except DevstackError:
        stop_pid_file(node.process.pid_file)
        raise
    stack = Stack(
        run_dir=run_dir,
        mode=mode,
        rpc_url=node.rpc_url,
        chain_id=node.chain_id,
        ipfs_api=daemon.api if daemon else None,
        ipfs_url=daemon.url if daemon else None,
    )
    stack.write()
    return stack


def read_stack(run_dir: Path) -> Stack | None:
    try:
        data = json.loads((run_dir / "stack.json").read_text())
    except (OSError, ValueError):
        return None
    data["run_dir"] = Path(data["run_dir"])
    return Stack(**data)


def stop_stack(run_dir: Path) -> list[str]:
    """Stop every service recorded in ``run_dir``; the names of those that were running."""
    stopped = []
    for pid_file in sorted([*run_dir.glob("hardhat-*.pid"), *run_dir.glob("anvil.pid")]):
        if stop_pid_file(pid_file):
            stopped.append(pid_file.stem)
    if (run_dir / "ipfs").exists() and stop_ipfs(run_dir / "ipfs"):
        stopped.append("ipfs")
    (run_dir / "stack.json").unlink(missing_ok=True)
    return stopped
