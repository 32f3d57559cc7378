"""Strict JSON text in time linear in its length: the one parser of documents and request bodies.

Why not a regex that skips strings: ``"[^"\\]*(?:\\.[^"\\]*)*"`` restarts at every quote of
an unclosed string, so 65 ``[``, a ``"`` and many ``\\"`` cost time quadratic in the length
(120 KB took 35 s). Here every step is one pass of a C primitive (``str.replace``, ``split``,
``count``, ``translate``, one anchored regex search) over text no longer than the input,
and the number of passes does not depend on the input:

1. text: UTF-8 only. A byte order mark is refused, bytes are decoded strictly (raw encoded
   surrogates fail there), a NUL (UTF-16/32 text read as UTF-8) is refused.
2. strings: escaped backslashes are removed pairwise (``str.replace`` pairs a run of
   backslashes from its left, exactly as a JSON reader does), then escaped quotes; what is
   left has no quote inside a string, so splitting at quotes leaves the text outside strings
   at the even places. An odd number of quotes is an unterminated string. In valid JSON a
   backslash appears only inside strings, and the JSON reader only recurses through a valid
   prefix, in which this pairing is exact: the depth measured below bounds the reader's.
3. limits, on the text outside strings: the count of values (commas and opened containers),
   the nesting depth (a running sum of +1/-1 over the brackets alone, stopping as soon as it
   passes the limit), the longest run of number characters.
4. ``json.loads`` with duplicate keys refused at any depth, no NaN/Infinity, integers outside
   ±(2**53-1) read as the doubles they denote; a parsed value holding a lone surrogate
   (from ``\\ud800``) is refused: it has no UTF-8 form, so no hash or canonical form either.

:class:`WorkMeter` counts the characters each pass reads, so tests show the work linear
without a clock.
"""

from __future__ import annotations

import itertools
import json
import operator
import re
from typing import Any

from .errors import MalformedDocument

__all__ = [
    "WorkMeter",
    "decode_text",
    "depth_exceeds",
    "loads_strict",
    "outside_strings",
    "parse_json_int",
]

_BOMS = (b"\xef\xbb\xbf", b"\xfe\xff", b"\xff\xfe")  # UTF-8, UTF-16 BE/LE (and UTF-32 LE)
_UTF32_BE_BOM = b"\x00\x00\xfe\xff"
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
_NUMBER_CHARS = "-+.0123456789eE"
_KEEP_BRACKETS = bytes(range(256)).translate(None, b"[]{}")  # every byte but the brackets
_DELTA_PLUS_ONE = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")  # depth change + 1, as bytes
#: How many brackets the first depth pass reads; each further pass reads twice as many, so
#: deep nesting (the attack) is refused after a few thousand characters of any length of input.
_FIRST_DEPTH_CHUNK = 4096


class WorkMeter:
    """The passes the guard made and the characters they read (for tests: work ∝ input)."""

    def __init__(self) -> None:
        self.passes = 0
        self.chars = 0

    def read(self, chars: int) -> None:
        self.passes += 1
        self.chars += chars


def _count(meter: WorkMeter | None, chars: int) -> None:
    if meter is not None:
        meter.read(chars)


def _refuse(message: str, message_zh: str) -> MalformedDocument:
    return MalformedDocument("", message, message_zh)


def decode_text(raw: bytes | bytearray | memoryview | str, meter: WorkMeter | None = None) -> str:
    """The text of ``raw``: UTF-8 without BOM, no lone surrogate, no NUL."""
    if isinstance(raw, str):
        text = raw
        if text.startswith("\ufeff"):
            raise _bom()
        _count(meter, len(text))
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise _refuse("not UTF-8 text (a lone surrogate)", "不是 UTF-8 文本（含未配对的代理项）") from None
    else:
        data = bytes(raw)
        if data.startswith(_BOMS) or data.startswith(_UTF32_BE_BOM):
            raise _bom()
        _count(meter, len(data))
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise _refuse("not UTF-8 text", "不是 UTF-8 文本") from None
    _count(meter, len(text))
    if "\x00" in text:
        raise _refuse(
            "a NUL character: only UTF-8 is accepted (not UTF-16 or UTF-32)",
            "含 NUL 字符：仅接受 UTF-8（不接受 UTF-16 或 UTF-32）",
        )
    return text


def _too_many_values(limit: int) -> MalformedDocument:
    return _refuse(f"JSON with more than {limit} values", f"JSON 中的值超过 {limit} 个")


def _bom() -> MalformedDocument:
    return _refuse(
        "a byte order mark is not allowed: UTF-8 without BOM only", "不允许字节顺序标记：仅接受无 BOM 的 UTF-8"
    )


def _without_escapes(text: str, meter: WorkMeter | None) -> str:
    # pairs of backslashes first (str.replace pairs a run from its left, as a JSON reader does),
    # then the escaped quotes: what is left has a quote only where a string opens or closes
    _count(meter, len(text))
    no_backslash_pairs = text.replace("\\\\", "")
    _count(meter, len(no_backslash_pairs))
    return no_backslash_pairs.replace('\\"', "")


def _split_strings(unescaped: str, meter: WorkMeter | None) -> tuple[str, bool]:
    _count(meter, len(unescaped))
    parts = unescaped.split('"')
    outside = parts[0::2]  # an open string is the last part, at an odd place: dropped
    joined = " ".join(outside)
    _count(meter, len(joined))
    return joined, len(parts) % 2 == 0


