"""W3C VC 2.0 in: POST /v1/verify on a credential gives the verdict of the document it carries.

Round trips document -> credential -> verdict on the real node, for a licence, a disclosed licence
and a property certificate; the status follows a revocation; a changed claim, a key of another
department and a key outside its window read INVALID. The credential's own checks are the
CREDENTIAL fragment, the rest is fragment for fragment the document's verdict.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient

from chain.types import Action, StatusChange
from documents import WrappedDocument, disclosed_fields, hide_fields, parse_document
from documents.vc import envelope, export_credential, open_credential, sign_credential
from tests.contracts.helpers import add_key
from tests.factories import SAMR, World
from tests.property_setup import Setup, make_setup
from tests.verification.test_service import assert_verdict, fragment, proof_of, verify, verify_until
from tests.verifier.conftest import IssueFn, verifier_settings, wait_for_index
from tests.verifier.test_property import certificate_of, issue_certificate, register
from verifier.app import create_app

pytestmark = pytest.mark.chain

JWT = {"content-type": "application/vc+jwt"}


def key_of(account: LocalAccount) -> bytes:
    return bytes(account.key)


def credential_of(doc: WrappedDocument, account: LocalAccount, world: World) -> str:
    return export_credential(doc, key_of(account), issued_at=world.now())


def without_credential(verdict: dict[str, Any]) -> dict[str, Any]:
    """The verdict minus the CREDENTIAL fragment and the check time: what the document alone gets."""
    rest = {k: v for k, v in verdict.items() if k != "checkedAt"}
    rest["fragments"] = [f for f in verdict["fragments"] if f["name"] != "CREDENTIAL"]
    return rest


@pytest.fixture
def setup(world: World) -> Setup:
    return make_setup(world)


@pytest.fixture
def property_verifier(world: World, setup: Setup, tmp_path: Path) -> Iterator[TestClient]:
    """The verifier app following the world's registry and the test's PropertyRegistry."""
    settings = verifier_settings(world, tmp_path, property_registry_address=setup.prop.address)
    with TestClient(create_app(settings)) as app:
        yield app


def same_as_document(app: TestClient, doc: WrappedDocument, token: str) -> dict[str, Any]:
    """Verify the credential both ways it is sent; each equals the document's verdict plus CREDENTIAL OK."""
    by_document = verify(app, doc)
    enveloped = verify(app, envelope(token))
    reply = app.post("/v1/verify", content=token.encode(), headers=JWT)
    assert reply.status_code == 200, reply.text
    raw = reply.json()
    for verdict in (enveloped, raw):
        assert verdict["fragments"][0]["name"] == "CREDENTIAL"
        assert (verdict["fragments"][0]["status"], verdict["fragments"][0]["code"]) == ("VALID", "OK")
        assert without_credential(verdict) == without_credential(by_document)
    return enveloped


def test_a_licence_round_trips(world: World, issue: IssueFn, verifier: TestClient) -> None:
    doc = parse_document(issue(count=2)[0].raw())
    wait_for_index(verifier)
    verdict = same_as_document(verifier, doc, credential_of(doc, world.samr_key, world))
    assert_verdict(
        verdict,
        "VALID",
        CREDENTIAL=("VALID", "OK"),
        DOCUMENT_INTEGRITY=("VALID", "OK"),
        DOCUMENT_STATUS=("VALID", "OK"),
        ISSUER_IDENTITY=("VALID", "OK"),
    )
    assert verdict["document"]["disclosed"] == disclosed_fields(doc)


def test_a_disclosed_licence_round_trips(world: World, issue: IssueFn, verifier: TestClient) -> None:
    doc = hide_fields(parse_document(issue(count=2)[1].raw()), ["/legalRepresentative", "/phone"])
    wait_for_index(verifier)
    verdict = same_as_document(verifier, doc, credential_of(doc, world.samr_key, world))
    assert verdict["verdict"] == "VALID"
    assert verdict["document"]["hiddenFields"] == 2
    assert "/legalRepresentative" not in verdict["document"]["disclosed"]
    assert "/name" in verdict["document"]["disclosed"]


def test_a_property_certificate_round_trips(
    world: World, setup: Setup, issue: IssueFn, property_verifier: TestClient
) -> None:
    client = property_verifier
    issued = issue_certificate(issue, world)
    register(setup, certificate_of(issued))
    doc = parse_document(issued.raw())
    wait_for_index(client)
    token = credential_of(doc, world.natres_key, world)
    verdict = verify_until(client, envelope(token), lambda v: fragment(v, "PROPERTY_STATUS")["code"] == "CURRENT")
    assert_verdict(verdict, "VALID", CREDENTIAL=("VALID", "OK"), PROPERTY_STATUS=("VALID", "CURRENT"))
    same_as_document(client, doc, token)


