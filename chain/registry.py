"""Typed access to the deployed DocumentRegistry (which is also the issuer registry)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eth_utils.address import to_checksum_address
from hexbytes import HexBytes

from chain.batch import MAX_BATCH, Pending, ReadBatch
from chain.client import ChainClient
from chain.contract import ContractClient
from chain.errors import ContractRevert, RegistryNotFound
from chain.governance import Call, Governor, ProposalKind
from chain.sender import Receipt, TransactionSender
from chain.types import (
    ZERO32,
    Department,
    DocumentStatus,
    Role,
    SignedAnchor,
    SignedStatusChange,
    SignerKey,
    Sm2Key,
    StatusChange,
)

CONTRACT_NAME = "DocumentRegistry"
SM2_KEY_REGISTRY = "Sm2KeyRegistry"

#: A retirement from now on is protective (the council, at once) if it ends at least this long
#: after the latest block: a margin for the time the proposal takes to run (as chain.governance).
_RETIRE_MARGIN = 60

#: What carries out a governance write: the council (a :class:`chain.governance.Governor`), or a
#: plain sender, whose transaction the registry refuses unless it holds the role (tests show that).
GovernanceActor = Governor | TransactionSender


class Sm2KeyRegistryClient(ContractClient):
    """The Sm2KeyRegistry the DocumentRegistry deployed (reach it through :class:`RegistryClient`)."""

    contract_name = SM2_KEY_REGISTRY

    def key(self, key_id: bytes) -> Sm2Key | None:
        try:
            return Sm2Key.from_tuple(self._call("getSm2Key", key_id))
        except ContractRevert as revert:
            if revert.name == "Sm2KeyRegistryUnknownKey":
                return None
            raise

    def keys_of(self, department_id: bytes) -> list[bytes]:
        return [bytes(k) for k in self._call("sm2KeysOf", department_id)]

    def call(self, fn_name: str, *args: Any) -> Call:
        return Call(self.address, bytes(HexBytes(self.contract.encode_abi(fn_name, args=list(args)))))

    def send(self, sender: TransactionSender, fn_name: str, *args: Any) -> Receipt:
        return self._send(sender, fn_name, *args)


class RegistryClient(ContractClient):
    """Reads need only a client; writes need a :class:`TransactionSender` for the acting key."""

    contract_name = CONTRACT_NAME
    _sm2: Sm2KeyRegistryClient | None = None

    @classmethod
    def from_settings(cls, client: ChainClient) -> RegistryClient:
        """The registry named by settings, or by the deployment record of the chain id."""
        address = client.settings.registry_address or recorded_address(client.settings.deployments_dir, client.chain_id)
        registry = cls(client, address)
        registry.ensure_deployed()
        return registry

    # ---------------------------------------------------------------------------- reads
    def document_status(self, department: bytes, root: bytes, target_hash: bytes = ZERO32) -> DocumentStatus:
        """The status of ``root`` (and document ``target_hash``) as anchored by ``department``."""
        return DocumentStatus.from_tuple(self._call("documentStatus", department, root, target_hash))

    def status_history_length(self, department: bytes, root: bytes, target_hash: bytes = ZERO32) -> int:
        return int(self._call("statusHistoryLength", department, root, target_hash))

    def department(self, department_id: bytes) -> Department:
        return Department.from_tuple(self._call("getDepartment", department_id))

    def department_ids(self) -> list[bytes]:
        count = int(self._call("departmentCount"))
        return [bytes(self._call("departmentIdAt", i)) for i in range(1, count + 1)]

    def signer_key(self, signer: str) -> SignerKey:
        return SignerKey.from_tuple(self._call("getSignerKey", to_checksum_address(signer)))

    def known_signer_key(self, signer: str) -> SignerKey | None:
        """The signer key's record; None for an address that is no department's key."""
        try:
            return self.signer_key(signer)
        except ContractRevert as revert:
            if revert.name == "IssuerRegistryUnknownSigner":
                return None
            raise

    def live_signer_keys(self, department_id: bytes) -> list[str]:
        return [str(a) for a in self._call("liveSignerKeys", department_id)]

    def authorized_types(self, department_id: bytes) -> list[bytes]:
        return [bytes(t) for t in self._call("authorizedDocumentTypes", department_id)]

    def is_document_type(self, doc_type: bytes) -> bool:
        return bool(self._call("isDocumentType", doc_type))

    def can_anchor(self, signer: str, doc_type: bytes) -> tuple[bytes, bool]:
        department, allowed = self._call("canAnchor", to_checksum_address(signer), doc_type)
        return bytes(department), bool(allowed)

    def has_department_role(self, department_id: bytes, roles: Role) -> bool:
        return bool(self._call("hasDepartmentRole", department_id, int(roles)))

    def is_nonce_used(self, signer: str, nonce: int) -> bool:
        return bool(self._call("isNonceUsed", to_checksum_address(signer), nonce))

    def has_role(self, role: bytes, account: str) -> bool:
        return bool(self._call("hasRole", role, to_checksum_address(account)))

    def governor_role(self) -> bytes:
        return bytes(self._call("GOVERNOR_ROLE"))

    def guardian_role(self) -> bytes:
        return bytes(self._call("GUARDIAN_ROLE"))

    # ----------------------------------------------------------------- ereg/1-sm (SM3, SM2)
    def sm3_merkle_address(self) -> str:
        """The Sm3Merkle that verifies the SM3 proofs of ereg/1-sm batches."""
        return to_checksum_address(self._call("sm3Merkle"))

    def sm2_key_registry_address(self) -> str:
        return self.sm2_registry.address

    @property
    def sm2_registry(self) -> Sm2KeyRegistryClient:
        """The registry of the departments' SM2 keys (deployed by this registry, asked once)."""
        if self._sm2 is None:
            self._sm2 = Sm2KeyRegistryClient(self.client, to_checksum_address(self._call("sm2Keys")))
        return self._sm2

    def sm2_key(self, key_id: bytes) -> Sm2Key | None:
        """The SM2 key ``key_id`` (:func:`chain.types.key_id`); None for an unknown id."""
        return self.sm2_registry.key(key_id)

    def sm2_keys_of(self, department_id: bytes) -> list[bytes]:
        """Ids of every SM2 key ``department_id`` was ever given, in order."""
        return self.sm2_registry.keys_of(department_id)

    def sm2_call(self, fn_name: str, *args: Any) -> Call:
        """The unsent call of the Sm2KeyRegistry's ``fn_name``: one step of a governance proposal."""
        return self.sm2_registry.call(fn_name, *args)

    def add_sm2_key(
        self,
        gov: GovernanceActor,
        department_id: bytes,
        x: bytes,
        y: bytes,
        valid_from: int,
        valid_until: int = 0,
    ) -> Receipt | None:
        """Adds the SM2 key (x, y) to a department: through the time lock."""
        return self._govern_sm2(
            gov, ProposalKind.SCHEDULED, "addSm2Key", department_id, x, y, valid_from, valid_until
        )

    def retire_sm2_key(self, gov: GovernanceActor, key_id: bytes, valid_until: int) -> Receipt | None:
        """Ends an SM2 key's window: from now on (0, or later) at once, backdated through the time lock."""
        protective = valid_until == 0 or valid_until >= self.client.latest_block_time() + _RETIRE_MARGIN
        kind = ProposalKind.IMMEDIATE if protective else ProposalKind.SCHEDULED
        return self._govern_sm2(gov, kind, "retireSm2Key", key_id, valid_until)

    def _govern_sm2(self, gov: GovernanceActor, kind: ProposalKind, fn_name: str, *args: Any) -> Receipt | None:
        if isinstance(gov, TransactionSender):
            return self.sm2_registry.send(gov, fn_name, *args)
        return gov.run([self.sm2_call(fn_name, *args)], kind=kind)

    # ------------------------------------------------------------------------ governance
    def call(self, fn_name: str, *args: Any) -> Call:
        """The unsent call of ``fn_name``: one step of a governance proposal."""
        return Call(self.address, bytes(HexBytes(self.contract.encode_abi(fn_name, args=list(args)))))

    def _govern(self, gov: GovernanceActor, fn_name: str, *args: Any) -> Receipt | None:
        if isinstance(gov, TransactionSender):
            return self._send(gov, fn_name, *args)
        return gov.run([self.call(fn_name, *args)])

    def anchor_digest(self, signed: SignedAnchor) -> bytes:
        return bytes(self._call("anchorDigest", signed.as_tuple()))

    def status_change_digest(self, change: StatusChange, nonce: int, deadline: int) -> bytes:
        return bytes(self._call("statusChangeDigest", change.as_tuple(), nonce, deadline))

    # --------------------------------------------------------------------------- writes
    def register_department(
        self,
        gov: GovernanceActor,
        department_id: bytes,
        name: str,
        credit_code: str,
        roles: Role = Role.NONE,
    ) -> Receipt | None:
        return self._govern(gov, "registerDepartment", department_id, name, credit_code, int(roles))

    def set_department_active(self, gov: GovernanceActor, department_id: bytes, active: bool) -> Receipt | None:
        return self._govern(gov, "setDepartmentActive", department_id, active)

    def set_department_roles(self, gov: GovernanceActor, department_id: bytes, roles: Role) -> Receipt | None:
        return self._govern(gov, "setDepartmentRoles", department_id, int(roles))

    def add_signer_key(
        self,
        gov: GovernanceActor,
        department_id: bytes,
        signer: str,
        valid_from: int,
        valid_until: int = 0,
    ) -> Receipt | None:
        return self._govern(
            gov,
            "addSignerKey",
            department_id,
            to_checksum_address(signer),
            valid_from,
            valid_until,
        )

    def retire_signer_key(self, gov: GovernanceActor, signer: str, valid_until: int) -> Receipt | None:
        return self._govern(gov, "retireSignerKey", to_checksum_address(signer), valid_until)

    def register_document_type(self, gov: GovernanceActor, name: str) -> Receipt | None:
        return self._govern(gov, "registerDocumentType", name)

    def authorize_document_type(self, gov: GovernanceActor, department_id: bytes, doc_type: bytes) -> Receipt | None:
        return self._govern(gov, "authorizeDocumentType", department_id, doc_type)

    def deauthorize_document_type(self, gov: GovernanceActor, department_id: bytes, doc_type: bytes) -> Receipt | None:
        return self._govern(gov, "deauthorizeDocumentType", department_id, doc_type)

    def govern_change_status(self, gov: GovernanceActor, department: bytes, change: StatusChange) -> Receipt | None:
        """A status change by governance on a record of ``department``."""
        return self._govern(gov, "governChangeStatus", department, change.as_tuple())

    def grant_role(self, gov: GovernanceActor, role: bytes, account: str) -> Receipt | None:
        return self._govern(gov, "grantRole", role, to_checksum_address(account))

    def anchor(self, sender: TransactionSender, root: bytes, doc_type: bytes, count: int) -> Receipt:
        return self._send(sender, "anchor", root, doc_type, count)

    def anchor_signed(self, sender: TransactionSender, signed: SignedAnchor) -> Receipt:
        return self._send(sender, "anchorSigned", signed.as_tuple())

    def anchor_many(self, sender: TransactionSender, signed: Sequence[SignedAnchor]) -> Receipt:
        return self._send(sender, "anchorMany", [s.as_tuple() for s in signed])

    def change_status(self, sender: TransactionSender, change: StatusChange) -> Receipt:
        return self._send(sender, "changeStatus", change.as_tuple())

    def change_status_signed(self, sender: TransactionSender, signed: SignedStatusChange) -> Receipt:
        return self._send(sender, "changeStatusSigned", signed.as_tuple())

    def change_status_many(self, sender: TransactionSender, signed: Sequence[SignedStatusChange]) -> Receipt:
        return self._send(sender, "changeStatusMany", [s.as_tuple() for s in signed])


