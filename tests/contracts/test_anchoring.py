"""Anchoring batch roots: direct (the key sends), relayed (anchorSigned) and anchorMany.

The behaviour shared by all three paths runs once per path; signature handling and batching
are tested on the relayed paths only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from chain.sender import Receipt
from chain.types import ZERO32, Action, SignedAnchor, State, StatusChange, StatusRecord, department_id, type_id
from documents.merkle import MerkleTree
from tests.contracts.helpers import add_key, block_time, events, gov, random_hash, same_address
from tests.factories import (
    BUSINESS_LICENSE,
    COUNCIL_DELAY,
    FOOD_LICENSE,
    NATRES,
    PROPERTY_CERTIFICATE,
    SAMR,
    World,
    expect_revert,
)

ACTIVE = StatusRecord(State.ACTIVE, 0, 0, ZERO32)
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@dataclass(frozen=True)
class AnchorPath:
    """One way a department key's anchor reaches the registry."""

    name: str
    send: Callable[[World, LocalAccount, bytes, str, int], Receipt]

    def anchor(
        self, world: World, key: LocalAccount, root: bytes, doc_type: str = BUSINESS_LICENSE, count: int = 1
    ) -> Receipt:
        return self.send(world, key, root, doc_type, count)


def _direct(world: World, key: LocalAccount, root: bytes, doc_type: str, count: int) -> Receipt:
    return world.registry.anchor(world.sender(key), root, type_id(doc_type), count)


def _signed(world: World, key: LocalAccount, root: bytes, doc_type: str, count: int) -> Receipt:
    signed = world.sign_anchor(root, key=key, doc_type=doc_type, count=count)
    return world.registry.anchor_signed(world.sender(world.relayer), signed)


def _many(world: World, key: LocalAccount, root: bytes, doc_type: str, count: int) -> Receipt:
    signed = world.sign_anchor(root, key=key, doc_type=doc_type, count=count)
    return world.registry.anchor_many(world.sender(world.relayer), [signed])


PATHS = [AnchorPath("direct", _direct), AnchorPath("signed", _signed), AnchorPath("many", _many)]


@pytest.fixture(params=PATHS, ids=[p.name for p in PATHS])
def path(request: pytest.FixtureRequest) -> AnchorPath:
    chosen: AnchorPath = request.param
    return chosen


Submit = Callable[[World, Sequence[SignedAnchor]], Receipt]


def _submit_signed(world: World, signed: Sequence[SignedAnchor]) -> Receipt:
    (only,) = signed
    return world.registry.anchor_signed(world.sender(world.relayer), only)


def _submit_many(world: World, signed: Sequence[SignedAnchor]) -> Receipt:
    return world.registry.anchor_many(world.sender(world.relayer), list(signed))


@pytest.fixture(params=[_submit_signed, _submit_many], ids=["signed", "many"])
def submit(request: pytest.FixtureRequest) -> Submit:
    chosen: Submit = request.param
    return chosen


# ---------------------------------------------------------------------- every path


def test_anchor_and_status_view(world: World, path: AnchorPath) -> None:
    targets = [random_hash() for _ in range(5)]
    tree = MerkleTree(targets)
    receipt = path.anchor(world, world.samr_key, tree.root, FOOD_LICENSE, 5)

    assert events(world, receipt, "BatchAnchored") == [
        {"root": tree.root, "docType": type_id(FOOD_LICENSE), "signer": world.samr_key.address, "count": 5}
    ]
    anchored_at = block_time(world, receipt)
    for target in (ZERO32, targets[0], targets[4]):
        status = world.registry.document_status(SAMR, tree.root, target)
        assert status.anchored
        assert (status.root, status.target_hash) == (tree.root, target)
        assert status.department == SAMR
        assert status.signer == world.samr_key.address
        assert status.doc_type == type_id(FOOD_LICENSE)
        assert status.count == 5
        assert status.anchored_at == anchored_at
        assert status.batch == ACTIVE
        assert status.document == ACTIVE
        assert status.successor == ZERO32
        assert not status.title_locked
        assert status.effective_state == State.ACTIVE
    # The record is SAMR's: under another department the root is not anchored.
    assert not world.registry.document_status(NATRES, tree.root).anchored


def test_anchor_by_another_department(world: World, path: AnchorPath) -> None:
    root = random_hash()
    path.anchor(world, world.natres_key, root, PROPERTY_CERTIFICATE, 2**32 - 1)
    status = world.registry.document_status(NATRES, root)
    assert (status.department, status.signer) == (NATRES, world.natres_key.address)
    assert (status.doc_type, status.count) == (type_id(PROPERTY_CERTIFICATE), 2**32 - 1)


