#!/usr/bin/env python3
"""Time of the JSON guard (httpkit.jsonguard.parse_json) on adversarial bodies and a normal licence.

Each 1 MiB body is one of the attacks of issue 11: an unclosed string after deep brackets,
deep nesting, one-character strings, duplicate keys, lone surrogates, UTF-16 text, a
10,000-digit number (padded to 1 MiB with whitespace). Each is refused; the figure is the
median of ``--runs`` runs, in milliseconds, with the work the guard reports (characters read
per pass, summed), and beside it documents.model.load_json on the same bytes (a document file:
the same scanner with the depth limit only, so some of these bodies are valid JSON to it).
The normal bodies are a wrapped 20-field business licence, canonical (2.7 KB) and as an
indented ``{"document": …}`` request (3.7 KB), parsed and accepted.

With ``--before``, the depth check this guard replaced (a string-skipping regex that restarts
at every quote) is timed on 40 KB and 120 KB of the first attack, once each: it is quadratic,
so 1 MiB is not tried.

Usage: python scripts/bench_guard.py [--runs 9] [--before]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, for tests.httpkit

from documents.errors import MalformedDocument
from documents.model import document_to_bytes, load_json
from documents.samples import SAMPLE_ISSUER, SAMPLE_VALIDITY, sample_business_licence
from documents.wrap import wrap_document
from httpkit.jsonguard import JsonLimits, JsonRefused, WorkMeter, parse_json

# the attacks the tests send, at any size (the duplicate-key and number bodies differ here: see below)
from tests.httpkit.adversarial import (
    DEPTH,
    deep_nesting,
    lone_surrogates,
    one_char_strings,
    unclosed_string,
    utf16,
)

MIB = 1024 * 1024


def duplicate_keys(size: int) -> bytes:
    # under the value limit: one object whose first and last keys collide, padded with a long string
    filler = b"x" * (size - 40)
    return b'{"k": 1, "pad": "' + filler + b'", "k": 2}'


def long_number(size: int) -> bytes:
    number = b"1" * 10_000
    return b"[" + number + b"]" + b" " * (size - len(number) - 2)


ATTACKS: dict[str, Callable[[int], bytes]] = {
    "unclosed string after 65 [": unclosed_string,
    "deep nesting": deep_nesting,
    "1 MiB of one-character strings": one_char_strings,
    "duplicate keys": duplicate_keys,
    "lone surrogates (\\ud800)": lone_surrogates,
    "UTF-16 text": utf16,
    "10,000-digit number": long_number,
}

_OLD_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_OLD_BRACKET = re.compile(rb"[\[\]{}]")


def old_json_too_deep(data: bytes, limit: int = DEPTH) -> bool:
    """The depth check before issue 11, verbatim: its string-skipping regex is the quadratic part."""
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    depth = 0
    for match in _OLD_BRACKET.finditer(_OLD_STRING.sub(b"", data)):
        if match.group() in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def licences() -> dict[str, bytes]:
    """A wrapped 20-field business licence: canonical bytes, and a window's indented request body."""
    doc = wrap_document(sample_business_licence(1), "business-license", SAMPLE_ISSUER, SAMPLE_VALIDITY)
    canonical = document_to_bytes(doc)
    request = {"document": json.loads(canonical), "cid": None}
    return {
        "licence, canonical": canonical,
        "licence in {document}, indented": json.dumps(request, indent=4, ensure_ascii=False).encode(),
    }


def timed_load_json(body: bytes, runs: int) -> float:
    """Median milliseconds of documents.model.load_json (a document file: the depth limit only)."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        with contextlib.suppress(MalformedDocument):
            load_json(body)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def timed(body: bytes, runs: int) -> tuple[float, str, int]:
    """Median milliseconds, the outcome, the characters the guard read."""
    samples = []
    outcome = "accepted"
    meter = WorkMeter()
    for index in range(runs):
        start = time.perf_counter()
        try:
            parse_json(body, JsonLimits(), meter=meter if index == 0 else None)
        except JsonRefused as refusal:
            outcome = f"refused: {refusal.reason[:60]}"
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), outcome, meter.chars


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--before", action="store_true", help="also time the old regex on 40 KB and 120 KB")
    args = parser.parse_args()

    print(f"{'body':<34} {'bytes':>9} {'guard ms':>9} {'chars read':>11} {'load_json ms':>13}  guard's outcome")
    for name, make in ATTACKS.items():
        body = make(MIB)
        ms, outcome, chars = timed(body, args.runs)
        file_ms = timed_load_json(body, args.runs)
        print(f"{name:<34} {len(body):>9} {ms:>9.2f} {chars:>11} {file_ms:>13.2f}  {outcome}")
    for name, body in licences().items():
        runs = max(args.runs, 101)
        ms, outcome, chars = timed(body, runs)
        file_ms = timed_load_json(body, runs)
        print(f"{name:<34} {len(body):>9} {ms:>9.3f} {chars:>11} {file_ms:>13.3f}  {outcome}")
    if args.before:
        print("\nbefore: the old depth check on the unclosed string after 65 [")
        for size in (40_000, 120_000):
            body = unclosed_string(size)
            start = time.perf_counter()
            old_json_too_deep(body)
            print(f"  {size // 1000} KB: {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
