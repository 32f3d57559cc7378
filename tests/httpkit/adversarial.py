"""The adversarial bodies of issue 11, at any size: each must be refused with a 4xx, in linear work.

Shared by the tests of the JSON guard (documents, httpkit) and of the services.
"""

from __future__ import annotations

from collections.abc import Callable

DEPTH = 64  # the services' and documents' nesting limit


#: 65 ``[``, then ``"``, then ``\"`` repeated: an unterminated string after deep brackets.
def unclosed_string(size: int) -> bytes:
    head = b"[" * (DEPTH + 1) + b'"'
    return head + b'\\"' * ((size - len(head)) // 2)


def deep_nesting(size: int) -> bytes:
    return b"[" * (size // 2) + b"]" * (size // 2)


def one_char_strings(size: int) -> bytes:
    return b"[" + b'"a",' * (size // 4 - 1) + b'"a"]'


def duplicate_keys(size: int) -> bytes:
    return b"{" + b'"k":1,' * (size // 6 - 1) + b'"k":1}'


def lone_surrogates(size: int) -> bytes:
    return b'["' + b"\\ud800" * ((size - 4) // 6) + b'"]'


def utf16(size: int) -> bytes:
    return ('["' + "a" * (size // 2 - 4) + '"]').encode("utf-16-le")


def long_number(size: int) -> bytes:
    return b"[" + b"1" * (size - 2) + b"]"


ADVERSARIAL: dict[str, Callable[[int], bytes]] = {
    "unclosed string after deep brackets": unclosed_string,
    "deep nesting": deep_nesting,
    "one-character strings": one_char_strings,
    "duplicate keys": duplicate_keys,
    "lone surrogates": lone_surrogates,
    "UTF-16": utf16,
    "long number": long_number,
}
