"""What the index answers: one frozen record per row kind, and the converters from its rows.

The converters take rows in the column order of :mod:`chainindex.schema` (``ANCHOR_COLUMNS``,
``STATUS_COLUMNS``, ...), so a query and the record it fills cannot drift apart unnoticed.
Records belong to their department, as on chain: an anchor is kept under (department, root), the
department being its signer key's (fixed by SignerKeyAdded), so two departments anchoring the same
root are two records.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from eth_utils.address import to_checksum_address

from chain.property import Owner
from chain.types import REASON_CORRECTED, ZERO32, Action, Role, State

#: The state a case (transfer or correction) is in after each of its events.
CASE_STATE_AFTER: dict[str, str] = {
    "CorrectionOpened": "OPEN",
    "CorrectionApproved": "FINALIZED",
    "TitleCorrected": "FINALIZED",
    "TransferOpened": "OPEN",
    "TransferApproved": "OPEN",
    "TransferConsented": "OPEN",
    "TransferResubmitted": "OPEN",
    "TransferReturned": "RETURNED",
    "TransferRejected": "REJECTED",
    "TransferCancelled": "CANCELLED",
    "TransferFinalized": "FINALIZED",
}
#: The events that open a case, with the certificate and owners it proposes.
CASE_PROPOSALS = frozenset({"TransferOpened", "TransferResubmitted", "CorrectionOpened"})
#: The state a status change leads to.
STATE_AFTER: dict[Action, State] = {
    Action.REVOKE: State.REVOKED,
    Action.SUSPEND: State.SUSPENDED,
    Action.REINSTATE: State.ACTIVE,
    Action.SUPERSEDE: State.SUPERSEDED,
}


@dataclass(frozen=True)
class SyncResult:
    """One catch-up pass: blocks ``from_block``..``to_block`` (empty when to < from)."""

    from_block: int
    to_block: int
    events: int
    reorged: bool
    seconds: float
    #: events that changed the index (registry events other than NonceUsed and access control)
    applied: int = 0


class Head(NamedTuple):
    block_number: int
    block_hash: str | None
    synced_at: float | None


@dataclass(frozen=True)
class AnchorRecord:
    root: bytes
    signer: str
    department: bytes  # the signer key's; zero when the key was added before the index's start block
    doc_type: bytes
    count: int
    anchored_at: int
    block_number: int
    tx_hash: str
    log_index: int


@dataclass(frozen=True)
class StatusEvent:
    """One status change of a batch (``target_hash`` zero) or of one document of ``department``."""

    department: bytes  # the record's department (whose anchor it is)
    root: bytes
    target_hash: bytes
    action: Action
    state: State  # the state the change led to
    reason: int
    actor: bytes  # acting department; zero for governance and the PropertyRegistry
    signer: str  # the department key, or the calling contract (time lock, council, PropertyRegistry)
    successor_root: bytes
    successor: bytes
    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int
    timestamp: int
    #: The signer is a department key whose current window excludes the change's time: it does
    #: not count (the change before it is in force).
    voided: bool = False


@dataclass(frozen=True)
class RecordStatus:
    """The status change in force of one record (a batch, or one document of it)."""

    current: StatusEvent | None  # None: never changed, or every change voided (active)
    voided: int = 0  # later changes that do not count
    #: False when a change was made by a department key the index does not know (added before
    #: its start block): the index cannot tell whether it counts.
    decidable: bool = True

    @property
    def state(self) -> State:
        return self.current.state if self.current is not None else State.ACTIVE


@dataclass(frozen=True)
class DepartmentRecord:
    id: bytes
    name: str
    credit_code: str
    index: int
    roles: Role
    active: bool
    registered_block: int
    registered_at: int


@dataclass(frozen=True)
class SignerKeyRecord:
    signer: str
    department: bytes
    valid_from: int
    valid_until: int  # 0: open-ended
    added_block: int

    def valid_at(self, timestamp: int) -> bool:
        return timestamp >= self.valid_from and (self.valid_until == 0 or timestamp < self.valid_until)


#: A co-owner as the chain knows them (a salted commitment and a share in basis points): the
#: chain client's own type.
OwnerShare = Owner


@dataclass(frozen=True)
class UnitRecord:
    """A property unit and its current title (certificate, owners, since when, by which case)."""

    unit: bytes
    registered_by: bytes
    registered_at: int
    registered_block: int
    cert_root: bytes  # zero while the unit has no title (a correction revoked it)
    cert_target: bytes
    owners: tuple[OwnerShare, ...]
    since: int
    since_block: int
    case_id: int | None  # None: the title of the registration itself

    @property
    def registered(self) -> bool:
        """Whether the unit has a title (a correction that revokes it leaves it unregistered)."""
        return self.cert_target != ZERO32


@dataclass(frozen=True)
class TitleRecord:
    """One certificate a unit had: when it became the unit's title and when it ended (superseded
    by a transfer or a correction, or revoked by a correction)."""

    unit: bytes
    cert_target: bytes
    cert_root: bytes
    case_id: int | None
    owners: tuple[OwnerShare, ...]
    since: int
    since_block: int
    superseded_by: bytes | None  # the certificate that replaced it; None while current or once revoked
    superseded_at: int | None  # when it ended
    superseded_block: int | None
    superseded_case: int | None  # the case that ended it
    end_reason: int | None = None  # 9 transferred, 11 corrected (chain.types); None while current

    @property
    def current(self) -> bool:
        return self.superseded_block is None

    @property
    def corrected(self) -> bool:
        """Ended by a correction case (更正登记): replaced, or revoked (``superseded_by`` None)."""
        return self.end_reason == REASON_CORRECTED


@dataclass(frozen=True)
class MortgageRecord:
    unit: bytes
    id: int
    bank: bytes
    cert_root: bytes
    cert_target: bytes  # the mortgage certificate
    registered_at: int
    registered_block: int
    released_at: int | None
    released_block: int | None

    @property
    def active(self) -> bool:
        return self.released_at is None


@dataclass(frozen=True)
class SeizureRecord:
    unit: bytes
    id: int
    court: bytes
    ruling: bytes  # hash of the court's ruling
    registered_at: int
    registered_block: int
    released_at: int | None
    released_block: int | None

    @property
    def active(self) -> bool:
        return self.released_at is None


@dataclass(frozen=True)
class PropertyEventRecord:
    """One PropertyRegistry event of a unit, with its arguments as JSON values (bytes as 0x-hex)."""

    block_number: int
    log_index: int
    unit: bytes
    name: str
    case_id: int | None
    department: bytes | None  # the acting department (bank, court); for a finalization, the last approver
    args: dict[str, Any]
    block_hash: str
    tx_hash: str
    timestamp: int


@dataclass(frozen=True)
class CertificateLink:
    """A certificate target named by a unit's event: its title, a case's proposal, or a mortgage."""

    cert_target: bytes
    unit: bytes
    kind: str  # "title" | "proposed" (a transfer's or a correction's) | "mortgage"
    case_id: int | None
    block_number: int
    log_index: int


# ---------------------------------------------------------------------------- converters
@functools.lru_cache(maxsize=4096)
def checksum(address: str) -> str:
    """EIP-55 form of an address (a keccak hash each time: about 34 µs, a tenth of a verification)."""
    return str(to_checksum_address(address))


def anchor_record(row: Sequence[Any]) -> AnchorRecord:
    """A row of ``ANCHOR_COLUMNS``."""
    return AnchorRecord(
        root=row[0],
        signer=row[1],
        department=row[2],
        doc_type=row[3],
        count=row[4],
        anchored_at=row[5],
        block_number=row[6],
        tx_hash=row[7],
        log_index=row[8],
    )


def status_event(row: Sequence[Any], *, voided: bool = False) -> StatusEvent:
    """A row of ``STATUS_COLUMNS`` (a longer row's first 14 columns)."""
    action = Action(row[3])
    return StatusEvent(
        department=row[0],
        root=row[1],
        target_hash=row[2],
        action=action,
        state=STATE_AFTER[action],
        reason=row[4],
        actor=row[5],
        signer=checksum(row[6]),
        successor_root=row[7],
        successor=row[8],
        block_number=row[9],
        block_hash=row[10],
        tx_hash=row[11],
        log_index=row[12],
        timestamp=row[13],
        voided=voided,
    )


def department_record(row: Sequence[Any]) -> DepartmentRecord:
    """A row of (id, name, credit_code, idx, roles, active, registered_block, registered_at)."""
    return DepartmentRecord(
        id=row[0],
        name=row[1],
        credit_code=row[2],
        index=row[3],
        roles=Role(row[4]),
        active=bool(row[5]),
        registered_block=row[6],
        registered_at=row[7],
    )


def signer_key_record(row: Sequence[Any]) -> SignerKeyRecord:
    """A row of (signer, department, valid_from, valid_until, added_block)."""
    return SignerKeyRecord(
        signer=checksum(row[0]),
        department=row[1],
        valid_from=row[2],
        valid_until=row[3],
        added_block=row[4],
    )


def owners_of(text: str) -> tuple[OwnerShare, ...]:
    """The owners column: a JSON list of {commitment (0x-hex), share}."""
    return tuple(OwnerShare(bytes.fromhex(o["commitment"][2:]), int(o["share"])) for o in json.loads(text))


def unit_record(row: Sequence[Any]) -> UnitRecord:
    """A row of ``UNIT_COLUMNS``."""
    return UnitRecord(
        unit=row[0],
        registered_by=row[1],
        registered_at=row[2],
        registered_block=row[3],
        cert_root=row[4],
        cert_target=row[5],
        owners=owners_of(row[6]),
        since=row[7],
        since_block=row[8],
        case_id=row[9],
    )


def title_record(row: Sequence[Any]) -> TitleRecord:
    """A row of ``TITLE_COLUMNS``."""
    return TitleRecord(
        unit=row[0],
        cert_target=row[1],
        cert_root=row[2],
        case_id=row[3],
        owners=owners_of(row[4]),
        since=row[5],
        since_block=row[6],
        superseded_by=row[7],
        superseded_at=row[8],
        superseded_block=row[9],
        superseded_case=row[10],
        end_reason=row[11],
    )


def mortgage_record(row: Sequence[Any]) -> MortgageRecord:
    """A row of ``MORTGAGE_COLUMNS``."""
    return MortgageRecord(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8])


