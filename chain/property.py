"""Typed access to the PropertyRegistry, and its deployment wired to the DocumentRegistry.

Units are keyed by :func:`unit_id` (a salted hash of the unit number) and owners by
:func:`owner_commitment` (a salted hash of the owner's identity): neither the unit number nor
any name or ID number reaches the chain.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3.logs import DISCARD

from chain.client import ChainClient
from chain.contract import ContractClient
from chain.deploy import Deployment, deploy_contract
from chain.eip712 import typed_domain
from chain.errors import ChainError, RegistryNotFound
from chain.events import Event, EventScanner
from chain.governance import Call
from chain.registry import CONTRACT_NAME as DOCUMENT_REGISTRY
from chain.registry import GovernanceActor, RegistryClient, deployment_record_path, read_deployment_record
from chain.sender import Receipt, TransactionSender
from chain.types import ZERO32, Role
from documents.hashing import HEX32_RE

CONTRACT_NAME = "PropertyRegistry"

#: Basis points of whole ownership: a title's shares sum to this.
WHOLE_SHARE = 10_000

#: Co-owners per title, and active mortgages (or seizures) per unit (the contract's limits).
MAX_OWNERS = 32
MAX_ENCUMBRANCES = 16

#: Roles that approve a transfer case.
APPROVING_ROLES = Role.NATRES | Role.TAX | Role.HOUSING

#: Role of the DocumentRegistry that lets the PropertyRegistry lock, replace and revoke titles.
PROPERTY_REGISTRY_ROLE = keccak(text="PROPERTY_REGISTRY_ROLE")


#: Bytes of a unit salt (the certificate's ``unitSalt``: "0x" and 64 hex digits).
UNIT_SALT_BYTES = 32


def unit_id(unit_number: str, salt: bytes) -> bytes:
    """On-chain key of a property unit: keccak256(salt ‖ utf8(unit number)), a salted commitment.

    A unit number is structured (county, zone, parcel, fixture: 28 characters), so its plain
    hash could be found by trying every number; the salt (32 random bytes, chosen by the
    registration agency when the unit is first registered) makes the id unguessable. Every
    certificate and mortgage certificate of the unit carries the salt (``unitSalt``), so whoever
    holds one can compute the id, and nobody else can.
    """
    if len(salt) != UNIT_SALT_BYTES:
        raise ValueError(f"a unit salt has {UNIT_SALT_BYTES} bytes, not {len(salt)}")
    return keccak(salt + unit_number.strip().encode("utf-8"))


def new_unit_salt() -> bytes:
    """A fresh unit salt, for a unit registered for the first time."""
    return os.urandom(UNIT_SALT_BYTES)


def unit_salt(value: object) -> bytes | None:
    """The bytes of a certificate's ``unitSalt`` value ("0x" and 64 lowercase hex digits), or None."""
    return bytes.fromhex(value[2:]) if isinstance(value, str) and HEX32_RE.fullmatch(value) else None


def certificate_unit(data: object) -> bytes | None:
    """The unit id a property or mortgage certificate's data names (``unitNumber`` and
    ``unitSalt``), or None when either is hidden or not well formed."""
    if not isinstance(data, dict):
        return None
    number, salt = data.get("unitNumber"), unit_salt(data.get("unitSalt"))
    if isinstance(number, str) and number.strip() and salt is not None:
        return unit_id(number, salt)
    return None


def owner_commitment(identity: str, salt: bytes) -> bytes:
    """Salted commitment to an owner: keccak256(salt ‖ utf8(identity)).

    ``identity`` is what identifies the owner off chain (e.g. an ID number); ``salt`` is at
    least 16 random bytes kept with the owner's records, so the commitment cannot be guessed.
    """
    if len(salt) < 16:
        raise ValueError("the salt of an owner commitment must have at least 16 bytes")
    return keccak(salt + identity.encode("utf-8"))


def new_salt() -> bytes:
    return os.urandom(16)


class CaseKind(enum.IntEnum):
    TRANSFER = 0
    CORRECTION = 1


class CaseState(enum.IntEnum):
    NONE = 0
    OPEN = 1
    RETURNED = 2
    FINALIZED = 3
    REJECTED = 4
    CANCELLED = 5


