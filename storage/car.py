"""CARv1 archives of raw blocks: many documents stored on an IPFS node in one request.

An IPFS node adds files one at a time through its UnixFS importer; js-ipfs manages about 200 a
second that way, one request each, and about 400 a second with many files in one request. A
document blob of up to 1 MiB is a single raw block (:mod:`storage.cid`), so a batch of them
can travel as one CAR (Content Addressable aRchive, version 1) to ``dag/import``, every blob a
root the node pins: the same blocks and the same recursive pins as ``add``, at a multiple of
the rate (docs/PERFORMANCE.md).

Layout (the CARv1 specification): ``varint(len(header)) ‖ header`` where the header is the
DAG-CBOR map ``{"roots": [CID, …], "version": 1}``, then per block ``varint(len(cid) +
len(data)) ‖ cid ‖ data``. CIDs in DAG-CBOR are tag 42 over a byte string of ``0x00 ‖ cid``.
The CIDs are computed here, never taken from the node.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from storage.cid import RAW_MAX_SIZE, compute_cid

#: CIDv1, codec raw (0x55), multihash sha2-256 (0x12) of 32 bytes (0x20).
_RAW_CID_PREFIX = b"\x01\x55\x12\x20"


def raw_cid_bytes(data: bytes) -> bytes:
    """The binary CID of ``data`` as a raw block (what :func:`storage.cid.raw_cid` writes in base32)."""
    return _RAW_CID_PREFIX + hashlib.sha256(data).digest()


def fits_a_block(data: bytes) -> bool:
    """Whether ``data`` is stored as one raw block (and so may travel in a CAR)."""
    return len(data) <= RAW_MAX_SIZE


def car_of(blobs: Sequence[bytes]) -> tuple[bytes, list[str]]:
    """A CARv1 holding each blob as a raw block and a root; the archive and the blobs' CIDs (text).

    Raises ValueError for an empty batch or a blob too large to be one raw block.
    """
    if not blobs:
        raise ValueError("a CAR needs at least one block")
    for index, blob in enumerate(blobs):
        if not fits_a_block(blob):
            raise ValueError(f"blob {index} has {len(blob)} bytes: more than one raw block ({RAW_MAX_SIZE})")
    cids = [raw_cid_bytes(blob) for blob in blobs]
    header = b"".join(
        (
            _cbor_head(5, 2),  # a map of two entries, keys in DAG-CBOR order (shorter first)
            _cbor_text("roots"),
            _cbor_head(4, len(cids)),
            *(_cbor_cid(cid) for cid in cids),
            _cbor_text("version"),
            _cbor_head(0, 1),
        )
    )
    parts = [_varint(len(header)), header]
    for cid, blob in zip(cids, blobs, strict=True):
        parts += (_varint(len(cid) + len(blob)), cid, blob)
    return b"".join(parts), [compute_cid(blob) for blob in blobs]


def _varint(value: int) -> bytes:
    """Unsigned LEB128, as multiformats' varint."""
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _cbor_head(major: int, value: int) -> bytes:
    """A CBOR item head in its shortest form (DAG-CBOR's rule)."""
    if value < 24:
        return bytes([major << 5 | value])
    for extra, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if value < 1 << (8 * size):
            return bytes([major << 5 | extra]) + value.to_bytes(size, "big")
    raise ValueError("a CBOR length must fit 64 bits")


def _cbor_text(text: str) -> bytes:
    raw = text.encode()
    return _cbor_head(3, len(raw)) + raw


def _cbor_cid(cid: bytes) -> bytes:
    body = b"\x00" + cid  # the multibase "identity" prefix DAG-CBOR puts before a binary CID
    return b"\xd8\x2a" + _cbor_head(2, len(body)) + body  # tag 42


__all__ = ["car_of", "fits_a_block", "raw_cid_bytes"]
