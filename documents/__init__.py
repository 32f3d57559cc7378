"""``ereg/1`` document format: canonical JSON, field hashes, Merkle batches, selective
disclosure, the wrapped-document model, the encryption envelope, QR URLs and type schemas.

Pure computation: no network or file I/O apart from reading the bundled schemas.
The normative description is ``docs/FORMAT.md``.
"""

from __future__ import annotations

from .canonical import canonicalize
from .disclosure import disclosed_fields, hide_fields
from .envelope import open_envelope, seal, seal_with
from .errors import (
    CanonicalizationError,
    DecryptionError,
    DisclosureError,
    DocumentError,
    MalformedDocument,
    QrUrlError,
    SchemaViolation,
    UnknownDocumentType,
)
from .fields import METADATA_POINTERS, field_hash, iter_fields, target_hash
from .hashing import keccak256
from .integrity import IntegrityCode, IntegrityResult, check_integrity
from .merkle import MerkleTree, leaf_hash, merkle_root, process_proof, verify_proof
from .model import (
    FORMAT_VERSION,
    Issuer,
    Privacy,
    Proof,
    Validity,
    WrappedDocument,
    document_from_obj,
    document_to_bytes,
    document_to_dict,
    parse_document,
    with_anchor,
)
from .qr import QrPayload, build_qr_url, parse_qr_url
from .schemas import check_record, list_types, load_schema, type_id, validate_record
from .wrap import WrappedBatch, wrap_batch, wrap_document

__all__ = [
    "FORMAT_VERSION",
    "METADATA_POINTERS",
    "CanonicalizationError",
    "DecryptionError",
    "DisclosureError",
    "DocumentError",
    "IntegrityCode",
    "IntegrityResult",
    "Issuer",
    "MalformedDocument",
    "MerkleTree",
    "Privacy",
    "Proof",
    "QrPayload",
    "QrUrlError",
    "SchemaViolation",
    "UnknownDocumentType",
    "Validity",
    "WrappedBatch",
    "WrappedDocument",
    "build_qr_url",
    "canonicalize",
    "check_integrity",
    "check_record",
    "disclosed_fields",
    "document_from_obj",
    "document_to_bytes",
    "document_to_dict",
    "field_hash",
    "hide_fields",
    "iter_fields",
    "keccak256",
    "leaf_hash",
    "list_types",
    "load_schema",
    "merkle_root",
    "open_envelope",
    "parse_document",
    "parse_qr_url",
    "process_proof",
    "seal",
    "seal_document",
    "seal_with",
    "target_hash",
    "type_id",
    "validate_record",
    "verify_proof",
    "with_anchor",
    "wrap_batch",
    "wrap_document",
]


def seal_document(doc: WrappedDocument) -> tuple[bytes, bytes]:
    """Encrypt a document's canonical bytes under a fresh key; return ``(key, blob)``."""
    return seal(document_to_bytes(doc))
