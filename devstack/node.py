"""What every local EVM node of the stack shares: chain modes, the node record, bare JSON-RPC.

Three chain modes, two node implementations:

- ``dev`` (Hardhat, chain id 1337): EIP-1559 fees, accounts need a balance;
- ``besu`` (Hardhat behind hardhat_local/besu-gateway.js, chain id 2018): stands in for a Besu
  QBFT network: Berlin hardfork, free gas, eth_getLogs capped at 1,000 blocks, QBFT-sized
  extraData, an optional sender allowlist;
- ``anvil`` (Foundry's Anvil, chain id 2019): a second EVM implementation in the same free-gas
  Berlin setting (gas price 0, no base fee), without the gateway's Besu imitations.

:func:`devstack.stack.start_chain` starts the node of a mode; :mod:`devstack.hardhat` and
:mod:`devstack.anvil` hold the implementations.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Literal

from devstack.process import DevstackError, ManagedProcess, stop_pid_file

ChainMode = Literal["dev", "besu", "anvil"]
CHAIN_MODES: tuple[ChainMode, ...] = ("dev", "besu", "anvil")
CHAIN_IDS: dict[str, int] = {"dev": 1337, "besu": 2018, "anvil": 2019}
#: Modes whose transactions cost nothing (gas price 0): keys transact without a balance.
FREE_GAS_MODES = frozenset({"besu", "anvil"})


@dataclass(frozen=True)
class ChainNode:
    """A running local node (Hardhat or Anvil) started by this package."""

    mode: ChainMode
    host: str
    port: int
    chain_id: int
    process: ManagedProcess

    @property
    def rpc_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def free_gas(self) -> bool:
        """Gas price 0 and no base fee: an unfunded key can transact."""
        return self.mode in FREE_GAS_MODES

    @property
    def besu_gateway(self) -> bool:
        """Behind besu-gateway.js: logs range cap (-32005), QBFT extraData, allowlist (-32007)."""
        return self.mode == "besu"


def rpc(url: str, method: str, params: list[Any] | None = None, timeout: float = 5.0) -> Any:
    """One JSON-RPC call with the standard library (used before any client exists)."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []})
    request = urllib.request.Request(  # noqa: S310 - loopback URL built by this package
        url, data=body.encode(), headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        reply = json.loads(response.read())
    if "error" in reply:
        raise DevstackError(f"{method} failed: {reply['error']}")
    return reply["result"]


def answers(url: str) -> bool:
    """True once the node at ``url`` answers eth_chainId."""
    try:
        rpc(url, "eth_chainId", timeout=0.5)
    except (OSError, urllib.error.URLError, ValueError, DevstackError):
        return False
    return True


def is_anvil(url: str) -> bool:
    """Whether the node at ``url`` is Anvil (``web3_clientVersion`` ``anvil/v…``), for the few test
    methods whose arguments differ from Hardhat's (``evm_setIntervalMining``: seconds, not ms)."""
    return str(rpc(url, "web3_clientVersion")).lower().startswith("anvil")


def stop_node(node: ChainNode) -> bool:
    return stop_pid_file(node.process.pid_file)


def fund(url: str, address: str, wei: int = 10**21) -> None:
    """Give ``address`` a balance on a local node (dev mode needs it; the free-gas modes do not).

    ``hardhat_setBalance`` is Hardhat's method; Anvil answers it too (an alias of its
    ``anvil_setBalance``), so one call serves both implementations.
    """
    rpc(url, "hardhat_setBalance", [address, hex(wei)])
