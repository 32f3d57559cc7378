"""parse_json: the services' one strict JSON parser; every refusal a 400 in both languages."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from documents.model import load_json
from httpkit.jsonguard import JsonLimits, JsonRefused, WorkMeter, parse_json
from tests.httpkit.adversarial import ADVERSARIAL, unclosed_string


@pytest.mark.parametrize("kind", sorted(ADVERSARIAL))
def test_adversarial_mib_bodies_are_refused_with_400(kind: str) -> None:
    with pytest.raises(JsonRefused) as info:
        parse_json(ADVERSARIAL[kind](1024 * 1024))
    refusal = info.value
    assert (refusal.http_status, refusal.code) == (400, "MALFORMED_JSON")
    assert refusal.message.startswith("the body is not accepted JSON: ")
    assert refusal.message_zh.startswith("请求体不是可接受的 JSON：")


@pytest.mark.parametrize("kind", sorted(ADVERSARIAL))
def test_work_is_linear_in_the_body(kind: str) -> None:
    chars = []
    for size in (256 * 1024, 1024 * 1024):
        meter = WorkMeter()
        with pytest.raises(JsonRefused):
            parse_json(ADVERSARIAL[kind](size), meter=meter)
        chars.append(meter.chars)
    assert chars[1] <= 1.25 * 4 * chars[0]
    assert chars[1] <= 12 * 1024 * 1024


def test_limits() -> None:
    limits = JsonLimits(max_depth=3, max_number_chars=5, max_values=10)
    assert parse_json(b"[[[1]]]", limits) == [[[1]]]
    for body, reason in [
        (b"[[[[1]]]]", "deeper than 3"),
        (b"[123456]", "longer than 5"),
        (b"[-1.5e+7]", "longer than 5"),
        (b"[1,2,3,4,5,6,7,8,9,10]", "more than 10 values"),
    ]:
        with pytest.raises(JsonRefused, match=reason):
            parse_json(body, limits)
    assert parse_json(b'["123456789"]', limits) == ["123456789"]  # digits inside strings are text


def test_default_limits() -> None:
    assert JsonLimits() == JsonLimits(max_depth=64, max_number_chars=64, max_values=20_000)
    parse_json(b"[" * 64 + b"]" * 64)
    with pytest.raises(JsonRefused, match="deeper than 64"):
        parse_json(b"[" * 65 + b"]" * 65)


def test_unclosed_string_after_deep_brackets() -> None:
    with pytest.raises(JsonRefused):
        parse_json(unclosed_string(120_000))


@pytest.mark.parametrize(
    "body",
    [
        b'{"document": {"a": 1}, "document": {"a": 2}}',
        b'{"document": {"data": {"x": 1, "x": 2}}}',
        b'{"salts": {"\\ud800": "00"}}',
        b"\xef\xbb\xbf{}",
        '{"document": {}}'.encode("utf-16"),
        b"[1e999999999999999999999999999999999999999999999999999999999999999]",  # 66 characters
        b"[Infinity]",
        b"",
    ],
)
def test_refused(body: bytes) -> None:
    with pytest.raises(JsonRefused):
        parse_json(body)


_values: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**60), 2**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=25,
)


@settings(max_examples=200, deadline=None)
@given(_values)
def test_reads_what_load_json_reads(value: Any) -> None:
    """A body and a document file are one parser: the same bytes, the same value."""
    raw = json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")
    try:
        expected = load_json(raw)
    except Exception as exc:  # noqa: BLE001 - compared, not swallowed
        with pytest.raises(JsonRefused):
            parse_json(raw)
        assert "surrogate" in str(exc) or "UTF-8" in str(exc)
        return
    assert parse_json(raw) == expected
