"""SM2 digital signatures (GB/T 32918.2, GM/T 0003.2) over the recommended curve (GB/T 32918.5).

The curve arithmetic is python-ecdsa's (Jacobian coordinates, precomputed multiples of the
generator, Shamir's trick for ``s·G + t·P``); this module adds only what SM2 defines on top:

* ``Z_A = SM3(ENTL_A ‖ ID_A ‖ a ‖ b ‖ x_G ‖ y_G ‖ x_A ‖ y_A)`` with the standard default user
  id ``1234567812345678`` (GM/T 0009), ``e = SM3(Z_A ‖ M)``;
* signing: ``(x1, y1) = k·G``, ``r = (e + x1) mod n`` (``r ≠ 0``, ``r + k ≠ n``),
  ``s = (1 + d)⁻¹ · (k − r·d) mod n`` (``s ≠ 0``), ``k`` fresh from the OS for each signature;
* verification: ``r, s ∈ [1, n−1]``, ``t = (r + s) mod n ≠ 0``, ``(x1, y1) = s·G + t·P_A``,
  valid iff ``(e + x1) mod n = r``.

Signatures are the 64 bytes ``r ‖ s`` (big-endian, 32 bytes each); public keys the 64 bytes
``x ‖ y`` (the uncompressed point without its ``04`` prefix). The test vectors of
GB/T 32918.5 Annex A (GM/T 0003.5) are in ``tests/documents/test_sm2.py``.

python-ecdsa is not constant-time: a signing host shared with an attacker who can time it
could learn about ``k``. Signing runs once per batch on the department's own machine; the
verifier only verifies (public data).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import lru_cache

from ecdsa.ellipticcurve import INFINITY, CurveFp, PointJacobi

from .sm3 import sm3

__all__ = [
    "DEFAULT_USER_ID",
    "N",
    "P",
    "Sm2PrivateKey",
    "Sm2PublicKey",
    "is_on_curve",
    "sign",
    "verify",
    "z_a",
]

P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
A = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC
B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
GX = 0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7
GY = 0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0

#: The default user id of GM/T 0009 (the 16 ASCII bytes "1234567812345678").
DEFAULT_USER_ID = b"1234567812345678"

_CURVE = CurveFp(P, A, B, 1)
_G = PointJacobi(_CURVE, GX, GY, 1, N, generator=True)
_CURVE_BYTES = b"".join(v.to_bytes(32, "big") for v in (A, B, GX, GY))


def is_on_curve(x: int, y: int) -> bool:
    """True if ``(x, y)`` is a point of the SM2 curve (coordinates in ``[0, p)``, not infinity)."""
    if not (0 <= x < P and 0 <= y < P) or (x == 0 and y == 0):
        return False
    return (y * y - (x * x * x + A * x + B)) % P == 0


def _int32(data: bytes, what: str) -> int:
    if len(data) != 32:
        raise ValueError(f"{what} must be 32 bytes")
    return int.from_bytes(data, "big")


@dataclass(frozen=True)
class Sm2PublicKey:
    """An SM2 public key, the point ``(x, y)``."""

    x: int
    y: int

    def __post_init__(self) -> None:
        if not is_on_curve(self.x, self.y):
            raise ValueError("not a point of the SM2 curve")

    @classmethod
    def from_bytes(cls, raw: bytes) -> Sm2PublicKey:
        """From ``x ‖ y`` (64 bytes) or the uncompressed SEC1 form ``04 ‖ x ‖ y`` (65 bytes)."""
        if len(raw) == 65 and raw[0] == 4:
            raw = raw[1:]
        if len(raw) != 64:
            raise ValueError("an SM2 public key is 64 bytes (x ‖ y)")
        return cls(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))

    def to_bytes(self) -> bytes:
        """``x ‖ y``, 64 bytes."""
        return self.x.to_bytes(32, "big") + self.y.to_bytes(32, "big")

    def hex(self) -> str:
        return "0x" + self.to_bytes().hex()

    def verify(self, message: bytes, signature: bytes, user_id: bytes = DEFAULT_USER_ID) -> bool:
        return verify(self, message, signature, user_id)


class Sm2PrivateKey:
    """An SM2 private key ``d ∈ [1, n−2]`` (``1 + d`` must be invertible mod ``n``)."""

    __slots__ = ("_d", "public_key")

    def __init__(self, d: int) -> None:
        if not 1 <= d <= N - 2:
            raise ValueError("an SM2 private key is an integer in [1, n-2]")
        self._d = d
        point = _G * d
        self.public_key = Sm2PublicKey(point.x(), point.y())

    @classmethod
    def generate(cls) -> Sm2PrivateKey:
        return cls(1 + secrets.randbelow(N - 2))

    @classmethod
    def from_bytes(cls, raw: bytes) -> Sm2PrivateKey:
        return cls(_int32(raw, "an SM2 private key"))

    def to_bytes(self) -> bytes:
        return self._d.to_bytes(32, "big")

    def __repr__(self) -> str:  # never the scalar itself
        return f"Sm2PrivateKey(public={self.public_key.hex()[:18]}…)"

    def sign(self, message: bytes, user_id: bytes = DEFAULT_USER_ID) -> bytes:
        return sign(self, message, user_id)


@lru_cache(maxsize=256)
def _z_a_cached(public: bytes, user_id: bytes) -> bytes:
    bits = len(user_id) * 8
    return sm3(bits.to_bytes(2, "big") + user_id + _CURVE_BYTES + public)


def z_a(public_key: Sm2PublicKey, user_id: bytes = DEFAULT_USER_ID) -> bytes:
    """``Z_A``: the hash of the signer's identity, curve and public key."""
    if len(user_id) * 8 > 0xFFFF:
        raise ValueError("user id too long")
    return _z_a_cached(public_key.to_bytes(), bytes(user_id))


def _e(public_key: Sm2PublicKey, message: bytes, user_id: bytes) -> int:
    return int.from_bytes(sm3(z_a(public_key, user_id) + message), "big")


def sign(
    key: Sm2PrivateKey, message: bytes, user_id: bytes = DEFAULT_USER_ID, *, k: int | None = None
) -> bytes:
    """The signature ``r ‖ s`` (64 bytes) of ``message``.

    ``k`` is for the standard's test vector only; by default each attempt draws a fresh one.
    """
    e = _e(key.public_key, message, user_id)
    d = key._d
    inverse = pow(1 + d, -1, N)
    while True:
        nonce = k if k is not None else 1 + secrets.randbelow(N - 1)
        x1 = int((_G * nonce).x())
        r = (e + x1) % N
        if r == 0 or r + nonce == N:
            if k is not None:
                raise ValueError("this k gives no signature")
            continue
        s = inverse * (nonce - r * d) % N
        if s == 0:
            if k is not None:
                raise ValueError("this k gives no signature")
            continue
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def verify(
    public_key: Sm2PublicKey, message: bytes, signature: bytes, user_id: bytes = DEFAULT_USER_ID
) -> bool:
    """True if ``signature`` (``r ‖ s``) is ``public_key``'s signature of ``message``."""
    if len(signature) != 64:
        return False
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    if not (1 <= r < N and 1 <= s < N):
        return False
    t = (r + s) % N
    if t == 0:
        return False
    point = PointJacobi(_CURVE, public_key.x, public_key.y, 1, N)
    combined = _G.mul_add(s, point, t)
    if combined == INFINITY:
        return False
    e = _e(public_key, message, user_id)
    return bool((e + int(combined.x())) % N == r)
