"""ReplicatedStore on three real js-ipfs daemons: factor, a stopped node, a node serving wrong bytes, repair.

The daemons are started once per session (``three_ipfs_daemons``); each test starts from nodes
holding no document and leaves all three running. A node that "lies" is a real daemon whose
block on disk was overwritten (what a failing disk or a tampered repository does): it serves
those bytes, and the store must notice.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from devstack.process import free_port
from storage import DocumentStore, IpfsStore, ReplicatedStore, open_store
from storage.cid import RAW_MAX_SIZE, compute_cid
from storage.errors import BlobNotFound, CidMismatch, StorageUnavailable
from storage.replicated import (
    StorageConfigError,
    WrittenLedger,
    check_factor,
    open_ipfs,
    parse_api_list,
    parse_replication,
)
from tests.storage.conftest import IpfsNodes, block_file, daemon_add, pattern
from verifier.runtime import open_document_store
from verifier.settings import VerifierSettings

pytestmark = pytest.mark.ipfs

_blobs = iter(range(10_000_000))


def blob(size: int = 1500) -> bytes:
    """Bytes stored by no other call (a serial number after a fixed pattern)."""
    return pattern(size) + b"-%d" % next(_blobs)


def dead_api() -> str:
    """An RPC API nothing listens on: a node that is down."""
    return f"/ip4/127.0.0.1/tcp/{free_port()}/http"


def tamper(nodes: IpfsNodes, index: int, cid: str) -> None:
    """Overwrite node ``index``'s block of ``cid`` on disk (same length, other bytes)."""
    path = block_file(nodes.daemons[index], cid)
    original = path.read_bytes()
    path.write_bytes(bytes(b ^ 0x5A for b in original))


# ------------------------------------------------------------------------ configuration
def test_api_lists_are_parsed_and_checked() -> None:
    assert parse_api_list("/ip4/127.0.0.1/tcp/5001/http") == ["/ip4/127.0.0.1/tcp/5001/http"]
    assert parse_api_list(" http://127.0.0.1:5001 , /ip4/127.0.0.1/tcp/5002/http,http://ipfs-3.internal:5003/") == [
        "/ip4/127.0.0.1/tcp/5001/http",
        "/ip4/127.0.0.1/tcp/5002/http",
        "/dns/ipfs-3.internal/tcp/5003/http",
    ]
    assert parse_api_list("https://[::1]:5443") == ["/ip6/::1/tcp/5443/https"]
    for bad, words in [
        ("/ip4/127.0.0.1/tcp/5001/http,", "empty"),
        (",", "empty"),
        ("  ", "empty"),
        ("http://127.0.0.1:5001,/ip4/127.0.0.1/tcp/5001/http", "twice"),
        ("ftp://127.0.0.1:5001", "not an IPFS RPC API"),
        ("http://127.0.0.1:5001/api/v0", "not an IPFS RPC API"),
        ("http://127.0.0.1:notaport", "not an IPFS RPC API"),
    ]:
        with pytest.raises(StorageConfigError) as info:
            parse_api_list(bad)
        assert words in info.value.message, info.value.message
        assert info.value.message_zh and info.value.message_zh != info.value.message
        assert info.value.code == "STORAGE_CONFIG"


def test_the_factor_must_fit_the_nodes() -> None:
    assert parse_replication(None) is None and parse_replication(" ") is None
    assert parse_replication("2") == 2
    for bad in ("0", "-1", "two", "1.5"):
        with pytest.raises(StorageConfigError):
            parse_replication(bad)
    assert check_factor(None, 3) == 3
    assert check_factor(1, 3) == 1
    with pytest.raises(StorageConfigError, match="needs 4 IPFS nodes, 3 configured") as info:
        check_factor(4, 3)
    assert "复制因子" in info.value.message_zh