@dataclass(frozen=True)
class Owner:
    commitment: bytes
    share: int  # basis points

    def as_tuple(self) -> tuple[bytes, int]:
        return (self.commitment, self.share)

    @classmethod
    def from_tuple(cls, raw: Any) -> Owner:
        commitment, share = raw
        return cls(bytes(commitment), int(share))


@dataclass(frozen=True)
class Certificate:
    """Where a certificate is anchored: batch root, target hash and the Merkle proof between them."""

    root: bytes
    target: bytes
    proof: tuple[bytes, ...] = ()


@dataclass(frozen=True)
class TransferCase:
    id: int
    kind: CaseKind
    unit_id: bytes
    state: CaseState
    round: int
    opened_at: int
    opened_by: bytes
    cert_root: bytes
    cert_target: bytes
    owners: tuple[Owner, ...]
    approved_roles: Role
    natres_approver: bytes
    tax_approver: bytes
    housing_approver: bytes
    reason: int = 0  # a correction's reason code

    @classmethod
    def from_tuple(cls, raw: Any) -> TransferCase:
        (
            case_id,
            kind,
            unit,
            state,
            round_,
            opened_at,
            opened_by,
            cert_root,
            cert_target,
            owners,
            approved_roles,
            natres,
            tax,
            housing,
            reason,
        ) = raw
        return cls(
            id=int(case_id),
            kind=CaseKind(kind),
            unit_id=bytes(unit),
            state=CaseState(state),
            round=int(round_),
            opened_at=int(opened_at),
            opened_by=bytes(opened_by),
            cert_root=bytes(cert_root),
            cert_target=bytes(cert_target),
            owners=tuple(Owner.from_tuple(o) for o in owners),
            approved_roles=Role(approved_roles),
            natres_approver=bytes(natres),
            tax_approver=bytes(tax),
            housing_approver=bytes(housing),
            reason=int(reason),
        )


@dataclass(frozen=True)
class Mortgage:
    id: int
    bank: bytes
    cert_root: bytes
    cert_target: bytes
    registered_at: int
    released_at: int  # 0 while active
    consented_to_open_case: bool

    @classmethod
    def from_tuple(cls, raw: Any) -> Mortgage:
        mortgage_id, bank, root, target, registered_at, released_at, consented = raw
        return cls(
            int(mortgage_id),
            bytes(bank),
            bytes(root),
            bytes(target),
            int(registered_at),
            int(released_at),
            bool(consented),
        )


@dataclass(frozen=True)
class Seizure:
    id: int
    court: bytes
    ruling: bytes  # hash of the court's ruling
    registered_at: int
    released_at: int  # 0 while active

    @classmethod
    def from_tuple(cls, raw: Any) -> Seizure:
        seizure_id, court, ruling, registered_at, released_at = raw
        return cls(int(seizure_id), bytes(court), bytes(ruling), int(registered_at), int(released_at))


@dataclass(frozen=True)
class UnitState:
    registered: bool
    unit_id: bytes
    registered_by: bytes
    registered_at: int
    cert_root: bytes
    cert_target: bytes
    owners: tuple[Owner, ...]
    mortgages: tuple[Mortgage, ...]
    seizures: tuple[Seizure, ...]
    open_case: TransferCase | None

    @classmethod
    def from_tuple(cls, raw: Any) -> UnitState:
        (registered, unit, registered_by, registered_at, root, target, owners, mortgages, seizures, case) = raw
        open_case = TransferCase.from_tuple(case)
        return cls(
            registered=bool(registered),
            unit_id=bytes(unit),
            registered_by=bytes(registered_by),
            registered_at=int(registered_at),
            cert_root=bytes(root),
            cert_target=bytes(target),
            owners=tuple(Owner.from_tuple(o) for o in owners),
            mortgages=tuple(Mortgage.from_tuple(m) for m in mortgages),
            seizures=tuple(Seizure.from_tuple(s) for s in seizures),
            open_case=open_case if open_case.id != 0 else None,
        )

    @property
    def seized(self) -> bool:
        return bool(self.seizures)


def _owners(owners: Sequence[Owner]) -> list[tuple[bytes, int]]:
    return [o.as_tuple() for o in owners]


