"""The verification table (verification.service) against a real node, in both chain modes.

Every fragment code of the verification table is reached with a real document: issued by the
real issuance engine, or wrapped by hand and anchored so that exactly one fact is off. The
verdicts are asked as the verifier service asks them (POST /v1/verify: its runtime wires the
index, the gateway and the store exactly as deployed) and follow the chain through that index;
when the index cannot answer, the chain is asked directly; when neither the chain nor the store
can be reached the verdict is ERROR, never INVALID. The library alone, without any index, is
tested in test_without_index.py.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from eth_utils.address import to_checksum_address
from fastapi.testclient import TestClient

from chain.types import Action, StatusChange, type_id
from devstack.hardhat import start_hardhat, stop_hardhat
from devstack.process import free_port
from documents import (
    WrappedDocument,
    build_qr_url,
    document_to_bytes,
    field_hash,
    hide_fields,
    iter_fields,
    parse_document,
    wrap_batch,
)
from documents.samples import sample_business_licence, sample_record
from issuer.issuing import Issuer, IssueSettings
from storage import DocumentStore, EmbeddedStore, compute_cid
from tests.conftest import require
from tests.contracts.helpers import gov
from tests.factories import BUSINESS_LICENSE, FOOD_LICENSE, NATRES, PROPERTY_CERTIFICATE, SAMR, World, build_world
from tests.verifier.conftest import VERIFIER_URL, Issued, IssueFn, verifier_settings, wait_for_index
from verifier.app import create_app

pytestmark = pytest.mark.chain

CJK = re.compile(r"[\u4e00-\u9fff]")
JSON = {"content-type": "application/json"}


# ----------------------------------------------------------------------------- helpers
def iso(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


def assert_bilingual(verdict: Mapping[str, Any]) -> None:
    """The verdict and each fragment carry an English and a Chinese message."""
    for item in (verdict, *verdict["fragments"]):
        assert item["message"] and item["message"].isascii(), item
        assert CJK.search(item["message_zh"]), item


def fragment(verdict: Mapping[str, Any], name: str) -> dict[str, Any]:
    found = [f for f in verdict["fragments"] if f["name"] == name]
    assert len(found) == 1, f"expected one {name} fragment: {verdict['fragments']}"
    return dict(found[0])


def assert_verdict(verdict: Mapping[str, Any], overall: str, **fragments: tuple[str, str]) -> None:
    """``overall`` and, per fragment name, its ``(status, code)``; messages in both languages."""
    for name, (status, code) in fragments.items():
        got = fragment(verdict, name)
        assert (got["status"], got["code"]) == (status, code), got
    assert verdict["verdict"] == overall, verdict
    assert_bilingual(verdict)


def verify(client: TestClient, body: bytes | Mapping[str, Any] | WrappedDocument) -> dict[str, Any]:
    """POST /v1/verify with a document (bytes or model) or a JSON request object; 200 expected."""
    if isinstance(body, WrappedDocument):
        body = document_to_bytes(body)
    if isinstance(body, bytes):
        reply = client.post("/v1/verify", content=body, headers=JSON)
    else:
        reply = client.post("/v1/verify", json=dict(body))
    assert reply.status_code == 200, reply.text
    result: dict[str, Any] = reply.json()
    return result


def verify_until(
    client: TestClient,
    body: bytes | Mapping[str, Any] | WrappedDocument,
    done: Callable[[dict[str, Any]], bool],
    timeout: float = 15.0,
) -> dict[str, Any]:
    """Verify repeatedly (short sleeps) until ``done`` holds for the verdict; the last verdict."""
    deadline = time.monotonic() + timeout
    while True:
        result = verify(client, body)
        if done(result) or time.monotonic() > deadline:
            return result
        time.sleep(0.05)


def proof_of(doc: Mapping[str, Any]) -> tuple[bytes, bytes, list[bytes]]:
    """(merkle root, target hash, proof) of a document's JSON object."""
    proof = doc["proof"]
    return (
        bytes.fromhex(proof["merkleRoot"][2:]),
        bytes.fromhex(proof["targetHash"][2:]),
        [bytes.fromhex(p[2:]) for p in proof["proof"]],
    )


def wrap_and_anchor(
    world: World,
    *,
    department: bytes = SAMR,
    chain_id: int | None = None,
    registry: str | None = None,
    doc_type: str = BUSINESS_LICENSE,
    anchored_type: str | None = BUSINESS_LICENSE,
    count: int = 2,
) -> WrappedDocument:
    """A document wrapped with the given issuer fields, its root anchored with the SAMR key as
    ``anchored_type`` (not anchored at all if None); only the named fact differs from the chain."""
    issuer = {
        "department": "0x" + department.hex(),
        "chainId": chain_id or world.chain_id,
        "registry": registry or world.registry.address,
    }
    validity = {"validFrom": iso(time.time() - 3600), "validUntil": None}
    records = [sample_record(doc_type) for _ in range(count)]
    batch = wrap_batch(records, doc_type, issuer, validity)
    if anchored_type is not None:
        world.registry.anchor(world.sender(world.samr_key), batch.root, type_id(anchored_type), count)
    return batch.documents[0]


