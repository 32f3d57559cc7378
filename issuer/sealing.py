"""The CPU-bound work of ``ereg issue``, in calls a worker process can make.

* :func:`seal_files`, before a batch is stored: its records read and checked against the type's
  schema, wrapped, each document encrypted under its own key and its envelope named by its CID
  (about half a millisecond a document for the schema, a tenth for the rest);
* :func:`finish_documents`, once it is anchored: each document as it is handed out (its CID and
  anchoring transaction set, validated again), its verification URL and QR images.

Their arguments and results are plain values (paths, JSON objects, bytes, strings), and they
touch neither the network nor the journal: the issuer runs them in worker processes while it
stores and anchors other batches, and what is stored, journalled and written is still decided in
the issuing process, in batch order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from documents import build_qr_url, document_from_obj, document_to_bytes, validate_record, with_anchor, wrap_batch
from documents.envelope import seal
from documents.model import load_json
from documents.sm2 import Sm2PrivateKey
from documents.suite import suite_of
from issuer.errors import InputError
from issuer.qrimage import QrKinds, render
from storage.cid import compute_cid

__all__ = [
    "FinishedDocument",
    "SchemaViolationError",
    "SealedBatch",
    "finish_documents",
    "read_record",
    "seal_files",
    "seal_many",
    "seal_records",
]


class SchemaViolationError(InputError):
    code = "SCHEMA_VIOLATION"
    message_zh = "记录不符合该文书类型的模式，未签发"


@dataclass(frozen=True)
class SealedBatch:
    """One batch, sealed: everything the issuer stores and journals, in record order."""

    #: the Merkle root to anchor, 0x-hex
    root: str
    #: each document's canonical JSON text (RFC 8785), exactly what its envelope holds:
    #: ``proof.cid`` and ``proof.anchorTx`` are null, since the CID names the envelope itself
    documents: list[str]
    #: each document's content key, and its envelope (what is stored)
    keys: list[bytes]
    blobs: list[bytes]
    #: each envelope's CID (CIDv1, raw, sha2-256, base32), computed here
    cids: list[str]


def read_record(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        record = load_json(raw)
    except Exception as exc:  # noqa: BLE001 - any parse failure is the file's fault
        raise InputError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(record, dict):
        raise InputError(f"{path}: a record must be a JSON object")
    return record


@lru_cache(maxsize=4)
def _sm2_key(raw: bytes) -> Sm2PrivateKey:
    return Sm2PrivateKey.from_bytes(raw)


def seal_records(
    records: Sequence[Mapping[str, Any]],
    doc_type: str,
    issuer: Mapping[str, Any],
    validity: Mapping[str, Any],
    suite_version: str,
    sm2_key: bytes | None = None,
) -> SealedBatch:
    """Wrap ``records`` as one batch, encrypt each document under its own key, name each envelope.

    The records are not checked against the type's schema here (:func:`seal_files` does).
    ``sm2_key`` is the department's SM2 private key (32 bytes) for a signed suite.
    """
    suite = suite_of(suite_version)
    batch = wrap_batch(
        records,
        doc_type,
        issuer,
        validity,
        check_schema=False,
        suite=suite,
        sm2_key=_sm2_key(sm2_key) if sm2_key is not None else None,
    )
    documents: list[str] = []
    keys: list[bytes] = []
    blobs: list[bytes] = []
    cids: list[str] = []
    for doc in batch.documents:
        plaintext = document_to_bytes(doc)
        key, blob = seal(plaintext, suite)
        documents.append(plaintext.decode())
        keys.append(key)
        blobs.append(blob)
        cids.append(compute_cid(blob))
    return SealedBatch(root=batch.root_hex, documents=documents, keys=keys, blobs=blobs, cids=cids)


def seal_files(
    index: int,
    files: Sequence[Path],
    doc_type: str,
    issuer: Mapping[str, Any],
    validity: Mapping[str, Any],
    suite_version: str,
    sm2_key: bytes | None = None,
) -> SealedBatch:
    """Read batch ``index``'s record files, check each against the type's schema, then seal them.

    Raises :class:`InputError` naming the file for a file that cannot be read or parsed, and
    :class:`SchemaViolationError` listing (up to five of) every schema error of the batch.
    """
    records = [read_record(p) for p in files]
    errors: list[str] = []
    for path, record in zip(files, records, strict=True):
        errors.extend(f"{path}: {pointer or '/'}: {message}" for pointer, message in validate_record(doc_type, record))
    if errors:
        shown = "; ".join(errors[:5]) + (f"; and {len(errors) - 5} more" if len(errors) > 5 else "")
        raise SchemaViolationError(f"batch {index} not issued, {len(errors)} schema error(s): {shown}")
    return seal_records(records, doc_type, issuer, validity, suite_version, sm2_key)


def seal_many(
    pool: Executor,
    batches: Sequence[Sequence[Mapping[str, Any]]],
    doc_type: str,
    issuer: Mapping[str, Any],
    validity: Mapping[str, Any],
    suite_version: str,
    sm2_key: bytes | None = None,
) -> list[SealedBatch]:
    """:func:`seal_records` of each batch on ``pool`` (worker processes: every core), in order."""
    futures = [
        pool.submit(seal_records, records, doc_type, issuer, validity, suite_version, sm2_key) for records in batches
    ]
    return [future.result() for future in futures]


class FinishedDocument(NamedTuple):
    """What ``ereg issue`` writes for one document: the ``.ereg.json``, the URL, the QR images."""

    document: bytes
    url: str
    png: bytes | None
    svg: bytes | None


def finish_documents(
    documents: Sequence[Mapping[str, Any]],
    cids: Sequence[str],
    keys: Sequence[str],
    anchor_tx: str | None,
    verifier_url: str,
    kinds: QrKinds,
) -> list[FinishedDocument]:
    """Each journalled document (with its CID and hex key) as it is handed out, once anchored.

    The document is validated again as it is read back from the journal, gets its CID and
    ``anchor_tx``, and is written as canonical bytes; its QR images (``kinds``) encode the
    verification URL that carries the CID and the key.
    """
    finished = []
    for doc, cid, key in zip(documents, cids, keys, strict=True):
        final = with_anchor(document_from_obj(doc), anchor_tx=anchor_tx, cid=cid)
        url = build_qr_url(verifier_url, cid, bytes.fromhex(key))
        png, svg = render(url, kinds)
        finished.append(FinishedDocument(document_to_bytes(final), url, png, svg))
    return finished