def outside_strings(text: str, meter: WorkMeter | None = None) -> tuple[str, bool]:
    """The text outside JSON strings (each string replaced by one space) and whether a string is left open.

    Exact for valid JSON and for any valid prefix of a text (see the module's notes).
    """
    return _split_strings(_without_escapes(text, meter), meter)


def depth_exceeds(outside: str, limit: int, meter: WorkMeter | None = None) -> bool:
    """True if the brackets of ``outside`` (text with its strings removed) nest deeper than ``limit``.

    Reads the brackets in growing chunks and stops once the depth passes the limit or falls
    below zero (the JSON reader stops there too: nothing after it is parsed).
    """
    _count(meter, len(outside))
    if outside.count("[") + outside.count("{") <= limit:
        return False
    _count(meter, len(outside))
    brackets = outside.encode("utf-8", "surrogatepass").translate(_DELTA_PLUS_ONE, _KEEP_BRACKETS)
    depth = 0
    start = 0
    chunk = _FIRST_DEPTH_CHUNK
    while start < len(brackets):
        piece = brackets[start : start + chunk]
        _count(meter, len(piece))
        running = list(itertools.accumulate(map(operator.sub, piece, itertools.repeat(1)), initial=depth))
        if max(running) > limit:
            return True
        if min(running) < 0:
            return False
        depth = running[-1]
        start += chunk
        chunk *= 2
    return False


def _number_run(limit: int) -> re.Pattern[str]:
    # anchored at the start of a run (the look-behind), so each run is read once
    chars = re.escape(_NUMBER_CHARS)
    return re.compile(rf"(?<![{chars}])[{chars}]{{{limit + 1}}}")


_NUMBER_RUNS: dict[int, re.Pattern[str]] = {}


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _value in pairs:
            if key in seen:
                raise _refuse(f"duplicate object key {key!r}", f"对象中存在重复的键 {key!r}")
            seen.add(key)
    return out


def _reject_constant(name: str) -> Any:
    raise _refuse(f"{name} is not valid JSON", f"{name} 不是合法的 JSON")


def parse_json_int(text: str) -> int | float:
    # JSON numbers are IEEE-754 doubles (RFC 8785): an integer literal outside the safe range
    # is read as the double it denotes, exactly as a JavaScript verifier would.
    value = int(text)
    return value if -(2**53 - 1) <= value <= 2**53 - 1 else float(text)


def loads_strict(
    raw: bytes | bytearray | memoryview | str,
    *,
    max_depth: int,
    max_number_chars: int | None = None,
    max_values: int | None = None,
    meter: WorkMeter | None = None,
) -> Any:
    """Parse JSON text strictly in linear time; :class:`MalformedDocument` for anything refused.

    ``max_number_chars`` and ``max_values`` are off when None (documents read from files keep
    only the depth limit; request bodies set all three).
    """
    text = decode_text(raw, meter)
    unescaped = _without_escapes(text, meter)
    if max_values is not None:
        # each string is a value or a key, and there are no more keys than values: refuse a
        # flood of short strings before splitting them apart
        _count(meter, len(unescaped))
        if unescaped.count('"') // 2 > 2 * max_values:
            raise _too_many_values(max_values)
    outside, unterminated = _split_strings(unescaped, meter)
    if unterminated:
        raise _refuse("invalid JSON: a string is not terminated", "JSON 语法错误：字符串未结束")
    if max_values is not None:
        _count(meter, 3 * len(outside))
        values = outside.count(",") + outside.count("[") + outside.count("{") + 1
        if values > max_values:
            raise _too_many_values(max_values)
    if depth_exceeds(outside, max_depth, meter):
        raise _refuse(f"JSON nested deeper than {max_depth} levels", "JSON 嵌套过深")
    if max_number_chars is not None:
        pattern = _NUMBER_RUNS.get(max_number_chars)
        if pattern is None:
            pattern = _NUMBER_RUNS.setdefault(max_number_chars, _number_run(max_number_chars))
        _count(meter, len(outside))
        if pattern.search(outside):
            raise _refuse(
                f"a JSON number longer than {max_number_chars} characters", f"JSON 数值超过 {max_number_chars} 个字符"
            )
    _count(meter, len(text))
    try:
        value = json.loads(
            text,
            object_pairs_hook=_reject_duplicates,
            parse_constant=_reject_constant,
            parse_int=parse_json_int,
        )
    except json.JSONDecodeError as exc:
        raise _refuse(
            f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}",
            f"JSON 语法错误（第 {exc.lineno} 行第 {exc.colno} 列）：{exc.msg}",
        ) from None
    except RecursionError:
        raise _refuse("JSON nested too deeply", "JSON 嵌套过深") from None
    except ValueError as exc:  # e.g. an integer literal with more than 4300 digits
        raise _refuse(f"invalid number: {exc}", f"数值不合法：{exc}") from None
    _count(meter, len(text))
    if _ESCAPED_SURROGATE.search(text):
        _check_no_lone_surrogate(value, meter)
    return value


def _check_no_lone_surrogate(value: Any, meter: WorkMeter | None) -> None:
    # an escaped pair (\ud83d\ude00) is one character after parsing; a lone one has no UTF-8 form
    dumped = json.dumps(value, ensure_ascii=False)
    _count(meter, len(dumped))
    try:
        dumped.encode("utf-8")
    except UnicodeEncodeError:
        raise _refuse(
            "a lone surrogate escape (e.g. \\ud800): not a Unicode character",
            "含未配对的代理项转义（如 \\ud800）：不是 Unicode 字符",
        ) from None
