"""The ``ereg/1-sm`` suite: standard vectors of SM3 and SM4, its own vectors recomputed
independently, and wrap → integrity → disclosure → envelope with SM3/SM4/SM2."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from documents import (
    check_integrity,
    document_from_obj,
    document_to_bytes,
    document_to_dict,
    hide_fields,
    open_envelope,
    parse_document,
    parse_qr_url,
    seal,
    wrap_batch,
)
from documents.errors import MalformedDocument
from documents.fields import iter_fields
from documents.sm2 import Sm2PrivateKey, Sm2PublicKey, verify
from documents.sm3 import SM3_BACKEND, sm3
from documents.suite import SUITE_KECCAK, SUITE_SM, root_message, suite_named

HERE = pathlib.Path(__file__).parent
VECTORS: dict[str, Any] = json.loads((HERE / "vectors" / "ereg1-sm.json").read_text("utf-8"))
FORMAT_MD = (HERE.parents[1] / "docs" / "FORMAT.md").read_text("utf-8")


def ref_sm3(data: bytes) -> bytes:
    """SM3 through cryptography's own binding, whichever backend documents.sm3 took."""
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize()


def h(hex_str: str) -> bytes:
    return bytes.fromhex(hex_str.removeprefix("0x"))


# ------------------------------------------------------------------ standard vectors


def test_sm3_gbt_32905_examples() -> None:
    assert SM3_BACKEND in ("hashlib", "cryptography")
    assert sm3(b"abc").hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert sm3(b"abcd" * 16).hex() == "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    for n in (0, 1, 55, 56, 63, 64, 65, 1000):
        data = bytes(range(256)) * 4
        assert sm3(data[:n]) == ref_sm3(data[:n])


def test_sm4_gbt_32907_example() -> None:
    # GB/T 32907-2016 Appendix A, example 1: one block, key = plaintext
    key = bytes.fromhex("0123456789abcdeffedcba9876543210")
    enc = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()  # noqa: S305 - the standard's one-block example
    assert (enc.update(key) + enc.finalize()).hex() == "681edf34d206965e86b3e94f536e4246"


def test_sm4_gcm_envelope_is_gcm_over_that_block_cipher() -> None:
    key, blob = seal(b"x" * 33, SUITE_SM)
    assert len(key) == 16 and len(blob) == 12 + 33 + 16
    nonce, body, tag = blob[:12], blob[12:-16], blob[-16:]
    # GCM's keystream is CTR from J0 + 1 = nonce ‖ 00000002 under the same SM4 block cipher
    ctr = Cipher(algorithms.SM4(key), modes.CTR(nonce + b"\x00\x00\x00\x02")).encryptor()
    assert ctr.update(body) == b"x" * 33
    dec = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    dec.authenticate_additional_data(b"ereg/1-sm")
    assert dec.update(body) + dec.finalize() == b"x" * 33
    assert open_envelope(key, blob) == b"x" * 33


# ------------------------------------------------------------------ the suite's own vectors


def test_sm_vector_field_target_and_batch() -> None:
    for f in VECTORS["fields"]:
        preimage = h(f["salt"]) + f["pointerJcs"].encode() + f["valueJcs"].encode()
        assert ref_sm3(preimage).hex() == f["fieldHash"][2:], f["pointer"]
    hashes = sorted(h(f["fieldHash"]) for f in VECTORS["fields"])
    target = ref_sm3(b"".join(hashes))
    assert "0x" + target.hex() == VECTORS["targetHash"]
    leaves = [ref_sm3(b"\x00" + h(t)) for t in VECTORS["batch"]["targetHashes"]]
    assert ["0x" + x.hex() for x in leaves] == VECTORS["batch"]["leaves"]
    n01 = ref_sm3(min(leaves[0], leaves[1]) + max(leaves[0], leaves[1]))
    root = ref_sm3(min(n01, leaves[2]) + max(n01, leaves[2]))
    assert "0x" + root.hex() == VECTORS["batch"]["root"]
    assert VECTORS["batch"]["proofs"][0] == ["0x" + leaves[1].hex(), "0x" + leaves[2].hex()]


def test_sm_vector_signature_document_envelope_and_qr() -> None:
    s = VECTORS["signature"]
    issuer = VECTORS["issuer"]
    message = root_message(issuer["chainId"], issuer["registry"], h(issuer["department"]), h(VECTORS["batch"]["root"]))
    assert message.hex() == s["message"]
    key = Sm2PrivateKey(int(s["privateKey"], 16))
    assert key.public_key.hex() == s["publicKey"]
    assert verify(Sm2PublicKey.from_bytes(h(s["publicKey"])), message, h(s["value"]))
    doc = parse_document(VECTORS["documentJcs"])
    assert doc.version == "ereg/1-sm"
    assert document_to_bytes(doc).decode() == VECTORS["documentJcs"]
    assert check_integrity(doc).ok
    env = VECTORS["envelope"]
    # SM4-GCM through the cipher primitive directly, not documents.envelope
    enc = Cipher(algorithms.SM4(h(env["key"])), modes.GCM(h(env["nonce"]))).encryptor()
    enc.authenticate_additional_data(env["associatedData"].encode())
    body = enc.update(VECTORS["documentJcs"].encode()) + enc.finalize()
    assert (h(env["nonce"]) + body + enc.tag).hex() == env["blob"]
    assert open_envelope(h(env["key"]), h(env["blob"])).decode() == VECTORS["documentJcs"]
    assert parse_qr_url(VECTORS["qr"]["url"]).key == h(env["key"])
    hidden = hide_fields(doc, VECTORS["disclosure"]["hide"])
    assert hidden.privacy.obfuscated == VECTORS["disclosure"]["obfuscated"]
    assert check_integrity(hidden).ok


