"""Recursive Length Prefix encoding (Ethereum yellow paper, appendix B), encoder only.

An item is a byte string, a non-negative integer (written as its big-endian bytes without leading
zeros, so 0 is the empty string) or a list of items. Nothing here decodes: the tests read what is
written here with an independent decoder.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

#: What :func:`encode` takes: bytes, a non-negative int, or a (nested) list of those.
Item: TypeAlias = bytes | int | Sequence["Item"]


def encode(item: Item) -> bytes:
    """The RLP encoding of ``item``."""
    if isinstance(item, bool):
        raise TypeError("RLP has no booleans; give 0 or 1")
    if isinstance(item, int):
        if item < 0:
            raise ValueError("RLP encodes non-negative integers only")
        return encode(item.to_bytes((item.bit_length() + 7) // 8, "big"))
    if isinstance(item, bytes | bytearray | memoryview):
        data = bytes(item)
        if len(data) == 1 and data[0] < 0x80:
            return data
        return _length_prefix(len(data), 0x80) + data
    if isinstance(item, str):
        raise TypeError("encode text as bytes first")
    payload = b"".join(encode(child) for child in item)
    return _length_prefix(len(payload), 0xC0) + payload


def _length_prefix(length: int, offset: int) -> bytes:
    if length < 56:
        return bytes([offset + length])
    size = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([offset + 55 + len(size)]) + size
