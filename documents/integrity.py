"""Document integrity check (the ``DOCUMENT_INTEGRITY`` fragment of a verdict).

Order of checks, first failure wins:

1. ``MALFORMED`` — not valid JSON / not a structurally valid ``ereg/1`` document;
2. ``NOTHING_DISCLOSED`` — no data field is disclosed;
3. ``TAMPERED`` — the disclosed fields do not match the salts, or the recomputed target hash
   differs from ``proof.targetHash``;
4. ``PROOF_MISMATCH`` — ``proof.proof`` does not lead from the document's leaf to
   ``proof.merkleRoot``.

The hashes are the suite's that ``version`` names (Keccak-256, or SM3 for ``ereg/1-sm``). The
SM2 signature of an ``ereg/1-sm`` document is not checked here: its key is the chain's to vouch
for (the ``ISSUER_IDENTITY`` fragment).

Integrity says nothing about anchoring or status: the caller must still check on chain that
``merkleRoot`` is anchored by ``issuer.department`` for the type, and the leaf's status.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .canonical import canonicalize, canonicalize_str, escape_token
from .errors import MalformedDocument
from .fields import METADATA_POINTERS, iter_fields, metadata_values
from .merkle import leaf_hash, verify_proof
from .model import WrappedDocument, document_from_obj, document_to_dict, parse_document
from .suite import suite_of

__all__ = ["IntegrityCode", "IntegrityResult", "check_integrity"]


class IntegrityCode(StrEnum):
    """Codes of the ``DOCUMENT_INTEGRITY`` fragment."""

    OK = "OK"
    MALFORMED = "MALFORMED"
    TAMPERED = "TAMPERED"
    PROOF_MISMATCH = "PROOF_MISMATCH"
    NOTHING_DISCLOSED = "NOTHING_DISCLOSED"


@dataclass(frozen=True)
class IntegrityResult:
    """Outcome of :func:`check_integrity`.

    ``document`` is set unless the input was malformed; ``target_hash``, ``leaf`` and
    ``merkle_root`` are set when the code is ``OK`` or ``PROOF_MISMATCH`` (recomputed values).
    """

    code: IntegrityCode
    message: str
    message_zh: str
    pointer: str | None = None
    document: WrappedDocument | None = field(default=None, repr=False)
    target_hash: bytes | None = None
    leaf: bytes | None = None
    merkle_root: bytes | None = None

    @property
    def ok(self) -> bool:
        return self.code is IntegrityCode.OK


def _fail(
    code: IntegrityCode,
    message: str,
    message_zh: str,
    *,
    pointer: str | None = None,
    document: WrappedDocument | None = None,
) -> IntegrityResult:
    return IntegrityResult(code, message, message_zh, pointer=pointer, document=document)


def check_integrity(doc: WrappedDocument | Mapping[str, Any] | str | bytes) -> IntegrityResult:
    """Check a wrapped document (model, parsed JSON object, or JSON text/bytes).

    A model is re-validated (it may have been built with ``model_construct``).
    """
    try:
        if isinstance(doc, str | bytes | bytearray):
            document = parse_document(bytes(doc) if isinstance(doc, bytearray) else doc)
        elif isinstance(doc, WrappedDocument):
            document = document_from_obj(document_to_dict(doc))
        else:
            document = document_from_obj(doc)
        fields = list(iter_fields(document.data))
    except MalformedDocument as exc:
        return _fail(
            IntegrityCode.MALFORMED, exc.message, exc.message_zh, pointer=exc.pointer
        )

    if not fields:
        return _fail(
            IntegrityCode.NOTHING_DISCLOSED,
            "no data field is disclosed",
            "未披露任何数据字段",
            document=document,
        )
    salt_pointers = {p for p in document.salts if p not in METADATA_POINTERS}
    data_pointers = {p for p, _ in fields}
    for pointer in sorted(data_pointers - salt_pointers):
        return _fail(
            IntegrityCode.TAMPERED,
            f"disclosed field {pointer} has no salt",
            f"已披露字段 {pointer} 没有对应的盐值",
            pointer="/data" + pointer,
            document=document,
        )
    for pointer in sorted(salt_pointers - data_pointers):
        return _fail(
            IntegrityCode.TAMPERED,
            f"salt {pointer} belongs to no disclosed field",
            f"盐值 {pointer} 没有对应的已披露字段",
            pointer="/salts/" + escape_token(pointer),
            document=document,
        )

    salts = document.salts
    suite = suite_of(document.version)
    hash_ = suite.hash
    meta = metadata_values(document.type, document.validity.as_json(), document.issuer.as_json())
    hashes = [bytes.fromhex(h[2:]) for h in document.privacy.obfuscated]
    for pointer, value in (*fields, *meta.items()):
        hashes.append(
            hash_(
                bytes.fromhex(salts[pointer])
                + canonicalize_str(pointer)
                + canonicalize(value, pointer)
            )
        )
    hashes.sort()
    target = hash_(b"".join(hashes))
    if "0x" + target.hex() != document.proof.target_hash:
        return _fail(
            IntegrityCode.TAMPERED,
            "recomputed target hash differs from proof.targetHash",
            "重新计算的目标哈希与 proof.targetHash 不一致",
            pointer="/proof/targetHash",
            document=document,
        )
    leaf = leaf_hash(target, suite)
    root = bytes.fromhex(document.proof.merkle_root[2:])
    proof = [bytes.fromhex(p[2:]) for p in document.proof.proof]
    if not verify_proof(leaf, proof, root, suite):
        return IntegrityResult(
            IntegrityCode.PROOF_MISMATCH,
            "Merkle proof does not lead to proof.merkleRoot",
            "默克尔证明无法推导出 proof.merkleRoot",
            pointer="/proof/proof",
            document=document,
            target_hash=target,
            leaf=leaf,
            merkle_root=root,
        )
    return IntegrityResult(
        IntegrityCode.OK,
        "document is intact",
        "文书完整未被篡改",
        document=document,
        target_hash=target,
        leaf=leaf,
        merkle_root=root,
    )
