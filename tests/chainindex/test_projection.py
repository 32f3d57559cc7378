"""The projection of decoded events to rows, and the reads over them, on in-memory SQLite.

No node: events are built by hand as the decoders of chain.logs return them, applied with
:func:`chainindex.projection.apply_events` in batches as sync applies its chunks, and read back
through :class:`chainindex.reads.IndexReads` over the same connection. The contract's rules the
index reproduces (records per department, the status in force under key windows, the chain of
title) are checked on values chosen so that each rule decides the answer.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_utils.address import to_checksum_address

from chain.events import Event
from chain.types import REASON_CORRECTED, REASON_TRANSFERRED, ZERO32, Action, Role, State, department_id, type_id
from chainindex import ChainIndex, OwnerShare, RecordStatus
from chainindex.projection import apply_events, known_signers, rollback_above
from chainindex.reads import IndexReads
from chainindex.schema import expected_meta, install

REGISTRY = to_checksum_address("0x" + "5a" * 20)
COUNCIL_LOCK = to_checksum_address("0x" + "7c" * 20)  # the time lock governance acts through
PROPERTY = to_checksum_address("0x" + "c3" * 20)

SAMR = department_id("LA-SAMR")
TAX = department_id("LA-TAX")
NATRES = department_id("LA-NATRES")
HOUSING = department_id("LA-HOUSING")
BANK = department_id("LA-BANK")
COURT = department_id("LA-COURT")
LICENCE = type_id("business-license")
FOOD = type_id("food-business-license")
SAMR_KEY = to_checksum_address("0x" + "a1" * 20)
TAX_KEY = to_checksum_address("0x" + "b2" * 20)
STOLEN_KEY = to_checksum_address("0x" + "e5" * 20)
UNKNOWN_KEY = to_checksum_address("0x" + "f6" * 20)

ROOT = b"\x01" * 32
OTHER_ROOT = b"\x02" * 32
DOC_A, DOC_B, DOC_C = b"\x0a" * 32, b"\x0b" * 32, b"\x0c" * 32
UNIT = b"\x40" * 32
TITLE_A, TITLE_A_ROOT = b"\x41" * 32, b"\x51" * 32
TITLE_B, TITLE_B_ROOT = b"\x42" * 32, b"\x52" * 32
TITLE_C, TITLE_C_ROOT = b"\x43" * 32, b"\x53" * 32
MORTGAGE_CERT, MORTGAGE_ROOT = b"\x61" * 32, b"\x71" * 32
SELLERS = [{"commitment": b"\x81" * 32, "share": 6000}, {"commitment": b"\x82" * 32, "share": 4000}]
BUYERS = [{"commitment": b"\x91" * 32, "share": 10000}]

T0 = 1_750_000_000


def time_of(block: int) -> int:
    """The block time of each block: ten seconds a block."""
    return T0 + 10 * block


class Feed:
    """Events built by hand, applied in batches (one per call) as sync applies its chunks."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.signers = known_signers(conn)
        self._logs = 0

    def event(self, kind: str, block: int, /, tx: str | None = None, **args: Any) -> Event:
        self._logs += 1
        return Event(
            name=kind,
            args=args,
            block_number=block,
            block_hash=f"0x{block:064x}",
            tx_hash=tx or f"0x{self._logs:064x}",
            log_index=self._logs,
        )

    def apply(self, *events: Event) -> int:
        applied = apply_events(
            self.conn, events, {e.block_number: time_of(e.block_number) for e in events}, self.signers
        )
        self.signers.update(applied.signers)
        return applied.count

    # ------------------------------------------------------------ the registry's events
    def department(self, block: int, dept: bytes, name: str, index: int, roles: Role = Role.NONE) -> Event:
        return self.event(
            "DepartmentRegistered", block, department=dept, index=index, name=name, creditCode=f"CC-{name}", roles=roles
        )

    def key(self, block: int, dept: bytes, signer: str, valid_from: int, valid_until: int = 0) -> Event:
        return self.event(
            "SignerKeyAdded", block, department=dept, signer=signer, validFrom=valid_from, validUntil=valid_until
        )

    def anchor(self, block: int, root: bytes, signer: str, count: int = 3, doc_type: bytes = LICENCE) -> Event:
        return self.event("BatchAnchored", block, root=root, docType=doc_type, signer=signer, count=count)

    def status(
        self,
        name: str,
        block: int,
        dept: bytes,
        root: bytes,
        target: bytes = ZERO32,
        *,
        signer: str = SAMR_KEY,
        actor: bytes | None = None,
        reason: int = 1,
        **successor: bytes,
    ) -> Event:
        return self.event(
            name,
            block,
            department=dept,
            root=root,
            targetHash=target,
            actor=dept if actor is None else actor,
            signer=signer,
            reason=reason,
            **successor,
        )

    # ---------------------------------------------------------- the property registry's
    def registered(self, block: int, unit: bytes, target: bytes, root: bytes, owners: list[dict[str, Any]]) -> Event:
        return self.event(
            "UnitRegistered", block, unitId=unit, certTarget=target, department=NATRES, certRoot=root, owners=owners
        )

    def opened(self, block: int, case: int, target: bytes, root: bytes, owners: list[dict[str, Any]]) -> Event:
        return self.event(
            "TransferOpened",
            block,
            unitId=UNIT,
            caseId=case,
            department=NATRES,
            certRoot=root,
            certTarget=target,
            owners=owners,
        )

    def mortgage(self, block: int, mortgage_id: int) -> Event:
        return self.event(
            "MortgageRegistered",
            block,
            unitId=UNIT,
            mortgageId=mortgage_id,
            bank=BANK,
            certRoot=MORTGAGE_ROOT,
            certTarget=MORTGAGE_CERT,
        )

    def finalized(
        self, block: int, case: int, approver: bytes, new: tuple[bytes, bytes], old: tuple[bytes, bytes]
    ) -> list[Event]:
        """The last approval and the finalization it triggers, in one transaction."""
        tx = f"0x{'fe' * 31}{case:02x}"
        return [
            self.event(
                "TransferApproved", block, tx=tx, unitId=UNIT, caseId=case, department=approver, round=1, roles=4
            ),
            self.event(
                "TransferFinalized",
                block,
                tx=tx,
                unitId=UNIT,
                caseId=case,
                certTarget=new[0],
                certRoot=new[1],
                previousTarget=old[0],
                previousRoot=old[1],
                round=1,
            ),
        ]


