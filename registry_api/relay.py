"""Accepting department-signed requests: check each against the chain's registry, then store it.

Nothing is stored unless every item of a request passes; nothing is answered 202 before it is
stored. Checks follow the contract's own order, so a request the relay accepts is one the
registry would take (unless the chain changes in between, which the batcher settles).

Records belong to their department: the registry keys anchors by (department, root), so every
check reads the record of the signer's department. A root another department anchored (first,
or by front-running a request it saw) neither blocks this department's anchor nor lets that
department change this one's record.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data
from eth_keys.exceptions import BadSignature
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from eth_utils.exceptions import ValidationError as KeyValidationError

from chain.batch import Pending
from chain.eip712 import ANCHOR_TYPES, STATUS_CHANGE_TYPES, anchor_message, domain, status_change_message
from chain.errors import ChainError, ChainUnavailable, ContractRevert, RegistryNotFound
from chain.registry import RegistryBatch, RegistryClient
from chain.types import ZERO32, Action, Department, DocumentStatus, SignedAnchor, SignedStatusChange, SignerKey
from httpkit.errors import HttpError
from httpkit.ratelimit import RateLimiter, too_many
from registry_api import errors
from registry_api.errors import RelayError
from registry_api.messages import AcceptedItem, AnchorRequest, Domain, StatusChangeRequest, to_hex
from registry_api.queue import REJECTED, NewRequest, QueueConflict, RequestQueue

T = TypeVar("T")
D = TypeVar("D", bound=Domain)

#: secp256k1 group order; OpenZeppelin's ECDSA refuses s in the upper half (malleability).
_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

#: Custom errors of the registry -> the relay's refusal codes.
REVERT_CODES: dict[str, str] = {
    "DocumentRegistryExpiredSignature": "EXPIRED",
    "DocumentRegistryInvalidSignature": "BAD_SIGNATURE",
    "DocumentRegistryNonceUsed": "NONCE_USED",
    "DocumentRegistryRootAlreadyAnchored": "ALREADY_ANCHORED",
    "DocumentRegistryTitleLocked": "TITLE_LOCKED",
    "DocumentRegistryUnknownRoot": "UNKNOWN_ROOT",
    "DocumentRegistryInvalidProof": "INVALID_PROOF",
    "DocumentRegistryUnauthorized": "NOT_AUTHORIZED",
    "DocumentRegistryAlreadyRevoked": "ALREADY_REVOKED",
    "DocumentRegistryNotSuspended": "INVALID_TRANSITION",
    "DocumentRegistryInvalidTransition": "INVALID_TRANSITION",
    "DocumentRegistryInvalidAction": "INVALID_ACTION",
    "DocumentRegistryInvalidSuccessor": "INVALID_SUCCESSOR",
    "DocumentRegistryInvalidCount": "INVALID_COUNT",
    "DocumentRegistryInvalidRoot": "INVALID_ROOT",
    "IssuerRegistryUnknownSigner": "UNKNOWN_KEY",
    "IssuerRegistryKeyNotValid": "KEY_NOT_VALID",
    "IssuerRegistryDepartmentInactive": "NOT_AUTHORIZED",
    "IssuerRegistryTypeNotAuthorized": "NOT_AUTHORIZED",
}


#: Refusal codes of a status change that the registry would refuse *now* (the state may change).
CONFLICT_CODES = frozenset({"ALREADY_REVOKED", "INVALID_TRANSITION", "NONCE_USED", "TITLE_LOCKED"})


def revert_code(revert: ContractRevert) -> str:
    return REVERT_CODES.get(revert.name, "CONTRACT_REFUSED")


def anchor_in_force(registry: RegistryClient | ChainView, status: DocumentStatus) -> bool:
    """Whether a department's anchor of a root counts: made by a key inside its window then.

    After a retirement backdated to a compromise it does not, and the registry lets the
    department anchor its genuine root again (a fresh record).
    """
    return registry.signer_key(status.signer).valid_at(status.anchored_at)


def reason_of(revert: ContractRevert) -> str:
    """How a refusal by the contract is recorded on a request: ``CODE: Error(args)``."""
    return f"{revert_code(revert)}: {revert}"


def eip191_digest(signable: SignableMessage) -> bytes:
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def anchor_signable(signed: SignedAnchor, chain_id: int, registry: str) -> SignableMessage:
    return encode_typed_data(
        domain(chain_id, registry),
        ANCHOR_TYPES,
        anchor_message(signed.root, signed.doc_type, signed.count, signed.deadline),
    )


def status_change_signable(signed: SignedStatusChange, chain_id: int, registry: str) -> SignableMessage:
    return encode_typed_data(
        domain(chain_id, registry),
        STATUS_CHANGE_TYPES,
        status_change_message(signed.change, signed.nonce, signed.deadline),
    )


def recover(signable: SignableMessage, signature: bytes) -> str:
    """The signer of ``signable``, with OpenZeppelin ECDSA's rules (65 bytes, low s, v 27/28)."""
    if len(signature) != 65:
        raise errors.bad_signature("a signature has 65 bytes")
    s = int.from_bytes(signature[32:64], "big")
    v = signature[64]
    if v not in (27, 28):
        raise errors.bad_signature("v must be 27 or 28")
    if s == 0 or s > _SECP256K1_N // 2:
        raise errors.bad_signature("s is out of range")
    try:
        return str(Account.recover_message(signable, signature=signature))
    except (ValueError, TypeError, BadSignature, KeyValidationError) as exc:
        # e.g. r is no x coordinate on the curve (eth_keys' errors are not ValueErrors)
        raise errors.bad_signature(type(exc).__name__) from None


