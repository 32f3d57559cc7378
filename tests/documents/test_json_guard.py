"""documents.model.load_json / json_too_deep: strict, and linear in the length of the text.

The adversarial bodies of issue 11: an unclosed string after deep brackets made the old
string-skipping regex restart at every quote (120 KB took about 35 s). Linearity is shown by
the work the scanner reports (characters read per pass, WorkMeter), never by a clock.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from documents.errors import MalformedDocument
from documents.jsontext import WorkMeter, depth_exceeds, loads_strict, outside_strings
from documents.model import MAX_DOCUMENT_BYTES, MAX_JSON_DEPTH, json_too_deep, load_json
from tests.httpkit.adversarial import ADVERSARIAL, unclosed_string


def test_unclosed_string_after_deep_brackets_120kb_is_refused() -> None:
    body = unclosed_string(120_000)
    assert json_too_deep(body)
    assert json_too_deep(body.decode())
    with pytest.raises(MalformedDocument):
        load_json(body)


BODY_LIMITS: dict[str, Any] = {"max_depth": MAX_JSON_DEPTH, "max_number_chars": 64, "max_values": 20_000}
FILE_LIMITS: dict[str, Any] = {"max_depth": MAX_JSON_DEPTH}  # what load_json applies


@pytest.mark.parametrize("limits", [BODY_LIMITS, FILE_LIMITS], ids=["body limits", "load_json limits"])
@pytest.mark.parametrize("kind", sorted(ADVERSARIAL))
def test_guard_work_is_linear(kind: str, limits: dict[str, Any]) -> None:
    """Four times the input, at most about four times the work, in the same number of passes."""
    make = ADVERSARIAL[kind]
    meters = []
    for size in (64 * 1024, 256 * 1024):
        meter = WorkMeter()
        with contextlib.suppress(MalformedDocument):  # some are valid JSON under load_json's limits
            loads_strict(make(size), meter=meter, **limits)
        meters.append((size, meter))
    (small, m_small), (large, m_large) = meters
    assert m_large.passes <= m_small.passes + 2  # the depth scan may take one more chunk
    assert m_large.chars <= 12 * large  # a fixed number of passes over the text, none per quote
    assert m_large.chars / m_small.chars <= 1.25 * large / small


def test_depth_scan_stops_early_on_deep_nesting() -> None:
    meter = WorkMeter()
    outside, _open = outside_strings("[" * 1_000_000)
    assert depth_exceeds(outside, MAX_JSON_DEPTH, meter)
    assert meter.chars < 2 * 1_000_000 + 10_000  # two counting passes, then one small chunk


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xef\xbb\xbf{}", "byte order mark"),
        (b"\xff\xfe{\x00}\x00", "byte order mark"),
        (b"\xfe\xff\x00{\x00}", "byte order mark"),
        (b"\x00\x00\xfe\xff", "byte order mark"),
        ("{}".encode("utf-16-le"), "NUL"),
        ("{}".encode("utf-16-be"), "NUL"),
        ("[1]".encode("utf-32-le"), "NUL"),
        (b'{"a": "\xed\xa0\x80"}', "not UTF-8"),  # a raw, encoded surrogate
        (b'{"\\ud800": 1}', "lone surrogate"),
        (b'{"a": ["x\\udfff"]}', "lone surrogate"),
        (b'{"a": {"b": 1, "b": 2}}', "duplicate object key"),
        (b'[{"d": 1}, {"d": 1, "d": 1}]', "duplicate object key"),
        (b"[NaN]", "NaN"),
        (b"[-Infinity]", "Infinity"),
        (b'{"a": "open', "not terminated"),
        (b"[1, 2", "invalid JSON at line 1"),
    ],
)
def test_refused(raw: bytes, reason: str) -> None:
    with pytest.raises(MalformedDocument) as info:
        load_json(raw)
    assert reason in info.value.reason
    assert info.value.reason_zh  # both languages


def test_refused_as_text() -> None:
    with pytest.raises(MalformedDocument, match="byte order mark"):
        load_json("\ufeff{}")
    with pytest.raises(MalformedDocument, match="lone surrogate"):
        load_json('{"a": "\ud800"}')


def test_accepted() -> None:
    assert load_json(b'{"a": "\\ud83d\\ude00"}') == {"a": "\U0001f600"}  # an escaped pair is one character
    assert load_json('{"a": "\\\\ud800"}') == {"a": "\\ud800"}  # an escaped backslash, no surrogate
    assert load_json('["\\\\", "[[[", "\\"[["]') == ["\\", "[[[", '"[[']
    assert load_json(b'{"n": 9007199254740993, "m": 9007199254740991}') == {"n": 9007199254740992.0, "m": 2**53 - 1}
    assert load_json("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH) is not None
    assert load_json('{"s": "' + "\\u0041" * 1000 + '"}') == {"s": "A" * 1000}


def test_too_large() -> None:
    with pytest.raises(MalformedDocument, match="too large"):
        load_json(b" " * (MAX_DOCUMENT_BYTES + 1))


def test_number_and_value_limits() -> None:
    with pytest.raises(MalformedDocument, match="longer than 64"):
        loads_strict(b"[" + b"1" * 65 + b"]", max_depth=64, max_number_chars=64)
    assert loads_strict(b"[" + b"1" * 64 + b"]", max_depth=64, max_number_chars=64) == [float("1" * 64)]
    assert loads_strict(b'["' + b"1" * 1000 + b'"]', max_depth=64, max_number_chars=64) == ["1" * 1000]
    with pytest.raises(MalformedDocument, match="more than 3 values"):
        loads_strict(b"[1,2,3]", max_depth=64, max_values=3)
    assert loads_strict(b'[1,2,"a,b,c"]', max_depth=64, max_values=4) == [1, 2, "a,b,c"]


def _reference_depth(text: str) -> int:
    """Maximum nesting of ``text`` read one character at a time (the slow, obviously right way)."""
    depth = best = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            best = max(best, depth)
        elif char in "]}":
            depth -= 1
    return best


_tricky_text = st.text(alphabet='ab"\\[]{}\u00e9\U0001f600', max_size=12)
_json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53 - 1), 2**53 - 1) | _tricky_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_tricky_text, children, max_size=4),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(_json_values, st.integers(0, 8))
def test_depth_matches_a_character_by_character_reader(value: Any, limit: int) -> None:
    text = json.dumps(value, ensure_ascii=False)
    assert json_too_deep(text, limit) == (_reference_depth(text) > limit)
    assert json_too_deep(text.encode(), limit) == (_reference_depth(text) > limit)
    assert load_json(text.encode()) == value
