"""VerificationService with no index at all (``index=None``): every fact from the chain, on the real node.

This is how ``ereg verify`` runs without ``--index``. The verdicts must be the verifier service's
own, fragment for fragment, for every kind of document: the only difference allowed is where the
anchor was read (the chain's document status carries no block number or transaction; the index's
events do). A change on chain counts at once (there is no index to lag behind), a department that
anchored the root instead of the one the document names is found by asking the chain, and an
unreachable chain is ERROR, never INVALID.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from chain.client import ChainClient, connect
from chain.types import Action
from devstack.process import free_port
from documents import document_to_bytes, hide_fields, parse_document
from storage import DocumentStore
from tests.factories import NATRES, SAMR, World
from tests.property_setup import BANK, Setup
from tests.verification.test_service import (
    assert_verdict,
    change,
    fragment,
    iso,
    proof_of,
    verify,
    wrap_and_anchor,
)
from tests.verifier.conftest import VERIFIER_URL, IssueFn, wait_for_index
from tests.verifier.test_property import (  # noqa: F401 - s is a fixture
    BANK_NAME,
    certificate_of,
    hx,
    issue_certificate,
    issue_mortgage_certificate,
    register,
    s,
)
from verification.gateway import ChainGateway
from verification.service import VerificationService
from verification.verdict import Verdict

pytestmark = pytest.mark.chain


def chain_only(
    world: World,
    *,
    property_address: str | None = None,
    store: DocumentStore | None = None,
    client: ChainClient | None = None,
) -> VerificationService:
    """The service as ``ereg verify`` builds it without --index: a gateway on the node, nothing else."""
    gateway = ChainGateway.on_client(client or world.client, world.registry.address, property_address)
    return VerificationService(
        chain_id=world.chain_id, registry_address=world.registry.address, chain=gateway, store=store
    )


def as_json(verdict: Verdict) -> dict[str, Any]:
    """The verdict as POST /v1/verify answers it."""
    loaded: dict[str, Any] = json.loads(verdict.model_dump_json(by_alias=True))
    return loaded


def comparable(verdict: dict[str, Any]) -> dict[str, Any]:
    """A verdict without what depends on where and when it was computed: the check's time, and the
    anchor's block and transaction (known to an index's events, not to the chain's status view)."""
    copy = json.loads(json.dumps(verdict))
    copy.pop("checkedAt")
    if copy.get("anchor"):
        copy["anchor"]["blockNumber"] = copy["anchor"]["transaction"] = None
    return copy  # type: ignore[no-any-return]


def test_every_verdict_equals_the_services_own(world: World, issue: IssueFn, verifier: TestClient) -> None:
    """Valid, revoked, superseded, expired, tampered, never anchored, anchored by another
    department, of another chain: the same verdicts, fragments, details and facts as the
    verifier service's (which answers from its index)."""
    docs = issue(count=3)
    successor = issue(count=1)[0]
    expired = issue(count=1, valid_from=iso(time.time() - 2 * 86_400), valid_until=iso(time.time() - 86_400))[0]
    change(world, Action.REVOKE, docs[1].obj(), reason=2)
    new_root, new_target, new_proof = proof_of(successor.obj())
    change(
        world,
        Action.SUPERSEDE,
        docs[2].obj(),
        successor_root=new_root,
        successor=new_target,
        successor_proof=new_proof,
        reason=5,
    )
    tampered = docs[0].obj()
    tampered["data"]["name"] += "（分公司）"
    disclosed = document_to_bytes(hide_fields(parse_document(docs[0].raw()), ["/phone"]))
    bodies: dict[str, bytes] = {
        "valid": docs[0].raw(),
        "revoked": docs[1].raw(),
        "superseded": docs[2].raw(),
        "successor": successor.raw(),
        "expired": expired.raw(),
        "disclosed": disclosed,
        "tampered": json.dumps(tampered, ensure_ascii=False).encode(),
        "not-anchored": document_to_bytes(wrap_and_anchor(world, anchored_type=None)),
        "other-department": document_to_bytes(wrap_and_anchor(world, department=NATRES)),
        "other-chain": document_to_bytes(wrap_and_anchor(world, chain_id=world.chain_id + 1)),
        "not-a-document": b'{"version": "ereg/1", "hello": "world"}',
    }
    service = chain_only(world)
    wait_for_index(verifier)
    for name, body in bodies.items():
        ours = as_json(service.verify_bytes(body))
        theirs = verify(verifier, body)
        assert comparable(ours) == comparable(theirs), name
        if ours["anchor"] and ours["anchor"]["anchoredAt"]:
            assert theirs["anchor"]["transaction"] is not None, f"{name}: the service's index answered"
            assert ours["anchor"]["transaction"] is None, f"{name}: the chain answered, not an index"
    verdicts = {name: as_json(service.verify_bytes(body)) for name, body in bodies.items()}
    assert_verdict(verdicts["valid"], "VALID", DOCUMENT_STATUS=("VALID", "OK"), ISSUER_IDENTITY=("VALID", "OK"))
    assert verdicts["valid"]["issuer"]["name"] == "六安市市场监督管理局"
    assert_verdict(verdicts["revoked"], "INVALID", DOCUMENT_STATUS=("INVALID", "REVOKED"))
    assert_verdict(verdicts["superseded"], "INVALID", DOCUMENT_STATUS=("INVALID", "SUPERSEDED"))
    assert verdicts["superseded"]["status"]["successor"] == "0x" + new_target.hex()
    assert_verdict(verdicts["expired"], "INVALID", DOCUMENT_STATUS=("INVALID", "EXPIRED"))
    assert_verdict(verdicts["disclosed"], "VALID", DOCUMENT_INTEGRITY=("VALID", "OK"))
    assert_verdict(verdicts["tampered"], "INVALID", DOCUMENT_INTEGRITY=("INVALID", "TAMPERED"))
    assert_verdict(verdicts["not-anchored"], "INVALID", DOCUMENT_STATUS=("INVALID", "NOT_ANCHORED"))
    assert_verdict(verdicts["other-chain"], "ERROR", DOCUMENT_STATUS=("ERROR", "WRONG_CHAIN"))
    assert_verdict(verdicts["not-a-document"], "INVALID", DOCUMENT_INTEGRITY=("INVALID", "MALFORMED"))


