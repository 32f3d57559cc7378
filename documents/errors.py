"""Exception tree of the ``documents`` package, below the project's root error.

Every error carries an English ``message`` (``str(error)``), a Chinese ``message_zh`` and a
stable machine-readable ``code`` so that services can show both languages and map errors to
HTTP responses in one place. ``default_code`` is the class's code (``code`` mirrors it on
the class, so the root's edges read the same attribute everywhere); an instance may carry a
more precise one. They are the caller's fault: a document, record or QR URL that does not
hold together, so 422 (400 for a QR URL) at an HTTP edge.

::

    EregError
     └── DocumentError              422  DOCUMENT_ERROR
          ├── MalformedDocument          MALFORMED
          │    └── CanonicalizationError NOT_CANONICALIZABLE
          ├── SchemaViolation            SCHEMA_VIOLATION
          ├── UnknownDocumentType        UNKNOWN_DOCUMENT_TYPE
          ├── DecryptionError            DECRYPTION_FAILED
          ├── DisclosureError            DISCLOSURE_ERROR (NOT_A_FIELD, …)
          └── QrUrlError            400  BAD_QR_URL
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from common.errors import EregError

__all__ = [
    "CanonicalizationError",
    "DecryptionError",
    "DisclosureError",
    "DocumentError",
    "MalformedDocument",
    "QrUrlError",
    "SchemaViolation",
    "UnknownDocumentType",
]


class DocumentError(EregError):
    """Root of every error raised by :mod:`documents`."""

    default_code = "DOCUMENT_ERROR"
    code = default_code
    message_zh = "文书有误"
    http_status = 422

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.code = cls.default_code  # one name for the class's code, the root's

    def __init__(self, message: str, message_zh: str, *, code: str | None = None) -> None:
        super().__init__(message, message_zh, code=code or self.default_code)


class MalformedDocument(DocumentError):
    """The input is not a well-formed ``ereg/1`` document (or document part).

    ``pointer`` is an RFC 6901 JSON Pointer into the offending input ("" for the whole input).
    """

    default_code = "MALFORMED"
    message_zh = "文书格式有误"

    def __init__(self, pointer: str, message: str, message_zh: str, *, code: str | None = None) -> None:
        where = pointer if pointer else "(root)"
        super().__init__(f"{where}: {message}", f"{where}：{message_zh}", code=code)
        self.pointer = pointer
        self.reason = message
        self.reason_zh = message_zh


class CanonicalizationError(MalformedDocument):
    """A value cannot be represented in RFC 8785 canonical JSON.

    Raised for NaN and infinities, integers outside the IEEE-754 safe range
    (|n| > 2**53 - 1), non-string object keys, unpaired surrogates and non-JSON types.
    """

    default_code = "NOT_CANONICALIZABLE"
    message_zh = "该值无法表示为规范 JSON"


class SchemaViolation(DocumentError):
    """A record does not satisfy its document type's JSON Schema.

    ``errors`` lists every violation as ``(pointer, message)``, sorted by pointer.
    """

    default_code = "SCHEMA_VIOLATION"
    message_zh = "记录不符合文书类型的模式"

    def __init__(self, doc_type: str, errors: Sequence[tuple[str, str]]) -> None:
        self.doc_type = doc_type
        self.errors: list[tuple[str, str]] = sorted(errors)
        first = self.errors[0] if self.errors else ("", "")
        where = first[0] or "(root)"
        super().__init__(
            f"record does not match schema {doc_type!r}: {len(self.errors)} error(s), first at {where}: {first[1]}",
            f"记录不符合文书类型 {doc_type!r} 的模式：共 {len(self.errors)} 处错误，首个位于 {where}：{first[1]}",
        )


class UnknownDocumentType(DocumentError):
    """No JSON Schema is bundled for the requested document type."""

    default_code = "UNKNOWN_DOCUMENT_TYPE"
    message_zh = "未知的文书类型"

    def __init__(self, doc_type: str) -> None:
        super().__init__(f"unknown document type {doc_type!r}", f"未知的文书类型 {doc_type!r}")
        self.doc_type = doc_type


class DecryptionError(DocumentError):
    """An envelope cannot be opened: wrong key, tampered or truncated ciphertext."""

    default_code = "DECRYPTION_FAILED"
    message_zh = "无法解密：密钥错误或密文被篡改"


class DisclosureError(DocumentError):
    """A selective-disclosure request cannot be honoured.

    Codes: ``NOT_A_FIELD`` (pointer names no disclosed field), ``METADATA_NOT_HIDEABLE``,
    ``NOTHING_DISCLOSED`` (every data field would be hidden).
    """

    default_code = "DISCLOSURE_ERROR"
    message_zh = "无法按要求选择性披露"

    def __init__(self, message: str, message_zh: str, *, code: str, pointer: str | None = None) -> None:
        super().__init__(message, message_zh, code=code)
        self.pointer = pointer


class QrUrlError(DocumentError):
    """A QR URL (or one of its parts) is invalid."""

    default_code = "BAD_QR_URL"
    message_zh = "二维码链接无效"
    http_status = 400
