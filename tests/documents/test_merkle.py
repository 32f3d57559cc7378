from __future__ import annotations

import os

import pytest
from Crypto.Hash import keccak as pycryptodome_keccak

from documents import MerkleTree, leaf_hash, merkle_root, process_proof, verify_proof


def _k(data: bytes) -> bytes:
    return pycryptodome_keccak.new(digest_bits=256, data=data).digest()


def naive_root(targets: list[bytes]) -> bytes:
    """Independent reference: recursive, list-based, standard-library hashing object."""
    level = [_k(b"\x00" + t) for t in targets]
    while len(level) > 1:
        nxt = []
        for i in range(0, len(level) - 1, 2):
            a, b = sorted((level[i], level[i + 1]))
            nxt.append(_k(a + b))
        if len(level) % 2 == 1:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def test_leaf_rule() -> None:
    t = bytes(range(32))
    assert leaf_hash(t) == _k(b"\x00" + t)
    with pytest.raises(ValueError, match="32 bytes"):
        leaf_hash(b"\x00" * 31)


def test_batch_of_one() -> None:
    t = os.urandom(32)
    tree = MerkleTree([t])
    assert tree.root == leaf_hash(t)
    assert tree.proof(0) == []
    assert verify_proof(leaf_hash(t), [], tree.root)


def test_three_leaves_odd_node_promoted() -> None:
    targets = [os.urandom(32) for _ in range(3)]
    leaves = [leaf_hash(t) for t in targets]
    a, b = sorted(leaves[:2])
    n01 = _k(a + b)
    c, d = sorted((n01, leaves[2]))
    tree = MerkleTree(targets)
    assert tree.root == _k(c + d)
    assert tree.proof(0) == [leaves[1], leaves[2]]
    assert tree.proof(2) == [n01]


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 33, 100])
def test_matches_naive_implementation_and_all_proofs_verify(n: int) -> None:
    targets = [os.urandom(32) for _ in range(n)]
    tree = MerkleTree(targets)
    assert tree.root == naive_root(targets) == merkle_root(targets)
    proofs = tree.all_proofs()
    hex_proofs = tree.all_proofs_hex()
    for i, t in enumerate(targets):
        assert tree.leaf(i) == leaf_hash(t)
        assert proofs[i] == tree.proof(i)
        assert hex_proofs[i] == ["0x" + p.hex() for p in proofs[i]]
        assert verify_proof(leaf_hash(t), proofs[i], tree.root)
        assert process_proof(leaf_hash(t), proofs[i]) == tree.root


def test_wrong_leaf_or_proof_fails() -> None:
    targets = [os.urandom(32) for _ in range(10)]
    tree = MerkleTree(targets)
    proof = tree.proof(3)
    assert not verify_proof(leaf_hash(os.urandom(32)), proof, tree.root)
    assert not verify_proof(targets[3], proof, tree.root)  # target hash is not the leaf
    assert not verify_proof(leaf_hash(targets[3]), proof[:-1], tree.root)
    assert not verify_proof(leaf_hash(targets[3]), [*proof[:-1], os.urandom(32)], tree.root)
    assert not verify_proof(leaf_hash(targets[3]), [b"\x00" * 31], tree.root)


def test_inner_node_cannot_pass_as_leaf() -> None:
    targets = [os.urandom(32) for _ in range(4)]
    tree = MerkleTree(targets)
    inner = tree.proof(0)[1]  # node over leaves 2 and 3
    # presenting the inner node's preimage pair as a "target hash" yields a different leaf
    assert leaf_hash(inner) not in {tree.leaf(i) for i in range(4)}


def test_errors() -> None:
    with pytest.raises(ValueError, match="at least one"):
        MerkleTree([])
    with pytest.raises(ValueError, match="32 bytes"):
        MerkleTree([b"x"])
    tree = MerkleTree([os.urandom(32)])
    with pytest.raises(IndexError):
        tree.proof(1)
    with pytest.raises(IndexError):
        tree.leaf(-1)


def test_100k_batch_builds() -> None:
    targets = [os.urandom(32) for _ in range(100_000)]
    tree = MerkleTree(targets)
    assert len(tree) == 100_000
    proofs = tree.all_proofs()
    assert len(proofs) == 100_000
    for i in (0, 1, 65_535, 65_536, 99_998, 99_999):
        assert verify_proof(leaf_hash(targets[i]), proofs[i], tree.root)
    assert len(proofs[0]) == 17