def test_the_department_that_anchored_the_root_is_found_on_chain(world: World) -> None:
    """The document names NATRES, SAMR anchored its root: UNKNOWN_DEPARTMENT names SAMR, which
    only the chain's departments could tell without an index."""
    doc = wrap_and_anchor(world, department=NATRES)
    result = as_json(chain_only(world).verify_document(document_to_bytes(doc)))
    assert_verdict(
        result,
        "INVALID",
        DOCUMENT_STATUS=("INVALID", "NOT_ANCHORED"),
        ISSUER_IDENTITY=("INVALID", "UNKNOWN_DEPARTMENT"),
    )
    assert fragment(result, "ISSUER_IDENTITY")["details"] == {"anchoredBy": ["0x" + SAMR.hex()]}


def test_a_change_counts_at_once(world: World, issue: IssueFn) -> None:
    """No index to catch up with: the next verification after a revocation says REVOKED."""
    doc = issue(count=2)[0]
    service = chain_only(world)
    assert_verdict(as_json(service.verify_bytes(doc.raw())), "VALID", DOCUMENT_STATUS=("VALID", "OK"))
    change(world, Action.SUSPEND, doc.obj(), reason=6)
    assert_verdict(as_json(service.verify_bytes(doc.raw())), "INVALID", DOCUMENT_STATUS=("INVALID", "SUSPENDED"))
    change(world, Action.REINSTATE, doc.obj(), reason=7)
    assert_verdict(as_json(service.verify_bytes(doc.raw())), "VALID", DOCUMENT_STATUS=("VALID", "OK"))


def test_an_unreachable_chain_is_error_never_invalid(world: World, issue: IssueFn) -> None:
    good = issue(count=1)[0]
    expired = issue(count=1, valid_from=iso(time.time() - 2 * 86_400), valid_until=iso(time.time() - 86_400))[0]
    settings = world.client.settings.model_copy(
        update={"rpc_url": f"http://127.0.0.1:{free_port()}", "request_timeout": 0.5}
    )
    service = chain_only(world, client=connect(settings, check_chain=False))
    assert_verdict(
        as_json(service.verify_bytes(good.raw())),
        "ERROR",
        DOCUMENT_INTEGRITY=("VALID", "OK"),
        DOCUMENT_STATUS=("ERROR", "CHAIN_UNAVAILABLE"),
        ISSUER_IDENTITY=("ERROR", "CHAIN_UNAVAILABLE"),
    )
    assert_verdict(
        as_json(service.verify_bytes(expired.raw())),
        "INVALID",
        DOCUMENT_STATUS=("INVALID", "EXPIRED"),
        ISSUER_IDENTITY=("ERROR", "CHAIN_UNAVAILABLE"),
    )
    # a document that names a department that did not anchor it: whom to blame needs the chain too
    other = wrap_and_anchor(world, department=NATRES)
    result = as_json(service.verify_document(document_to_bytes(other)))
    assert result["verdict"] == "ERROR"
    assert fragment(result, "ISSUER_IDENTITY")["status"] == "ERROR"