def change(world: World, action: Action, doc: Mapping[str, Any], *, whole_batch: bool = False, **extra: Any) -> None:
    root, target, proof = proof_of(doc)
    if whole_batch:
        status = StatusChange(action, root, reason=extra.pop("reason", 0))
    else:
        status = StatusChange(action, root, target, proof, **extra)
    world.registry.change_status(world.sender(world.samr_key), status)


def tamper_block(store_dir: Path, cid: str) -> None:
    """Flip one byte of the stored ciphertext on disk."""
    path = EmbeddedStore(store_dir).path_of(cid)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def key_of(issued: Issued) -> str:
    """The base64url key in an issued document's QR URL (its #k= fragment)."""
    return issued.url.partition("#k=")[2]


def stored(issued: Issued) -> dict[str, Any]:
    """``{document, cid, key}``: the document and the stored copy it should be."""
    return {"document": issued.obj(), "cid": issued.obj()["proof"]["cid"], "key": key_of(issued)}


@contextmanager
def app_client(settings: Any, *, follow: bool = True) -> Iterator[TestClient]:
    with TestClient(create_app(settings, follow=follow)) as client:
        yield client


# -------------------------------------------------------------------- DOCUMENT_INTEGRITY
def test_valid_document_has_every_fragment_valid(issue: IssueFn, verifier: TestClient) -> None:
    doc = issue(count=2)[0]
    wait_for_index(verifier)
    result = verify(verifier, stored(doc))
    assert_verdict(
        result,
        "VALID",
        DOCUMENT_INTEGRITY=("VALID", "OK"),
        DOCUMENT_STATUS=("VALID", "OK"),
        ISSUER_IDENTITY=("VALID", "OK"),
        STORAGE=("VALID", "OK"),
    )
    assert result["issuer"]["department"] == "0x" + SAMR.hex()
    assert result["anchor"]["merkleRoot"] == doc.obj()["proof"]["merkleRoot"]
    assert result["anchor"]["batchSize"] == 2
    assert result["status"]["state"] == "ACTIVE"
    assert result["document"]["hiddenFields"] == 0


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda d: {"version": "ereg/1", "hello": "world"}, id="not-a-document"),
        pytest.param(lambda d: {**d, "version": "ereg/2"}, id="other-version"),
        pytest.param(lambda d: {**d, "salts": 5}, id="salts-a-number"),
        pytest.param(lambda d: {**d, "proof": {**d["proof"], "targetHash": 12}}, id="target-hash-a-number"),
        pytest.param(lambda d: {**d, "proof": {**d["proof"], "proof": "0x00"}}, id="proof-a-string"),
        pytest.param(lambda d: {**d, "issuer": {**d["issuer"], "chainId": "1337"}}, id="chain-id-a-string"),
        pytest.param(lambda d: {**d, "validity": {"validFrom": "yesterday", "validUntil": None}}, id="bad-time"),
    ],
)
def test_malformed(issue: IssueFn, verifier: TestClient, mutate: Callable[[dict[str, Any]], Any]) -> None:
    doc = issue(count=1)[0]
    result = verify(verifier, json.dumps(mutate(doc.obj())).encode())
    assert_verdict(result, "INVALID", DOCUMENT_INTEGRITY=("INVALID", "MALFORMED"))
    assert [f["name"] for f in result["fragments"]] == ["DOCUMENT_INTEGRITY"]
    assert result["document"] is None


def test_tampered_data_value(issue: IssueFn, verifier: TestClient) -> None:
    obj = issue(count=2)[0].obj()
    obj["data"]["name"] = obj["data"]["name"] + "（分公司）"
    result = verify(verifier, json.dumps(obj, ensure_ascii=False).encode())
    assert_verdict(
        result,
        "INVALID",
        DOCUMENT_INTEGRITY=("INVALID", "TAMPERED"),
        DOCUMENT_STATUS=("SKIPPED", "SKIPPED"),
        ISSUER_IDENTITY=("SKIPPED", "SKIPPED"),
    )


def test_tampered_validity(issue: IssueFn, verifier: TestClient) -> None:
    obj = issue(count=1, valid_until=iso(time.time() + 86_400))[0].obj()
    obj["validity"]["validUntil"] = iso(time.time() + 10 * 365 * 86_400)
    result = verify(verifier, json.dumps(obj, ensure_ascii=False).encode())
    assert_verdict(result, "INVALID", DOCUMENT_INTEGRITY=("INVALID", "TAMPERED"))


