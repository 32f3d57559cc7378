"""Start and stop the local Hardhat node (the local stack's chain).

Two modes, as in hardhat_local/hardhat.config.js:

- ``dev``: EIP-1559 fees, chain id 1337;
- ``besu``: stands in for a Besu QBFT network: a Berlin-hardfork node (no base fee, chain id
  2018) behind hardhat_local/besu-gateway.js, which answers eth_gasPrice with 0, caps
  eth_getLogs at 1,000 blocks (-32005), serves QBFT-sized extraData, and can refuse senders
  outside an allowlist with -32007, as Besu does.

The node record (:class:`~devstack.node.ChainNode`, also named ``HardhatNode`` here), ``rpc`` and
``fund`` are :mod:`devstack.node`'s, shared with :mod:`devstack.anvil`.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Literal

from devstack.node import CHAIN_IDS as CHAIN_IDS
from devstack.node import ChainMode as ChainMode
from devstack.node import ChainNode, answers, stop_node
from devstack.node import fund as fund
from devstack.node import rpc as rpc
from devstack.process import DevstackError, free_port, start_process, wait_until

REPO_ROOT = Path(__file__).resolve().parents[1]
NODE_DIR = REPO_ROOT / "hardhat_local"
HARDHAT_BIN = NODE_DIR / "node_modules" / ".bin" / "hardhat"
BESU_GATEWAY = NODE_DIR / "besu-gateway.js"

#: The chain modes a Hardhat node serves (``anvil`` is :mod:`devstack.anvil`'s).
HardhatMode = Literal["dev", "besu"]
HARDHAT_MODES: tuple[HardhatMode, ...] = ("dev", "besu")

#: The node record, named before a second implementation arrived; kept for its many users.
HardhatNode = ChainNode


def start_hardhat(
    run_dir: Path,
    *,
    mode: HardhatMode = "dev",
    port: int | None = None,
    host: str = "127.0.0.1",
    timeout: float = 60.0,
    allowlist: list[str] | None = None,
) -> ChainNode:
    """Start a Hardhat node on a loopback port and wait until it answers JSON-RPC."""
    if mode not in HARDHAT_MODES:
        raise DevstackError(f"unknown Hardhat chain mode {mode!r}; use dev or besu (or start_anvil)")
    if not HARDHAT_BIN.exists():
        raise DevstackError(f"{HARDHAT_BIN} is missing: run `npm ci` in {NODE_DIR}")
    node = shutil.which("node")
    if node is None:
        raise DevstackError("Node.js is not installed (node not on PATH)")
    port = port or free_port(host)
    env = dict(os.environ)
    env.update({"EREG_CHAIN_MODE": mode, "HARDHAT_DISABLE_TELEMETRY_PROMPT": "true"})
    if mode == "besu":
        argv = [
            node,
            str(BESU_GATEWAY),
            "--host",
            host,
            "--port",
            str(port),
            "--inner-port",
            str(free_port()),
        ]
        if allowlist:
            argv += ["--allowlist", ",".join(allowlist)]
    else:
        if allowlist:
            raise DevstackError("an allowlist needs the besu mode")
        argv = [node, str(HARDHAT_BIN), "node", "--hostname", host, "--port", str(port)]
    process = start_process(f"hardhat-{mode}", argv, run_dir=run_dir, cwd=NODE_DIR, env=env)
    url = f"http://{host}:{port}"
    wait_until(
        lambda: answers(url), process=process, timeout=timeout, what=f"Hardhat node ({mode})"
    )
    chain_id = int(rpc(url, "eth_chainId"), 16)
    return ChainNode(mode=mode, host=host, port=port, chain_id=chain_id, process=process)


def stop_hardhat(node: ChainNode) -> bool:
    return stop_node(node)
