"""The wrapped document (``ereg/1``): pydantic models, parsing and canonical bytes.

Parsing (:func:`parse_document`, :func:`document_from_obj`) validates strictly and reports
:class:`~documents.errors.MalformedDocument` with the JSON Pointer of the first problem.
Producers on the fast path (:func:`documents.wrap.wrap_batch`) build models with
``model_construct``; their output is valid by construction.
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from .canonical import canonicalize, escape_token
from .errors import MalformedDocument
from .fields import METADATA_POINTERS, iter_fields, parse_pointer
from .hashing import is_checksum_address
from .jsontext import depth_exceeds, loads_strict, outside_strings, parse_json_int

__all__ = [
    "FORMAT_VERSION",
    "MAX_DOCUMENT_BYTES",
    "SM_FORMAT_VERSION",
    "Issuer",
    "Privacy",
    "Proof",
    "Signature",
    "Validity",
    "WrappedDocument",
    "document_from_obj",
    "document_to_bytes",
    "document_to_dict",
    "parse_document",
    "with_anchor",
]

FORMAT_VERSION = "ereg/1"
SM_FORMAT_VERSION = "ereg/1-sm"
MAX_DOCUMENT_BYTES = 8 * 1024 * 1024
MAX_PROOF_LENGTH = 64

Hex32 = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-f]{64}$")]
Hex64 = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-f]{128}$")]
SaltHex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
DocType = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=64)]
Cid = Annotated[str, StringConstraints(pattern=r"^b[a-z2-7]{10,200}$")]
_TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")

_STRICT = ConfigDict(strict=True, extra="forbid", frozen=True)


@lru_cache(maxsize=1024)
def _is_checksum_address(value: str) -> bool:
    """EIP-55 check (a keccak per call), cached: a verifier sees few distinct registries."""
    return bool(is_checksum_address(value))


@lru_cache(maxsize=4096)
def _parsed_time(value: str) -> datetime:
    if not _TIME_RE.fullmatch(value):
        raise ValueError("must be RFC 3339 UTC with seconds precision, e.g. 2026-01-01T00:00:00Z")
    # the pattern fixes the shape; fromisoformat (C, unlike strptime) checks the calendar
    return datetime.fromisoformat(value[:-1]).replace(tzinfo=UTC)


def _check_time(value: str) -> str:
    _parsed_time(value)
    return value


def parse_time(value: str) -> datetime:
    """Parse an ``ereg/1`` timestamp (``YYYY-MM-DDTHH:MM:SSZ``) to an aware datetime."""
    return _parsed_time(value)


def format_time(value: datetime) -> str:
    """Format an aware datetime as an ``ereg/1`` timestamp (UTC, seconds, ``Z``)."""
    if value.tzinfo is None:
        raise ValueError("datetime must be timezone-aware")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Issuer(BaseModel):
    """Who issued the document and where it is anchored."""

    model_config = _STRICT
    department: Hex32
    chain_id: int = Field(alias="chainId", gt=0, le=2**53 - 1)
    registry: str

    @field_validator("registry")
    @classmethod
    def _registry_checksummed(cls, value: str) -> str:
        if not _is_checksum_address(value):
            raise ValueError("must be a 20-byte address in EIP-55 checksum form")
        return value

    def as_json(self) -> dict[str, Any]:
        return {"department": self.department, "chainId": self.chain_id, "registry": self.registry}


class Validity(BaseModel):
    """Validity window; ``validUntil`` null means no end date."""

    model_config = _STRICT
    valid_from: str = Field(alias="validFrom")
    valid_until: str | None = Field(alias="validUntil")

    @field_validator("valid_from", "valid_until")
    @classmethod
    def _time_format(cls, value: str | None) -> str | None:
        return None if value is None else _check_time(value)

    @model_validator(mode="after")
    def _ordered(self) -> Validity:
        if self.valid_until is not None and self.valid_until < self.valid_from:
            raise ValueError("validUntil is before validFrom")
        return self

    def as_json(self) -> dict[str, Any]:
        return {"validFrom": self.valid_from, "validUntil": self.valid_until}


class Privacy(BaseModel):
    """Field hashes of hidden fields, sorted ascending, without duplicates."""

    model_config = _STRICT
    obfuscated: list[Hex32]

    @field_validator("obfuscated")
    @classmethod
    def _sorted_unique(cls, value: list[str]) -> list[str]:
        if any(a >= b for a, b in itertools.pairwise(value)):
            raise ValueError("must be sorted ascending without duplicates")
        return value


class Signature(BaseModel):
    """The department's SM2 signature over the batch root (``ereg/1-sm`` only).

    ``key`` is the public key ``x ‖ y`` registered for the department on chain, ``value`` the
    signature ``r ‖ s`` of :func:`documents.suite.root_message` (GB/T 32918.2, default user id).
    """

    model_config = _STRICT
    alg: Literal["SM2"]
    key: Hex64
    value: Hex64

    def as_json(self) -> dict[str, Any]:
        return {"alg": self.alg, "key": self.key, "value": self.value}


class Proof(BaseModel):
    """Anchoring proof. ``anchorTx``, ``cid`` and ``signature`` are not hashed (the signature
    signs the root)."""

    model_config = _STRICT
    target_hash: Hex32 = Field(alias="targetHash")
    merkle_root: Hex32 = Field(alias="merkleRoot")
    proof: list[Hex32] = Field(max_length=MAX_PROOF_LENGTH)
    anchor_tx: Hex32 | None = Field(alias="anchorTx")
    cid: Cid | None
    signature: Signature | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "targetHash": self.target_hash,
            "merkleRoot": self.merkle_root,
            "proof": list(self.proof),
            "anchorTx": self.anchor_tx,
            "cid": self.cid,
        }
        if self.signature is not None:  # absent, not null, in ereg/1: its bytes stay as they were
            out["signature"] = self.signature.as_json()
        return out


class WrappedDocument(BaseModel):
    """A wrapped ``ereg/1`` document, exactly the JSON the holder keeps."""

    model_config = _STRICT
    version: Literal["ereg/1", "ereg/1-sm"]
    type: DocType
    data: dict[str, Any]
    salts: dict[str, SaltHex]
    privacy: Privacy
    issuer: Issuer
    validity: Validity
    proof: Proof

    @field_validator("salts")
    @classmethod
    def _salt_pointers(cls, value: dict[str, str]) -> dict[str, str]:
        for pointer in value:
            try:
                parse_pointer(pointer)
            except ValueError as exc:
                raise ValueError(f"salt key {pointer!r} is not a JSON Pointer: {exc}") from None
            if pointer == "":
                raise ValueError("the empty pointer is not a field")
        missing = [p for p in METADATA_POINTERS if p not in value]
        if missing:
            raise ValueError(f"missing metadata salt(s) {', '.join(missing)}")
        return value


def document_to_dict(doc: WrappedDocument) -> dict[str, Any]:
    """The JSON object of a document (shares ``data``/``salts`` with the model: do not mutate)."""
    return {
        "version": doc.version,
        "type": doc.type,
        "data": doc.data,
        "salts": doc.salts,
        "privacy": {"obfuscated": list(doc.privacy.obfuscated)},
        "issuer": doc.issuer.as_json(),
        "validity": doc.validity.as_json(),
        "proof": doc.proof.as_json(),
    }


def document_to_bytes(doc: WrappedDocument) -> bytes:
    """RFC 8785 canonical UTF-8 bytes of the document (what is encrypted and stored)."""
    return canonicalize(document_to_dict(doc))


def with_anchor(
    doc: WrappedDocument, *, anchor_tx: str | None = None, cid: str | None = None
) -> WrappedDocument:
    """Copy of ``doc`` with ``proof.anchorTx`` and/or ``proof.cid`` set (validated).

    Neither value is covered by any hash, so setting them never changes integrity.
    """
    proof = doc.proof.as_json()
    if anchor_tx is not None:
        proof["anchorTx"] = anchor_tx
    if cid is not None:
        proof["cid"] = cid
    try:
        new_proof = Proof.model_validate(proof)
    except ValidationError as exc:
        raise _malformed_from(exc, "/proof") from None
    return doc.model_copy(update={"proof": new_proof})


def _pointer_of(loc: tuple[int | str, ...]) -> str:
    return "".join("/" + escape_token(str(part)) for part in loc)


def _malformed_from(exc: ValidationError, prefix: str = "") -> MalformedDocument:
    errors = sorted(exc.errors(), key=lambda e: _pointer_of(tuple(e["loc"])))
    first = errors[0]
    pointer = prefix + _pointer_of(tuple(first["loc"]))
    message = str(first["msg"])
    return MalformedDocument(
        pointer, message, f"结构不合法：{message}", code="MALFORMED"
    )


#: Deepest nesting of arrays/objects accepted. Checked before parsing: web3's dependencies raise
#: the interpreter's recursion limit so far that the JSON parser would overflow the C stack
#: (and kill the process) on deep enough input instead of raising RecursionError.
MAX_JSON_DEPTH = 64

#: Integer literals outside ±(2**53-1) read as doubles (kept under this name for documents.wrap).
_parse_int = parse_json_int


def json_too_deep(raw: bytes | str, limit: int = MAX_JSON_DEPTH) -> bool:
    """True if the JSON text ``raw`` nests arrays or objects deeper than ``limit``.

    Linear in the length of ``raw`` (see :mod:`documents.jsontext`); brackets inside strings
    do not count.
    """
    # latin-1 maps each byte to one character: quotes, backslashes and brackets stay where they are
    text = raw.decode("latin-1") if isinstance(raw, bytes | bytearray) else raw
    outside, _unterminated = outside_strings(text)
    return depth_exceeds(outside, limit)


def load_json(raw: str | bytes) -> Any:
    """Parse JSON text strictly: UTF-8 (no BOM), no duplicate keys, no NaN/Infinity, no lone
    surrogate, nesting at most :data:`MAX_JSON_DEPTH`, size-limited; in linear time.

    Integer literals outside ±(2**53-1) become floats (JSON numbers are doubles).
    """
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise MalformedDocument("", "document too large", "文书过大")
    return loads_strict(raw, max_depth=MAX_JSON_DEPTH)


def _check_suite(doc: WrappedDocument) -> None:
    """An ``ereg/1-sm`` document carries ``proof.signature``; an ``ereg/1`` one does not."""
    signed = doc.proof.signature is not None
    if doc.version == SM_FORMAT_VERSION and not signed:
        raise MalformedDocument(
            "/proof/signature",
            "an ereg/1-sm document carries the department's SM2 signature over its root",
            "ereg/1-sm 文书须带有签发部门对批次根的 SM2 签名",
        )
    if doc.version == FORMAT_VERSION and signed:
        raise MalformedDocument(
            "/proof/signature",
            "proof.signature belongs to ereg/1-sm documents only",
            "proof.signature 仅用于 ereg/1-sm 文书",
        )


def document_from_obj(obj: Any) -> WrappedDocument:
    """Validate a parsed JSON object as a wrapped document (strict).

    Raises :class:`MalformedDocument` with the pointer of the first problem.
    """
    if not isinstance(obj, dict):
        raise MalformedDocument("", "a document must be a JSON object", "文书必须是 JSON 对象")
    try:
        doc = WrappedDocument.model_validate(obj)
    except ValidationError as exc:
        raise _malformed_from(exc) from None
    _check_suite(doc)
    proof_obj = obj.get("proof")
    if doc.version == FORMAT_VERSION and isinstance(proof_obj, dict) and "signature" in proof_obj:
        # absent, not null: an ereg/1 document's proof has no such member (as the browser reads it)
        raise MalformedDocument(
            "/proof/signature",
            "proof.signature belongs to ereg/1-sm documents only",
            "proof.signature 仅用于 ereg/1-sm 文书",
        )
    try:
        fields = list(iter_fields(doc.data))
    except MalformedDocument as exc:
        raise MalformedDocument("/data" + exc.pointer, exc.reason, exc.reason_zh) from None
    for pointer, value in fields:
        canonicalize(value, "/data" + pointer)
    return doc


def parse_document(raw: str | bytes) -> WrappedDocument:
    """Parse and strictly validate a wrapped document from JSON text or UTF-8 bytes."""
    return document_from_obj(load_json(raw))
