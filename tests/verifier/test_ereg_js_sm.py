"""The citizen page's ``ereg/1-sm`` suite (``verifier/static/ereg.js`` with the vendored
``verifier/static/vendor/sm-crypto.js``) against the standards and the Python reference.

The same checks (``tests/verifier/js/sm-vectors.js``) run in Node (``node --test
tests/verifier/js/ereg-sm.node.js``, which adds SM3 and SM4-CTR of node:crypto's OpenSSL on random
input) and in Debian Chromium through Playwright, on a page of ``http://127.0.0.1`` under the
citizen page's own Content-Security-Policy, with the harness of ``test_ereg_js.py``:

* the standards' examples: SM3 of GB/T 32905 ("abc", "abcd" x 16) and the SM4 block of GB/T 32907
  (the library's ECB path, which is its bare block function; GCM's keystream is that function on
  ``nonce ‖ 2, 3, ...``);
* every vector of ``tests/documents/vectors/ereg1-sm.json``, recomputed as ``ereg1.json``'s are;
* what the Python reference computes here: SM3 and SM4-GCM of ``cryptography`` on random input
  (lengths 0, 1, 15, 16, 17, ... 1000 and more), envelopes ``documents.envelope`` refuses, and
  ``ereg/1-sm`` documents of ``documents.wrap_batch`` (intact, disclosed, tampered, malformed),
  whose codes, pointers and hashes must be ``documents.check_integrity``'s;
* the envelope rule of FORMAT.md §14: a document of the other suite than its key's is MALFORMED at
  ``/version``, after any fault of the document itself.

Provenance of the vendored file: ``scripts/vendor_sm_crypto.py`` builds it from pinned npm packages
(exact versions, sha512 integrity checked) and ``--check`` rebuilds it byte for byte (that needs the
npm registry, so it is not run here); the tests below check that its header, the script's pins and
``LICENSES.txt`` agree, and that the verifier serves it.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import random
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from documents import check_integrity, document_to_bytes, hide_fields, open_envelope, seal_with, wrap_batch
from documents.errors import DecryptionError
from documents.samples import SAMPLE_ISSUER, SAMPLE_VALIDITY, sample_business_licence, sample_record
from documents.sm2 import Sm2PrivateKey
from documents.suite import SUITE_SM
from storage.cid import raw_cid
from tests.factories import BUSINESS_LICENSE, PROPERTY_CERTIFICATE
from tests.verifier.test_ereg_js import (  # noqa: F401 - node_js is a fixture, registered by import
    EXAMPLE_TYPE,
    NODE_TIMEOUT,
    ORIGIN,
    TAP_LINE,
    UNICODE_RECORD,
    Cases,
    key_of,
    mutated,
    node_js,
    setter,
    text_of,
)
from verifier.api.routes.citizen import SECURITY_HEADERS
from verifier.api.routes.status import MESSAGE_TABLE

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page, Route

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "verifier" / "static"
EREG_JS = STATIC / "ereg.js"
SM_CRYPTO_JS = STATIC / "vendor" / "sm-crypto.js"
LICENSES_TXT = STATIC / "vendor" / "LICENSES.txt"
VENDOR_SCRIPT = ROOT / "scripts" / "vendor_sm_crypto.py"
JS_DIR = ROOT / "tests" / "verifier" / "js"
NODE_TEST = JS_DIR / "ereg-sm.node.js"
VECTORS_JSON = ROOT / "tests" / "documents" / "vectors" / "ereg1-sm.json"
VECTORS: dict[str, Any] | None = json.loads(VECTORS_JSON.read_text("utf-8")) if VECTORS_JSON.exists() else None

SM = SUITE_SM.version
AD = SM.encode("ascii")
MISMATCH = {"code": "MALFORMED", "pointer": "/version", "targetHash": None, "merkleRoot": None, "leaf": None}
#: the members of ereg1-sm.json's sections that sm-vectors.js knows: a new one must be taught to it
KNOWN_BATCH = {"targetHashes", "leaves", "level1", "root", "proofs"}
KNOWN_ENVELOPE = {"key", "nonce", "associatedData", "blob", "blobSha256", "smallPlaintext", "smallBlob"}


# ------------------------------------------------------------------------------ the reference
def sm3(data: bytes) -> bytes:
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize()


def sm4_gcm_seal(key: bytes, nonce: bytes, plain: bytes, ad: bytes) -> bytes:
    enc = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    enc.authenticate_additional_data(ad)
    body = enc.update(plain) + enc.finalize()
    return nonce + body + enc.tag


def add_primitives(c: Cases) -> None:
    rng = random.Random(32905)
    for n in [0, 1, 15, 16, 17, 31, 32, 33, 55, 56, 63, 64, 65, 119, 127, 128, 129, 1000, 4096]:
        data = rng.randbytes(n)
        c.data["sm3"].append({"hex": data.hex(), "sm3": sm3(data).hex()})
    sizes = [(n, AD) for n in (0, 1, 15, 16, 17, 1000, 100_000)] + [(16, b"ereg/1"), (16, b"")]
    for n, ad in sizes:
        key, nonce, plain = rng.randbytes(16), rng.randbytes(12), rng.randbytes(n)
        blob = sm4_gcm_seal(key, nonce, plain, ad)
        c.data["sm4gcm"].append({"key": key.hex(), "blob": blob.hex(), "plain": plain.hex(), "ad": ad.decode("ascii")})


def add_envelopes(c: Cases, plaintext: bytes) -> None:
    """A document sealed by documents.envelope (it must be cryptography's SM4-GCM) and what it refuses."""
    rng = random.Random(32907)
    key, nonce = rng.randbytes(16), rng.randbytes(12)
    blob = seal_with(key, nonce, plaintext)
    assert blob == sm4_gcm_seal(key, nonce, plaintext, AD), "documents.envelope is not SM4-GCM with AD ereg/1-sm"
    c.data["envelopes"].append({"name": "a document", "key": key.hex(), "blob": blob.hex(), "plain": plaintext.hex()})

    def flipped(at: int) -> bytes:
        out = bytearray(blob)
        out[at] ^= 1
        return bytes(out)

    refused = {
        "a nonce bit flipped": (key, flipped(3)),
        "a ciphertext bit flipped": (key, flipped(40)),
        "a tag bit flipped": (key, flipped(len(blob) - 2)),
        "another key": (bytes(16), blob),
        "the key doubled (an AES key)": (key + key, blob),
        "the tag cut": (key, blob[:-16]),
        "27 bytes": (key, blob[:27]),
        "28 random bytes": (key, rng.randbytes(28)),
        "a 15-byte key": (key[:15], blob),
        "a 17-byte key": (key + b"\0", blob),
        "a 24-byte key": (key + key[:8], blob),
        "sealed with AD ereg/1": (key, sm4_gcm_seal(key, nonce, plaintext, b"ereg/1")),
    }
    for name, (k, b) in refused.items():
        try:
            open_envelope(k, b)
        except DecryptionError as exc:
            c.data["envelopes"].append({"name": name, "key": k.hex(), "blob": b.hex(), "error": exc.code})
        else:
            raise AssertionError(f"{name} opened")


def add_documents(c: Cases) -> None:
    """ereg/1-sm documents of documents.wrap_batch, checked by documents.check_integrity, and the
    envelope rule (FORMAT.md §14, which check_integrity leaves to its caller) on them."""
    sm2_key = Sm2PrivateKey.generate()
    batch = wrap_batch([sample_business_licence(i) for i in range(5)], BUSINESS_LICENSE, SAMPLE_ISSUER, SAMPLE_VALIDITY,
                       check_schema=False, suite=SUITE_SM, sm2_key=sm2_key)
    uni_batch = wrap_batch([UNICODE_RECORD, {"x": 1}, {"y": 2}], EXAMPLE_TYPE, SAMPLE_ISSUER, SAMPLE_VALIDITY,
                           check_schema=False, suite=SUITE_SM, sm2_key=sm2_key)
    prop = wrap_batch([sample_record(PROPERTY_CERTIFICATE)], PROPERTY_CERTIFICATE, SAMPLE_ISSUER, SAMPLE_VALIDITY,
                      check_schema=False, suite=SUITE_SM, sm2_key=sm2_key).documents[0]
    keccak = wrap_batch([sample_business_licence(7)], BUSINESS_LICENSE, SAMPLE_ISSUER, SAMPLE_VALIDITY,
                        check_schema=False).documents[0]
    licence, other = batch.documents[3], batch.documents[1]
    assert licence.version == SM and check_integrity(licence).code.value == "OK"

    c.document("ereg/1-sm business licence 3 of 5", licence)
    c.document("ereg/1-sm licence, pretty-printed", json.dumps(json.loads(text_of(licence)), indent=2))
    c.document("ereg/1-sm licence, three fields hidden",
               hide_fields(licence, ["/legalRepresentative", "/phone", "/address"]))
    c.document("ereg/1-sm property certificate (batch of one)", prop)
    c.document("ereg/1-sm unicode record", uni_batch.documents[0])
    c.document("ereg/1-sm unicode record, nested and astral keys hidden",
               hide_fields(uni_batch.documents[0], ["/nested", "/emoji 😀", "/a~1b~0c/~0"]))
    base = json.loads(text_of(licence))
    signature = base["proof"]["signature"]
    changes = [
        ("a value changed", setter("data.name", "示例星辰科技第4分公司")),
        ("a salt changed", setter("salts./address", "00" * 16)),
        ("the department changed", setter("issuer.department", "0x" + "22" * 32)),
        ("another root", setter("proof.merkleRoot", other.proof.merkle_root)),
        ("another document's proof", setter("proof.proof", list(other.proof.proof))),
        ("nothing disclosed", setter("data", {})),
        ("a field added", setter("data.extra", "x")),
        ("read as ereg/1 without its signature", lambda d: (d.update(version="ereg/1"), d["proof"].pop("signature"))),
        ("another signature (not hashed)", setter("proof.signature.value", "0x" + "ab" * 64)),
        ("the signature missing", setter("proof.signature", ...)),
        ("the signature null", setter("proof.signature", None)),
        ("read as ereg/1 with its signature", setter("version", "ereg/1")),
        ("alg in lower case", setter("proof.signature.alg", "sm2")),
        ("a key of 63 bytes", setter("proof.signature.key", signature["key"][:-2])),
        ("a value in capitals", setter("proof.signature.value", "0x" + signature["value"][2:].upper())),
        ("a signature member too many", setter("proof.signature.userId", "1234567812345678")),
        ("a signature member missing", setter("proof.signature.value", ...)),
        ("a signature list", setter("proof.signature", [signature])),
        ("a bad type and no signature", lambda d: (d.update(type="X"), d["proof"].pop("signature"))),
        ("version ereg/1-SM", setter("version", "ereg/1-SM")),
    ]
    for name, change in changes:
        c.document(name, text_of(mutated(base, change)))

    # the envelope rule: expected values from FORMAT.md §14 (documents.check_integrity has no envelope)
    def in_envelope(name: str, text: str, envelope: str, expect: dict[str, Any]) -> None:
        c.data["documents"].append({"name": name, "text": text, "forms": ["text", "bytes", "object"],
                                    "envelope": envelope, "expect": expect})

    in_envelope("ereg/1-sm in an AES envelope", text_of(licence), "ereg/1", MISMATCH)
    in_envelope("ereg/1 in an SM4 envelope", text_of(keccak), SM, MISMATCH)
    tampered = text_of(mutated(base, setter("data.name", "x")))
    in_envelope("tampered ereg/1-sm in an AES envelope (the envelope first)", tampered, "ereg/1", MISMATCH)
    in_envelope("tampered ereg/1-sm in its SM4 envelope", tampered, SM,
                {**MISMATCH, "code": "TAMPERED", "pointer": "/proof/targetHash"})
    unsigned = text_of(mutated(base, setter("proof.signature", ...)))
    in_envelope("unsigned ereg/1-sm in an AES envelope (its own fault first)", unsigned, "ereg/1",
                {**MISMATCH, "pointer": "/proof/signature"})
    ok = check_integrity(licence)
    intact = {"code": "OK", "pointer": None, "targetHash": "0x" + (ok.target_hash or b"").hex(),
              "merkleRoot": "0x" + (ok.merkle_root or b"").hex(), "leaf": "0x" + (ok.leaf or b"").hex()}
    in_envelope("ereg/1-sm in its SM4 envelope", text_of(licence), SM, intact)
    # FORMAT.md §14: signature is absent in every ereg/1 document (documents.model takes a null one)
    null_signed = json.loads(text_of(keccak))
    null_signed["proof"]["signature"] = None
    c.data["documents"].append({"name": "ereg/1 with a null signature", "text": json.dumps(null_signed),
                                "forms": ["text", "object"], "expect": {**MISMATCH, "pointer": "/proof/signature"}})


def build_cases() -> dict[str, list[dict[str, Any]]]:
    c = Cases()
    c.data = {key: [] for key in ("sm3", "sm4gcm", "envelopes", "documents")}
    add_primitives(c)
    licence = wrap_batch([sample_business_licence(9)], BUSINESS_LICENSE, SAMPLE_ISSUER, SAMPLE_VALIDITY,
                         check_schema=False, suite=SUITE_SM, sm2_key=Sm2PrivateKey.generate()).documents[0]
    add_envelopes(c, document_to_bytes(licence))
    add_documents(c)
    return c.data


# ------------------------------------------------------------------------------ what must have run
STANDARD_KEYS = {"std.sm3.abc", "std.sm3.abcd16", "std.sm3.subarray", "std.sm4.block", "std.sm4.gcmKeystream",
                 "std.suiteOfKey", "std.suites"}


def required_keys(cases: dict[str, list[dict[str, Any]]]) -> set[str]:
    keys = set(STANDARD_KEYS)
    if VECTORS is not None:
        assert set(VECTORS["batch"]) <= KNOWN_BATCH, f"new batch members: teach sm-vectors.js {set(VECTORS['batch'])}"
        assert set(VECTORS["envelope"]) <= KNOWN_ENVELOPE, f"new envelope members: {set(VECTORS['envelope'])}"
        keys |= {f"sm.fields[{i}]" for i in range(len(VECTORS["fields"]))}
        for section in ("targetHashes", "leaves", "proofs"):
            keys |= {f"sm.batch.{section}[{i}]" for i in range(len(VECTORS["batch"][section]))}
        keys |= {"sm.batch.level1", "sm.batch.root", "sm.envelope.blob", "sm.envelope.smallBlob", "sm.envelope.refused",
                 "sm.document.envelope"}
        keys |= {f"sm.{section}" for section in VECTORS if section not in ("fields", "batch", "envelope")}
    for kind, entries in cases.items():
        for i, entry in enumerate(entries):
            if kind == "documents":
                keys |= {f"smcases.documents[{i}].{form}" for form in entry["forms"]}
            else:
                keys.add(f"smcases.{kind}[{i}]")
    return keys


def assert_covers(passed: list[str], cases: dict[str, list[dict[str, Any]]]) -> None:
    missing = sorted(required_keys(cases) - {key_of(name) for name in passed})
    assert not missing, f"{len(missing)} vectors or cases never checked: {missing[:20]}"


# ------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def cases() -> dict[str, list[dict[str, Any]]]:
    return build_cases()


@pytest.fixture(scope="module")
def node_run(node_js: str, cases: dict[str, list[dict[str, Any]]],  # noqa: F811 - the imported fixture
             tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """``node --test tests/verifier/js/ereg-sm.node.js`` with the cases: exit code, output, test names."""
    cases_file = tmp_path_factory.mktemp("ereg-js-sm") / "cases.json"
    cases_file.write_text(json.dumps(cases), encoding="ascii")
    done = subprocess.run(
        [node_js, "--test", "--test-reporter=tap", str(NODE_TEST)],
        cwd=ROOT, env={**os.environ, "EREG_SM_CASES": str(cases_file)},
        capture_output=True, text=True, timeout=NODE_TIMEOUT, check=False,
    )
    passed: list[str] = []
    failed: list[str] = []
    skipped: list[str] = []
    for line in done.stdout.split("\n"):
        match = TAP_LINE.match(line)
        if match is None:
            continue
        status, name, directive = match.groups()
        name = name.replace("\\#", "#").replace("\\\\", "\\")
        (skipped if directive else passed if status == "ok" else failed).append(name)
    return {"returncode": done.returncode, "stdout": done.stdout, "stderr": done.stderr,
            "passed": passed, "failed": failed, "skipped": skipped}


# ------------------------------------------------------------------------------ the tests
def test_node_runs_the_sm_suite(node_run: dict[str, Any], cases: dict[str, list[dict[str, Any]]]) -> None:
    """In Node: the standards' examples, every vector of ereg1-sm.json, every case of the Python
    reference, and node:crypto's SM3 and SM4 on random input."""
    output = node_run["stdout"][-6000:] + node_run["stderr"][-3000:]
    assert node_run["returncode"] == 0, output
    assert not node_run["failed"], node_run["failed"]
    assert_covers(node_run["passed"], cases)
    for name in ("node: as classic scripts", "node: without sm-crypto.js", "node: in Node, ereg.js requires"):
        assert any(n.startswith(name) for n in node_run["passed"]), name


PAGE_HTML = (
    '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>ereg.js ereg/1-sm</title>'
    '<script src="/static/vendor/sm-crypto.js"></script><script src="/static/ereg.js"></script>'
    '<script src="/js/vectors.js"></script><script src="/js/sm-vectors.js"></script></head><body></body></html>'
)


@contextmanager
def served_page(chromium: Browser) -> Iterator[tuple[Page, list[str]]]:
    """A page at ORIGIN loading the scripts as citizen.html does (vendor/sm-crypto.js first), every
    answer with the citizen page's security headers, and the page's errors."""
    files = {
        "/": (PAGE_HTML.encode("utf-8"), "text/html; charset=utf-8"),
        "/static/vendor/sm-crypto.js": (SM_CRYPTO_JS.read_bytes(), "text/javascript; charset=utf-8"),
        "/static/ereg.js": (EREG_JS.read_bytes(), "text/javascript; charset=utf-8"),
        "/js/vectors.js": ((JS_DIR / "vectors.js").read_bytes(), "text/javascript; charset=utf-8"),
        "/js/sm-vectors.js": ((JS_DIR / "sm-vectors.js").read_bytes(), "text/javascript; charset=utf-8"),
    }
    if VECTORS is not None:
        files["/vectors/ereg1-sm.json"] = (VECTORS_JSON.read_bytes(), "application/json")
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
        page.route(f"{ORIGIN}/**", serve)
        page.goto(f"{ORIGIN}/", wait_until="load")
        yield page, problems
    finally:
        page.close()


@pytest.mark.browser
def test_chromium_runs_the_sm_suite(chromium: Browser, cases: dict[str, list[dict[str, Any]]],
                                    node_run: dict[str, Any]) -> None:
    """The same checks in a Chromium page under the citizen page's CSP: the vendored script is a
    same-origin classic script that defines the global SmCrypto, and needs no eval."""
    with served_page(chromium) as (page, problems):
        context = page.evaluate(
            "() => ({secure: isSecureContext, sm: typeof SmCrypto, ereg: typeof Ereg, module: typeof module,"
            " keys: Object.keys(SmCrypto).sort(), agent: navigator.userAgent})"
        )
        assert context["secure"] and context["sm"] == "object" and context["ereg"] == "object", context
        assert context["module"] == "undefined" and context["keys"] == ["sm3", "sm4"], context
        assert "Chrome/" in context["agent"], context
        result = page.evaluate(
            "async ([json, vectors]) => {"
            " const V = vectors ? await (await fetch('/vectors/ereg1-sm.json')).json() : null;"
            " return EregSmVectors.runAll(Ereg, SmCrypto, V, JSON.parse(json), EregVectors.miniAssert); }",
            [json.dumps(cases), VECTORS is not None],
        )
        during_run = list(problems)
    assert not result["failed"], json.dumps(result["failed"][:10], ensure_ascii=False, indent=1)
    assert not during_run, during_run
    assert_covers(result["passed"], cases)
    if node_run["returncode"] == 0:  # the same checks as in Node, no more, no fewer
        assert set(result["passed"]) == {n for n in node_run["passed"] if not n.startswith("node: ")}


def test_the_vendored_file_is_what_the_script_pins() -> None:
    """Provenance: the bundle's header names the versions scripts/vendor_sm_crypto.py pins and
    LICENSES.txt carries each package's MIT licence and the bundle's SHA-256 (so neither file was
    edited after the script wrote them); the page loads it before ereg.js; it stays small."""
    script = VENDOR_SCRIPT.read_text("utf-8")
    versions_block = script.split("VERSIONS: dict[str, str] = {", 1)[1].split("}", 1)[0]
    pins = {("sm-crypto-v2" if "SM_CRYPTO" in line else "esbuild" if "ESBUILD" in line else line.split('"')[1]):
            line.rsplit('"', 2)[1] for line in versions_block.strip().splitlines()}
    assert set(pins) == {"sm-crypto-v2", "@noble/ciphers", "@noble/curves", "@noble/hashes", "esbuild"}, pins
    assert pins["sm-crypto-v2"] == "1.15.1"
    bundle = SM_CRYPTO_JS.read_bytes()
    header = bundle.split(b"*/", 1)[0].decode("ascii")
    licences = LICENSES_TXT.read_text("utf-8")
    for name, version in pins.items():
        assert f"{name} {version}" in header, (name, version)
        if name != "esbuild":
            assert f"{name} {version} (MIT)" in licences, name
    assert licences.count("Permission is hereby granted, free of charge") == 4
    assert f"SHA-256 {hashlib.sha256(bundle).hexdigest()}" in licences, "the bundle changed after the script wrote it"
    assert bundle.isascii() and len(bundle) < 40_000, len(bundle)
    for forbidden in (b"eval(", b"new Function", b"import("):  # the CSP has no 'unsafe-eval'
        assert forbidden not in bundle, forbidden
    html = (STATIC / "citizen.html").read_text("utf-8")
    assert html.index('src="/static/vendor/sm-crypto.js"') < html.index('src="/static/ereg.js"')


def test_the_verifier_serves_the_vendored_files() -> None:
    """/static serves the vendor/ folder (StaticFiles), with the security headers of every answer."""
    from fastapi.testclient import TestClient

    from verifier.app import create_app
    from verifier.settings import VerifierSettings

    client = TestClient(create_app(VerifierSettings(rpc_url="http://127.0.0.1:1", chain_id=1), follow=False))
    script = client.get("/static/vendor/sm-crypto.js")
    assert script.status_code == 200 and script.content == SM_CRYPTO_JS.read_bytes()
    assert script.headers["content-type"].startswith("text/javascript"), script.headers
    assert script.headers["x-content-type-options"] == "nosniff"
    assert client.get("/static/vendor/LICENSES.txt").status_code == 200


def test_every_vector_document_is_the_python_reference_s() -> None:
    """The vector document and the test's documents are what documents.check_integrity accepts,
    so the JS checks above compare with the reference, not with themselves."""
    if VECTORS is None:
        pytest.skip("tests/documents/vectors/ereg1-sm.json is not there yet")
    result = check_integrity(copy.deepcopy(VECTORS["document"]))
    assert result.code.value == "OK" and "0x" + (result.merkle_root or b"").hex() == VECTORS["batch"]["root"]
    assert sm3(b"abc").hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


# ------------------------------------------------------------------------------ the citizen page itself
def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


@contextmanager
def citizen_page(chromium: Browser, blob: bytes, key: bytes) -> Iterator[tuple[Page, list[dict[str, Any]]]]:
    """citizen.html at /q/<cid of blob>#k=<key>, its own files, /v1/messages, the blob and a
    /v1/status that answers VALID; every answer under the page's security headers. Yields the page
    once it decided, and the bodies POSTed to /v1/status."""
    cid = raw_cid(blob)
    static = {f"/static/{name}": STATIC / name for name in
              ("citizen.css", "citizen.js", "ereg.js", "vendor/sm-crypto.js")}
    posted: list[dict[str, Any]] = []
    words = {"message": "ok", "message_zh": "ok", "details": None}
    chain = {
        "verdict": "VALID", "message": "ok", "message_zh": "ok", "chainId": SAMPLE_ISSUER["chainId"],
        "checkedAt": "2026-06-01T00:00:00Z", "issuer": None, "anchor": None, "status": None,
        "fragments": [{"name": "DOCUMENT_STATUS", "status": "VALID", "code": "OK", **words},
                      {"name": "ISSUER_IDENTITY", "status": "VALID", "code": "OK", **words}],
    }

    def serve(route: Route) -> None:
        path = urlsplit(route.request.url).path
        answer: tuple[bytes, str] | None = None
        if path == f"/q/{cid}":
            answer = ((STATIC / "citizen.html").read_bytes(), "text/html; charset=utf-8")
        elif path in static:
            kind = "text/css" if path.endswith(".css") else "text/javascript"
            answer = (static[path].read_bytes(), f"{kind}; charset=utf-8")
        elif path == "/v1/messages":
            answer = (json.dumps(MESSAGE_TABLE).encode("utf-8"), "application/json")
        elif path == f"/v1/documents/{cid}":
            answer = (blob, "application/octet-stream")
        elif path == "/v1/status" and route.request.method == "POST":
            posted.append(json.loads(route.request.post_data or "null"))
            answer = (json.dumps(chain).encode("utf-8"), "application/json")
        if answer is None:
            route.fulfill(status=404, body=b"", headers=SECURITY_HEADERS)
        else:
            route.fulfill(status=200, body=answer[0], headers={**SECURITY_HEADERS, "Content-Type": answer[1]})

    page = chromium.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.route(f"{ORIGIN}/**", serve)
        page.goto(f"{ORIGIN}/q/{cid}#k={b64url(key)}", wait_until="domcontentloaded")
        page.wait_for_function("() => { const r = document.getElementById('result');"
                               " return r && r.dataset.verdict && r.dataset.verdict !== 'PENDING'; }", timeout=20_000)
        assert not errors, errors
        yield page, posted
    finally:
        page.close()


def page_checks(page: Page) -> dict[str, tuple[str, str]]:
    items = page.locator("#checks li")
    return {(items.nth(i).get_attribute("data-fragment") or ""): (items.nth(i).get_attribute("data-code") or "",
                                                                   items.nth(i).inner_text())
            for i in range(items.count())}


@pytest.mark.browser
def test_citizen_page_checks_both_suites_and_their_envelopes(chromium: Browser) -> None:
    """citizen.js: a 16-byte key opens SM4-GCM, a 32-byte one AES-256-GCM; /v1/status gets the
    version and, for ereg/1-sm only, the signature (and no field value); a document in the other
    suite's envelope is MALFORMED with the reason in words, and the chain is not asked."""
    sm_doc = wrap_batch([sample_business_licence(2)], BUSINESS_LICENSE, SAMPLE_ISSUER, SAMPLE_VALIDITY,
                        check_schema=False, suite=SUITE_SM, sm2_key=Sm2PrivateKey.generate()).documents[0]
    keccak_doc = wrap_batch([sample_business_licence(3)], BUSINESS_LICENSE, SAMPLE_ISSUER, SAMPLE_VALIDITY,
                            check_schema=False).documents[0]
    sm_key, aes_key, nonce = bytes(range(16)), bytes(range(32)), bytes(12)
    sm_bytes, keccak_bytes = document_to_bytes(sm_doc), document_to_bytes(keccak_doc)
    sm_obj = json.loads(sm_bytes)
    members = {"version", "type", "issuer", "validity", "merkleRoot", "targetHash"}

    with citizen_page(chromium, seal_with(sm_key, nonce, sm_bytes), sm_key) as (page, posted):
        assert page.locator("#result").get_attribute("data-verdict") == "VALID", page_checks(page)
        assert page_checks(page)["DOCUMENT_INTEGRITY"][0] == "OK"
        assert len(posted) == 1 and set(posted[0]) == members | {"signature"}, posted
        assert posted[0]["version"] == SM and posted[0]["signature"] == sm_obj["proof"]["signature"]
        assert posted[0]["targetHash"] == sm_obj["proof"]["targetHash"]
    with citizen_page(chromium, seal_with(aes_key, nonce, keccak_bytes), aes_key) as (page, posted):
        assert page.locator("#result").get_attribute("data-verdict") == "VALID", page_checks(page)
        assert len(posted) == 1 and set(posted[0]) == members and posted[0]["version"] == "ereg/1", posted
    with citizen_page(chromium, seal_with(aes_key, nonce, sm_bytes), aes_key) as (page, posted):
        assert page.locator("#result").get_attribute("data-verdict") == "INVALID"
        code, words = page_checks(page)["DOCUMENT_INTEGRITY"]
        assert code == "MALFORMED" and "文书算法套件与密文封装不一致" in words, words
        page.locator("#lang").click()
        assert "Document suite does not match its envelope" in page_checks(page)["DOCUMENT_INTEGRITY"][1]
        assert not posted
    with citizen_page(chromium, seal_with(sm_key, nonce, keccak_bytes), sm_key) as (page, posted):
        assert page_checks(page)["DOCUMENT_INTEGRITY"][0] == "MALFORMED" and not posted
    with citizen_page(chromium, seal_with(sm_key, nonce, sm_bytes), sm_key[:15]) as (page, posted):
        assert page.locator("#result").get_attribute("data-verdict") == "ERROR" and not posted