@pytest.mark.parametrize("where", ["proof-element", "merkle-root"])
def test_proof_mismatch(issue: IssueFn, verifier: TestClient, where: str) -> None:
    obj = issue(count=3)[0].obj()
    other = "0x" + os.urandom(32).hex()
    if where == "proof-element":
        assert obj["proof"]["proof"], "a batch of three has a proof"
        obj["proof"]["proof"][0] = other
    else:
        obj["proof"]["merkleRoot"] = other
    result = verify(verifier, json.dumps(obj, ensure_ascii=False).encode())
    assert_verdict(
        result,
        "INVALID",
        DOCUMENT_INTEGRITY=("INVALID", "PROOF_MISMATCH"),
        DOCUMENT_STATUS=("SKIPPED", "SKIPPED"),
        ISSUER_IDENTITY=("SKIPPED", "SKIPPED"),
    )


def test_nothing_disclosed(issue: IssueFn, verifier: TestClient) -> None:
    """Every field hidden by hand (hide_fields refuses to): data and salts emptied, hashes moved."""
    doc = parse_document(issue(count=1)[0].raw())
    obj = json.loads(document_to_bytes(doc))
    hashes = ["0x" + field_hash(bytes.fromhex(doc.salts[p]), p, v).hex() for p, v in iter_fields(doc.data)]
    obj["data"] = {}
    obj["salts"] = {p: s for p, s in obj["salts"].items() if p.startswith("/@")}
    obj["privacy"]["obfuscated"] = sorted(hashes)
    result = verify(verifier, json.dumps(obj, ensure_ascii=False).encode())
    assert_verdict(result, "INVALID", DOCUMENT_INTEGRITY=("INVALID", "NOTHING_DISCLOSED"))


def test_undecryptable_with_another_key(issue: IssueFn, verifier: TestClient) -> None:
    doc = issue(count=1)[0]
    cid = doc.obj()["proof"]["cid"]
    result = verify(verifier, {"qr": build_qr_url(VERIFIER_URL, cid, os.urandom(32))})
    assert_verdict(result, "INVALID", DOCUMENT_INTEGRITY=("INVALID", "UNDECRYPTABLE"), STORAGE=("VALID", "OK"))
    assert result["cid"] == cid


# ----------------------------------------------------------------------- DOCUMENT_STATUS
def test_not_anchored(world: World, verifier: TestClient) -> None:
    doc = wrap_and_anchor(world, anchored_type=None)
    wait_for_index(verifier)
    result = verify(verifier, doc)
    assert_verdict(
        result,
        "INVALID",
        DOCUMENT_INTEGRITY=("VALID", "OK"),
        DOCUMENT_STATUS=("INVALID", "NOT_ANCHORED"),
        ISSUER_IDENTITY=("SKIPPED", "SKIPPED"),
    )


def test_revoked_once_the_index_follows(world: World, issue: IssueFn, verifier: TestClient) -> None:
    docs = issue(count=3)
    wait_for_index(verifier)
    assert verify(verifier, docs[1].raw())["verdict"] == "VALID"
    change(world, Action.REVOKE, docs[1].obj(), reason=2)
    result = verify_until(verifier, docs[1].raw(), lambda v: v["verdict"] != "VALID")
    assert_verdict(result, "INVALID", DOCUMENT_INTEGRITY=("VALID", "OK"), DOCUMENT_STATUS=("INVALID", "REVOKED"))
    assert fragment(result, "DOCUMENT_STATUS")["details"]["reason"] == 2
    assert result["status"]["state"] == "REVOKED"
    # the other documents of the batch are untouched
    assert verify(verifier, docs[0].raw())["verdict"] == "VALID"
    assert verify(verifier, docs[2].raw())["verdict"] == "VALID"


def test_whole_batch_revoked(world: World, issue: IssueFn, verifier: TestClient) -> None:
    docs = issue(count=3)
    change(world, Action.REVOKE, docs[0].obj(), whole_batch=True, reason=8)
    wait_for_index(verifier)
    for doc in docs:
        result = verify(verifier, doc.raw())
        assert_verdict(result, "INVALID", DOCUMENT_STATUS=("INVALID", "REVOKED"))
        assert fragment(result, "DOCUMENT_STATUS")["details"]["reason"] == 8


