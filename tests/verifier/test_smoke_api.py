from __future__ import annotations

from fastapi.testclient import TestClient

from tests.factories import World
from tests.verifier.conftest import IssueFn, wait_for_index


def test_valid_document_and_qr(world: World, issue: IssueFn, verifier: TestClient) -> None:
    docs = issue(count=2)
    wait_for_index(verifier)
    reply = verifier.post("/v1/verify", content=docs[0].raw(), headers={"content-type": "application/json"})
    assert reply.status_code == 200
    body = reply.json()
    assert body["verdict"] == "VALID", body
    assert body["issuer"]["name"] == "六安市市场监督管理局"
    qr = verifier.post("/v1/verify", json={"qr": docs[1].url}).json()
    assert qr["verdict"] == "VALID", qr
    assert {f["name"] for f in qr["fragments"]} >= {
        "DOCUMENT_INTEGRITY",
        "DOCUMENT_STATUS",
        "ISSUER_IDENTITY",
        "STORAGE",
    }
