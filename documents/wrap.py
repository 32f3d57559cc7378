"""Wrapping a batch of records into ``ereg/1`` documents (the issuance fast path).

Values are canonicalized once, salts come from one random draw per document, Keccak runs on
one reusable state, and models are built with ``model_construct`` (the output is valid by
construction; parsing validates strictly).
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from .canonical import canonicalize, canonicalize_str, escape_token
from .errors import MalformedDocument, SchemaViolation
from .fields import MAX_DEPTH, SALT_BYTES, metadata_values
from .hashing import hex32
from .merkle import MerkleTree
from .model import (
    Issuer,
    Privacy,
    Proof,
    Signature,
    Validity,
    WrappedDocument,
    _malformed_from,
    _parse_int,
)
from .schemas import type_id, validate_record
from .sm2 import Sm2PrivateKey
from .suite import SUITE_KECCAK, Suite, root_message

__all__ = ["WrappedBatch", "wrap_batch", "wrap_document"]


@dataclass(frozen=True)
class WrappedBatch:
    """Documents of one batch (in record order) and their Merkle tree."""

    documents: list[WrappedDocument]
    tree: MerkleTree
    doc_type: str
    suite: Suite = SUITE_KECCAK
    signature: Signature | None = None

    @property
    def root(self) -> bytes:
        """Merkle root to anchor (32 bytes)."""
        return self.tree.root

    @property
    def root_hex(self) -> str:
        return hex32(self.tree.root)

    @property
    def type_id(self) -> str:
        """``keccak256(utf8(type))`` as 0x-hex, as the registry expects."""
        return type_id(self.doc_type)


def _copy_leaves(
    obj: Mapping[str, Any],
    prefix: str,
    out: dict[str, Any],
    entries: list[tuple[bytes, bytes, str]],
    depth: int,
    cache: dict[tuple[str, str], tuple[str, bytes]],
) -> None:
    """Copy ``obj`` into ``out``; append ``(JCS(pointer), JCS(value), pointer)`` per field."""
    if depth > MAX_DEPTH:
        raise MalformedDocument(
            prefix, f"data nested deeper than {MAX_DEPTH} levels", f"数据嵌套超过 {MAX_DEPTH} 层"
        )
    for key, value in obj.items():
        cached = cache.get((prefix, key))
        if cached is None:
            if type(key) is not str:
                raise MalformedDocument(
                    prefix, f"key {key!r} is not a string", f"键 {key!r} 不是字符串"
                )
            pointer = prefix + "/" + escape_token(key)
            cached = (pointer, canonicalize_str(pointer, pointer))
            cache[(prefix, key)] = cached
        pointer = cached[0]
        if type(value) is str:
            out[key] = value
            entries.append((cached[1], canonicalize_str(value, pointer), pointer))
        elif isinstance(value, dict) and value:
            child: dict[str, Any] = {}
            out[key] = child
            _copy_leaves(value, pointer, child, entries, depth + 1, cache)
        else:
            encoded = canonicalize(value, pointer)
            if isinstance(value, (list, tuple, dict)):
                value = json.loads(encoded, parse_int=_parse_int)  # private plain copy
            out[key] = value
            entries.append((cached[1], encoded, pointer))


def _coerce(model: type[Issuer] | type[Validity], value: Any, where: str) -> Any:
    if isinstance(value, model):
        return value
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise _malformed_from(exc, where) from None


_TYPE_RE = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


def _check_type_name(doc_type: str) -> None:
    if not isinstance(doc_type, str) or len(doc_type) > 64 or not _TYPE_RE.fullmatch(doc_type):
        raise MalformedDocument(
            "/type",
            "document type must be lowercase words joined by '-' (at most 64 chars)",
            "文书类型须为以 '-' 连接的小写单词（不超过 64 个字符）",
        )


def wrap_batch(
    records: Sequence[Mapping[str, Any]],
    doc_type: str,
    issuer: Issuer | Mapping[str, Any],
    validity: Validity | Mapping[str, Any],
    *,
    check_schema: bool = True,
    suite: Suite = SUITE_KECCAK,
    sm2_key: Sm2PrivateKey | None = None,
) -> WrappedBatch:
    """Wrap ``records`` (the ``data`` objects) into documents of one batch.

    ``suite`` picks the hashes (:data:`~documents.suite.SUITE_SM`: SM3); a signed suite needs
    the department's ``sm2_key``, whose signature over the root every document then carries.

    ``issuer`` and ``validity`` are models or their JSON objects (``chainId``, ``validFrom``
    ...). With ``check_schema`` every record is validated against the type's JSON Schema
    first; :class:`SchemaViolation` then lists every error with pointers ``/<index>/...``.
    Returned documents have ``anchorTx`` and ``cid`` null; set them with
    :func:`documents.model.with_anchor`.
    """
    if not records:
        raise ValueError("a batch needs at least one record")
    if suite.signed and sm2_key is None:
        raise ValueError(f"a {suite.version} batch needs the department's SM2 key")
    if not suite.signed and sm2_key is not None:
        raise ValueError(f"a {suite.version} batch carries no SM2 signature")
    issuer_m: Issuer = _coerce(Issuer, issuer, "/issuer")
    validity_m: Validity = _coerce(Validity, validity, "/validity")
    _check_type_name(doc_type)
    if check_schema:
        errors: list[tuple[str, str]] = []
        for i, record in enumerate(records):
            errors.extend((f"/{i}{p}", m) for p, m in validate_record(doc_type, record))
        if errors:
            raise SchemaViolation(doc_type, errors)
    meta = metadata_values(doc_type, validity_m.as_json(), issuer_m.as_json())
    meta_entries = [(canonicalize_str(p), canonicalize(v, p), p) for p, v in meta.items()]
    cache: dict[tuple[str, str], tuple[str, bytes]] = {}
    h = suite.new_hasher()
    token_bytes = secrets.token_bytes

    prepared: list[tuple[dict[str, Any], dict[str, str], bytes]] = []
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            raise MalformedDocument(f"/{i}", "record must be a JSON object", "记录必须是 JSON 对象")
        for key in record:
            if isinstance(key, str) and key.startswith("@"):
                raise MalformedDocument(
                    f"/{i}/{escape_token(key)}",
                    "top-level data keys starting with '@' are reserved for metadata",
                    "以 '@' 开头的顶层数据键保留给元数据使用",
                )
        data: dict[str, Any] = {}
        entries: list[tuple[bytes, bytes, str]] = []
        try:
            _copy_leaves(record, "", data, entries, 1, cache)
        except MalformedDocument as exc:
            raise MalformedDocument(f"/{i}{exc.pointer}", exc.reason, exc.reason_zh) from None
        if not entries:
            raise MalformedDocument(f"/{i}", "record has no fields", "记录没有任何字段")
        entries.extend(meta_entries)
        blob = token_bytes(SALT_BYTES * len(entries))
        blob_hex = blob.hex()
        salts: dict[str, str] = {}
        hashes: list[bytes] = []
        offset = 0
        for pointer_jcs, value_jcs, pointer in entries:
            hashes.append(h(blob[offset : offset + SALT_BYTES] + pointer_jcs + value_jcs))
            salts[pointer] = blob_hex[2 * offset : 2 * offset + 2 * SALT_BYTES]
            offset += SALT_BYTES
        hashes.sort()
        prepared.append((data, salts, h(b"".join(hashes))))

    tree = MerkleTree([t for _, _, t in prepared], suite)
    root_hex = hex32(tree.root)
    signature = None
    if sm2_key is not None:
        message = root_message(
            issuer_m.chain_id, issuer_m.registry, bytes.fromhex(issuer_m.department[2:]), tree.root
        )
        signature = Signature.model_construct(
            alg="SM2", key=sm2_key.public_key.hex(), value="0x" + sm2_key.sign(message).hex()
        )
    empty_privacy = Privacy.model_construct(obfuscated=[])
    documents: list[WrappedDocument] = []
    construct_doc = WrappedDocument.model_construct
    construct_proof = Proof.model_construct
    proofs = tree.all_proofs_hex()
    for (data, salts, target), proof_hex in zip(prepared, proofs, strict=True):
        proof = construct_proof(
            target_hash="0x" + target.hex(),
            merkle_root=root_hex,
            proof=proof_hex,
            anchor_tx=None,
            cid=None,
            signature=signature,
        )
        documents.append(
            construct_doc(
                version=suite.version,
                type=doc_type,
                data=data,
                salts=salts,
                privacy=empty_privacy,
                issuer=issuer_m,
                validity=validity_m,
                proof=proof,
            )
        )
    return WrappedBatch(documents=documents, tree=tree, doc_type=doc_type, suite=suite, signature=signature)


def wrap_document(
    record: Mapping[str, Any],
    doc_type: str,
    issuer: Issuer | Mapping[str, Any],
    validity: Validity | Mapping[str, Any],
    *,
    check_schema: bool = True,
    suite: Suite = SUITE_KECCAK,
    sm2_key: Sm2PrivateKey | None = None,
) -> WrappedDocument:
    """Wrap a single record as a batch of one (``merkleRoot = leaf``, empty proof)."""
    return wrap_batch(
        [record], doc_type, issuer, validity, check_schema=check_schema, suite=suite, sm2_key=sm2_key
    ).documents[0]
