"""Hex text of bytes, the one spelling the project writes: ``0x`` and lower case."""

from __future__ import annotations


def to_hex(data: bytes) -> str:
    """``0x`` followed by the lower-case hex of ``data``."""
    return "0x" + data.hex()


def from_hex(text: str) -> bytes:
    """The bytes of ``0x…`` (or bare) hex text; ValueError if it is not hex."""
    body = text[2:] if text[:2] in ("0x", "0X") else text
    return bytes.fromhex(body)
