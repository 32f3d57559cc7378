"""Python views of the registry's structs and enums (mirrors contracts/Common.sol)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from eth_utils.crypto import keccak

ZERO32 = b"\x00" * 32


class Action(enum.IntEnum):
    NONE = 0
    REVOKE = 1
    SUSPEND = 2
    REINSTATE = 3
    SUPERSEDE = 4


class State(enum.IntEnum):
    ACTIVE = 0
    REVOKED = 1
    SUSPENDED = 2
    SUPERSEDED = 3


class Role(enum.IntFlag):
    """Department roles of the property workflow (ROLE_* in Common.sol)."""

    NONE = 0
    NATRES = 1
    TAX = 2
    HOUSING = 4
    COURT = 8
    BANK = 16


def type_id(name: str) -> bytes:
    """On-chain id of a document type: keccak256(utf8(name))."""
    return keccak(text=name)


def department_id(code: str) -> bytes:
    """A department id derived from a short stable code (keccak256 of the code, e.g. 'LA-SAMR')."""
    return keccak(text=code)


#: The three roles that approve a transfer; a department holds at most one of them.
WORKFLOW_ROLES = Role.NATRES | Role.TAX | Role.HOUSING


@dataclass(frozen=True)
class StatusRecord:
    """The status change in force (a later change signed by a key outside its window is voided)."""

    state: State
    reason: int
    changed_at: int
    changed_by: bytes
    signer: str = "0x" + "00" * 20  # the department key; zero for governance and the PropertyRegistry
    voided: int = 0  # later changes that do not count

    @classmethod
    def from_tuple(cls, raw: Any) -> StatusRecord:
        state, reason, changed_at, changed_by, signer, voided = raw
        return cls(State(state), int(reason), int(changed_at), bytes(changed_by), str(signer), int(voided))


@dataclass(frozen=True)
class DocumentStatus:
    anchored: bool
    root: bytes
    target_hash: bytes
    department: bytes
    signer: str
    doc_type: bytes
    count: int
    anchored_at: int
    batch: StatusRecord
    document: StatusRecord
    successor: bytes
    title_locked: bool = False

    @classmethod
    def from_tuple(cls, raw: Any) -> DocumentStatus:
        (
            anchored,
            root,
            target,
            dept,
            signer,
            doc_type,
            count,
            anchored_at,
            batch,
            document,
            successor,
            title_locked,
        ) = raw
        return cls(
            anchored=bool(anchored),
            root=bytes(root),
            target_hash=bytes(target),
            department=bytes(dept),
            signer=str(signer),
            doc_type=bytes(doc_type),
            count=int(count),
            anchored_at=int(anchored_at),
            batch=StatusRecord.from_tuple(batch),
            document=StatusRecord.from_tuple(document),
            successor=bytes(successor),
            title_locked=bool(title_locked),
        )

    @property
    def effective_state(self) -> State:
        """The state that decides validity: a revoked batch revokes every document in it."""
        if not self.anchored:
            raise ValueError("not anchored")
        for state in (State.REVOKED, State.SUPERSEDED, State.SUSPENDED):
            if state in (self.batch.state, self.document.state):
                return state
        return State.ACTIVE


@dataclass(frozen=True)
class Department:
    id: bytes
    name: str
    credit_code: str
    index: int
    roles: Role
    active: bool
    registered_at: int

    @classmethod
    def from_tuple(cls, raw: Any) -> Department:
        dept_id, name, code, index, roles, active, registered_at = raw
        return cls(
            bytes(dept_id),
            str(name),
            str(code),
            int(index),
            Role(roles),
            bool(active),
            int(registered_at),
        )


@dataclass(frozen=True)
class SignerKey:
    department: bytes
    valid_from: int
    valid_until: int  # 0: open-ended

    @classmethod
    def from_tuple(cls, raw: Any) -> SignerKey:
        dept, valid_from, valid_until = raw
        return cls(bytes(dept), int(valid_from), int(valid_until))

    def valid_at(self, timestamp: int) -> bool:
        return timestamp >= self.valid_from and (self.valid_until == 0 or timestamp < self.valid_until)


def key_id(x: bytes, y: bytes) -> bytes:
    """Id of the SM2 key (x, y) in the Sm2KeyRegistry: keccak256(x ‖ y), 32 bytes each."""
    if len(x) != 32 or len(y) != 32:
        raise ValueError("an SM2 key's coordinates are 32 bytes each")
    return keccak(x + y)


@dataclass(frozen=True)
class Sm2Key:
    """A department's SM2 public key (the uncompressed point (x, y)) and its window."""

    department: bytes
    valid_from: int
    valid_until: int  # 0: open-ended
    x: bytes
    y: bytes

    @classmethod
    def from_tuple(cls, raw: Any) -> Sm2Key:
        dept, valid_from, valid_until, x, y = raw
        return cls(bytes(dept), int(valid_from), int(valid_until), bytes(x), bytes(y))

    @property
    def key_id(self) -> bytes:
        return key_id(self.x, self.y)

    def valid_at(self, timestamp: int) -> bool:
        return timestamp >= self.valid_from and (self.valid_until == 0 or timestamp < self.valid_until)


@dataclass(frozen=True)
class StatusChange:
    """A status change of a batch (target_hash zero) or of one document of it."""

    action: Action
    root: bytes
    target_hash: bytes = ZERO32
    proof: list[bytes] = field(default_factory=list)
    successor_root: bytes = ZERO32
    successor: bytes = ZERO32
    successor_proof: list[bytes] = field(default_factory=list)
    reason: int = 0

    def as_tuple(self) -> tuple[Any, ...]:
        return (
            int(self.action),
            self.root,
            self.target_hash,
            list(self.proof),
            self.successor_root,
            self.successor,
            list(self.successor_proof),
            self.reason,
        )


@dataclass(frozen=True)
class SignedAnchor:
    root: bytes
    doc_type: bytes
    count: int
    deadline: int
    signature: bytes

    def as_tuple(self) -> tuple[Any, ...]:
        return (self.root, self.doc_type, self.count, self.deadline, self.signature)


@dataclass(frozen=True)
class SignedStatusChange:
    change: StatusChange
    nonce: int
    deadline: int
    signature: bytes

    def as_tuple(self) -> tuple[Any, ...]:
        return (self.change.as_tuple(), self.nonce, self.deadline, self.signature)


#: Reason codes of status changes (also in docs/CONTRACTS.md); messages for people.
REASONS: dict[int, tuple[str, str]] = {
    0: ("unspecified", "未说明"),
    1: ("issued in error", "错误签发"),
    2: ("obtained by fraud", "以欺骗手段取得"),
    3: ("holder's request", "持证人申请"),
    4: ("court order", "法院裁定"),
    5: ("replaced by a new document", "已换发新证"),
    6: ("under investigation", "调查中"),
    7: ("investigation closed", "调查结束"),
    8: ("licence cancelled by the authority", "许可被注销"),
    9: ("property transferred", "不动产已转移登记"),
    10: ("mortgage released", "抵押权已注销"),
    11: ("registration corrected", "更正登记"),
}

REASON_TRANSFERRED = 9
REASON_MORTGAGE_RELEASED = 10
REASON_CORRECTED = 11
