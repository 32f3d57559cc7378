"""Request and response models of the relay API, and the stored form of a signed message.

Byte strings travel as 0x-prefixed hex. A stored payload is the request model's JSON form,
from which the exact signed struct is rebuilt for the transaction.
"""

from __future__ import annotations

import enum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, field_validator

from chain.types import Action, SignedAnchor, SignedStatusChange, StatusChange, type_id

ZERO32_HEX = "0x" + "00" * 32

Bytes32 = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{64}$")]
Signature = Annotated[
    str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{130}$"), Field(description="65-byte signature r ‖ s ‖ v")
]
Address = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{40}$")]
UINT64_MAX = 2**64 - 1
UINT256_MAX = 2**256 - 1


def _decimal_string(value: Any) -> Any:
    # uint256 nonces may exceed what JSON clients keep exact: a decimal string is accepted.
    if isinstance(value, str) and value.isdigit() and len(value) <= 78:
        return int(value)
    return value


Nonce = Annotated[
    int,
    BeforeValidator(_decimal_string),
    Field(ge=0, le=UINT256_MAX, description="The signer's unordered nonce (a decimal string is accepted)"),
]


def to_bytes(value: str) -> bytes:
    return bytes.fromhex(value[2:])


def to_hex(value: bytes) -> str:
    return "0x" + value.hex()


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, str_strip_whitespace=True)


class Domain(_Model):
    """Optional: the EIP-712 domain the client signed for; checked against the relay's."""

    chain_id: int | None = Field(default=None, alias="chainId", ge=1, le=UINT64_MAX)
    registry: Address | None = None


class AnchorRequest(Domain):
    root: Bytes32 = Field(description="Merkle root of the batch")
    doc_type: str = Field(
        alias="docType",
        min_length=1,
        max_length=66,
        description="Document type: its 0x id (keccak256 of the name) or its name, e.g. business-license",
    )
    count: int = Field(ge=1, le=2**32 - 1, description="Documents in the batch")
    deadline: int = Field(ge=0, le=UINT64_MAX, description="Unix time after which the signature is void")
    signature: Signature

    @field_validator("root")
    @classmethod
    def _non_zero(cls, value: str) -> str:
        if int(value, 16) == 0:
            raise ValueError("root must not be zero")
        return value.lower()

    @field_validator("doc_type")
    @classmethod
    def _doc_type(cls, value: str) -> str:
        if value.startswith("0x"):
            if len(value) != 66 or any(c not in "0123456789abcdefABCDEF" for c in value[2:]):
                raise ValueError("a document type id is 0x and 64 hex digits")
            return value.lower()
        return to_hex(type_id(value))

    def signed(self) -> SignedAnchor:
        return SignedAnchor(
            root=to_bytes(self.root),
            doc_type=to_bytes(self.doc_type),
            count=self.count,
            deadline=self.deadline,
            signature=to_bytes(self.signature),
        )

    def payload(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "docType": self.doc_type,
            "count": self.count,
            "deadline": self.deadline,
            "signature": self.signature.lower(),
        }


class ActionName(enum.StrEnum):
    REVOKE = "REVOKE"
    SUSPEND = "SUSPEND"
    REINSTATE = "REINSTATE"
    SUPERSEDE = "SUPERSEDE"


