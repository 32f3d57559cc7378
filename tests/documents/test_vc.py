"""W3C VC 2.0 export (documents/vc.py), checked by libraries that are not this project's.

PyJWT and jwcrypto check the ES256K signature with the key the did:key names (decoded here with
the ``base58`` package, not the project's decoder); PyLD expands the credential with the shipped
contexts only (its document loader refuses every other URL, so nothing is fetched).
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import base58
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from eth_utils import keccak, to_checksum_address
from jwcrypto import jwk, jws
from pyld import jsonld

from documents import WrappedBatch, check_integrity, document_to_dict, hide_fields, wrap_batch
from documents.integrity import IntegrityCode
from documents.samples import SAMPLE_ISSUER, SAMPLE_VALIDITY, sample_business_licence
from documents.vc import (
    EREG_CONTEXT,
    VC_V2_CONTEXT,
    CredentialError,
    address_of,
    context_bytes,
    context_document,
    did_key_of_private,
    document_of,
    envelope,
    export_credential,
    open_credential,
    resolve_did_key,
    sign_credential,
    to_credential,
    unenvelope,
)

KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
KEY_ADDRESS = "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23"  # the eth-account documentation's example key
OTHER_KEY = bytes.fromhex("11" * 32)


@pytest.fixture(scope="module")
def licence_batch() -> WrappedBatch:
    return wrap_batch(
        [sample_business_licence(i) for i in range(2)], "business-license", SAMPLE_ISSUER, SAMPLE_VALIDITY
    )


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def independent_public_key(did: str) -> ec.EllipticCurvePublicKey:
    """did:key -> key, by the did:key method's rules, with the base58 package."""
    assert did.startswith("did:key:z")
    raw = base58.b58decode(did[len("did:key:z") :])
    assert raw[:2] == b"\xe7\x01", "multicodec secp256k1-pub"
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256K1(), raw[2:])


def loader(url: str, _options: Any = None) -> dict[str, Any]:
    """PyLD document loader that knows the shipped contexts and nothing else."""
    files = {VC_V2_CONTEXT: context_document(VC_V2_CONTEXT), EREG_CONTEXT: context_document(EREG_CONTEXT)}
    if url not in files:
        raise jsonld.JsonLdError("no network here", "jsonld.LoadDocumentError", details={"url": url})
    return {"contextUrl": None, "documentUrl": url, "document": files[url]}


# ------------------------------------------------------------------------------ did:key
def test_did_key_is_the_compressed_secp256k1_key_in_base58btc() -> None:
    did = did_key_of_private(KEY)
    assert did.startswith("did:key:zQ3s")  # every secp256k1 did:key starts so (multicodec 0xe701)
    point = independent_public_key(did).public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    assert to_checksum_address(keccak(point[1:])[-20:]) == KEY_ADDRESS
    assert address_of(resolve_did_key(did)) == KEY_ADDRESS


def test_a_published_did_key_vector_resolves() -> None:
    # the did:key method's secp256k1 example (w3c-ccg/did-method-key, test-vectors/secp256k1.json)
    did = "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme"
    numbers = independent_public_key(did).public_numbers()
    uncompressed = b"\x04" + numbers.x.to_bytes(32, "big") + numbers.y.to_bytes(32, "big")
    assert resolve_did_key(did).format(compressed=False) == uncompressed


@pytest.mark.parametrize(
    "did",
    [
        "did:web:example.org",
        "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",  # Ed25519
        "did:key:zQ3s0OIl",  # not base58
        "did:key:z" + "1" * 40,
    ],
)
def test_other_dids_are_refused(did: str) -> None:
    with pytest.raises(CredentialError) as info:
        resolve_did_key(did)
    assert info.value.code == "VC_BAD_ISSUER"


# ---------------------------------------------------------------------------- mapping
def test_the_credential_maps_every_member(licence_batch: WrappedBatch) -> None:
    doc = licence_batch.documents[0]
    credential = to_credential(doc, issued_at=1_800_000_000, issuer_did=did_key_of_private(KEY))
    assert credential["@context"] == [VC_V2_CONTEXT, EREG_CONTEXT]
    assert credential["type"] == ["VerifiableCredential", "EregCredential"]
    assert credential["name"] == "营业执照 Business licence"
    assert credential["issuer"] == {"id": did_key_of_private(KEY), "department": doc.issuer.department}
    assert credential["validFrom"] == doc.validity.valid_from
    assert ("validUntil" in credential) == (doc.validity.valid_until is not None)
    assert credential["credentialSubject"] == doc.data
    assert credential["credentialStatus"] == {
        "type": "EregRegistryStatus",
        "chainId": doc.issuer.chain_id,
        "registry": doc.issuer.registry,
        "department": doc.issuer.department,
        "merkleRoot": doc.proof.merkle_root,
        "targetHash": doc.proof.target_hash,
    }
    wrapped = document_to_dict(doc)
    del wrapped["data"]
    assert credential["eregProof"] == wrapped
    sri = "sha384-" + base64.b64encode(hashlib.sha384(context_bytes(EREG_CONTEXT)).digest()).decode()
    assert credential["relatedResource"] == [{"id": EREG_CONTEXT, "digestSRI": sri}]
    assert credential["iat"] == 1_800_000_000