def test_open_store_chooses_by_the_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    one, two, three = dead_api(), dead_api(), dead_api()  # no connection is made when opening
    monkeypatch.delenv("EREG_IPFS_REPLICATION", raising=False)
    single = open_store(one, tmp_path / "home" / "blocks")
    assert type(single) is IpfsStore and single.api == one  # one node: exactly today's store
    single.close()
    many = open_store(f"{one},{two},{three}", tmp_path / "home" / "blocks")
    assert isinstance(many, ReplicatedStore) and isinstance(many, DocumentStore)
    assert many.apis == (one, two, three) and many.replication == 3
    assert many.ledger is not None and many.ledger.path == tmp_path / "home" / "storage" / "written.txt"
    many.close()
    monkeypatch.setenv("EREG_IPFS_REPLICATION", "2")
    with open_store(f"{one},{two},{three}", tmp_path / "blocks") as factor_two:  # type: ignore[attr-defined]
        assert factor_two.replication == 2
    monkeypatch.setenv("EREG_IPFS_REPLICATION", "4")
    with pytest.raises(StorageConfigError, match="needs 4"):
        open_store(f"{one},{two},{three}", tmp_path / "blocks")
    with pytest.raises(StorageConfigError, match="needs 2"):
        open_store(one, tmp_path / "blocks", replication=2)
    assert not (tmp_path / "home" / "storage").exists(), "the ledger is created by the first put only"


def test_the_verifier_takes_a_list(tmp_path: Path) -> None:
    one, two = dead_api(), dead_api()
    base: dict[str, Any] = {"rpc_url": "http://127.0.0.1:8545", "chain_id": 1337, "index_path": tmp_path / "i.sqlite"}
    settings = VerifierSettings(**base, ipfs_api=f" {one}, http://127.0.0.1:{two.split('/')[4]} ")
    assert settings.ipfs_api == f"{one},{two}"
    store = open_document_store(settings, timeout=1.0)
    try:
        assert isinstance(store, ReplicatedStore) and store.apis == (one, two)
    finally:
        assert store is not None
        store.close()
    single = VerifierSettings(**base, ipfs_api=one)
    store = open_document_store(single, timeout=1.0)
    assert type(store) is IpfsStore
    store.close()
    with pytest.raises(ValidationError, match="ipfs_replication 3"):
        VerifierSettings(**base, ipfs_api=f"{one},{two}", ipfs_replication=3)
    with pytest.raises(ValidationError, match="twice"):
        VerifierSettings(**base, ipfs_api=f"{one},{one}")


# --------------------------------------------------------------------------- all up
def test_put_reaches_every_node(ipfs_nodes: IpfsNodes, tmp_path: Path) -> None:
    ledger = tmp_path / "storage" / "written.txt"
    store = ipfs_nodes.replicated(ledger=ledger)
    datas = [blob(10), blob(2048), pattern(RAW_MAX_SIZE + 100_000)]  # raw blocks and a UnixFS file
    cids = [store.put(data) for data in datas]
    assert cids == [compute_cid(data) for data in datas]
    assert cids[2].startswith("bafy")
    for cid, data in zip(cids, datas, strict=True):
        assert ipfs_nodes.holders(cid) == [0, 1, 2]
        assert store.replicas(cid) == ipfs_nodes.apis
        assert store.get(cid) == data and store.has(cid)
        for index in range(3):
            assert ipfs_nodes.node(index).get(cid) == data
    assert WrittenLedger(ledger).cids() == cids
    assert ledger.read_text() == "".join(f"{cid}\n" for cid in cids)
    assert store.put(datas[0]) == cids[0]  # idempotent
    audit = store.audit()
    assert audit.ok and {b.cid for b in audit.blobs} == set(cids)
    assert all(b.count == 3 and b.in_ledger for b in audit.blobs)
    assert store.version()