def seizure_record(row: Sequence[Any]) -> SeizureRecord:
    """A row of ``SEIZURE_COLUMNS``."""
    return SeizureRecord(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7])


def property_event_record(row: Sequence[Any]) -> PropertyEventRecord:
    """A row of ``PROPERTY_EVENT_COLUMNS``."""
    return PropertyEventRecord(
        block_number=row[0],
        log_index=row[1],
        unit=row[2],
        name=row[3],
        case_id=row[4],
        department=row[5],
        args=json.loads(row[6]),
        block_hash=row[7],
        tx_hash=row[8],
        timestamp=row[9],
    )


def certificate_link(row: Sequence[Any]) -> CertificateLink:
    """A row of (cert_target, unit, kind, case_id, block_number, log_index)."""
    return CertificateLink(row[0], row[1], row[2], row[3], row[4], row[5])


__all__ = [
    "CASE_PROPOSALS",
    "CASE_STATE_AFTER",
    "STATE_AFTER",
    "AnchorRecord",
    "CertificateLink",
    "DepartmentRecord",
    "Head",
    "MortgageRecord",
    "OwnerShare",
    "PropertyEventRecord",
    "RecordStatus",
    "SeizureRecord",
    "SignerKeyRecord",
    "StatusEvent",
    "SyncResult",
    "TitleRecord",
    "UnitRecord",
    "anchor_record",
    "certificate_link",
    "checksum",
    "department_record",
    "mortgage_record",
    "owners_of",
    "property_event_record",
    "seizure_record",
    "signer_key_record",
    "status_event",
    "title_record",
    "unit_record",
]
