"""Sm3Merkle: SM3 (GB/T 32905) and the SM3 batch tree of "ereg/1-sm", and the DocumentRegistry
accepting SM3 proofs where it accepts keccak ones.

The reference is the SM3 of the ``cryptography`` package; the tree below follows the keccak
tree's rules (documents/merkle.py) with SM3 in place of keccak256.
"""

from __future__ import annotations

import os
import random
from collections.abc import Sequence

import pytest
from cryptography.hazmat.primitives import hashes
from web3.contract import Contract

from chain.types import Action, State, StatusChange, type_id
from documents.merkle import MerkleTree
from tests.factories import BUSINESS_LICENSE, SAMR, World, expect_revert


def sm3(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


def sm3_leaf(target: bytes) -> bytes:
    return sm3(b"\x00" + target)


def sm3_pair(a: bytes, b: bytes) -> bytes:
    return sm3(a + b if a < b else b + a)


class Sm3Tree:
    """The batch tree with SM3: leaves in batch order, sorted pairs, an odd last node promoted."""

    def __init__(self, targets: Sequence[bytes]) -> None:
        level = [sm3_leaf(t) for t in targets]
        self.levels = [level]
        while len(level) > 1:
            pairs = [sm3_pair(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            level = pairs + ([level[-1]] if len(level) % 2 else [])
            self.levels.append(level)
        self.root = level[0]

    def proof(self, index: int) -> list[bytes]:
        proof = []
        for level in self.levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                proof.append(level[sibling])
            index //= 2
        return proof


def process(leaf: bytes, proof: Sequence[bytes]) -> bytes:
    node = leaf
    for element in proof:
        node = sm3_pair(node, element)
    return node


def sm3_merkle(world: World) -> Contract:
    return world.client.contract("Sm3Merkle", world.registry.sm3_merkle_address())


def targets(count: int) -> list[bytes]:
    return [os.urandom(32) for _ in range(count)]


# ------------------------------------------------------------------------------------- SM3


def test_standard_vectors(world: World) -> None:
    fn = sm3_merkle(world).functions.sm3
    abc = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    abcd = "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    assert fn(b"abc").call().hex() == abc == sm3(b"abc").hex()
    assert fn(b"abcd" * 16).call().hex() == abcd == sm3(b"abcd" * 16).hex()
    assert fn(b"").call() == sm3(b"")


def test_every_length_of_one_and_two_blocks_and_some_longer(world: World) -> None:
    """Padding in every position: lengths 0..130 (three blocks), and a few up to 1,000 bytes."""
    fn = sm3_merkle(world).functions.sm3
    rng = random.Random(32905)
    lengths = [*range(131), *rng.sample(range(131, 1001), 5), 1000]
    wrong = [n for n in lengths if fn(data := os.urandom(n)).call() != sm3(data)]
    assert wrong == []


# ---------------------------------------------------------------------------------- proofs


@pytest.mark.parametrize("size", [1, 2, 3, 7, 1000])
def test_verify_accepts_proofs_of_python_trees(world: World, size: int) -> None:
    verify = sm3_merkle(world).functions.verify
    batch = targets(size)
    tree = Sm3Tree(batch)
    indexes = sorted({0, size - 1, size // 2, *random.sample(range(size), min(size, 3))})
    for i in indexes:
        proof = tree.proof(i)
        assert process(sm3_leaf(batch[i]), proof) == tree.root
        assert verify(proof, tree.root, batch[i]).call(), (size, i)
    if size == 1:
        assert tree.root == sm3_leaf(batch[0]) and tree.proof(0) == []
    if size == 1000:
        assert len(tree.proof(0)) == 10


def test_verify_rejects_wrong_target_sibling_and_root(world: World) -> None:
    verify = sm3_merkle(world).functions.verify
    batch = targets(7)
    tree = Sm3Tree(batch)
    proof = tree.proof(2)
    assert verify(proof, tree.root, batch[2]).call()
    assert not verify(proof, tree.root, batch[3]).call()  # another document's target
    assert not verify(proof, tree.root, os.urandom(32)).call()
    for i in range(len(proof)):
        bad = list(proof)
        bad[i] = os.urandom(32)
        assert not verify(bad, tree.root, batch[2]).call()
    assert not verify(proof[:-1], tree.root, batch[2]).call()  # a proof too short
    assert not verify([*proof, os.urandom(32)], tree.root, batch[2]).call()
    assert not verify(proof, os.urandom(32), batch[2]).call()
    # A keccak proof is no SM3 proof.
    keccak_tree = MerkleTree(batch)
    assert not verify(keccak_tree.proof(2), keccak_tree.root, batch[2]).call()


# ------------------------------------------------------------------ status changes (ereg/1-sm)


def anchor_sm3_batch(world: World, size: int) -> tuple[Sm3Tree, list[bytes]]:
    batch = targets(size)
    tree = Sm3Tree(batch)
    world.registry.anchor(world.sender(world.samr_key), tree.root, type_id(BUSINESS_LICENSE), size)
    return tree, batch


def test_revoke_one_document_of_an_sm3_batch(world: World) -> None:
    tree, batch = anchor_sm3_batch(world, 1000)
    registry, sender = world.registry, world.sender(world.samr_key)
    wrong = StatusChange(Action.REVOKE, tree.root, batch[7], tree.proof(8), reason=1)
    expect_revert(
        lambda: registry.change_status(sender, wrong),
        "DocumentRegistryInvalidProof",
        root=tree.root,
        targetHash=batch[7],
    )
    registry.change_status(sender, StatusChange(Action.REVOKE, tree.root, batch[7], tree.proof(7), reason=1))
    status = registry.document_status(SAMR, tree.root, batch[7])
    assert status.document.state == State.REVOKED
    assert status.effective_state == State.REVOKED
    assert registry.document_status(SAMR, tree.root, batch[8]).effective_state == State.ACTIVE


def test_signed_suspension_and_supersede_to_an_sm3_successor(world: World) -> None:
    """The relayed path and the successor's proof (both through the same proof check)."""
    registry = world.registry
    old, old_batch = anchor_sm3_batch(world, 3)
    new, new_batch = anchor_sm3_batch(world, 2)
    suspend = StatusChange(Action.SUSPEND, old.root, old_batch[2], old.proof(2), reason=6)
    registry.change_status_signed(world.sender(world.relayer), world.sign_change(suspend))
    assert registry.document_status(SAMR, old.root, old_batch[2]).document.state == State.SUSPENDED

    def supersede(successor_proof: list[bytes]) -> StatusChange:
        return StatusChange(
            Action.SUPERSEDE, old.root, old_batch[0], old.proof(0), new.root, new_batch[1], successor_proof, 5
        )

    sender = world.sender(world.samr_key)
    expect_revert(
        lambda: registry.change_status(sender, supersede(new.proof(0))),
        "DocumentRegistryInvalidSuccessor",
        successorRoot=new.root,
        successor=new_batch[1],
    )
    registry.change_status(sender, supersede(new.proof(1)))
    status = registry.document_status(SAMR, old.root, old_batch[0])
    assert (status.document.state, status.successor) == (State.SUPERSEDED, new_batch[1])


def test_a_keccak_revocation_does_not_call_sm3(world: World) -> None:
    """ereg/1 proofs are checked first, at their old cost: far below one SM3 compression."""
    tree, batch = world.anchor_batch(1000)
    receipt = world.registry.change_status(
        world.sender(world.samr_key), StatusChange(Action.REVOKE, tree.root, batch[5], tree.proof(5), reason=2)
    )
    assert receipt.gas_used < 100_000, receipt.gas_used
    sm3_tree, sm3_batch = anchor_sm3_batch(world, 1000)
    sm3_receipt = world.registry.change_status(
        world.sender(world.samr_key),
        StatusChange(Action.REVOKE, sm3_tree.root, sm3_batch[5], sm3_tree.proof(5), reason=2),
    )
    assert sm3_receipt.gas_used > receipt.gas_used + 10 * 40_000, sm3_receipt.gas_used