def test_suspended_then_reinstated(world: World, issue: IssueFn, verifier: TestClient) -> None:
    doc = issue(count=2)[0]
    wait_for_index(verifier)
    change(world, Action.SUSPEND, doc.obj(), reason=6)
    result = verify_until(verifier, doc.raw(), lambda v: v["verdict"] != "VALID")
    assert_verdict(result, "INVALID", DOCUMENT_STATUS=("INVALID", "SUSPENDED"))
    change(world, Action.REINSTATE, doc.obj(), reason=7)
    result = verify_until(verifier, doc.raw(), lambda v: v["verdict"] == "VALID")
    assert_verdict(result, "VALID", DOCUMENT_STATUS=("VALID", "OK"), ISSUER_IDENTITY=("VALID", "OK"))


def test_superseded_names_its_successor(world: World, issue: IssueFn, verifier: TestClient) -> None:
    old = issue(count=2)[0]
    new = issue(count=2)[1]
    new_root, new_target, new_proof = proof_of(new.obj())
    change(
        world,
        Action.SUPERSEDE,
        old.obj(),
        successor_root=new_root,
        successor=new_target,
        successor_proof=new_proof,
        reason=5,
    )
    wait_for_index(verifier)
    result = verify(verifier, old.raw())
    assert_verdict(result, "INVALID", DOCUMENT_STATUS=("INVALID", "SUPERSEDED"))
    assert fragment(result, "DOCUMENT_STATUS")["details"]["successor"] == "0x" + new_target.hex()
    assert result["status"]["successor"] == "0x" + new_target.hex()
    assert verify(verifier, new.raw())["verdict"] == "VALID"


def test_expired(issue: IssueFn, verifier: TestClient) -> None:
    now = time.time()
    doc = issue(count=1, valid_from=iso(now - 30 * 86_400), valid_until=iso(now - 86_400))[0]
    wait_for_index(verifier)
    result = verify(verifier, doc.raw())
    assert_verdict(result, "INVALID", DOCUMENT_STATUS=("INVALID", "EXPIRED"), ISSUER_IDENTITY=("VALID", "OK"))


def test_not_yet_valid(issue: IssueFn, verifier: TestClient) -> None:
    doc = issue(count=1, valid_from=iso(time.time() + 86_400))[0]
    wait_for_index(verifier)
    result = verify(verifier, doc.raw())
    assert_verdict(result, "INVALID", DOCUMENT_STATUS=("INVALID", "NOT_YET_VALID"))


def test_wrong_chain(world: World, verifier: TestClient) -> None:
    """Anchored on this registry by the right department: only issuer.chainId is off."""
    doc = wrap_and_anchor(world, chain_id=world.chain_id + 1)
    wait_for_index(verifier)
    result = verify(verifier, doc)
    assert_verdict(
        result,
        "ERROR",
        DOCUMENT_INTEGRITY=("VALID", "OK"),
        DOCUMENT_STATUS=("ERROR", "WRONG_CHAIN"),
        ISSUER_IDENTITY=("SKIPPED", "SKIPPED"),
    )


def test_registry_not_found(world: World, verifier: TestClient) -> None:
    doc = wrap_and_anchor(world, registry=to_checksum_address("0x" + os.urandom(20).hex()))
    wait_for_index(verifier)
    result = verify(verifier, doc)
    assert_verdict(result, "ERROR", DOCUMENT_STATUS=("ERROR", "REGISTRY_NOT_FOUND"))


# ----------------------------------------------------------------------- ISSUER_IDENTITY
def test_unknown_department(world: World, verifier: TestClient) -> None:
    """Claims NATRES, but only SAMR's key anchored the root: NATRES has no such record, and the
    record SAMR has is not the document's."""
    doc = wrap_and_anchor(world, department=NATRES)
    wait_for_index(verifier)
    result = verify(verifier, doc)
    assert_verdict(
        result,
        "INVALID",
        DOCUMENT_STATUS=("INVALID", "NOT_ANCHORED"),
        ISSUER_IDENTITY=("INVALID", "UNKNOWN_DEPARTMENT"),
    )
    assert fragment(result, "ISSUER_IDENTITY")["details"] == {"anchoredBy": ["0x" + SAMR.hex()]}
    assert result["issuer"] == {"department": "0x" + NATRES.hex(), "name": None, "creditCode": None, "signer": None}
    assert result["status"] is None


