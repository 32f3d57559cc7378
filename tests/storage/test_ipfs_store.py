"""IpfsStore against a real js-ipfs daemon, a stopped one, and servers that misbehave."""

from __future__ import annotations

import json
import socket
import threading
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from devstack.ipfs import IpfsDaemon, start_ipfs, stop_ipfs
from devstack.process import free_port
from storage import DocumentStore, EmbeddedStore, open_store
from storage.cid import RAW_MAX_SIZE, compute_cid, normalize_cid
from storage.errors import (
    BlobNotFound,
    CidMismatch,
    InvalidCid,
    StorageUnavailable,
)
from storage.ipfs import IpfsStore
from tests.storage.conftest import FakeNode

pytestmark = pytest.mark.ipfs

# A CID nobody has: sha2-256 of a string that is never stored.
UNKNOWN = compute_cid(b"e-Registry: this blob is never stored anywhere")

Rpc = Callable[..., tuple[int, bytes]]


# Round trips ---------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 2048, RAW_MAX_SIZE, RAW_MAX_SIZE + 1, 3 * RAW_MAX_SIZE])
def test_round_trip(size: int, ipfs_store: IpfsStore, make_blob: Callable[[int], bytes],
                    ipfs_rpc: Rpc) -> None:
    data = make_blob(size)
    cid = ipfs_store.put(data)
    assert cid == compute_cid(data)
    assert ipfs_store.get(cid) == data
    assert ipfs_store.has(cid)
    # the daemon really holds it: read it back without the store
    status, body = ipfs_rpc("cat", arg=cid)
    assert status == 200
    assert body == data


def test_round_trip_two_level_file(ipfs_store: IpfsStore, two_level_blob: bytes) -> None:
    cid = ipfs_store.put(two_level_blob)
    assert cid == compute_cid(two_level_blob)
    assert ipfs_store.get(cid) == two_level_blob


def test_put_is_idempotent_and_get_accepts_any_cid_spelling(
    ipfs_store: IpfsStore, make_blob: Callable[[int], bytes],
) -> None:
    data = make_blob(4321)
    first = ipfs_store.put(data)
    assert ipfs_store.put(data) == first
    from multiformats import CID

    assert ipfs_store.get(CID.decode(first).encode("base58btc")) == data


def test_put_pins(ipfs_store: IpfsStore, make_blob: Callable[[int], bytes], ipfs_rpc: Rpc) -> None:
    cid = ipfs_store.put(make_blob(777))
    assert ipfs_store.is_pinned(cid)
    status, body = ipfs_rpc("pin/ls", arg=cid)
    assert status == 200
    assert [normalize_cid(key) for key in json.loads(body)["Keys"]] == [cid]


def test_pin_pins_unpinned_content(ipfs_store: IpfsStore, make_blob: Callable[[int], bytes],
                                  ipfs_add: Callable[..., str]) -> None:
    data = make_blob(778)
    cid = ipfs_add(data, "size-1048576")  # added with pin=false
    assert ipfs_store.has(cid)
    assert not ipfs_store.is_pinned(cid)
    ipfs_store.pin(cid)
    assert ipfs_store.is_pinned(cid)
    ipfs_store.pin(cid)  # again: no error


def test_has_is_false_for_unknown(ipfs_store: IpfsStore) -> None:
    started = time.monotonic()
    assert not ipfs_store.has(UNKNOWN)
    assert time.monotonic() - started < 3


def test_invalid_cid_is_rejected_before_any_request(ipfs_store: IpfsStore) -> None:
    for method in (ipfs_store.get, ipfs_store.has, ipfs_store.pin):
        with pytest.raises(InvalidCid):
            method("not-a-cid")


def test_unknown_cid_times_out_as_not_found(ipfs_daemon: IpfsDaemon) -> None:
    """The node is up but cannot find the content in time: BlobNotFound, not an outage.

    js-ipfs keeps waiting for a block it does not have even when offline; the store asks
    the node to give up after `timeout` and reports the node's answer.
    """
    with IpfsStore(ipfs_daemon.api, timeout=1.0, grace=5.0) as store:
        started = time.monotonic()
        with pytest.raises(BlobNotFound) as info:
            store.get(UNKNOWN)
        elapsed = time.monotonic() - started
        with pytest.raises(BlobNotFound):
            store.pin(UNKNOWN)
    assert 0.9 < elapsed < 4.0
    assert info.value.cid == UNKNOWN
    assert UNKNOWN in info.value.message
    assert UNKNOWN in info.value.message_zh
    assert not isinstance(info.value, StorageUnavailable)


def test_concurrent_use_from_threads(ipfs_store: IpfsStore,
                                     make_blob: Callable[[int], bytes]) -> None:
    blobs = [make_blob(2048 + i) for i in range(64)]

    def round_trip(data: bytes) -> bool:
        return ipfs_store.get(ipfs_store.put(data)) == data

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(round_trip, blobs))


