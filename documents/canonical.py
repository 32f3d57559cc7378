"""RFC 8785 JSON Canonicalization Scheme (JCS).

:func:`canonicalize` returns the exact bytes RFC 8785 defines, using the ``rfc8785`` package
as the reference. Values that JCS cannot represent are rejected with
:class:`~documents.errors.CanonicalizationError` carrying the JSON Pointer of the value:

* NaN, +Infinity, -Infinity;
* integers outside the IEEE-754 "safe" range ``-(2**53 - 1) .. 2**53 - 1`` (JSON numbers are
  doubles; a larger integer would be silently rounded by other implementations);
* object keys that are not strings; strings with unpaired surrogates; non-JSON types.

A faster equivalent path (the C JSON encoder) is taken when the value contains no float and
no object key outside the Basic Multilingual Plane: for such values, Python's code-point key
order equals JCS's UTF-16 code-unit order, and the string escaping rules coincide. Values
with floats or astral-plane keys go through ``rfc8785`` itself. Equality of both paths is
checked by property tests.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from json.encoder import encode_basestring
from typing import Any

import rfc8785

from .errors import CanonicalizationError

__all__ = ["INT_MAX", "INT_MIN", "JsonValue", "canonicalize", "canonicalize_str", "escape_token"]

JsonValue = None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]

INT_MAX = 2**53 - 1
INT_MIN = -(2**53 - 1)
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def escape_token(key: str) -> str:
    """Escape one object key as an RFC 6901 reference token (``~`` → ``~0``, ``/`` → ``~1``)."""
    if "~" in key:
        key = key.replace("~", "~0")
    if "/" in key:
        key = key.replace("/", "~1")
    return key


def canonicalize_str(value: str, pointer: str = "") -> bytes:
    """JCS bytes of one string (a quoted, minimally escaped JSON string, UTF-8)."""
    try:
        return str(encode_basestring(value)).encode("utf-8")
    except UnicodeEncodeError:
        raise CanonicalizationError(
            pointer,
            "string contains an unpaired surrogate; JCS requires valid Unicode",
            "字符串含有未配对的代理码元，JCS 要求合法的 Unicode",
        ) from None


def _bad_type(pointer: str, value: object) -> CanonicalizationError:
    return CanonicalizationError(
        pointer,
        f"value of type {type(value).__name__} is not JSON",
        f"{type(value).__name__} 类型的值不是 JSON",
    )


class _Invalid(Exception):
    """Internal: the quick scan found a problem; the detailed scan locates and reports it."""


def _quick_scan(value: object) -> bool:
    """Return True if ``value`` needs the reference encoder; raise _Invalid if not JCS-able.

    Only exact built-in types are handled here; anything else defers to the detailed scan.
    """
    t = type(value)
    if t is dict:
        slow = False
        for key, item in value.items():  # type: ignore[attr-defined]
            if type(key) is not str:
                raise _Invalid
            if not key.isascii() and _ASTRAL.search(key):
                slow = True
            ti = type(item)
            if ti is str or item is None or ti is bool:
                continue
            if _quick_scan(item):
                slow = True
        return slow
    if t is list:
        slow = False
        for item in value:  # type: ignore[attr-defined]
            ti = type(item)
            if ti is str or item is None or ti is bool:
                continue
            if _quick_scan(item):
                slow = True
        return slow
    if t is str or value is None or t is bool:
        return False
    if t is int:
        if INT_MIN <= value <= INT_MAX:  # type: ignore[operator]
            return False
        raise _Invalid
    if t is float:
        if math.isfinite(value):  # type: ignore[arg-type]
            return True
        raise _Invalid
    raise _Invalid


def _scan(value: object, pointer: str) -> bool:
    """Validate ``value`` for JCS; return True if it needs the reference (slow) encoder."""
    if value is None or isinstance(value, (bool, str)):
        return False
    if isinstance(value, int):
        if value < INT_MIN or value > INT_MAX:
            raise CanonicalizationError(
                pointer,
                f"integer {value} is outside the IEEE-754 safe range ±(2**53-1); "
                "encode it as a string",
                f"整数 {value} 超出 IEEE-754 安全范围 ±(2**53-1)，请改用字符串表示",
            )
        return False
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise CanonicalizationError(
                pointer,
                f"{value} is not representable in JSON (NaN and infinities are forbidden)",
                f"{value} 无法用 JSON 表示（禁止 NaN 与无穷大）",
            )
        return True
    if isinstance(value, dict):
        slow = False
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalizationError(
                    pointer,
                    f"object key {key!r} is not a string",
                    f"对象的键 {key!r} 不是字符串",
                )
            if not key.isascii() and _ASTRAL.search(key):
                slow = True
            if _scan(item, f"{pointer}/{escape_token(key)}"):
                slow = True
        return slow
    if isinstance(value, (list, tuple)):
        slow = False
        for i, item in enumerate(value):
            if _scan(item, f"{pointer}/{i}"):
                slow = True
        return slow
    raise _bad_type(pointer, value)


def _find_surrogate(value: object, pointer: str) -> str | None:
    if isinstance(value, str):
        return pointer if _SURROGATE.search(value) else None
    if isinstance(value, Mapping):
        for key, item in value.items():
            child = f"{pointer}/{escape_token(key)}"
            if _SURROGATE.search(key):
                return child
            found = _find_surrogate(item, child)
            if found is not None:
                return found
    elif isinstance(value, Sequence):
        for i, item in enumerate(value):
            found = _find_surrogate(item, f"{pointer}/{i}")
            if found is not None:
                return found
    return None


def canonicalize(value: Any, pointer: str = "") -> bytes:
    """Return the RFC 8785 canonical UTF-8 bytes of a JSON value.

    ``pointer`` only prefixes the location reported in errors.
    """
    if type(value) is str:
        return canonicalize_str(value, pointer)
    try:
        slow = _quick_scan(value)
    except (_Invalid, RecursionError):
        slow = _scan(value, pointer)
    try:
        if slow:
            return rfc8785.dumps(value)
        return json.dumps(
            value, ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False
        ).encode("utf-8")
    except (UnicodeEncodeError, rfc8785.CanonicalizationError):
        where = _find_surrogate(value, pointer)
        raise CanonicalizationError(
            pointer if where is None else where,
            "string contains an unpaired surrogate; JCS requires valid Unicode",
            "字符串含有未配对的代理码元，JCS 要求合法的 Unicode",
        ) from None
