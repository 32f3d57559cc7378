"""Session-wide fixtures: the real local chain in both modes, a deployed registry, per-test isolation.

One Hardhat node runs per chain mode for the whole session ("dev": EIP-1559; "besu": free gas,
Berlin, behind the Besu-like gateway). Each test that uses ``world`` runs between an
``evm_snapshot`` and an ``evm_revert``, so tests never see each other's transactions.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from devstack.hardhat import HARDHAT_BIN, HardhatNode, rpc, start_hardhat, stop_hardhat
from devstack.ipfs import JSIPFS, IpfsDaemon, start_ipfs, stop_ipfs
from storage.ipfs import IpfsStore
from tests.factories import World, build_world

#: In CI every service-backed test must run: a missing tool is a failure, not a skip.
STRICT = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(condition: bool, reason: str) -> None:
    """Skip (locally) or fail (in CI) when a test's real dependency is missing."""
    if condition:
        return
    if STRICT:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session", params=["dev", "besu"])
def node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HardhatNode]:
    """A Hardhat node of each chain mode, started once for the session."""
    require(HARDHAT_BIN.exists(), "Hardhat is not installed (run `npm ci` in hardhat_local)")
    run_dir = tmp_path_factory.mktemp(f"chain-{request.param}")
    started = start_hardhat(run_dir, mode=request.param)
    try:
        yield started
    finally:
        stop_hardhat(started)


@pytest.fixture(scope="session")
def deployed(node: HardhatNode, tmp_path_factory: pytest.TempPathFactory) -> World:
    """The registry deployed on ``node`` with departments, keys and types registered."""
    return build_world(node, tmp_path_factory.mktemp(f"deployments-{node.mode}"))


@pytest.fixture
def world(deployed: World) -> Iterator[World]:
    """``deployed``, rolled back after the test (evm_snapshot / evm_revert)."""
    snapshot = rpc(deployed.node.rpc_url, "evm_snapshot")
    try:
        yield deployed
    finally:
        rpc(deployed.node.rpc_url, "evm_revert", [snapshot])
        deployed.reset_local_state()


@pytest.fixture(scope="session")
def ipfs_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IpfsDaemon]:
    """A real js-ipfs daemon on a free loopback port for the whole session."""
    require(JSIPFS.exists(), f"js-ipfs is not installed ({JSIPFS} missing; run `npm ci` in hardhat_local)")
    run_dir = tmp_path_factory.mktemp("ipfs-session")
    daemon = start_ipfs(run_dir)
    try:
        yield daemon
    finally:
        stop_ipfs(run_dir)


@pytest.fixture(scope="session")
def ipfs_store(ipfs_daemon: IpfsDaemon) -> Iterator[IpfsStore]:
    store = IpfsStore(ipfs_daemon.api, timeout=20.0, has_timeout=0.5)
    try:
        yield store
    finally:
        store.close()