def test_the_document_comes_back_byte_for_byte(licence_batch: WrappedBatch) -> None:
    for doc in [licence_batch.documents[1], hide_fields(licence_batch.documents[1], ["/legalRepresentative"])]:
        signed = open_credential(export_credential(doc, KEY))
        rebuilt = document_of(signed.credential)
        assert document_to_dict(rebuilt) == document_to_dict(doc)
        assert check_integrity(document_to_dict(rebuilt)).code is IntegrityCode.OK
        assert signed.signer_address == KEY_ADDRESS


def test_a_changed_claim_is_a_tampered_document(licence_batch: WrappedBatch) -> None:
    doc = licence_batch.documents[0]
    name = doc.data["name"]
    credential = to_credential(doc, issuer_did=did_key_of_private(OTHER_KEY))
    credential["credentialSubject"]["name"] = "另一家公司"
    assert doc.data["name"] == name  # the credential is a copy
    forged = open_credential(sign_credential(credential, OTHER_KEY))  # re-signed by whoever changed it
    result = check_integrity(document_to_dict(document_of(forged.credential)))
    assert result.code is IntegrityCode.TAMPERED


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("validFrom", "2020-01-01T00:00:00Z"),
        ("credentialStatus", {"type": "EregRegistryStatus"}),
        ("issuer", {"id": "did:key:zQ3s", "department": "0x" + "ab" * 32}),
    ],
)
def test_members_the_proof_repeats_must_agree(licence_batch: WrappedBatch, member: str, value: Any) -> None:
    credential = to_credential(licence_batch.documents[0], issuer_did=did_key_of_private(KEY))
    credential[member] = value
    with pytest.raises(CredentialError) as info:
        document_of(credential)
    assert info.value.code == "VC_INCONSISTENT"


def test_unknown_members_and_contexts_are_refused(licence_batch: WrappedBatch) -> None:
    credential = to_credential(licence_batch.documents[0], issuer_did=did_key_of_private(KEY))
    with pytest.raises(CredentialError, match="unknown credential member"):
        document_of({**credential, "evidence": []})
    with pytest.raises(CredentialError, match="@context"):
        document_of({**credential, "@context": [VC_V2_CONTEXT]})


@pytest.mark.parametrize("key", ["id", "type", "@id", "x:y"])
def test_fields_json_ld_reserves_are_refused_at_export(licence_batch: WrappedBatch, key: str) -> None:
    record = sample_business_licence(7)
    record["address"] = {"street": "人民路 1 号", key: "x"}
    doc = wrap_batch([record], "business-license", SAMPLE_ISSUER, SAMPLE_VALIDITY, check_schema=False).documents[0]
    with pytest.raises(CredentialError) as info:
        to_credential(doc, issuer_did=did_key_of_private(KEY))
    assert info.value.code == "VC_FIELD_RESERVED"
    assert f"/address/{key}" in str(info.value)


# ------------------------------------------------------------------- independent checks
def test_pyjwt_checks_the_signature(licence_batch: WrappedBatch) -> None:
    token = export_credential(licence_batch.documents[0], KEY)
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256K" and header["typ"] == "vc+jwt" and header["cty"] == "vc"
    did, fragment = header["kid"].split("#")
    assert fragment == did.removeprefix("did:key:")
    claims = jwt.decode(token, independent_public_key(did), algorithms=["ES256K"], options={"verify_iat": False})
    assert claims["credentialSubject"] == licence_batch.documents[0].data
    with pytest.raises(jwt.InvalidSignatureError):
        other = independent_public_key(did_key_of_private(OTHER_KEY))
        jwt.decode(token, other, algorithms=["ES256K"])


def test_jwcrypto_checks_the_signature(licence_batch: WrappedBatch) -> None:
    token = export_credential(licence_batch.documents[0], KEY)
    did = jwt.get_unverified_header(token)["kid"].split("#")[0]
    x = independent_public_key(did).public_numbers()
    key = jwk.JWK(kty="EC", crv="secp256k1", x=b64url(x.x.to_bytes(32, "big")), y=b64url(x.y.to_bytes(32, "big")))
    checker = jws.JWS()
    checker.deserialize(token)
    checker.verify(key, alg="ES256K")
    assert json.loads(checker.payload)["issuer"]["id"] == did