def test_unanchored_root_view(world: World) -> None:
    root, target = random_hash(), random_hash()
    for department in (SAMR, department_id("LA-NEVER-REGISTERED")):
        status = world.registry.document_status(department, root, target)
        assert not status.anchored
        assert (status.root, status.target_hash, status.department) == (root, target, department)
        assert (status.doc_type, status.count, status.anchored_at) == (ZERO32, 0, 0)
        assert int(status.signer, 16) == 0
        assert (status.batch, status.document, status.successor) == (ACTIVE, ACTIVE, ZERO32)
        assert not status.title_locked
    with pytest.raises(ValueError, match="not anchored"):
        _ = status.effective_state


def test_invalid_root(world: World, path: AnchorPath) -> None:
    expect_revert(lambda: path.anchor(world, world.samr_key, ZERO32), "DocumentRegistryInvalidRoot")


def test_invalid_count(world: World, path: AnchorPath) -> None:
    root = random_hash()
    expect_revert(
        lambda: path.anchor(world, world.samr_key, root, count=0),
        "DocumentRegistryInvalidCount",
        root=root,
        count=0,
    )
    assert not world.registry.document_status(SAMR, root).anchored


def test_root_is_anchored_once(world: World, path: AnchorPath) -> None:
    """Once per department: neither the same key nor another key of the department anchors it again
    (another department's anchor of the same root is its own record: see test_ownership)."""
    root = random_hash()
    path.anchor(world, world.samr_key, root, count=3)
    colleague = add_key(world, SAMR)
    for key, doc_type in ((world.samr_key, BUSINESS_LICENSE), (colleague, FOOD_LICENSE)):
        expect_revert(
            lambda key=key, doc_type=doc_type: path.anchor(world, key, root, doc_type, 7),
            "DocumentRegistryRootAlreadyAnchored",
            root=root,
        )
    status = world.registry.document_status(SAMR, root)
    assert (status.signer, status.count, status.doc_type) == (world.samr_key.address, 3, type_id(BUSINESS_LICENSE))


def test_revoked_root_is_never_anchored_again(world: World, path: AnchorPath) -> None:
    root = random_hash()
    path.anchor(world, world.samr_key, root)
    world.registry.change_status(world.sender(world.samr_key), StatusChange(Action.REVOKE, root, reason=1))
    expect_revert(
        lambda: path.anchor(world, world.samr_key, root),
        "DocumentRegistryRootAlreadyAnchored",
        root=root,
    )
    assert world.registry.document_status(SAMR, root).batch.state == State.REVOKED


def test_unknown_key(world: World, path: AnchorPath) -> None:
    stranger = world.new_account()
    expect_revert(
        lambda: path.anchor(world, stranger, random_hash()),
        "IssuerRegistryUnknownSigner",
        signer=stranger.address,
    )


def test_inactive_department(world: World, path: AnchorPath) -> None:
    world.registry.set_department_active(gov(world), SAMR, False)
    expect_revert(
        lambda: path.anchor(world, world.samr_key, random_hash()),
        "IssuerRegistryDepartmentInactive",
        department=SAMR,
    )
    path.anchor(world, world.natres_key, random_hash(), PROPERTY_CERTIFICATE)


@pytest.mark.parametrize("doc_type", [PROPERTY_CERTIFICATE, "never-registered"])
def test_type_not_authorized(world: World, path: AnchorPath, doc_type: str) -> None:
    expect_revert(
        lambda: path.anchor(world, world.samr_key, random_hash(), doc_type),
        "IssuerRegistryTypeNotAuthorized",
        department=SAMR,
        docType=type_id(doc_type),
    )


def test_key_outside_its_window(world: World, path: AnchorPath) -> None:
    # Both keys are added in one proposal, which waits out the time lock (the clock moves).
    now = world.now()
    early_from = now + COUNCIL_DELAY + 3000
    expired_until = now + COUNCIL_DELAY + 60
    g = gov(world)
    with g.batch():
        early = add_key(world, SAMR, valid_from=early_from)
        expired = add_key(world, SAMR, valid_from=now - 100, valid_until=expired_until)
    assert world.now() < expired_until  # the expired key was live once
    world.increase_time(expired_until - world.now() + 60)
    after = world.now()
    for key, valid_from, valid_until in ((early, early_from, 0), (expired, now - 100, expired_until)):
        revert = expect_revert(
            lambda key=key: path.anchor(world, key, random_hash()),
            "IssuerRegistryKeyNotValid",
            signer=key.address,
            validFrom=valid_from,
            validUntil=valid_until,
        )
        assert after <= revert.arguments["at"] <= world.now() + 60


