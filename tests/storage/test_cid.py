"""Local CID computation: golden vectors, multiformats cross-checks, equality with js-ipfs."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from multiformats import CID, multihash

from storage.cid import (
    CHUNK_SIZE,
    RAW_MAX_SIZE,
    chunker_for,
    compute_cid,
    normalize_cid,
    parse_cid,
    raw_cid,
    unixfs_cid,
    verify_cid,
)
from storage.errors import CidMismatch, InvalidCid, StorageError

TWO_LEVEL_SIZE = 174 * CHUNK_SIZE + 1

# What js-ipfs 0.66.1 (`add`, cid-version=1, raw-leaves, chunker from chunker_for) returned
# for pattern(size) of conftest.py. Re-checked against the live daemon below.
GOLDEN = {
    0: "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
    1: "bafkreibnggjwsgjucjcgdae7xg6h4zyscuez7r6zmg734mmuhvani56isa",
    1000: "bafkreiebdc7aa7vk7g563gxf5wavqebkirtwj2i7g5ly23pjld3llmxjja",
    262_144: "bafkreidz7hfc4hsnrdxajspya6q3wqxnmqsigrjczyfnutoctjqrreocxq",
    262_145: "bafkreidqq3libw4gjyk5ji7wqal57xfpuilzvcqm7qd3w6oybziwxmcbhq",
    1_048_576: "bafkreidfecje33fdfw3g2w7dcd4llxokt6ccg4n6nzsdeb6wgv4ag5pqce",
    1_048_577: "bafybeid3na3zuqpgpn2nelxvgtle6nx55scvlaae6yxmcvc2j5o2x5kiom",
    5 * 1_048_576: "bafybeia2b2ylqkrzg5e5t45heq35rem2gwqbbff27az243jhkonigw4lwm",
    TWO_LEVEL_SIZE: "bafybeicp4pfd5hbyuij62ydpveboobks4mb2hwpvzi2rr4yc7b2ouhsqde",
}
SIZES = sorted(GOLDEN)

EMPTY_RAW = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
# Hashes of the empty string in other forms: CIDv1 raw in base58btc, CIDv0 (dag-pb).
EMPTY_RAW_B58 = "zb2rhmy65F3REf8SZp7De11gxtECBGgUKaLdiDj7MCGCHxbDW"


def multiformats_raw_cid(data: bytes) -> str:
    return str(CID("base32", 1, "raw", multihash.digest(data, "sha2-256")))


# Offline: vectors and independent implementations --------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_golden_vectors(size: int, make_blob: Callable[[int], bytes],
                        two_level_blob: bytes) -> None:
    data = two_level_blob if size == TWO_LEVEL_SIZE else make_blob(size)
    assert len(data) == size
    assert compute_cid(data) == GOLDEN[size]


def test_raw_up_to_one_mib_unixfs_above(make_blob: Callable[[int], bytes]) -> None:
    assert compute_cid(make_blob(RAW_MAX_SIZE)).startswith("bafkrei")
    assert compute_cid(make_blob(RAW_MAX_SIZE + 1)).startswith("bafybei")
    assert chunker_for(RAW_MAX_SIZE) == "size-1048576"
    assert chunker_for(RAW_MAX_SIZE + 1) == "size-262144"


def test_empty_input_is_the_raw_cid_of_nothing() -> None:
    assert compute_cid(b"") == EMPTY_RAW
    assert unixfs_cid(b"") == EMPTY_RAW  # a single chunk reduces to its raw leaf


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=4096))
def test_raw_cid_equals_multiformats(data: bytes) -> None:
    assert raw_cid(data) == multiformats_raw_cid(data)
    assert compute_cid(data) == raw_cid(data)


def test_accepts_bytes_like(make_blob: Callable[[int], bytes]) -> None:
    data = make_blob(3 * CHUNK_SIZE + 5)
    expected = unixfs_cid(data)
    assert unixfs_cid(bytearray(data)) == expected
    assert unixfs_cid(memoryview(data)) == expected
    assert raw_cid(memoryview(data)) == raw_cid(data)


def test_unixfs_root_block_layout() -> None:
    """Decode the root of a 2-chunk file by hand and recompute its CID from the parts."""
    data = b"a" * CHUNK_SIZE + b"b"
    leaf1 = bytes.fromhex("01551220") + hashlib.sha256(b"a" * CHUNK_SIZE).digest()
    leaf2 = bytes.fromhex("01551220") + hashlib.sha256(b"b").digest()
    # PBLink: Hash (1), Name (2, empty but present), Tsize (3)
    link1 = b"\x0a\x24" + leaf1 + b"\x12\x00" + b"\x18\x80\x80\x10"
    link2 = b"\x0a\x24" + leaf2 + b"\x12\x00" + b"\x18\x01"
    # UnixFS Data: Type=File, filesize=262145, blocksizes=[262144, 1] (not packed)
    unixfs = b"\x08\x02" + b"\x18\x81\x80\x10" + b"\x20\x80\x80\x10" + b"\x20\x01"
    block = (b"\x12" + bytes([len(link1)]) + link1 + b"\x12" + bytes([len(link2)]) + link2
             + b"\x0a" + bytes([len(unixfs)]) + unixfs)
    expected = str(CID("base32", 1, "dag-pb", multihash.digest(block, "sha2-256")))
    assert unixfs_cid(data) == expected


# Parsing -------------------------------------------------------------------------------


def test_normalize_other_encodings() -> None:
    assert normalize_cid(EMPTY_RAW_B58) == EMPTY_RAW
    assert normalize_cid(EMPTY_RAW.upper()) == EMPTY_RAW
    assert normalize_cid(f"  {EMPTY_RAW}\n") == EMPTY_RAW
    v0 = "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"
    assert normalize_cid(v0) == str(CID.decode(v0).set(version=1, base="base32"))
    assert normalize_cid(v0).startswith("bafybei")


def test_parse_returns_cidv1_base32() -> None:
    parsed = parse_cid(EMPTY_RAW_B58)
    assert parsed.version == 1
    assert parsed.codec.name == "raw"
    assert str(parsed) == EMPTY_RAW


@pytest.mark.parametrize(
    "junk",
    [
        "",
        "   ",
        "junk",
        "bafk",
        EMPTY_RAW[:-1],
        EMPTY_RAW[:-1] + "x",  # non-zero pad bits
        "bafkqaaa",  # identity hash
        "bafyreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",  # dag-cbor
        "bafkr4ihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",  # blake3
        "b" + "a" * 500,
        "/ipfs/" + EMPTY_RAW,
    ],
)
def test_junk_is_rejected_clearly(junk: str) -> None:
    with pytest.raises(InvalidCid) as info:
        parse_cid(junk)
    assert isinstance(info.value, StorageError)
    assert "not a valid document CID" in info.value.message
    assert "不是有效的文档 CID" in info.value.message_zh


def test_non_text_is_rejected() -> None:
    with pytest.raises(InvalidCid):
        parse_cid(b"bafk" * 10)  # type: ignore[arg-type]


# Verification --------------------------------------------------------------------------


def test_verify_accepts_right_bytes_and_rejects_others(make_blob: Callable[[int], bytes]) -> None:
    for size in (100, RAW_MAX_SIZE + 10):
        data = make_blob(size)
        cid = compute_cid(data)
        verify_cid(cid, data, source="test")
        tampered = bytearray(data)
        tampered[size // 2] ^= 1
        with pytest.raises(CidMismatch) as info:
            verify_cid(cid, bytes(tampered), source="the test server")
        assert info.value.expected == cid
        assert info.value.actual == compute_cid(bytes(tampered))
        assert "the test server" in info.value.message
        assert "篡改" in info.value.message_zh


def test_verify_dag_pb_cid_of_small_data_computed_with_default_chunker(
    make_blob: Callable[[int], bytes],
) -> None:
    """A UnixFS CID of ≤1 MiB data (default chunker) still verifies: checked by codec."""
    data = make_blob(600_000)
    cid = unixfs_cid(data)
    assert cid.startswith("bafybei")
    verify_cid(cid, data, source="test")
    with pytest.raises(CidMismatch):
        verify_cid(cid, data[:-1], source="test")


# Equality with the real daemon --------------------------------------------------------


@pytest.mark.ipfs
@pytest.mark.parametrize("size", SIZES)
def test_daemon_agrees(size: int, make_blob: Callable[[int], bytes], two_level_blob: bytes,
                       ipfs_add: Callable[..., str]) -> None:
    data = two_level_blob if size == TWO_LEVEL_SIZE else make_blob(size)
    from_daemon = ipfs_add(data, chunker_for(size))
    assert from_daemon == compute_cid(data) == GOLDEN[size]


@pytest.mark.ipfs
@pytest.mark.parametrize("size", [262_145, 600_000, RAW_MAX_SIZE])
def test_daemon_default_chunker_agrees_with_unixfs_layout(
    size: int, make_blob: Callable[[int], bytes], ipfs_add: Callable[..., str],
) -> None:
    data = make_blob(size)
    assert ipfs_add(data, "size-262144") == unixfs_cid(data)


@pytest.mark.ipfs
def test_daemon_agrees_on_three_levels(make_blob: Callable[[int], bytes],
                                       ipfs_add: Callable[..., str]) -> None:
    """Tiny chunks make a three-level tree (174*174 leaves + 1) out of 1.9 MB."""
    data = make_blob(174 * 174 * 64 + 1)
    assert ipfs_add(data, "size-64", only_hash=True) == unixfs_cid(data, chunk_size=64)


@pytest.mark.ipfs
@settings(max_examples=25, deadline=None)
@given(size=st.integers(min_value=0, max_value=3 * RAW_MAX_SIZE))
def test_daemon_agrees_on_random_sizes(size: int, ipfs_add: Callable[..., str]) -> None:
    data = hashlib.shake_128(b"random-size-%d" % size).digest(size) if size else b""
    assert ipfs_add(data, chunker_for(size), only_hash=True) == compute_cid(data)


@settings(max_examples=300, deadline=None)
@given(st.one_of(
    st.text(max_size=80),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz234567", min_size=1, max_size=70).map(
        lambda s: "b" + s),
    st.text(alphabet="123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz",
            min_size=1, max_size=60).map(lambda s: "z" + s),
))
def test_parser_never_raises_anything_but_invalid_cid(text: str) -> None:
    try:
        normalized = normalize_cid(text)
    except InvalidCid:
        return
    assert normalize_cid(normalized) == normalized
    assert normalized == str(parse_cid(text))
