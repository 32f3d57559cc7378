"""Recompute every value of ``vectors/ereg1.json`` independently and check FORMAT.md quotes it."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest
from Crypto.Hash import keccak as pycryptodome_keccak
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from documents import (
    check_integrity,
    document_to_bytes,
    hide_fields,
    parse_document,
    parse_qr_url,
    type_id,
)
from documents.fields import iter_fields

HERE = pathlib.Path(__file__).parent
VECTORS: dict[str, Any] = json.loads((HERE / "vectors" / "ereg1.json").read_text("utf-8"))
FORMAT_MD = (HERE.parents[1] / "docs" / "FORMAT.md").read_text("utf-8")


def k(data: bytes) -> bytes:
    return pycryptodome_keccak.new(digest_bits=256, data=data).digest()


def h(hex_str: str) -> bytes:
    return bytes.fromhex(hex_str.removeprefix("0x"))


def test_field_hashes() -> None:
    pointers = [p for p, _ in iter_fields(VECTORS["record"])] + ["/@type", "/@validity", "/@issuer"]
    assert [f["pointer"] for f in VECTORS["fields"]] == pointers
    for f in VECTORS["fields"]:
        preimage = h(f["salt"]) + f["pointerJcs"].encode() + f["valueJcs"].encode()
        assert k(preimage).hex() == f["fieldHash"][2:], f["pointer"]
    by_pointer = {f["pointer"]: f for f in VECTORS["fields"]}
    assert by_pointer["/a~1b~0c"]["valueJcs"] == "1.5"
    assert by_pointer["/@type"]["valueJcs"] == json.dumps(VECTORS["type"])
    assert by_pointer["/@issuer"]["valueJcs"] == (
        '{"chainId":1337,"department":"0x'
        + "11" * 32
        + '","registry":"0x5FbDB2315678afecb367f032d93F642f64180aa3"}'
    )


def test_target_hash_leaf_and_batch() -> None:
    hashes = sorted(h(f["fieldHash"]) for f in VECTORS["fields"])
    assert ["0x" + x.hex() for x in hashes] == VECTORS["sortedFieldHashes"]
    target = k(b"".join(hashes))
    assert "0x" + target.hex() == VECTORS["targetHash"]
    assert "0x" + k(b"\x00" + target).hex() == VECTORS["leaf"]
    batch = VECTORS["batch"]
    leaves = [k(b"\x00" + h(t)) for t in batch["targetHashes"]]
    assert ["0x" + x.hex() for x in leaves] == batch["leaves"]
    n01 = k(min(leaves[0], leaves[1]) + max(leaves[0], leaves[1]))
    assert batch["level1"] == ["0x" + n01.hex(), "0x" + leaves[2].hex()]
    root = k(min(n01, leaves[2]) + max(n01, leaves[2]))
    assert "0x" + root.hex() == batch["root"]
    assert batch["proofs"] == [
        ["0x" + leaves[1].hex(), "0x" + leaves[2].hex()],
        ["0x" + leaves[0].hex(), "0x" + leaves[2].hex()],
        ["0x" + n01.hex()],
    ]


def test_document_and_envelope() -> None:
    doc = parse_document(VECTORS["documentJcs"])
    assert document_to_bytes(doc).decode() == VECTORS["documentJcs"]
    assert json.loads(VECTORS["documentJcs"]) == VECTORS["document"]
    result = check_integrity(doc)
    assert result.ok
    assert (
        result.merkle_root is not None
        and "0x" + result.merkle_root.hex() == VECTORS["batch"]["root"]
    )
    env = VECTORS["envelope"]
    key, nonce = h(env["key"]), h(env["nonce"])
    blob = nonce + AESGCM(key).encrypt(nonce, VECTORS["documentJcs"].encode(), b"ereg/1")
    assert blob.hex() == env["blob"]
    small = nonce + AESGCM(key).encrypt(nonce, env["smallPlaintext"].encode(), b"ereg/1")
    assert small.hex() == env["smallBlob"]
    assert type_id(VECTORS["type"]) == VECTORS["typeId"]


def test_disclosure_and_qr() -> None:
    doc = parse_document(VECTORS["documentJcs"])
    hidden = hide_fields(doc, VECTORS["disclosure"]["hide"])
    assert hidden.privacy.obfuscated == VECTORS["disclosure"]["obfuscated"]
    assert check_integrity(hidden).ok
    qr = VECTORS["qr"]
    assert parse_qr_url(qr["url"]) == (qr["baseUrl"], qr["cid"], h(qr["key"]))


def _strings(value: Any, skip: frozenset[str] = frozenset()) -> list[str]:
    if isinstance(value, dict):
        return [s for key, v in value.items() if key not in skip for s in _strings(v, skip)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v, skip)]
    return [value] if isinstance(value, str) else []


@pytest.mark.parametrize(
    "value",
    sorted(set(_strings(VECTORS, frozenset({"document", "documentJcs", "blob", "record"})))),
)
def test_format_md_quotes_every_vector_value(value: str) -> None:
    assert value in FORMAT_MD or json.dumps(value, ensure_ascii=False)[1:-1] in FORMAT_MD
