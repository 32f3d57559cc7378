"""The citizen page's integrity check (``verifier/static/ereg.js``) against the Python reference.

The same JavaScript runs three ways, on the same inputs:

* Node: ``node --test tests/verifier/js/`` — every vector of ``tests/documents/vectors/ereg1.json``,
  Keccak-256, SHA-256 and AES-GCM against independent implementations on random input, and the
  cases below (passed in a JSON file named by ``EREG_CASES``);
* Chromium (Debian's, driven by Playwright as in ``test_browser.py``): the same checks
  (``tests/verifier/js/vectors.js``) in a page on ``http://127.0.0.1`` — a secure context, so
  ``openEnvelope`` runs on the browser's WebCrypto — under the citizen page's own
  Content-Security-Policy;
* the cross-check: documents the Python code produces (``documents.samples``, some fields hidden
  with ``hide_fields``, Chinese and astral-plane text, nested objects, arrays, numbers), and
  tampered or malformed copies of them: ``Ereg.checkIntegrity`` must give the code, pointer and
  hashes that ``documents.check_integrity`` gives — the check behind the verifier's
  ``DOCUMENT_INTEGRITY`` fragment.

Every expected value of the cases is computed here by the Python reference, not written down.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import random
import re
import shutil
import struct
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

from documents import (
    IntegrityResult,
    MerkleTree,
    WrappedDocument,
    canonicalize,
    check_integrity,
    document_to_bytes,
    document_to_dict,
    field_hash,
    hide_fields,
    iter_fields,
    keccak256,
    open_envelope,
    seal_with,
    wrap_batch,
    wrap_document,
)
from documents.errors import DecryptionError, MalformedDocument
from documents.hashing import is_checksum_address, to_checksum_address
from documents.jsontext import loads_strict
from documents.model import MAX_DOCUMENT_BYTES, MAX_JSON_DEPTH
from documents.samples import SAMPLE_ISSUER, SAMPLE_VALIDITY, sample_business_licence, sample_record
from storage.cid import RAW_MAX_SIZE, compute_cid, normalize_cid, parse_cid, raw_cid, unixfs_cid
from storage.errors import InvalidCid
from tests.conftest import require
from tests.factories import BUSINESS_LICENSE, PROPERTY_CERTIFICATE
from verifier.api.routes.citizen import SECURITY_HEADERS

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page, Route

ROOT = Path(__file__).resolve().parents[2]
EREG_JS = ROOT / "verifier" / "static" / "ereg.js"
JS_DIR = ROOT / "tests" / "verifier" / "js"
VECTORS_JS = JS_DIR / "vectors.js"
VECTORS_JSON = ROOT / "tests" / "documents" / "vectors" / "ereg1.json"
VECTORS: dict[str, Any] = json.loads(VECTORS_JSON.read_text("utf-8"))

EXAMPLE_TYPE = "example-certificate"
HEX_AA = "0x" + "aa" * 32
PAD = '"@PAD@"'  # replaced by a long string value (the size-limit cases), in JS as here
NODE_TIMEOUT = 120
ORIGIN = "http://127.0.0.1:8734"  # answered by Playwright's router: nothing listens on the port
INSECURE_ORIGIN = "http://ereg-js.test"  # not a secure context (a name, plain HTTP): no WebCrypto


# ------------------------------------------------------------------------------ inputs
def pattern_bytes(n: int, seed: int) -> bytes:
    """Deterministic test bytes, the same formula as patternBytes() in js/vectors.js."""
    return bytes((i * 7 + (i >> 8) * 13 + seed * 31) & 0xFF for i in range(n))


def deep(n: int, leaf: Any) -> Any:
    """``{"a": {"a": ... leaf}}`` with ``n`` objects."""
    value = leaf
    for _ in range(n):
        value = {"a": value}
    return value


def nested_list(n: int) -> Any:
    value: Any = "底"
    for _ in range(n):
        value = [value]
    return value


#: Chinese and astral-plane text, keys JCS orders by UTF-16 (not code points), keys with "/", "~"
#: and "", nested objects, arrays of objects, numbers of every JCS form, escapes.
UNICODE_RECORD: dict[str, Any] = {
    "名称": "示例星辰科技有限公司",
    "法定代表人": {"姓名": "张三", "证件": {"类型": "居民身份证", "号码": "310115199001010018"}},
    "emoji 😀": "𠀀𝄞😀 — 龘",
    "\ufb01": {"x": 1},
    "a/b~c": {"~": "/", "": "空键"},
    "": "顶层空键",
    "nested": {"deep": {"deeper": {"deepest": [1, {"z": None, "a": True, "😀": "x", "\uffff": "y", "é": "é"}]}}},
    "numbers": [0, -1, 1.5, -0.0, 1e21, 1e20, 1e-7, 1e-6, 0.1 + 0.2, 2**53 - 1, -(2**53 - 1), 5e-324,
                1.7976931348623157e308, 123456789.125, 100.0, 2.5e-8, -123.456e-30],
    "bigLiteral": 12345678901234567890.0,
    "hundred": 100.0,
    "negZero": -0.0,
    "tiny": 1e-7,
    "safe": 2**53 - 1,
    "flags": [True, False, None],
    "yes": True,
    "nothing": None,
    "empty": {},
    "emptyList": [],
    "emptyString": "",
    "escapes": "\u0000\u0001\u001f\u007f\b\f\n\r\t\"\\/\u2028\u2029",
    "combining": ["e\u0301", "\u00e9"],
    "owners": [{"name": "张三", "share": "50%"}, {"name": "李四", "share": "50%"}],
    "money": {"amount": "5000000.00", "currency": "CNY"},
}
#: Other spellings of numbers of UNICODE_RECORD (same double): canonical text -> alternative text.
ALTERNATIVE_LITERALS = {
    '"bigLiteral":12345678901234567000': '"bigLiteral":12345678901234567890',
    '"hundred":100': '"hundred":1E2',
    '"negZero":0': '"negZero":-0.0',
    '"tiny":1e-7': '"tiny":0.0000001',
    '"safe":9007199254740991': '"safe":9007199254740991.0e0',
}


def hexed(value: bytes | None) -> str | None:
    return None if value is None else "0x" + value.hex()


def expectation(result: IntegrityResult) -> dict[str, Any]:
    return {
        "code": result.code.value,
        "pointer": result.pointer,
        "targetHash": hexed(result.target_hash),
        "merkleRoot": hexed(result.merkle_root),
        "leaf": hexed(result.leaf),
    }


def text_of(doc: Any) -> str:
    """JSON text of a document (a model, or any JSON value): canonical when it has a canonical form."""
    obj = document_to_dict(doc) if isinstance(doc, WrappedDocument) else doc
    try:
        return canonicalize(obj).decode("utf-8")
    except MalformedDocument:
        return json.dumps(obj, ensure_ascii=False)


def padded(text: str, pad: dict[str, Any] | None) -> str:
    if pad is None:
        return text
    return text.replace(PAD, json.dumps(pad["char"] * pad["count"], ensure_ascii=False), 1)


class Cases:
    """Inputs and the Python reference's answers, as the JSON the JavaScript checks read."""

    def __init__(self) -> None:
        self.data: dict[str, list[dict[str, Any]]] = {
            key: []
            for key in (
                "documents", "canonical", "fieldHashes", "fields", "hashes", "merkle",
                "cids", "cidKinds", "envelopes", "addresses",
            )
        }

    def document(self, name: str, doc: str | bytes | WrappedDocument, *,
                 pad: dict[str, Any] | None = None) -> None:
        """A document case: raw bytes, or JSON text checked as text, as its UTF-8 bytes and, when the
        reference reads the object JSON.parse would give the same way, as that object."""
        if isinstance(doc, bytes):
            expect = expectation(check_integrity(doc))
            self.data["documents"].append({"name": name, "hex": doc.hex(), "forms": ["bytes"], "expect": expect})
            return
        text = doc if isinstance(doc, str) else text_of(doc)
        full = padded(text, pad)
        result = check_integrity(full)
        entry: dict[str, Any] = {"name": name, "text": text, "forms": ["text"], "expect": expectation(result)}
        if pad is not None:
            entry["pad"] = pad
        if result.code.value != "MALFORMED":
            entry["message"], entry["messageZh"] = result.message, result.message_zh
        try:
            encoded = full.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: text only (TextEncoder would replace it)
            encoded = None
        if encoded is not None:
            entry["forms"].append("bytes")
            as_bytes = expectation(check_integrity(encoded))
            if as_bytes != entry["expect"]:
                entry["expectBytes"] = as_bytes
        if pad is None:
            try:
                parsed = loads_strict(full, max_depth=MAX_JSON_DEPTH)
            except MalformedDocument:
                pass
            else:
                if expectation(check_integrity(as_parsed_by_js(parsed))) == entry["expect"]:
                    entry["forms"].append("object")
        self.data["documents"].append(entry)

    def canonical(self, name: str, text: str) -> None:
        entry: dict[str, Any] = {"name": name, "text": text}
        try:
            entry["jcs"] = canonicalize(loads_strict(text, max_depth=MAX_JSON_DEPTH)).decode("utf-8")
        except MalformedDocument as exc:
            entry["error"] = {"code": exc.code, "pointer": exc.pointer}
        self.data["canonical"].append(entry)


