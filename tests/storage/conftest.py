"""Fixtures of the storage tests: a real js-ipfs daemon (session), stores, test blobs."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from devstack.ipfs import JSIPFS, IpfsDaemon
from storage.embedded import EmbeddedStore
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