def test_the_signature_is_low_s(licence_batch: WrappedBatch) -> None:
    order = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    for _ in range(8):
        token = export_credential(licence_batch.documents[0], KEY)
        signature = base64.urlsafe_b64decode(token.split(".")[2] + "==")
        assert int.from_bytes(signature[32:], "big") <= order // 2


def test_pyld_expands_the_credential_with_the_shipped_contexts(licence_batch: WrappedBatch) -> None:
    doc = hide_fields(licence_batch.documents[0], ["/phone"])
    credential = open_credential(export_credential(doc, KEY)).credential
    expanded = jsonld.expand(credential, {"documentLoader": loader})
    assert len(expanded) == 1
    node = expanded[0]
    cred = "https://www.w3.org/2018/credentials#"
    assert node["@type"] == [cred + "VerifiableCredential", "https://ereg.example/credentials#EregCredential"]
    subject = node[cred + "credentialSubject"][0]
    fields = "https://ereg.example/credentials/fields#"
    for key, value in doc.data.items():
        iri = "https://schema.org/name" if key == "name" else fields + key
        if isinstance(value, dict):  # a nested object is a node of its own; JSON-LD drops nulls
            present = {k for k, v in value.items() if v is not None}
            assert {k.removeprefix(fields) for k in subject[iri][0]} == present, key
        else:
            assert subject[iri] == [{"@value": value}], key
    assert fields + "phone" not in subject
    status = node[cred + "credentialStatus"][0]
    assert status["@type"] == ["https://ereg.example/credentials#EregRegistryStatus"]
    assert status["https://ereg.example/credentials#merkleRoot"] == [{"@value": doc.proof.merkle_root}]
    proof = node["https://ereg.example/credentials#eregProof"][0]
    assert proof["@type"] == "@json" and proof["@value"]["salts"] == doc.salts
    issuer = node[cred + "issuer"][0]
    assert issuer["@id"] == did_key_of_private(KEY)
    assert issuer["https://ereg.example/credentials#department"] == [{"@value": doc.issuer.department}]


def test_pyld_expands_a_property_certificate_with_owners() -> None:
    from documents.samples import sample_record

    doc = wrap_batch(
        [sample_record("property-certificate")], "property-certificate", SAMPLE_ISSUER, SAMPLE_VALIDITY
    ).documents[0]
    credential = open_credential(export_credential(doc, KEY)).credential
    node = jsonld.expand(credential, {"documentLoader": loader})[0]
    subject = node["https://www.w3.org/2018/credentials#credentialSubject"][0]
    owners = subject["https://ereg.example/credentials/fields#owners"]
    assert len(owners) == len(doc.data["owners"])
    assert document_to_dict(document_of(credential)) == document_to_dict(doc)


def test_the_shipped_v2_context_is_the_published_one() -> None:
    digest = hashlib.sha256(context_bytes(VC_V2_CONTEXT)).hexdigest()
    assert digest == "8a9f494a89ecc51db093e90e84713e07e84d6d9204364a9b3c7868b21751236f"


# ------------------------------------------------------------------------- JWS reading
def test_envelope_round_trip(licence_batch: WrappedBatch) -> None:
    token = export_credential(licence_batch.documents[0], KEY)
    wrapped = envelope(token)
    assert wrapped == {
        "@context": VC_V2_CONTEXT,
        "id": "data:application/vc+jwt," + token,
        "type": "EnvelopedVerifiableCredential",
    }
    assert unenvelope(wrapped) == token
    with pytest.raises(CredentialError):
        unenvelope({**wrapped, "id": "data:application/jwt," + token})
    with pytest.raises(CredentialError):
        unenvelope({**wrapped, "extra": 1})


def test_a_signature_by_another_key_is_refused(licence_batch: WrappedBatch) -> None:
    token = export_credential(licence_batch.documents[0], KEY)
    other = export_credential(licence_batch.documents[0], OTHER_KEY)
    spliced = ".".join([*token.split(".")[:2], other.split(".")[2]])
    with pytest.raises(CredentialError) as info:
        open_credential(spliced)
    assert info.value.code == "VC_SIGNATURE_INVALID"


def test_a_changed_payload_is_refused(licence_batch: WrappedBatch) -> None:
    token = export_credential(licence_batch.documents[0], KEY)
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["credentialSubject"]["name"] = "另一家公司"
    changed = b64url(json.dumps(claims, ensure_ascii=False, separators=(",", ":")).encode())
    with pytest.raises(CredentialError) as info:
        open_credential(f"{header}.{changed}.{signature}")
    assert info.value.code == "VC_SIGNATURE_INVALID"


