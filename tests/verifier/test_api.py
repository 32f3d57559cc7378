"""The verifier's HTTP surface: request forms, bad input, health, metrics, OpenAPI, the citizen
page, and what reaches the logs.

Bad input gets a 4xx with a stable code and messages in both languages, never a 500 or a stack
trace. A request that is well formed but carries a bad document or QR URL gets 200 with an
INVALID verdict: the request was fine, the document is not.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devstack.process import free_port
from documents import build_qr_url, document_to_bytes, hide_fields, parse_document
from storage import EmbeddedStore, compute_cid
from tests.factories import World
from tests.verification.test_service import CJK, app_client, assert_verdict, fragment, verify
from tests.verifier.conftest import VERIFIER_URL, IssueFn, verifier_settings, wait_for_index
from verifier.app import create_app
from verifier.settings import VerifierSettings

JSON = {"content-type": "application/json"}
STACK_MARKERS = ("Traceback", 'File "', "Error(", ".py")


# ----------------------------------------------------------------------------- helpers
def assert_error(reply: Response, status: int, code: str) -> None:
    """A refused request: the status, the stable code, messages in both languages, no trace."""
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"].startswith("application/json"), reply.headers
    body = reply.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "message_zh"}, error
    assert error["code"] == code, error
    assert error["message"] and CJK.search(error["message_zh"]), error
    assert not any(marker in reply.text for marker in STACK_MARKERS), reply.text


def offline_settings(tmp_path: Path, **overrides: Any) -> VerifierSettings:
    """A verifier whose chain is a closed loopback port: for requests refused before any check."""
    values: dict[str, Any] = {
        "rpc_url": f"http://127.0.0.1:{free_port()}",
        "chain_id": 1337,
        "registry_address": "0x" + "ab" * 20,
        "index_path": tmp_path / "index.sqlite",
        "index_start_block": 0,
        "store_dir": tmp_path / "blocks",
        "request_timeout": 0.5,
        "max_body_bytes": 4096,
    }
    values.update(overrides)
    return VerifierSettings(**values)


@pytest.fixture
def offline(tmp_path: Path) -> Iterator[TestClient]:
    """The verifier app without a chain, its body limit 4 KiB; server errors come back as 500s."""
    with TestClient(create_app(offline_settings(tmp_path), follow=False), raise_server_exceptions=False) as client:
        yield client


# ---------------------------------------------------------------------- request forms
def _forms(doc_raw: bytes, url: str, cid: str) -> dict[str, dict[str, Any]]:
    obj = json.loads(doc_raw)
    key = url.partition("#k=")[2]
    return {
        "bare-document": {"content": doc_raw, "headers": JSON},
        "bare-document-ereg-json": {"content": doc_raw, "headers": {"content-type": "application/ereg+json"}},
        "document-object": {"json": {"document": obj}},
        "document-text-cid-and-key": {"json": {"document": doc_raw.decode(), "cid": cid, "key": key}},
        "document-object-cid-and-key": {"json": {"document": obj, "cid": cid, "key": key}},
        "qr-json": {"json": {"qr": url}},
        "qr-text-plain": {"content": (url + "\n").encode(), "headers": {"content-type": "text/plain; charset=utf-8"}},
        "upload": {"files": {"file": ("licence.ereg.json", doc_raw, "application/json")}},
        "upload-with-cid-and-key": {
            "files": {"file": ("licence.ereg.json", doc_raw)},
            "data": {"cid": cid, "key": key},
        },
    }


#: Request forms that name the CID of the encrypted copy, so that STORAGE is checked too.
NAMES_CID = {
    "document-text-cid-and-key",
    "document-object-cid-and-key",
    "qr-json",
    "qr-text-plain",
    "upload-with-cid-and-key",
}


def test_every_request_form_gives_the_same_verdict(issue: IssueFn, verifier: TestClient) -> None:
    doc = issue(count=2)[0]
    cid = doc.obj()["proof"]["cid"]
    wait_for_index(verifier)
    for form, request in _forms(doc.raw(), doc.url, cid).items():
        reply = verifier.post("/v1/verify", **request)
        assert reply.status_code == 200, (form, reply.text)
        result = reply.json()
        assert_verdict(
            result,
            "VALID",
            DOCUMENT_INTEGRITY=("VALID", "OK"),
            DOCUMENT_STATUS=("VALID", "OK"),
            ISSUER_IDENTITY=("VALID", "OK"),
        )
        names = {f["name"] for f in result["fragments"]}
        if form in NAMES_CID:
            assert_verdict(result, "VALID", STORAGE=("VALID", "OK"))
            assert result["cid"] == cid, form
        else:
            # the document's own proof.cid is covered by no hash: no storage round trip for it
            assert "STORAGE" not in names, form
            assert result["cid"] is None, form
        assert result["document"]["targetHash"] == doc.obj()["proof"]["targetHash"], form


def test_every_document_form_sees_a_tampered_document(issue: IssueFn, verifier: TestClient) -> None:
    doc = issue(count=1)[0]
    obj = doc.obj()
    obj["data"]["address"] = "另一个地址"
    tampered = json.dumps(obj, ensure_ascii=False).encode()
    for form, request in _forms(tampered, doc.url, obj["proof"]["cid"]).items():
        if form.startswith("qr"):
            continue  # the QR points at the stored, untampered copy
        reply = verifier.post("/v1/verify", **request)
        assert reply.status_code == 200, (form, reply.text)
        assert_verdict(reply.json(), "INVALID", DOCUMENT_INTEGRITY=("INVALID", "TAMPERED"))


def test_verdict_is_json_with_camel_case_fields(issue: IssueFn, verifier: TestClient) -> None:
    doc = issue(count=1)[0]
    wait_for_index(verifier)
    reply = verifier.post("/v1/verify", content=doc.raw(), headers=JSON)
    assert reply.headers["content-type"] == "application/json"
    body = reply.json()
    assert {"verdict", "message", "message_zh", "fragments", "chainId", "checkedAt", "cid"} <= set(body)
    assert {"merkleRoot", "anchoredAt", "blockNumber", "transaction", "batchSize"} <= set(body["anchor"])
    assert {"targetHash", "validFrom", "validUntil", "disclosed", "hiddenFields"} <= set(body["document"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["checkedAt"])


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("request_kwargs", "status", "code"),
    [
        pytest.param({"content": b"{not json", "headers": JSON}, 400, "MALFORMED_JSON", id="malformed-json"),
        pytest.param({"content": b"", "headers": JSON}, 400, "MALFORMED_JSON", id="empty-body"),
        pytest.param({"content": b"\xff\xfe{}", "headers": JSON}, 400, "MALFORMED_JSON", id="not-utf8"),
        pytest.param({"content": b'{"qr": 1e999999}', "headers": JSON}, 400, "INVALID_REQUEST", id="qr-infinity"),
        pytest.param({"json": ["a", "b"]}, 400, "INVALID_REQUEST", id="json-array"),
        pytest.param({"json": "https://x/q/b#k=a"}, 400, "INVALID_REQUEST", id="json-string"),
        pytest.param({"content": b"null", "headers": JSON}, 400, "INVALID_REQUEST", id="json-null"),
        pytest.param({"json": {}}, 400, "INVALID_REQUEST", id="empty-object"),
        pytest.param({"json": {"qr": 5}}, 400, "INVALID_REQUEST", id="qr-number"),
        pytest.param({"json": {"qr": None}}, 400, "INVALID_REQUEST", id="qr-null"),
        pytest.param({"json": {"qr": ["x"]}}, 400, "INVALID_REQUEST", id="qr-list"),
        pytest.param({"json": {"qr": "x", "cid": "y"}}, 400, "INVALID_REQUEST", id="qr-with-cid"),
        pytest.param({"json": {"document": 5}}, 400, "INVALID_REQUEST", id="document-number"),
        pytest.param({"json": {"document": None}}, 400, "INVALID_REQUEST", id="document-null"),
        pytest.param({"json": {"document": ["x"]}}, 400, "INVALID_REQUEST", id="document-list"),
        pytest.param({"json": {"document": {}, "cid": 5}}, 400, "INVALID_REQUEST", id="cid-number"),
        pytest.param({"json": {"cid": "bafk"}}, 400, "INVALID_REQUEST", id="cid-alone"),
        pytest.param({"json": {"document": {}, "extra": 1}}, 400, "UNKNOWN_FIELD", id="unknown-field"),
        pytest.param({"json": {"hello": "world"}}, 400, "UNKNOWN_FIELD", id="only-unknown-field"),
        pytest.param(
            {"content": b"<verify/>", "headers": {"content-type": "application/xml"}},
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            id="xml",
        ),
        pytest.param(
            {"content": b"x=1", "headers": {"content-type": "application/x-www-form-urlencoded"}},
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            id="urlencoded-form",
        ),
        pytest.param(
            {"content": b"\xff\xfe", "headers": {"content-type": "text/plain"}}, 400, "MALFORMED_QR", id="text-not-utf8"
        ),
        pytest.param({"files": {"other": ("a.json", b"{}")}}, 400, "MISSING_FILE", id="upload-without-file"),
        pytest.param(
            {"data": {"file": "not a file"}, "files": {"x": ("x", b"")}}, 400, "MISSING_FILE", id="file-as-text"
        ),
        pytest.param(
            {"content": b"--b\r\nbroken", "headers": {"content-type": "multipart/form-data"}},
            400,
            "MALFORMED_UPLOAD",
            id="multipart-without-boundary",
        ),
    ],
)
def test_bad_verify_requests_are_refused(
    offline: TestClient, request_kwargs: dict[str, Any], status: int, code: str
) -> None:
    assert_error(offline.post("/v1/verify", **request_kwargs), status, code)


def test_deeply_nested_json_is_refused_not_fatal(tmp_path: Path) -> None:
    """A few hundred KB of brackets must not exhaust the parser's stack (the process would die)."""
    depth = 100_000
    nested = b"[" * depth + b"]" * depth
    app = create_app(offline_settings(tmp_path, max_body_bytes=1_048_576), follow=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert_error(client.post("/v1/verify", content=nested, headers=JSON), 400, "MALFORMED_JSON")
        wrapped = b'{"document": ' + nested + b"}"
        assert_error(client.post("/v1/verify", content=wrapped, headers=JSON), 400, "MALFORMED_JSON")
        text = json.dumps({"document": nested.decode()}).encode()
        result = client.post("/v1/verify", content=text, headers=JSON)
        assert result.status_code == 200, result.text
        assert_verdict(result.json(), "INVALID", DOCUMENT_INTEGRITY=("INVALID", "MALFORMED"))
        upload = client.post("/v1/verify", files={"file": ("deep.json", nested)})
        assert upload.status_code == 200, upload.text
        assert_verdict(upload.json(), "INVALID", DOCUMENT_INTEGRITY=("INVALID", "MALFORMED"))
        # still serving
        assert client.get("/v1/types").status_code == 200


def test_body_over_the_limit(offline: TestClient) -> None:
    big = b'{"qr": "' + b"a" * 8000 + b'"}'
    assert_error(offline.post("/v1/verify", content=big, headers=JSON), 413, "PAYLOAD_TOO_LARGE")

    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer
        yield b'{"qr": "'
        for _ in range(20):
            yield b"a" * 500
        yield b'"}'

    assert_error(offline.post("/v1/verify", content=chunks(), headers=JSON), 413, "PAYLOAD_TOO_LARGE")
    text = b"https://verify.example.gov.cn/q/" + b"b" * 5000
    assert_error(
        offline.post("/v1/verify", content=text, headers={"content-type": "text/plain"}), 413, "PAYLOAD_TOO_LARGE"
    )
    assert_error(
        offline.post("/v1/verify", files={"file": ("big.json", b"{" + b" " * 8000 + b"}")}), 413, "PAYLOAD_TOO_LARGE"
    )
    boundary = "ereg-test-boundary"

    def upload_chunks() -> Iterator[bytes]:  # a multipart upload without Content-Length
        yield f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.json"\r\n\r\n'.encode()
        for _ in range(40):
            yield b" " * 500
        yield f"\r\n--{boundary}--\r\n".encode()

    multipart = {"content-type": f"multipart/form-data; boundary={boundary}"}
    assert_error(offline.post("/v1/verify", content=upload_chunks(), headers=multipart), 413, "PAYLOAD_TOO_LARGE")
    # just under the limit is read (and found malformed as a document, which is a verdict)
    small = json.dumps({"document": "x" * 4000}).encode()
    assert len(small) <= 4096
    reply = offline.post("/v1/verify", content=small, headers=JSON)
    assert reply.status_code == 200
    assert_verdict(reply.json(), "INVALID", DOCUMENT_INTEGRITY=("INVALID", "MALFORMED"))


@pytest.mark.parametrize(
    ("url", "detail"),
    [
        pytest.param("https://verify.example.gov.cn/q/bafkreiabc", "MISSING_KEY", id="no-fragment"),
        pytest.param("https://verify.example.gov.cn/q/bafkreiabcdefghijkl#x=abc", "MISSING_KEY", id="not-k"),
        pytest.param("https://verify.example.gov.cn/q/bafkreiabcdefghijkl#k=" + "A" * 20, "BAD_KEY", id="short-key"),
        pytest.param(
            "https://verify.example.gov.cn/q/bafkreiabcdefghijkl#k=" + "A" * 42 + "=", "BAD_KEY", id="bad-base64"
        ),
        pytest.param(
            "https://verify.example.gov.cn/q/bafkreiabcdefghijkl#k=" + "A" * 42 + "B", "BAD_KEY", id="non-canonical-key"
        ),
        pytest.param(
            "http://verify.example.gov.cn/q/bafkreiabcdefghijkl#k=" + "A" * 43, "BAD_SCHEME", id="http-public"
        ),
        pytest.param("ftp://verify.example.gov.cn/q/bafkreiabcdefghijkl#k=" + "A" * 43, "BAD_SCHEME", id="ftp"),
        pytest.param("https://verify.example.gov.cn/doc/bafkreiabcdefghijkl#k=" + "A" * 43, "BAD_URL", id="wrong-path"),
        pytest.param("https://verify.example.gov.cn/q/bafkreiabcdefghijkl?x=1#k=" + "A" * 43, "BAD_URL", id="query"),
        pytest.param("https://verify.example.gov.cn/q/QmNotBase32#k=" + "A" * 43, "BAD_CID", id="cid-v0"),
        pytest.param("", "MISSING_KEY", id="empty"),
        pytest.param("证照", "MISSING_KEY", id="unicode"),
    ],
)
def test_bad_qr_url_is_an_invalid_verdict(offline: TestClient, url: str, detail: str) -> None:
    """A well-formed request with a bad QR URL: 200, INVALID, MALFORMED, the reason in details."""
    for reply in (
        offline.post("/v1/verify", json={"qr": url}),
        offline.post("/v1/verify", content=url.encode(), headers={"content-type": "text/plain; charset=utf-8"}),
    ):
        assert reply.status_code == 200, reply.text
        result = reply.json()
        assert_verdict(result, "INVALID", DOCUMENT_INTEGRITY=("INVALID", "MALFORMED"))
        assert fragment(result, "DOCUMENT_INTEGRITY")["details"] == {"detail": detail}
        assert [f["name"] for f in result["fragments"]] == ["DOCUMENT_INTEGRITY"]


def test_documents_endpoint(offline: TestClient, tmp_path: Path) -> None:
    blob = b"\x01" * 64
    cid = EmbeddedStore(tmp_path / "blocks").put(blob)
    reply = offline.get(f"/v1/documents/{cid}")
    assert reply.status_code == 200
    assert reply.content == blob
    assert reply.headers["content-type"] == "application/octet-stream"
    assert reply.headers["etag"] == f'"{cid}"'
    assert_error(offline.get(f"/v1/documents/{compute_cid(b'never stored')}"), 404, "NOT_FOUND")
    for bad in ("junk", "b" + "a" * 5000, "证照", "%00", "bafy%20x", "<script>", "bafk'--"):
        assert_error(offline.get(f"/v1/documents/{bad}"), 400, "INVALID_CID")
    # a CIDv0 is a CID (normalized to v1): unknown, not invalid
    assert_error(offline.get("/v1/documents/QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"), 404, "NOT_FOUND")
    # a tampered blob is never served
    path = EmbeddedStore(tmp_path / "blocks").path_of(cid)
    path.write_bytes(b"\x02" * 64)
    assert_error(offline.get(f"/v1/documents/{cid}"), 502, "CID_MISMATCH")


def test_types_endpoints(offline: TestClient) -> None:
    types = offline.get("/v1/types").json()["types"]
    assert {"business-license", "food-business-license", "property-certificate"} <= set(types)
    schema = offline.get("/v1/types/business-license")
    assert schema.status_code == 200
    assert "properties" in schema.json()
    for bad in ("unknown", "Business-License", "证照", "%00", "business-license%20"):
        assert_error(offline.get(f"/v1/types/{bad}"), 404, "UNKNOWN_TYPE")


def test_unknown_routes_and_methods(offline: TestClient) -> None:
    assert_error(offline.get("/nope"), 404, "NOT_FOUND")
    assert_error(offline.get("/v1/verify/extra"), 404, "NOT_FOUND")
    assert_error(offline.get("/v1/verify"), 405, "METHOD_NOT_ALLOWED")
    assert_error(offline.put("/v1/verify", json={}), 405, "METHOD_NOT_ALLOWED")
    assert_error(offline.delete("/v1/documents/bafk"), 405, "METHOD_NOT_ALLOWED")
    assert_error(offline.post("/healthz"), 405, "METHOD_NOT_ALLOWED")


_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
_JSON = st.recursive(
    _SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
_KEYS = st.sampled_from(["version", "document", "cid", "qr", "type", "data", "salts", "proof", "issuer", "privacy"])
_BODIES = (
    _JSON
    | st.dictionaries(_KEYS, _JSON, max_size=6)
    | st.fixed_dictionaries({"document": st.dictionaries(_KEYS, _JSON, max_size=8)}, optional={"cid": _JSON})
)


def test_random_json_bodies_never_fail_the_server(tmp_path: Path) -> None:
    with TestClient(create_app(offline_settings(tmp_path), follow=False), raise_server_exceptions=False) as client:

        @settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
        @given(body=_BODIES)
        def check(body: Any) -> None:
            reply = client.post("/v1/verify", content=json.dumps(body).encode(), headers=JSON)
            assert reply.status_code < 500, (body, reply.text)
            if reply.status_code == 200:
                assert reply.json()["verdict"] in ("INVALID", "ERROR"), (body, reply.text)
            else:
                assert set(reply.json()["error"]) == {"code", "message", "message_zh"}, reply.text

        check()


# ---------------------------------------------------------------- health, metrics, OpenAPI
def test_healthz_reports_index_and_chain(world: World, issue: IssueFn, verifier: TestClient) -> None:
    issue(count=1)
    wait_for_index(verifier)
    head = world.client.block_number()
    reply = verifier.get("/healthz")
    for _ in range(100):  # the prober's view of the head is at most a round old
        if reply.json()["chain"].get("head") == head:
            break
        time.sleep(0.05)
        reply = verifier.get("/healthz")
    assert reply.status_code == 200
    body = reply.json()
    assert body["status"] == "ok" and body["ready"] is True
    assert body["chainId"] == world.chain_id
    assert body["registry"].lower() == world.registry.address.lower()
    assert body["chain"] == {"reachable": True, "head": head}
    assert body["index"]["block"] == head
    assert body["index"]["lagBlocks"] == 0
    assert body["index"]["fresh"] is True
    assert 0 <= body["index"]["syncedSecondsAgo"] < 5
    checks = body["checks"]
    assert set(checks) == {"chain", "chainId", "registry", "index", "ipfs"}
    for name, check in checks.items():
        assert check["state"] == "ok", (name, check)
        assert check["required"] is (name != "ipfs"), (name, check)
    assert 0 <= checks["chain"]["ageSeconds"] < 5
    ready = verifier.get("/readyz")
    assert ready.status_code == 200 and ready.json()["ready"] is True
    assert verifier.get("/livez").json() == {"status": "alive"}


def test_healthz_degraded_without_chain(offline: TestClient) -> None:
    for path in ("/healthz", "/readyz"):
        reply = offline.get(path)
        assert reply.status_code == 503
        body = reply.json()
        assert body["status"] == "unavailable" and body["ready"] is False
        assert body["checks"]["index"]["state"] == "unknown"
    body = offline.get("/healthz").json()
    assert body["chain"] == {"reachable": False}
    assert body["index"]["syncedSecondsAgo"] is None
    assert offline.get("/livez").status_code == 200, "alive all the same"


def _counter(text: str, verdict: str) -> float:
    match = re.search(rf'^ereg_verifications_total{{verdict="{verdict}"}} (\S+)$', text, re.M)
    return float(match.group(1)) if match else 0.0


def test_metrics_count_verifications_by_verdict(issue: IssueFn, verifier: TestClient) -> None:
    docs = issue(count=2)
    wait_for_index(verifier)
    tampered = docs[1].obj()
    tampered["data"]["name"] = "x"
    for body in (docs[0].raw(), docs[1].raw(), json.dumps(tampered).encode()):
        verifier.post("/v1/verify", content=body, headers=JSON)
    verifier.post("/v1/verify", json={"qr": docs[0].url})
    verifier.post("/v1/verify", content=b"[]", headers=JSON)  # refused: not a verification
    reply = verifier.get("/metrics")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/plain")
    assert _counter(reply.text, "VALID") == 3.0
    assert _counter(reply.text, "INVALID") == 1.0
    assert _counter(reply.text, "ERROR") == 0.0
    assert re.search(r"^ereg_verify_seconds_count 4\.0$", reply.text, re.M)
    assert re.search(r"^ereg_index_block \d+\.0$", reply.text, re.M)


def test_openapi_lists_the_endpoints(offline: TestClient) -> None:
    spec = offline.get("/openapi.json").json()
    paths = spec["paths"]
    assert {
        "/v1/verify",
        "/v1/documents/{cid}",
        "/v1/types",
        "/v1/types/{doc_type}",
        "/q/{cid}",
        "/healthz",
        "/livez",
        "/readyz",
        "/metrics",
    } <= set(paths)
    verify_op = paths["/v1/verify"]["post"]
    assert {"application/json", "multipart/form-data", "text/plain"} <= set(verify_op["requestBody"]["content"])
    assert {"200", "400", "413", "415"} <= set(verify_op["responses"])


# ------------------------------------------------------- privacy of the key, citizen page
def test_qr_key_never_reaches_a_log(
    world: World, issue: IssueFn, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    docs = issue(count=2)
    keys = [d.url.split("#k=")[1] for d in docs]
    other_key = build_qr_url(VERIFIER_URL, docs[0].obj()["proof"]["cid"], b"\x07" * 32).split("#k=")[1]
    keys.append(other_key)
    with app_client(verifier_settings(world, tmp_path)) as client:
        wait_for_index(client)
        assert verify(client, {"qr": docs[0].url})["verdict"] == "VALID"
        client.post("/v1/verify", content=docs[1].url.encode(), headers={"content-type": "text/plain"})
        client.post("/v1/verify", json={"qr": docs[0].url.replace("#k=" + keys[0], "#k=" + other_key)})
        client.post("/v1/verify", json={"qr": docs[0].url.replace("http://127.0.0.1:8000", "http://example.org")})
        client.post("/v1/verify", json={"qr": docs[0].url, "cid": "x"})
        client.get(docs[0].url.replace(VERIFIER_URL, ""))
    down = verifier_settings(
        world,
        tmp_path / "down",
        rpc_url=f"http://127.0.0.1:{free_port()}",
        request_timeout=0.3,
        ipfs_api=f"/ip4/127.0.0.1/tcp/{free_port()}/http",
        ipfs_timeout=0.5,
    )
    (tmp_path / "down").mkdir()
    with app_client(down) as client:
        assert verify(client, {"qr": docs[1].url})["verdict"] == "ERROR"
    assert caplog.records, "logging was captured"
    for record in caplog.records:
        text = " ".join(str(part) for part in (record.getMessage(), record.exc_text or "", record.args or ""))
        for key in keys:
            assert key not in text, f"key in log record {record.name}: {text}"


def test_citizen_page_is_static_with_csp(offline: TestClient) -> None:
    cid = compute_cid(b"some ciphertext")
    reply = offline.get(f"/q/{cid}")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/html")
    csp = reply.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert reply.headers["referrer-policy"] == "no-referrer"
    assert cid not in reply.text
    page = reply.text
    for probe in ("<script>alert(1)</script>", "%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E", '"><svg onload=alert(1)>'):
        reply = offline.get(f"/q/{probe}")
        assert reply.status_code in (200, 404), reply.text
        assert "alert(1)" not in reply.text and "onerror" not in reply.text and "<svg" not in reply.text
        if reply.status_code == 200:
            assert reply.text == page
            assert "content-security-policy" in reply.headers
        else:
            assert_error(reply, 404, "NOT_FOUND")


def test_disclosed_upload_is_valid(issue: IssueFn, verifier: TestClient) -> None:
    doc = parse_document(issue(count=1)[0].raw())
    disclosed = document_to_bytes(hide_fields(doc, ["/phone"]))
    wait_for_index(verifier)
    reply = verifier.post("/v1/verify", files={"file": ("disclosed.ereg.json", disclosed)})
    assert reply.status_code == 200
    result = reply.json()
    assert_verdict(result, "VALID", DOCUMENT_INTEGRITY=("VALID", "OK"))
    assert "/phone" not in result["document"]["disclosed"]
    assert result["document"]["hiddenFields"] == 1
