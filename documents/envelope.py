"""Encryption envelope for storage in IPFS.

AES-256-GCM under a fresh 32-byte key, 12-byte random nonce, associated data ``b"ereg/1"``.
Blob layout: ``nonce (12) ‖ ciphertext ‖ tag (16)`` — WebCrypto's
``crypto.subtle.decrypt({name: "AES-GCM", iv: nonce, additionalData: "ereg/1"}, key, rest)``
opens ``rest = blob[12:]`` directly. The plaintext is the JCS UTF-8 bytes of the wrapped
document.
"""

from __future__ import annotations

import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import DecryptionError

__all__ = [
    "ASSOCIATED_DATA",
    "KEY_BYTES",
    "NONCE_BYTES",
    "TAG_BYTES",
    "new_key",
    "open",
    "open_envelope",
    "seal",
    "seal_with",
]

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
ASSOCIATED_DATA = b"ereg/1"


def new_key() -> bytes:
    """A fresh random 32-byte AES-256 key."""
    return secrets.token_bytes(KEY_BYTES)


def seal_with(key: bytes, nonce: bytes, plaintext: bytes) -> bytes:
    """Encrypt with an explicit key and nonce (test vectors; never reuse a key/nonce pair)."""
    if len(key) != KEY_BYTES:
        raise ValueError(f"key must be {KEY_BYTES} bytes")
    if len(nonce) != NONCE_BYTES:
        raise ValueError(f"nonce must be {NONCE_BYTES} bytes")
    return nonce + AESGCM(key).encrypt(nonce, plaintext, ASSOCIATED_DATA)


def seal(plaintext: bytes) -> tuple[bytes, bytes]:
    """Encrypt under a fresh key and nonce; return ``(key, blob)``."""
    key = secrets.token_bytes(KEY_BYTES)
    return key, seal_with(key, secrets.token_bytes(NONCE_BYTES), plaintext)


def open_envelope(key: bytes, blob: bytes) -> bytes:
    """Decrypt and authenticate ``blob``; raise :class:`DecryptionError` on any failure."""
    if len(key) != KEY_BYTES:
        raise DecryptionError(
            f"key must be {KEY_BYTES} bytes, got {len(key)}",
            f"密钥长度必须为 {KEY_BYTES} 字节，实际为 {len(key)}",
            code="BAD_KEY",
        )
    if len(blob) < NONCE_BYTES + TAG_BYTES:
        raise DecryptionError(
            f"envelope too short ({len(blob)} bytes)",
            f"密文过短（{len(blob)} 字节）",
            code="TRUNCATED",
        )
    try:
        return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], ASSOCIATED_DATA)
    except InvalidTag:
        raise DecryptionError(
            "cannot decrypt: wrong key or tampered ciphertext",
            "无法解密：密钥错误或密文被篡改",
            code="DECRYPTION_FAILED",
        ) from None


open = open_envelope