@pytest.mark.parametrize(
    "header",
    [
        {"alg": "none", "typ": "vc+jwt"},
        {"alg": "ES256", "typ": "vc+jwt"},
        {"alg": "ES256K", "typ": "JWT"},
        {"alg": "ES256K", "typ": "vc+jwt", "crit": ["b64"]},
    ],
)
def test_other_profiles_are_refused(licence_batch: WrappedBatch, header: dict[str, Any]) -> None:
    token = export_credential(licence_batch.documents[0], KEY)
    kid = jwt.get_unverified_header(token)["kid"]
    forged = b64url(json.dumps({**header, "kid": kid}).encode()) + "." + ".".join(token.split(".")[1:])
    with pytest.raises(CredentialError) as info:
        open_credential(forged)
    assert info.value.code == "VC_MALFORMED"


@pytest.mark.parametrize("token", ["", "a.b", "a.b.c.d", "!!.a.b", "e30.e30.", "W10.e30.AA"])
def test_garbage_is_malformed_not_a_crash(token: str) -> None:
    with pytest.raises(CredentialError):
        open_credential(token)


# ------------------------------------------------------------------------------ vector
def test_the_format_documents_vector_is_reproduced() -> None:
    """docs/FORMAT.md §13's worked example: RFC 6979 signatures make the whole JWT reproducible."""
    from pathlib import Path

    from documents import document_from_obj

    vectors = Path(__file__).parent / "vectors"
    vector = json.loads((vectors / "vc1.json").read_text(encoding="utf-8"))
    base = json.loads((vectors / "ereg1.json").read_text(encoding="utf-8"))
    doc = hide_fields(document_from_obj(base["document"]), vector["hide"])
    token = export_credential(doc, bytes.fromhex(vector["privateKey"]), issued_at=vector["iat"])
    assert token == vector["jwt"]
    assert hashlib.sha256(token.encode()).hexdigest() == vector["jwtSha256"]
    assert did_key_of_private(bytes.fromhex(vector["privateKey"])) == vector["didKey"]
    signed = open_credential(token)
    assert signed.header == vector["header"] and signed.credential == vector["credential"]
    assert signed.signer_address == vector["address"]
    public = independent_public_key(vector["didKey"])
    assert jwt.decode(token, public, algorithms=["ES256K"], options={"verify_iat": False}) == vector["credential"]
    # libsecp256k1 (through coincurve) signs with RFC 6979 nonces and low S too: the same signature
    import coincurve

    signing_input = ".".join(token.split(".")[:2]).encode()
    compact = coincurve.PrivateKey(bytes.fromhex(vector["privateKey"])).sign_recoverable(
        hashlib.sha256(signing_input).digest(), hasher=None
    )[:64]
    assert b64url(compact) == token.split(".")[2]


def test_a_high_s_signature_by_another_library_is_accepted(licence_batch: WrappedBatch) -> None:
    """ES256K allows either S; OpenSSL (through cryptography) signs with whatever S its nonce gives."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import utils

    token = export_credential(licence_batch.documents[0], KEY)
    signing_input = ".".join(token.split(".")[:2]).encode()
    key = ec.derive_private_key(int.from_bytes(KEY, "big"), ec.SECP256K1())
    order = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    r, s = utils.decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
    high = max(s, order - s)
    token = signing_input.decode() + "." + b64url(r.to_bytes(32, "big") + high.to_bytes(32, "big"))
    assert open_credential(token).signer_address == KEY_ADDRESS


def test_the_issuer_must_be_the_key_that_signed(licence_batch: WrappedBatch) -> None:
    from documents.vc import read_credential

    # a department key signs a credential that names another key as its issuer
    credential = to_credential(licence_batch.documents[0], issuer_did=did_key_of_private(KEY))
    with pytest.raises(CredentialError) as info:
        read_credential(sign_credential(credential, OTHER_KEY))
    assert info.value.code == "VC_INCONSISTENT"
    signed, doc = read_credential(sign_credential(credential, KEY))
    assert (
        signed.signer == credential["issuer"]["id"]
        and doc.proof.target_hash == credential["credentialStatus"]["targetHash"]
    )


def test_the_name_is_the_types_title(licence_batch: WrappedBatch) -> None:
    credential = to_credential(licence_batch.documents[0], issuer_did=did_key_of_private(KEY))
    for name in ("不动产权证书", None):
        changed = {**credential, "name": name} if name else {k: v for k, v in credential.items() if k != "name"}
        with pytest.raises(CredentialError) as info:
            document_of(changed)
        assert info.value.code == "VC_INCONSISTENT"