def test_the_status_follows_a_revocation(world: World, issue: IssueFn, verifier: TestClient) -> None:
    doc = parse_document(issue(count=2)[0].raw())
    token = credential_of(doc, world.samr_key, world)
    root, target, proof = proof_of(doc.model_dump(by_alias=True))
    world.registry.change_status(
        world.sender(world.samr_key), StatusChange(Action.REVOKE, root, target, proof, reason=1)
    )
    verdict = verify_until(verifier, envelope(token), lambda v: v["verdict"] == "INVALID")
    assert_verdict(verdict, "INVALID", CREDENTIAL=("VALID", "OK"), DOCUMENT_STATUS=("INVALID", "REVOKED"))
    assert without_credential(verdict)["fragments"] == verify(verifier, doc)["fragments"]


def test_a_changed_claim_reads_invalid(world: World, issue: IssueFn, verifier: TestClient) -> None:
    doc = parse_document(issue(count=2)[0].raw())
    token = credential_of(doc, world.samr_key, world)
    credential = open_credential(token).credential
    credential["credentialSubject"]["name"] = "冒名有限公司"
    # re-signed by the department's own key: the signature holds, the document does not
    resigned = sign_credential(credential, key_of(world.samr_key))
    verdict = verify(verifier, envelope(resigned))
    assert_verdict(verdict, "INVALID", CREDENTIAL=("VALID", "OK"), DOCUMENT_INTEGRITY=("INVALID", "TAMPERED"))
    # the payload changed under the old signature
    header, _payload, signature = token.split(".")
    spliced = ".".join([header, resigned.split(".")[1], signature])
    verdict = verify(verifier, envelope(spliced))
    assert_verdict(verdict, "INVALID", CREDENTIAL=("INVALID", "VC_SIGNATURE_INVALID"))
    assert [f["name"] for f in verdict["fragments"]] == ["CREDENTIAL"]


def test_a_key_of_no_department_or_another_reads_invalid(world: World, issue: IssueFn, verifier: TestClient) -> None:
    doc = parse_document(issue(count=2)[0].raw())
    wait_for_index(verifier)
    for account in (Account.create(), world.natres_key):  # nobody's key; a key of another department
        verdict = verify(verifier, envelope(credential_of(doc, account, world)))
        assert_verdict(verdict, "INVALID", CREDENTIAL=("INVALID", "VC_WRONG_ISSUER"), DOCUMENT_STATUS=("VALID", "OK"))


def test_a_key_outside_its_window_at_signing_reads_invalid(world: World, issue: IssueFn, verifier: TestClient) -> None:
    doc = parse_document(issue(count=2)[0].raw())
    now = world.now()
    later = add_key(world, SAMR, valid_from=now + 86_400)
    wait_for_index(verifier)
    early = export_credential(doc, key_of(later), issued_at=now)  # signed before the key's window opens
    verdict = verify_until(
        verifier, envelope(early), lambda v: fragment(v, "CREDENTIAL")["code"] != "CHAIN_UNAVAILABLE"
    )
    assert_verdict(verdict, "INVALID", CREDENTIAL=("INVALID", "VC_WRONG_ISSUER"))
    inside = export_credential(doc, key_of(later), issued_at=now + 86_400 + 60)
    assert_verdict(verify(verifier, envelope(inside)), "VALID", CREDENTIAL=("VALID", "OK"))


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (
            {"@context": "https://www.w3.org/ns/credentials/v2", "type": "EnvelopedVerifiableCredential", "id": "x"},
            "VC_MALFORMED",
        ),
        (
            {
                "@context": "https://www.w3.org/ns/credentials/v2",
                "type": "EnvelopedVerifiableCredential",
                "id": "data:application/vc+jwt,e30.e30.AAAA",
            },
            "VC_MALFORMED",
        ),
    ],
)
def test_a_broken_credential_is_an_invalid_verdict(verifier: TestClient, body: dict[str, Any], code: str) -> None:
    verdict = verify(verifier, body)
    assert_verdict(verdict, "INVALID", CREDENTIAL=("INVALID", code))


def test_a_credential_carrying_a_malformed_document_is_an_invalid_verdict(
    world: World, issue: IssueFn, verifier: TestClient
) -> None:
    doc = parse_document(issue(count=2)[0].raw())
    credential = open_credential(credential_of(doc, world.samr_key, world)).credential
    credential["eregProof"]["salts"] = {"/name": "zz"}  # not a salt: the rebuilt document is malformed
    verdict = verify(verifier, envelope(sign_credential(credential, key_of(world.samr_key))))
    assert_verdict(verdict, "INVALID", CREDENTIAL=("INVALID", "VC_MALFORMED"))
    assert fragment(verdict, "CREDENTIAL")["details"] == {"pointer": "/salts/~1name"}
