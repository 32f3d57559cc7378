from __future__ import annotations

import os

import pytest

from documents import MalformedDocument, field_hash, iter_fields, keccak256, target_hash
from documents.canonical import escape_token
from documents.fields import new_salt, parse_pointer, pointer_from_tokens, unescape_token
from documents.hashing import (
    _eth_hash_factory,
    is_checksum_address,
    new_hasher,
    to_checksum_address,
)


def test_keccak_known_vectors() -> None:
    assert (
        keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    )
    assert keccak256(b"abc").hex() == (
        "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"
    )


@pytest.mark.parametrize("size", [0, 1, 31, 32, 33, 135, 136, 137, 1000, 5000])
def test_fast_keccak_equals_eth_hash(size: int) -> None:
    data = os.urandom(size)
    assert new_hasher()(data) == _eth_hash_factory()(data) == keccak256(data)


def test_checksum_address() -> None:
    assert to_checksum_address("0x5fbdb2315678afecb367f032d93f642f64180aa3") == (
        "0x5FbDB2315678afecb367f032d93F642f64180aa3"
    )
    assert is_checksum_address("0x5FbDB2315678afecb367f032d93F642f64180aa3")
    assert not is_checksum_address("0x5fbdb2315678afecb367f032d93f642f64180aa3")


@pytest.mark.parametrize(
    ("key", "token"), [("a", "a"), ("a/b", "a~1b"), ("m~n", "m~0n"), ("~1", "~01"), ("", "")]
)
def test_pointer_escaping_round_trip(key: str, token: str) -> None:
    assert escape_token(key) == token
    assert unescape_token(token) == key
    assert parse_pointer(pointer_from_tokens([key, "x"])) == [key, "x"]


@pytest.mark.parametrize("bad", ["a", "/a~2", "/~"])
def test_parse_pointer_rejects_invalid(bad: str) -> None:
    with pytest.raises(ValueError, match=r"Pointer|~"):
        parse_pointer(bad)


def test_fields_are_leaves_arrays_are_one_field_empty_object_is_a_leaf() -> None:
    data = {"a": {"b": 1, "c": {"d": [1, {"e": 2}]}}, "f": {}, "g/h": None, "i~": "x"}
    assert list(iter_fields(data)) == [
        ("/a/b", 1),
        ("/a/c/d", [1, {"e": 2}]),
        ("/f", {}),
        ("/g~1h", None),
        ("/i~0", "x"),
    ]


def test_top_level_at_keys_are_reserved_but_nested_ones_are_not() -> None:
    with pytest.raises(MalformedDocument) as info:
        list(iter_fields({"@type": "x"}))
    assert info.value.pointer == "/@type"
    assert list(iter_fields({"a": {"@b": 1}})) == [("/a/@b", 1)]


def test_field_hash_formula() -> None:
    salt = bytes(range(16))
    expected = keccak256(salt + b'"/owner/name"' + '"张三"'.encode())
    assert field_hash(salt, "/owner/name", "张三") == expected
    with pytest.raises(ValueError, match="16 bytes"):
        field_hash(b"short", "/a", 1)


def test_pointer_value_boundary_is_unambiguous() -> None:
    # with a bare pointer, ("/x", 123) and ("/x1", 23) would hash the same bytes
    salt = bytes(16)
    assert field_hash(salt, "/x", 123) != field_hash(salt, "/x1", 23)
    assert field_hash(salt, "/k", 'a"b') != field_hash(salt, '/k"a\\', "b")


def test_target_hash_sorts_as_bytes() -> None:
    hashes = [os.urandom(32) for _ in range(5)]
    expected = keccak256(b"".join(sorted(hashes)))
    assert target_hash(hashes) == expected == target_hash(reversed(hashes))
    assert target_hash(hashes[:4]) != expected


def test_salts_are_fresh_16_bytes() -> None:
    salts = {new_salt() for _ in range(100)}
    assert len(salts) == 100
    assert all(len(s) == 16 for s in salts)