def test_concurrent_puts_keep_the_ledger_whole(ipfs_nodes: IpfsNodes, tmp_path: Path) -> None:
    ledger = tmp_path / "written.txt"
    store = ipfs_nodes.replicated(ledger=ledger)
    datas = [blob(300) for _ in range(40)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        cids = list(pool.map(store.put, datas))
    assert set(WrittenLedger(ledger).cids()) == set(cids)
    assert sorted(ledger.read_text().splitlines()) == sorted(cids)
    for index in range(3):
        assert set(cids) <= ipfs_nodes.pinned(index)


# --------------------------------------------------------------------- a node down
def test_a_stopped_node(ipfs_nodes: IpfsNodes, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Factor 2 still writes; factor 3 fails, loses nothing; check names the gap; repair closes it."""
    ledger = tmp_path / "written.txt"
    two = ipfs_nodes.replicated(2, ledger=ledger)
    three = ipfs_nodes.replicated(3, ledger=ledger)
    before = blob()
    before_cid = three.put(before)
    ipfs_nodes.stop(2)
    down = ipfs_nodes.apis[2]

    caplog.set_level(logging.INFO, logger="ereg.storage")
    a = blob()
    a_cid = two.put(a)
    assert ipfs_nodes.holders(a_cid) == [0, 1]
    assert [r.getMessage() for r in caplog.records if down in r.getMessage()] == [
        f"IPFS node {down} does not answer (unreachable (ConnectionError)); carrying on with the other nodes"
    ]
    assert two.put(blob())  # the node's outage is logged once, not on every put
    assert len([r for r in caplog.records if down in r.getMessage()]) == 1

    b = blob()
    b_cid = compute_cid(b)
    with pytest.raises(StorageUnavailable) as info:
        three.put(b)
    error = info.value
    assert error.code == "IPFS_UNAVAILABLE"
    assert f"{b_cid} reached 2 of 3 IPFS nodes, the replication factor is 3" in error.message
    assert "the 2 copies written stay pinned" in error.message and down in error.message
    assert "仅写入 3 个 IPFS 节点中的 2 个" in error.message_zh and "已写入的 2 份副本保留" in error.message_zh
    assert ipfs_nodes.holders(b_cid) == [0, 1], "what was written stays"
    assert b_cid in WrittenLedger(ledger).cids()
    assert three.get(b_cid) == b and three.get(before_cid) == before  # reads go on

    audit = three.audit()
    assert [n.api for n in audit.unreachable] == [down]
    short = {blob.cid: blob for blob in audit.short}
    assert set(short) >= {a_cid, b_cid, before_cid}  # node 2 cannot be asked: nothing is known to be on 3
    assert short[a_cid].holders == tuple(ipfs_nodes.apis[:2]) and short[a_cid].unknown == (down,)
    assert not two.audit().short, "every blob is on 2 nodes: at factor 2"

    ipfs_nodes.restart(2)
    audit = three.audit()
    assert not audit.unreachable
    assert {blob.cid for blob in audit.short} == set(WrittenLedger(ledger).cids()) - {before_cid}
    assert all(blob.missing == (down,) for blob in audit.short)

    # node 0's copy of `a` went bad meanwhile: repair must copy node 1's, checked against the CID
    tamper(ipfs_nodes, 0, a_cid)
    for blob_ in audit.short:
        result = three.repair(blob_)
        assert result.copied_to == (down,) and not result.failed and result.holders_after == 3
        if blob_.cid == a_cid:
            assert result.source == ipfs_nodes.apis[1]
    assert any("served bytes that do not match " + a_cid in r.getMessage() for r in caplog.records)
    assert three.audit().ok
    assert ipfs_nodes.node(2).get(a_cid) == a and ipfs_nodes.node(2).get(b_cid) == b
    assert any(r.getMessage() == f"IPFS node {down} answers again" for r in caplog.records)


def test_nodes_that_cannot_be_reached(ipfs_nodes: IpfsNodes) -> None:
    """A listed node with nothing listening (down from the start), and a store whose every node is down."""
    dead = dead_api()
    store = ipfs_nodes.replicated(2, apis=[dead, *ipfs_nodes.apis[:2]])
    data = blob()
    cid = store.put(data)
    assert store.get(cid) == data and store.has(cid)
    assert store.replicas(cid) == ipfs_nodes.apis[:2]
    assert store.version().startswith("0.")
    audit = store.audit()
    assert [n.api for n in audit.unreachable] == [dead] and audit.ok

    gone = ipfs_nodes.replicated(2, apis=[dead, dead_api()], connect_timeout=1.0)
    with pytest.raises(StorageUnavailable) as info:
        gone.put(data)
    assert "reached 0 of 2" in info.value.message and "nothing was written" in info.value.message
    assert "未写入任何副本" in info.value.message_zh
    for call in (lambda: gone.get(cid), lambda: gone.has(cid), gone.version, lambda: gone.pin(cid)):
        with pytest.raises(StorageUnavailable):
            call()
    assert gone.replicas(cid) == []
    store.close()
    with pytest.raises(StorageUnavailable, match="closed"):
        store.get(cid)


def test_a_hung_node_holds_up_puts_by_the_linger_only(ipfs_nodes: IpfsNodes,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    """A daemon that stops answering without refusing (SIGSTOP): puts at factor 2 do not wait for it."""
    caplog.set_level(logging.WARNING, logger="ereg.storage")
    two = ipfs_nodes.replicated(2, timeout=20.0)
    two_linger = ReplicatedStore([ipfs_nodes.node(i, timeout=20.0) for i in range(3)], replication=2, linger=0.3)
    three = ipfs_nodes.replicated(3, timeout=1.5, grace=0.5)
    hung = ipfs_nodes.daemons[2]
    os.killpg(hung.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        cids = [two_linger.put(blob()) for _ in range(3)]
        assert time.monotonic() - started < 3 * 0.3 + 3.0, "each put waited for the hung node"
        lagging = [r for r in caplog.records if hung.api in r.getMessage()]
        assert len(lagging) == 1 and "still storing after the others finished" in lagging[0].getMessage()
        for cid in cids:  # (asking the hung node itself would hang)
            assert cid in ipfs_nodes.pinned(0) and cid in ipfs_nodes.pinned(1)
        with pytest.raises(StorageUnavailable, match=r"reached 2 of 3 IPFS nodes.*timed out"):
            three.put(blob())
    finally:
        os.killpg(hung.pid, signal.SIGCONT)
    deadline = time.monotonic() + 20
    while not all(ipfs_nodes.holders(cid) == [0, 1, 2] for cid in cids):  # the writes left running finish
        assert time.monotonic() < deadline, [ipfs_nodes.holders(cid) for cid in cids]
        time.sleep(0.1)
    two_linger.close()
    assert two.put(blob())


# ---------------------------------------------------------------- wrong bytes, one copy
def test_a_node_serving_wrong_bytes_is_skipped(ipfs_nodes: IpfsNodes, caplog: pytest.LogCaptureFixture) -> None:
    store = ipfs_nodes.replicated()
    data = blob()
    cid = store.put(data)
    caplog.set_level(logging.WARNING, logger="ereg.storage")
    tamper(ipfs_nodes, 0, cid)  # node 0 is asked first
    with pytest.raises(CidMismatch):
        ipfs_nodes.node(0).get(cid)  # the node really serves other bytes
    assert store.get(cid) == data
    assert [r.getMessage().split(" (")[0] for r in caplog.records] == [
        f"IPFS node {ipfs_nodes.apis[0]} served bytes that do not match {cid}"
    ]
    tamper(ipfs_nodes, 1, cid)
    tamper(ipfs_nodes, 2, cid)
    with pytest.raises(CidMismatch):  # no node serves the right bytes: tampering, not an outage
        store.get(cid)


def test_one_copy_is_found_and_repaired(ipfs_nodes: IpfsNodes) -> None:
    """A UnixFS file (above 1 MiB) that only node 1 holds: has, replicas, get, audit and repair see it."""
    data = pattern(RAW_MAX_SIZE + 300_000)[::-1]
    cid = ipfs_nodes.node(1).put(data)
    store = ipfs_nodes.replicated(timeout=1.0)  # node 0 looks for what it lacks until its timeout
    assert store.has(cid)
    assert store.replicas(cid) == [ipfs_nodes.apis[1]]
    assert store.get(cid) == data
    (short,) = store.audit().short
    assert short.cid == cid and short.missing == (ipfs_nodes.apis[0], ipfs_nodes.apis[2])
    result = store.repair(short)
    assert result.source == ipfs_nodes.apis[1]
    assert set(result.copied_to) == {ipfs_nodes.apis[0], ipfs_nodes.apis[2]}
    assert ipfs_nodes.holders(cid) == [0, 1, 2]
    assert store.audit().ok


def test_pin_pins_where_the_blob_is(ipfs_nodes: IpfsNodes) -> None:
    data = blob()
    cid = daemon_add(ipfs_nodes.daemons[2], data, "size-1048576")  # added, not pinned
    assert cid == compute_cid(data) and ipfs_nodes.holders(cid) == []
    store = ipfs_nodes.replicated()
    store.pin(cid)
    assert ipfs_nodes.holders(cid) == [2]
    with pytest.raises(BlobNotFound):
        store.pin(compute_cid(b"never stored: " + blob()))


def test_close_is_idempotent_and_thread_safe(ipfs_nodes: IpfsNodes) -> None:
    store = ipfs_nodes.replicated()
    cid = store.put(blob())
    threads = [threading.Thread(target=store.close) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for call in (lambda: store.get(cid), lambda: store.put(b"x"), lambda: store.has(cid)):
        with pytest.raises(StorageUnavailable, match="closed"):
            call()
    opened = open_ipfs(",".join(ipfs_nodes.apis), replication=2)
    assert isinstance(opened, ReplicatedStore) and opened.ledger is None
    assert opened.get(cid)  # another store on the same nodes still reads it
    opened.close()