# --------------------------------------------------------------------- relayed only


def test_relayer_is_not_the_signer(world: World, submit: Submit) -> None:
    root = random_hash()
    receipt = submit(world, [world.sign_anchor(root, key=world.natres_key, doc_type=PROPERTY_CERTIFICATE)])
    assert events(world, receipt, "BatchAnchored")[0]["signer"] == world.natres_key.address
    assert world.registry.document_status(NATRES, root).signer == world.natres_key.address
    # A council member (or the deployer) may relay too; the signer is still the key.
    for relayer in (world.members[0], world.governor):
        root = random_hash()
        receipt = world.registry.anchor_signed(world.sender(relayer), world.sign_anchor(root))
        assert same_address(receipt.raw["from"], relayer.address)
        status = world.registry.document_status(SAMR, root)
        assert (status.department, status.signer) == (SAMR, world.samr_key.address)


def test_expired_signature(world: World, submit: Submit) -> None:
    deadline = world.now() - 1
    signed = world.sign_anchor(random_hash(), deadline=deadline)
    expect_revert(lambda: submit(world, [signed]), "DocumentRegistryExpiredSignature", deadline=deadline)


def test_deadline_in_the_future(world: World, submit: Submit) -> None:
    deadline = world.now() + 30
    signed = world.sign_anchor(random_hash(), deadline=deadline)
    submit(world, [signed])
    assert world.registry.document_status(SAMR, signed.root).anchored


@pytest.mark.parametrize("domain", ["chain-id", "registry"])
def test_signature_for_another_domain(world: World, submit: Submit, domain: str) -> None:
    root = random_hash()
    if domain == "chain-id":
        signed = world.sign_anchor(root, chain_id=world.chain_id + 1)
    else:
        signed = world.sign_anchor(root, registry=world.new_account().address)
    revert = expect_revert(lambda: submit(world, [signed]), "IssuerRegistryUnknownSigner")
    assert revert.arguments["signer"].lower() != world.samr_key.address.lower()
    assert not world.registry.document_status(SAMR, root).anchored


@pytest.mark.parametrize("field", ["root", "docType", "count", "deadline"])
def test_tampered_message(world: World, submit: Submit, field: str) -> None:
    signed = world.sign_anchor(random_hash(), count=2)
    changes = {
        "root": {"root": random_hash()},
        "docType": {"doc_type": type_id(FOOD_LICENSE)},
        "count": {"count": 3},
        "deadline": {"deadline": signed.deadline + 1},
    }
    tampered = replace(signed, **changes[field])
    revert = expect_revert(lambda: submit(world, [tampered]), "IssuerRegistryUnknownSigner")
    assert revert.arguments["signer"].lower() != world.samr_key.address.lower()


def _high_s(signature: bytes) -> bytes:
    """The malleable twin of a signature: s' = n - s, v flipped (still recovers the same key)."""
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    return r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])


MALFORMED: dict[str, Callable[[bytes], bytes]] = {
    "empty": lambda sig: b"",
    "64-zero-bytes": lambda sig: b"\x00" * 64,
    "65-zero-bytes": lambda sig: b"\x00" * 65,
    "short": lambda sig: sig[:64],
    "long": lambda sig: sig + b"\x00",
    "v-29": lambda sig: sig[:64] + bytes([29]),
    "v-0": lambda sig: sig[:64] + bytes([0]),
    "high-s": _high_s,
}


@pytest.mark.parametrize("kind", list(MALFORMED))
def test_malformed_signature(world: World, submit: Submit, kind: str) -> None:
    signed = world.sign_anchor(random_hash())
    broken = replace(signed, signature=MALFORMED[kind](signed.signature))
    expect_revert(lambda: submit(world, [broken]), "DocumentRegistryInvalidSignature")
    assert not world.registry.document_status(SAMR, signed.root).anchored


def test_replayed_signed_anchor(world: World, submit: Submit) -> None:
    signed = world.sign_anchor(random_hash(), count=4)
    submit(world, [signed])
    for again in (_submit_signed, _submit_many):
        expect_revert(
            lambda again=again: again(world, [signed]),
            "DocumentRegistryRootAlreadyAnchored",
            root=signed.root,
        )
    expect_revert(
        lambda: world.registry.anchor(world.sender(world.samr_key), signed.root, signed.doc_type, 4),
        "DocumentRegistryRootAlreadyAnchored",
        root=signed.root,
    )


