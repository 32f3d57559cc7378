"""Fixtures of the storage tests: a real js-ipfs daemon (session), three for replication, stores, test blobs."""

from __future__ import annotations

import atexit
import functools
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from devstack.ipfs import (
    JSIPFS,
    IpfsDaemon,
    ipfs_running,
    node_dirs,
    restart_ipfs,
    start_ipfs_nodes,
    stop_ipfs,
    stop_ipfs_nodes,
)
from storage.cid import normalize_cid
from storage.embedded import EmbeddedStore
from storage.ipfs import IpfsStore
from storage.replicated import ReplicatedStore
from tests.conftest import require

TWO_LEVEL_SIZE = 174 * 262_144 + 1
"""Smallest UnixFS file whose root links to intermediate nodes (175 leaves)."""


def pattern(size: int) -> bytes:
    """Deterministic, incompressible test bytes of ``size`` (same on every machine)."""
    return hashlib.shake_128(b"ereg-storage-test-%d" % size).digest(size) if size else b""


@pytest.fixture(scope="session")
def make_blob() -> Callable[[int], bytes]:
    return pattern


@pytest.fixture(scope="session")
def two_level_blob() -> bytes:
    """The 45.6 MB blob, generated once per session."""
    return pattern(TWO_LEVEL_SIZE)


@pytest.fixture
def embedded_store(tmp_path: Path) -> Iterator[EmbeddedStore]:
    store = EmbeddedStore(tmp_path / "blobs")
    try:
        yield store
    finally:
        store.close()


