"""The verification itself: integrity locally, status and issuer from the index (or the chain).

A document is checked against the record of the department it names (``issuer.department``) for
its root: another department anchoring the same root neither blocks nor claims it. The status in
force skips changes made by a key outside its (current, possibly backdated) window.

The hot path reads only the local index. The chain is asked only when the index cannot answer:
a record newer than the index, a signer whose key predates the index, or an index that has not
synced recently (then an unreachable chain gives ERROR, never a stale VALID or an INVALID).
Without an index at all (``index=None``, the ``ereg verify`` command's default) every fact comes
from the chain through the gateway, as it does for a service whose index never synced.

Property certificates get a PROPERTY_STATUS fragment from the PropertyRegistry's chain of title,
and mortgage certificates a MORTGAGE_STATUS fragment, under the same rule: from the index when it
answered the document's status, else from the chain's ``unitState`` (``mortgageHistory``) of the
units the index (or the certificate's own unit number) names. A disclosed unit number must be the
unit the chain links the certificate to. Without an index only the disclosed unit number can be
asked: a certificate that hides it gets ERROR, never INVALID.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from chain.errors import ChainError, RegistryNotFound
from chain.property import certificate_unit
from chain.types import REASON_CORRECTED, REASON_MORTGAGE_RELEASED, State
from chainindex import CASE_STATE_AFTER, CertificateLink, ChainIndex, OwnerShare, TitleRecord
from documents import (
    DecryptionError,
    IntegrityCode,
    IntegrityResult,
    MalformedDocument,
    QrUrlError,
    check_integrity,
    disclosed_fields,
    document_to_dict,
    open_envelope,
    parse_qr_url,
)
from documents.envelope import suite_of_key
from documents.hashing import keccak256
from documents.model import DocType, Hex32, Issuer, Signature, Validity, WrappedDocument, parse_time
from documents.sm2 import Sm2PublicKey
from documents.sm2 import verify as sm2_verify
from documents.suite import SM_VERSION, root_message
from documents.vc import CredentialError, read_credential, unenvelope
from storage import DocumentStore
from storage.errors import BlobNotFound, CidMismatch, InvalidCid, StorageError
from verification.gateway import ZERO32, ChainGateway, Facts, prevailing
from verification.verdict import (
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

__all__ = ["ChainGateway", "Claim", "DocumentInput", "Facts", "StatusQuery", "VerificationService"]

#: What a document to verify may be: its JSON text (bytes or str) or its parsed JSON object.
DocumentInput = bytes | str | Mapping[str, Any]

#: The document type whose documents are titles of property units (and get PROPERTY_STATUS).
#: Only this type: the PropertyRegistry accepts a title only if its batch was anchored as this
#: type, and a target hash commits to the document's type, so no document of another type can
#: have a title's target hash.
PROPERTY_CERTIFICATE = "property-certificate"
#: The document type whose documents evidence a mortgage (and get MORTGAGE_STATUS).
MORTGAGE_CERTIFICATE = "mortgage-certificate"
#: The registry fragment each type gets, when a PropertyRegistry is followed.
REGISTRY_FRAGMENTS = {
    PROPERTY_CERTIFICATE: FragmentName.PROPERTY_STATUS,
    MORTGAGE_CERTIFICATE: FragmentName.MORTGAGE_STATUS,
}


class StatusQuery(BaseModel):
    """What the chain is asked about a document whose integrity was checked elsewhere (the
    citizen's browser): its type, issuer, validity and hashes, with the members' names and rules
    of the wrapped document (docs/FORMAT.md section 7). No field value, no salt, no proof."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)
    type: DocType
    issuer: Issuer
    validity: Validity
    merkle_root: Hex32 = Field(alias="merkleRoot")
    target_hash: Hex32 = Field(alias="targetHash")
    #: The document's suite; an ``ereg/1-sm`` document also sends its ``proof.signature``.
    version: Literal["ereg/1", "ereg/1-sm"] = "ereg/1"
    signature: Signature | None = None


@dataclass(frozen=True, slots=True)
class Claim:
    """The chain half of a verification: a document's metadata and hashes, and the unit id of the
    unit number it discloses (None when hidden, or when the caller keeps it to itself)."""

    type: str
    department: bytes
    chain_id: int
    registry: str
    valid_from: str
    valid_until: str | None
    merkle_root: bytes
    target_hash: bytes
    unit: bytes | None = None
    suite: str = "ereg/1"
    #: ``(public key x ‖ y, r ‖ s)`` of an ``ereg/1-sm`` document's SM2 signature over its root
    sm2: tuple[bytes, bytes] | None = None

    @classmethod
    def of_document(cls, doc: WrappedDocument, root: bytes, target: bytes) -> Claim:
        sig = doc.proof.signature
        return cls(
            type=doc.type,
            department=bytes.fromhex(doc.issuer.department[2:]),
            chain_id=doc.issuer.chain_id,
            registry=doc.issuer.registry,
            valid_from=doc.validity.valid_from,
            valid_until=doc.validity.valid_until,
            merkle_root=root,
            target_hash=target,
            # the unit the certificate names (unitNumber and unitSalt); None with either hidden
            unit=certificate_unit(doc.data) if doc.type in REGISTRY_FRAGMENTS else None,
            suite=doc.version,
            sm2=None if sig is None else (bytes.fromhex(sig.key[2:]), bytes.fromhex(sig.value[2:])),
        )

    @classmethod
    def of_query(cls, query: StatusQuery) -> Claim:
        return cls(
            type=query.type,
            department=bytes.fromhex(query.issuer.department[2:]),
            chain_id=query.issuer.chain_id,
            registry=query.issuer.registry,
            valid_from=query.validity.valid_from,
            valid_until=query.validity.valid_until,
            merkle_root=bytes.fromhex(query.merkle_root[2:]),
            target_hash=bytes.fromhex(query.target_hash[2:]),
            suite=query.version,
            sm2=None
            if query.signature is None
            else (bytes.fromhex(query.signature.key[2:]), bytes.fromhex(query.signature.value[2:])),
        )


class VerificationService:
    """Verdicts for one registry on one chain: from ``index`` while it is fresh, else from ``chain``.

    ``index`` None: no local projection at all, every fact is read from the chain (a command run
    once on a clerk's machine, which has no follower to keep an index fresh). ``store`` None: no
    stored copy can be fetched, so QR URLs and storage checks answer ERROR IPFS_UNAVAILABLE.
    """

    def __init__(
        self,
        *,
        chain_id: int,
        registry_address: str,
        chain: ChainGateway,
        index: ChainIndex | None = None,
        store: DocumentStore | None = None,
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
        result = check_integrity(raw)
        if result.document is not None and result.document.version != suite_of_key(payload.key).version:
            # an ereg/1-sm document in an AES envelope, or the reverse: not what its suite promises
            fragment = Fragment.of(
                FragmentName.DOCUMENT_INTEGRITY,
                Status.INVALID,
                "MALFORMED",
                {"pointer": "/version", "detail": "document suite does not match its envelope"},
            )
            return self._finish([fragment, self._ok(FragmentName.STORAGE)], cid=payload.cid)
        return self._verify(result, cid=payload.cid, storage=lambda _result: self._ok(FragmentName.STORAGE))

    def verify_document(self, document: DocumentInput, *, cid: str | None = None, key: bytes | None = None) -> Verdict:
        """A wrapped document (its JSON text, or the object the request's parser read).

        With ``cid`` and ``key`` (the QR code's), STORAGE says whether the encrypted copy stored
        under ``cid`` is this document: fetched, checked against the CID, decrypted, and its
        Merkle root and target hash compared with this document's. A disclosed copy (fields
        hidden) has the same ones, so it matches the full copy it was made from.
        """
        if cid is not None and key is None:
            raise ValueError("a storage check needs the key of the stored copy")

        def storage(result: IntegrityResult) -> Fragment:
            assert cid is not None and key is not None  # noqa: S101 - checked above
            return self._storage_fragment(cid, key, result)

        return self._verify(check_integrity(document), cid=cid, storage=storage if cid is not None else None)

    def verify_credential(self, credential: str | Mapping[str, Any]) -> Verdict:
        """A W3C VC 2.0 (docs/FORMAT.md §13): its compact JWS, or the EnvelopedVerifiableCredential.

        The CREDENTIAL fragment comes first: the JWS's form and ES256K signature, the credential's
        members and their agreement with the document it carries, then whether the signing key
        is one of that document's department valid at ``iat``. The other fragments are the verdict
        of the carried document, exactly as :meth:`verify_document` gives it. A credential that
        cannot be read has the CREDENTIAL fragment alone.
        """
        try:
            token = unenvelope(credential) if isinstance(credential, Mapping) else credential
            signed, doc = read_credential(token)
            issued_at = signed.credential.get("iat")
            if not isinstance(issued_at, int) or isinstance(issued_at, bool) or issued_at < 0:
                raise CredentialError("the credential has no signing time (iat)", "凭证缺少签名时间（iat）")
        except CredentialError as exc:
            return self._finish([Fragment.of(FragmentName.CREDENTIAL, Status.INVALID, exc.code or "VC_MALFORMED")])
        except MalformedDocument as exc:
            details = {"pointer": exc.pointer} if exc.pointer else None
            return self._finish([Fragment.of(FragmentName.CREDENTIAL, Status.INVALID, "VC_MALFORMED", details)])
        verdict = self.verify_document(document_to_dict(doc))
        signer = self._credential_signer(signed.signer_address, bytes.fromhex(doc.issuer.department[2:]), issued_at)
        fragments = [signer, *verdict.fragments]
        status = overall(fragments)
        en, zh = VERDICT_MESSAGES[status]
        return verdict.model_copy(update={"verdict": status, "message": en, "message_zh": zh, "fragments": fragments})

    def _credential_signer(self, address: str, department: bytes, issued_at: int) -> Fragment:
        """CREDENTIAL: the signing key is a key of ``department`` whose window contains ``issued_at``.

        From the index when it is fresh and knows the key, else from the chain (a key added after
        the index's last pass, or no index); an unreachable chain is ERROR, never a guess.
        """
        window: tuple[bytes, bool] | None = None
        if self.index is not None and self._index_fresh():
            record = self.index.signer_key(address)
            if record is not None:
                window = (record.department, record.valid_at(issued_at))
        if window is None:
            try:
                key = self.chain.signer_key(address)
            except ChainError:
                return Fragment.of(FragmentName.CREDENTIAL, Status.ERROR, "CHAIN_UNAVAILABLE")
            window = (ZERO32, False) if key is None else (key.department, key.valid_at(issued_at))
        if window[0] != department or not window[1]:
            return Fragment.of(FragmentName.CREDENTIAL, Status.INVALID, "VC_WRONG_ISSUER", {"signer": address})
        return Fragment.of(FragmentName.CREDENTIAL, Status.VALID, "OK", {"signer": address})

    def verify_bytes(self, raw: bytes | str) -> Verdict:
        """A wrapped document's JSON text (no storage check)."""
        return self.verify_document(raw)

    def verify_status(self, query: StatusQuery) -> Verdict:
        """The chain half alone, for a document checked elsewhere: DOCUMENT_STATUS, ISSUER_IDENTITY
        and, for property and mortgage certificates, their registry fragment.

        The unit the certificate names is not asked (it is a field value): the registry fragment
        carries the unit the chain links the certificate to, for the caller to compare. The
        verdict is that of these fragments; the caller adds DOCUMENT_INTEGRITY and STORAGE.
        """
        claim = Claim.of_query(query)
        fragments, facts = self._chain_half(claim)
        return self._finish(fragments, claim=claim, facts=facts)

    def _verify(
        self, result: IntegrityResult, *, cid: str | None, storage: Callable[[IntegrityResult], Fragment] | None
    ) -> Verdict:
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
                registry_fragment = self._registry_fragment(doc.type)
                if registry_fragment is not None:
                    fragments.append(self._skipped(registry_fragment))
            return self._finish(fragments, doc=doc, cid=cid)
        root = result.merkle_root or b""
        target = result.target_hash or b""
        claim = Claim.of_document(doc, root, target)
        chain_fragments, facts = self._chain_half(claim)
        fragments = [self._ok(FragmentName.DOCUMENT_INTEGRITY), *chain_fragments]
        # STORAGE is checked when the request names the CID (a scanned QR code, or the citizen
        # page's {document, cid, key}). A document's own proof.cid is covered by no hash, so anyone
        # could edit it; checking it would add an IPFS round trip (and an IPFS outage) to every
        # window check for nothing the document's own proof does not already establish.
        if storage is not None:
            fragments.append(storage(result))
        return self._finish(fragments, doc=doc, claim=claim, facts=facts, cid=cid)

    def _chain_half(self, claim: Claim) -> tuple[list[Fragment], Facts | None]:
        """DOCUMENT_STATUS, ISSUER_IDENTITY and the registry fragment of a document's claim."""
        fragments: list[Fragment] = []
        facts: Facts | None = None
        context_error = self._context_error(claim)
        if context_error is not None:
            fragments.append(Fragment.of(FragmentName.DOCUMENT_STATUS, Status.ERROR, context_error))
            fragments.append(self._skipped(FragmentName.ISSUER_IDENTITY))
        else:
            try:
                facts = self._facts(claim.department, claim.merkle_root, claim.target_hash)
            except RegistryNotFound:
                # no registry at the configured address (a reset chain, a resyncing node, a
                # wrong address): the verifier cannot decide, exactly as when the chain is down
                facts = None
                fragments.append(self._status_without_chain(claim, "REGISTRY_NOT_FOUND"))
                fragments.append(Fragment.of(FragmentName.ISSUER_IDENTITY, Status.ERROR, "CHAIN_UNAVAILABLE"))
            except ChainError:
                facts = None
                fragments.append(self._status_without_chain(claim))
                fragments.append(Fragment.of(FragmentName.ISSUER_IDENTITY, Status.ERROR, "CHAIN_UNAVAILABLE"))
            else:
                fragments.append(self._status_fragment(claim, facts))
                fragments.append(self._issuer_fragment(claim, facts))
        registry_fragment = self._registry_fragment(claim.type)
        if registry_fragment is not None:
            if context_error is not None or (facts is not None and not facts.anchored):
                fragments.append(self._skipped(registry_fragment))
            elif registry_fragment is FragmentName.PROPERTY_STATUS:
                fragments.append(self._property_fragment(claim, facts))
            else:
                fragments.append(self._mortgage_fragment(claim, facts))
        return fragments, facts

    # ------------------------------------------------------------------------- checks
    def _context_error(self, claim: Claim) -> str | None:
        if claim.chain_id != self.chain_id:
            return "WRONG_CHAIN"
        if claim.registry.lower() != self.registry_address.lower():
            return "REGISTRY_NOT_FOUND"
        return None

    def _index_fresh(self) -> bool:
        """Whether the index synced within max_index_age (its head is re-read at most every 0.2 s)."""
        if self.index is None:
            return False
        now = self.clock()
        if now - self._head_read_at > 0.2:
            self._synced_at = self.index.head().synced_at
            self._head_read_at = now
        return self._synced_at is not None and now - self._synced_at <= self.max_index_age

    def _facts(self, department: bytes, root: bytes, target: bytes) -> Facts:
        if self._index_fresh():
            facts = self._index_facts(department, root, target)
            if facts is not None:
                return facts
        return self.chain.facts(department, root, target)

    def _index_facts(self, department: bytes, root: bytes, target: bytes) -> Facts | None:
        index = self.index
        if index is None or department == ZERO32:
            return None  # names no department: (0, root) holds the anchors of keys older than the index
        anchor = index.anchor(department, root)
        if anchor is None:
            return None  # newer than the index (or never anchored by this department): ask the chain
        key = index.signer_key(anchor.signer)
        dept = index.department(department)
        if key is None or dept is None:
            return None
        batch, document = index.statuses(anchor, target)
        if not (batch.decidable and document.decidable):
            return None  # a change by a key the index does not know: the chain decides whether it counts
        which = prevailing(batch.state, document.state)
        chosen = None if which is None else (batch.current if which == "batch" else document.current)
        current = document.current
        successor = current.successor if current is not None and current.state == State.SUPERSEDED else ZERO32
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

    def _validity_code(self, claim: Claim) -> str | None:
        now = self.clock()
        if parse_time(claim.valid_from).timestamp() > now:
            return "NOT_YET_VALID"
        until = claim.valid_until
        if until is not None and parse_time(until).timestamp() <= now:
            return "EXPIRED"
        return None

    def _status_without_chain(self, claim: Claim, code: str = "CHAIN_UNAVAILABLE") -> Fragment:
        """The chain cannot answer: only what the document itself decides may be INVALID."""
        validity = self._validity_code(claim)
        if validity is not None:
            return Fragment.of(FragmentName.DOCUMENT_STATUS, Status.INVALID, validity)
        return Fragment.of(FragmentName.DOCUMENT_STATUS, Status.ERROR, code)

    def _status_fragment(self, claim: Claim, facts: Facts) -> Fragment:
        if not facts.anchored:
            return Fragment.of(FragmentName.DOCUMENT_STATUS, Status.INVALID, "NOT_ANCHORED")
        if facts.state is not State.ACTIVE:
            details: dict[str, Any] = {"reason": facts.reason, "changedAt": _iso(facts.changed_at)}
            if facts.successor != ZERO32:
                details["successor"] = "0x" + facts.successor.hex()
            return Fragment.of(FragmentName.DOCUMENT_STATUS, Status.INVALID, facts.state.name, details)
        code = self._validity_code(claim)
        if code is not None:
            return Fragment.of(FragmentName.DOCUMENT_STATUS, Status.INVALID, code)
        return self._ok(FragmentName.DOCUMENT_STATUS)

    def _issuer_fragment(self, claim: Claim, facts: Facts) -> Fragment:
        department, root = claim.department, claim.merkle_root
        if not facts.anchored:
            # Not anchored by the department the document names. If the index knows other
            # departments that anchored this root, the document is not theirs either: it names a
            # department that did not issue it. (A document only ever verifies against its own
            # department's record: another department's anchor neither blocks nor vouches for it.)
            try:
                others = [d for d in self._departments_anchoring(root) if d not in (department, ZERO32)]
            except ChainError:
                return Fragment.of(FragmentName.ISSUER_IDENTITY, Status.ERROR, "CHAIN_UNAVAILABLE")
            if others:
                return Fragment.of(
                    FragmentName.ISSUER_IDENTITY,
                    Status.INVALID,
                    "UNKNOWN_DEPARTMENT",
                    {"anchoredBy": [_hex(d) for d in others]},
                )
            return self._skipped(FragmentName.ISSUER_IDENTITY)
        if facts.department != department or facts.department_name is None:
            return Fragment.of(FragmentName.ISSUER_IDENTITY, Status.INVALID, "UNKNOWN_DEPARTMENT")
        if keccak256(claim.type.encode()) != facts.doc_type:
            return Fragment.of(FragmentName.ISSUER_IDENTITY, Status.INVALID, "NOT_AUTHORIZED_FOR_TYPE")
        if facts.key_window is not None:
            valid_from, valid_until = facts.key_window
            if facts.anchored_at < valid_from or (valid_until and facts.anchored_at >= valid_until):
                return Fragment.of(FragmentName.ISSUER_IDENTITY, Status.INVALID, "KEY_NOT_VALID_AT_ISSUANCE")
        if claim.suite == SM_VERSION:
            return self._sm2_fragment(claim, facts)
        return self._ok(FragmentName.ISSUER_IDENTITY)

    def _sm2_fragment(self, claim: Claim, facts: Facts) -> Fragment:
        """ISSUER_IDENTITY of an ``ereg/1-sm`` document: its SM2 signature over the root is by a key
        registered for the department on chain, inside the key's window at the anchor's time."""
        if claim.sm2 is None:
            return Fragment.of(FragmentName.ISSUER_IDENTITY, Status.INVALID, "SM2_SIGNATURE_MISSING")
        public, value = claim.sm2
        details = {"sm2Key": "0x" + public.hex()}
        try:
            record = self.chain.sm2_key(keccak256(public))
        except ChainError:
            return Fragment.of(FragmentName.ISSUER_IDENTITY, Status.ERROR, "CHAIN_UNAVAILABLE")
        if record is None or record.department != claim.department:
            return Fragment.of(FragmentName.ISSUER_IDENTITY, Status.INVALID, "SM2_KEY_UNKNOWN", details)
        if not record.valid_at(facts.anchored_at):
            return Fragment.of(FragmentName.ISSUER_IDENTITY, Status.INVALID, "SM2_KEY_NOT_VALID_AT_ISSUANCE", details)
        message = root_message(claim.chain_id, claim.registry, claim.department, claim.merkle_root)
        if not _sm2_valid(public, message, value):
            return Fragment.of(FragmentName.ISSUER_IDENTITY, Status.INVALID, "SM2_SIGNATURE_INVALID", details)
        return Fragment.of(FragmentName.ISSUER_IDENTITY, Status.VALID, "OK", details)

    # --------------------------------------------------- what the index knows, or the chain
    def _departments_anchoring(self, root: bytes) -> list[bytes]:
        """The departments that anchored ``root``: the index's, else (no index) the chain's."""
        if self.index is not None:
            return [a.department for a in self.index.anchors_of_root(root)]
        return self.chain.departments_anchoring(root)

    def _certificate_links(self, target: bytes) -> list[CertificateLink]:
        """The units the index links to a certificate; none without an index (the chain has no such view)."""
        return self.index.certificate_links(target) if self.index is not None else []

    def _titles_by_target(self, target: bytes) -> list[TitleRecord]:
        return self.index.titles_by_target(target) if self.index is not None else []

    def _follows_property(self) -> bool:
        if self.index is not None:
            return self.index.follows_property
        return self.chain.follows_property

    def _no_unit_detail(self) -> dict[str, Any]:
        """Why a registry fragment whose certificate hides its unit number cannot be decided."""
        if self.index is None:
            return {"detail": "no index is kept and the certificate discloses no unit number"}
        return {"detail": "the index is behind the chain and the certificate discloses no unit number"}

    # ------------------------------------------------------------------ property status
    def _registry_fragment(self, doc_type: str) -> FragmentName | None:
        """PROPERTY_STATUS for property certificates, MORTGAGE_STATUS for mortgage certificates,
        when a PropertyRegistry is followed; None for anything else."""
        name = REGISTRY_FRAGMENTS.get(doc_type)
        return name if name is not None and self._follows_property() else None

    def _property_fragment(self, claim: Claim, facts: Facts | None) -> Fragment:
        """From the index alone when it answered the document's status (it is fresh and knows the
        anchor): no chain call. Otherwise from the chain, for the units the index or the document
        names; an unreachable chain is ERROR, never INVALID."""
        if facts is not None and facts.source == "index" and self.index is not None:
            return self._property_from_index(self.index, claim)
        try:
            return self._property_from_chain(claim, facts)
        except ChainError:
            return Fragment.of(FragmentName.PROPERTY_STATUS, Status.ERROR, "CHAIN_UNAVAILABLE")

    def _property_from_index(self, index: ChainIndex, claim: Claim) -> Fragment:
        target = claim.target_hash
        titles = index.titles_by_target(target)
        if not titles:
            return self._not_registered(target)
        disclosed = claim.unit
        if disclosed is not None and all(t.unit != disclosed for t in titles):
            return self._unit_mismatch(FragmentName.PROPERTY_STATUS, disclosed, titles[-1].unit)
        title = next((t for t in titles if t.current), titles[-1])
        if not title.current:
            return self._ended(title)
        mortgages = [
            (m.id, m.bank, m.cert_target, m.registered_at) for m in index.mortgages(title.unit, active_only=True)
        ]
        seizures = [(z.id, z.court, z.ruling, z.registered_at) for z in index.seizures(title.unit, active_only=True)]
        return self._title_fragment(
            title.unit, title.since, title.case_id, title.owners, mortgages, seizures, ask_chain=False
        )

    def _property_from_chain(self, claim: Claim, facts: Facts | None) -> Fragment:
        target = claim.target_hash
        # The units to ask: those the index links to this certificate, then the unit number the
        # certificate itself discloses (covered by its hash; the chain decides, not the number).
        units: list[bytes] = []
        for link in self._certificate_links(target):
            if link.kind != "mortgage" and link.unit not in units:
                units.append(link.unit)
        disclosed = claim.unit
        if disclosed is not None and disclosed not in units:
            units.append(disclosed)
        titles = self._titles_by_target(target)
        for unit in units:
            state = self.chain.unit_state(unit)
            if state.registered and state.cert_target == target:
                if disclosed is not None and unit != disclosed:
                    return self._unit_mismatch(FragmentName.PROPERTY_STATUS, disclosed, unit)
                known = next((t for t in titles if t.unit == unit), None)
                return self._title_fragment(
                    unit,
                    known.since if known else None,
                    known.case_id if known else None,
                    state.owners,
                    [(m.id, m.bank, m.cert_target, m.registered_at) for m in state.mortgages if not m.released_at],
                    [(z.id, z.court, z.ruling, z.registered_at) for z in state.seizures if not z.released_at],
                    ask_chain=True,
                )
        if disclosed is not None and titles and all(t.unit != disclosed for t in titles):
            return self._unit_mismatch(FragmentName.PROPERTY_STATUS, disclosed, titles[-1].unit)
        ended = [t for t in titles if not t.current]
        if ended:
            return self._ended(ended[-1])
        if facts is not None and facts.reason == REASON_CORRECTED and facts.state in (State.SUPERSEDED, State.REVOKED):
            # a correction ended this title after the index's last sync
            successor = facts.successor if facts.successor != ZERO32 else None
            return self._corrected(titles[0].unit if titles else None, successor, facts.changed_at, None)
        if facts is not None and facts.state is State.SUPERSEDED:
            # became a title and was transferred away after the index's last sync
            return self._superseded(titles[0].unit if titles else None, facts.successor, facts.changed_at, None)
        if not units:
            # the index is behind (or there is none), knows no unit for this certificate, and the
            # certificate hides its unit number: nothing on chain can be asked, so no decision
            # (never a stale INVALID)
            return Fragment.of(FragmentName.PROPERTY_STATUS, Status.ERROR, "CHAIN_UNAVAILABLE", self._no_unit_detail())
        return self._not_registered(target)

    def _not_registered(self, target: bytes) -> Fragment:
        """A property certificate that is no unit's title, now or before: INVALID.

        It is anchored and authentic, but a property certificate is a title only once the
        PropertyRegistry makes it a unit's current certificate (registration, the last approval
        of a transfer, or the approval of a correction): one issued for a case still in progress,
        or never registered, names no owner the registry stands behind, so it must not read as
        valid. Open cases proposing it are listed.
        """
        pending: list[dict[str, Any]] = []
        index = self.index
        links = index.certificate_links(target) if index is not None else []  # no index: no cases known
        for link in links:
            if index is not None and link.kind == "proposed" and link.case_id is not None:
                events = index.case_events(link.case_id)
                state = CASE_STATE_AFTER.get(events[-1].name, "OPEN") if events else "OPEN"
                if state in ("OPEN", "RETURNED"):
                    pending.append({"unit": _hex(link.unit), "caseId": link.case_id, "state": state})
        return Fragment.of(FragmentName.PROPERTY_STATUS, Status.INVALID, "NOT_REGISTERED", {"pendingCases": pending})

    @staticmethod
    def _unit_mismatch(name: FragmentName, disclosed: bytes, registered: bytes) -> Fragment:
        """The certificate discloses a unit number, and the chain links it to another unit: INVALID."""
        details = {"unit": _hex(disclosed), "registeredUnit": _hex(registered)}
        return Fragment.of(name, Status.INVALID, "UNIT_MISMATCH", details)

    def _ended(self, title: TitleRecord) -> Fragment:
        """A title that is no longer current: superseded by a transfer, or ended by a correction."""
        if title.corrected:
            return self._corrected(title.unit, title.superseded_by, title.superseded_at, title.superseded_case)
        return self._superseded(title.unit, title.superseded_by, title.superseded_at, title.superseded_case)

    @staticmethod
    def _superseded(unit: bytes | None, by: bytes | None, at: int | None, case_id: int | None) -> Fragment:
        details: dict[str, Any] = {
            "unit": _hex(unit) if unit else None,
            "supersededBy": _hex(by) if by else None,
            "supersededAt": _iso(at) if at else None,
            "caseId": case_id,
        }
        return Fragment.of(FragmentName.PROPERTY_STATUS, Status.INVALID, "SUPERSEDED", details)

    @staticmethod
    def _corrected(unit: bytes | None, by: bytes | None, at: int | None, case_id: int | None) -> Fragment:
        """Ended by a correction case (更正登记): replaced by ``by``, or revoked (``by`` None)."""
        details: dict[str, Any] = {
            "unit": _hex(unit) if unit else None,
            "supersededBy": _hex(by) if by else None,
            "supersededAt": _iso(at) if at else None,
            "caseId": case_id,
        }
        return Fragment.of(FragmentName.PROPERTY_STATUS, Status.INVALID, "CORRECTED", details)

    def _title_fragment(
        self,
        unit: bytes,
        since: int | None,
        case_id: int | None,
        owners: tuple[OwnerShare, ...],
        mortgages: list[tuple[int, bytes, bytes, int]],
        seizures: list[tuple[int, bytes, bytes, int]],
        *,
        ask_chain: bool,
    ) -> Fragment:
        """CURRENT, or FROZEN while a court's seizure is active; mortgages are listed, never invalidating."""
        details: dict[str, Any] = {
            "unit": _hex(unit),
            "since": _iso(since) if since else None,
            "caseId": case_id,
            "owners": [{"commitment": _hex(o.commitment), "shareBasisPoints": o.share} for o in owners],
            "mortgages": [
                {
                    "id": mortgage_id,
                    "bank": self._department_ref(bank, ask_chain),
                    "certificate": _hex(certificate),
                    "since": _iso(registered_at),
                }
                for mortgage_id, bank, certificate, registered_at in mortgages
            ],
            "seizures": [
                {
                    "id": seizure_id,
                    "court": self._department_ref(court, ask_chain),
                    "ruling": _hex(ruling),
                    "since": _iso(at),
                }
                for seizure_id, court, ruling, at in seizures
            ],
        }
        if seizures:
            return Fragment.of(FragmentName.PROPERTY_STATUS, Status.INVALID, "FROZEN", details)
        return Fragment.of(FragmentName.PROPERTY_STATUS, Status.VALID, "CURRENT", details)

    # ------------------------------------------------------------------ mortgage status
    def _mortgage_fragment(self, claim: Claim, facts: Facts | None) -> Fragment:
        """ACTIVE, RELEASED or NOT_REGISTERED, under the rule of :meth:`_property_fragment`."""
        if facts is not None and facts.source == "index" and self.index is not None:
            return self._mortgage_from_index(self.index, claim)
        try:
            return self._mortgage_from_chain(claim, facts)
        except ChainError:
            return Fragment.of(FragmentName.MORTGAGE_STATUS, Status.ERROR, "CHAIN_UNAVAILABLE")

    def _mortgage_from_index(self, index: ChainIndex, claim: Claim) -> Fragment:
        root, target = claim.merkle_root, claim.target_hash
        found = [m for m in index.mortgages_by_target(target) if m.cert_root == root]
        if not found:
            return self._mortgage_not_registered()
        m = found[-1]
        return self._mortgage_result(claim, m.unit, m.id, m.bank, m.registered_at, m.released_at, ask_chain=False)

    def _mortgage_from_chain(self, claim: Claim, facts: Facts | None) -> Fragment:
        root, target = claim.merkle_root, claim.target_hash
        # as for titles: the units the index links to this certificate, then the one it discloses
        units: list[bytes] = []
        for link in self._certificate_links(target):
            if link.kind == "mortgage" and link.unit not in units:
                units.append(link.unit)
        disclosed = claim.unit
        if disclosed is not None and disclosed not in units:
            units.append(disclosed)
        for unit in units:
            for m in self.chain.mortgage_history(unit):
                if m.cert_target == target and m.cert_root == root:
                    released = m.released_at or None
                    return self._mortgage_result(claim, unit, m.id, m.bank, m.registered_at, released, ask_chain=True)
        if facts is not None and facts.state is State.REVOKED and facts.reason == REASON_MORTGAGE_RELEASED:
            # released (and its certificate revoked) on a unit the index does not know yet
            details = {
                "unit": None,
                "mortgageId": None,
                "bank": None,
                "since": None,
                "releasedAt": _iso(facts.changed_at),
            }
            return Fragment.of(FragmentName.MORTGAGE_STATUS, Status.INVALID, "RELEASED", details)
        if not units:
            return Fragment.of(FragmentName.MORTGAGE_STATUS, Status.ERROR, "CHAIN_UNAVAILABLE", self._no_unit_detail())
        return self._mortgage_not_registered()

    @staticmethod
    def _mortgage_not_registered() -> Fragment:
        """Authentic, but registered for no mortgage: it evidences nothing the registry stands behind."""
        return Fragment.of(FragmentName.MORTGAGE_STATUS, Status.INVALID, "NOT_REGISTERED")

    def _mortgage_result(
        self,
        claim: Claim,
        unit: bytes,
        mortgage_id: int,
        bank: bytes,
        since: int,
        released_at: int | None,
        *,
        ask_chain: bool,
    ) -> Fragment:
        disclosed = claim.unit
        if disclosed is not None and disclosed != unit:
            return self._unit_mismatch(FragmentName.MORTGAGE_STATUS, disclosed, unit)
        details: dict[str, Any] = {
            "unit": _hex(unit),
            "mortgageId": mortgage_id,
            "bank": self._department_ref(bank, ask_chain),
            "since": _iso(since),
            "releasedAt": _iso(released_at) if released_at else None,
        }
        if released_at:
            return Fragment.of(FragmentName.MORTGAGE_STATUS, Status.INVALID, "RELEASED", details)
        return Fragment.of(FragmentName.MORTGAGE_STATUS, Status.VALID, "ACTIVE", details)

    def _department_ref(self, department: bytes, ask_chain: bool) -> dict[str, Any]:
        """{id, name} of a department, its name from the index (else, off the hot path, the chain)."""
        record = self.index.department(department) if self.index is not None else None
        name = record.name if record is not None else None
        if name is None and ask_chain:
            try:
                name = self.chain.department_name(department)
            except ChainError:
                name = None
        return {"id": _hex(department), "name": name}

    def _fetch(self, cid: str) -> bytes | Fragment:
        if self.store is None:
            return Fragment.of(
                FragmentName.STORAGE, Status.ERROR, "IPFS_UNAVAILABLE", {"detail": "no store configured"}
            )
        try:
            return self.store.get(cid)
        except CidMismatch:
            # the node served bytes that are not the CID's: the node's fault, not the document's
            return Fragment.of(FragmentName.STORAGE, Status.ERROR, "IPFS_BAD_CONTENT")
        except InvalidCid:
            return Fragment.of(FragmentName.STORAGE, Status.INVALID, "CID_MISMATCH", {"detail": "not a valid CID"})
        except BlobNotFound:
            return Fragment.of(FragmentName.STORAGE, Status.ERROR, "IPFS_UNAVAILABLE", {"detail": "not found"})
        except StorageError:
            return Fragment.of(FragmentName.STORAGE, Status.ERROR, "IPFS_UNAVAILABLE")

    def _storage_fragment(self, cid: str, key: bytes, result: IntegrityResult) -> Fragment:
        """VALID OK when the copy stored under ``cid``, opened with ``key``, is the document of ``result``."""
        fetched = self._fetch(cid)
        if isinstance(fetched, Fragment):
            return fetched
        try:
            stored = check_integrity(open_envelope(key, fetched))
        except DecryptionError:
            return Fragment.of(
                FragmentName.STORAGE, Status.INVALID, "CID_MISMATCH", {"detail": "the key does not open this copy"}
            )
        suite_agrees = stored.document is not None and stored.document.version == suite_of_key(key).version
        if (
            stored.ok
            and suite_agrees
            and (stored.merkle_root, stored.target_hash) == (result.merkle_root, result.target_hash)
        ):
            return self._ok(FragmentName.STORAGE)
        return Fragment.of(FragmentName.STORAGE, Status.INVALID, "CID_MISMATCH")

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
        claim: Claim | None = None,
        facts: Facts | None = None,
        cid: str | None = None,
    ) -> Verdict:
        """The verdict of ``fragments``; what the chain says of ``claim`` (a document whose
        integrity held, or a status query); the disclosed fields of ``doc`` when it has a claim."""
        verdict = overall(fragments)
        en, zh = VERDICT_MESSAGES[verdict]
        document = issuer = anchor = status = None
        if claim is not None:
            if doc is not None:
                document = DocumentInfo(
                    type=doc.type,
                    targetHash=doc.proof.target_hash,
                    validFrom=doc.validity.valid_from,
                    validUntil=doc.validity.valid_until,
                    disclosed=disclosed_fields(doc),
                    hiddenFields=len(doc.privacy.obfuscated),
                )
            root = claim.merkle_root
            issuer = IssuerInfo(department="0x" + claim.department.hex())
            anchor = AnchorInfo(merkleRoot="0x" + root.hex())
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


@lru_cache(maxsize=4096)
def _sm2_valid(public: bytes, message: bytes, signature: bytes) -> bool:
    """An SM2 verification (about 1.6 ms in Python) done once per batch root, not per document."""
    try:
        key = Sm2PublicKey.from_bytes(public)
    except ValueError:
        return False  # not a point of the curve: no key of anyone's
    return sm2_verify(key, message, signature)


def _iso(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _hex(value: bytes) -> str:
    return "0x" + value.hex()
