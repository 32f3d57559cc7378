"""The two cryptographic suites of a wrapped document, named by its ``version`` member.

============  ===================  ====================  ==============================
suite         field/target/Merkle  storage envelope      batch root signed by
============  ===================  ====================  ==============================
``ereg/1``    Keccak-256           AES-256-GCM (32-byte  the department's EVM key (the
                                   key)                  anchoring transaction)
``ereg/1-sm`` SM3 (GB/T 32905)     SM4-GCM (GB/T 32907,  the same, and an SM2 signature
                                   16-byte key)          (GB/T 32918) in ``proof.signature``
============  ===================  ====================  ==============================

Everything else (fields, salts, JCS, sorting, the 0x00 leaf prefix, sorted pairs, the envelope
layout ``nonce ‖ ciphertext ‖ tag``) is the same in both. A verifier reads the suite from the
document and the envelope's cipher from the key's length, and refuses a document whose suite
is not its envelope's (docs/FORMAT.md §14).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import hashing, sm3

__all__ = [
    "SM_VERSION",
    "SUITES",
    "SUITE_KECCAK",
    "SUITE_SM",
    "Suite",
    "root_message",
    "suite_named",
    "suite_of",
]

Hasher = Callable[[bytes], bytes]

SM_VERSION = "ereg/1-sm"
ROOT_MESSAGE_PREFIX = b"ereg/1-sm/batch-root"


@dataclass(frozen=True)
class Suite:
    """One suite: its version string, hash, envelope key size and associated data."""

    version: str
    name: str  # the CLI's word for it: "keccak" or "sm"
    hash: Hasher
    new_hasher: Callable[[], Hasher]
    key_bytes: int
    cipher: str
    signed: bool  # an SM2 signature over the batch root is part of the document

    @property
    def associated_data(self) -> bytes:
        return self.version.encode("ascii")


SUITE_KECCAK = Suite(
    version="ereg/1",
    name="keccak",
    hash=hashing.keccak256,
    new_hasher=hashing.new_hasher,
    key_bytes=32,
    cipher="AES-256-GCM",
    signed=False,
)
SUITE_SM = Suite(
    version=SM_VERSION,
    name="sm",
    hash=sm3.sm3,
    new_hasher=sm3.new_hasher,
    key_bytes=16,
    cipher="SM4-GCM",
    signed=True,
)
SUITES: dict[str, Suite] = {s.version: s for s in (SUITE_KECCAK, SUITE_SM)}


def suite_of(version: str) -> Suite:
    """The suite a document's ``version`` names (KeyError for any other)."""
    return SUITES[version]


def suite_named(name: str) -> Suite:
    """The suite of a CLI word (``keccak``/``default``/``ereg/1``, or ``sm``/``ereg/1-sm``)."""
    lowered = name.strip().lower()
    if lowered in ("keccak", "default", "ereg/1"):
        return SUITE_KECCAK
    if lowered in ("sm", "gm", SM_VERSION):
        return SUITE_SM
    raise ValueError(f"unknown suite {name!r}: use 'keccak' or 'sm'")


def root_message(chain_id: int, registry: str, department: bytes, root: bytes) -> bytes:
    """The message a department signs with SM2 for one batch of ``ereg/1-sm`` documents.

    ``utf8("ereg/1-sm/batch-root") ‖ uint64(chainId) ‖ registry (20 bytes) ‖ department (32) ‖
    root (32)``: a signature names the chain, the registry and the department it was made for,
    so it is never valid for another deployment or another department's anchor of the root.
    """
    if len(department) != 32 or len(root) != 32:
        raise ValueError("department and root are 32 bytes")
    reg = bytes.fromhex(registry[2:] if registry.startswith("0x") else registry)
    if len(reg) != 20:
        raise ValueError("registry is a 20-byte address")
    return ROOT_MESSAGE_PREFIX + chain_id.to_bytes(8, "big") + reg + department + root
