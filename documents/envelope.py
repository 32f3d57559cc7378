"""Encryption envelope for storage in IPFS.

Two ciphers, one layout ``nonce (12) ‖ ciphertext ‖ tag (16)``, the plaintext being the JCS
UTF-8 bytes of the wrapped document:

* ``ereg/1``: AES-256-GCM under a fresh 32-byte key, associated data ``b"ereg/1"`` —
  WebCrypto's ``crypto.subtle.decrypt({name: "AES-GCM", iv: nonce, additionalData: "ereg/1"},
  key, rest)`` opens ``rest = blob[12:]`` directly;
* ``ereg/1-sm``: SM4-GCM (GB/T 32907 in GCM) under a fresh 16-byte key, associated data
  ``b"ereg/1-sm"``.

The key's length names the cipher (32 bytes AES-256, 16 bytes SM4): a reader never tries one
after the other. Both run in OpenSSL through ``cryptography``.
"""

from __future__ import annotations

import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import DecryptionError
from .suite import SUITE_KECCAK, SUITE_SM, Suite

__all__ = [
    "ASSOCIATED_DATA",
    "KEY_BYTES",
    "NONCE_BYTES",
    "SM4_KEY_BYTES",
    "TAG_BYTES",
    "new_key",
    "open",
    "open_envelope",
    "seal",
    "seal_with",
    "suite_of_key",
]

KEY_BYTES = 32
SM4_KEY_BYTES = 16
NONCE_BYTES = 12
TAG_BYTES = 16
ASSOCIATED_DATA = b"ereg/1"
_SM_AD = SUITE_SM.associated_data


def new_key(suite: Suite = SUITE_KECCAK) -> bytes:
    """A fresh random key for ``suite``'s cipher (32 bytes AES-256, 16 bytes SM4)."""
    return secrets.token_bytes(suite.key_bytes)


def suite_of_key(key: bytes) -> Suite:
    """The suite whose envelope a key of this length opens; :class:`DecryptionError` otherwise."""
    if len(key) == KEY_BYTES:
        return SUITE_KECCAK
    if len(key) == SM4_KEY_BYTES:
        return SUITE_SM
    raise DecryptionError(
        f"key must be {KEY_BYTES} (AES-256) or {SM4_KEY_BYTES} (SM4) bytes, got {len(key)}",
        f"密钥长度必须为 {KEY_BYTES} 字节（AES-256）或 {SM4_KEY_BYTES} 字节（SM4），实际为 {len(key)}",
        code="BAD_KEY",
    )


def _sm4_seal(key: bytes, nonce: bytes, plaintext: bytes) -> bytes:
    enc = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    enc.authenticate_additional_data(_SM_AD)
    body = enc.update(plaintext) + enc.finalize()
    return nonce + body + enc.tag


def _sm4_open(key: bytes, blob: bytes) -> bytes:
    nonce, body, tag = blob[:NONCE_BYTES], blob[NONCE_BYTES:-TAG_BYTES], blob[-TAG_BYTES:]
    dec = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    dec.authenticate_additional_data(_SM_AD)
    return dec.update(body) + dec.finalize()


def seal_with(key: bytes, nonce: bytes, plaintext: bytes) -> bytes:
    """Encrypt with an explicit key and nonce (test vectors; never reuse a key/nonce pair)."""
    suite = suite_of_key(key) if len(key) in (KEY_BYTES, SM4_KEY_BYTES) else None
    if suite is None:
        raise ValueError(f"key must be {KEY_BYTES} or {SM4_KEY_BYTES} bytes")
    if len(nonce) != NONCE_BYTES:
        raise ValueError(f"nonce must be {NONCE_BYTES} bytes")
    if suite is SUITE_SM:
        return _sm4_seal(key, nonce, plaintext)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, ASSOCIATED_DATA)


def seal(plaintext: bytes, suite: Suite = SUITE_KECCAK) -> tuple[bytes, bytes]:
    """Encrypt under a fresh key and nonce of ``suite``'s cipher; return ``(key, blob)``."""
    key = secrets.token_bytes(suite.key_bytes)
    return key, seal_with(key, secrets.token_bytes(NONCE_BYTES), plaintext)


def open_envelope(key: bytes, blob: bytes) -> bytes:
    """Decrypt and authenticate ``blob``; raise :class:`DecryptionError` on any failure."""
    suite = suite_of_key(key)
    if len(blob) < NONCE_BYTES + TAG_BYTES:
        raise DecryptionError(
            f"envelope too short ({len(blob)} bytes)",
            f"密文过短（{len(blob)} 字节）",
            code="TRUNCATED",
        )
    try:
        if suite is SUITE_SM:
            return _sm4_open(key, blob)
        return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], ASSOCIATED_DATA)
    except InvalidTag:
        raise DecryptionError(
            "cannot decrypt: wrong key or tampered ciphertext",
            "无法解密：密钥错误或密文被篡改",
            code="DECRYPTION_FAILED",
        ) from None


open = open_envelope