def daemon_rpc(daemon: IpfsDaemon, command: str, body: bytes | None = None,
               **params: str) -> tuple[int, bytes]:
    """Call the daemon's RPC API directly (no client library): status and body."""
    import http.client
    import urllib.parse

    host, port = daemon.url.removeprefix("http://").split(":")
    query = urllib.parse.urlencode(params)
    headers: dict[str, str] = {}
    payload = b""
    if body is not None:
        boundary = "ereg-test-boundary"
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        payload = (
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"blob\""
            "\r\nContent-Type: application/octet-stream\r\n\r\n".encode()
            + body + f"\r\n--{boundary}--\r\n".encode()
        )
    connection = http.client.HTTPConnection(host, int(port), timeout=60.0)
    try:
        connection.request("POST", f"/api/v0/{command}?{query}", body=payload, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def daemon_add(daemon: IpfsDaemon, data: bytes, chunker: str, *, only_hash: bool = False) -> str:
    """What the daemon's own ``add`` (CIDv1, raw leaves) files ``data`` under."""
    import json

    status, answer = daemon_rpc(
        daemon, "add", data, **{
            "cid-version": "1", "raw-leaves": "true", "chunker": chunker,
            "cid-base": "base32", "pin": "false", "only-hash": str(only_hash).lower(),
        },
    )
    assert status == 200, answer
    cid: str = json.loads(answer.splitlines()[-1])["Hash"]
    return cid


AddFn = Callable[..., str]
RpcFn = Callable[..., tuple[int, bytes]]


@pytest.fixture(scope="session")
def ipfs_add(ipfs_daemon: IpfsDaemon) -> AddFn:
    """``ipfs_add(data, chunker, only_hash=False) -> cid`` on the session daemon."""
    return functools.partial(daemon_add, ipfs_daemon)


@pytest.fixture(scope="session")
def ipfs_rpc(ipfs_daemon: IpfsDaemon) -> RpcFn:
    """``ipfs_rpc(command, body=None, **params) -> (status, body)`` on the session daemon."""
    return functools.partial(daemon_rpc, ipfs_daemon)


def require_jsipfs() -> None:
    """Skip locally, fail in CI, when js-ipfs is not installed."""
    require(JSIPFS.exists(), f"js-ipfs is not installed ({JSIPFS} missing; run `npm ci` in hardhat_local)")


# ------------------------------------------------------------------ three js-ipfs daemons
@dataclass
class IpfsNodes:
    """Three (or more) independent js-ipfs daemons for replicated storage, one per ``node-<i>`` run dir.

    ``stop(i)`` and ``restart(i)`` take one down and bring it back on the same port with its
    blocks and pins; ``reset()`` unpins every document on every node and collects the garbage,
    so a test starts from empty nodes.
    """

    run_dir: Path
    daemons: list[IpfsDaemon]
    _stores: list[ReplicatedStore | IpfsStore] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.daemons)

    @property
    def apis(self) -> list[str]:
        return [daemon.api for daemon in self.daemons]

    @property
    def api_list(self) -> str:
        """The ``EREG_IPFS_API`` value naming every node."""
        return ",".join(self.apis)

    def dir(self, index: int) -> Path:
        return node_dirs(self.run_dir, self.count)[index]

    def running(self, index: int) -> bool:
        return ipfs_running(self.dir(index))

    def stop(self, index: int) -> None:
        assert stop_ipfs(self.dir(index)), f"node {index} was not running"

    def restart(self, index: int) -> IpfsDaemon:
        daemon = restart_ipfs(self.dir(index))
        assert daemon.api == self.daemons[index].api, "restarted on another address"
        self.daemons[index] = daemon
        return daemon

    def ensure_running(self) -> None:
        for index in range(self.count):
            if not self.running(index):
                self.restart(index)

    def node(self, index: int, **timeouts: float) -> IpfsStore:
        """A single-node store on node ``index`` (closed at the end of the test)."""
        store = IpfsStore(self.apis[index], **{"timeout": 10.0, "has_timeout": 0.5, **timeouts})
        self._stores.append(store)
        return store

    def replicated(self, replication: int | None = None, *, ledger: Path | None = None,
                   apis: list[str] | None = None, **timeouts: float) -> ReplicatedStore:
        """A replicated store over every node (or ``apis``), closed at the end of the test."""
        nodes = [IpfsStore(api, **{"timeout": 10.0, "has_timeout": 0.5, **timeouts}) for api in apis or self.apis]
        store = ReplicatedStore(nodes, replication=replication, ledger=ledger)
        self._stores.append(store)
        return store

    def pinned(self, index: int) -> set[str]:
        """The document CIDs node ``index`` pins, asked with the RPC API directly."""
        status, body = daemon_rpc(self.daemons[index], "pin/ls", type="recursive")
        assert status == 200, body
        return {normalize_cid(key) for key in json.loads(body)["Keys"] if not key.startswith("Qm")}

    def holders(self, cid: str) -> list[int]:
        """The running nodes that pin ``cid``."""
        return [index for index in range(self.count) if self.running(index) and cid in self.pinned(index)]

    def unpin_everywhere(self, cid: str, *, collect: bool = False) -> None:
        """Unpin ``cid`` on every running node (and, with ``collect``, delete unpinned blocks)."""
        for index in range(self.count):
            if self.running(index) and cid in self.pinned(index):
                status, body = daemon_rpc(self.daemons[index], "pin/rm", arg=cid)
                assert status == 200, body
            if collect and self.running(index):
                status, body = daemon_rpc(self.daemons[index], "repo/gc")
                assert status == 200, body

    def reset(self) -> None:
        """Every node running, holding no document (the pins removed, then the blocks collected)."""
        self.ensure_running()
        for index, daemon in enumerate(self.daemons):
            for cid in self.pinned(index):
                status, body = daemon_rpc(daemon, "pin/rm", arg=cid)
                assert status == 200, body
            status, body = daemon_rpc(daemon, "repo/gc")
            assert status == 200, body

    def close_stores(self) -> None:
        for store in self._stores:
            store.close()
        self._stores.clear()


def block_file(daemon: IpfsDaemon, cid: str) -> Path:
    """Where js-ipfs keeps the block of ``cid`` in its repository (flatfs, base32 multihash key)."""
    import base64

    from storage.cid import parse_cid

    key = base64.b32encode(bytes(parse_cid(cid).digest)).decode("ascii").rstrip("=")
    return daemon.repo / "blocks" / key[-3:-1] / f"{key}.data"