def test_format_md_quotes_the_sm_vectors() -> None:
    for value in (
        VECTORS["targetHash"],
        VECTORS["batch"]["root"],
        VECTORS["signature"]["value"],
        VECTORS["signature"]["message"],
        VECTORS["documentJcs"],
        VECTORS["envelope"]["smallBlob"],
        VECTORS["qr"]["url"],
    ):
        assert value in FORMAT_MD


# ------------------------------------------------------------------ wrap, integrity, suite rules

ISSUER = {"department": "0x" + "22" * 32, "chainId": 2018, "registry": "0x5FbDB2315678afecb367f032d93F642f64180aa3"}
VALIDITY = {"validFrom": "2026-01-01T00:00:00Z", "validUntil": None}
RECORDS = [{"name": f"商户{i}", "licenceNo": f"L-{i:04d}", "scope": {"main": "餐饮"}} for i in range(5)]


@pytest.fixture(scope="module")
def sm2_key() -> Sm2PrivateKey:
    return Sm2PrivateKey.generate()


def sm_batch(sm2_key: Sm2PrivateKey) -> Any:
    return wrap_batch(
        RECORDS, "example-certificate", ISSUER, VALIDITY, check_schema=False, suite=SUITE_SM, sm2_key=sm2_key
    )


def test_wrapped_sm_batch_checks_and_is_signed(sm2_key: Sm2PrivateKey) -> None:
    batch = sm_batch(sm2_key)
    keccak = wrap_batch(RECORDS, "example-certificate", ISSUER, VALIDITY, check_schema=False)
    assert batch.root != keccak.root
    message = root_message(2018, ISSUER["registry"], h(ISSUER["department"]), batch.root)
    for doc in batch.documents:
        result = check_integrity(doc)
        assert result.ok and result.merkle_root == batch.root
        assert doc.proof.signature is not None and doc.proof.signature.key == sm2_key.public_key.hex()
        assert sm2_key.public_key.verify(message, h(doc.proof.signature.value))
        assert document_from_obj(json.loads(document_to_bytes(doc))) == document_from_obj(document_to_dict(doc))
    # the keccak tree of the same targets is not this root: the suite is really SM3
    targets = [h(d.proof.target_hash) for d in batch.documents]
    from documents.merkle import MerkleTree

    assert MerkleTree(targets, SUITE_SM).root == batch.root != MerkleTree(targets, SUITE_KECCAK).root


def test_tampered_sm_document_and_keccak_reading_fail(sm2_key: Sm2PrivateKey) -> None:
    doc = document_to_dict(sm_batch(sm2_key).documents[1])
    tampered = json.loads(json.dumps(doc))
    tampered["data"]["licenceNo"] = "L-9999"
    assert check_integrity(tampered).code == "TAMPERED"
    # the same document read as ereg/1 (keccak) is not intact either: the suite is not guessed
    relabelled = json.loads(json.dumps(doc))
    relabelled["version"] = "ereg/1"
    del relabelled["proof"]["signature"]
    assert check_integrity(relabelled).code == "TAMPERED"


def test_signature_presence_follows_the_suite(sm2_key: Sm2PrivateKey) -> None:
    doc = document_to_dict(sm_batch(sm2_key).documents[0])
    unsigned = json.loads(json.dumps(doc))
    del unsigned["proof"]["signature"]
    with pytest.raises(MalformedDocument) as info:
        document_from_obj(unsigned)
    assert info.value.pointer == "/proof/signature"
    keccak = document_to_dict(
        wrap_batch(RECORDS[:1], "example-certificate", ISSUER, VALIDITY, check_schema=False).documents[0]
    )
    assert "signature" not in keccak["proof"]
    keccak["proof"]["signature"] = None  # absent, not null
    with pytest.raises(MalformedDocument) as info:
        document_from_obj(keccak)
    assert info.value.pointer == "/proof/signature"
    keccak["proof"]["signature"] = doc["proof"]["signature"]
    with pytest.raises(MalformedDocument) as info:
        document_from_obj(keccak)
    assert info.value.pointer == "/proof/signature"
    bad = json.loads(json.dumps(doc))
    bad["proof"]["signature"]["alg"] = "ECDSA"
    assert check_integrity(bad).code == "MALFORMED"


def test_wrap_refuses_a_missing_or_stray_key(sm2_key: Sm2PrivateKey) -> None:
    with pytest.raises(ValueError, match="SM2 key"):
        wrap_batch(RECORDS, "example-certificate", ISSUER, VALIDITY, check_schema=False, suite=SUITE_SM)
    with pytest.raises(ValueError, match="no SM2 signature"):
        wrap_batch(RECORDS, "example-certificate", ISSUER, VALIDITY, check_schema=False, sm2_key=sm2_key)


def test_suite_names() -> None:
    assert suite_named("sm") is SUITE_SM and suite_named("ereg/1-sm") is SUITE_SM
    assert suite_named("keccak") is SUITE_KECCAK and suite_named("default") is SUITE_KECCAK
    with pytest.raises(ValueError, match="unknown suite"):
        suite_named("sha256")


def test_hidden_fields_use_sm3(sm2_key: Sm2PrivateKey) -> None:
    doc = sm_batch(sm2_key).documents[2]
    hidden = hide_fields(doc, ["/scope"])
    assert check_integrity(hidden).ok
    assert [p for p, _ in iter_fields(hidden.data)] == ["/name", "/licenceNo"]
