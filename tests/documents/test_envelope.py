from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from documents import DecryptionError, WrappedDocument, document_to_bytes, open_envelope, seal
from documents import envelope as envelope_module
from documents.envelope import seal_with


def test_round_trip_and_layout() -> None:
    key, blob = seal(b"hello")
    assert len(key) == 32
    assert len(blob) == 12 + 5 + 16
    assert open_envelope(key, blob) == b"hello"
    assert envelope_module.open(key, blob) == b"hello"
    # what WebCrypto does: iv = first 12 bytes, additionalData = "ereg/1", data = the rest
    assert AESGCM(key).decrypt(blob[:12], blob[12:], b"ereg/1") == b"hello"


def test_fresh_key_and_nonce_each_time() -> None:
    k1, b1 = seal(b"same")
    k2, b2 = seal(b"same")
    assert k1 != k2
    assert b1[:12] != b2[:12]


def test_wrong_key_tampered_or_short_blob() -> None:
    key, blob = seal(b"payload")
    with pytest.raises(DecryptionError) as info:
        open_envelope(bytes(32), blob)
    assert info.value.code == "DECRYPTION_FAILED"
    assert info.value.message_zh
    tampered = bytearray(blob)
    tampered[15] ^= 1
    with pytest.raises(DecryptionError):
        open_envelope(key, bytes(tampered))
    with pytest.raises(DecryptionError) as info:
        open_envelope(key, blob[:27])
    assert info.value.code == "TRUNCATED"
    with pytest.raises(DecryptionError) as info:
        open_envelope(key[:24], blob)
    assert info.value.code == "BAD_KEY"
    # 16 bytes is an SM4 key: it names the other cipher, which does not open an AES envelope
    with pytest.raises(DecryptionError) as info:
        open_envelope(key[:16], blob)
    assert info.value.code == "DECRYPTION_FAILED"


def test_associated_data_is_bound() -> None:
    key = bytes(32)
    nonce = bytes(12)
    other = nonce + AESGCM(key).encrypt(nonce, b"x", b"other")
    with pytest.raises(DecryptionError):
        open_envelope(key, other)
    assert open_envelope(key, seal_with(key, nonce, b"x")) == b"x"


def test_seal_with_checks_sizes() -> None:
    with pytest.raises(ValueError, match="key"):
        seal_with(bytes(24), bytes(12), b"")
    with pytest.raises(ValueError, match="nonce"):
        seal_with(bytes(32), bytes(8), b"")


def test_no_personal_value_in_blob(doc: WrappedDocument) -> None:
    plaintext = document_to_bytes(doc)
    id_number = doc.data["owners"][0]["idNumber"]
    name = doc.data["owners"][0]["name"]
    assert id_number.encode() in plaintext  # the check below would catch a leak
    key, blob = seal(plaintext)
    for secret in (id_number, name, doc.data["location"]):
        for encoding in ("utf-8", "utf-16-le", "utf-16-be"):
            assert secret.encode(encoding) not in blob
    assert open_envelope(key, blob) == plaintext
