"""Start and stop the local Hardhat node (the local stack's chain).

Two modes, as in hardhat_local/hardhat.config.js:

- ``dev``: EIP-1559 fees, chain id 1337;
- ``besu``: stands in for a Besu QBFT network: a Berlin-hardfork node (no base fee, chain id
  2018) behind hardhat_local/besu-gateway.js, which answers eth_gasPrice with 0, caps
  eth_getLogs at 1,000 blocks (-32005), serves QBFT-sized extraData, and can refuse senders
  outside an allowlist with -32007, as Besu does.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from devstack.process import (
    DevstackError,
    ManagedProcess,
    free_port,
    start_process,
    stop_pid_file,
    wait_until,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
NODE_DIR = REPO_ROOT / "hardhat_local"
HARDHAT_BIN = NODE_DIR / "node_modules" / ".bin" / "hardhat"
BESU_GATEWAY = NODE_DIR / "besu-gateway.js"

ChainMode = Literal["dev", "besu"]
CHAIN_IDS: dict[str, int] = {"dev": 1337, "besu": 2018}


@dataclass(frozen=True)
class HardhatNode:
    mode: ChainMode
    host: str
    port: int
    chain_id: int
    process: ManagedProcess

    @property
    def rpc_url(self) -> str:
        return f"http://{self.host}:{self.port}"


def rpc(url: str, method: str, params: list[Any] | None = None, timeout: float = 5.0) -> Any:
    """One JSON-RPC call with the standard library (used before any client exists)."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []})
    request = urllib.request.Request(  # noqa: S310 - loopback URL built by this module
        url, data=body.encode(), headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        reply = json.loads(response.read())
    if "error" in reply:
        raise DevstackError(f"{method} failed: {reply['error']}")
    return reply["result"]


def _answers(url: str) -> bool:
    try:
        rpc(url, "eth_chainId", timeout=0.5)
    except (OSError, urllib.error.URLError, ValueError, DevstackError):
        return False
    return True


def start_hardhat(
    run_dir: Path,
    *,
    mode: ChainMode = "dev",
    port: int | None = None,
    host: str = "127.0.0.1",
    timeout: float = 60.0,
    allowlist: list[str] | None = None,
) -> HardhatNode:
    """Start a Hardhat node on a loopback port and wait until it answers JSON-RPC."""
    if mode not in CHAIN_IDS:
        raise DevstackError(f"unknown chain mode {mode!r}; use dev or besu")
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
        lambda: _answers(url), process=process, timeout=timeout, what=f"Hardhat node ({mode})"
    )
    chain_id = int(rpc(url, "eth_chainId"), 16)
    return HardhatNode(mode=mode, host=host, port=port, chain_id=chain_id, process=process)


def stop_hardhat(node: HardhatNode) -> bool:
    return stop_pid_file(node.process.pid_file)


def fund(url: str, address: str, wei: int = 10**21) -> None:
    """Give ``address`` a balance on a Hardhat node (dev mode needs it; besu mode is free gas)."""
    rpc(url, "hardhat_setBalance", [address, hex(wei)])
