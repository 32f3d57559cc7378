"""The ``ereg/1-sm`` suite end to end on a real node: issue (SM3, SM4-GCM, SM2-signed root),
anchor, verify VALID; tampered INVALID; one document revoked with its SM3 proof checked on chain;
the citizen page in Chromium decrypting SM4 and checking SM3 on the phone; and every code of the
SM2 check (docs/FORMAT.md §14) reached with a real signature against the chain's key registry."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import BrowserContext

from chain.types import Action, StatusChange, type_id
from documents import build_qr_url, document_to_bytes, document_to_dict, parse_document, seal, wrap_batch
from documents.samples import sample_business_licence
from documents.sm2 import Sm2PrivateKey
from documents.suite import SUITE_SM
from storage import DocumentStore
from tests.factories import BUSINESS_LICENSE, SAMR, TAX, World
from tests.verification.test_service import assert_verdict, fragment
from tests.verifier.conftest import IssueFn, wait_for_index
from tests.verifier.test_browser import (  # noqa: F401 - fixtures, used by name
    LiveVerifier,
    browser,
    checks,
    live,
    open_page,
    scan,
    text,
    verdict_of,
)

pytestmark = [pytest.mark.chain, pytest.mark.parametrize("node", ["dev"], indirect=True)]
JSON = {"content-type": "application/json"}


def register_sm2(world: World, department: bytes, key: Sm2PrivateKey, valid_from: int, valid_until: int = 0) -> None:
    pub = key.public_key.to_bytes()
    world.registry.add_sm2_key(world.governance, department, pub[:32], pub[32:], valid_from, valid_until)


@pytest.fixture
def sm2_key(world: World) -> Iterator[Sm2PrivateKey]:
    key = Sm2PrivateKey.generate()
    register_sm2(world, SAMR, key, world.now() - 3600)
    yield key


def verify(client: TestClient | httpx.Client, doc: dict[str, Any] | bytes) -> dict[str, Any]:
    body = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    response = client.post("/v1/verify", content=body, headers=JSON)
    assert response.status_code == 200, response.text
    return dict(response.json())


def revoke(world: World, doc: dict[str, Any]) -> None:
    proof = doc["proof"]
    world.registry.change_status(
        world.sender(world.samr_key),
        StatusChange(
            Action.REVOKE,
            bytes.fromhex(proof["merkleRoot"][2:]),
            bytes.fromhex(proof["targetHash"][2:]),
            [bytes.fromhex(p[2:]) for p in proof["proof"]],
            reason=1,
        ),
    )


@pytest.mark.browser
def test_sm_documents_end_to_end(
    world: World,
    sm2_key: Sm2PrivateKey,
    issue: IssueFn,
    browser: BrowserContext,  # noqa: F811 - the fixture of test_browser
    live: LiveVerifier,  # noqa: F811 - the fixture of test_browser
) -> None:
    issued = issue(count=3, suite=SUITE_SM, sm2_key=sm2_key, verifier_url=live.base_url)
    live.wait_for_index()
    docs = [d.obj() for d in issued]
    assert {d["version"] for d in docs} == {"ereg/1-sm"}
    assert {d["proof"]["signature"]["key"] for d in docs} == {sm2_key.public_key.hex()}
    url = scan(issued[0], live)
    assert len(url.split("#k=")[1]) == 22  # a 16-byte SM4 key

    with httpx.Client(base_url=live.base_url, timeout=10.0) as client:
        verdict = verify(client, issued[0].raw())
        assert_verdict(
            verdict, "VALID", DOCUMENT_INTEGRITY=("VALID", "OK"), DOCUMENT_STATUS=("VALID", "OK"),
            ISSUER_IDENTITY=("VALID", "OK"),
        )
        assert fragment(verdict, "ISSUER_IDENTITY")["details"]["sm2Key"] == sm2_key.public_key.hex()
        tampered = json.loads(json.dumps(docs[1]))
        tampered["data"]["name"] = "另一家公司"
        assert_verdict(verify(client, tampered), "INVALID", DOCUMENT_INTEGRITY=("INVALID", "TAMPERED"))
        qr = client.post("/v1/verify", json={"qr": url})
        assert qr.status_code == 200 and qr.json()["verdict"] == "VALID", qr.text

    page = open_page(browser, live, url)
    try:
        assert verdict_of(page) == ("VALID", "result valid")
        assert checks(page) == {
            "DOCUMENT_INTEGRITY": "OK",
            "DOCUMENT_STATUS": "OK",
            "ISSUER_IDENTITY": "OK",
            "STORAGE": "OK",
        }
        assert docs[0]["data"]["name"] in text(page, "#fields")
    finally:
        page.close()
    status_posts = [r for r in live.requests if r["url"].endswith("/v1/status")]
    assert status_posts, live.requests
    sent = json.loads(status_posts[-1]["body"])
    assert sent["version"] == "ereg/1-sm" and sent["signature"] == docs[0]["proof"]["signature"]
    assert docs[0]["data"]["name"] not in status_posts[-1]["body"]  # no field value leaves the phone

    # one document of the batch revoked: the chain checks its SM3 proof (Sm3Merkle)
    revoke(world, docs[0])
    live.wait_for_index()
    with httpx.Client(base_url=live.base_url, timeout=10.0) as client:
        assert_verdict(verify(client, issued[0].raw()), "INVALID", DOCUMENT_STATUS=("INVALID", "REVOKED"))
        assert verify(client, issued[2].raw())["verdict"] == "VALID"  # its batch-mates are untouched
    page = open_page(browser, live, url)
    try:
        assert verdict_of(page) == ("INVALID", "result invalid")
        assert checks(page)["DOCUMENT_STATUS"] == "REVOKED"
    finally:
        page.close()
    live.assert_never_saw(url.split("#k=")[1])


def wrapped_sm(world: World, key: Sm2PrivateKey, *, department: bytes = SAMR, anchor: bool = True) -> dict[str, Any]:
    issuer = {"department": "0x" + department.hex(), "chainId": world.chain_id, "registry": world.registry.address}
    validity = {"validFrom": "2026-01-01T00:00:00Z", "validUntil": None}
    batch = wrap_batch(
        [sample_business_licence(i) for i in range(2)], BUSINESS_LICENSE, issuer, validity, suite=SUITE_SM, sm2_key=key
    )
    if anchor:
        world.registry.anchor(world.sender(world.samr_key), batch.root, type_id(BUSINESS_LICENSE), 2)
    return document_to_dict(batch.documents[0])


def test_every_sm2_code_against_the_chain(world: World, verifier: TestClient, sm2_key: Sm2PrivateKey) -> None:
    # the key of no department
    stranger = Sm2PrivateKey.generate()
    doc = wrapped_sm(world, stranger)
    wait_for_index(verifier)
    assert_verdict(verify(verifier, doc), "INVALID", ISSUER_IDENTITY=("INVALID", "SM2_KEY_UNKNOWN"))
    # another department's key
    other = Sm2PrivateKey.generate()
    register_sm2(world, TAX, other, world.now() - 60)
    verdict = verify(verifier, wrapped_sm(world, other))
    assert_verdict(verdict, "INVALID", ISSUER_IDENTITY=("INVALID", "SM2_KEY_UNKNOWN"))
    # a key whose window starts after the anchor
    later = Sm2PrivateKey.generate()
    register_sm2(world, SAMR, later, world.now() + 86_400)
    doc = wrapped_sm(world, later)
    wait_for_index(verifier)
    assert_verdict(verify(verifier, doc), "INVALID", ISSUER_IDENTITY=("INVALID", "SM2_KEY_NOT_VALID_AT_ISSUANCE"))
    # the registered key, but a signature of something else (another root)
    good = wrapped_sm(world, sm2_key)
    assert verify(verifier, good)["verdict"] == "VALID"
    forged = json.loads(json.dumps(good))
    forged["proof"]["signature"]["value"] = wrapped_sm(world, sm2_key, anchor=False)["proof"]["signature"]["value"]
    assert_verdict(verify(verifier, forged), "INVALID", ISSUER_IDENTITY=("INVALID", "SM2_SIGNATURE_INVALID"))
    # the status half alone (as the citizen page asks it): signature given, missing, or not a curve point
    query = {
        "type": good["type"], "issuer": good["issuer"], "validity": good["validity"],
        "merkleRoot": good["proof"]["merkleRoot"], "targetHash": good["proof"]["targetHash"],
        "version": "ereg/1-sm", "signature": good["proof"]["signature"],
    }
    response = verifier.post("/v1/status", json=query)
    assert response.status_code == 200 and fragment(response.json(), "ISSUER_IDENTITY")["code"] == "OK", response.text
    del query["signature"]
    response = verifier.post("/v1/status", json=query)
    assert fragment(response.json(), "ISSUER_IDENTITY")["code"] == "SM2_SIGNATURE_MISSING"
    query["signature"] = {**good["proof"]["signature"], "key": "0x" + "01" * 64}
    response = verifier.post("/v1/status", json=query)
    assert fragment(response.json(), "ISSUER_IDENTITY")["code"] == "SM2_KEY_UNKNOWN"


def test_suite_and_envelope_must_agree(
    world: World, verifier: TestClient, sm2_key: Sm2PrivateKey, store: DocumentStore
) -> None:
    """An ereg/1-sm document sealed in an AES envelope is refused as MALFORMED, never verified."""
    doc = parse_document(json.dumps(wrapped_sm(world, sm2_key)))
    key, blob = seal(document_to_bytes(doc))  # AES-256-GCM: the wrong envelope for this suite
    cid = store.put(blob)
    url = build_qr_url("http://127.0.0.1:1", cid, key)
    verdict = verifier.post("/v1/verify", json={"qr": url}).json()
    got = fragment(verdict, "DOCUMENT_INTEGRITY")
    assert (got["status"], got["code"], got["details"]["pointer"]) == ("INVALID", "MALFORMED", "/version"), verdict