def test_another_departments_anchor_of_the_root_neither_blocks_nor_claims(
    world: World, verifier: TestClient, tmp_path: Path
) -> None:
    """NATRES front-runs SAMR's root (anchors it first); SAMR anchors it too: SAMR's document
    verifies against SAMR's own record, VALID, by the index and by the chain alike."""
    doc = wrap_and_anchor(world, anchored_type=None)
    root = bytes.fromhex(doc.proof.merkle_root[2:])
    world.registry.anchor(world.sender(world.natres_key), root, type_id(PROPERTY_CERTIFICATE), 2)
    wait_for_index(verifier)
    before = verify(verifier, doc)
    assert_verdict(
        before,
        "INVALID",
        DOCUMENT_STATUS=("INVALID", "NOT_ANCHORED"),
        ISSUER_IDENTITY=("INVALID", "UNKNOWN_DEPARTMENT"),
    )
    assert fragment(before, "ISSUER_IDENTITY")["details"] == {"anchoredBy": ["0x" + NATRES.hex()]}

    receipt = world.registry.anchor(world.sender(world.samr_key), root, type_id(BUSINESS_LICENSE), 2)
    wait_for_index(verifier)
    result = verify(verifier, doc)
    assert_verdict(
        result,
        "VALID",
        DOCUMENT_STATUS=("VALID", "OK"),
        ISSUER_IDENTITY=("VALID", "OK"),
    )
    assert result["issuer"]["department"] == "0x" + SAMR.hex()
    assert result["issuer"]["signer"] == world.samr_key.address
    assert result["anchor"]["transaction"] == receipt.tx_hash.lower()
    # NATRES revoking its own record of the root changes nothing for SAMR's document
    world.registry.change_status(world.sender(world.natres_key), StatusChange(Action.REVOKE, root, reason=1))
    wait_for_index(verifier)
    assert_verdict(verify(verifier, doc), "VALID", DOCUMENT_STATUS=("VALID", "OK"))
    with app_client(verifier_settings(world, tmp_path / "direct"), follow=False) as direct:
        result = verify(direct, doc)
        assert_verdict(result, "VALID", DOCUMENT_STATUS=("VALID", "OK"), ISSUER_IDENTITY=("VALID", "OK"))
        assert result["anchor"]["transaction"] is None, "the chain answered, not the index"


def test_not_authorized_for_type(world: World, verifier: TestClient) -> None:
    """A food-business-license whose root SAMR anchored as a business-license."""
    doc = wrap_and_anchor(world, doc_type=FOOD_LICENSE, anchored_type=BUSINESS_LICENSE)
    wait_for_index(verifier)
    result = verify(verifier, doc)
    assert_verdict(result, "INVALID", ISSUER_IDENTITY=("INVALID", "NOT_AUTHORIZED_FOR_TYPE"))


def test_key_not_valid_at_issuance(world: World, issue: IssueFn, verifier: TestClient) -> None:
    doc = issue(count=2)[0]
    wait_for_index(verifier)
    assert verify(verifier, doc.raw())["verdict"] == "VALID"
    root, _target, _proof = proof_of(doc.obj())
    anchored_at = world.registry.document_status(SAMR, root).anchored_at
    world.registry.retire_signer_key(gov(world), world.samr_key.address, anchored_at - 1)
    result = verify_until(verifier, doc.raw(), lambda v: v["verdict"] != "VALID")
    assert_verdict(
        result,
        "INVALID",
        DOCUMENT_STATUS=("VALID", "OK"),
        ISSUER_IDENTITY=("INVALID", "KEY_NOT_VALID_AT_ISSUANCE"),
    )


def test_stolen_keys_revocation_is_voided_by_a_backdated_retirement(
    world: World, issue: IssueFn, verifier: TestClient, tmp_path: Path
) -> None:
    """SAMR's key is stolen after it issued: the thief revokes a genuine document (REVOKED). The
    council retires the key backdated to the theft: the revocation no longer counts, and the
    document (anchored before the theft) reads VALID again, from the index and from the chain."""
    docs = issue(count=2)
    wait_for_index(verifier)
    stolen_at = world.moment()
    change(world, Action.REVOKE, docs[0].obj(), reason=1)  # the thief, with SAMR's own key
    result = verify_until(verifier, docs[0].raw(), lambda v: v["verdict"] != "VALID")
    assert_verdict(result, "INVALID", DOCUMENT_STATUS=("INVALID", "REVOKED"))
    with app_client(verifier_settings(world, tmp_path / "direct"), follow=False) as direct:
        assert_verdict(verify(direct, docs[0].raw()), "INVALID", DOCUMENT_STATUS=("INVALID", "REVOKED"))

        world.registry.retire_signer_key(gov(world), world.samr_key.address, stolen_at)  # through the time lock
        result = verify_until(verifier, docs[0].raw(), lambda v: v["verdict"] == "VALID")
        assert_verdict(result, "VALID", DOCUMENT_STATUS=("VALID", "OK"), ISSUER_IDENTITY=("VALID", "OK"))
        assert result["status"] == {"state": "ACTIVE", "reason": None, "changedAt": None, "successor": None}
        assert result["anchor"]["transaction"] is not None, "the index answered"
        by_chain = verify(direct, docs[0].raw())
        assert_verdict(by_chain, "VALID", DOCUMENT_STATUS=("VALID", "OK"), ISSUER_IDENTITY=("VALID", "OK"))
        assert by_chain["anchor"]["transaction"] is None, "the chain answered"
    assert verify(verifier, docs[1].raw())["verdict"] == "VALID"


