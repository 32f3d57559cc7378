"""Request and response models of the property workflow endpoints.

Every step's body carries the step's own fields and the acting key's authorization: an unordered
``nonce``, a ``deadline`` and the EIP-712 ``signature`` of PropertyAction(data, nonce, deadline),
where ``data`` is the ABI-encoded call of the step, built from the path and body exactly as the
relay builds it (see chain.property.PropertyCall).
"""

from __future__ import annotations

import enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from chain.property import MAX_OWNERS, Certificate, Owner
from chain.types import Role
from registry_api.messages import UINT64_MAX, Address, Bytes32, Nonce, Signature, to_bytes

UINT32_MAX = 2**32 - 1
UINT16_MAX = 2**16 - 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, str_strip_whitespace=True)


class CertificateRef(_Model):
    """Where a certificate is anchored: its batch root, its target hash and the proof between them."""

    root: Bytes32
    target: Bytes32 = Field(description="Target hash of the certificate")
    proof: list[Bytes32] = Field(default_factory=list, max_length=64)

    def certificate(self) -> Certificate:
        return Certificate(to_bytes(self.root), to_bytes(self.target), tuple(to_bytes(p) for p in self.proof))


class OwnerRef(_Model):
    commitment: Bytes32 = Field(description="Salted commitment to the owner, keccak256(salt ‖ identity)")
    share: int = Field(ge=1, le=10_000, description="Share in basis points; the owners' shares sum to 10,000")

    def owner(self) -> Owner:
        return Owner(to_bytes(self.commitment), self.share)


class Authorization(_Model):
    """The acting key's signature of the step (and, optionally, the domain it signed for)."""

    nonce: Nonce
    deadline: int = Field(ge=0, le=UINT64_MAX, description="Unix time after which the signature is void")
    signature: Signature
    chain_id: int | None = Field(default=None, alias="chainId", ge=1, le=UINT64_MAX)
    registry: Address | None = Field(default=None, description="The PropertyRegistry the key signed for")


class TitleRequest(Authorization):
    """Register a unit, open a transfer case, or resubmit a returned case."""

    certificate: CertificateRef
    owners: list[OwnerRef] = Field(min_length=1, max_length=MAX_OWNERS)

    def owner_list(self) -> list[Owner]:
        return [o.owner() for o in self.owners]


class ApprovingRole(enum.StrEnum):
    NATRES = "NATRES"
    TAX = "TAX"
    HOUSING = "HOUSING"


class ApprovalRequest(Authorization):
    round: int = Field(ge=1, le=UINT32_MAX, description="The case's current round")
    roles: list[ApprovingRole] = Field(
        min_length=1,
        max_length=3,
        description='The role approved, exactly one, e.g. ["TAX"]: each of NATRES, TAX and HOUSING approves '
        "for itself, by its own department (more than one is refused with INVALID_APPROVAL_ROLES)",
    )

    def role_flags(self) -> Role:
        flags = Role.NONE
        for role in self.roles:
            flags |= Role[role.value]
        return flags


class CorrectionRequest(Authorization):
    """Open a correction case (更正登记): the title is replaced by ``certificate`` and ``owners``, or,
    with neither, revoked (the unit then has no title until it is registered again)."""

    certificate: CertificateRef | None = Field(
        default=None, description="The corrected title certificate; omit it, with no owners, to revoke the title"
    )
    owners: list[OwnerRef] = Field(default_factory=list, max_length=MAX_OWNERS)
    reason: int = Field(default=0, ge=0, le=UINT16_MAX, description="Reason code of the correction")

    def certificate_or_none(self) -> Certificate | None:
        return None if self.certificate is None else self.certificate.certificate()

    def owner_list(self) -> list[Owner]:
        return [o.owner() for o in self.owners]


class ReasonRequest(Authorization):
    reason: int = Field(default=0, ge=0, le=UINT16_MAX, description="Reason code (docs/CONTRACTS.md)")


class ConsentRequest(Authorization):
    round: int = Field(ge=1, le=UINT32_MAX)
    mortgage_id: int = Field(alias="mortgageId", ge=1, le=UINT32_MAX)


class MortgageRequest(Authorization):
    certificate: CertificateRef = Field(description="The mortgage certificate")


class SeizureRequest(Authorization):
    ruling: Bytes32 = Field(description="Hash of the court's ruling (never its text)")


class ReleaseRequest(Authorization):
    """Release a mortgage or a seizure, or approve a correction: the authorization is all."""


# ------------------------------------------------------------------------------ responses
class StepEventView(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    event: str
    args: dict[str, Any]
    log_index: int = Field(alias="logIndex")


class StepView(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    state: str = Field(description="EXECUTED (mined; events below) or SUBMITTED (sent; send it again to learn more)")
    duplicate: bool = Field(description="True when this signed step had already run: the answer is that run's")
    function: str
    signer: str
    tx_hash: str = Field(alias="txHash")
    block: int | None = None
    gas_used: int | None = Field(default=None, alias="gasUsed")
    events: list[StepEventView]