@dataclass(frozen=True)
class Whole:
    """What a change returns to replace the whole document (not only edit it)."""

    value: Any


def as_parsed_by_js(value: Any) -> Any:
    """``value`` as ``JSON.parse`` reads its JSON text: an integral double in the safe range is a
    plain number there, so ``1337.0`` and ``1337`` cannot be told apart."""
    if isinstance(value, dict):
        return {k: as_parsed_by_js(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_parsed_by_js(v) for v in value]
    if isinstance(value, float) and value.is_integer() and abs(value) <= 2**53 - 1:
        return int(value)
    return value


def mutated(doc: dict[str, Any], change: Callable[[dict[str, Any]], Any]) -> Any:
    copied = copy.deepcopy(doc)
    replaced = change(copied)
    return replaced.value if isinstance(replaced, Whole) else copied


def setter(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A change setting (or, for ``...``, deleting) the member at ``path`` ("proof.cid")."""
    *parents, last = path.split(".")

    def change(doc: dict[str, Any]) -> None:
        node = doc
        for key in parents:
            node = node[key]
        if value is ...:
            del node[last]
        else:
            node[last] = copy.deepcopy(value)

    return change


def add_documents(c: Cases) -> None:
    """Documents of documents.samples and UNICODE_RECORD, disclosed, tampered and malformed."""
    batch = wrap_batch([sample_business_licence(i) for i in range(5)], BUSINESS_LICENSE, SAMPLE_ISSUER, SAMPLE_VALIDITY,
                       check_schema=False)
    licence = batch.documents[3]
    other = batch.documents[1]
    prop = wrap_document(sample_record(PROPERTY_CERTIFICATE), PROPERTY_CERTIFICATE, SAMPLE_ISSUER, SAMPLE_VALIDITY,
                         check_schema=False)
    uni_batch = wrap_batch([UNICODE_RECORD, {"x": 1}, {"y": 2}], EXAMPLE_TYPE, SAMPLE_ISSUER,
                           {"validFrom": "2026-01-01T00:00:00Z", "validUntil": "2031-01-01T00:00:00Z"},
                           check_schema=False)
    uni = uni_batch.documents[0]

    c.document("business licence 3 of 5", licence)
    c.document("business licence, pretty-printed with \\u escapes", json.dumps(document_to_dict(licence), indent=2))
    c.document("business licence, whitespace around", " \n\t" + text_of(licence) + "\r\n ")
    hidden = hide_fields(licence, ["/legalRepresentative", "/registeredCapital", "/phone"])
    c.document("business licence, three fields hidden (one an object)", hidden)
    c.document("property certificate (batch of one)", prop)
    c.document("property certificate, owners and land area hidden", hide_fields(prop, ["/owners", "/area/land"]))
    c.document("property certificate, all but the number hidden",
               hide_fields(prop, [p for p, _ in iter_fields(prop.data) if p != "/certificateNumber"]))
    c.document("unicode record (Chinese, astral keys, numbers, escapes)", uni)
    c.document("unicode record, pretty-printed with \\u escapes (surrogate pairs)",
               json.dumps(document_to_dict(uni), indent=1, ensure_ascii=True))
    alternative = text_of(uni)
    for canonical_form, other_form in ALTERNATIVE_LITERALS.items():
        assert canonical_form in alternative, canonical_form
        alternative = alternative.replace(canonical_form, other_form)
    c.document("unicode record, numbers spelled otherwise (same doubles)", alternative)
    c.document("unicode record, nested object and astral key hidden",
               hide_fields(uni, ["/nested", "/emoji 😀", "/a~1b~0c/~0", "/"]))
    c.document("record nested 32 objects deep", wrap_document(deep(32, "底"), EXAMPLE_TYPE, SAMPLE_ISSUER,
                                                                SAMPLE_VALIDITY, check_schema=False))
    deep_doc = document_to_dict(wrap_document(deep(32, "底"), EXAMPLE_TYPE, SAMPLE_ISSUER, SAMPLE_VALIDITY,
                                              check_schema=False))
    c.document("record nested 33 objects deep", text_of(mutated(deep_doc, setter("data", deep(33, "底")))))
    c.document("JSON nested 64 deep", wrap_document({"deep": nested_list(MAX_JSON_DEPTH - 2)}, EXAMPLE_TYPE,
                                                     SAMPLE_ISSUER, SAMPLE_VALIDITY, check_schema=False))
    c.document("JSON nested 65 deep", wrap_document({"deep": nested_list(MAX_JSON_DEPTH - 1)}, EXAMPLE_TYPE,
                                                     SAMPLE_ISSUER, SAMPLE_VALIDITY, check_schema=False))

    base = json.loads(text_of(licence))
    hidden_base = json.loads(text_of(hidden))
    uni_base = json.loads(text_of(uni))
    prop_base = json.loads(text_of(prop))
    changes: list[tuple[str, dict[str, Any], Callable[[dict[str, Any]], Any]]] = [
        # TAMPERED / PROOF_MISMATCH / NOTHING_DISCLOSED
        ("a value changed", base, setter("data.name", "示例星辰科技第4分公司")),
        ("a nested value changed", base, setter("data.registeredCapital.amount", "1000004.00")),
        ("a value of another type", base, setter("data.postalCode", 200120)),
        ("a salt changed", base, setter("salts./address", "00" * 16)),
        ("a metadata salt changed", base, setter("salts./@issuer", "00" * 16)),
        ("the type changed", base, setter("type", "food-business-license")),
        ("the validity changed", base, setter("validity.validUntil", "2099-01-01T00:00:00Z")),
        ("the chain id changed", base, setter("issuer.chainId", 1)),
        ("the department changed", base, setter("issuer.department", "0x" + "22" * 32)),
        ("a hash added to obfuscated", base, setter("privacy.obfuscated", [HEX_AA])),
        ("proof.targetHash changed", base, setter("proof.targetHash", HEX_AA)),
        ("another root", base, setter("proof.merkleRoot", HEX_AA)),
        ("the root of the other batch", base, setter("proof.merkleRoot", uni_batch.root_hex)),
        ("an empty proof", base, setter("proof.proof", [])),
        ("another document's proof", base, setter("proof.proof", list(other.proof.proof))),
        ("a proof element too many", base, lambda d: d["proof"]["proof"].append(HEX_AA)),
        ("64 proof elements", base, setter("proof.proof", [HEX_AA] * 64)),
        ("a field added", base, setter("data.extra", "x")),
        ("a field removed", base, setter("data.phone", ...)),
        ("a field renamed", base, lambda d: d["data"].update({"电话": d["data"].pop("phone")})),
        ("two fields added, ordered by code point", base,
         lambda d: d["data"].update({"😀": 1, "\uffff": 2, "z": 3})),
        ("two salts without field, ordered by code point", base,
         lambda d: d["salts"].update({"/😀": "00" * 16, "/\uffff": "00" * 16})),
        ("a hidden value put back without its salt", hidden_base,
         setter("data.phone", "021-5555-0100")),
        ("a hidden value's salt put back", hidden_base, setter("salts./phone", base["salts"]["/phone"])),
        ("a hidden field's hash removed", hidden_base, lambda d: d["privacy"]["obfuscated"].pop()),
        ("a disclosed field's hash also obfuscated", base, setter("privacy.obfuscated", [
            hexed(field_hash(bytes.fromhex(base["salts"]["/name"]), "/name", base["data"]["name"]))])),
        ("nothing disclosed", base, setter("data", {})),
        ("owners reordered", prop_base, lambda d: d["data"]["owners"].reverse()),
        ("a share changed", prop_base, setter("data.owners", [
            {**o, "share": "100%"} for o in prop_base["data"]["owners"]])),
        ("an astral key's value changed", uni_base, lambda d: d["data"].update({"emoji 😀": "😀"})),
        ("an empty key's value changed", uni_base, setter("data.", "顶层")),
        ("a number changed in the last place", uni_base, lambda d: d["data"]["numbers"].__setitem__(8, 0.3)),
        ("a big number changed", uni_base, setter("data.bigLiteral", 12345678901234567000.0 * 2)),
        ("anchorTx and cid set (not hashed)", base, lambda d: d["proof"].update(
            anchorTx="0x" + "ab" * 32, cid=raw_cid(b"stored copy"))),
        # MALFORMED, with the pointer of the first problem
        ("version ereg/2", base, setter("version", "ereg/2")),
        ("version missing", base, setter("version", ...)),
        ("an extra member", base, setter("extra", 1)),
        ("extra members ordered by code point", base, lambda d: d.update({"😀": 1, "\uffff": 2})),
        ("an extra member in issuer, escaped", base, setter("issuer.a/b~c", 1)),
        ("two errors, the first by pointer", base, lambda d: d.update(version="x", type="X")),
        ("errors in proof and data", base, lambda d: (d["proof"].update(cid="x"), d["data"].update({"@x": 1}))),
        ("type with capitals", base, setter("type", "Business License")),
        ("type with a double dash", base, setter("type", "business--license")),
        ("type of 65 characters", base, setter("type", "a" * 65)),
        ("type of 64 characters", base, setter("type", "a" * 64)),
        ("type not a string", base, setter("type", 1)),
        ("targetHash in capitals", base, setter("proof.targetHash", "0x" + "AB" * 32)),
        ("merkleRoot without 0x", base, setter("proof.merkleRoot", "ab" * 32)),
        ("targetHash with a trailing newline", base, setter("proof.targetHash", base["proof"]["targetHash"] + "\n")),
        ("a short proof element", base, setter("proof.proof", ["0x12"])),
        ("65 proof elements", base, setter("proof.proof", [HEX_AA] * 65)),
        ("65 proof elements, one bad", base, setter("proof.proof", [HEX_AA] * 3 + ["0x1"] + [HEX_AA] * 61)),
        ("proof not a list", base, setter("proof.proof", HEX_AA)),
        ("cid not base32", base, setter("proof.cid", "QmNotBase32")),
        ("cid too short", base, setter("proof.cid", "bafk")),
        ("anchorTx missing", base, setter("proof.anchorTx", ...)),
        ("anchorTx not hex", base, setter("proof.anchorTx", "0xzz")),
        ("chainId a string", base, setter("issuer.chainId", "1337")),
        ("chainId true", base, setter("issuer.chainId", True)),
        ("chainId 0", base, setter("issuer.chainId", 0)),
        ("chainId negative", base, setter("issuer.chainId", -5)),
        ("chainId 2**53-1", base, setter("issuer.chainId", 2**53 - 1)),
        ("chainId null", base, setter("issuer.chainId", None)),
        ("registry in lower case", base, setter("issuer.registry", SAMPLE_ISSUER["registry"].lower())),
        ("registry in upper case", base, setter("issuer.registry", "0x" + SAMPLE_ISSUER["registry"][2:].upper())),
        ("registry too short", base, setter("issuer.registry", SAMPLE_ISSUER["registry"][:-2])),
        ("department missing", base, setter("issuer.department", ...)),
        ("validFrom with an offset", base, setter("validity.validFrom", "2026-01-01T00:00:00+08:00")),
        ("validFrom 30 February", base, setter("validity.validFrom", "2026-02-30T00:00:00Z")),
        ("validFrom 29 February 2100", base, setter("validity.validFrom", "2100-02-29T00:00:00Z")),
        ("validFrom 29 February 2000", base, setter("validity.validFrom", "2000-02-29T00:00:00Z")),
        ("validFrom with fractions", base, setter("validity.validFrom", "2026-01-01T00:00:00.5Z")),
        ("validFrom at hour 24", base, setter("validity.validFrom", "2026-01-01T24:00:00Z")),
        ("validFrom at second 60", base, setter("validity.validFrom", "2026-01-01T00:00:60Z")),
        ("validFrom year 0", base, setter("validity.validFrom", "0000-01-01T00:00:00Z")),
        ("validFrom with Arabic-Indic digits", base, setter("validity.validFrom", "٢٠٢٦-01-01T00:00:00Z")),
        ("validFrom null", base, setter("validity.validFrom", None)),
        ("validUntil before validFrom", base, setter("validity.validUntil", "2025-01-01T00:00:00Z")),
        ("validUntil bad and before validFrom", base, setter("validity.validUntil", "2025-13-01T00:00:00Z")),
        ("a salt with 0x", base, setter("salts./location", "0x" + "00" * 16)),
        ("a salt in capitals", base, setter("salts./name", "AB" * 16)),
        ("a salt too short", base, setter("salts./name", "ab" * 15)),
        ("a salt for an escaped pointer, bad", uni_base, setter("salts./a~1b~0c/~0", 1)),
        ("the /@type salt missing", base, setter("salts./@type", ...)),
        ("every metadata salt missing", base,
         lambda d: [d["salts"].pop(p) for p in ("/@type", "/@validity", "/@issuer")]),
        ("a salt key not a pointer", base, setter("salts.name", "00" * 16)),
        ("a salt key with a bad escape", base, setter("salts./a~2b", "00" * 16)),
        ("the empty salt key", base, setter("salts.", "00" * 16)),
        ("salts a list", base, setter("salts", [])),
        ("obfuscated unsorted", base, setter("privacy.obfuscated", ["0x" + "bb" * 32, HEX_AA])),
        ("obfuscated with a duplicate", base, setter("privacy.obfuscated", [HEX_AA] * 2)),
        ("obfuscated in capitals", base, setter("privacy.obfuscated", ["0x" + "AA" * 32])),
        ("privacy missing", base, setter("privacy", ...)),
        ("privacy with an extra member", base, setter("privacy.more", [])),
        ("a reserved data key", base, setter("data.@type", "x")),
        ("data a list", base, setter("data", [])),
        ("data null", base, setter("data", None)),
        ("a document that is a list", base, lambda d: Whole([d])),
        ("a document that is a string", base, lambda d: Whole("ereg/1")),
        ("a document that is null", base, lambda d: Whole(None)),
    ]
    for name, start, change in changes:
        c.document(name, text_of(mutated(start, change)))

    # JSON text the strict reader refuses, or reads as another double
    text = text_of(licence)
    name_json = json.dumps(licence.data["name"], ensure_ascii=False)
    texts = {
        "a byte order mark (text)": "\ufeff" + text,
        "a duplicate top-level key": text.replace('"version":"ereg/1"', '"version":"ereg/1","version":"ereg/1"'),
        "a duplicate data key": text.replace('"data":{', '"data":{"phone":"1",'),
        "a trailing comma": text[:-1] + ",}",
        "a trailing comma in a list": text.replace('"obfuscated":[]', '"obfuscated":["' + HEX_AA + '",]'),
        "extra data": text + " {}",
        "two documents": text + text,
        "a cut text": text[:-1],
        "an empty text": "",
        "only whitespace": " \n",
        "single quotes": text.replace('"ereg/1"', "'ereg/1'"),
        "an unquoted key": text.replace('"version":', "version:"),
        "a comment": "// e-licence\n" + text,
        "non-breaking space around": "\u00a0" + text,
        "a form feed around": "\f" + text,
        "NaN": text.replace('"postalCode":"200120"', '"postalCode":NaN'),
        "Infinity": text.replace('"postalCode":"200120"', '"postalCode":Infinity'),
        "-Infinity": text.replace('"postalCode":"200120"', '"postalCode":-Infinity'),
        "1e400": text.replace('"postalCode":"200120"', '"postalCode":1e400'),
        "-1e400 in an object": text.replace('"postalCode":"200120"', '"postalCode":{"x":-1e400}'),
        "a leading zero": text.replace('"chainId":1337', '"chainId":01337'),
        "a plus sign": text.replace('"chainId":1337', '"chainId":+1337'),
        "a bare fraction": text.replace('"postalCode":"200120"', '"postalCode":.5'),
        "a dot without digits": text.replace('"postalCode":"200120"', '"postalCode":1.'),
        "an exponent without digits": text.replace('"postalCode":"200120"', '"postalCode":1e'),
        "hexadecimal": text.replace('"postalCode":"200120"', '"postalCode":0x10'),
        "chainId 1337.0": text.replace('"chainId":1337', '"chainId":1337.0'),
        "chainId 1.337e3": text.replace('"chainId":1337', '"chainId":1.337e3'),
        "chainId 13370e-1": text.replace('"chainId":1337', '"chainId":13370e-1'),
        "chainId -0": text.replace('"chainId":1337', '"chainId":-0'),
        "chainId 2**53": text.replace('"chainId":1337', '"chainId":9007199254740992'),
        "chainId 2**53+1": text.replace('"chainId":1337', '"chainId":9007199254740993'),
        "an integer literal beyond the safe range": text.replace(
            '"postalCode":"200120"', '"postalCode":1152921504606846976'),
        "4300 digits": text.replace('"postalCode":"200120"', '"postalCode":' + "1" * 4300),
        "minus and 4300 digits": text.replace('"postalCode":"200120"', '"postalCode":-' + "1" * 4300),
        "4301 digits": text.replace('"postalCode":"200120"', '"postalCode":' + "1" * 4301),
        "a fraction of 5000 digits": text.replace('"postalCode":"200120"', '"postalCode":0.' + "1" * 5000),
        "true spelled True": text.replace('"anchorTx":null', '"anchorTx":Null'),
        "a word after a value": text.replace('"anchorTx":null', '"anchorTx":nullx'),
        "a raw tab in a string": text.replace(name_json, name_json[:-1] + '\t"'),
        "a raw newline in a string": text.replace(name_json, name_json[:-1] + '\n"'),
        "a raw DEL in a string": text.replace(name_json, name_json[:-1] + '\x7f"'),
        "a raw NUL in a string": text.replace(name_json, name_json[:-1] + '\x00"'),
        "an escaped NUL in a string": text.replace(name_json, name_json[:-1] + '\\u0000"'),
        "an invalid escape": text.replace(name_json, name_json[:-1] + '\\x41"'),
        "a short \\u escape": text.replace(name_json, name_json[:-1] + '\\u12"'),
        "a capital \\U escape": text.replace(name_json, name_json[:-1] + '\\U0041"'),
        "a lone high surrogate escape": text.replace(name_json, name_json[:-1] + '\\ud800"'),
        "a lone low surrogate escape": text.replace(name_json, name_json[:-1] + '\\udc00"'),
        "a reversed surrogate pair": text.replace(name_json, name_json[:-1] + '\\ude00\\ud83d"'),
        "an escaped surrogate pair (a changed value)": text.replace(name_json, name_json[:-1] + '\\ud83d\\ude00"'),
        "a lone surrogate escape in a key": text.replace('"data":{', '"data":{"\\udbff":1,'),
        "a lone surrogate in the text": text.replace(name_json, name_json[:-1] + '\ud800"'),
        "escaped slashes and unicode (same values)": text.replace('"ereg/1"', '"ereg\\/1"').replace(
            name_json, json.dumps(licence.data["name"], ensure_ascii=True)),
        "a key escaped differently (same key)": text.replace('"version"', '"\\u0076ersion"'),
        "deep brackets inside a string": text.replace(name_json, json.dumps("[" * 100 + "{" * 100)),
        "nested 65 deep after the document": text[:-1] + ',"x":' + "[" * 70 + "]" * 70 + "}",
        "a top-level list": "[" + text + "]",
        "a number": "1",
        "null": "null",
    }
    for name, value in texts.items():
        assert value != text, f"{name}: the replacement did not apply"
        c.document(name, value)

    raw = text.encode("utf-8")
    name_bytes = name_json.encode("utf-8")
    blobs = {
        "a byte order mark (bytes)": b"\xef\xbb\xbf" + raw,
        "a UTF-16 BOM": b"\xff\xfe" + text.encode("utf-16-le"),
        "a UTF-16 BE BOM": b"\xfe\xff" + text.encode("utf-16-be"),
        "a UTF-32 BE BOM": b"\x00\x00\xfe\xff" + text.encode("utf-32-be"),
        "UTF-16 without BOM": text.encode("utf-16-le"),
        "a byte 0xff in a string": raw.replace(name_bytes, name_bytes[:-1] + b'\xff"'),
        "an encoded surrogate": raw.replace(name_bytes, name_bytes[:-1] + b'\xed\xa0\x80"'),
        "an overlong slash": raw.replace(b'"ereg/1"', b'"ereg\xc0\xaf1"'),
        "a cut multi-byte character": raw.replace(name_bytes, name_bytes[:2] + b'"'),
        "Latin-1 text": text.replace(name_json, '"Café"').encode("latin-1", "replace"),
        "valid UTF-8 bytes": raw,
    }
    for name, blob in blobs.items():
        assert blob != raw or name == "valid UTF-8 bytes", f"{name}: the replacement did not apply"
        c.document(name, blob)

    # the size limit: 8 MiB of characters (text) or bytes (UTF-8); the pad is an unsalted field
    padded_doc = text.replace('"data":{', '"data":{"pad":' + PAD + ",")
    overhead = len(padded_doc) - len(PAD) + 2  # the quotes stay
    c.document("exactly the size limit (ASCII)", padded_doc, pad={"char": "x", "count": MAX_DOCUMENT_BYTES - overhead})
    c.document("one character over the size limit", padded_doc,
               pad={"char": "x", "count": MAX_DOCUMENT_BYTES - overhead + 1})
    chinese = len(padded_doc.encode("utf-8")) - len(PAD.encode("utf-8")) + 2
    c.document("the size limit in characters, not in bytes", padded_doc,
               pad={"char": "字", "count": (MAX_DOCUMENT_BYTES - chinese) // 3 + 1})


def add_canonical(c: Cases) -> None:
    c.canonical("keys in UTF-16 order", '{"b":1,"a":2,"é":3,"😀":4,"\uffff":5,"\ufb01":6,"":7,"aa":8,"A":9}')
    c.canonical("numbers of every form", "[0,-0,1,-1,1.5,1e21,1e20,1e-6,1e-7,123456789012345678901234567890,"
                "0.1,100.0,1E2,5e-324,1.7976931348623157e308,-0.0,2.5e-8,9007199254740993,1e+2,1E-2,4.35,"
                "0.000001,123e-20,-5e-324,2.2250738585072014e-308,1152921504606846976]")
    c.canonical("escapes",
                '"\\u0000\\u0001\\u001f\\u007f\\u2028\\u2029\\ud83d\\ude00\\/\\b\\f\\n\\r\\t\\"\\\\é\\u00e9"')
    c.canonical("nested", '{"z":[{"b":[],"a":{}},[[[]]],null,true,false,""],"a":{"c":{"b":1,"a":2}}}')
    c.canonical("whitespace", ' \t\n\r{ "a" : [ 1 , 2 ] } \n')
    c.canonical("Chinese", '{"名称":"示例","地址":{"市":"上海","区":"浦东"}}')
    c.canonical("1e400", "1e400")
    c.canonical("1e999 in a list", "[1, 1e999]")
    c.canonical("-1e400 under escaped keys", '{"a/b": {"~": -1e400}}')
    c.canonical("a lone surrogate escape", '"\\ud800"')
    c.canonical("a duplicate key", '{"a":1,"a":2}')
    c.canonical("NaN", "[NaN]")
    c.canonical("65 levels", "[" * 65 + "]" * 65)
    c.canonical("64 levels", "[" * 64 + "]" * 64)
    rng = random.Random(20260101)
    for k in range(8):
        doubles: list[float] = []
        while len(doubles) < 60:
            (x,) = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))
            if x == x and abs(x) != float("inf"):
                doubles.append(x)
        doubles += [rng.uniform(-1e6, 1e6) for _ in range(20)] + [rng.randint(-(2**53), 2**53) for _ in range(20)]
        c.canonical(f"random doubles {k}", "[" + ",".join(repr(x) for x in doubles) + "]")
    integers = [str(rng.randint(-(10**25), 10**25)) for _ in range(100)]
    c.canonical("random integer literals", "[" + ",".join(integers) + "]")


def add_hashes(c: Cases) -> None:
    rng = random.Random(8785)
    for n in [0, 1, 31, 32, 33, 135, 136, 137, 271, 272, 273, 1000, 4096, 20000]:
        data = rng.randbytes(n)
        c.data["hashes"].append({"hex": data.hex(), "keccak256": keccak256(data).hex(),
                                 "sha256": hashlib.sha256(data).hexdigest()})
    pointers = ["/name", "/a~1b~0c", "/", "/名称/姓名", "/emoji 😀", "/\uffff", "/\"quoted\"", "/@type", "/x\u2028y"]
    values = ['"张三"', "1.5", "[1,{\"b\":2,\"a\":1}]", "{}", "null", "true", "1e21", '"\\u0000"', "-0", "[]"]
    for k, (pointer, value) in enumerate((p, v) for p in pointers for v in values[: 3 + len(p) % 5]):
        salt = rng.randbytes(16)
        digest = field_hash(salt, pointer, loads_strict(value, max_depth=MAX_JSON_DEPTH))
        c.data["fieldHashes"].append({"name": f"pointer {pointers.index(pointer)} value {k}", "salt": salt.hex(),
                                      "pointer": pointer, "text": value, "hash": hexed(digest)})
    records = [("unicode record", UNICODE_RECORD), ("deep", deep(5, [1])),
               ("property", sample_record(PROPERTY_CERTIFICATE))]
    for name, obj in records:
        text = json.dumps(obj, ensure_ascii=False)
        found = iter_fields(loads_strict(text, max_depth=MAX_JSON_DEPTH))
        c.data["fields"].append({"name": name, "text": text,
                                 "fields": [[p, canonicalize(v).decode("utf-8")] for p, v in found]})
    for n in [1, 2, 3, 4, 5, 7, 8, 9, 17, 33]:
        targets = [rng.randbytes(32) for _ in range(n)]
        tree = MerkleTree(targets)
        c.data["merkle"].append({
            "targets": [hexed(t) for t in targets],
            "leaves": [hexed(tree.leaf(i)) for i in range(n)],
            "proofs": [[hexed(p) for p in tree.proof(i)] for i in range(n)],
            "root": hexed(tree.root),
        })


def add_cids(c: Cases) -> None:
    for n, seed in [(0, 0), (1, 1), (1000, 2), (RAW_MAX_SIZE, 3)]:
        c.data["cids"].append({"name": f"raw, {n} bytes", "n": n, "seed": seed, "kind": "raw",
                               "cid": raw_cid(pattern_bytes(n, seed))})
    for n, seed in [(262_144, 4), (262_145, 5), (RAW_MAX_SIZE + 1, 6), (3 * 262_144 + 5, 7)]:
        data = pattern_bytes(n, seed)
        cid = unixfs_cid(data)
        assert cid == compute_cid(data) or n <= RAW_MAX_SIZE
        c.data["cids"].append({"name": f"dag-pb, {n} bytes", "n": n, "seed": seed, "kind": "dag-pb", "cid": cid})
    for n, seed, chunk, links in [(0, 8, 16, 3), (10, 9, 16, 3), (48, 10, 16, 3), (165, 11, 16, 3), (17, 12, 1, 2),
                                  (1000, 13, 7, 5), (2000, 14, 3, 174)]:
        c.data["cids"].append({
            "name": f"dag-pb, {n} bytes in chunks of {chunk}, {links} links a node", "n": n, "seed": seed,
            "kind": "dag-pb", "options": {"chunkSize": chunk, "maxLinks": links},
            "cid": unixfs_cid(pattern_bytes(n, seed), chunk_size=chunk, max_links=links),
        })

    def b32(raw: bytes) -> str:
        import base64

        return "b" + base64.b32encode(raw).decode("ascii").rstrip("=").lower()

    digest = hashlib.sha256(b"ereg").digest()
    texts = {
        "raw": b32(bytes([1, 0x55, 0x12, 0x20]) + digest),
        "dag-pb": b32(bytes([1, 0x70, 0x12, 0x20]) + digest),
        "in capitals": b32(bytes([1, 0x55, 0x12, 0x20]) + digest).upper(),
        "dag-cbor": b32(bytes([1, 0x71, 0x12, 0x20]) + digest),
        "sha2-512": b32(bytes([1, 0x55, 0x13, 0x40]) + hashlib.sha512(b"ereg").digest()),
        "a short digest": b32(bytes([1, 0x55, 0x12, 0x1F]) + digest[:31]),
        "version 2": b32(bytes([2, 0x55, 0x12, 0x20]) + digest),
        "a trailing character": b32(bytes([1, 0x55, 0x12, 0x20]) + digest) + "a",
        "non-zero trailing bits": b32(bytes([1, 0x55, 0x12, 0x20]) + digest)[:-1] + "z",
        "CIDv0": "QmaozNR7DZHQK1ZcU9p7QdrshMvXqWK6gpu5rmrkPdT3L4",
        "base58btc CIDv1": "zb2rhe5P4gXftAwvA4eXQ5HJwsER2owDyS9sKaQRRVQPn93bA",
        "empty": "",
        "b alone": "b",
        "the vectors' QR CID": VECTORS["qr"]["cid"],
    }
    for name, text in texts.items():
        try:
            kind: str | None = parse_cid(text).codec.name if normalize_cid(text) == text else None
        except InvalidCid:
            kind = None
        c.data["cidKinds"].append({"name": name, "text": text, "kind": kind})


def add_envelopes(c: Cases, plaintext: bytes) -> None:
    rng = random.Random(5116)
    for n in [0, 1, 16, 1000]:
        key, nonce = rng.randbytes(32), rng.randbytes(12)
        data = rng.randbytes(n)
        c.data["envelopes"].append({"name": f"{n} random bytes", "key": key.hex(),
                                    "blob": seal_with(key, nonce, data).hex(), "plain": data.hex()})
    key, nonce = rng.randbytes(32), rng.randbytes(12)
    blob = seal_with(key, nonce, plaintext)
    c.data["envelopes"].append({"name": "a document", "key": key.hex(), "blob": blob.hex(), "plain": plaintext.hex()})

    def flipped(at: int) -> bytes:
        out = bytearray(blob)
        out[at] ^= 1
        return bytes(out)

    refused = {
        "a nonce bit flipped": (key, flipped(3)),
        "a ciphertext bit flipped": (key, flipped(40)),
        "a tag bit flipped": (key, flipped(len(blob) - 2)),
        "another key": (bytes(32), blob),
        "the tag cut": (key, blob[:-16]),
        "27 bytes": (key, blob[:27]),
        "28 random bytes": (key, rng.randbytes(28)),
        "a 16-byte key": (key[:16], blob),
        "an empty key": (b"", blob),
    }
    for name, (k, b) in refused.items():
        try:
            open_envelope(k, b)
        except DecryptionError as exc:
            c.data["envelopes"].append({"name": name, "key": k.hex(), "blob": b.hex(), "error": exc.code})
        else:
            raise AssertionError(f"{name} opened")


def add_addresses(c: Cases) -> None:
    rng = random.Random(55)
    texts = [SAMPLE_ISSUER["registry"], "0x" + "00" * 20, "0x" + "11" * 20, "0X" + SAMPLE_ISSUER["registry"][2:],
             SAMPLE_ISSUER["registry"][2:], SAMPLE_ISSUER["registry"] + "0", "0x" + "g" * 40]
    for _ in range(30):
        good = to_checksum_address("0x" + rng.randbytes(20).hex())
        flip = rng.choice([i for i, ch in enumerate(good) if i > 1 and ch.isalpha()] or [2])
        texts += [good, good.lower(), "0x" + good[2:].upper(), good[:flip] + good[flip].swapcase() + good[flip + 1:]]
    for text in dict.fromkeys(texts):
        c.data["addresses"].append({"text": text, "ok": is_checksum_address(text)})


def build_cases() -> dict[str, list[dict[str, Any]]]:
    c = Cases()
    add_documents(c)
    add_canonical(c)
    add_hashes(c)
    add_cids(c)
    licence = wrap_document(sample_business_licence(9), BUSINESS_LICENSE, SAMPLE_ISSUER, SAMPLE_VALIDITY,
                       check_schema=False)
    add_envelopes(c, document_to_bytes(licence))
    add_addresses(c)
    return c.data


# ------------------------------------------------------------------------------ what must have run
def required_keys(cases: dict[str, list[dict[str, Any]]]) -> set[str]:
    """Keys of checks that must pass: every section of ereg1.json (every item of its lists), every case."""
    keys = {f"ereg1.fields[{i}]" for i in range(len(VECTORS["fields"]))}
    for section in ("targetHashes", "leaves", "proofs"):
        keys |= {f"ereg1.batch.{section}[{i}]" for i in range(len(VECTORS["batch"][section]))}
    keys |= {"ereg1.batch.level1", "ereg1.batch.root", "ereg1.envelope.blob", "ereg1.envelope.smallBlob",
             "ereg1.envelope.refused"}
    keys |= {f"ereg1.{section}" for section in VECTORS if section not in ("fields", "batch", "envelope")}
    for kind, entries in cases.items():
        for i, entry in enumerate(entries):
            if kind != "documents":
                keys.add(f"cases.{kind}[{i}]")
                continue
            keys |= {f"cases.documents[{i}].{form}" for form in entry["forms"]}
    return keys


def key_of(name: str) -> str:
    return name.split(": ", 1)[0]


def assert_covers(passed: list[str], cases: dict[str, list[dict[str, Any]]]) -> None:
    keys = {key_of(name) for name in passed}
    missing = sorted(required_keys(cases) - keys)
    assert not missing, f"{len(missing)} vectors or cases never checked: {missing[:20]}"


# ------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def cases() -> dict[str, list[dict[str, Any]]]:
    return build_cases()


@pytest.fixture(scope="module")
def cases_file(cases: dict[str, list[dict[str, Any]]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ereg-js") / "cases.json"
    path.write_text(json.dumps(cases), encoding="ascii")  # \u escapes carry lone surrogates too
    return path


@pytest.fixture(scope="module")
def node_js() -> str:
    found = shutil.which("node")
    require(found is not None, "Node.js is not installed")
    assert found is not None
    return found


TAP_LINE = re.compile(r"^(not ok|ok) \d+ - (.*?)(?: # (SKIP|TODO).*)?$")


@pytest.fixture(scope="module")
def node_run(node_js: str, cases_file: Path) -> dict[str, Any]:
    """``node --test tests/verifier/js/`` with the cases: its exit code, output and test names."""
    env = {**os.environ, "EREG_CASES": str(cases_file)}
    done = subprocess.run(
        [node_js, "--test", "--test-reporter=tap", str(JS_DIR)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=NODE_TIMEOUT, check=False,
    )
    passed: list[str] = []
    failed: list[str] = []
    skipped: list[str] = []
    for line in done.stdout.split("\n"):  # top-level tests only (not indented); not splitlines: U+2028
        match = TAP_LINE.match(line)
        if match is None:
            continue
        status, name, directive = match.groups()
        name = name.replace("\\#", "#").replace("\\\\", "\\")
        (skipped if directive else passed if status == "ok" else failed).append(name)
    return {"returncode": done.returncode, "stdout": done.stdout, "stderr": done.stderr,
            "passed": passed, "failed": failed, "skipped": skipped}


# ------------------------------------------------------------------------------ the tests
def test_node_suite_passes(node_run: dict[str, Any], cases: dict[str, list[dict[str, Any]]]) -> None:
    """(a) The Node test file passes, and it checked every vector of ereg1.json and every case."""
    output = node_run["stdout"][-6000:] + node_run["stderr"][-3000:]
    assert node_run["returncode"] == 0, output
    assert not node_run["failed"], node_run["failed"]
    assert not node_run["skipped"], f"skipped in Node: {node_run['skipped']}"
    assert_covers(node_run["passed"], cases)
    assert any(name.startswith("node: keccak256 agrees with @noble/hashes") for name in node_run["passed"])
    assert any(name.startswith("node: sha256 agrees with @noble/hashes") for name in node_run["passed"])


PAGE_HTML = (
    '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>ereg.js</title>'
    '<script src="/static/vendor/sm-crypto.js"></script>'
    '<script src="/static/ereg.js"></script><script src="/js/vectors.js"></script></head><body></body></html>'
)


@contextmanager
def served_page(chromium: Browser, origin: str) -> Iterator[tuple[Page, list[str]]]:
    """A page at ``origin`` loading ereg.js and vectors.js, every answer with the citizen page's
    security headers (its CSP: scripts and fetches from the origin only), and the page's errors."""
    files = {
        "/": (PAGE_HTML.encode("utf-8"), "text/html; charset=utf-8"),
        "/static/ereg.js": (EREG_JS.read_bytes(), "text/javascript; charset=utf-8"),
        "/static/vendor/sm-crypto.js": (
            (EREG_JS.parent / "vendor" / "sm-crypto.js").read_bytes(),
            "text/javascript; charset=utf-8",
        ),
        "/js/vectors.js": (VECTORS_JS.read_bytes(), "text/javascript; charset=utf-8"),
        "/vectors/ereg1.json": (VECTORS_JSON.read_bytes(), "application/json"),
    }
    page = chromium.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(f"console: {message.text}")

    def serve(route: Route) -> None:
        path = urlsplit(route.request.url).path
        if path not in files:
            route.fulfill(status=404, body=b"", headers=SECURITY_HEADERS)
            return
        body, content_type = files[path]
        route.fulfill(status=200, body=body, headers={**SECURITY_HEADERS, "Content-Type": content_type})

    page.on("console", console)
    try:
        page.route(f"{origin}/**", serve)
        page.goto(f"{origin}/", wait_until="load")
        yield page, problems
    finally:
        page.close()


@pytest.mark.browser
def test_chromium_runs_every_vector(chromium: Browser, cases: dict[str, list[dict[str, Any]]],
                                    node_run: dict[str, Any]) -> None:
    """(b) The same checks in a Chromium page on http://127.0.0.1, under the citizen page's CSP."""
    with served_page(chromium, ORIGIN) as (page, problems):
        context = page.evaluate(
            "() => ({secure: isSecureContext, subtle: !!(crypto && crypto.subtle), ereg: typeof Ereg,"
            " module: typeof module, agent: navigator.userAgent})"
        )
        assert context["secure"] and context["subtle"], context
        assert context["ereg"] == "object" and context["module"] == "undefined", context  # the browser branch
        assert "Chrome/" in context["agent"], context
        result = page.evaluate(
            "async (json) => { const V = await (await fetch('/vectors/ereg1.json')).json();"
            " return EregVectors.runAll(Ereg, V, JSON.parse(json)); }",
            json.dumps(cases),  # ASCII, \\u escapes: lone surrogates pass too
        )
        during_run = list(problems)
        # the page is under the citizen page's policy: an inline script does not run
        inline_ran = page.evaluate(
            "() => { const s = document.createElement('script'); s.textContent = 'window.inlineRan = true';"
            " document.head.appendChild(s); return window.inlineRan === true; }"
        )
    assert not inline_ran, "the page did not apply the citizen page's Content-Security-Policy"
    assert not result["failed"], json.dumps(result["failed"][:10], ensure_ascii=False, indent=1)
    assert not during_run, during_run
    assert_covers(result["passed"], cases)
    if node_run["returncode"] == 0:  # the same checks as in Node, no more, no fewer
        shared = {name for name in node_run["passed"] if not name.startswith("node: ")}
        assert set(result["passed"]) == shared


@pytest.mark.browser
def test_chromium_without_secure_context_blames_the_page(chromium: Browser) -> None:
    """On a page that is not a secure context (no WebCrypto), openEnvelope and checkCid fail as the
    page's problem, never as DECRYPTION_FAILED (a verdict on the document: ereg.js used to give it);
    the integrity check itself needs no WebCrypto."""
    with served_page(chromium, INSECURE_ORIGIN) as (page, _problems):
        outcome = page.evaluate(
            """async () => {
              const V = await (await fetch('/vectors/ereg1.json')).json();
              const failure = async (promise) => {
                try { await promise; return 'resolved'; } catch (e) { return `${e.code || ''}|${e.message}`; }
              };
              const key = Ereg.fromHex(V.envelope.key), blob = Ereg.fromHex(V.envelope.smallBlob);
              return {
                secure: isSecureContext, subtle: typeof (crypto && crypto.subtle),
                open: await failure(Ereg.openEnvelope(key, blob)),
                cid: await failure(Ereg.checkCid(V.qr.cid, blob)),
                integrity: Ereg.checkIntegrity(V.documentJcs).code,
              };
            }"""
        )
    assert outcome["secure"] is False and outcome["subtle"] == "undefined", outcome
    assert outcome["open"].startswith("|WebCrypto is not available"), outcome
    assert outcome["cid"].startswith("|WebCrypto is not available"), outcome
    assert outcome["integrity"] == "OK", outcome


CHECK_DOCUMENTS_JS = r"""
const Ereg = require(process.argv[1]);
const inputs = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
const out = inputs.map((input) => {
  const r = Ereg.checkIntegrity(input.hex ? Ereg.fromHex(input.hex) : input.text);
  return { code: r.code, pointer: r.pointer, targetHash: r.targetHash, merkleRoot: r.merkleRoot, leaf: r.leaf };
});
process.stdout.write(JSON.stringify(out));
"""


def test_python_and_js_agree_on_documents(node_js: str, cases: dict[str, list[dict[str, Any]]]) -> None:
    """(c) For documents of documents.samples (disclosed, tampered, malformed) and the unicode record,
    Ereg.checkIntegrity gives what documents.check_integrity (the verifier's integrity check) gives."""
    documents = [d for d in cases["documents"] if "pad" not in d]
    done = subprocess.run(
        [node_js, "-e", CHECK_DOCUMENTS_JS, str(EREG_JS)],
        input=json.dumps([{"hex": d["hex"]} if "hex" in d else {"text": d["text"]} for d in documents]),
        capture_output=True, text=True, timeout=NODE_TIMEOUT, check=False, encoding="utf-8",
    )
    assert done.returncode == 0, done.stderr
    js_results = json.loads(done.stdout)
    disagree = []
    for doc, js in zip(documents, js_results, strict=True):
        python = expectation(check_integrity(bytes.fromhex(doc["hex"]) if "hex" in doc else doc["text"]))
        if js != python:
            disagree.append({"case": doc["name"], "python": python, "js": js})
    assert not disagree, json.dumps(disagree, ensure_ascii=False, indent=1)
    codes = [d["expect"]["code"] for d in documents]
    # the cases reach every code of the DOCUMENT_INTEGRITY fragment, and OK ones carry the hashes
    assert {"OK", "TAMPERED", "PROOF_MISMATCH", "NOTHING_DISCLOSED", "MALFORMED"} <= set(codes)
    intact = [d for d in documents if d["expect"]["code"] == "OK"]
    assert len(intact) >= 10 and all(d["expect"]["merkleRoot"] and d["expect"]["targetHash"] for d in intact)