# -------------------------------------------------------------------------------- STORAGE
def test_store_serving_bytes_that_are_not_the_cid_is_an_error(
    issue: IssueFn, verifier: TestClient, tmp_path: Path
) -> None:
    """The node's fault (it served bytes that do not hash to the CID), not the document's: ERROR."""
    doc = issue(count=2)[0]
    cid = doc.obj()["proof"]["cid"]
    tamper_block(tmp_path / "blocks", cid)
    wait_for_index(verifier)
    by_qr = verify(verifier, {"qr": doc.url})
    assert_verdict(by_qr, "ERROR", DOCUMENT_INTEGRITY=("SKIPPED", "SKIPPED"), STORAGE=("ERROR", "IPFS_BAD_CONTENT"))
    by_document = verify(verifier, stored(doc))
    assert_verdict(
        by_document,
        "ERROR",
        DOCUMENT_INTEGRITY=("VALID", "OK"),
        DOCUMENT_STATUS=("VALID", "OK"),
        ISSUER_IDENTITY=("VALID", "OK"),
        STORAGE=("ERROR", "IPFS_BAD_CONTENT"),
    )


def test_storage_ok_only_for_the_copy_of_this_document(issue: IssueFn, verifier: TestClient) -> None:
    """STORAGE means "the encrypted copy at this CID is this document", not "some copy exists"."""
    mine, other = issue(count=2)
    wait_for_index(verifier)
    assert_verdict(verify(verifier, stored(mine)), "VALID", STORAGE=("VALID", "OK"))
    # an unrelated document's CID and key: the copy exists, opens, and is another document
    unrelated = {"document": mine.obj(), "cid": other.obj()["proof"]["cid"], "key": key_of(other)}
    assert_verdict(
        verify(verifier, unrelated),
        "INVALID",
        DOCUMENT_INTEGRITY=("VALID", "OK"),
        DOCUMENT_STATUS=("VALID", "OK"),
        STORAGE=("INVALID", "CID_MISMATCH"),
    )
    # the right CID with another key: nothing says the copy is this document
    wrong_key = {"document": mine.obj(), "cid": mine.obj()["proof"]["cid"], "key": key_of(other)}
    assert_verdict(verify(verifier, wrong_key), "INVALID", STORAGE=("INVALID", "CID_MISMATCH"))
    # a disclosed copy matches the full copy it was made from (same root and target hash)
    disclosed = json.loads(document_to_bytes(hide_fields(parse_document(mine.raw()), ["/phone"])))
    assert_verdict(verify(verifier, {**stored(mine), "document": disclosed}), "VALID", STORAGE=("VALID", "OK"))
    # an upload names the copy the same way
    upload = verifier.post(
        "/v1/verify",
        files={"file": ("licence.ereg.json", mine.raw())},
        data={"cid": other.obj()["proof"]["cid"], "key": key_of(other)},
    )
    assert upload.status_code == 200, upload.text
    assert_verdict(upload.json(), "INVALID", STORAGE=("INVALID", "CID_MISMATCH"))


def test_ipfs_unavailable(world: World, issue: IssueFn, tmp_path: Path) -> None:
    doc = issue(count=1)[0]
    settings = verifier_settings(world, tmp_path, ipfs_api=f"/ip4/127.0.0.1/tcp/{free_port()}/http", ipfs_timeout=1.0)
    with app_client(settings) as client:
        wait_for_index(client)
        by_qr = verify(client, {"qr": doc.url})
        assert_verdict(by_qr, "ERROR", DOCUMENT_INTEGRITY=("SKIPPED", "SKIPPED"), STORAGE=("ERROR", "IPFS_UNAVAILABLE"))
        by_document = verify(client, stored(doc))
        assert_verdict(
            by_document,
            "ERROR",
            DOCUMENT_INTEGRITY=("VALID", "OK"),
            DOCUMENT_STATUS=("VALID", "OK"),
            STORAGE=("ERROR", "IPFS_UNAVAILABLE"),
        )


def test_cid_the_store_does_not_have(verifier: TestClient) -> None:
    cid = compute_cid(os.urandom(64))
    result = verify(verifier, {"qr": build_qr_url(VERIFIER_URL, cid, os.urandom(32))})
    assert_verdict(result, "ERROR", STORAGE=("ERROR", "IPFS_UNAVAILABLE"))


