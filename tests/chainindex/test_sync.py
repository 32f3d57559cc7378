"""The chain index's sync against a real node, in both chain modes.

The contract's own views are the oracle: whatever the index answers about anchors, statuses and
governance must agree with what the registry answers in one call.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes

from chain.client import connect
from chain.errors import ChainUnavailable
from chain.events import EventScanner
from chain.governance import Governance
from chain.logs import RawLogScanner
from chain.sender import TransactionSender
from chain.settings import ChainSettings
from chain.types import ZERO32, Action, Role, State, StatusChange, type_id
from chain.types import StatusRecord as ChainStatusRecord
from chainindex import ChainIndex, RecordStatus, SyncResult
from devstack.hardhat import rpc
from devstack.process import free_port
from documents.merkle import MerkleTree
from tests.contracts.helpers import add_key, gov
from tests.factories import (
    BUSINESS_LICENSE,
    FOOD_LICENSE,
    NATRES,
    PROPERTY_CERTIFICATE,
    SAMR,
    TAX,
    World,
    wait_until,
)

pytestmark = pytest.mark.chain


# ----------------------------------------------------------------------------- helpers
def open_index(world: World, path: Path, **options: Any) -> ChainIndex:
    assert world.deployment.block_number is not None
    options.setdefault("chunk_size", 1_000)
    return ChainIndex(path, world.client, world.registry.address, start_block=world.deployment.block_number, **options)


def change(
    world: World, change: StatusChange, sender: TransactionSender | Governance | None = None, department: bytes = SAMR
) -> None:
    """A status change by the SAMR key (or ``sender``); by governance (the council) on ``department``'s record."""
    if isinstance(sender, Governance):
        world.registry.govern_change_status(sender, department, change)
    else:
        world.registry.change_status(sender or world.sender(world.samr_key), change)


def doc(tree: MerkleTree, targets: list[bytes], i: int, action: Action, **fields: Any) -> StatusChange:
    return StatusChange(action, tree.root, targets[i], tree.proof(i), **fields)


def new_key(world: World, department: bytes) -> LocalAccount:
    key = world.new_account()
    world.registry.add_signer_key(gov(world), department, key.address, world.now() - 3600)
    return key


def assert_record_matches(index: ChainIndex, found: RecordStatus | None, expected: ChainStatusRecord) -> None:
    """One record's status in force (and the count of voided later changes) equals the chain's."""
    assert found is not None and found.decidable
    assert found.voided == expected.voided
    status = found.current
    if status is None:
        assert expected.state == State.ACTIVE and expected.changed_at == 0
        return
    assert (status.state, status.reason, status.timestamp, status.actor) == (
        expected.state,
        expected.reason,
        expected.changed_at,
        expected.changed_by,
    )
    # the chain keeps the department key that signed (zero for governance and the PropertyRegistry);
    # the event names the key, or the contract that called
    if expected.changed_by != ZERO32:
        assert status.signer == expected.signer
    else:
        assert int(expected.signer, 16) == 0 and index.signer_key(status.signer) is None


def assert_matches_chain(
    world: World, index: ChainIndex, root: bytes, target: bytes = ZERO32, department: bytes = SAMR
) -> None:
    """The index's record and status of (department, root, target) equal the registry's documentStatus."""
    onchain = world.registry.document_status(department, root, target)
    record = index.anchor(department, root)
    assert record is not None and onchain.anchored
    assert (record.signer, record.department, record.doc_type) == (
        onchain.signer,
        onchain.department,
        onchain.doc_type,
    )
    assert (record.count, record.anchored_at) == (onchain.count, onchain.anchored_at)
    assert_record_matches(index, index.record_status(department, root), onchain.batch)
    if target != ZERO32:
        assert_record_matches(index, index.record_status(department, root, target), onchain.document)
        status = index.document_status(department, root, target)
        if status is not None and status.state == State.SUPERSEDED:
            assert status.successor == onchain.successor
        assert index.title_locked(department, root, target) == onchain.title_locked