_shared_nodes: dict[str, object] = {}


def _stop_at_exit(run_dir: Path) -> None:
    for directory in sorted(run_dir.glob("node-*")):  # one by one: no new threads at exit
        stop_ipfs(directory)


@pytest.fixture(scope="session")
def three_ipfs_daemons(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IpfsNodes]:
    """Three js-ipfs daemons, started once per session (in parallel) and stopped at its end.

    Test modules outside this directory import this fixture; however many import it, one set
    of daemons serves them all (counted, stopped after the last user).
    """
    require_jsipfs()
    if "nodes" not in _shared_nodes:
        run_dir = tmp_path_factory.mktemp("ipfs-nodes")
        atexit.register(_stop_at_exit, run_dir)  # in case the session dies before its teardown
        _shared_nodes["nodes"] = IpfsNodes(run_dir, start_ipfs_nodes(run_dir, 3))
        _shared_nodes["users"] = 0
    nodes = _shared_nodes["nodes"]
    assert isinstance(nodes, IpfsNodes)
    _shared_nodes["users"] = int(str(_shared_nodes["users"])) + 1
    try:
        yield nodes
    finally:
        _shared_nodes["users"] = int(str(_shared_nodes["users"])) - 1
        if _shared_nodes["users"] == 0:
            _shared_nodes.clear()
            stop_ipfs_nodes(nodes.run_dir)
            atexit.unregister(_stop_at_exit)


@pytest.fixture
def ipfs_nodes(three_ipfs_daemons: IpfsNodes) -> Iterator[IpfsNodes]:
    """The three daemons, all running and holding no document; running again after the test."""
    three_ipfs_daemons.reset()
    try:
        yield three_ipfs_daemons
    finally:
        three_ipfs_daemons.close_stores()
        three_ipfs_daemons.ensure_running()


# ------------------------------------------------------------------ a node that lies
class FakeNode:
    """A loopback HTTP server that imitates a few RPC calls with wrong answers."""

    def __init__(
        self, cat_body: bytes, add_hash: str, delay: float = 0.0, import_answer: tuple[int, bytes] = (200, b"")
    ) -> None:
        self.cat_body = cat_body
        self.add_hash = add_hash
        self.import_answer = import_answer
        self.delay = delay
        self.paths: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                fake.paths.append(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                elif self.headers.get("Transfer-Encoding") == "chunked":
                    _drain_chunked(self.rfile)
                time.sleep(fake.delay)
                status = 200
                if self.path.startswith("/api/v0/cat"):
                    body = fake.cat_body
                elif self.path.startswith("/api/v0/dag/import"):
                    status, body = fake.import_answer
                elif self.path.startswith("/api/v0/add"):
                    body = json.dumps({"Name": "blob", "Hash": fake.add_hash, "Size": "1"}).encode()
                else:
                    body = b'{"Version": "0.18.1"}'
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def api(self) -> str:
        return f"/ip4/127.0.0.1/tcp/{self.port}/http"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _drain_chunked(stream: object) -> None:
    readline = stream.readline  # type: ignore[attr-defined]
    read = stream.read  # type: ignore[attr-defined]
    while True:
        size = int(readline().strip() or b"0", 16)
        read(size + 2) if size else readline()
        if not size:
            return


@pytest.fixture
def fake_node() -> Iterator[Callable[..., FakeNode]]:
    nodes: list[FakeNode] = []

    def make(
        cat_body: bytes = b"", add_hash: str = "", delay: float = 0.0, import_answer: tuple[int, bytes] = (200, b"")
    ) -> FakeNode:
        node = FakeNode(cat_body, add_hash, delay, import_answer)
        nodes.append(node)
        return node

    yield make
    for node in nodes:
        node.close()
