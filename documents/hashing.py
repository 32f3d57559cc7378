"""Keccak-256 and the hex encodings used by ``ereg/1``.

Keccak-256 is the original Keccak (Ethereum's ``keccak256``), not FIPS-202 SHA3-256.
The fast path drives pycryptodome's C implementation directly (one reusable state per
thread, about 3x faster than ``eth_hash``); if those internals are unavailable it falls back
to ``eth_hash.auto.keccak``. Both give identical digests (checked by the tests).
"""

from __future__ import annotations

import importlib
import re
import threading
from collections.abc import Callable
from typing import Any

__all__ = [
    "HEX32_RE",
    "KECCAK_BACKEND",
    "bytes32_from_hex",
    "hex32",
    "is_checksum_address",
    "keccak256",
    "new_hasher",
    "to_checksum_address",
]

Hasher = Callable[[bytes], bytes]

HEX32_RE = re.compile(r"0x[0-9a-f]{64}")
_ADDRESS_RE = re.compile(r"0x[0-9a-fA-F]{40}")


def _eth_hash_factory() -> Hasher:
    from eth_hash.auto import keccak

    def _k(data: bytes) -> bytes:
        return keccak(data)

    return _k


def _load_cffi_factory() -> Callable[[], Hasher] | None:
    try:
        keccak_mod = importlib.import_module("Crypto.Hash.keccak")
        raw_api = importlib.import_module("Crypto.Util._raw_api")
        lib: Any = keccak_mod._raw_keccak_lib
        ffi: Any = raw_api.ffi
        backend: Any = raw_api.backend
    except (ImportError, AttributeError):  # pragma: no cover - depends on pycryptodome
        return None
    if backend != "cffi":  # pragma: no cover - ctypes backend: use eth_hash instead
        return None

    def factory() -> Hasher:
        pp = ffi.new("void *[1]")
        if lib.keccak_init(pp, 64, 24) != 0:  # capacity 512 bits, 24 rounds
            raise RuntimeError("keccak_init failed")
        state = ffi.gc(pp[0], lib.keccak_destroy)
        out = ffi.new("uint8_t[32]")
        view = ffi.buffer(out)
        reset, absorb, digest = lib.keccak_reset, lib.keccak_absorb, lib.keccak_digest

        def _k(data: bytes) -> bytes:
            reset(state)
            absorb(state, data, len(data))
            digest(state, out, 32, 1)  # padding 0x01 = original Keccak
            return view[:]  # type: ignore[no-any-return]

        return _k

    try:
        probe = factory()
    except Exception:  # noqa: BLE001 - any failure of the private API means: do not use it
        return None  # pragma: no cover
    if probe(b"") != bytes.fromhex(
        "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    ):
        return None  # pragma: no cover
    return factory


_cffi_factory = _load_cffi_factory()
KECCAK_BACKEND = "pycryptodome-raw" if _cffi_factory is not None else "eth_hash"
_local = threading.local()


def new_hasher() -> Hasher:
    """Return a Keccak-256 function owning its own state.

    The returned function is not thread-safe (the C call releases the GIL); use it from one
    thread, for example inside one batch loop. :func:`keccak256` is thread-safe.
    """
    if _cffi_factory is not None:
        return _cffi_factory()
    return _eth_hash_factory()


def _thread_hasher() -> Hasher:
    try:
        h: Hasher = _local.hasher
    except AttributeError:
        h = new_hasher()
        _local.hasher = h
    return h


def keccak256(data: bytes | bytearray | memoryview) -> bytes:
    """Keccak-256 digest (32 bytes) of ``data``."""
    return _thread_hasher()(bytes(data))


def hex32(value: bytes) -> str:
    """Encode a 32-byte value as lowercase ``0x``-prefixed hex."""
    if len(value) != 32:
        raise ValueError(f"expected 32 bytes, got {len(value)}")
    return "0x" + value.hex()


def bytes32_from_hex(value: str) -> bytes:
    """Decode a lowercase ``0x``-prefixed 32-byte hex string."""
    if not HEX32_RE.fullmatch(value):
        raise ValueError("expected 0x followed by 64 lowercase hex digits")
    return bytes.fromhex(value[2:])


def to_checksum_address(address: str) -> str:
    """EIP-55 mixed-case checksum form of a 20-byte hex address."""
    if not _ADDRESS_RE.fullmatch(address):
        raise ValueError("expected 0x followed by 40 hex digits")
    lower = address[2:].lower()
    digest = keccak256(lower.encode("ascii")).hex()
    return "0x" + "".join(
        c.upper() if c.isalpha() and int(digest[i], 16) >= 8 else c for i, c in enumerate(lower)
    )


def is_checksum_address(address: str) -> bool:
    """True if ``address`` is a 20-byte hex address in exact EIP-55 checksum form."""
    return bool(_ADDRESS_RE.fullmatch(address)) and to_checksum_address(address) == address
