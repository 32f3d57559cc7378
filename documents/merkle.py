"""Batch Merkle tree over target hashes (OpenZeppelin ``MerkleProof`` compatible).

* ``leaf = keccak256(0x00 ‖ targetHash)`` — the 0x00 prefix keeps an inner node (a hash of
  64 bytes) from ever passing as a document leaf (a hash of 33 bytes);
* ``node = keccak256(min(a, b) ‖ max(a, b))`` — sorted pairs, as ``MerkleProof.processProof``;
* leaves are in batch order; at each level nodes are paired left to right and an odd last
  node is promoted unchanged to the next level (it gets no proof element at that level);
* a batch of one has ``root = leaf`` and an empty proof.

The ``ereg/1-sm`` suite builds the same tree with SM3 in place of Keccak-256 (pass
``suite=SUITE_SM``).

Levels are kept as contiguous ``bytes`` (32 bytes per node), so a 1,000,000-document tree
holds about 64 MB and any leaf's proof is read in O(log n).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from .suite import SUITE_KECCAK, Suite

__all__ = ["MerkleTree", "hash_pair", "leaf_hash", "merkle_root", "process_proof", "verify_proof"]

_LEAF_PREFIX = b"\x00"
T = TypeVar("T")


def leaf_hash(target_hash: bytes, suite: Suite = SUITE_KECCAK) -> bytes:
    """The Merkle leaf of a document: ``H(0x00 ‖ targetHash)``.

    The same rule is used by the contract for single-document revocation.
    """
    if len(target_hash) != 32:
        raise ValueError("target hash must be 32 bytes")
    return suite.hash(_LEAF_PREFIX + target_hash)


def hash_pair(a: bytes, b: bytes, suite: Suite = SUITE_KECCAK) -> bytes:
    """``H(min(a, b) ‖ max(a, b))``."""
    return suite.hash(a + b if a < b else b + a)


def process_proof(leaf: bytes, proof: Sequence[bytes], suite: Suite = SUITE_KECCAK) -> bytes:
    """Fold ``proof`` into ``leaf`` like OpenZeppelin ``MerkleProof.processProof``."""
    h = suite.new_hasher()
    computed = leaf
    for element in proof:
        computed = h(computed + element if computed < element else element + computed)
    return computed


def verify_proof(leaf: bytes, proof: Sequence[bytes], root: bytes, suite: Suite = SUITE_KECCAK) -> bool:
    """True if ``proof`` leads from ``leaf`` to ``root``."""
    if len(leaf) != 32 or len(root) != 32 or any(len(p) != 32 for p in proof):
        return False
    return process_proof(leaf, proof, suite) == root


class MerkleTree:
    """A Merkle tree over a batch of target hashes (in batch order)."""

    __slots__ = ("_count", "_levels")

    def __init__(self, target_hashes: Sequence[bytes], suite: Suite = SUITE_KECCAK) -> None:
        n = len(target_hashes)
        if n == 0:
            raise ValueError("a batch needs at least one document")
        h = suite.new_hasher()
        prefix = _LEAF_PREFIX
        for t in target_hashes:
            if len(t) != 32:
                raise ValueError("every target hash must be 32 bytes")
        level = [h(prefix + t) for t in target_hashes]
        levels = [b"".join(level)]
        while len(level) > 1:
            it = iter(level)
            nxt = [h(a + b if a < b else b + a) for a, b in zip(it, it, strict=False)]
            if len(level) % 2:
                nxt.append(level[-1])
            level = nxt
            levels.append(b"".join(level))
        self._levels = levels
        self._count = n

    def __len__(self) -> int:
        return self._count

    @property
    def root(self) -> bytes:
        """The Merkle root (32 bytes)."""
        return self._levels[-1]

    def leaf(self, index: int) -> bytes:
        """The leaf hash of document ``index``."""
        if not 0 <= index < self._count:
            raise IndexError(index)
        return self._levels[0][32 * index : 32 * index + 32]

    def proof(self, index: int) -> list[bytes]:
        """Sibling hashes from leaf ``index`` up to the root."""
        if not 0 <= index < self._count:
            raise IndexError(index)
        out: list[bytes] = []
        i = index
        for level in self._levels[:-1]:
            sibling = i ^ 1
            if 32 * sibling < len(level):
                out.append(level[32 * sibling : 32 * sibling + 32])
            i >>= 1
        return out


    def all_proofs(self) -> list[list[bytes]]:
        """Proofs of every leaf, in batch order (O(n log n), shared node objects)."""
        return self._all_proofs(bytes)

    def all_proofs_hex(self) -> list[list[str]]:
        """Proofs of every leaf as lowercase 0x-hex strings, in batch order."""
        return self._all_proofs(lambda node: "0x" + node.hex())

    def _all_proofs(self, encode: Callable[[bytes], T]) -> list[list[T]]:
        suffixes: list[list[T]] = [[]]  # proof suffix of each node, from the root down
        for blob in reversed(self._levels[:-1]):
            nodes = [encode(blob[k : k + 32]) for k in range(0, len(blob), 32)]
            m = len(nodes)
            new: list[list[T]] = []
            append = new.append
            for j in range(m):
                up = suffixes[j >> 1]
                sibling = j ^ 1
                append([nodes[sibling], *up] if sibling < m else list(up))
            suffixes = new
        return suffixes


def merkle_root(target_hashes: Sequence[bytes], suite: Suite = SUITE_KECCAK) -> bytes:
    """Root of the batch tree over ``target_hashes``."""
    return MerkleTree(target_hashes, suite).root