# ------------------------------------------------------------------------------- actions
@dataclass(frozen=True)
class PropertyCall:
    """One action of the registry, as the contract takes it: function name and arguments.

    Built the same way by whoever sends it directly, signs it for the relay, or (the relay)
    rebuilds it from a request, so that all of them encode the same calldata.
    """

    function: str
    args: tuple[Any, ...]

    @classmethod
    def register_unit(cls, unit: bytes, certificate: Certificate, owners: Sequence[Owner]) -> PropertyCall:
        return cls("registerUnit", (unit, *_certificate_args(certificate), _owners(owners)))

    @classmethod
    def open_transfer(cls, unit: bytes, certificate: Certificate, owners: Sequence[Owner]) -> PropertyCall:
        return cls("openTransfer", (unit, *_certificate_args(certificate), _owners(owners)))

    @classmethod
    def approve_transfer(cls, case_id: int, round_: int, roles: Role) -> PropertyCall:
        return cls("approveTransfer", (case_id, round_, int(roles)))

    @classmethod
    def reject_transfer(cls, case_id: int, reason: int) -> PropertyCall:
        return cls("rejectTransfer", (case_id, reason))

    @classmethod
    def return_transfer(cls, case_id: int, reason: int) -> PropertyCall:
        return cls("returnTransfer", (case_id, reason))

    @classmethod
    def resubmit_transfer(cls, case_id: int, certificate: Certificate, owners: Sequence[Owner]) -> PropertyCall:
        return cls("resubmitTransfer", (case_id, *_certificate_args(certificate), _owners(owners)))

    @classmethod
    def cancel_transfer(cls, case_id: int, reason: int) -> PropertyCall:
        return cls("cancelTransfer", (case_id, reason))

    @classmethod
    def consent_to_transfer(cls, case_id: int, round_: int, mortgage_id: int) -> PropertyCall:
        return cls("consentToTransfer", (case_id, round_, mortgage_id))

    @classmethod
    def open_correction(
        cls, unit: bytes, certificate: Certificate | None, owners: Sequence[Owner], reason: int
    ) -> PropertyCall:
        """A correction that replaces the title by ``certificate``, or revokes it (None, no owners)."""
        cert = certificate or Certificate(ZERO32, ZERO32)
        return cls("openCorrection", (unit, *_certificate_args(cert), _owners(owners), reason))

    @classmethod
    def approve_correction(cls, case_id: int) -> PropertyCall:
        return cls("approveCorrection", (case_id,))

    @classmethod
    def register_mortgage(cls, unit: bytes, certificate: Certificate) -> PropertyCall:
        return cls("registerMortgage", (unit, *_certificate_args(certificate)))

    @classmethod
    def release_mortgage(cls, unit: bytes, mortgage_id: int) -> PropertyCall:
        return cls("releaseMortgage", (unit, mortgage_id))

    @classmethod
    def register_seizure(cls, unit: bytes, ruling: bytes) -> PropertyCall:
        return cls("registerSeizure", (unit, ruling))

    @classmethod
    def release_seizure(cls, unit: bytes, seizure_id: int) -> PropertyCall:
        return cls("releaseSeizure", (unit, seizure_id))


def _certificate_args(certificate: Certificate) -> tuple[bytes, bytes, list[bytes]]:
    return certificate.root, certificate.target, list(certificate.proof)


#: The actions ``executeSigned`` runs (the contract's allowlist, by function name).
ACTIONS = frozenset(
    {
        "registerUnit",
        "openTransfer",
        "approveTransfer",
        "rejectTransfer",
        "returnTransfer",
        "resubmitTransfer",
        "cancelTransfer",
        "consentToTransfer",
        "registerMortgage",
        "releaseMortgage",
        "registerSeizure",
        "releaseSeizure",
        "openCorrection",
        "approveCorrection",
    }
)

