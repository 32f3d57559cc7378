"""EmbeddedStore: the daemon-less, content-addressed directory store."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from storage import DocumentStore, open_store
from storage.cid import RAW_MAX_SIZE, compute_cid
from storage.embedded import EmbeddedStore
from storage.errors import BlobNotFound, CidMismatch, InvalidCid, StorageError


@pytest.mark.parametrize("size", [0, 1, 2048, RAW_MAX_SIZE, RAW_MAX_SIZE + 1])
def test_round_trip(size: int, embedded_store: EmbeddedStore,
                    make_blob: Callable[[int], bytes]) -> None:
    data = make_blob(size)
    cid = embedded_store.put(data)
    assert cid == compute_cid(data)
    assert embedded_store.has(cid)
    assert embedded_store.get(cid) == data


def test_layout_is_sharded_by_cid(embedded_store: EmbeddedStore) -> None:
    cid = embedded_store.put(b"layout")
    path = embedded_store.root / "blocks" / cid[-3:-1] / cid
    assert path.read_bytes() == b"layout"
    assert embedded_store.path_of(cid) == path


def test_is_a_document_store(embedded_store: EmbeddedStore, tmp_path: Path) -> None:
    assert isinstance(embedded_store, DocumentStore)
    store = open_store(None, tmp_path / "factory")
    assert isinstance(store, EmbeddedStore)
    assert store.root == tmp_path / "factory"


def test_tampered_file_is_detected(embedded_store: EmbeddedStore) -> None:
    data = b"ciphertext of a property certificate"
    cid = embedded_store.put(data)
    path = embedded_store.path_of(cid)
    path.write_bytes(data.replace(b"property", b"Property"))
    with pytest.raises(CidMismatch) as info:
        embedded_store.get(cid)
    assert info.value.expected == cid
    assert str(path) in info.value.message
    assert info.value.message_zh


def test_truncated_file_is_detected(embedded_store: EmbeddedStore,
                                    make_blob: Callable[[int], bytes]) -> None:
    cid = embedded_store.put(make_blob(RAW_MAX_SIZE + 100))  # UnixFS CID
    path = embedded_store.path_of(cid)
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(CidMismatch):
        embedded_store.get(cid)


def test_file_swapped_with_another_blob_is_detected(embedded_store: EmbeddedStore) -> None:
    first = embedded_store.put(b"first")
    second = embedded_store.put(b"second")
    embedded_store.path_of(first).write_bytes(b"second")
    with pytest.raises(CidMismatch) as info:
        embedded_store.get(first)
    assert info.value.actual == second


def test_put_is_idempotent_and_repairs_damage(embedded_store: EmbeddedStore) -> None:
    cid = embedded_store.put(b"same")
    path = embedded_store.path_of(cid)
    inode = path.stat().st_ino
    assert embedded_store.put(b"same") == cid
    assert path.stat().st_ino == inode  # intact copy left alone
    path.write_bytes(b"damaged")
    assert embedded_store.put(b"same") == cid
    assert embedded_store.get(cid) == b"same"


def test_missing_blob(embedded_store: EmbeddedStore) -> None:
    cid = compute_cid(b"never stored")
    assert not embedded_store.has(cid)
    with pytest.raises(BlobNotFound) as info:
        embedded_store.get(cid)
    assert info.value.cid == cid
    assert cid in info.value.message_zh
    with pytest.raises(BlobNotFound):
        embedded_store.pin(cid)


def test_pin_present_blob_is_a_no_op(embedded_store: EmbeddedStore) -> None:
    cid = embedded_store.put(b"pinned")
    embedded_store.pin(cid)
    assert embedded_store.get(cid) == b"pinned"


def test_invalid_cid(embedded_store: EmbeddedStore) -> None:
    for call in (embedded_store.get, embedded_store.has, embedded_store.pin):
        with pytest.raises(InvalidCid):
            call("../../etc/passwd")


def test_other_cid_spellings_find_the_same_blob(embedded_store: EmbeddedStore) -> None:
    from multiformats import CID

    cid = embedded_store.put(b"spelling")
    assert embedded_store.get(CID.decode(cid).encode("base58btc")) == b"spelling"
    assert embedded_store.get(cid.upper()) == b"spelling"


def test_concurrent_puts_from_threads(embedded_store: EmbeddedStore,
                                      make_blob: Callable[[int], bytes]) -> None:
    distinct = [make_blob(1000 + i) for i in range(200)]
    same = [b"everyone writes this"] * 200
    with ThreadPoolExecutor(max_workers=16) as pool:
        cids = list(pool.map(embedded_store.put, distinct + same))
    assert cids[:200] == [compute_cid(d) for d in distinct]
    assert set(cids[200:]) == {compute_cid(same[0])}
    for data, cid in zip(distinct + same[:1], cids[:201], strict=True):
        assert embedded_store.get(cid) == data
    leftovers = [p for p in (embedded_store.root / "blocks").rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


def _put_in_process(root: str, seed: int) -> list[str]:
    store = EmbeddedStore(Path(root))
    return [store.put(b"shared blob") for _ in range(50)] + [store.put(b"%d" % seed)]


def test_concurrent_puts_from_processes(tmp_path: Path) -> None:
    root = tmp_path / "shared"
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        results = pool.starmap(_put_in_process, [(str(root), i) for i in range(4)])
    store = EmbeddedStore(root)
    assert {cid for result in results for cid in result[:-1]} == {compute_cid(b"shared blob")}
    assert store.get(compute_cid(b"shared blob")) == b"shared blob"
    for i, result in enumerate(results):
        assert store.get(result[-1]) == b"%d" % i


def test_non_durable_mode_still_round_trips(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "fast", durable=False)
    cid = store.put(b"quick")
    assert store.get(cid) == b"quick"


def test_unusable_root_is_a_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file-not-dir"
    blocker.write_bytes(b"")
    with pytest.raises(StorageError):
        EmbeddedStore(blocker)


def test_blocked_shard_directory_reports_storage_error(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "blocked")
    cid = compute_cid(b"x")
    shard = store.root / "blocks" / cid[-3:-1]
    shard.write_bytes(b"")  # a file where the shard directory should be
    with pytest.raises(StorageError):
        store.put(b"x")
    assert not os.path.isdir(shard)
