"""The verification itself: integrity locally, status and issuer from the index (or the chain).

The hot path reads only the local index. The chain is asked only when the index cannot answer:
a root newer than the index, a signer whose key predates the index, or an index that has not
synced recently (then an unreachable chain gives ERROR, never a stale VALID or an INVALID).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chain.errors import ChainError
from chain.registry import RegistryClient
from chain.types import State
from documents import (
    DecryptionError,
    IntegrityCode,
    QrUrlError,
    check_integrity,
    disclosed_fields,
    open_envelope,
    parse_qr_url,
)
from documents.hashing import keccak256
from documents.model import WrappedDocument, parse_time
from storage import DocumentStore
from storage.errors import BlobNotFound, CidMismatch, InvalidCid, StorageError
from verifier.index import ChainIndex
from verifier.verdict import (
    VERDICT_MESSAGES,
    AnchorInfo,
    DocumentInfo,
    Fragment,
    FragmentName,
    IssuerInfo,
    Status,
    StatusInfo,
    Verdict,
    overall,
)

ZERO32 = b"\x00" * 32
_PRECEDENCE = (State.REVOKED, State.SUPERSEDED, State.SUSPENDED)

#: Deepest nesting of arrays and objects accepted in JSON input (a document's data nests at most
#: 32 levels). Checked before parsing: this process runs with the recursion limit web3's py_ecc
#: sets (100,000), so a deep enough input overflows the C stack of ``json`` instead of raising.
@dataclass(frozen=True)
class Facts:
    """What the chain says about one document, from the index or from the chain itself."""

    anchored: bool
    department: bytes = ZERO32
    signer: str = ""
    doc_type: bytes = ZERO32
    count: int = 0
    anchored_at: int = 0
    block_number: int | None = None
    tx_hash: str | None = None
    state: State = State.ACTIVE
    reason: int = 0
    changed_at: int = 0
    successor: bytes = ZERO32
    key_window: tuple[int, int] | None = None  # (valid_from, valid_until); 0 = open
    department_name: str | None = None
    credit_code: str | None = None
    source: str = "index"


class ChainGateway:
    """Lazy access to the chain for the fallback path; any failure is ChainError."""

    def __init__(self, registry_factory: Callable[[], RegistryClient]) -> None:
        self._factory = registry_factory
        self._registry: RegistryClient | None = None

    def registry(self) -> RegistryClient:
        if self._registry is None:
            self._registry = self._factory()
        return self._registry

    def facts(self, root: bytes, target_hash: bytes) -> Facts:
        registry = self.registry()
        status = registry.document_status(root, target_hash)
        if not status.anchored:
            return Facts(anchored=False, source="chain")
        state, record = State.ACTIVE, None
        for candidate in _PRECEDENCE:
            if status.batch.state == candidate:
                state, record = candidate, status.batch
                break
            if status.document.state == candidate:
                state, record = candidate, status.document
                break
        key = registry.signer_key(status.signer)
        dept = registry.department(status.department)
        return Facts(
            anchored=True,
            department=status.department,
            signer=status.signer,
            doc_type=status.doc_type,
            count=status.count,
            anchored_at=status.anchored_at,
            state=state,
            reason=record.reason if record else 0,
            changed_at=record.changed_at if record else 0,
            successor=status.successor,
            key_window=(key.valid_from, key.valid_until),
            department_name=dept.name,
            credit_code=dept.credit_code,
            source="chain",
        )


class VerificationService:
    def __init__(
        self,
        *,
        chain_id: int,
        registry_address: str,
        index: ChainIndex,
        chain: ChainGateway,
        store: DocumentStore | None,
        max_index_age: float = 15.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.chain_id = chain_id
        self.registry_address = registry_address
        self.index = index
        self.chain = chain
        self.store = store
        self.max_index_age = max_index_age
        self.clock = clock
        self._synced_at: float | None = None
        self._head_read_at = float("-inf")

    # ------------------------------------------------------------------------- entries
    def verify_qr(self, url: str) -> Verdict:
        """A scanned QR URL (fragment included): fetch, check the CID, decrypt, verify."""
        try:
            payload = parse_qr_url(url)
        except QrUrlError as exc:
            return self._malformed(str(exc.code) if getattr(exc, "code", None) else "MALFORMED")
        storage = self._fetch(payload.cid)
        if isinstance(storage, Fragment):
            return self._finish([self._skipped(FragmentName.DOCUMENT_INTEGRITY), storage], cid=payload.cid)
        try:
            raw = open_envelope(payload.key, storage)
        except DecryptionError:
            integrity = Fragment.of(FragmentName.DOCUMENT_INTEGRITY, Status.INVALID, "UNDECRYPTABLE")
            return self._finish([integrity, self._ok(FragmentName.STORAGE)], cid=payload.cid)
        return self.verify_bytes(raw, cid=payload.cid, storage_checked=True)

    def verify_bytes(self, raw: bytes | str, *, cid: str | None = None, storage_checked: bool = False) -> Verdict:
        # check_integrity parses with documents.model.load_json, which refuses deep nesting
        # before parsing (MALFORMED), so nothing here scans the body a second time
        result = check_integrity(raw)
        doc = result.document
        if result.code is not IntegrityCode.OK or doc is None:
            fragment = Fragment.of(
                FragmentName.DOCUMENT_INTEGRITY,
                Status.INVALID,
                result.code.value,
                {"pointer": result.pointer} if result.pointer else None,
            )
            fragments = [fragment]
            if doc is not None:
                fragments += [self._skipped(FragmentName.DOCUMENT_STATUS), self._skipped(FragmentName.ISSUER_IDENTITY)]
            return self._finish(fragments, doc=doc, cid=cid)
        fragments = [self._ok(FragmentName.DOCUMENT_INTEGRITY)]
        root = result.merkle_root or b""
        target = result.target_hash or b""
        facts: Facts | None = None
        context_error = self._context_error(doc)
        if context_error is not None:
            fragments.append(Fragment.of(FragmentName.DOCUMENT_STATUS, Status.ERROR, context_error))
            fragments.append(self._skipped(FragmentName.ISSUER_IDENTITY))
        else:
            try:
                facts = self._facts(root, target)
            except ChainError:
                facts = None
                fragments.append(self._status_without_chain(doc))
                fragments.append(Fragment.of(FragmentName.ISSUER_IDENTITY, Status.ERROR, "CHAIN_UNAVAILABLE"))
            else:
                fragments.append(self._status_fragment(doc, facts))
                fragments.append(self._issuer_fragment(doc, facts))
        # STORAGE is checked when the request names the CID (a scanned QR code, or the citizen
        # page's {document, cid}). A document's own proof.cid is covered by no hash, so anyone
        # could edit it; checking it would add an IPFS round trip (and an IPFS outage) to every
        # window check for nothing the document's own proof does not already establish.
        if cid is not None:
            if storage_checked:
                fragments.append(self._ok(FragmentName.STORAGE))
            else:
                fetched = self._fetch(cid)
                fragments.append(fetched if isinstance(fetched, Fragment) else self._ok(FragmentName.STORAGE))
        return self._finish(fragments, doc=doc, facts=facts, root=root, target=target, cid=cid)

    # ------------------------------------------------------------------------- checks
    def _context_error(self, doc: WrappedDocument) -> str | None:
        if doc.issuer.chain_id != self.chain_id:
            return "WRONG_CHAIN"
        if doc.issuer.registry.lower() != self.registry_address.lower():
            return "REGISTRY_NOT_FOUND"
        return None

    def _index_fresh(self) -> bool:
        """Whether the index synced within max_index_age (its head is re-read at most every 0.2 s)."""
        now = self.clock()
        if now - self._head_read_at > 0.2:
            self._synced_at = self.index.head().synced_at
            self._head_read_at = now
        return self._synced_at is not None and now - self._synced_at <= self.max_index_age

    def _facts(self, root: bytes, target: bytes) -> Facts:
        if self._index_fresh():
            facts = self._index_facts(root, target)
            if facts is not None:
                return facts
        return self.chain.facts(root, target)

    def _index_facts(self, root: bytes, target: bytes) -> Facts | None:
        anchor = self.index.anchor(root)
        if anchor is None or anchor.department == ZERO32:
            return None  # newer than the index, or a key that predates it: ask the chain
        key = self.index.signer_key(anchor.signer)
        dept = self.index.department(anchor.department)
        if key is None or dept is None:
            return None
        batch = self.index.batch_status(root)
        document = self.index.document_status(root, target)
        chosen = None
        for candidate in _PRECEDENCE:
            if batch is not None and batch.state == candidate:
                chosen = batch
                break
            if document is not None and document.state == candidate:
                chosen = document
                break
        successor = document.successor if document is not None and document.state == State.SUPERSEDED else ZERO32
        return Facts(
            anchored=True,
            department=anchor.department,
            signer=anchor.signer,
            doc_type=anchor.doc_type,
            count=anchor.count,
            anchored_at=anchor.anchored_at,
            block_number=anchor.block_number,
            tx_hash=anchor.tx_hash,
            state=chosen.state if chosen else State.ACTIVE,
            reason=chosen.reason if chosen else 0,
            changed_at=chosen.timestamp if chosen else 0,
            successor=successor,
            key_window=(key.valid_from, key.valid_until),
            department_name=dept.name,
            credit_code=dept.credit_code,
        )

    def _validity_code(self, doc: WrappedDocument) -> str | None:
        now = self.clock()
        if parse_time(doc.validity.valid_from).timestamp() > now:
            return "NOT_YET_VALID"
        until = doc.validity.valid_until
        if until is not None and parse_time(until).timestamp() <= now:
            return "EXPIRED"
        return None

    def _status_without_chain(self, doc: WrappedDocument) -> Fragment:
        """The chain is unreachable: only what the document itself decides may be INVALID."""
        code = self._validity_code(doc)
        if code is not None:
            return Fragment.of(FragmentName.DOCUMENT_STATUS, Status.INVALID, code)
        return Fragment.of(FragmentName.DOCUMENT_STATUS, Status.ERROR, "CHAIN_UNAVAILABLE")

    def _status_fragment(self, doc: WrappedDocument, facts: Facts) -> Fragment:
        if not facts.anchored:
            return Fragment.of(FragmentName.DOCUMENT_STATUS, Status.INVALID, "NOT_ANCHORED")
        if facts.state is not State.ACTIVE:
            details: dict[str, Any] = {"reason": facts.reason, "changedAt": _iso(facts.changed_at)}
            if facts.successor != ZERO32:
                details["successor"] = "0x" + facts.successor.hex()
            return Fragment.of(FragmentName.DOCUMENT_STATUS, Status.INVALID, facts.state.name, details)
        code = self._validity_code(doc)
        if code is not None:
            return Fragment.of(FragmentName.DOCUMENT_STATUS, Status.INVALID, code)
        return self._ok(FragmentName.DOCUMENT_STATUS)

    def _issuer_fragment(self, doc: WrappedDocument, facts: Facts) -> Fragment:
        if not facts.anchored:
            return self._skipped(FragmentName.ISSUER_IDENTITY)
        claimed = bytes.fromhex(doc.issuer.department[2:])
        if claimed != facts.department or facts.department_name is None:
            return Fragment.of(FragmentName.ISSUER_IDENTITY, Status.INVALID, "UNKNOWN_DEPARTMENT")
        if keccak256(doc.type.encode()) != facts.doc_type:
            return Fragment.of(FragmentName.ISSUER_IDENTITY, Status.INVALID, "NOT_AUTHORIZED_FOR_TYPE")
        if facts.key_window is not None:
            valid_from, valid_until = facts.key_window
            if facts.anchored_at < valid_from or (valid_until and facts.anchored_at >= valid_until):
                return Fragment.of(FragmentName.ISSUER_IDENTITY, Status.INVALID, "KEY_NOT_VALID_AT_ISSUANCE")
        return self._ok(FragmentName.ISSUER_IDENTITY)

    def _fetch(self, cid: str) -> bytes | Fragment:
        if self.store is None:
            return Fragment.of(
                FragmentName.STORAGE, Status.ERROR, "IPFS_UNAVAILABLE", {"detail": "no store configured"}
            )
        try:
            return self.store.get(cid)
        except CidMismatch:
            return Fragment.of(FragmentName.STORAGE, Status.INVALID, "CID_MISMATCH")
        except InvalidCid:
            return Fragment.of(FragmentName.STORAGE, Status.INVALID, "CID_MISMATCH", {"detail": "not a valid CID"})
        except BlobNotFound:
            return Fragment.of(FragmentName.STORAGE, Status.ERROR, "IPFS_UNAVAILABLE", {"detail": "not found"})
        except StorageError:
            return Fragment.of(FragmentName.STORAGE, Status.ERROR, "IPFS_UNAVAILABLE")

    # ------------------------------------------------------------------------ results
    @staticmethod
    def _ok(name: FragmentName) -> Fragment:
        return Fragment.of(name, Status.VALID, "OK")

    @staticmethod
    def _skipped(name: FragmentName) -> Fragment:
        return Fragment.of(name, Status.SKIPPED, "SKIPPED")

    def _malformed(self, code: str) -> Verdict:
        fragment = Fragment.of(FragmentName.DOCUMENT_INTEGRITY, Status.INVALID, "MALFORMED", {"detail": code})
        return self._finish([fragment])

    def _finish(
        self,
        fragments: list[Fragment],
        *,
        doc: WrappedDocument | None = None,
        facts: Facts | None = None,
        root: bytes = b"",
        target: bytes = b"",
        cid: str | None = None,
    ) -> Verdict:
        verdict = overall(fragments)
        en, zh = VERDICT_MESSAGES[verdict]
        document = issuer = anchor = status = None
        if doc is not None and any(
            f.name is FragmentName.DOCUMENT_INTEGRITY and f.status is Status.VALID for f in fragments
        ):
            document = DocumentInfo(
                type=doc.type,
                targetHash=doc.proof.target_hash,
                validFrom=doc.validity.valid_from,
                validUntil=doc.validity.valid_until,
                disclosed=disclosed_fields(doc),
                hiddenFields=len(doc.privacy.obfuscated),
            )
            issuer = IssuerInfo(department=doc.issuer.department)
            anchor = AnchorInfo(merkleRoot="0x" + root.hex() if root else doc.proof.merkle_root)
            if facts is not None and facts.anchored:
                issuer = IssuerInfo(
                    department="0x" + facts.department.hex(),
                    name=facts.department_name,
                    creditCode=facts.credit_code,
                    signer=facts.signer,
                )
                anchor = AnchorInfo(
                    merkleRoot="0x" + root.hex(),
                    anchoredAt=_iso(facts.anchored_at),
                    blockNumber=facts.block_number,
                    transaction=facts.tx_hash,
                    batchSize=facts.count,
                )
                status = StatusInfo(
                    state=facts.state.name,
                    reason=facts.reason if facts.state is not State.ACTIVE else None,
                    changedAt=_iso(facts.changed_at) if facts.changed_at else None,
                    successor="0x" + facts.successor.hex() if facts.successor != ZERO32 else None,
                )
        return Verdict(
            verdict=verdict,
            message=en,
            message_zh=zh,
            fragments=fragments,
            document=document,
            issuer=issuer,
            anchor=anchor,
            status=status,
            cid=cid,
            chainId=self.chain_id,
            checkedAt=_iso(int(self.clock())),
        )


def _iso(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