class RegistryBatch:
    """Reads of the registry gathered into JSON-RPC batches (:class:`chain.batch.ReadBatch`):
    the views of :class:`RegistryClient`, decoded the same way, each answered by a Pending once
    :meth:`send` has sent them (one round trip per ``max_size`` reads)."""

    def __init__(self, registry: RegistryClient, *, max_size: int = MAX_BATCH) -> None:
        self.registry = registry
        self.reads = ReadBatch(registry.client, max_size=max_size)

    def __len__(self) -> int:
        return len(self.reads)

    def send(self) -> None:
        self.reads.send()

    def latest_block_time(self) -> Pending[int]:
        return self.reads.latest_block_time()

    def signer_key(self, signer: str) -> Pending[SignerKey]:
        return self.reads.view(SignerKey.from_tuple, self.registry, "getSignerKey", to_checksum_address(signer))

    def department(self, department_id: bytes) -> Pending[Department]:
        return self.reads.view(Department.from_tuple, self.registry, "getDepartment", department_id)

    def can_anchor(self, signer: str, doc_type: bytes) -> Pending[tuple[bytes, bool]]:
        return self.reads.view(_can_anchor, self.registry, "canAnchor", to_checksum_address(signer), doc_type)

    def document_status(self, department: bytes, root: bytes, target_hash: bytes = ZERO32) -> Pending[DocumentStatus]:
        return self.reads.view(
            DocumentStatus.from_tuple, self.registry, "documentStatus", department, root, target_hash
        )

    def is_nonce_used(self, signer: str, nonce: int) -> Pending[bool]:
        return self.reads.view(bool, self.registry, "isNonceUsed", to_checksum_address(signer), nonce)

    def change_status_signed(self, signed: SignedStatusChange, sender: str) -> Pending[Any]:
        """What ``changeStatusSigned`` would do if ``sender`` sent it now: a revert, or nothing."""
        return self.reads.call(self.registry, "changeStatusSigned", signed.as_tuple(), sender=sender)


def _can_anchor(value: Any) -> tuple[bytes, bool]:
    department, allowed = value
    return bytes(department), bool(allowed)


def deployment_record_path(deployments_dir: Path, chain_id: int) -> Path:
    return deployments_dir / f"{chain_id}.json"


def read_deployment_record(deployments_dir: Path, chain_id: int) -> dict[str, Any] | None:
    path = deployment_record_path(deployments_dir, chain_id)
    try:
        record: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise RegistryNotFound(f"deployment record {path} is unreadable: {exc}") from exc
    return record


def recorded_address(deployments_dir: Path, chain_id: int) -> str:
    record = read_deployment_record(deployments_dir, chain_id)
    if record is None or CONTRACT_NAME not in record.get("contracts", {}):
        raise RegistryNotFound(
            f"no registry address configured (EREG_REGISTRY_ADDRESS) and no deployment record "
            f"{deployment_record_path(deployments_dir, chain_id)}"
        )
    return str(record["contracts"][CONTRACT_NAME]["address"])