def test_chain_unreachable_is_error_never_invalid(world: World, issue: IssueFn, tmp_path: Path) -> None:
    """A verifier whose RPC endpoint is down: the chain's facts are ERROR; only what the document
    itself decides (integrity, validity dates) may still be INVALID."""
    good = issue(count=1)[0]
    expired = issue(count=1, valid_from=iso(time.time() - 2 * 86_400), valid_until=iso(time.time() - 86_400))[0]
    settings = verifier_settings(world, tmp_path, rpc_url=f"http://127.0.0.1:{free_port()}", request_timeout=0.5)
    with app_client(settings) as client:
        result = verify(client, stored(good))
        assert_verdict(
            result,
            "ERROR",
            DOCUMENT_INTEGRITY=("VALID", "OK"),
            DOCUMENT_STATUS=("ERROR", "CHAIN_UNAVAILABLE"),
            ISSUER_IDENTITY=("ERROR", "CHAIN_UNAVAILABLE"),
            STORAGE=("VALID", "OK"),
        )
        assert verify(client, {"qr": good.url})["verdict"] == "ERROR"
        result = verify(client, expired.raw())
        assert_verdict(
            result,
            "INVALID",
            DOCUMENT_STATUS=("INVALID", "EXPIRED"),
            ISSUER_IDENTITY=("ERROR", "CHAIN_UNAVAILABLE"),
        )


# ------------------------------------------------------------------- chain fallback path
def test_document_newer_than_the_index_is_checked_on_chain(world: World, issue: IssueFn, tmp_path: Path) -> None:
    """An index synced once and not followed: roots anchored later are read from the chain."""
    settings = verifier_settings(world, tmp_path, max_index_age=600)
    with app_client(settings, follow=False) as client:
        index = client.app.state.runtime.index  # type: ignore[attr-defined]
        index.sync()
        synced_block = index.head().block_number
        docs = issue(count=3)
        change(world, Action.REVOKE, docs[2].obj(), reason=1)
        unanchored = wrap_and_anchor(world, anchored_type=None)
        assert_verdict(
            verify(client, docs[0].raw()),
            "VALID",
            DOCUMENT_STATUS=("VALID", "OK"),
            ISSUER_IDENTITY=("VALID", "OK"),
        )
        assert_verdict(verify(client, {"qr": docs[1].url}), "VALID", STORAGE=("VALID", "OK"))
        assert_verdict(verify(client, docs[2].raw()), "INVALID", DOCUMENT_STATUS=("INVALID", "REVOKED"))
        assert_verdict(verify(client, unanchored), "INVALID", DOCUMENT_STATUS=("INVALID", "NOT_ANCHORED"))
        assert index.head().block_number == synced_block, "the answers came from the chain, not the index"


def test_never_synced_index_reads_the_chain(world: World, issue: IssueFn, tmp_path: Path) -> None:
    docs = issue(count=2)
    with app_client(verifier_settings(world, tmp_path), follow=False) as client:
        result = verify(client, docs[0].raw())
        assert_verdict(result, "VALID", DOCUMENT_STATUS=("VALID", "OK"), ISSUER_IDENTITY=("VALID", "OK"))
        assert result["issuer"]["name"] == "六安市市场监督管理局"
        assert client.app.state.runtime.index.head().synced_at is None  # type: ignore[attr-defined]


def test_no_fresh_index_and_no_chain_is_error(world: World, issue: IssueFn, tmp_path: Path) -> None:
    doc = issue(count=1)[0]
    settings = verifier_settings(world, tmp_path, rpc_url=f"http://127.0.0.1:{free_port()}", request_timeout=0.5)
    with app_client(settings, follow=False) as client:
        result = verify(client, doc.raw())
        assert_verdict(result, "ERROR", DOCUMENT_STATUS=("ERROR", "CHAIN_UNAVAILABLE"))


# ------------------------------------------------------------------ selective disclosure
def test_disclosed_copy_is_valid_and_shows_only_disclosed_fields(issue: IssueFn, verifier: TestClient) -> None:
    doc = parse_document(issue(count=2)[0].raw())
    hidden = ["/legalRepresentative", "/phone", "/registeredCapital"]  # the last is an object of two
    disclosed = hide_fields(doc, hidden)
    wait_for_index(verifier)
    result = verify(verifier, disclosed)
    assert_verdict(result, "VALID", DOCUMENT_INTEGRITY=("VALID", "OK"), DOCUMENT_STATUS=("VALID", "OK"))
    shown = result["document"]["disclosed"]
    assert result["document"]["hiddenFields"] == 4
    assert not any(p == h or p.startswith(h + "/") for p in shown for h in hidden), shown
    assert shown["/name"] == doc.data["name"]
    assert result["document"]["targetHash"] == doc.proof.target_hash
    # a value edited in the disclosed copy is still caught
    edited = json.loads(document_to_bytes(disclosed))
    edited["data"]["name"] = "另一家公司"
    assert_verdict(verify(verifier, json.dumps(edited).encode()), "INVALID", DOCUMENT_INTEGRITY=("INVALID", "TAMPERED"))