def registry_not_found(detail: str) -> RelayError:
    """No registry code where the relay's registry should be (a reset chain, a resyncing node, a
    wrong address): the relay cannot check anything, and stores nothing."""
    return RelayError(
        503,
        "REGISTRY_NOT_FOUND",
        f"the registry is not on the chain the relay serves: {detail}; nothing was stored",
        "区块链上未找到登记合约，请求未保存",
    )


def check_key_rate(limiter: RateLimiter | None, signers: Sequence[str]) -> None:
    """The per-key rate limit, one token per signed item, before any chain read (429 RATE_LIMITED)."""
    if limiter is None:
        return
    for signer, items in Counter(s.lower() for s in signers).items():
        wait = limiter.acquire(signer, float(min(items, limiter.burst)))
        if wait > 0:
            raise too_many(
                wait,
                message=f"department key {signer} has sent more signed items than its rate allows",
                message_zh="该部门签名密钥提交过于频繁",
            )


#: Reads per JSON-RPC batch of a POST's checks: a POST of ``max_items`` (1,000) anchors is then
#: two round trips at most, within Besu's default limit of 1,024 requests per batch.
READS_PER_BATCH = 1000

#: Signer keys whose department the relay remembers (a key never changes department): enough for
#: every key of a network; forgotten all at once beyond.
_KNOWN_KEYS = 10_000