ACTION_DOMAIN_NAME = "e-Registry PropertyRegistry"
ACTION_DOMAIN_VERSION = "1"
ACTION_TYPES = {
    "PropertyAction": [
        {"name": "data", "type": "bytes"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint64"},
    ]
}


@dataclass(frozen=True)
class SignedAction:
    """An action's calldata signed by the acting key for ``executeSigned`` (EIP-712 PropertyAction)."""

    data: bytes
    nonce: int
    deadline: int
    signature: bytes


def action_domain(chain_id: int, registry: str) -> dict[str, Any]:
    """The PropertyRegistry's domain."""
    return typed_domain(ACTION_DOMAIN_NAME, ACTION_DOMAIN_VERSION, chain_id, registry)


def action_signable(data: bytes, nonce: int, deadline: int, chain_id: int, registry: str) -> Any:
    message = {"data": data, "nonce": nonce, "deadline": deadline}
    return encode_typed_data(action_domain(chain_id, registry), ACTION_TYPES, message)


def sign_action(
    account: LocalAccount, *, chain_id: int, registry: str, data: bytes, nonce: int, deadline: int
) -> SignedAction:
    signable = action_signable(data, nonce, deadline, chain_id, registry)
    signature = bytes(account.sign_message(signable).signature)
    return SignedAction(data=data, nonce=nonce, deadline=deadline, signature=signature)


def recover_action_signer(signed: SignedAction, *, chain_id: int, registry: str) -> str:
    """The address that signed ``signed``; raises ValueError for a malformed signature."""
    signable = action_signable(signed.data, signed.nonce, signed.deadline, chain_id, registry)
    return str(Account.recover_message(signable, signature=signed.signature))


def jsonable(value: Any) -> Any:
    """An event argument as JSON: bytes as 0x hex, owners as objects, numbers as numbers."""
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, bool | int | str) or value is None:
        return value
    return str(value)


@dataclass(frozen=True)
class ActionEvent:
    """An event of the registry in a transaction's receipt, its arguments as JSON values."""

    name: str
    args: dict[str, Any]
    log_index: int


@dataclass(frozen=True)
class RecordedPropertyRegistry:
    address: str
    block_number: int
    document_registry: str


def recorded_property_registry(
    deployments_dir: Path, chain_id: int, *, document_registry: str | None = None
) -> RecordedPropertyRegistry:
    """The PropertyRegistry of the chain's deployment record; with ``document_registry``, only if
    it supersedes in that DocumentRegistry. Raises RegistryNotFound (saying why) otherwise."""
    record = read_deployment_record(deployments_dir, chain_id) or {}
    entry = record.get("contracts", {}).get(CONTRACT_NAME) or {}
    if not entry.get("address"):
        raise RegistryNotFound(
            f"no {CONTRACT_NAME} in deployment record {deployment_record_path(deployments_dir, chain_id)}"
        )
    found = RecordedPropertyRegistry(
        to_checksum_address(str(entry["address"])),
        int(entry.get("blockNumber") or 0),
        str(entry.get("documentRegistry") or ""),
    )
    if document_registry is not None and found.document_registry.lower() != document_registry.lower():
        raise RegistryNotFound(
            f"the recorded {CONTRACT_NAME} {found.address} works with another DocumentRegistry "
            f"({found.document_registry or 'unrecorded'}), not {document_registry}"
        )
    return found


