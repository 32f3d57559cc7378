"""POST /v1/status: the chain half of a verification, asked without any field value.

The answer must be exactly the chain fragments ``POST /v1/verify`` gives for the same document
(codes, messages, details), so the citizen page, which checks integrity in the browser, shows the
verdict a window would. For property certificates that is the verdict of the document with its
unit number hidden: the unit is a field value, so the page compares it itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from chain.types import REASONS, Action
from documents import document_to_bytes, hide_fields, parse_document
from tests.factories import World
from tests.property_setup import UNIT_NUMBER, Setup, unit_of
from tests.verification.test_service import assert_verdict, change, fragment, verify, verify_until
from tests.verifier.conftest import IssueFn, wait_for_index
from tests.verifier.test_api import assert_error, offline_settings
from tests.verifier.test_property import certificate_of, client, hx, issue_certificate, register, s  # noqa: F401
from verification.verdict import FRAGMENT_MESSAGES, MESSAGES, VERDICT_MESSAGES
from verifier.app import create_app

#: The members of a document the status query carries, and nothing else.
QUERY_MEMBERS = ("type", "issuer", "validity")


def query_of(doc: Mapping[str, Any]) -> dict[str, Any]:
    """What the citizen page sends for a document: its metadata and hashes."""
    query = {name: doc[name] for name in QUERY_MEMBERS}
    query["merkleRoot"] = doc["proof"]["merkleRoot"]
    query["targetHash"] = doc["proof"]["targetHash"]
    return query


def status(app: TestClient, query: Mapping[str, Any]) -> dict[str, Any]:
    reply = app.post("/v1/status", json=dict(query))
    assert reply.status_code == 200, reply.text
    result: dict[str, Any] = reply.json()
    return result


def chain_half(verdict: Mapping[str, Any]) -> dict[str, Any]:
    """What /v1/status answers of a /v1/verify verdict: all but integrity, storage and the content."""
    fragments = [f for f in verdict["fragments"] if f["name"] not in ("DOCUMENT_INTEGRITY", "STORAGE")]
    return {"fragments": fragments, **{k: verdict[k] for k in ("issuer", "anchor", "status", "chainId")}}


def assert_same_as_verify(answer: Mapping[str, Any], verdict: Mapping[str, Any]) -> None:
    assert chain_half(answer) == chain_half(verdict)
    assert answer["document"] is None and answer["cid"] is None, answer


@pytest.fixture
def offline(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(offline_settings(tmp_path), follow=False), raise_server_exceptions=False) as app:
        yield app


@pytest.mark.chain
def test_status_is_the_chain_half_of_verify(world: World, issue: IssueFn, verifier: TestClient) -> None:
    docs = issue(count=2)
    wait_for_index(verifier)
    doc = docs[0].obj()
    answer = status(verifier, query_of(doc))
    assert_verdict(answer, "VALID", DOCUMENT_STATUS=("VALID", "OK"), ISSUER_IDENTITY=("VALID", "OK"))
    assert_same_as_verify(answer, verify(verifier, docs[0].raw()))
    assert answer["issuer"]["name"] and answer["anchor"]["batchSize"] == 2

    change(world, Action.REVOKE, doc, reason=2)
    verdict = verify_until(verifier, docs[0].raw(), lambda v: v["verdict"] != "VALID")
    answer = status(verifier, query_of(doc))
    assert_verdict(answer, "INVALID", DOCUMENT_STATUS=("INVALID", "REVOKED"))
    assert fragment(answer, "DOCUMENT_STATUS")["details"]["reason"] == 2
    assert_same_as_verify(answer, verdict)
    # the other document of the batch is untouched
    assert status(verifier, query_of(docs[1].obj()))["verdict"] == "VALID"


@pytest.mark.chain
def test_status_of_claims_the_chain_does_not_back(world: World, issue: IssueFn, verifier: TestClient) -> None:
    doc = issue(count=1)[0].obj()
    wait_for_index(verifier)
    # (that the target hash is a leaf of the root is the caller's integrity check: PROOF_MISMATCH)
    unanchored = {**query_of(doc), "merkleRoot": "0x" + "ab" * 32, "targetHash": "0x" + "ab" * 32}
    assert_verdict(status(verifier, unanchored), "INVALID", DOCUMENT_STATUS=("INVALID", "NOT_ANCHORED"))
    other_type = {**query_of(doc), "type": "food-business-license"}
    assert_verdict(status(verifier, other_type), "INVALID", ISSUER_IDENTITY=("INVALID", "NOT_AUTHORIZED_FOR_TYPE"))
    foreign = {**query_of(doc), "issuer": {**doc["issuer"], "chainId": doc["issuer"]["chainId"] + 1}}
    assert_verdict(status(verifier, foreign), "ERROR", DOCUMENT_STATUS=("ERROR", "WRONG_CHAIN"))
    expired = {**query_of(doc), "validity": {"validFrom": "2020-01-01T00:00:00Z", "validUntil": "2021-01-01T00:00:00Z"}}
    assert_verdict(status(verifier, expired), "INVALID", DOCUMENT_STATUS=("INVALID", "EXPIRED"))


@pytest.mark.chain
def test_property_status_without_the_unit_number(world: World, s: Setup, issue: IssueFn, client: TestClient) -> None:  # noqa: F811
    """The registered title: the chain's unit in the details, for the page to compare with the
    unit number it holds; exactly the verdict of the certificate with the number hidden."""
    cert = issue_certificate(issue, world)
    unit, _ = register(s, certificate_of(cert))
    wait_for_index(client)
    answer = status(client, query_of(cert.obj()))
    assert_verdict(answer, "VALID", PROPERTY_STATUS=("VALID", "CURRENT"))
    assert fragment(answer, "PROPERTY_STATUS")["details"]["unit"] == hx(unit) == hx(unit_of(UNIT_NUMBER))
    hidden = document_to_bytes(hide_fields(parse_document(cert.raw()), ["/unitNumber"]))
    assert_same_as_verify(answer, verify(client, hidden))
    # with the number disclosed /v1/verify agrees too: the same unit, nothing else differs
    assert_same_as_verify(answer, verify(client, cert.raw()))


@pytest.mark.parametrize(
    ("change_query", "pointer"),
    [
        (lambda q: q.update(data={"name": "张三"}), "/data"),  # a field value is no member of a query
        (lambda q: q.update(salts={}), "/salts"),
        (lambda q: q.pop("merkleRoot"), "/merkleRoot"),
        (lambda q: q.update(targetHash="0x1234"), "/targetHash"),
        (lambda q: q.update(targetHash="0x" + "AB" * 32), "/targetHash"),
        (lambda q: q.update(type="Business License"), "/type"),
        (lambda q: q["issuer"].update(chainId="1337"), "/issuer/chainId"),
        (lambda q: q["issuer"].update(registry=q["issuer"]["registry"].lower()), "/issuer/registry"),
        (lambda q: q["validity"].update(validUntil="2000-01-01T00:00:00Z"), "/validity"),
        (lambda q: q["validity"].update(validFrom="2026-02-30T00:00:00Z"), "/validity/validFrom"),
    ],
)
def test_bad_queries_are_refused(offline: TestClient, change_query: Any, pointer: str) -> None:
    query = json.loads(json.dumps(SAMPLE_QUERY))
    change_query(query)
    reply = offline.post("/v1/status", json=query)
    assert_error(reply, 400, "INVALID_REQUEST")
    assert reply.json()["error"]["message"].startswith(pointer), reply.text
    assert "张三" not in reply.text  # a refused value is not echoed


@pytest.mark.parametrize("body", [b"[]", b'"x"', b"null", b"", b"{", b'{"type": "a", "type": "b"}'])
def test_bodies_that_are_no_query_are_refused(offline: TestClient, body: bytes) -> None:
    reply = offline.post("/v1/status", content=body, headers={"content-type": "application/json"})
    assert 400 <= reply.status_code < 500, reply.text


def test_status_is_in_the_api_document(offline: TestClient) -> None:
    operation = offline.get("/openapi.json").json()["paths"]["/v1/status"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"type", "issuer", "validity", "merkleRoot", "targetHash"}


SAMPLE_QUERY: dict[str, Any] = {
    "type": "business-license",
    "issuer": {
        "department": "0x" + "11" * 32,
        "chainId": 1337,
        "registry": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    },
    "validity": {"validFrom": "2026-01-01T00:00:00Z", "validUntil": None},
    "merkleRoot": "0x" + "22" * 32,
    "targetHash": "0x" + "33" * 32,
}


def test_a_well_formed_query_reaches_the_chain_check(offline: TestClient) -> None:
    """The sample query is well formed: against the offline verifier it is a verdict, not a 400."""
    reply = offline.post("/v1/status", json=SAMPLE_QUERY)
    assert reply.status_code == 200, reply.text
    assert reply.json()["verdict"] == "ERROR"


def test_messages_word_every_code_as_verify_does(offline: TestClient) -> None:
    """GET /v1/messages: the words of every verdict, code, fragment code and status reason, taken
    from the tables the verdicts are built with (the page builds its own fragments with them)."""
    reply = offline.get("/v1/messages")
    assert reply.status_code == 200, reply.text
    assert "max-age" in reply.headers["cache-control"]
    table = reply.json()
    pair = lambda words: {"message": words[0], "message_zh": words[1]}  # noqa: E731
    assert table["verdicts"] == {status.value: pair(words) for status, words in VERDICT_MESSAGES.items()}
    assert table["codes"] == {code: pair(words) for code, words in MESSAGES.items()}
    for (name, code), words in FRAGMENT_MESSAGES.items():
        assert table["fragmentCodes"][name.value][code] == pair(words)
    assert table["reasons"] == {str(code): pair(words) for code, words in REASONS.items()}
    assert table["reasons"]["1"] == {"message": "issued in error", "message_zh": "错误签发"}
    # every code the page adds itself is there
    for code in ("OK", "TAMPERED", "MALFORMED", "PROOF_MISMATCH", "NOTHING_DISCLOSED", "UNIT_MISMATCH",
                 "IPFS_BAD_CONTENT", "UNDECRYPTABLE", "SKIPPED"):
        assert code in table["codes"] or any(code in codes for codes in table["fragmentCodes"].values()), code