# -------------------------------------------------------- outage of the verifier's own node
def _issue_on(world: World, out: Path, store: DocumentStore, count: int) -> list[Issued]:
    inputs = out / "records"
    inputs.mkdir(parents=True)
    files = []
    for i in range(count):
        path = inputs / f"doc-{i}.json"
        path.write_text(json.dumps(sample_business_licence(i), ensure_ascii=False), encoding="utf-8")
        files.append(path)
    settings = IssueSettings(
        doc_type=BUSINESS_LICENSE,
        out_dir=out / "out",
        verifier_url=VERIFIER_URL,
        valid_from=iso(min(world.now(), time.time()) - 60),
        batch_size=count,
    )
    Issuer(settings, registry=world.registry, sender=world.sender(world.samr_key), store=store).run(files)
    return [
        Issued(
            name=p.stem,
            path=out / "out" / f"{p.stem}.ereg.json",
            url=(out / "out" / f"{p.stem}.qr.url").read_text().strip(),
            png=out / "out" / f"{p.stem}.qr.png",
        )
        for p in files
    ]


def test_stopped_node_gives_error_then_recovers(tmp_path: Path) -> None:
    """The verifier's node stops answering (SIGSTOP keeps its state): ERROR with
    CHAIN_UNAVAILABLE and a degraded /healthz, never INVALID; VALID again once it answers."""
    from devstack.hardhat import HARDHAT_BIN

    require(HARDHAT_BIN.exists(), "Hardhat is not installed (run `npm ci` in hardhat_local)")
    node = start_hardhat(tmp_path / "chain", mode="dev")
    stopped = False
    try:
        world = build_world(node, tmp_path / "deployments")
        docs = _issue_on(world, tmp_path / "issued", EmbeddedStore(tmp_path / "blocks"), 2)
        followed = verifier_settings(world, tmp_path, request_timeout=1.0, max_index_age=1.0)
        unfollowed = verifier_settings(
            world, tmp_path / "b", request_timeout=1.0, max_index_age=1.0, store_dir=tmp_path / "blocks"
        )
        (tmp_path / "b").mkdir()
        with app_client(followed) as client, app_client(unfollowed, follow=False) as direct:
            wait_for_index(client)
            assert_verdict(verify(client, docs[0].raw()), "VALID", DOCUMENT_STATUS=("VALID", "OK"))
            assert_verdict(verify(direct, docs[0].raw()), "VALID", DOCUMENT_STATUS=("VALID", "OK"))

            os.killpg(node.process.pid, signal.SIGSTOP)
            stopped = True
            result = verify_until(client, docs[0].raw(), lambda v: v["verdict"] != "VALID", timeout=20)
            assert_verdict(
                result,
                "ERROR",
                DOCUMENT_INTEGRITY=("VALID", "OK"),
                DOCUMENT_STATUS=("ERROR", "CHAIN_UNAVAILABLE"),
                ISSUER_IDENTITY=("ERROR", "CHAIN_UNAVAILABLE"),
            )
            assert_verdict(verify(client, {"qr": docs[1].url}), "ERROR", DOCUMENT_STATUS=("ERROR", "CHAIN_UNAVAILABLE"))
            assert_verdict(verify(direct, docs[1].raw()), "ERROR", DOCUMENT_STATUS=("ERROR", "CHAIN_UNAVAILABLE"))
            health = client.get("/healthz")
            for _ in range(100):  # the prober notices within a probe timeout
                if health.json()["chain"] == {"reachable": False}:
                    break
                time.sleep(0.05)
                health = client.get("/healthz")
            assert health.status_code == 503
            assert health.json()["status"] == "unavailable"
            assert health.json()["chain"] == {"reachable": False}

            os.killpg(node.process.pid, signal.SIGCONT)
            stopped = False
            result = verify_until(client, docs[0].raw(), lambda v: v["verdict"] == "VALID", timeout=20)
            assert_verdict(result, "VALID", DOCUMENT_STATUS=("VALID", "OK"), ISSUER_IDENTITY=("VALID", "OK"))
            assert verify_until(direct, docs[1].raw(), lambda v: v["verdict"] == "VALID")["verdict"] == "VALID"
            wait_for_index(client)
    finally:
        if stopped:
            os.killpg(node.process.pid, signal.SIGCONT)
        stop_hardhat(node)
