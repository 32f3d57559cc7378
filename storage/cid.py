"""Local CID computation and validation (pure: no I/O).

Documents are stored as CIDv1 with sha2-256 multihashes, printed in lower-case base32
(``b...``), with the layout an IPFS node builds when it adds the same bytes:

* up to :data:`RAW_MAX_SIZE` (1 MiB) inclusive: one block, codec ``raw`` (``bafk...``). An
  IPFS node produces it when told ``cid-version=1``, ``raw-leaves=true`` and a chunker of
  ``size-1048576`` (one chunk, reduced to the raw leaf itself);
* above 1 MiB: a UnixFS file in ``dag-pb`` (``bafy...``) as ``ipfs add`` builds it with
  ``cid-version=1``, ``raw-leaves=true``, the default ``size-262144`` chunker and the
  balanced layout with at most 174 links per node.

The UnixFS layout, in the byte order of ``@ipld/dag-pb`` and ``ipfs-unixfs`` (js-ipfs) and
``go-merkledag`` (Kubo)::

    PBNode { repeated PBLink Links = 2; optional bytes Data = 1; }   Links encoded first
    PBLink { bytes Hash = 1; string Name = 2; uint64 Tsize = 3; }    Name present, empty
    Data   { Type = 1 (File = 2); filesize = 3; repeated blocksizes = 4 (not packed) }

Leaves are grouped 174 at a time into parent nodes, parents again 174 at a time, until one
node is left. A parent's link ``Tsize`` is the child's block size plus the ``Tsize`` of
everything below it (a raw leaf's ``Tsize`` is its length); ``blocksizes`` lists each
child's file size. A group that holds a single leaf is still wrapped in a parent unless
it is the only chunk of the whole file.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator

from multiformats import CID

from storage.errors import CidMismatch, InvalidCid

RAW_MAX_SIZE = 1_048_576
"""Largest document stored as a single ``raw`` block (bytes, inclusive)."""

CHUNK_SIZE = 262_144
"""Chunk size of the UnixFS layout used above :data:`RAW_MAX_SIZE`."""

MAX_LINKS = 174
"""Most links per UnixFS node (the balanced layout's default)."""

RAW_CODEC = 0x55
DAG_PB_CODEC = 0x70
SHA2_256 = 0x12

_RAW_PREFIX = bytes([0x01, RAW_CODEC, SHA2_256, 0x20])
_DAG_PB_PREFIX = bytes([0x01, DAG_PB_CODEC, SHA2_256, 0x20])
_UNIXFS_FILE = 2
_CODEC_NAMES = {"raw": RAW_CODEC, "dag-pb": DAG_PB_CODEC}
_CANONICAL_LENGTH = 59  # "b" + base32 of 36 bytes (version, codec, hash code, length, digest)

BytesLike = bytes | bytearray | memoryview


def chunker_for(size: int) -> str:
    """The ``chunker`` option that makes an IPFS node build the layout of this module."""
    return f"size-{RAW_MAX_SIZE}" if size <= RAW_MAX_SIZE else f"size-{CHUNK_SIZE}"


def compute_cid(data: BytesLike) -> str:
    """CID of ``data`` as this system stores it (raw up to 1 MiB, UnixFS above)."""
    if len(data) <= RAW_MAX_SIZE:
        return raw_cid(data)
    return unixfs_cid(data)


def raw_cid(data: BytesLike) -> str:
    """CIDv1 ``raw`` sha2-256 of ``data`` in base32."""
    return _to_text(_RAW_PREFIX + hashlib.sha256(data).digest())


def unixfs_cid(
    data: BytesLike, *, chunk_size: int = CHUNK_SIZE, max_links: int = MAX_LINKS
) -> str:
    """CID of ``data`` added as a UnixFS file with raw leaves and the balanced layout.

    Data that fits in one chunk reduces to the raw leaf itself, like ``ipfs add`` does.
    """
    if chunk_size <= 0 or max_links < 2:
        raise ValueError("chunk_size must be positive and max_links at least 2")
    view = memoryview(data).cast("B")
    level = [_Node(_RAW_PREFIX + hashlib.sha256(chunk).digest(), len(chunk), len(chunk))
             for chunk in _chunks(view, chunk_size)]
    if len(level) == 1:
        return _to_text(level[0].cid)
    while True:
        level = [_parent(level[i:i + max_links]) for i in range(0, len(level), max_links)]
        if len(level) == 1:
            return _to_text(level[0].cid)


def parse_cid(text: str) -> CID:
    """Parse and validate a CID string; the result is CIDv1 in base32.

    Accepts any multibase (a daemon may print base58btc) and CIDv0, and rejects anything
    that is not sha2-256 over ``raw`` or ``dag-pb``.
    """
    if not isinstance(text, str):
        raise InvalidCid(text, "a CID must be given as text", "CID 必须是字符串")
    stripped = text.strip()
    if not stripped:
        raise InvalidCid(text, "empty", "为空")
    if len(stripped) > 200:
        raise InvalidCid(text, "too long", "过长")
    try:
        cid = CID.decode(stripped)
    except (ValueError, LookupError, TypeError) as exc:  # multiformats raises all three
        raise InvalidCid(text, f"not decodable ({exc})", f"无法解码（{exc}）") from exc
    if cid.hashfun.name != "sha2-256" or len(cid.raw_digest) != 32:
        raise InvalidCid(text, f"unsupported hash {cid.hashfun.name}",
                         f"不支持的哈希算法 {cid.hashfun.name}")
    if cid.codec.name not in _CODEC_NAMES:
        raise InvalidCid(text, f"unsupported codec {cid.codec.name}",
                         f"不支持的编码 {cid.codec.name}")
    if cid.version != 1 or cid.base.name != "base32":
        cid = cid.set(version=1, base="base32")
    return cid


def normalize_cid(text: str) -> str:
    """The canonical text of a CID (CIDv1, lower-case base32); :class:`InvalidCid` if junk."""
    return _canonical(text)[0]


def cid_of_same_kind(cid: str, data: BytesLike) -> str:
    """Recompute the CID of ``data`` with the codec of ``cid`` (``raw`` or UnixFS ``dag-pb``)."""
    if _canonical(cid)[1] == RAW_CODEC:
        return raw_cid(data)
    return unixfs_cid(data)


def verify_cid(cid: str, data: BytesLike, *, source: str) -> None:
    """Raise :class:`CidMismatch` unless ``data`` hashes to ``cid``.

    ``source`` names where the bytes came from, for the error message.
    """
    expected, codec = _canonical(cid)
    actual = raw_cid(data) if codec == RAW_CODEC else unixfs_cid(data)
    if actual != expected:
        raise CidMismatch(expected, actual, source)


def _canonical(text: str) -> tuple[str, int]:
    """Canonical text and codec of a CID; the common case skips the general parser."""
    if isinstance(text, str) and len(text) == _CANONICAL_LENGTH and text[0] == "b":
        try:
            decoded = base64.b32decode(text[1:].upper() + "======")
        except ValueError:
            decoded = b""
        prefix = decoded[:4]
        if prefix in (_RAW_PREFIX, _DAG_PB_PREFIX) and _to_text(decoded) == text:
            return text, prefix[1]
    parsed = parse_cid(text)
    codec = _CODEC_NAMES[parsed.codec.name]
    prefix = _RAW_PREFIX if codec == RAW_CODEC else _DAG_PB_PREFIX
    return _to_text(prefix + parsed.raw_digest), codec


class _Node:
    __slots__ = ("cid", "filesize", "tsize")

    def __init__(self, cid: bytes, tsize: int, filesize: int) -> None:
        self.cid = cid
        self.tsize = tsize
        self.filesize = filesize


def _parent(children: list[_Node]) -> _Node:
    filesize = sum(child.filesize for child in children)
    unixfs = bytearray((0x08, _UNIXFS_FILE, 0x18))  # Type = File, then filesize
    unixfs += _varint(filesize)
    for child in children:
        unixfs += b"\x20"
        unixfs += _varint(child.filesize)
    block = bytearray()
    for child in children:
        link = b"\x0a" + _varint(len(child.cid)) + child.cid + b"\x12\x00\x18" + _varint(
            child.tsize)
        block += b"\x12" + _varint(len(link)) + link
    block += b"\x0a" + _varint(len(unixfs)) + unixfs
    tsize = len(block) + sum(child.tsize for child in children)
    return _Node(_DAG_PB_PREFIX + hashlib.sha256(block).digest(), tsize, filesize)


def _chunks(view: memoryview, size: int) -> Iterator[memoryview]:
    if len(view) == 0:
        yield view
        return
    for start in range(0, len(view), size):
        yield view[start:start + size]


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _to_text(cid_bytes: bytes) -> str:
    return "b" + base64.b32encode(cid_bytes).decode("ascii").rstrip("=").lower()