def test_qr_codes_need_only_the_store(world: World, issue: IssueFn, store: DocumentStore) -> None:
    doc = issue(count=1)[0]
    result = as_json(chain_only(world, store=store).verify_qr(doc.url))
    assert_verdict(
        result,
        "VALID",
        DOCUMENT_INTEGRITY=("VALID", "OK"),
        DOCUMENT_STATUS=("VALID", "OK"),
        ISSUER_IDENTITY=("VALID", "OK"),
        STORAGE=("VALID", "OK"),
    )
    assert result["cid"] == doc.obj()["proof"]["cid"]
    # with no store at all the stored copy cannot be fetched: undecided, not a forgery
    result = as_json(chain_only(world).verify_qr(doc.url))
    assert_verdict(result, "ERROR", DOCUMENT_INTEGRITY=("SKIPPED", "SKIPPED"), STORAGE=("ERROR", "IPFS_UNAVAILABLE"))
    assert fragment(result, "STORAGE")["details"] == {"detail": "no store configured"}
    # the verifier's address in the URL is never asked: any base verifies the same copy
    other_base = doc.url.replace(VERIFIER_URL, "https://verify.example.gov.cn/ereg")
    assert as_json(chain_only(world, store=store).verify_qr(other_base))["verdict"] == "VALID"


def test_property_and_mortgage_status_from_the_chain(world: World, s: Setup, issue: IssueFn) -> None:  # noqa: F811
    """PROPERTY_STATUS and MORTGAGE_STATUS from unitState and mortgageHistory of the unit the
    certificate discloses; with the unit number hidden there is nothing to ask: ERROR, saying why."""
    service = chain_only(world, property_address=s.prop.address)
    title = issue_certificate(issue, world)
    assert_verdict(as_json(service.verify_bytes(title.raw())), "INVALID", PROPERTY_STATUS=("INVALID", "NOT_REGISTERED"))
    unit, _receipt = register(s, certificate_of(title))
    result = as_json(service.verify_bytes(title.raw()))
    assert_verdict(result, "VALID", DOCUMENT_STATUS=("VALID", "OK"), PROPERTY_STATUS=("VALID", "CURRENT"))
    assert fragment(result, "PROPERTY_STATUS")["details"]["unit"] == hx(unit)
    assert len(fragment(result, "PROPERTY_STATUS")["details"]["owners"]) == 2

    hidden = document_to_bytes(hide_fields(parse_document(title.raw()), ["/unitNumber"]))
    result = as_json(service.verify_bytes(hidden))
    assert_verdict(result, "ERROR", DOCUMENT_STATUS=("VALID", "OK"), PROPERTY_STATUS=("ERROR", "CHAIN_UNAVAILABLE"))
    assert "no index" in fragment(result, "PROPERTY_STATUS")["details"]["detail"]

    mortgage = issue_mortgage_certificate(issue, world)
    result = as_json(service.verify_bytes(mortgage.raw()))
    assert_verdict(result, "INVALID", MORTGAGE_STATUS=("INVALID", "NOT_REGISTERED"))
    _registered, mortgage_id = s.prop.register_mortgage(s.bank, unit, certificate_of(mortgage))
    result = as_json(service.verify_bytes(mortgage.raw()))
    assert_verdict(result, "VALID", MORTGAGE_STATUS=("VALID", "ACTIVE"))
    details = fragment(result, "MORTGAGE_STATUS")["details"]
    assert (details["unit"], details["mortgageId"], details["bank"]) == (
        hx(unit),
        mortgage_id,
        {"id": hx(BANK), "name": BANK_NAME},
    )
    # the title's fragment lists the mortgage, the bank named from the chain
    listed = fragment(as_json(service.verify_bytes(title.raw())), "PROPERTY_STATUS")["details"]["mortgages"]
    assert [(m["id"], m["bank"]["name"]) for m in listed] == [(mortgage_id, BANK_NAME)]

    # no PropertyRegistry configured: documents only, as in the verifier
    plain = as_json(chain_only(world).verify_bytes(title.raw()))
    assert plain["verdict"] == "VALID"
    assert "PROPERTY_STATUS" not in {f["name"] for f in plain["fragments"]}