def assert_governance_matches_chain(world: World, index: ChainIndex, signers: list[str]) -> None:
    for dept_id in world.registry.department_ids():
        onchain = world.registry.department(dept_id)
        record = index.department(dept_id)
        assert record is not None
        assert (record.name, record.credit_code, record.index, record.roles, record.active, record.registered_at) == (
            onchain.name,
            onchain.credit_code,
            onchain.index,
            onchain.roles,
            onchain.active,
            onchain.registered_at,
        )
        authorized = set(world.registry.authorized_types(dept_id))
        for name in (BUSINESS_LICENSE, PROPERTY_CERTIFICATE, FOOD_LICENSE):
            assert index.is_authorized(dept_id, type_id(name)) == (type_id(name) in authorized), (dept_id, name)
    for signer in signers:
        key = world.registry.signer_key(signer)
        indexed = index.signer_key(signer)
        assert indexed is not None
        assert (indexed.department, indexed.valid_from, indexed.valid_until) == (
            key.department,
            key.valid_from,
            key.valid_until,
        )


# ------------------------------------------------------------------------------- tests
def test_catch_up_across_more_than_a_thousand_blocks(world: World, tmp_path: Path) -> None:
    first, _ = world.anchor_batch(3)
    world.mine(2_500)
    second, _ = world.anchor_batch(5, key=world.natres_key, doc_type=PROPERTY_CERTIFICATE)
    world.mine(10)
    head = world.client.block_number()

    with open_index(world, tmp_path / "index.sqlite") as index:
        result = index.sync()
        assert isinstance(result, SyncResult)
        assert (result.from_block, result.to_block) == (world.deployment.block_number, head)
        assert not result.reorged
        assert result.applied >= 2 + 3 + 3 + 3 + 2  # anchors, departments, types, authorizations, keys
        assert result.events > result.applied  # RoleGranted of the deployment is seen and ignored
        assert index.head().block_number == head
        assert index.head().block_hash == HexBytes(world.client.w3.eth.get_block(head)["hash"]).to_0x_hex()
        assert index.head().synced_at is not None
        assert index.lag(head + 7) == 7

        assert_matches_chain(world, index, first.root)
        assert_matches_chain(world, index, second.root, department=NATRES)
        record = index.anchor(NATRES, second.root)
        assert record is not None
        assert (record.department, record.doc_type, record.count) == (NATRES, type_id(PROPERTY_CERTIFICATE), 5)
        receipt = world.client.w3.eth.get_transaction_receipt(record.tx_hash)  # type: ignore[arg-type]
        assert receipt["blockNumber"] == record.block_number
        assert index.anchor(SAMR, second.root) is None  # NATRES's record, not SAMR's
        assert index.anchor(NATRES, b"\x01" * 32) is None
        assert index.batch_status(SAMR, first.root) is None

        assert index.type_name(type_id(FOOD_LICENSE)) == FOOD_LICENSE
        assert index.type_name(b"\x02" * 32) is None
        samr = index.department(SAMR)
        assert samr is not None and samr.name == "六安市市场监督管理局" and samr.active
        tax = index.department(TAX)
        assert tax is not None and tax.roles == Role.TAX
        assert index.department(b"\x03" * 32) is None
        assert index.signer_key(world.relayer.address) is None
        assert_governance_matches_chain(world, index, [world.samr_key.address, world.natres_key.address])

        again = index.sync()
        assert again.events == 0 and again.to_block == head  # nothing new

        # Oversized ranges: the Besu-like gateway refuses > 1,000 blocks; the scan halves its chunks.
        with open_index(world, tmp_path / "wide.sqlite", chunk_size=10_000) as wide:
            assert wide.sync().to_block == head
            assert wide.snapshot() == index.snapshot()