@pytest.fixture
def conn() -> Iterator[sqlite3.Connection]:
    """An empty index in memory, its schema as ChainIndex creates it."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    install(conn, expected_meta(REGISTRY, PROPERTY, 1), 1)
    yield conn
    conn.close()


@pytest.fixture
def reads(conn: sqlite3.Connection) -> IndexReads:
    return IndexReads(conn)


@pytest.fixture
def feed(conn: sqlite3.Connection) -> Feed:
    """Two departments with one key each (valid from block 0's time on) and a document type."""
    feed = Feed(conn)
    applied = feed.apply(
        feed.department(1, SAMR, "市场监督管理局", 0),
        feed.department(1, TAX, "税务局", 1, Role.TAX),
        feed.key(1, SAMR, SAMR_KEY, time_of(0)),
        feed.key(1, TAX, TAX_KEY, time_of(0)),
        feed.event("DocumentTypeRegistered", 1, docType=LICENCE, index=0, name="business-license"),
        feed.event("DocumentTypeAuthorized", 1, department=SAMR, docType=LICENCE),
        feed.event("DocumentTypeAuthorized", 1, department=TAX, docType=LICENCE),
    )
    assert applied == 7
    return feed


def test_a_fresh_schema_is_empty_with_its_cursor_below_the_start(reads: IndexReads) -> None:
    assert reads.head() == (0, None, None)
    snapshot = reads.snapshot()
    assert snapshot["cursor"] == {"block_number": 0, "block_hash": None}
    assert all(rows == [] for table, rows in snapshot.items() if table != "cursor")


# ------------------------------------------------------------------------------ anchors
def test_two_departments_anchoring_one_root_are_two_records(feed: Feed, reads: IndexReads) -> None:
    assert feed.apply(feed.anchor(10, ROOT, SAMR_KEY, count=4), feed.anchor(11, ROOT, TAX_KEY, count=2)) == 2
    samr, tax = reads.anchor(SAMR, ROOT), reads.anchor(TAX, ROOT)
    assert samr is not None and tax is not None
    assert (samr.department, samr.signer, samr.count, samr.anchored_at, samr.block_number) == (
        SAMR,
        SAMR_KEY,
        4,
        time_of(10),
        10,
    )
    assert (tax.department, tax.signer, tax.count, tax.block_number) == (TAX, TAX_KEY, 2, 11)
    assert samr.doc_type == tax.doc_type == LICENCE
    assert reads.anchors_of_root(ROOT) == [samr, tax]
    assert reads.anchor(NATRES, ROOT) is None and reads.anchors_of_root(OTHER_ROOT) == []
    # a status change of one department's record leaves the other's alone
    feed.apply(feed.status("DocumentRevoked", 12, TAX, ROOT, signer=TAX_KEY, reason=5))
    revoked = reads.record_status(TAX, ROOT)
    assert revoked is not None and revoked.current is not None
    assert (revoked.state, revoked.current.department, revoked.current.signer) == (State.REVOKED, TAX, TAX_KEY)
    assert reads.record_status(SAMR, ROOT) == RecordStatus(None)


def test_an_anchor_by_a_key_of_the_same_batch_gets_its_department(feed: Feed, reads: IndexReads) -> None:
    """SignerKeyAdded and the key's first anchor in one batch; a key added before the start block: zero."""
    new_key = to_checksum_address("0x" + "c7" * 20)
    feed.apply(feed.key(10, TAX, new_key, time_of(0)), feed.anchor(10, ROOT, new_key))
    assert feed.signers[new_key.lower()] == TAX
    assert reads.anchor(TAX, ROOT).signer == new_key  # type: ignore[union-attr]
    feed.apply(feed.anchor(11, OTHER_ROOT, UNKNOWN_KEY))
    (unknown,) = reads.anchors_of_root(OTHER_ROOT)
    assert unknown.department == ZERO32 and reads.anchor(ZERO32, OTHER_ROOT) == unknown


def test_a_re_anchor_is_a_fresh_record(feed: Feed, reads: IndexReads) -> None:
    """Only the changes made after the latest anchor count; the history keeps both anchors."""
    feed.apply(feed.anchor(10, ROOT, SAMR_KEY, count=3))
    feed.apply(feed.status("DocumentRevoked", 11, SAMR, ROOT, reason=2))
    assert reads.batch_status(SAMR, ROOT).state == State.REVOKED  # type: ignore[union-attr]
    feed.apply(feed.anchor(12, ROOT, SAMR_KEY, count=5))
    latest = reads.anchor(SAMR, ROOT)
    assert latest is not None and (latest.block_number, latest.count) == (12, 5)
    assert [a.block_number for a in reads.anchor_history(SAMR, ROOT)] == [10, 12]
    assert reads.anchors_of_root(ROOT) == [latest]
    assert reads.record_status(SAMR, ROOT) == RecordStatus(None) and reads.status_history(SAMR, ROOT) == []
    feed.apply(feed.status("DocumentSuspended", 13, SAMR, ROOT, DOC_A, reason=6))
    assert [e.block_number for e in reads.status_history(SAMR, ROOT, DOC_A)] == [13]


# ------------------------------------------------------------------------ status changes
def test_batch_and_document_status_changes(feed: Feed, reads: IndexReads) -> None:
    successor_root = b"\x03" * 32
    feed.apply(feed.anchor(10, ROOT, SAMR_KEY))
    applied = feed.apply(
        feed.status("DocumentSuspended", 11, SAMR, ROOT, reason=3),
        feed.status("DocumentRevoked", 11, SAMR, ROOT, DOC_A, reason=2),
        feed.status(
            "DocumentSuperseded", 12, SAMR, ROOT, DOC_B, reason=5, successorRoot=successor_root, successor=DOC_C
        ),
        feed.event("NonceUsed", 12, signer=SAMR_KEY, nonce=1),  # bookkeeping: no row
        feed.event("", 12, topic0="0x" + "ab" * 32),  # an event the ABI does not know
    )
    assert applied == 3
    anchor = reads.anchor(SAMR, ROOT)
    assert anchor is not None
    batch, doc_a = reads.statuses(anchor, DOC_A)
    assert batch.current is not None and doc_a.current is not None
    assert (batch.state, batch.current.action, batch.current.reason, batch.current.target_hash) == (
        State.SUSPENDED,
        Action.SUSPEND,
        3,
        ZERO32,
    )
    assert (doc_a.state, doc_a.current.reason, doc_a.current.timestamp) == (State.REVOKED, 2, time_of(11))
    assert (doc_a.current.signer, doc_a.current.actor, doc_a.current.department) == (SAMR_KEY, SAMR, SAMR)
    superseded = reads.document_status(SAMR, ROOT, DOC_B)
    assert superseded is not None and superseded.state == State.SUPERSEDED
    assert (superseded.successor_root, superseded.successor, superseded.block_number) == (successor_root, DOC_C, 12)
    assert reads.statuses(anchor) == (batch, batch)  # no document: the batch twice
    assert reads.document_status(SAMR, ROOT, DOC_C) is None  # never changed
    # reinstating the batch: the newest change is in force; the history keeps both
    feed.apply(feed.status("DocumentReinstated", 13, SAMR, ROOT, reason=0))
    assert reads.batch_status(SAMR, ROOT).state == State.ACTIVE  # type: ignore[union-attr]
    assert [(e.action, e.state) for e in reads.status_history(SAMR, ROOT)] == [
        (Action.SUSPEND, State.SUSPENDED),
        (Action.REINSTATE, State.ACTIVE),
    ]
    assert reads.record_status(SAMR, OTHER_ROOT) is None and reads.status_history(SAMR, OTHER_ROOT) == []


def test_a_change_by_a_key_outside_its_window_is_voided(feed: Feed, reads: IndexReads) -> None:
    """A key valid for blocks 20..29 only: its change at block 30 does not count, the one before does."""
    late_key = to_checksum_address("0x" + "d4" * 20)
    feed.apply(feed.key(15, SAMR, late_key, time_of(20), time_of(30)), feed.anchor(16, ROOT, SAMR_KEY))
    window = reads.signer_key(late_key)
    assert window is not None and window.valid_at(time_of(29)) and not window.valid_at(time_of(30))
    feed.apply(feed.status("DocumentSuspended", 18, SAMR, ROOT, DOC_A, signer=late_key, reason=1))  # too early
    feed.apply(feed.status("DocumentSuspended", 25, SAMR, ROOT, DOC_A, signer=late_key, reason=2))  # in its window
    feed.apply(feed.status("DocumentRevoked", 30, SAMR, ROOT, DOC_A, signer=late_key, reason=3))  # too late
    status = reads.record_status(SAMR, ROOT, DOC_A)
    assert status is not None and status.decidable and status.voided == 1
    assert status.current is not None and (status.current.reason, status.state) == (2, State.SUSPENDED)
    assert [(e.reason, e.voided) for e in reads.status_history(SAMR, ROOT, DOC_A)] == [
        (1, True),
        (2, False),
        (3, True),
    ]


def test_a_backdated_retirement_voids_changes_already_indexed(feed: Feed, reads: IndexReads) -> None:
    """A stolen key's revocation counts until governance retires the key back to before it."""
    feed.apply(feed.key(10, SAMR, STOLEN_KEY, time_of(0)), feed.anchor(11, ROOT, SAMR_KEY))
    feed.apply(feed.status("DocumentRevoked", 20, SAMR, ROOT, DOC_A, signer=STOLEN_KEY, reason=4))
    assert reads.document_status(SAMR, ROOT, DOC_A).state == State.REVOKED  # type: ignore[union-attr]
    feed.apply(feed.event("SignerKeyRetired", 30, department=SAMR, signer=STOLEN_KEY, validUntil=time_of(15)))
    assert reads.signer_key(STOLEN_KEY).valid_until == time_of(15)  # type: ignore[union-attr]
    assert reads.record_status(SAMR, ROOT, DOC_A) == RecordStatus(None, voided=1)
    assert reads.document_status(SAMR, ROOT, DOC_A) is None
    assert [e.voided for e in reads.status_history(SAMR, ROOT, DOC_A)] == [True]


def test_governance_changes_count_and_unknown_keys_are_undecidable(feed: Feed, reads: IndexReads) -> None:
    feed.apply(feed.anchor(10, ROOT, SAMR_KEY), feed.anchor(10, OTHER_ROOT, SAMR_KEY))
    # governance acts through the time lock: actor zero, the signer is no key; it always counts
    feed.apply(feed.status("DocumentRevoked", 11, SAMR, ROOT, signer=COUNCIL_LOCK, actor=ZERO32, reason=9))
    status = reads.record_status(SAMR, ROOT)
    assert status is not None and status.decidable and status.current is not None
    assert (status.state, status.current.signer, status.current.actor) == (State.REVOKED, COUNCIL_LOCK, ZERO32)
    assert reads.signer_key(COUNCIL_LOCK) is None
    # a department key the index never saw added (before its start block): cannot tell
    feed.apply(feed.status("DocumentSuspended", 12, SAMR, OTHER_ROOT, signer=UNKNOWN_KEY, reason=1))
    assert reads.record_status(SAMR, OTHER_ROOT) == RecordStatus(None, 0, decidable=False)


def test_a_title_lock_holds_until_a_status_change(feed: Feed, reads: IndexReads) -> None:
    feed.apply(feed.anchor(10, ROOT, SAMR_KEY))
    assert not reads.title_locked(SAMR, ROOT, DOC_A)
    feed.apply(feed.event("TitleLocked", 11, department=SAMR, root=ROOT, targetHash=DOC_A))
    assert reads.title_locked(SAMR, ROOT, DOC_A) and not reads.title_locked(SAMR, ROOT, DOC_B)
    assert not reads.title_locked(SAMR, ROOT, ZERO32) and not reads.title_locked(TAX, ROOT, DOC_A)
    feed.apply(feed.status("DocumentSuperseded", 12, SAMR, ROOT, DOC_A, successorRoot=OTHER_ROOT, successor=DOC_B))
    assert not reads.title_locked(SAMR, ROOT, DOC_A)


# ---------------------------------------------------------------------------- governance
def test_governance_events_fill_the_governance_tables(feed: Feed, reads: IndexReads) -> None:
    samr = reads.department(SAMR)
    assert samr is not None
    assert (samr.name, samr.credit_code, samr.index, samr.roles, samr.active) == (
        "市场监督管理局",
        "CC-市场监督管理局",
        0,
        Role.NONE,
        True,
    )
    assert (samr.registered_block, samr.registered_at) == (1, time_of(1))
    assert reads.type_name(LICENCE) == "business-license" and reads.type_name(FOOD) is None
    assert reads.is_authorized(SAMR, LICENCE) and not reads.is_authorized(SAMR, FOOD)
    key = reads.signer_key(SAMR_KEY.lower())
    assert key is not None and (key.signer, key.department, key.valid_until, key.added_block) == (SAMR_KEY, SAMR, 0, 1)
    feed.apply(
        feed.event("DepartmentActivationChanged", 5, department=TAX, active=False),
        feed.event("DepartmentRolesChanged", 5, department=SAMR, roles=Role.NATRES | Role.HOUSING),
        feed.event("DocumentTypeRegistered", 5, docType=FOOD, index=1, name="food-business-license"),
        feed.event("DocumentTypeAuthorized", 5, department=SAMR, docType=FOOD),
        feed.event("DocumentTypeDeauthorized", 6, department=SAMR, docType=LICENCE),
    )
    assert reads.department(TAX).active is False  # type: ignore[union-attr]
    assert reads.department(SAMR).roles == Role.NATRES | Role.HOUSING  # type: ignore[union-attr]
    assert reads.type_name(FOOD) == "food-business-license"
    assert reads.is_authorized(SAMR, FOOD) and not reads.is_authorized(SAMR, LICENCE)
    assert reads.department(NATRES) is None
    # every governance event is kept as it came, to recompute the tables after a rollback
    kept = reads.snapshot()["governance_events"]
    assert [row["name"] for row in kept][-2:] == ["DocumentTypeAuthorized", "DocumentTypeDeauthorized"]
    assert json.loads(kept[0]["args"])["department"] == "0x" + SAMR.hex()


# ------------------------------------------------------------------------------ property
def register_unit(feed: Feed) -> None:
    feed.apply(feed.registered(10, UNIT, TITLE_A, TITLE_A_ROOT, SELLERS))


def transfer(feed: Feed, *, case: int = 1, block: int = 20) -> None:
    """A transfer case opened in one batch and finalized by HOUSING's approval in a later one."""
    feed.apply(feed.opened(block, case, TITLE_B, TITLE_B_ROOT, BUYERS))
    feed.apply(*feed.finalized(block + 2, case, HOUSING, (TITLE_B, TITLE_B_ROOT), (TITLE_A, TITLE_A_ROOT)))


def owner_shares(owners: list[dict[str, Any]]) -> tuple[OwnerShare, ...]:
    return tuple(OwnerShare(o["commitment"], o["share"]) for o in owners)


def test_a_registered_unit_has_its_first_title(feed: Feed, reads: IndexReads) -> None:
    register_unit(feed)
    unit = reads.property_unit(UNIT)
    assert unit is not None and unit.registered
    assert (unit.registered_by, unit.registered_at, unit.registered_block) == (NATRES, time_of(10), 10)
    assert (unit.cert_target, unit.cert_root, unit.case_id, unit.since) == (TITLE_A, TITLE_A_ROOT, None, time_of(10))
    assert unit.owners == owner_shares(SELLERS)
    (title,) = reads.titles(UNIT)
    assert title.current and not title.corrected and title.owners == owner_shares(SELLERS)
    assert reads.titles_by_target(TITLE_A) == [title]
    (link,) = reads.certificate_links(TITLE_A)
    assert (link.unit, link.kind, link.case_id, link.block_number) == (UNIT, "title", None, 10)
    (event,) = reads.property_events(UNIT)
    assert (event.name, event.department, event.case_id) == ("UnitRegistered", NATRES, None)
    assert event.args["certTarget"] == "0x" + TITLE_A.hex()
    assert event.args["owners"] == [{"commitment": "0x" + o["commitment"].hex(), "share": o["share"]} for o in SELLERS]
    assert reads.property_unit(b"\x00" * 31 + b"\x01") is None


def test_a_transfer_supersedes_the_title(feed: Feed, reads: IndexReads) -> None:
    register_unit(feed)
    transfer(feed)
    unit = reads.property_unit(UNIT)
    assert unit is not None
    assert (unit.cert_target, unit.cert_root, unit.case_id, unit.since_block) == (TITLE_B, TITLE_B_ROOT, 1, 22)
    assert unit.owners == owner_shares(BUYERS)  # the owners the case proposed, from an earlier batch
    assert (unit.registered_block, unit.registered_by) == (10, NATRES)
    old, new = reads.titles(UNIT)
    assert (old.cert_target, old.current, old.superseded_by, old.superseded_block, old.superseded_case) == (
        TITLE_A,
        False,
        TITLE_B,
        22,
        1,
    )
    assert (old.superseded_at, old.end_reason, old.corrected) == (time_of(22), REASON_TRANSFERRED, False)
    assert (new.cert_target, new.current, new.case_id, new.owners) == (TITLE_B, True, 1, owner_shares(BUYERS))
    assert [(link.kind, link.case_id) for link in reads.certificate_links(TITLE_B)] == [("proposed", 1), ("title", 1)]
    # the finalization is made by the approval just before it in the same transaction
    assert [(e.name, e.department) for e in reads.case_events(1)] == [
        ("TransferOpened", NATRES),
        ("TransferApproved", HOUSING),
        ("TransferFinalized", HOUSING),
    ]
    assert [e.name for e in reads.property_events(UNIT)] == [
        "UnitRegistered",
        "TransferOpened",
        "TransferApproved",
        "TransferFinalized",
    ]


def test_a_case_proposed_and_finalized_in_one_batch_takes_its_latest_proposal(feed: Feed, reads: IndexReads) -> None:
    register_unit(feed)
    feed.apply(
        feed.opened(20, 1, TITLE_B, TITLE_B_ROOT, SELLERS[:1]),
        feed.event(
            "TransferResubmitted",
            21,
            unitId=UNIT,
            caseId=1,
            department=NATRES,
            round=2,
            certRoot=TITLE_B_ROOT,
            certTarget=TITLE_B,
            owners=BUYERS,
        ),
        *feed.finalized(21, 1, HOUSING, (TITLE_B, TITLE_B_ROOT), (TITLE_A, TITLE_A_ROOT)),
    )
    assert reads.property_unit(UNIT).owners == owner_shares(BUYERS)  # type: ignore[union-attr]


def test_mortgages_and_seizures_are_registered_and_released(feed: Feed, reads: IndexReads) -> None:
    register_unit(feed)
    feed.apply(
        feed.mortgage(11, 1),
        feed.event("SeizureRegistered", 11, unitId=UNIT, seizureId=1, court=COURT, ruling=b"\xcc" * 32),
        feed.event("SeizureRegistered", 12, unitId=UNIT, seizureId=2, court=COURT, ruling=b"\xdd" * 32),
    )
    (mortgage,) = reads.mortgages(UNIT)
    assert (mortgage.id, mortgage.bank, mortgage.cert_target, mortgage.cert_root) == (
        1,
        BANK,
        MORTGAGE_CERT,
        MORTGAGE_ROOT,
    )
    assert mortgage.active and (mortgage.registered_at, mortgage.registered_block) == (time_of(11), 11)
    assert reads.mortgages_by_target(MORTGAGE_CERT) == [mortgage]
    assert [(link.kind, link.unit) for link in reads.certificate_links(MORTGAGE_CERT)] == [("mortgage", UNIT)]
    assert [(s.id, s.court, s.ruling, s.active) for s in reads.seizures(UNIT)] == [
        (1, COURT, b"\xcc" * 32, True),
        (2, COURT, b"\xdd" * 32, True),
    ]
    feed.apply(
        feed.event("MortgageReleased", 13, unitId=UNIT, mortgageId=1, bank=BANK),
        feed.event("SeizureReleased", 13, unitId=UNIT, seizureId=1, court=COURT),
    )
    (released,) = reads.mortgages(UNIT)
    assert not released.active and (released.released_at, released.released_block) == (time_of(13), 13)
    assert reads.mortgages(UNIT, active_only=True) == []
    assert [s.id for s in reads.seizures(UNIT, active_only=True)] == [2]
    assert reads.seizures(UNIT)[0].released_block == 13
    assert [(e.name, e.department) for e in reads.property_events(UNIT)][-2:] == [
        ("MortgageReleased", BANK),
        ("SeizureReleased", COURT),
    ]


def test_a_correction_that_revokes_the_title_leaves_the_unit_without_one(feed: Feed, reads: IndexReads) -> None:
    register_unit(feed)
    feed.apply(
        feed.event(
            "CorrectionOpened",
            20,
            unitId=UNIT,
            caseId=7,
            department=NATRES,
            certRoot=ZERO32,
            certTarget=ZERO32,
            owners=[],
            reason=3,
        ),
        feed.event(
            "TitleCorrected",
            21,
            unitId=UNIT,
            caseId=7,
            certTarget=ZERO32,
            certRoot=ZERO32,
            previousRoot=TITLE_A_ROOT,
            previousTarget=TITLE_A,
        ),
    )
    unit = reads.property_unit(UNIT)
    assert unit is not None and not unit.registered and unit.owners == () and unit.case_id == 7
    (title,) = reads.titles(UNIT)
    assert (title.current, title.corrected, title.superseded_by, title.end_reason) == (
        False,
        True,
        None,
        REASON_CORRECTED,
    )
    assert reads.certificate_links(ZERO32) == []  # a revocation proposes no certificate


# ------------------------------------------------------------------------------ rollback
def test_rollback_above_a_block_restores_the_previous_current_title(
    conn: sqlite3.Connection, feed: Feed, reads: IndexReads
) -> None:
    register_unit(feed)
    feed.apply(feed.anchor(10, ROOT, SAMR_KEY))
    before = reads.snapshot()
    transfer(feed, block=20)  # blocks 20 and 22
    feed.apply(
        feed.mortgage(22, 1),
        feed.registered(23, b"\x44" * 32, TITLE_C, TITLE_C_ROOT, SELLERS),  # a unit registered above the fork
        feed.anchor(23, OTHER_ROOT, SAMR_KEY),
        feed.status("DocumentRevoked", 23, SAMR, ROOT),
        feed.event("DepartmentActivationChanged", 23, department=SAMR, active=False),
        feed.key(23, TAX, STOLEN_KEY, time_of(0)),
    )
    assert reads.property_unit(UNIT).cert_target == TITLE_B  # type: ignore[union-attr]

    rollback_above(conn, 15)

    unit = reads.property_unit(UNIT)
    assert unit is not None
    assert (unit.cert_target, unit.cert_root, unit.case_id, unit.since_block) == (TITLE_A, TITLE_A_ROOT, None, 10)
    assert unit.owners == owner_shares(SELLERS)
    (title,) = reads.titles(UNIT)
    assert title.cert_target == TITLE_A and title.current and title.end_reason is None
    assert reads.titles_by_target(TITLE_B) == [] and reads.certificate_links(TITLE_B) == []
    assert reads.mortgages(UNIT) == [] and reads.property_unit(b"\x44" * 32) is None
    assert [e.name for e in reads.property_events(UNIT)] == ["UnitRegistered"] and reads.case_events(1) == []
    assert reads.anchor(SAMR, OTHER_ROOT) is None and reads.batch_status(SAMR, ROOT) is None
    assert reads.department(SAMR).active and reads.signer_key(STOLEN_KEY) is None  # type: ignore[union-attr]
    assert known_signers(conn) == {SAMR_KEY.lower(): SAMR, TAX_KEY.lower(): TAX}
    assert reads.snapshot() == before


def test_rollback_undoes_releases_and_a_revoking_correction(
    conn: sqlite3.Connection, feed: Feed, reads: IndexReads
) -> None:
    register_unit(feed)
    feed.apply(feed.event("SeizureRegistered", 11, unitId=UNIT, seizureId=1, court=COURT, ruling=b"\xcc" * 32))
    before = reads.snapshot()
    feed.apply(
        feed.event("SeizureReleased", 20, unitId=UNIT, seizureId=1, court=COURT),
        feed.event(
            "TitleCorrected",
            21,
            unitId=UNIT,
            caseId=7,
            certTarget=ZERO32,
            certRoot=ZERO32,
            previousRoot=TITLE_A_ROOT,
            previousTarget=TITLE_A,
        ),
    )
    assert not reads.property_unit(UNIT).registered  # type: ignore[union-attr]
    rollback_above(conn, 19)
    assert reads.property_unit(UNIT).cert_target == TITLE_A  # type: ignore[union-attr]
    assert reads.seizures(UNIT, active_only=True)[0].id == 1
    assert reads.snapshot() == before


def test_rollback_to_a_revoked_title_keeps_the_unit_without_one(
    conn: sqlite3.Connection, feed: Feed, reads: IndexReads
) -> None:
    """Revoked at block 21, registered again at 30: rolled back to 25 the unit has no title again."""
    register_unit(feed)
    feed.apply(
        feed.event(
            "TitleCorrected",
            21,
            unitId=UNIT,
            caseId=7,
            certTarget=ZERO32,
            certRoot=ZERO32,
            previousRoot=TITLE_A_ROOT,
            previousTarget=TITLE_A,
        )
    )
    revoked = reads.property_unit(UNIT)
    feed.apply(feed.registered(30, UNIT, TITLE_C, TITLE_C_ROOT, BUYERS))
    again = reads.property_unit(UNIT)
    assert again is not None and again.registered and (again.registered_block, again.cert_target) == (30, TITLE_C)
    rollback_above(conn, 25)
    assert reads.property_unit(UNIT) == revoked
    assert revoked is not None and (revoked.cert_target, revoked.since_block, revoked.case_id) == (ZERO32, 21, 7)


# ------------------------------------------------------------------- over a ChainIndex
def test_a_chain_index_without_a_client_reads_the_projected_rows(tmp_path: Path) -> None:
    """The rows a projection writes to a file are what a read-only ChainIndex over it answers."""
    path = tmp_path / "index.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    install(conn, expected_meta(REGISTRY, None, 1), 1)
    feed = Feed(conn)
    feed.apply(feed.key(1, SAMR, SAMR_KEY, time_of(0)), feed.anchor(2, ROOT, SAMR_KEY))
    feed.apply(feed.status("DocumentSuspended", 3, SAMR, ROOT, DOC_A, reason=6))
    conn.close()
    with ChainIndex(path, None, REGISTRY.lower(), start_block=1) as index:
        assert not index.follows_property
        anchor = index.anchor(SAMR, ROOT)
        assert anchor is not None and (anchor.department, anchor.block_number) == (SAMR, 2)
        status = index.document_status(SAMR, ROOT, DOC_A)
        assert status is not None and (status.state, status.reason, status.signer) == (State.SUSPENDED, 6, SAMR_KEY)
        assert index.head().block_number == 0
