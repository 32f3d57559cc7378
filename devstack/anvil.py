"""Start and stop a local Anvil node: the chain mode ``anvil``, a second EVM implementation.

Anvil (Foundry's node, npm ``@foundry-rs/anvil``; the binary comes with the platform package
``@foundry-rs/anvil-<os>-<arch>`` in hardhat_local/node_modules) runs in the free-gas Berlin
setting that stands in for a Besu network, as the ``besu`` mode's Hardhat node does:

- ``--hardfork berlin``: no EIP-1559 base fee (blocks carry no ``baseFeePerGas``);
- ``--gas-price 0 --base-fee 0 --disable-min-priority-fee``: eth_gasPrice answers 0 and a key
  with no balance transacts;
- chain id 2019 (dev is 1337, besu 2018), so a deployment record never crosses modes;
- no dev accounts (``--accounts 0``, like hardhat.config.js): clients sign locally;
- automine (no ``--block-time``): every transaction is mined in a block of its own at once;
- a 60,000,000 block gas limit, as hardhat.config.js sets;
- world state kept for the newest 512 blocks only (``--prune-history 512``), as a Besu node with
  Bonsai storage keeps it (``--bonsai-historical-block-limit`` 512): a call at an older block is
  refused. Blocks, receipts and logs stay. With the full history Anvil takes minutes to mine
  20,000 empty blocks (its per-block states pile up), with 512 a few seconds.

There is no gateway in front: no eth_getLogs range cap, plain 0-byte extraData, no sender
allowlist. Anvil answers the ``evm_*`` and ``hardhat_*`` test methods the tests use
(``evm_snapshot``/``evm_revert``, ``evm_increaseTime``, ``evm_mine``, ``evm_setAutomine``,
``evm_setIntervalMining``, ``hardhat_mine``, ``hardhat_setBalance``, ``hardhat_dropTransaction``).
"""

from __future__ import annotations

import platform
import sys
from pathlib import Path

from devstack.node import CHAIN_IDS, ChainNode, answers, rpc, stop_node
from devstack.process import DevstackError, free_port, start_process, wait_until

NODE_DIR = Path(__file__).resolve().parents[1] / "hardhat_local"
MODULES = NODE_DIR / "node_modules"
#: The npm wrapper (a Node script that finds the platform binary and runs it as its child).
ANVIL_WRAPPER = MODULES / ".bin" / "anvil"
GAS_LIMIT = 60_000_000
#: Blocks whose world state stays queryable.
STATE_HISTORY = 512

_OS = {"linux": "linux", "darwin": "darwin", "win32": "win32"}
_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


def anvil_binary() -> Path:
    """The platform package's binary (started directly: one process, no Node wrapper), else the
    npm wrapper; the returned path may not exist when ``npm ci`` has not run."""
    os_name = _OS.get(sys.platform, sys.platform)
    arch = _ARCH.get(platform.machine().lower(), platform.machine().lower())
    suffix = ".exe" if os_name == "win32" else ""
    native = MODULES / "@foundry-rs" / f"anvil-{os_name}-{arch}" / "bin" / f"anvil{suffix}"
    return native if native.exists() else ANVIL_WRAPPER


ANVIL_BIN = anvil_binary()


def anvil_argv(binary: Path, *, host: str, port: int, chain_id: int) -> list[str]:
    return [
        str(binary),
        "--host",
        host,
        "--port",
        str(port),
        "--chain-id",
        str(chain_id),
        "--hardfork",
        "berlin",
        "--gas-price",
        "0",
        "--base-fee",
        "0",
        "--disable-min-priority-fee",
        "--gas-limit",
        str(GAS_LIMIT),
        "--accounts",
        "0",
        "--prune-history",
        str(STATE_HISTORY),
        "--quiet",
    ]


def start_anvil(
    run_dir: Path,
    *,
    port: int | None = None,
    host: str = "127.0.0.1",
    chain_id: int = CHAIN_IDS["anvil"],
    timeout: float = 60.0,
) -> ChainNode:
    """Start Anvil on a loopback port (a free one if omitted) and wait until it answers JSON-RPC."""
    binary = anvil_binary()
    if not binary.exists():
        raise DevstackError(f"Anvil is missing ({binary}): run `npm ci` in {NODE_DIR}")
    port = port or free_port(host)
    argv = anvil_argv(binary, host=host, port=port, chain_id=chain_id)
    process = start_process("anvil", argv, run_dir=run_dir, cwd=run_dir)
    url = f"http://{host}:{port}"
    wait_until(lambda: answers(url), process=process, timeout=timeout, what="Anvil node")
    actual = int(rpc(url, "eth_chainId"), 16)
    return ChainNode(mode="anvil", host=host, port=port, chain_id=actual, process=process)


def stop_anvil(node: ChainNode) -> bool:
    return stop_node(node)
