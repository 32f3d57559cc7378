"""The verifier under hostile input: one strict parser for every body shape, honest refusals.

Every body of POST /v1/verify is parsed once, by the HTTP kit's guard, before any other work,
whatever its shape (a bare document, ``{"document": …}``, ``{"qr": …}``): invalid UTF-8, a
byte-order mark, UTF-16, duplicate keys (inside or outside the wrapper), lone surrogates, deep
nesting, unclosed strings after deep brackets, 10,000-digit numbers and a megabyte of
one-character strings are refused with a 4xx and the one error body, never a 500 and never a
verdict. What a request refuses is refused the same way by the hot path (the pure ASGI fast
path) and by the framework route: the tests send JSON (fast path) and the same bytes with
``application/ereg+json``, which both paths serve.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from devstack.process import free_port
from documents import document_to_bytes, wrap_batch
from documents.samples import SAMPLE_VALIDITY, sample_business_licence
from verifier.app import create_app
from verifier.settings import VerifierSettings

JSON = {"content-type": "application/json"}
EREG_JSON = {"content-type": "application/ereg+json"}
CJK = re.compile(r"[\u4e00-\u9fff]")
STACK_MARKERS = ("Traceback", 'File "', "Error(", ".py")
LIMIT = 1_048_576
REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
ISSUER = {"department": "0x" + "11" * 32, "chainId": 1337, "registry": REGISTRY}


def settings_for(tmp_path: Path, **overrides: Any) -> VerifierSettings:
    """A verifier whose chain is a closed loopback port; its body limit 1 MiB."""
    values: dict[str, Any] = {
        "rpc_url": f"http://127.0.0.1:{free_port()}",
        "chain_id": 1337,
        "registry_address": REGISTRY,
        "index_path": tmp_path / "index.sqlite",
        "index_start_block": 0,
        "store_dir": tmp_path / "blocks",
        "request_timeout": 0.5,
        "max_body_bytes": LIMIT,
        "rate_limit_per_second": 0,
    }
    values.update(overrides)
    return VerifierSettings(**values)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(settings_for(tmp_path), follow=False), raise_server_exceptions=False) as served:
        yield served


def assert_refused(reply: Response, status: int = 400, code: str | None = None) -> None:
    """A refusal: the status, the one error body, both languages, no trace."""
    assert reply.status_code == status, (reply.status_code, reply.text[:300])
    assert reply.headers["content-type"].startswith("application/json"), reply.headers
    body = reply.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "message_zh"}, body
    if code is not None:
        assert body["error"]["code"] == code, body
    assert body["error"]["message"] and CJK.search(body["error"]["message_zh"]), body
    assert not any(marker in reply.text for marker in STACK_MARKERS), reply.text[:300]


def a_document() -> dict[str, Any]:
    """A well-formed wrapped document (never anchored: the tests here never reach a verdict)."""
    batch = wrap_batch(
        [sample_business_licence(0), sample_business_licence(1)], "business-license", ISSUER, SAMPLE_VALIDITY
    )
    loaded: dict[str, Any] = json.loads(document_to_bytes(batch.documents[0]))
    return loaded


def with_key(doc_json: bytes, where: bytes, key: bytes, value: bytes) -> bytes:
    """``doc_json`` with ``key: value`` added first in the object that starts at ``where``."""
    start = doc_json.index(where) + len(where)
    return doc_json[:start] + key + b": " + value + b", " + doc_json[start:]


def unclosed_after_brackets(size: int, prefix: bytes = b"") -> bytes:
    """65 ``[``, a ``"`` and ``\\"`` pairs up to ``size`` bytes: a string never closed."""
    head = prefix + b"[" * 65 + b'"'
    return head + b'\\"' * ((size - len(head)) // 2)


def one_char_strings(size: int, prefix: bytes = b"", suffix: bytes = b"") -> bytes:
    count = (size - len(prefix) - len(suffix) - 2) // 4
    return prefix + b"[" + b'"a",' * (count - 1) + b'"a"]' + suffix


def adversarial_bodies() -> dict[str, bytes]:
    doc = a_document()
    raw = json.dumps(doc, ensure_ascii=False).encode()
    qr = b'{"qr": "https://verify.example.gov.cn/q/bafkreiabcdefghijkl#k=' + b"A" * 43 + b'"}'
    surrogate_data = with_key(raw, b'"data": {', b'"\\ud800"', b'"x"')
    surrogate_salts = with_key(raw, b'"salts": {', b'"/\\ud800"', b'"' + b"0" * 32 + b'"')
    digits = b"1" + b"0" * 9_999
    return {
        "unclosed-string-after-deep-brackets-120k": unclosed_after_brackets(120_000),
        "unclosed-string-after-deep-brackets-1mib": unclosed_after_brackets(LIMIT - 100),
        "unclosed-string-in-the-wrapper-1mib": unclosed_after_brackets(LIMIT - 100, b'{"document": '),
        "deep-nesting": b"[" * 100_000 + b"]" * 100_000,
        "deep-nesting-in-the-wrapper": b'{"document": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        "deep-document-data": b'{"document": {"data": ' + b'{"a": ' * 200 + b"1" + b"}" * 200 + b"}}",
        "one-character-strings-1mib": one_char_strings(LIMIT - 100),
        "one-character-strings-in-a-document-1mib": one_char_strings(
            LIMIT - 100, b'{"document": {"data": {"x": ', b"}}}"
        ),
        "duplicate-wrapper-key": b'{"document": {}, "document": ' + raw + b"}",
        "duplicate-key-in-the-wrapped-document": b'{"document": '
        + with_key(raw, b"{", b'"version"', b'"ereg/1"')
        + b"}",
        "duplicate-key-in-the-bare-document": with_key(raw, b"{", b'"version"', b'"ereg/1"'),
        "duplicate-key-deep-in-the-bare-document": with_key(raw, b'"data": {', b'"name"', b'"x"'),
        "duplicate-qr": b'{"qr": "x", "qr": "y"}',
        "lone-surrogate-in-a-data-key": surrogate_data,
        "lone-surrogate-in-a-salts-key": surrogate_salts,
        "lone-surrogate-in-a-wrapped-data-key": b'{"document": ' + surrogate_data + b"}",
        "lone-surrogate-in-a-wrapped-salts-key": b'{"document": ' + surrogate_salts + b"}",
        "lone-surrogate-in-a-qr": b'{"qr": "\\udc00"}',
        "raw-surrogate-bytes": b'{"qr": "\xed\xa0\x80"}',
        "utf-16-with-bom": qr.decode().encode("utf-16"),
        "utf-16-le-without-bom": qr.decode().encode("utf-16-le"),
        "utf-16-wrapped-document": ('{"document": ' + raw.decode() + "}").encode("utf-16"),
        "utf-8-bom": b"\xef\xbb\xbf" + qr,
        "utf-8-bom-bare-document": b"\xef\xbb\xbf" + raw,
        "10000-digit-integer": b'{"qr": ' + digits + b"}",
        "10000-digit-float-in-a-document": with_key(raw, b'"data": {', b'"big"', digits + b".5"),
        "10000-digit-float-in-a-wrapped-document": b'{"document": '
        + with_key(raw, b'"data": {', b'"big"', digits + b".5")
        + b"}",
        "10000-digit-exponent": b'{"qr": 1e' + digits + b"}",
        "nan": b'{"qr": NaN}',
        "infinity-in-a-document": b'{"document": {"data": {"x": Infinity}}}',
    }


ADVERSARIAL = adversarial_bodies()


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
@pytest.mark.parametrize("headers", [JSON, EREG_JSON], ids=["json", "ereg-json"])
def test_adversarial_body_is_refused(client: TestClient, name: str, headers: dict[str, str]) -> None:
    body = ADVERSARIAL[name]
    assert len(body) <= LIMIT, len(body)
    assert_refused(client.post("/v1/verify", content=body, headers=headers), 400)
    # the worker answers the next request at once: nothing of the body was left behind
    assert client.get("/livez").status_code == 200


def test_the_wrapper_and_the_bare_document_agree_on_duplicate_keys(client: TestClient) -> None:
    """Both shapes go through the one parser: a duplicate key is refused in either."""
    raw = json.dumps(a_document(), ensure_ascii=False).encode()
    bare = with_key(raw, b'"salts": {', b'"/name"', b'"' + b"0" * 32 + b'"')
    for body in (bare, b'{"document": ' + bare + b"}", b'{"document": ' + raw + b', "document": ' + raw + b"}"):
        assert_refused(client.post("/v1/verify", content=body, headers=JSON), 400)


def test_document_text_is_checked_by_the_same_parser(client: TestClient) -> None:
    """``{"document": "<JSON text>"}``: the text is a document, not the request; what the parser
    refuses in it is a MALFORMED verdict (like an uploaded file), never a 500."""
    raw = json.dumps(a_document(), ensure_ascii=False).encode()
    texts = {
        "duplicate": with_key(raw, b"{", b'"version"', b'"ereg/1"'),
        "surrogate": with_key(raw, b'"salts": {', b'"/\\ud800"', b'"' + b"0" * 32 + b'"'),
        "big-number": with_key(raw, b'"data": {', b'"big"', b"1" + b"0" * 9_999 + b".5"),
        "unclosed": unclosed_after_brackets(100_000),
    }
    for name, text in texts.items():
        for reply in (
            client.post("/v1/verify", json={"document": text.decode()}),
            client.post("/v1/verify", files={"file": ("doc.ereg.json", text)}),
        ):
            assert reply.status_code == 200, (name, reply.text[:300])
            verdict = reply.json()
            assert verdict["verdict"] == "INVALID", (name, verdict)
            assert [(f["name"], f["code"]) for f in verdict["fragments"]] == [("DOCUMENT_INTEGRITY", "MALFORMED")]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"document": {}, "cid": "bafkreiabcdefghijkl"}, id="cid-without-key"),
        pytest.param({"document": {}, "key": "A" * 43}, id="key-without-cid"),
        pytest.param({"document": {}, "cid": "bafkreiabcdefghijkl", "key": 5}, id="key-a-number"),
        pytest.param({"document": {}, "cid": "bafkreiabcdefghijkl", "key": "A" * 42}, id="key-too-short"),
        pytest.param({"document": {}, "cid": "bafkreiabcdefghijkl", "key": "A" * 42 + "="}, id="key-padded"),
        pytest.param({"document": {}, "cid": "bafkreiabcdefghijkl", "key": "A" * 42 + "B"}, id="key-not-canonical"),
    ],
)
def test_storage_check_needs_the_key(client: TestClient, body: dict[str, Any]) -> None:
    """STORAGE says "the copy at this CID is this document": without the key nothing can say it."""
    assert_refused(client.post("/v1/verify", json=body), 400, "INVALID_REQUEST")


def test_upload_with_cid_needs_the_key(client: TestClient) -> None:
    raw = json.dumps(a_document(), ensure_ascii=False).encode()
    reply = client.post("/v1/verify", files={"file": ("doc.ereg.json", raw)}, data={"cid": "bafkreiabcdefghijkl"})
    assert_refused(reply, 400, "INVALID_REQUEST")


# ------------------------------------------------------------------------ rate limits
def test_rate_limit_per_client_address(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, rate_limit_per_second=0.001, rate_limit_burst=3)
    with TestClient(create_app(settings, follow=False), raise_server_exceptions=False) as limited:
        for _ in range(3):
            assert limited.post("/v1/verify", json={"qr": "x"}).status_code == 200
        refused = limited.post("/v1/verify", json={"qr": "x"})
        assert_refused(refused, 429, "RATE_LIMITED")
        assert int(refused.headers["retry-after"]) >= 1
        assert_refused(limited.get("/v1/types"), 429, "RATE_LIMITED")
        # the operators' probes are never limited
        for path in ("/livez", "/readyz", "/healthz", "/metrics"):
            assert limited.get(path).status_code != 429, path


def test_rate_limit_is_a_setting(tmp_path: Path) -> None:
    assert VerifierSettings(rpc_url="http://127.0.0.1:1", chain_id=1).rate_limit_per_second > 0, "on by default"
    with TestClient(create_app(settings_for(tmp_path), follow=False)) as unlimited:
        for _ in range(50):
            assert unlimited.post("/v1/verify", json={"qr": "x"}).status_code == 200


# --------------------------------------------------------------------- security headers
def test_every_answer_carries_the_security_headers(client: TestClient) -> None:
    for reply in (
        client.post("/v1/verify", json={"qr": "x"}),
        client.post("/v1/verify", content=b"{", headers=JSON),
        client.get("/nope"),
        client.get("/livez"),
        client.get("/static/citizen.css"),
    ):
        assert reply.headers["x-content-type-options"] == "nosniff", reply.headers
        assert "frame-ancestors 'none'" in reply.headers["content-security-policy"], reply.headers
        assert reply.headers["referrer-policy"] == "no-referrer", reply.headers
        assert reply.headers.get("x-request-id"), reply.headers


def test_docs_page_has_no_cdn(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower() and "<script" not in page.text.lower()
