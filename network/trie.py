"""The root hash of a Merkle-Patricia trie (Ethereum yellow paper, appendix D), built in one pass.

Only what a genesis state root needs: every key has the same length (keccak-256 of an address or of
a storage slot), so no key is a prefix of another and branch nodes never hold a value. A node whose
encoding is shorter than 32 bytes is embedded in its parent; any other is referred to by its hash.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from eth_utils.crypto import keccak

from network import rlp

#: keccak256(RLP("")): the root of the empty trie (the state root of an empty alloc).
EMPTY_TRIE_ROOT = keccak(rlp.encode(b""))

_Pair = tuple[bytes, bytes]  # (key as nibbles, one per byte; value)


def trie_root(items: Mapping[bytes, bytes]) -> bytes:
    """keccak256 of the root node of the trie holding ``items`` (keys of equal length)."""
    if not items:
        return EMPTY_TRIE_ROOT
    lengths = {len(key) for key in items}
    if len(lengths) != 1:
        raise ValueError("every key of this trie must have the same length")
    pairs = sorted((_nibbles(key), value) for key, value in items.items())
    return keccak(rlp.encode(_node(pairs, 0)))


def _nibbles(key: bytes) -> bytes:
    return bytes(n for byte in key for n in (byte >> 4, byte & 0x0F))


def _hex_prefix(nibbles: bytes, *, leaf: bool) -> bytes:
    """The compact encoding of a path: a flag nibble (leaf, odd length), then the nibbles packed."""
    flag = 2 if leaf else 0
    packed = (bytes([flag + 1]) if len(nibbles) % 2 else bytes([flag, 0])) + nibbles
    return bytes(packed[i] << 4 | packed[i + 1] for i in range(0, len(packed), 2))


def _reference(node: rlp.Item) -> rlp.Item:
    """How a parent holds a child: the node itself if its encoding is short, else its hash."""
    encoded = rlp.encode(node)
    return node if len(encoded) < 32 else keccak(encoded)


def _node(pairs: Sequence[_Pair], depth: int) -> rlp.Item:
    if len(pairs) == 1:
        key, value = pairs[0]
        return [_hex_prefix(key[depth:], leaf=True), value]
    first, last = pairs[0][0], pairs[-1][0]  # sorted: the common prefix of all is theirs
    shared = 0
    while depth + shared < len(first) and first[depth + shared] == last[depth + shared]:
        shared += 1
    if shared:
        return [_hex_prefix(first[depth : depth + shared], leaf=False), _reference(_node(pairs, depth + shared))]
    branch: list[rlp.Item] = [b""] * 17
    start = 0
    while start < len(pairs):
        nibble = pairs[start][0][depth]
        end = start
        while end < len(pairs) and pairs[end][0][depth] == nibble:
            end += 1
        branch[nibble] = _reference(_node(pairs[start:end], depth + 1))
        start = end
    return branch
