"""SM2 signatures (documents/sm2.py) against the example of GB/T 32918.5 Annex A (GM/T 0003.5)."""

from __future__ import annotations

import secrets

import pytest

from documents.sm2 import (
    DEFAULT_USER_ID,
    GX,
    GY,
    N,
    P,
    Sm2PrivateKey,
    Sm2PublicKey,
    is_on_curve,
    sign,
    verify,
    z_a,
)
from documents.sm3 import sm3

# GB/T 32918.5-2017 Annex A / GM/T 0003.5-2012 A.2: signature over the recommended curve
D = 0x3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8
XA = 0x09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020
YA = 0xCCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13
K = 0x59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21
ZA = "b2e14c5c79c6df5b85f4fe7ed8db7a262b9da7e07ccb0ea9f4747b8ccda8a4f3"
E = "f0b43e94ba45accaace692ed534382eb17e6ab5a19ce7b31f4486fdfc0d28640"
R = "f5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3"
S = "b1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aa"
MESSAGE = b"message digest"


def test_standard_example_key_za_e_and_signature() -> None:
    key = Sm2PrivateKey(D)
    assert (key.public_key.x, key.public_key.y) == (XA, YA)
    assert DEFAULT_USER_ID == b"1234567812345678"
    assert z_a(key.public_key).hex() == ZA
    assert sm3(bytes.fromhex(ZA) + MESSAGE).hex() == E
    assert sign(key, MESSAGE, k=K).hex() == R + S
    assert verify(key.public_key, MESSAGE, bytes.fromhex(R + S))


def test_standard_signature_fails_for_any_other_input() -> None:
    public = Sm2PublicKey(XA, YA)
    sig = bytes.fromhex(R + S)
    assert not verify(public, b"message digesT", sig)
    assert not verify(public, MESSAGE, sig, b"ALICE123@YAHOO.COM")  # another user id
    assert not verify(Sm2PrivateKey.generate().public_key, MESSAGE, sig)
    for i in (0, 31, 32, 63):
        bad = bytearray(sig)
        bad[i] ^= 1
        assert not verify(public, MESSAGE, bytes(bad))


@pytest.mark.parametrize(
    "signature",
    [
        b"",
        bytes(63),
        bytes(64),  # r = s = 0
        N.to_bytes(32, "big") + bytes.fromhex(S),  # r = n
        bytes.fromhex(R) + N.to_bytes(32, "big"),  # s = n
        bytes.fromhex(R) + ((N - int(R, 16)) % N).to_bytes(32, "big"),  # t = r + s = n
    ],
    ids=["empty", "short", "zero", "r-is-n", "s-is-n", "t-zero"],
)
def test_out_of_range_signatures_are_refused(signature: bytes) -> None:
    assert not verify(Sm2PublicKey(XA, YA), MESSAGE, signature)


def test_fresh_signatures_round_trip_and_differ() -> None:
    key = Sm2PrivateKey.generate()
    message = secrets.token_bytes(116)
    a, b = key.sign(message), key.sign(message)
    assert a != b  # a fresh k each time
    assert key.public_key.verify(message, a) and key.public_key.verify(message, b)
    restored = Sm2PrivateKey.from_bytes(key.to_bytes())
    assert restored.public_key == key.public_key
    assert Sm2PublicKey.from_bytes(b"\x04" + key.public_key.to_bytes()) == key.public_key
    assert "Sm2PrivateKey(public=" in repr(key) and key.to_bytes().hex() not in repr(key)


def test_curve_and_key_checks() -> None:
    assert is_on_curve(GX, GY)
    assert not is_on_curve(GX, GY + 1)
    assert not is_on_curve(0, 0)
    assert not is_on_curve(P + GX, GY)
    with pytest.raises(ValueError, match="curve"):
        Sm2PublicKey(GX, GY + 1)
    with pytest.raises(ValueError, match="64 bytes"):
        Sm2PublicKey.from_bytes(bytes(63))
    for d in (0, N - 1, N):
        with pytest.raises(ValueError, match=r"\[1, n-2\]"):
            Sm2PrivateKey(d)