class ChainView:
    """What one POST's checks read from the chain, fetched beforehand in JSON-RPC batches.

    The checks then run item by item in the order they always did, asking this view instead of
    the node; a read fails (a revert, say) only where the check asks for it, as the single read
    would have. The reads are gathered in rounds, each one batch (or a few, past
    :data:`READS_PER_BATCH`): the latest block, every signer's key and the per-item views of the
    signer's department where the relay already knows that department from an earlier POST
    (``departments``, which a key never leaves); then the reads of departments learnt from the
    keys just read; then the keys behind roots found anchored. Anything a check asks for that was
    not fetched is read on its own (it should not happen; it keeps the checks right if it does).
    """

    def __init__(self, registry: RegistryClient, departments: dict[str, bytes]) -> None:
        self.registry = registry
        self.departments = departments
        self._batch = RegistryBatch(registry, max_size=READS_PER_BATCH)
        self._now: Pending[int] | None = None
        self._keys: dict[str, Pending[SignerKey]] = {}
        self._department: dict[bytes, Pending[Department]] = {}
        self._can_anchor: dict[tuple[str, bytes], Pending[tuple[bytes, bool]]] = {}
        self._status: dict[tuple[bytes, bytes], Pending[DocumentStatus]] = {}
        self._nonce: dict[tuple[str, int], Pending[bool]] = {}

    # ------------------------------------------------------------------- gathering
    def want_key(self, address: str) -> None:
        address = to_checksum_address(address)
        if address not in self._keys:
            self._keys[address] = self._batch.signer_key(address)

    def want_department(self, department: bytes) -> None:
        if department not in self._department:
            self._department[department] = self._batch.department(department)

    def want_status(self, department: bytes, root: bytes) -> None:
        if (department, root) not in self._status:
            self._status[(department, root)] = self._batch.document_status(department, root)

    def want_can_anchor(self, address: str, doc_type: bytes) -> None:
        key = (to_checksum_address(address), doc_type)
        if key not in self._can_anchor:
            self._can_anchor[key] = self._batch.can_anchor(*key)

    def want_nonce(self, address: str, nonce: int) -> None:
        key = (to_checksum_address(address), nonce)
        if key not in self._nonce:
            self._nonce[key] = self._batch.is_nonce_used(*key)

    def fetch(self, per_signer: dict[str, list[bytes]]) -> None:
        """Sends the reads gathered so far with the latest block, every key in ``per_signer``
        and the documentStatus of its roots in its department (known or, once its key is read,
        learnt), then the keys behind roots found anchored: one batch per round, at most three."""
        self._now = self._batch.latest_block_time()
        for address in per_signer:
            self.want_key(address)
        for address, roots in per_signer.items():
            guess = self.departments.get(to_checksum_address(address))
            if guess is not None:
                self._want_department_reads(guess, roots)
        self._batch.send()
        for address, roots in per_signer.items():
            department = self._department_of(address)
            if department is not None:
                self._want_department_reads(department, roots)
        self._send_if_any()
        for status in list(self._status.values()):
            value = _value_of(status)
            if value is not None and value.anchored:
                self.want_key(value.signer)
        self._send_if_any()

    def _want_department_reads(self, department: bytes, roots: list[bytes]) -> None:
        self.want_department(department)
        for root in roots:
            self.want_status(department, root)

    def _department_of(self, address: str) -> bytes | None:
        address = to_checksum_address(address)
        key = _value_of(self._keys[address])
        if key is None:
            return None
        if len(self.departments) >= _KNOWN_KEYS:
            self.departments.clear()
        self.departments[address] = key.department
        return key.department

    def _send_if_any(self) -> None:
        if len(self._batch):
            self._batch.send()

    # --------------------------------------------------------------------- reading
    def now(self) -> int:
        if self._now is None:
            return self.registry.client.latest_block_time()
        return self._now.get()

    def signer_key(self, address: str) -> SignerKey:
        pending = self._keys.get(to_checksum_address(address))
        return self.registry.signer_key(address) if pending is None else pending.get()

    def department(self, department: bytes) -> Department:
        pending = self._department.get(department)
        return self.registry.department(department) if pending is None else pending.get()

    def can_anchor(self, address: str, doc_type: bytes) -> tuple[bytes, bool]:
        pending = self._can_anchor.get((to_checksum_address(address), doc_type))
        return self.registry.can_anchor(address, doc_type) if pending is None else pending.get()

    def document_status(self, department: bytes, root: bytes) -> DocumentStatus:
        pending = self._status.get((department, root))
        return self.registry.document_status(department, root) if pending is None else pending.get()

    def is_nonce_used(self, address: str, nonce: int) -> bool:
        pending = self._nonce.get((to_checksum_address(address), nonce))
        return self.registry.is_nonce_used(address, nonce) if pending is None else pending.get()

    def simulate_changes(self, changes: Sequence[SignedStatusChange], sender: str) -> list[Pending[Any]]:
        """What changeStatusSigned would answer to each of ``changes`` sent by ``sender`` now (one
        batch): each Pending raises the ContractRevert its call would raise."""
        batch = RegistryBatch(self.registry, max_size=READS_PER_BATCH)
        answers = [batch.change_status_signed(signed, sender) for signed in changes]
        batch.send()
        return answers