def test_no_future_warning_reaches_the_caller(ipfs_daemon: IpfsDaemon) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with IpfsStore(ipfs_daemon.api) as store:
            cid = store.put(b"warning check")
            store.get(cid)
            store.version()
    assert [w for w in caught if issubclass(w.category, FutureWarning)] == []
    # and the temporary filter is gone again afterwards
    assert not any(f[2] is FutureWarning and f[0] == "ignore" and f[3] is not None
                   and "urllib3" in f[3].pattern for f in warnings.filters)


def test_version_reports_js_ipfs(ipfs_store: IpfsStore) -> None:
    assert ipfs_store.version().startswith("0.")


def test_open_store_chooses_backend(ipfs_daemon: IpfsDaemon, tmp_path: Path) -> None:
    remote = open_store(ipfs_daemon.api, tmp_path / "unused")
    local = open_store(None, tmp_path / "local")
    try:
        assert isinstance(remote, IpfsStore)
        assert isinstance(local, EmbeddedStore)
        assert isinstance(remote, DocumentStore)
        assert isinstance(local, DocumentStore)
        data = b"same bytes, same CID, either store"
        assert remote.put(data) == local.put(data)
    finally:
        remote.close()
        local.close()


# Outages -------------------------------------------------------------------------------


def test_stopped_daemon_is_unavailable(tmp_path: Path) -> None:
    """A second, short-lived daemon: works, is stopped, then every call is an outage."""
    run_dir = tmp_path / "short-lived"
    daemon = start_ipfs(run_dir)
    try:
        store = IpfsStore(daemon.api, timeout=2.0, connect_timeout=1.0)
        cid = store.put(b"stored before the outage")
    finally:
        assert stop_ipfs(run_dir)
    for call in (lambda: store.get(cid), lambda: store.put(b"x"), lambda: store.has(cid),
                 lambda: store.pin(cid), store.version):
        with pytest.raises(StorageUnavailable) as info:
            call()
        assert "unavailable" in info.value.message
        assert "不可用" in info.value.message_zh
        assert info.value.code == "IPFS_UNAVAILABLE"
    store.close()


def test_nothing_listening_is_unavailable() -> None:
    api = f"/ip4/127.0.0.1/tcp/{free_port()}/http"
    with IpfsStore(api, connect_timeout=1.0) as store, pytest.raises(StorageUnavailable):
        store.get(UNKNOWN)


def test_bad_address_is_unavailable() -> None:
    with pytest.raises(StorageUnavailable):
        IpfsStore("/this/is/not/a/multiaddr")


def test_closed_store_refuses_work(ipfs_daemon: IpfsDaemon) -> None:
    store = IpfsStore(ipfs_daemon.api)
    cid = store.put(b"before close")
    store.close()
    with pytest.raises(StorageUnavailable, match="closed"):
        store.get(cid)


# Servers that lie or hang --------------------------------------------------------------


def test_server_serving_wrong_bytes_is_caught(fake_node: Callable[..., FakeNode]) -> None:
    wanted = b"the real encrypted document"
    cid = compute_cid(wanted)
    node = fake_node(cat_body=b"a forged document")
    with IpfsStore(node.api) as store, pytest.raises(CidMismatch) as info:
        store.get(cid)
    assert node.paths and node.paths[0].startswith("/api/v0/cat")
    assert info.value.expected == cid
    assert info.value.actual == compute_cid(b"a forged document")


def test_server_serving_right_bytes_passes(fake_node: Callable[..., FakeNode]) -> None:
    """Control for the test above: the same server, honest, is accepted."""
    wanted = b"the real encrypted document"
    node = fake_node(cat_body=wanted)
    with IpfsStore(node.api) as store:
        assert store.get(compute_cid(wanted)) == wanted


def test_server_filing_under_another_cid_is_caught(fake_node: Callable[..., FakeNode]) -> None:
    node = fake_node(add_hash=compute_cid(b"something else"))
    with IpfsStore(node.api) as store, pytest.raises(CidMismatch) as info:
        store.put(b"my document")
    assert info.value.expected == compute_cid(b"my document")


def test_server_answering_junk_cid_is_caught(fake_node: Callable[..., FakeNode]) -> None:
    node = fake_node(add_hash="definitely not a cid")
    with IpfsStore(node.api) as store, pytest.raises(CidMismatch):
        store.put(b"my document")


def test_server_that_hangs_is_unavailable(fake_node: Callable[..., FakeNode]) -> None:
    node = fake_node(cat_body=b"late", delay=3.0)
    with IpfsStore(node.api, timeout=0.3, grace=0.3) as store:
        started = time.monotonic()
        with pytest.raises(StorageUnavailable):
            store.get(UNKNOWN)
    assert time.monotonic() - started < 2.5


def test_connection_reset_is_unavailable() -> None:
    """A server that accepts and closes at once: a transport failure, not a traceback."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]

    def serve() -> None:
        for _ in range(3):
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        api = f"/ip4/127.0.0.1/tcp/{port}/http"
        with IpfsStore(api) as store, pytest.raises(StorageUnavailable):
            store.get(UNKNOWN)
    finally:
        listener.close()
