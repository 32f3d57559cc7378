"""Session-wide fixtures: the real local chain in every mode, a deployed registry, per-test isolation.

One node runs per chain mode for the whole session ("dev": Hardhat, EIP-1559; "besu": Hardhat,
free gas, Berlin, behind the Besu-like gateway; "anvil": Anvil, free gas, Berlin); when the suite
runs in several worker processes (``make test`` starts one per core), each worker is a session of
its own, with its own nodes, daemons and temporary directories, on free ports. Each test that
uses ``world`` runs between an ``evm_snapshot`` and an ``evm_revert``, so tests never see each
other's transactions.

The "anvil" mode runs, by default, only the tests under :data:`ANVIL_DEFAULT_SUITES` (the
contracts and the chain client: a second EVM implementation under the layers that talk to it
directly); its other items are deselected. ``EREG_ANVIL_SUITES=all`` runs it wherever the ``node``
fixture is used, and ``EREG_ANVIL_SUITES=tests/verifier,tests/issuer`` (directories relative to
the repository, comma- or space-separated) wherever those directories use it.

The contract suite runs on Hardhat's dev mode and on Anvil, not on the Besu-like gateway: Anvil
is the same free-gas Berlin EVM, and what the gateway adds (gas price 0 answers, the eth_getLogs
range cap, the sender allowlist, QBFT extraData) is RPC behaviour that the chain-client and
service suites test through it. ``EREG_ANVIL_SUITES=all`` runs the contracts there too.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from devstack.anvil import ANVIL_BIN
from devstack.hardhat import HARDHAT_BIN
from devstack.ipfs import JSIPFS, IpfsDaemon, start_ipfs, stop_ipfs
from devstack.node import CHAIN_MODES, ChainNode, rpc, stop_node
from devstack.stack import start_chain
from storage.ipfs import IpfsStore
from tests.factories import World, build_world

if TYPE_CHECKING:
    from playwright.sync_api import Browser

#: In CI every service-backed test must run: a missing tool is a failure, not a skip.
STRICT = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


#: Debian's Chromium and the flags every browser test launches it with.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require(condition: bool, reason: str) -> None:
    """Skip (locally) or fail (in CI) when a test's real dependency is missing."""
    if condition:
        return
    if STRICT:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


#: Test directories whose ``node``-using tests run on Anvil too unless EREG_ANVIL_SUITES says more.
ANVIL_DEFAULT_SUITES = ("tests/contracts", "tests/chain")

#: Test directories whose ``node``-using tests skip the besu mode (unless EREG_ANVIL_SUITES=all).
GATEWAY_SKIPPED_SUITES = ("tests/contracts",)


def anvil_suites(root: Path) -> list[Path] | None:
    """The directories whose tests run in the anvil mode; None for all of them."""
    value = os.environ.get("EREG_ANVIL_SUITES", "").strip()
    if value.lower() == "all":
        return None
    names = value.replace(",", " ").split() or list(ANVIL_DEFAULT_SUITES)
    return [(root / name).resolve() for name in names]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the anvil-mode items outside the Anvil suites, and the besu-mode items of the
    contract suite (see the module's docstring)."""
    suites = anvil_suites(config.rootpath)
    if suites is None:
        return
    no_gateway = [(config.rootpath / name).resolve() for name in GATEWAY_SKIPPED_SUITES]
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        mode = callspec.params.get("node") if callspec is not None else None
        path = item.path.resolve()
        if (mode == "anvil" and not any(path.is_relative_to(suite) for suite in suites)) or (
            mode == "besu" and any(path.is_relative_to(suite) for suite in no_gateway)
        ):
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session", params=CHAIN_MODES)
def node(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChainNode]:
    """A node of each chain mode (Hardhat for dev and besu, Anvil for anvil), started once for the session."""
    if request.param == "anvil":
        require(ANVIL_BIN.exists(), "Anvil is not installed (run `npm ci` in hardhat_local)")
    else:
        require(HARDHAT_BIN.exists(), "Hardhat is not installed (run `npm ci` in hardhat_local)")
    run_dir = tmp_path_factory.mktemp(f"chain-{request.param}")
    started = start_chain(run_dir, mode=request.param)
    try:
        yield started
    finally:
        stop_node(started)


@pytest.fixture(scope="session")
def deployed(node: ChainNode, tmp_path_factory: pytest.TempPathFactory) -> World:
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


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Debian Chromium (headless) through Playwright, one per test module."""
    require(Path(CHROMIUM).exists(), f"Debian chromium is not installed ({CHROMIUM}; apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "the Python package playwright is not installed (pip install -e '.[dev]')")
        raise
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()