def _value_of(pending: Pending[T]) -> T | None:
    """The read's value, or None where it failed (the check that needs it raises its error)."""
    try:
        return pending.get()
    except ChainError:
        return None


@dataclass
class _Signer:
    address: str
    department: bytes


@dataclass(frozen=True)
class _Recovered:
    """An item whose signature was checked locally: what it signs, its digest and its signer."""

    digest: str
    address: str


class Relay:
    """Checks signed requests against the chain and stores the good ones in the queue."""

    def __init__(
        self,
        registry: RegistryClient,
        queue: RequestQueue,
        *,
        chain_id: int,
        relayer_address: str,
        deadline_margin: int = 30,
        key_limiter: RateLimiter | None = None,
        department_quota: int = 0,
        quota_retry_after: float = 2.0,
    ) -> None:
        self.registry = registry
        self.queue = queue
        self.chain_id = chain_id
        self.registry_address = registry.address
        self.relayer_address = to_checksum_address(relayer_address)
        self.deadline_margin = deadline_margin
        self.key_limiter = key_limiter
        #: QUEUED requests a department may have at once (0: no quota), and the Retry-After of a
        #: refusal: about one batch age, after which the batcher has sent what was due.
        self.department_quota = department_quota
        self.quota_retry_after = quota_retry_after
        self._chain_checked = False
        self._lock = threading.Lock()
        #: The department of each signer key seen (a key never changes department): a POST's
        #: reads of its signers' departments then go in its first batch (see ChainView).
        self._key_departments: dict[str, bytes] = {}

    # ------------------------------------------------------------------------- public
    def accept_anchors(self, items: Sequence[AnchorRequest]) -> list[AcceptedItem]:
        recovered = [self._recover(index, item, self._anchor_signable) for index, item in enumerate(items)]
        check_key_rate(self.key_limiter, [r.address for r in recovered])
        return self._chain(lambda: self._accept_anchors(items, recovered))

    def accept_status_changes(self, items: Sequence[StatusChangeRequest]) -> list[AcceptedItem]:
        recovered = [self._recover(index, item, self._status_signable) for index, item in enumerate(items)]
        check_key_rate(self.key_limiter, [r.address for r in recovered])
        return self._chain(lambda: self._accept_status_changes(items, recovered))

    # ----------------------------------------------------------------------- internals
    def _anchor_signable(self, item: AnchorRequest) -> tuple[SignableMessage, bytes]:
        signed = item.signed()
        return anchor_signable(signed, self.chain_id, self.registry_address), signed.signature

    def _status_signable(self, item: StatusChangeRequest) -> tuple[SignableMessage, bytes]:
        signed = item.signed()
        change = signed.change
        if change.action == Action.SUPERSEDE and change.target_hash == ZERO32:
            raise RelayError(
                422, "INVALID_ACTION", "a whole batch cannot be superseded: give targetHash", "整批不能被替换"
            )
        return status_change_signable(signed, self.chain_id, self.registry_address), signed.signature

    def _recover(self, index: int, item: D, signable_of: Callable[[D], tuple[SignableMessage, bytes]]) -> _Recovered:
        """Local checks only (domain, form, signature): no chain read, so the key's rate comes next."""
        try:
            self._check_domain(item)
            signable, signature = signable_of(item)
            return _Recovered(to_hex(eip191_digest(signable)), recover(signable, signature))
        except RelayError as refusal:
            raise refusal.at(index) from None

    def _chain(self, fn: Callable[[], T]) -> T:
        try:
            if not self._chain_checked:
                self.registry.client.check_chain_id()
                self.registry.ensure_deployed()
                self._chain_checked = True
            return fn()
        except RegistryNotFound as exc:
            self._chain_checked = False  # a reset chain: check the code again next time
            raise registry_not_found(str(exc)) from None
        except ChainUnavailable:
            raise errors.chain_unavailable() from None
        except ContractRevert as revert:  # a view reverted where none should: report, do not store
            raise errors.rejected_by_contract(revert_code(revert), str(revert)) from None
        except ChainError as exc:
            raise RelayError(502, exc.code, f"the chain refused a read: {exc}", exc.message_zh) from None

    def _check_quota(self, department: bytes, adding: int) -> None:
        """429 QUOTA_EXCEEDED when the department's QUEUED requests plus ``adding`` pass its quota.

        Counted by department, not by signer key: the quota is the department's share of the
        queue, whichever of its keys (rotated, one per window) signed. A soft bound: two
        requests at the same instant may both pass the count.
        """
        if self.department_quota <= 0:
            return
        queued = self.queue.count_queued_of_department(to_hex(department))
        if queued + adding > self.department_quota:
            seconds = max(1, math.ceil(self.quota_retry_after))
            raise HttpError(
                429,
                "QUOTA_EXCEEDED",
                f"department {to_hex(department)} has {queued} requests waiting to be sent; at most "
                f"{self.department_quota} may wait at once, this request adds {adding}; retry after {seconds} s",
                f"本部门待上链请求已有 {queued} 项，上限为 {self.department_quota} 项，请 {seconds} 秒后重试",
                headers={"Retry-After": str(seconds)},
            )

    def _check_quotas(self, pending: Sequence[tuple[int, NewRequest]]) -> None:
        for department, adding in Counter(req.department for _, req in pending).items():
            self._check_quota(bytes.fromhex(department[2:]), adding)

    def _check_domain(self, item: Domain) -> None:
        if item.chain_id is not None and item.chain_id != self.chain_id:
            raise errors.wrong_chain(f"chain id {item.chain_id}, this relay serves {self.chain_id}")
        if item.registry is not None and item.registry.lower() != self.registry_address.lower():
            raise errors.wrong_chain(f"registry {item.registry}, this relay serves {self.registry_address}")

    def _view(self) -> ChainView:
        return ChainView(self.registry, self._key_departments)

    def _check_deadline(self, deadline: int, now: int) -> None:
        if deadline < now + self.deadline_margin:
            raise errors.expired(deadline, now, self.deadline_margin)

    def _signer(self, address: str, now: int, cache: dict[str, _Signer], view: ChainView) -> _Signer:
        """The signer's department, after checking the key's window and the department's activity."""
        known = cache.get(address)
        if known is not None:
            return known
        try:
            key = view.signer_key(address)
        except ContractRevert as revert:
            if revert.name == "IssuerRegistryUnknownSigner":
                raise errors.unknown_key(address) from None
            raise
        if not key.valid_at(now):
            raise errors.key_not_valid(address, key.valid_from, key.valid_until, now)
        if not view.department(key.department).active:
            raise errors.not_authorized(f"department {to_hex(key.department)} is inactive")
        self._check_quota(key.department, 1)  # at its quota already: refused before the item's own reads
        signer = cache[address] = _Signer(address, key.department)
        return signer

    def _store(self, pending: list[tuple[int, NewRequest]], results: list[AcceptedItem | None]) -> list[AcceptedItem]:
        self._check_quotas(pending)
        try:
            stored = self.queue.add([req for _, req in pending])
        except QueueConflict as conflict:
            index, req = pending[conflict.index]
            if req.kind == "anchor":
                raise errors.already_queued(req.root, conflict.existing_id).at(index) from None
            raise errors.nonce_used(req.signer, int(req.payload["nonce"])).at(index) from None
        for (index, req), accepted in zip(pending, stored, strict=True):
            results[index] = AcceptedItem(
                id=accepted.id, state=accepted.state, duplicate=accepted.duplicate, root=req.root, signer=req.signer
            )
        return [r for r in results if r is not None]

    def _duplicate(self, dedup_key: str) -> AcceptedItem | None:
        existing = self.queue.by_dedup_key(dedup_key)
        if existing is None:
            return None
        return AcceptedItem(
            id=existing.id, state=existing.state, duplicate=True, root=existing.root, signer=existing.signer
        )

    def _prefetch(
        self,
        items: Sequence[D],
        recovered: Sequence[_Recovered],
        root_of: Callable[[D], bytes],
        want: Callable[[ChainView, str, D], None],
    ) -> tuple[ChainView, int]:
        """A POST's chain reads in one go: every signer's key and its roots' status, and what
        ``want`` adds per item; the view to check the items against and the chain's time."""
        view = self._view()
        per_signer: dict[str, list[bytes]] = {}
        for item, checked in zip(items, recovered, strict=True):
            per_signer.setdefault(checked.address, []).append(root_of(item))
            want(view, checked.address, item)
        view.fetch(per_signer)
        return view, view.now()

    def _accept_anchors(self, items: Sequence[AnchorRequest], recovered: Sequence[_Recovered]) -> list[AcceptedItem]:
        view, now = self._prefetch(
            items,
            recovered,
            lambda item: item.signed().root,
            lambda view, address, item: view.want_can_anchor(address, item.signed().doc_type),
        )
        signers: dict[str, _Signer] = {}
        results: list[AcceptedItem | None] = [None] * len(items)
        pending: list[tuple[int, NewRequest]] = []
        for index, (item, checked) in enumerate(zip(items, recovered, strict=True)):
            try:
                signed = item.signed()
                digest, address = checked.digest, checked.address
                duplicate = self._duplicate(digest)
                if duplicate is not None:
                    results[index] = duplicate
                    continue
                self._check_deadline(signed.deadline, now)
                signer = self._signer(address, now, signers, view)
                _department, allowed = view.can_anchor(address, signed.doc_type)
                if not allowed:
                    raise errors.not_authorized(f"not authorized for document type {item.doc_type}")
                # Only the signer's department's own record counts: a root anchored by another
                # department (even a front-run of this very request) does not block it.
                status = view.document_status(signer.department, signed.root)
                voided_at: int | None = None
                if status.anchored:
                    if anchor_in_force(view, status):
                        raise errors.already_anchored(item.root, signer.department)
                    voided_at = status.anchored_at  # anchored again over a voided anchor
            except RelayError as refusal:
                raise refusal.at(index) from None
            department = to_hex(signer.department)
            pending.append(
                (
                    index,
                    NewRequest(
                        kind="anchor",
                        payload=item.payload(),
                        signer=address,
                        department=department,
                        root=item.root,
                        target=to_hex(ZERO32),
                        dedup_key=digest,
                        # one live anchor request per (department, root): departments do not block each other
                        conflict_key=anchor_conflict_key(department, item.root, voided_at),
                        deadline=signed.deadline,
                    ),
                )
            )
        return self._store(pending, results)

    def _accept_status_changes(
        self, items: Sequence[StatusChangeRequest], recovered: Sequence[_Recovered]
    ) -> list[AcceptedItem]:
        view, now = self._prefetch(
            items,
            recovered,
            lambda item: item.signed().change.root,
            lambda view, address, item: view.want_nonce(address, item.signed().nonce),
        )
        signers: dict[str, _Signer] = {}
        results: list[AcceptedItem | None] = [None] * len(items)
        pending: list[tuple[int, NewRequest]] = []
        # Items whose last check is the registry's own answer (a simulated changeStatusSigned):
        # simulated together, in one batch, when the loop ends or an item after them fails.
        simulate: list[tuple[int, StatusChangeRequest, SignedStatusChange]] = []
        for index, (item, checked) in enumerate(zip(items, recovered, strict=True)):
            try:
                try:
                    signed = item.signed()
                    digest, address = checked.digest, checked.address
                    duplicate = self._duplicate(digest)
                    if duplicate is not None:
                        results[index] = duplicate
                        continue
                    self._check_deadline(signed.deadline, now)
                    signer = self._signer(address, now, signers, view)
                    if view.is_nonce_used(address, signed.nonce):
                        raise errors.nonce_used(address, signed.nonce)
                    if self._check_status_change(item, signed, signer, view):
                        simulate.append((index, item, signed))
                except RelayError as refusal:
                    raise refusal.at(index) from None
            except Exception:
                self._simulate(simulate, view)  # an earlier item the registry refuses is reported first
                raise
            pending.append(
                (
                    index,
                    NewRequest(
                        kind="status",
                        payload=item.payload(),
                        signer=address,
                        department=to_hex(signer.department),
                        root=item.root.lower(),
                        target=item.target_hash.lower(),
                        dedup_key=digest,
                        conflict_key=f"{address}:{signed.nonce}",
                        deadline=signed.deadline,
                    ),
                )
            )
        self._simulate(simulate, view)
        return self._store(pending, results)

    def _check_status_change(
        self, item: StatusChangeRequest, signed: SignedStatusChange, signer: _Signer, view: ChainView
    ) -> bool:
        """The relay's own checks of a status change; True when the registry's answer to the
        signed change (simulated by :meth:`_simulate`) decides the rest."""
        root = item.root.lower()
        department = to_hex(signer.department)
        status = view.document_status(signer.department, signed.change.root)
        # The relay's requests of the signer's department only: another department's are its own records.
        live = [r for r in self.queue.by_root(root) if r.state != REJECTED and r.department == department]
        if not status.anchored:
            if not any(r.kind == "anchor" for r in live):
                raise errors.unknown_root(item.root, signer.department)
            return False  # the batcher anchors before it changes statuses; it settles the rest
        reanchoring = any(r.kind == "anchor" and r.state in ("QUEUED", "SUBMITTED") for r in live)
        if reanchoring and not anchor_in_force(view, status):
            return False  # the root is anchored again over a voided anchor first: the batcher settles the rest
        target = item.target_hash.lower()
        # an earlier change of the same document still on its way: the batcher decides
        return not any(r.kind == "status" and r.target == target and r.state in ("QUEUED", "SUBMITTED") for r in live)

    def _simulate(self, items: list[tuple[int, StatusChangeRequest, SignedStatusChange]], view: ChainView) -> None:
        """Asks the registry, in one batch, what it would answer to each signed change sent by the
        relayer now; raises the refusal of the first it would refuse, at its item's index."""
        if not items:
            return
        asked = list(items)
        items.clear()  # simulated once, whichever way this ends
        answers = view.simulate_changes([signed for _, _, signed in asked], self.relayer_address)
        for (index, item, _signed), answer in zip(asked, answers, strict=True):
            try:
                answer.get()
            except ContractRevert as revert:
                code = revert_code(revert)
                if code == "TITLE_LOCKED":
                    raise errors.title_locked(item.root, item.target_hash, str(revert)).at(index) from None
                status_code = 409 if code in CONFLICT_CODES else 422
                raise RelayError(
                    status_code, code, f"the registry would refuse this change: {revert}", "登记合约将拒绝该状态变更"
                ).at(index) from None


def anchor_conflict_key(department: str, root: str, voided_at: int | None = None) -> str:
    """What makes two live anchor requests one too many: the same department and root, and, for
    a root whose anchor was voided (its key retired back to before it), the same voided anchor:
    the request that carried that anchor does not stop the department anchoring the root again."""
    key = f"{department.lower()}:{root.lower()}"
    return key if voided_at is None else f"{key}:over:{voided_at}"
