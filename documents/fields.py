"""Fields, salts, field hashes and the target hash.

A *field* is a leaf of the ``data`` object addressed by its RFC 6901 JSON Pointer:

* nested objects recurse; a non-empty object is never a field itself;
* an array is one field (its whole value); an empty object ``{}`` is a field;
* top-level data keys starting with ``@`` are reserved and rejected.

Metadata is hashed like fields under reserved pointers that can never be hidden:
``/@type`` (type string), ``/@validity`` (validity object) and ``/@issuer`` (issuer object).

``fieldHash = keccak256(salt ‖ utf8(JCS(pointer)) ‖ utf8(JCS(value)))`` — the pointer enters
as its JCS string form (with quotes), which makes the pointer/value boundary unambiguous.
``targetHash = keccak256(concat(sorted(fieldHashes)))``, sorted as bytes. In the ``ereg/1-sm``
suite both use SM3 (``suite=SUITE_SM``).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .canonical import JsonValue, canonicalize, canonicalize_str, escape_token
from .errors import MalformedDocument
from .suite import SUITE_KECCAK, Suite

__all__ = [
    "METADATA_POINTERS",
    "POINTER_ISSUER",
    "POINTER_TYPE",
    "POINTER_VALIDITY",
    "SALT_BYTES",
    "field_hash",
    "iter_fields",
    "metadata_values",
    "new_salt",
    "parse_pointer",
    "pointer_from_tokens",
    "target_hash",
    "unescape_token",
]

SALT_BYTES = 16
POINTER_TYPE = "/@type"
POINTER_VALIDITY = "/@validity"
POINTER_ISSUER = "/@issuer"
METADATA_POINTERS: tuple[str, ...] = (POINTER_TYPE, POINTER_VALIDITY, POINTER_ISSUER)
MAX_DEPTH = 32


def unescape_token(token: str) -> str:
    """Inverse of :func:`~documents.canonical.escape_token` (``~1`` → ``/``, ``~0`` → ``~``)."""
    return token.replace("~1", "/").replace("~0", "~")


def pointer_from_tokens(keys: Iterable[str]) -> str:
    """Build a JSON Pointer from unescaped object keys."""
    return "".join("/" + escape_token(k) for k in keys)


def parse_pointer(pointer: str) -> list[str]:
    """Split a JSON Pointer into unescaped keys; raise ValueError if it is not one."""
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise ValueError("a JSON Pointer is empty or starts with '/'")
    tokens = pointer[1:].split("/")
    for t in tokens:
        stripped = t.replace("~0", "").replace("~1", "")
        if "~" in stripped:
            raise ValueError("'~' must be escaped as '~0' in a JSON Pointer")
    return [unescape_token(t) for t in tokens]


def new_salt() -> bytes:
    """A fresh random 16-byte salt."""
    return secrets.token_bytes(SALT_BYTES)


def _walk(obj: Mapping[str, Any], prefix: str, depth: int) -> Iterator[tuple[str, Any]]:
    if depth > MAX_DEPTH:
        raise MalformedDocument(
            prefix, f"data nested deeper than {MAX_DEPTH} levels", f"数据嵌套超过 {MAX_DEPTH} 层"
        )
    for key, value in obj.items():
        if not isinstance(key, str):
            raise MalformedDocument(
                prefix, f"key {key!r} is not a string", f"键 {key!r} 不是字符串"
            )
        pointer = prefix + "/" + escape_token(key)
        if isinstance(value, dict) and value:
            yield from _walk(value, pointer, depth + 1)
        else:
            yield pointer, value


def iter_fields(data: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """Yield ``(pointer, value)`` for every field of ``data`` in document order.

    Raises :class:`MalformedDocument` for reserved top-level keys (``@...``), non-string keys
    and nesting deeper than 32 levels. Pointers in errors are relative to ``data``.
    """
    if not isinstance(data, dict):
        raise MalformedDocument("", "data must be a JSON object", "data 必须是 JSON 对象")
    for key in data:
        if isinstance(key, str) and key.startswith("@"):
            raise MalformedDocument(
                "/" + escape_token(key),
                "top-level data keys starting with '@' are reserved for metadata",
                "以 '@' 开头的顶层数据键保留给元数据使用",
            )
    return _walk(data, "", 1)


def metadata_values(
    doc_type: str, validity: Mapping[str, Any], issuer: Mapping[str, Any]
) -> dict[str, JsonValue]:
    """The values hashed under the reserved metadata pointers."""
    return {
        POINTER_TYPE: doc_type,
        POINTER_VALIDITY: {
            "validFrom": validity["validFrom"],
            "validUntil": validity["validUntil"],
        },
        POINTER_ISSUER: {
            "department": issuer["department"],
            "chainId": issuer["chainId"],
            "registry": issuer["registry"],
        },
    }


def field_hash(salt: bytes, pointer: str, value: Any, suite: Suite = SUITE_KECCAK) -> bytes:
    """``H(salt ‖ utf8(JCS(pointer)) ‖ utf8(JCS(value)))``."""
    if len(salt) != SALT_BYTES:
        raise ValueError(f"salt must be {SALT_BYTES} bytes, got {len(salt)}")
    return suite.hash(salt + canonicalize_str(pointer) + canonicalize(value, pointer))


def target_hash(field_hashes: Iterable[bytes], suite: Suite = SUITE_KECCAK) -> bytes:
    """``H(concat(sorted(fieldHashes)))`` with the hashes sorted as bytes."""
    return suite.hash(b"".join(sorted(field_hashes)))