def test_the_next_chunks_logs_and_headers_are_read_ahead(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Catching up, the node's work for the next chunk overlaps this process applying the last:
    its logs and the headers of its blocks are read on the scanner's read-ahead thread."""
    roots = []
    for _ in range(6):
        tree, _targets = world.anchor_batch(2)
        roots.append(tree.root)
        world.mine(40)
    provider: Any = world.client.w3.provider
    calls: list[tuple[str, str]] = []
    batch, single = provider.make_batch_request, provider.make_request

    def record_batch(requests: Any) -> Any:
        calls.append((threading.current_thread().name, str(requests[0][0])))
        return batch(requests)

    def record_single(method: Any, params: Any) -> Any:
        calls.append((threading.current_thread().name, str(method)))
        return single(method, params)

    monkeypatch.setattr(provider, "make_batch_request", record_batch)
    monkeypatch.setattr(provider, "make_request", record_single)
    with open_index(world, tmp_path / "index.sqlite", chunk_size=640) as index:  # ranges of 10, 20, 40 ...
        index.sync()
        for root in roots:
            assert_matches_chain(world, index, root)
    ahead = [method for thread, method in calls if thread.startswith("logs-ahead")]
    main = [method for thread, method in calls if not thread.startswith("logs-ahead")]
    assert ahead.count("eth_getLogs") >= 3 and ahead.count("eth_getBlockByNumber") >= 3
    # the first chunk is read where it is applied; every later one was read ahead
    assert main.count("eth_getLogs") == 1
    assert main.count("eth_getBlockByNumber") <= 2  # the first chunk's headers (and the reorg check)


def test_status_and_governance_changes_are_reflected(world: World, tmp_path: Path) -> None:
    index = open_index(world, tmp_path / "index.sqlite")
    revoked, _ = world.anchor_batch(2)
    tree, targets = world.anchor_batch(6)
    successors, new_targets = world.anchor_batch(2)
    index.sync()
    assert_matches_chain(world, index, tree.root, targets[0])

    change(world, StatusChange(Action.REVOKE, revoked.root, reason=1))
    change(world, doc(tree, targets, 0, Action.REVOKE, reason=2))
    change(world, doc(tree, targets, 1, Action.SUSPEND, reason=6))
    change(world, doc(tree, targets, 1, Action.REINSTATE, reason=7))
    change(world, doc(tree, targets, 2, Action.SUSPEND, reason=6))
    supersede = doc(
        tree,
        targets,
        3,
        Action.SUPERSEDE,
        successor_root=successors.root,
        successor=new_targets[0],
        successor_proof=successors.proof(0),
        reason=5,
    )
    change(world, supersede)
    change(world, StatusChange(Action.SUSPEND, successors.root, reason=4), gov(world))  # governance acts

    rotated = new_key(world, SAMR)
    world.registry.retire_signer_key(gov(world), rotated.address, world.now() + 10)
    world.registry.set_department_active(gov(world), TAX, False)
    world.registry.set_department_roles(gov(world), NATRES, Role.NATRES | Role.COURT)
    world.registry.authorize_document_type(gov(world), TAX, type_id(PROPERTY_CERTIFICATE))
    world.registry.deauthorize_document_type(gov(world), SAMR, type_id(FOOD_LICENSE))
    world.registry.register_document_type(gov(world), "court-ruling")

    index.sync()
    for root, target in [
        (revoked.root, ZERO32),
        *[(tree.root, t) for t in targets],
        (successors.root, new_targets[0]),
    ]:
        assert_matches_chain(world, index, root, target)

    whole = index.batch_status(SAMR, revoked.root)
    assert whole is not None and whole.state == State.REVOKED and (whole.department, whole.actor) == (SAMR, SAMR)
    assert whole.signer == world.samr_key.address and not whole.voided
    assert index.document_status(SAMR, revoked.root, b"\x05" * 32) is None  # the batch record decides
    assert index.document_status(SAMR, tree.root, targets[0]).state == State.REVOKED  # type: ignore[union-attr]
    reinstated = index.document_status(SAMR, tree.root, targets[1])
    assert reinstated is not None and reinstated.state == State.ACTIVE and reinstated.action == Action.REINSTATE
    history = index.status_history(SAMR, tree.root, targets[1])
    assert [(e.action, e.state, e.reason, e.voided) for e in history] == [
        (Action.SUSPEND, State.SUSPENDED, 6, False),
        (Action.REINSTATE, State.ACTIVE, 7, False),
    ]
    assert history[0].block_number < history[1].block_number
    assert index.document_status(SAMR, tree.root, targets[2]).state == State.SUSPENDED  # type: ignore[union-attr]
    superseded = index.document_status(SAMR, tree.root, targets[3])
    assert superseded is not None and superseded.state == State.SUPERSEDED
    assert (superseded.successor_root, superseded.successor) == (successors.root, new_targets[0])
    assert index.document_status(SAMR, tree.root, targets[4]) is None
    by_governance = index.batch_status(SAMR, successors.root)
    assert by_governance is not None and by_governance.state == State.SUSPENDED
    assert (by_governance.department, by_governance.actor) == (SAMR, ZERO32)
    assert by_governance.signer == world.council.address  # a suspension: the council itself, at once
    assert index.status_history(SAMR, tree.root, targets[5]) == []

    retired = index.signer_key(rotated.address)
    assert retired is not None and retired.valid_until != 0 and retired.department == SAMR
    assert retired.valid_at(retired.valid_from) and not retired.valid_at(retired.valid_until)
    assert index.signer_key(rotated.address.lower()) == retired
    assert index.department(TAX).active is False  # type: ignore[union-attr]
    assert index.department(NATRES).roles == Role.NATRES | Role.COURT  # type: ignore[union-attr]
    assert index.is_authorized(TAX, type_id(PROPERTY_CERTIFICATE))
    assert not index.is_authorized(SAMR, type_id(FOOD_LICENSE))
    assert index.type_name(type_id("court-ruling")) == "court-ruling"
    assert_governance_matches_chain(world, index, [world.samr_key.address, world.natres_key.address, rotated.address])
    index.close()


def test_fast_decoding_equals_web3_decoding(world: World) -> None:
    """The fixed-layout decoder and the generic ABI decoder agree on every registry event."""
    start = world.client.block_number() + 1
    tree, targets = world.anchor_batch(4)
    successors, new_targets = world.anchor_batch(2)
    change(world, doc(tree, targets, 0, Action.REVOKE, reason=2))
    change(world, doc(tree, targets, 1, Action.SUSPEND, reason=65_535))
    change(world, doc(tree, targets, 1, Action.REINSTATE, reason=7))
    change(
        world,
        doc(
            tree,
            targets,
            2,
            Action.SUPERSEDE,
            successor_root=successors.root,
            successor=new_targets[1],
            successor_proof=successors.proof(1),
            reason=5,
        ),
    )
    change(world, StatusChange(Action.REVOKE, tree.root, reason=3), gov(world))
    world.registry.change_status_signed(
        world.sender(world.relayer), world.sign_change(StatusChange(Action.SUSPEND, successors.root, reason=1))
    )
    new_key(world, NATRES)
    end = world.client.block_number()

    fast = RawLogScanner(world.client, world.registry.artifact, world.registry.address, 1_000)
    generic = EventScanner(world.client, world.registry.artifact, world.registry.address, chunk_size=1_000)
    ours = list(fast.scan(start, end))
    theirs = list(generic.scan(start, end))
    assert len(ours) == len(theirs) == 10
    assert {e.name for e in ours} >= {
        "BatchAnchored",
        "DocumentRevoked",
        "DocumentSuspended",
        "DocumentReinstated",
        "DocumentSuperseded",
        "NonceUsed",
        "SignerKeyAdded",
    }
    assert ours == theirs

    unknown = {
        "topics": ["0x" + "ab" * 32],
        "data": "0x",
        "blockNumber": "0x5",
        "logIndex": "0x0",
        "blockHash": "0x" + "11" * 32,
        "transactionHash": "0x" + "22" * 32,
        "address": world.registry.address,
    }
    event = fast.decode(unknown)
    assert event.name == "" and event.block_number == 5


def test_restart_mid_catch_up(world: World, tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    roots = []
    for i in range(3):
        tree, targets = world.anchor_batch(2)
        roots.append(tree.root)
        if i == 1:
            change(world, doc(tree, targets, 0, Action.SUSPEND, reason=6))
            world.registry.set_department_active(gov(world), TAX, False)
        world.mine(1_200)
    head = world.client.block_number()

    first = open_index(world, path)
    partial = first.sync(max_blocks=1_500)
    assert partial.to_block == world.deployment.block_number + 1_500 - 1  # type: ignore[operator]
    assert first.head().block_number == partial.to_block < head
    assert first.anchor(SAMR, roots[0]) is not None and first.anchor(SAMR, roots[2]) is None
    first.close()
    del first

    class Crashing(ChainIndex):
        """Dies while applying its second chunk, as a process killed mid catch-up would."""

        calls = 0

        def _apply_chunk(self, *args: Any, **kwargs: Any) -> int:
            Crashing.calls += 1
            if Crashing.calls == 2:
                raise RuntimeError("killed")
            return super()._apply_chunk(*args, **kwargs)

    crashing = Crashing(
        path, world.client, world.registry.address, start_block=world.deployment.block_number or 0, chunk_size=1_000
    )
    with pytest.raises(RuntimeError, match="killed"):
        crashing.sync()
    resumed_at = crashing.head().block_number
    assert partial.to_block < resumed_at < head  # the first chunk committed, the second did not
    crashing.close()

    with open_index(world, path) as second:
        rest = second.sync()
        assert rest.from_block == resumed_at + 1 and rest.to_block == head
        with open_index(world, tmp_path / "fresh.sqlite") as fresh:
            fresh.sync()
            assert second.snapshot() == fresh.snapshot()
            assert len(fresh.snapshot()["anchors"]) == 3


def test_rebuild_equals_live(world: World, tmp_path: Path) -> None:
    live = open_index(world, tmp_path / "live.sqlite")
    live.sync()
    tree, targets = world.anchor_batch(4)
    live.sync()
    change(world, doc(tree, targets, 1, Action.SUSPEND, reason=6))
    key = new_key(world, NATRES)
    live.sync()
    world.mine(1_100)
    other, _ = world.anchor_batch(2, key=key, doc_type=PROPERTY_CERTIFICATE)
    change(world, doc(tree, targets, 1, Action.REVOKE, reason=2))
    world.registry.set_department_active(gov(world), NATRES, False)
    live.sync(max_blocks=600)
    live.sync()
    snapshot = live.snapshot()
    assert any(a["root"] == "0x" + other.root.hex() for a in snapshot["anchors"])

    with open_index(world, tmp_path / "rebuilt.sqlite") as rebuilt:
        rebuilt.rebuild()
        assert rebuilt.snapshot() == snapshot
    result = live.rebuild()
    assert result.from_block == world.deployment.block_number
    assert live.snapshot() == snapshot
    live.close()


def test_confirmation_depth(world: World, tmp_path: Path) -> None:
    with open_index(world, tmp_path / "index.sqlite", confirmations=3) as index:
        tree, _ = world.anchor_batch(2)
        anchored_in = world.client.block_number()
        index.sync()
        assert index.anchor(SAMR, tree.root) is None
        assert index.head().block_number == anchored_in - 3
        world.mine(2)
        index.sync()
        assert index.anchor(SAMR, tree.root) is None
        world.mine(1)
        index.sync()
        assert index.anchor(SAMR, tree.root) is not None
        assert index.head().block_number == anchored_in


def test_reorg_is_followed(world: World, tmp_path: Path) -> None:
    url = world.node.rpc_url
    with open_index(world, tmp_path / "index.sqlite") as index:
        index.sync()
        before = index.snapshot()
        fork = rpc(url, "evm_snapshot")
        try:
            lost, _ = world.anchor_batch(2)
            lost_key = new_key(world, SAMR)
            world.registry.set_department_active(gov(world), TAX, False)
            index.sync()
            assert index.anchor(SAMR, lost.root) is not None
            assert index.signer_key(lost_key.address) is not None
            assert index.department(TAX).active is False  # type: ignore[union-attr]
            height = world.client.block_number()
        finally:
            rpc(url, "evm_revert", [fork])
            world.reset_local_state()
        kept, _ = world.anchor_batch(3)
        world.mine(5)
        assert world.client.block_number() > height

        result = index.sync()
        assert result.reorged
        assert index.anchor(SAMR, lost.root) is None
        assert index.anchor(SAMR, kept.root) is not None
        assert index.signer_key(lost_key.address) is None
        assert index.department(TAX).active is True  # type: ignore[union-attr]
        assert_matches_chain(world, index, kept.root)
        with open_index(world, tmp_path / "fresh.sqlite") as fresh:
            fresh.sync()
            assert index.snapshot() == fresh.snapshot()
        assert index.snapshot()["governance_events"] == before["governance_events"]
        assert not index.sync().reorged


def test_no_indexed_block_left_on_the_chain_rebuilds(world: World, tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    with open_index(world, path) as index:
        world.anchor_batch(2)
        index.sync()
        expected = index.snapshot()
    forged = sqlite3.connect(path)
    with forged:
        forged.execute("UPDATE block_hashes SET hash = '0x' || substr(hash, 5) || 'ff'")
        forged.execute("UPDATE cursor SET block_hash = '0x' || substr(block_hash, 5) || 'ff'")
    forged.close()
    with open_index(world, path) as index:
        result = index.sync()
        assert result.reorged and result.from_block == world.deployment.block_number
        assert index.snapshot() == expected


def test_schema_mismatch_rebuilds(world: World, tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    with open_index(world, path) as index:
        world.anchor_batch(2)
        index.sync()
        expected = index.snapshot()
        with ChainIndex(path, None, world.registry.address, start_block=index.start_block) as worker:
            assert worker.snapshot() == expected  # another worker's reader on the same file keeps it
    old = sqlite3.connect(path)
    with old:
        old.execute("UPDATE meta SET value = '0' WHERE key = 'schema_version'")
    old.close()
    with open_index(world, path) as index:
        assert index.snapshot()["anchors"] == []
        assert index.head().block_number == (world.deployment.block_number or 0) - 1
        index.sync()
        assert index.snapshot() == expected
    later = (world.deployment.block_number or 0) + 5
    with ChainIndex(path, world.client, world.registry.address, start_block=later) as moved:
        assert moved.head().block_number == later - 1
        assert moved.snapshot()["anchors"] == []


def test_chain_down(world: World, tmp_path: Path) -> None:
    settings = ChainSettings(rpc_url=f"http://127.0.0.1:{free_port()}", chain_id=world.chain_id, request_timeout=1.0)
    down = connect(settings, check_chain=False)
    with ChainIndex(tmp_path / "index.sqlite", down, world.registry.address, start_block=0) as index:
        with pytest.raises(ChainUnavailable):
            index.sync()
        stop = threading.Event()
        follower = threading.Thread(target=index.follow, args=(stop,), kwargs={"interval": 0.02}, daemon=True)
        follower.start()
        try:
            assert wait_until(lambda: index.failures >= 3, timeout=20)
            assert follower.is_alive()
            assert isinstance(index.last_error, ChainUnavailable)
            assert index.head().synced_at is None
        finally:
            stop.set()
            follower.join(timeout=10)
        assert not follower.is_alive()
    readonly = ChainIndex(tmp_path / "readonly.sqlite", None, world.registry.address, start_block=0)
    with readonly, pytest.raises(ChainUnavailable):
        readonly.sync()


def test_follower_and_concurrent_readers(world: World, tmp_path: Path) -> None:
    index = open_index(world, tmp_path / "index.sqlite")
    tree, targets = world.anchor_batch(4)
    index.sync()
    stop = threading.Event()
    follower = threading.Thread(target=index.follow, args=(stop,), kwargs={"interval": 0.02}, daemon=True)
    lookups = [0] * 4
    failures: list[BaseException] = []

    def read(slot: int) -> None:
        try:
            while not stop.is_set():
                record = index.anchor(SAMR, tree.root)
                assert record is not None and record.count == 4
                index.document_status(SAMR, tree.root, targets[slot % 4])
                index.signer_key(world.samr_key.address)
                lookups[slot] += 1
        except BaseException as exc:  # noqa: BLE001 - reported to the test thread below
            failures.append(exc)

    readers = [threading.Thread(target=read, args=(i,), daemon=True) for i in range(4)]
    follower.start()
    for reader in readers:
        reader.start()
    try:
        change(world, doc(tree, targets, 2, Action.REVOKE, reason=1))
        later, _ = world.anchor_batch(2)
        assert wait_until(lambda: index.anchor(SAMR, later.root) is not None, timeout=20)
        revoked = index.document_status(SAMR, tree.root, targets[2])
        assert revoked is not None and revoked.state == State.REVOKED
        time.sleep(0.2)
    finally:
        stop.set()
        follower.join(timeout=10)
        for reader in readers:
            reader.join(timeout=10)
    assert not failures, failures
    assert all(count > 0 for count in lookups)
    assert index.last_error is None
    index.close()
    with pytest.raises(RuntimeError):
        index.head()


def test_records_belong_to_their_department(world: World, tmp_path: Path) -> None:
    """The same root anchored by NATRES (first) and by SAMR: two records, each with its own
    status; neither blocks nor claims the other."""
    targets = [os.urandom(32) for _ in range(3)]
    tree = MerkleTree(targets)
    world.registry.anchor(world.sender(world.natres_key), tree.root, type_id(PROPERTY_CERTIFICATE), 3)
    world.registry.anchor(world.sender(world.samr_key), tree.root, type_id(BUSINESS_LICENSE), 3)
    change(world, doc(tree, targets, 0, Action.REVOKE, reason=2))  # SAMR's record only
    change(world, doc(tree, targets, 1, Action.SUSPEND, reason=6), world.sender(world.natres_key))
    with open_index(world, tmp_path / "index.sqlite") as index:
        index.sync()
        natres, samr = index.anchors_of_root(tree.root)
        assert (natres.department, natres.doc_type) == (NATRES, type_id(PROPERTY_CERTIFICATE))
        assert (samr.department, samr.doc_type, samr.signer) == (
            SAMR,
            type_id(BUSINESS_LICENSE),
            world.samr_key.address,
        )
        assert index.anchor(SAMR, tree.root) == samr and index.anchor(NATRES, tree.root) == natres
        assert index.anchor(TAX, tree.root) is None
        revoked = index.document_status(SAMR, tree.root, targets[0])
        assert revoked is not None and revoked.state == State.REVOKED
        assert index.document_status(NATRES, tree.root, targets[0]) is None
        suspended = index.document_status(NATRES, tree.root, targets[1])
        assert suspended is not None and (suspended.state, suspended.actor) == (State.SUSPENDED, NATRES)
        assert index.document_status(SAMR, tree.root, targets[1]) is None
        for department in (SAMR, NATRES):
            for target in targets:
                assert_matches_chain(world, index, tree.root, target, department=department)


def test_backdated_retirement_voids_the_stolen_keys_changes(world: World, tmp_path: Path) -> None:
    """A key is stolen at t: what it changed since stops counting once the council retires it
    backdated to t (the change before is in force again), and its anchors since are voided: the
    department anchors such a root again, a fresh record with a fresh history."""
    stolen = add_key(world, SAMR)
    tree, targets = world.anchor_batch(4, key=stolen)  # genuine, before the theft
    change(world, doc(tree, targets, 1, Action.SUSPEND, reason=6), world.sender(stolen))  # genuine too
    compromised_at = world.moment()
    thief = world.sender(stolen)
    change(world, doc(tree, targets, 0, Action.REVOKE, reason=1), thief)
    change(world, doc(tree, targets, 1, Action.REINSTATE, reason=7), thief)
    change(world, doc(tree, targets, 1, Action.REVOKE, reason=1), thief)
    change(world, doc(tree, targets, 2, Action.SUSPEND, reason=4), gov(world))  # governance: always counts
    planted, planted_targets = world.anchor_batch(2, key=stolen)  # the thief's own anchor
    change(world, doc(planted, planted_targets, 0, Action.SUSPEND, reason=6), thief)

    index = open_index(world, tmp_path / "index.sqlite")
    index.sync()
    revoked = index.document_status(SAMR, tree.root, targets[0])
    assert revoked is not None and revoked.state == State.REVOKED  # the theft is not known yet
    assert index.document_status(SAMR, tree.root, targets[1]).state == State.REVOKED  # type: ignore[union-attr]

    world.registry.retire_signer_key(gov(world), stolen.address, compromised_at)  # through the time lock
    index.sync()
    key = index.signer_key(stolen.address)
    assert key is not None and key.valid_until == compromised_at
    assert index.document_status(SAMR, tree.root, targets[0]) is None  # active again
    status = index.record_status(SAMR, tree.root, targets[0])
    assert status is not None and status.voided == 1 and status.state == State.ACTIVE
    back = index.document_status(SAMR, tree.root, targets[1])
    assert back is not None and (back.state, back.reason, back.signer) == (State.SUSPENDED, 6, stolen.address)
    assert [(e.action, e.voided) for e in index.status_history(SAMR, tree.root, targets[1])] == [
        (Action.SUSPEND, False),
        (Action.REINSTATE, True),
        (Action.REVOKE, True),
    ]
    governed = index.document_status(SAMR, tree.root, targets[2])
    assert governed is not None and governed.state == State.SUSPENDED and governed.actor == ZERO32
    for target in targets:
        assert_matches_chain(world, index, tree.root, target)

    # the planted anchor's key was outside its window: SAMR anchors the root again, fresh
    assert not key.valid_at(index.anchor(SAMR, planted.root).anchored_at)  # type: ignore[union-attr]
    world.registry.anchor(world.sender(world.samr_key), planted.root, type_id(BUSINESS_LICENSE), 2)
    index.sync()
    record = index.anchor(SAMR, planted.root)
    assert record is not None and record.signer == world.samr_key.address
    assert [a.signer for a in index.anchor_history(SAMR, planted.root)] == [stolen.address, world.samr_key.address]
    assert index.status_history(SAMR, planted.root, planted_targets[0]) == []  # the old record's history stays behind
    assert_matches_chain(world, index, planted.root, planted_targets[0])
    change(world, doc(planted, planted_targets, 1, Action.SUSPEND, reason=6))
    index.sync()
    assert_matches_chain(world, index, planted.root, planted_targets[1])
    with open_index(world, tmp_path / "fresh.sqlite") as fresh:
        fresh.sync()
        assert fresh.snapshot() == index.snapshot()
    index.close()
