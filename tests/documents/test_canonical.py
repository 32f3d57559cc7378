from __future__ import annotations

import json
import math
import struct
from typing import Any

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from documents import CanonicalizationError, canonicalize
from documents.model import load_json

# RFC 8785 appendix B: IEEE-754 bit patterns and their canonical serialization.
RFC_NUMBERS = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


@pytest.mark.parametrize(("bits", "expected"), RFC_NUMBERS)
def test_rfc8785_number_serialization(bits: str, expected: str) -> None:
    (value,) = struct.unpack(">d", bytes.fromhex(bits))
    assert canonicalize(value) == expected.encode()
    assert canonicalize([value]) == f"[{expected}]".encode()


@pytest.mark.parametrize("bits", ["7fffffffffffffff", "7ff0000000000000", "fff0000000000000"])
def test_nan_and_infinities_rejected(bits: str) -> None:
    (value,) = struct.unpack(">d", bytes.fromhex(bits))
    with pytest.raises(CanonicalizationError) as info:
        canonicalize({"a": [1, value]})
    assert info.value.pointer == "/a/1"
    assert info.value.message_zh


def test_rfc8785_key_ordering_by_utf16_code_units() -> None:
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    expected = (
        '{"\\r":"Carriage Return","1":"One","\u0080":"Control",'
        '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
        '"\U0001f600":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}'
    )
    assert canonicalize(value) == expected.encode("utf-8")


def test_astral_key_sorts_before_high_bmp_key_unlike_code_point_order() -> None:
    # U+1F600 is D83D DE00 in UTF-16, so it sorts before U+FB33 although its code point is larger
    assert canonicalize({"\ufb33": 1, "\U0001f600": 2}) == '{"\U0001f600":2,"\ufb33":1}'.encode()


def test_rfc8785_main_example() -> None:
    text = (
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}'
    )
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonicalize(json.loads(text)) == expected.encode("utf-8")


def test_string_escaping() -> None:
    assert (
        canonicalize('\b\f\n\r\t\x00\x1f\x7f"\\/é')
        == b'"\\b\\f\\n\\r\\t\\u0000\\u001f\x7f\\"\\\\/\xc3\xa9"'
    )


@pytest.mark.parametrize(
    ("value", "pointer"),
    [
        ({"n": 2**53}, "/n"),
        ({"n": -(2**53)}, "/n"),
        ({"x": {1: "a"}}, "/x"),
        ({"s": ["ok", "\ud800"]}, "/s/1"),
        ({"k\udc00": 1}, "/k\udc00"),
        ({"set": {1, 2}}, "/set"),
        ({"b": b"bytes"}, "/b"),
        ({"a~b/c": float("nan")}, "/a~0b~1c"),
    ],
)
def test_unrepresentable_values_rejected_with_pointer(value: Any, pointer: str) -> None:
    with pytest.raises(CanonicalizationError) as info:
        canonicalize(value)
    assert info.value.pointer == pointer
    assert info.value.code == "NOT_CANONICALIZABLE"


def test_safe_integer_bounds_accepted() -> None:
    assert canonicalize([2**53 - 1, -(2**53 - 1)]) == b"[9007199254740991,-9007199254740991]"


def test_rfc8785_package_behaviour_we_rely_on() -> None:
    # the reference package rejects these itself; we wrap with a pointer-carrying error
    with pytest.raises(rfc8785.IntegerDomainError):
        rfc8785.dumps(2**53)
    with pytest.raises(rfc8785.FloatDomainError):
        rfc8785.dumps(math.inf)
    with pytest.raises(rfc8785.CanonicalizationError):
        rfc8785.dumps({1: 2})


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53 - 1), max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)
no_float_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53 - 1), 2**53 - 1) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)


def _no_surrogates(value: Any) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@given(json_values)
def test_equals_reference_implementation(value: Any) -> None:
    if not _no_surrogates(value):
        with pytest.raises(CanonicalizationError):
            canonicalize(value)
        return
    assert canonicalize(value) == rfc8785.dumps(value)


@given(no_float_values)
def test_fast_path_equals_reference(value: Any) -> None:
    if _no_surrogates(value):
        assert canonicalize(value) == rfc8785.dumps(value)


@given(json_values)
def test_canonical_form_is_a_fixed_point(value: Any) -> None:
    if _no_surrogates(value):
        once = canonicalize(value)
        assert canonicalize(load_json(once)) == once