def test_anchor_many_from_two_departments(world: World) -> None:
    signed = []
    for i in range(10):
        if i % 2:
            key, doc_type = world.natres_key, PROPERTY_CERTIFICATE
        else:
            key, doc_type = world.samr_key, BUSINESS_LICENSE
        signed.append(world.sign_anchor(random_hash(), key=key, doc_type=doc_type, count=i + 1))
    receipt = world.registry.anchor_many(world.sender(world.relayer), signed)

    anchored = events(world, receipt, "BatchAnchored")
    assert [e["root"] for e in anchored] == [s.root for s in signed]
    anchored_at = block_time(world, receipt)
    for i, item in enumerate(signed):
        key, department = (world.natres_key, NATRES) if i % 2 else (world.samr_key, SAMR)
        assert anchored[i]["signer"] == key.address
        status = world.registry.document_status(department, item.root)
        assert status.anchored
        assert (status.department, status.signer, status.doc_type) == (department, key.address, item.doc_type)
        assert (status.count, status.anchored_at) == (i + 1, anchored_at)


BadElement = Callable[[World, list[SignedAnchor]], SignedAnchor]

BAD_ELEMENTS: dict[str, tuple[BadElement, str]] = {
    "expired": (
        lambda w, good: w.sign_anchor(random_hash(), deadline=w.now() - 1),
        "DocumentRegistryExpiredSignature",
    ),
    "duplicate-root": (  # the same department again (another department would get its own record)
        lambda w, good: w.sign_anchor(good[0].root, doc_type=FOOD_LICENSE),
        "DocumentRegistryRootAlreadyAnchored",
    ),
    "type-not-authorized": (
        lambda w, good: w.sign_anchor(random_hash(), key=w.natres_key),
        "IssuerRegistryTypeNotAuthorized",
    ),
    "unknown-signer": (
        lambda w, good: w.sign_anchor(random_hash(), key=w.new_account()),
        "IssuerRegistryUnknownSigner",
    ),
    "malformed": (
        lambda w, good: replace(w.sign_anchor(random_hash()), signature=b"\x00" * 64),
        "DocumentRegistryInvalidSignature",
    ),
}


@pytest.mark.parametrize("kind", list(BAD_ELEMENTS))
def test_anchor_many_is_all_or_nothing(world: World, kind: str) -> None:
    good = [
        world.sign_anchor(random_hash()),
        world.sign_anchor(random_hash(), key=world.natres_key, doc_type=PROPERTY_CERTIFICATE),
        world.sign_anchor(random_hash(), doc_type=FOOD_LICENSE),
    ]
    make_bad, error = BAD_ELEMENTS[kind]
    batch = [*good[:2], make_bad(world, good), good[2]]
    expect_revert(lambda: world.registry.anchor_many(world.sender(world.relayer), batch), error)
    assert not any(world.registry.document_status(d, item.root).anchored for item in batch for d in (SAMR, NATRES))
    # The same good elements go through on their own.
    world.registry.anchor_many(world.sender(world.relayer), good)
    owners = (SAMR, NATRES, SAMR)
    assert all(world.registry.document_status(d, item.root).anchored for item, d in zip(good, owners, strict=True))


def test_anchor_many_reports_the_failing_element(world: World) -> None:
    good = world.sign_anchor(random_hash())
    deadline = world.now() - 5
    expired = world.sign_anchor(random_hash(), deadline=deadline)
    expect_revert(
        lambda: world.registry.anchor_many(world.sender(world.relayer), [good, expired]),
        "DocumentRegistryExpiredSignature",
        deadline=deadline,
    )
    expect_revert(
        lambda: world.registry.anchor_many(world.sender(world.relayer), [good, good]),
        "DocumentRegistryRootAlreadyAnchored",
        root=good.root,
    )


def test_anchor_many_empty(world: World) -> None:
    expect_revert(lambda: world.registry.anchor_many(world.sender(world.relayer), []), "DocumentRegistryEmptyBatch")


def test_anchored_root_matches_the_merkle_tree(world: World) -> None:
    """A batch anchored with MerkleTree.root proves each document on chain (revocation by proof)."""
    tree, targets = world.anchor_batch(5)
    assert tree.leaf(2) == keccak(b"\x00" + targets[2])
    world.registry.change_status(
        world.sender(world.samr_key),
        StatusChange(Action.REVOKE, tree.root, targets[4], tree.proof(4)),
    )
    assert world.registry.document_status(SAMR, tree.root, targets[4]).document.state == State.REVOKED
