"""Many blobs in few requests: the CAR that carries them, js-ipfs importing and pinning it, the
answers of a node that lies about it, and ReplicatedStore over three real daemons."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from multiformats import CID, varint

from storage import EmbeddedStore, IpfsStore
from storage.car import car_of, raw_cid_bytes
from storage.cid import RAW_MAX_SIZE, compute_cid
from storage.errors import CidMismatch, StorageError, StorageUnavailable
from storage.replicated import WrittenLedger
from tests.storage.conftest import FakeNode, IpfsNodes

Rpc = Callable[..., tuple[int, bytes]]


def blobs(count: int, size: int = 1500) -> list[bytes]:
    return [os.urandom(size) for _ in range(count)]


# ----------------------------------------------------------------------------- the CAR
def test_car_layout_block_by_block() -> None:
    """Header and sections as the CARv1 specification lays them out, read back with multiformats."""
    datas = [b"", b"one", os.urandom(RAW_MAX_SIZE)]
    car, cids = car_of(datas)
    assert cids == [compute_cid(d) for d in datas]
    length, offset = varint.decode_raw(car)[:2]
    header = car[offset : offset + length]
    # {"roots": [...3 CIDs], "version": 1}: map(2), text(5) "roots", array(3), ...; text(7) "version", 1
    assert header[:8] == b"\xa2\x65roots\x83"
    assert header.endswith(b"\x67version\x01")
    roots = header[8:-9]
    entry = 2 + 2 + 1 + 36  # tag 42, bytes(37) head, 0x00, CID
    assert len(roots) == 3 * entry
    for index in range(len(datas)):
        item = roots[index * entry : (index + 1) * entry]
        assert item[:5] == b"\xd8\x2a\x58\x25\x00"
        assert CID.decode(item[5:]).encode("base32") == cids[index]
    position = offset + length
    for data, cid in zip(datas, cids, strict=True):
        size, used = varint.decode_raw(car[position:])[:2]
        section = car[position + used : position + used + size]
        assert CID.decode(section[:36]).encode("base32") == cid
        assert section[36:] == data
        assert hashlib.sha256(section[36:]).digest() == section[4:36]
        position += used + size
    assert position == len(car)
    assert raw_cid_bytes(b"one") == bytes(CID.decode(cids[1]))


def test_car_refuses_nothing_and_what_is_not_one_block() -> None:
    with pytest.raises(ValueError, match="at least one block"):
        car_of([])
    with pytest.raises(ValueError, match="blob 1 has"):
        car_of([b"x", bytes(RAW_MAX_SIZE + 1)])


# ------------------------------------------------------------------- a real daemon
@pytest.mark.ipfs
def test_put_many_stores_and_pins_every_blob_in_order(ipfs_store: IpfsStore, ipfs_rpc: Rpc,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("storage.ipfs.CAR_MAX_BLOBS", 40)  # several CARs, and a large blob among them
    datas = [*blobs(70), b"", os.urandom(RAW_MAX_SIZE + 10), *blobs(33, 700)]
    cids = ipfs_store.put_many(datas)
    assert cids == [compute_cid(d) for d in datas]
    assert cids[71].startswith("bafy")  # the large one went through add, as UnixFS
    for cid, data in zip(cids, datas, strict=True):
        status, body = ipfs_rpc("cat", arg=cid)  # the daemon itself holds it
        assert (status, body) == (200, data)
        assert ipfs_store.is_pinned(cid)
    assert ipfs_store.put_many(datas[:5]) == cids[:5]  # again: harmless
    assert ipfs_store.put_many([]) == []


@pytest.mark.ipfs
def test_put_many_of_a_thousand_is_one_request(ipfs_store: IpfsStore, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    original = IpfsStore._import

    def counting(self: IpfsStore, datas: list[bytes], indexes: list[int], cids: list[str | None]) -> None:
        calls.append(len(datas))
        original(self, datas, indexes, cids)

    monkeypatch.setattr(IpfsStore, "_import", counting)
    datas = blobs(1000, 400)
    assert ipfs_store.put_many(datas) == [compute_cid(d) for d in datas]
    assert calls == [1000]


def test_embedded_put_many(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "blobs")
    datas = blobs(5)
    assert store.put_many(datas) == [compute_cid(d) for d in datas]
    assert [store.get(c) for c in store.put_many(datas)] == datas


# ------------------------------------------------------------ a node that lies about it
def _answer(*roots: tuple[str, str]) -> bytes:
    lines = (json.dumps({"Root": {"Cid": {"/": cid}, "PinErrorMsg": error}}) + "\n" for cid, error in roots)
    return "".join(lines).encode()


def test_a_node_leaving_out_a_blob_is_caught(fake_node: Callable[..., FakeNode]) -> None:
    datas = blobs(3)
    cids = [compute_cid(d) for d in datas]
    node = fake_node(import_answer=(200, _answer((cids[0], ""), (cids[2], ""))))
    with IpfsStore(node.api) as store, pytest.raises(CidMismatch) as info:
        store.put_many(datas)
    assert info.value.expected == cids[1]
    assert any(path.startswith("/api/v0/dag/import?pin-roots=true") for path in node.paths)


def test_a_node_that_imports_another_blob_is_caught(fake_node: Callable[..., FakeNode]) -> None:
    datas = blobs(2)
    node = fake_node(import_answer=(200, _answer((compute_cid(datas[0]), ""), (compute_cid(b"forged"), ""))))
    with IpfsStore(node.api) as store, pytest.raises(CidMismatch):
        store.put_many(datas)


@pytest.mark.parametrize(
    ("answer", "error", "words"),
    [
        ((200, b"not json\n"), StorageError, "unexpected answer from the IPFS node to dag/import"),
        ((500, b'{"Message":"boom"}'), StorageUnavailable, "dag/import: HTTP 500"),
        ((200, b'{"Root":{"Cid":{"/":"not a cid"},"PinErrorMsg":""}}\n'), CidMismatch, ""),
    ],
)
def test_a_node_answering_wrong_fails_the_batch(
    fake_node: Callable[..., FakeNode], answer: tuple[int, bytes], error: type[Exception], words: str
) -> None:
    node = fake_node(import_answer=answer)
    with IpfsStore(node.api) as store, pytest.raises(error) as info:
        store.put_many(blobs(2))
    assert words in str(info.value)


def test_a_node_that_could_not_pin_fails_the_batch(fake_node: Callable[..., FakeNode]) -> None:
    datas = blobs(2)
    node = fake_node(import_answer=(200, _answer((compute_cid(datas[0]), ""), (compute_cid(datas[1]), "disk full"))))
    with IpfsStore(node.api) as store, pytest.raises(StorageUnavailable, match=r"could not pin .*disk full"):
        store.put_many(datas)


# ------------------------------------------------------------------ three real daemons
@pytest.mark.ipfs
def test_replicated_put_many_reaches_every_node(ipfs_nodes: IpfsNodes, tmp_path: Path) -> None:
    ledger = tmp_path / "written.txt"
    store = ipfs_nodes.replicated(ledger=ledger)
    datas = blobs(120)
    cids = store.put_many(datas)
    assert cids == [compute_cid(d) for d in datas]
    for index in range(3):
        assert set(cids) <= ipfs_nodes.pinned(index)
    assert WrittenLedger(ledger).cids() == cids
    assert store.put_many([]) == []


@pytest.mark.ipfs
def test_replicated_put_many_with_a_node_down(ipfs_nodes: IpfsNodes, tmp_path: Path) -> None:
    ledger = tmp_path / "written.txt"
    two = ipfs_nodes.replicated(2, ledger=ledger)
    three = ipfs_nodes.replicated(3, ledger=ledger)
    ipfs_nodes.stop(2)
    try:
        datas = blobs(30)
        cids = two.put_many(datas)
        assert all(ipfs_nodes.holders(cid) == [0, 1] for cid in cids[:3])
        more = blobs(10)
        with pytest.raises(StorageUnavailable, match="reached 2 of 3 IPFS nodes"):
            three.put_many(more)
        assert ipfs_nodes.holders(compute_cid(more[0])) == [0, 1], "what was written stays"
        assert set(WrittenLedger(ledger).cids()) == set(cids) | {compute_cid(d) for d in more}
    finally:
        ipfs_nodes.restart(2)