class PropertyClient(ContractClient):
    """Reads need only a client; writes need a :class:`TransactionSender` for the acting key."""

    contract_name = CONTRACT_NAME

    @classmethod
    def from_record(cls, client: ChainClient, deployments_dir: Path) -> PropertyClient:
        """The PropertyRegistry named by the deployment record of the client's chain id."""
        registry = cls(client, recorded_property_registry(deployments_dir, client.chain_id).address)
        registry.ensure_deployed()
        return registry

    # ---------------------------------------------------------------------------- reads
    def document_registry(self) -> str:
        return str(self._call("documentRegistry"))

    def unit_state(self, unit: bytes) -> UnitState:
        return UnitState.from_tuple(self._call("unitState", unit))

    def transfer_case(self, case_id: int) -> TransferCase:
        return TransferCase.from_tuple(self._call("transferCase", case_id))

    def mortgage_history(self, unit: bytes) -> list[Mortgage]:
        return [Mortgage.from_tuple(m) for m in self._call("mortgageHistory", unit)]

    def seizure_history(self, unit: bytes) -> list[Seizure]:
        return [Seizure.from_tuple(s) for s in self._call("seizureHistory", unit)]

    def is_nonce_used(self, signer: str, nonce: int) -> bool:
        return bool(self._call("isNonceUsed", to_checksum_address(signer), nonce))

    def action_digest(self, data: bytes, nonce: int, deadline: int) -> bytes:
        """The digest the contract computes for a signed action (EIP-712, for checks and tests)."""
        return bytes(self._call("actionDigest", data, nonce, deadline))

    # --------------------------------------------------------------------------- writes
    def calldata(self, call: PropertyCall) -> bytes:
        """The ABI-encoded call of an action: what a key signs for :meth:`execute_signed`."""
        if call.function not in ACTIONS:
            raise ValueError(f"{call.function} is not an action of the PropertyRegistry")
        return bytes(HexBytes(self.contract.encode_abi(call.function, args=list(call.args))))

    def execute(self, sender: TransactionSender, call: PropertyCall) -> Receipt:
        """Send ``call`` from the acting key itself."""
        return self._send(sender, call.function, *call.args)

    def execute_signed(self, sender: TransactionSender, signed: SignedAction) -> Receipt:
        """Relay an action signed by the acting key; ``sender`` (the relayer) only pays and sends."""
        return self._send(sender, "executeSigned", signed.data, signed.nonce, signed.deadline, signed.signature)

    def execute_signed_function(self, signed: SignedAction) -> Any:
        """The unsent ``executeSigned`` call (for a relayer that submits and waits on its own)."""
        return self.contract.functions.executeSigned(signed.data, signed.nonce, signed.deadline, signed.signature)

    def register_unit(
        self, sender: TransactionSender, unit: bytes, certificate: Certificate, owners: Sequence[Owner]
    ) -> Receipt:
        return self.execute(sender, PropertyCall.register_unit(unit, certificate, owners))

    def open_transfer(
        self, sender: TransactionSender, unit: bytes, certificate: Certificate, owners: Sequence[Owner]
    ) -> tuple[Receipt, int]:
        """Open a case; returns the receipt and the new case's id."""
        receipt = self.execute(sender, PropertyCall.open_transfer(unit, certificate, owners))
        return receipt, int(self.receipt_event(receipt, "TransferOpened")["caseId"])

    def approve_transfer(self, sender: TransactionSender, case_id: int, round_: int, roles: Role) -> Receipt:
        return self.execute(sender, PropertyCall.approve_transfer(case_id, round_, roles))

    def reject_transfer(self, sender: TransactionSender, case_id: int, reason: int) -> Receipt:
        return self.execute(sender, PropertyCall.reject_transfer(case_id, reason))

    def return_transfer(self, sender: TransactionSender, case_id: int, reason: int) -> Receipt:
        return self.execute(sender, PropertyCall.return_transfer(case_id, reason))

    def resubmit_transfer(
        self, sender: TransactionSender, case_id: int, certificate: Certificate, owners: Sequence[Owner]
    ) -> Receipt:
        return self.execute(sender, PropertyCall.resubmit_transfer(case_id, certificate, owners))

    def cancel_transfer(self, sender: TransactionSender, case_id: int, reason: int) -> Receipt:
        return self.execute(sender, PropertyCall.cancel_transfer(case_id, reason))

    def open_correction(
        self,
        sender: TransactionSender,
        unit: bytes,
        certificate: Certificate | None,
        owners: Sequence[Owner],
        reason: int,
    ) -> tuple[Receipt, int]:
        """Open a correction case; returns the receipt and the case's id."""
        receipt = self.execute(sender, PropertyCall.open_correction(unit, certificate, owners, reason))
        return receipt, int(self.receipt_event(receipt, "CorrectionOpened")["caseId"])

    def approve_correction(self, sender: TransactionSender, case_id: int) -> Receipt:
        return self.execute(sender, PropertyCall.approve_correction(case_id))

    def approve_correction_call(self, case_id: int) -> Call:
        """The council's approval of a correction case (a governance call, through the time lock)."""
        return Call(self.address, bytes(HexBytes(self.contract.encode_abi("approveCorrection", args=[case_id]))))

    def consent_to_transfer(self, sender: TransactionSender, case_id: int, round_: int, mortgage_id: int) -> Receipt:
        return self.execute(sender, PropertyCall.consent_to_transfer(case_id, round_, mortgage_id))

    def register_mortgage(
        self, sender: TransactionSender, unit: bytes, certificate: Certificate
    ) -> tuple[Receipt, int]:
        """Register the sender's bank's mortgage; returns the receipt and the mortgage's id on the unit."""
        receipt = self.execute(sender, PropertyCall.register_mortgage(unit, certificate))
        return receipt, int(self.receipt_event(receipt, "MortgageRegistered")["mortgageId"])

    def release_mortgage(self, sender: TransactionSender, unit: bytes, mortgage_id: int) -> Receipt:
        return self.execute(sender, PropertyCall.release_mortgage(unit, mortgage_id))

    def register_seizure(self, sender: TransactionSender, unit: bytes, ruling: bytes) -> tuple[Receipt, int]:
        """Seize ``unit`` by the ruling hashed as ``ruling``; returns the receipt and the seizure's id."""
        receipt = self.execute(sender, PropertyCall.register_seizure(unit, ruling))
        return receipt, int(self.receipt_event(receipt, "SeizureRegistered")["seizureId"])

    def release_seizure(self, sender: TransactionSender, unit: bytes, seizure_id: int) -> Receipt:
        return self.execute(sender, PropertyCall.release_seizure(unit, seizure_id))

    # --------------------------------------------------------------------------- events
    def receipt_events(self, receipt: Receipt, name: str) -> list[dict[str, Any]]:
        """Decoded ``name`` events of this contract in ``receipt`` (arguments only)."""
        event = getattr(self.contract.events, name)()
        return [
            dict(log["args"])
            for log in event.process_receipt(receipt.raw, errors=DISCARD)
            if to_checksum_address(log["address"]) == self.address
        ]

    def action_events(self, receipt: Receipt) -> list[ActionEvent]:
        """Every event of this contract in ``receipt``, in log order, arguments as JSON values."""
        scanner = EventScanner(self.client, self.artifact, self.address)
        found = []
        for log in receipt.logs:
            if to_checksum_address(log["address"]) != self.address:
                continue
            event = scanner.decode(log)
            found.append(ActionEvent(event.name, jsonable(event.args), event.log_index))
        return found

    def receipt_event(self, receipt: Receipt, name: str) -> dict[str, Any]:
        found = self.receipt_events(receipt, name)
        if len(found) != 1:
            raise ChainError(f"expected one {name} event in {receipt.tx_hash}, found {len(found)}")
        return found[0]

    def history(self, unit: bytes, from_block: int = 0, to_block: int | None = None) -> Iterator[Event]:
        """The chain of title of ``unit``: every event keyed by it, oldest first."""
        end = self.client.block_number() if to_block is None else to_block
        scanner = EventScanner(self.client, self.artifact, self.address)
        for event in scanner.scan(from_block, end):
            if bytes(event.args.get("unitId", ZERO32)) == unit:
                yield event


def deploy_property_registry(
    client: ChainClient,
    sender: TransactionSender,
    *,
    deployments_dir: Path,
    document_registry: str,
    governance: GovernanceActor,
    force: bool = False,
) -> Deployment:
    """Deploy a PropertyRegistry on ``document_registry`` and have ``governance`` (the council:
    granting a role adds power, so through the time lock) grant it PROPERTY_REGISTRY_ROLE there.

    Reuses the recorded deployment when it is live, built from the same sources and wired to the
    same DocumentRegistry; a grant already in place is left alone.
    """
    document_registry = to_checksum_address(document_registry)
    if not client.code_at(document_registry):
        raise RegistryNotFound(f"no {DOCUMENT_REGISTRY} at {document_registry} on chain {client.chain_id}")
    deployment = deploy_contract(
        client,
        sender,
        name=CONTRACT_NAME,
        args=(document_registry,),
        deployments_dir=deployments_dir,
        record={"documentRegistry": document_registry},
        force=force,
    )
    documents = RegistryClient(client, document_registry)
    if not documents.has_role(PROPERTY_REGISTRY_ROLE, deployment.address):
        documents.grant_role(governance, PROPERTY_REGISTRY_ROLE, deployment.address)
    return deployment