class StatusChangeRequest(Domain):
    action: ActionName
    root: Bytes32
    target_hash: Bytes32 = Field(default=ZERO32_HEX, alias="targetHash", description="0 for the whole batch")
    proof: list[Bytes32] = Field(default_factory=list, max_length=64)
    successor_root: Bytes32 = Field(default=ZERO32_HEX, alias="successorRoot")
    successor: Bytes32 = ZERO32_HEX
    successor_proof: list[Bytes32] = Field(default_factory=list, alias="successorProof", max_length=64)
    reason: int = Field(default=0, ge=0, le=2**16 - 1)
    nonce: Nonce
    deadline: int = Field(ge=0, le=UINT64_MAX)
    signature: Signature

    def change(self) -> StatusChange:
        return StatusChange(
            action=Action[self.action.value],
            root=to_bytes(self.root),
            target_hash=to_bytes(self.target_hash),
            proof=[to_bytes(p) for p in self.proof],
            successor_root=to_bytes(self.successor_root),
            successor=to_bytes(self.successor),
            successor_proof=[to_bytes(p) for p in self.successor_proof],
            reason=self.reason,
        )

    def signed(self) -> SignedStatusChange:
        return SignedStatusChange(
            change=self.change(), nonce=self.nonce, deadline=self.deadline, signature=to_bytes(self.signature)
        )

    def payload(self) -> dict[str, Any]:
        return {
            "action": self.action.value,
            "root": self.root.lower(),
            "targetHash": self.target_hash.lower(),
            "proof": [p.lower() for p in self.proof],
            "successorRoot": self.successor_root.lower(),
            "successor": self.successor.lower(),
            "successorProof": [p.lower() for p in self.successor_proof],
            "reason": self.reason,
            "nonce": str(self.nonce),
            "deadline": self.deadline,
            "signature": self.signature.lower(),
        }


def anchor_from_payload(payload: dict[str, Any]) -> SignedAnchor:
    return AnchorRequest.model_validate(payload).signed()


def status_change_from_payload(payload: dict[str, Any]) -> SignedStatusChange:
    return StatusChangeRequest.model_validate(payload).signed()


# ------------------------------------------------------------------------------ responses
REQUEST_ID_PATTERN = r"^[0-9a-f]{32}$"
REQUEST_ID_DESCRIPTION = "The request's id: 128 random bits in lowercase hex, given by the relay"
_ON_CHAIN_ONLY = "null until the request is ANCHORED or FINAL (its transaction mined)"


class AcceptedItem(BaseModel):
    """The answer to the department that signed the request: its id, and what it signed."""

    id: str = Field(description=REQUEST_ID_DESCRIPTION, pattern=REQUEST_ID_PATTERN)
    state: str
    duplicate: bool = Field(description="True when this signed message was already accepted")
    root: str = Field(description="The root the signed message carries (the signer's own)")
    signer: str


class AcceptedResponse(BaseModel):
    requests: list[AcceptedItem]


class RequestStatus(BaseModel):
    """Where a request is. What it anchors or changes (``root``, ``targetHash``, ``txHash``,
    ``block``, and the 32-byte values in ``reason``) is shown only once its transaction is mined
    (ANCHORED, FINAL): before, it is on no chain, and an id alone must not reveal it."""

    model_config = ConfigDict(populate_by_name=True)

    id: str = Field(description=REQUEST_ID_DESCRIPTION, pattern=REQUEST_ID_PATTERN)
    kind: str
    state: str = Field(description="QUEUED, SUBMITTED, ANCHORED, FINAL or REJECTED")
    root: str | None = Field(default=None, description=f"The batch root; {_ON_CHAIN_ONLY}")
    target_hash: str | None = Field(
        default=None, alias="targetHash", description=f"A status change's document (0 for the batch); {_ON_CHAIN_ONLY}"
    )
    signer: str
    department: str
    tx_hash: str | None = Field(default=None, alias="txHash", description=f"The transaction; {_ON_CHAIN_ONLY}")
    block: int | None = Field(default=None, description=f"Its block; {_ON_CHAIN_ONLY}")
    reason: str | None = Field(
        default=None, description="Why it was rejected or sent again; 32-byte values hidden until ANCHORED or FINAL"
    )
    created_at: float = Field(alias="createdAt")
    updated_at: float = Field(alias="updatedAt")


class ChainAnchor(BaseModel):
    """One department's anchor of a root (another department's anchor of it is another record)."""

    model_config = ConfigDict(populate_by_name=True)

    anchored: bool
    department: str | None = None
    signer: str | None = None
    doc_type: str | None = Field(default=None, alias="docType")
    count: int | None = None
    anchored_at: int | None = Field(default=None, alias="anchoredAt")


class AnchorView(BaseModel):
    root: str
    department: str = Field(description="The department whose requests and anchor these are")
    requests: list[RequestStatus]
    chain: ChainAnchor | None = Field(description="What the chain says now; null when it cannot be reached")
