from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from documents import (
    IntegrityCode,
    MalformedDocument,
    WrappedBatch,
    WrappedDocument,
    check_integrity,
    document_from_obj,
    document_to_bytes,
    parse_document,
    with_anchor,
)


def test_round_trip_canonical_bytes(doc: WrappedDocument) -> None:
    raw = document_to_bytes(doc)
    parsed = parse_document(raw)
    assert document_to_bytes(parsed) == raw
    assert parse_document(raw.decode()) == parsed
    assert raw.startswith(b'{"data":{')
    assert raw.endswith(b'"version":"ereg/1"}')
    assert json.loads(raw)["proof"]["anchorTx"] is None


def test_shape_matches_design(doc_json: dict[str, Any]) -> None:
    assert set(doc_json) == {
        "version",
        "type",
        "data",
        "salts",
        "privacy",
        "issuer",
        "validity",
        "proof",
    }
    assert set(doc_json["proof"]) == {"targetHash", "merkleRoot", "proof", "anchorTx", "cid"}
    assert set(doc_json["issuer"]) == {"department", "chainId", "registry"}
    assert all(len(s) == 32 and s == s.lower() for s in doc_json["salts"].values())
    assert {"/@type", "/@validity", "/@issuer"} <= set(doc_json["salts"])


def _mutate(doc_json: dict[str, Any], path: list[Any], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(doc_json)
    target = out
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return out


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "pointer"),
    [
        (["version"], "ereg/2", "/version"),
        (["extra"], 1, "/extra"),
        (["type"], "Business License", "/type"),
        (["proof", "targetHash"], "0x" + "AB" * 32, "/proof/targetHash"),
        (["proof", "merkleRoot"], "ab" * 32, "/proof/merkleRoot"),
        (["proof", "proof"], ["0x12"], "/proof/proof/0"),
        (["proof", "cid"], "QmNotBase32", "/proof/cid"),
        (["proof", "anchorTx"], _DELETE, "/proof/anchorTx"),
        (["issuer", "chainId"], "1337", "/issuer/chainId"),
        (["issuer", "chainId"], True, "/issuer/chainId"),
        (["issuer", "registry"], "0x5fbdb2315678afecb367f032d93f642f64180aa3", "/issuer/registry"),
        (["validity", "validFrom"], "2026-01-01T00:00:00+08:00", "/validity/validFrom"),
        (["validity", "validFrom"], "2026-02-30T00:00:00Z", "/validity/validFrom"),
        (["validity", "validUntil"], "2025-01-01T00:00:00Z", "/validity"),
        (["salts", "/location"], "0x" + "00" * 16, "/salts/~1location"),
        (["salts", "/@type"], _DELETE, "/salts"),
        (["privacy", "obfuscated"], ["0x" + "bb" * 32, "0x" + "aa" * 32], "/privacy/obfuscated"),
        (["privacy", "obfuscated"], ["0x" + "aa" * 32] * 2, "/privacy/obfuscated"),
        (["data", "@type"], "x", "/data/@type"),
        (["data", "area", "land"], 2**60, "/data/area/land"),
    ],
)
def test_malformed_with_pointer(
    doc_json: dict[str, Any], path: list[Any], value: Any, pointer: str
) -> None:
    bad = _mutate(doc_json, path, value)
    with pytest.raises(MalformedDocument) as info:
        document_from_obj(bad)
    assert info.value.pointer == pointer
    assert info.value.message_zh
    result = check_integrity(bad)
    assert result.code is IntegrityCode.MALFORMED
    assert result.pointer == pointer


@pytest.mark.parametrize(
    "raw",
    [
        b"\xff\xfe",
        b"{",
        b"[]",
        b'{"a": NaN}',
        b'{"version": "ereg/1", "version": "ereg/1"}',
        b"1" * 5000,
    ],
)
def test_malformed_json_text(raw: bytes) -> None:
    with pytest.raises(MalformedDocument):
        parse_document(raw)
    assert check_integrity(raw).code is IntegrityCode.MALFORMED


def test_with_anchor_sets_unhashed_fields(doc: WrappedDocument) -> None:
    cid = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"
    anchored = with_anchor(doc, anchor_tx="0x" + "ab" * 32, cid=cid)
    assert anchored.proof.anchor_tx == "0x" + "ab" * 32
    assert anchored.proof.cid == cid
    assert doc.proof.cid is None
    assert check_integrity(anchored).ok
    with pytest.raises(MalformedDocument) as info:
        with_anchor(doc, anchor_tx="0xzz")
    assert info.value.pointer == "/proof/anchorTx"


def test_integrity_ok_reports_hashes(property_batch: WrappedBatch) -> None:
    for i, document in enumerate(property_batch.documents):
        result = check_integrity(document)
        assert result.code is IntegrityCode.OK, result
        assert result.leaf == property_batch.tree.leaf(i)
        assert result.merkle_root == property_batch.root
        assert result.target_hash is not None
        assert "0x" + result.target_hash.hex() == document.proof.target_hash


@pytest.mark.parametrize(
    ("path", "value", "code"),
    [
        (["data", "location"], "示例市浦东新区示例路300弄5号1202室", IntegrityCode.TAMPERED),
        (["data", "area", "building"], "189.37", IntegrityCode.TAMPERED),
        (["salts", "/use"], "00" * 16, IntegrityCode.TAMPERED),
        (["type"], "mortgage-certificate", IntegrityCode.TAMPERED),
        (["validity", "validUntil"], "2099-01-01T00:00:00Z", IntegrityCode.TAMPERED),
        (["issuer", "chainId"], 1, IntegrityCode.TAMPERED),
        (["issuer", "department"], "0x" + "22" * 32, IntegrityCode.TAMPERED),
        (["privacy", "obfuscated"], ["0x" + "aa" * 32], IntegrityCode.TAMPERED),
        (["proof", "targetHash"], "0x" + "aa" * 32, IntegrityCode.TAMPERED),
        (["proof", "merkleRoot"], "0x" + "aa" * 32, IntegrityCode.PROOF_MISMATCH),
        (["proof", "proof"], [], IntegrityCode.PROOF_MISMATCH),
        (["data", "extra"], "x", IntegrityCode.TAMPERED),
        (["data", "use"], _DELETE, IntegrityCode.TAMPERED),
    ],
)
def test_tampering_detected(
    doc_json: dict[str, Any], path: list[Any], value: Any, code: IntegrityCode
) -> None:
    assert check_integrity(doc_json).ok
    result = check_integrity(_mutate(doc_json, path, value))
    assert result.code is code, result
    assert result.message and result.message_zh


def test_renamed_key_is_tampered(doc_json: dict[str, Any]) -> None:
    bad = copy.deepcopy(doc_json)
    bad["data"]["place"] = bad["data"].pop("location")
    assert check_integrity(bad).code is IntegrityCode.TAMPERED
    bad["salts"]["/place"] = bad["salts"].pop("/location")
    assert check_integrity(bad).code is IntegrityCode.TAMPERED


def test_nothing_disclosed(doc_json: dict[str, Any]) -> None:
    bad = copy.deepcopy(doc_json)
    bad["data"] = {}
    bad["salts"] = {p: s for p, s in bad["salts"].items() if p.startswith("/@")}
    assert check_integrity(bad).code is IntegrityCode.NOTHING_DISCLOSED


def test_deeply_nested_json_is_refused_before_parsing() -> None:
    """Deep nesting must be refused, not parsed: with web3 imported, the interpreter's recursion
    limit is so high that json would overflow the C stack and kill the process."""
    import web3  # noqa: F401 - raises the recursion limit, as in every service

    from documents.model import MAX_JSON_DEPTH, load_json

    with pytest.raises(MalformedDocument):
        load_json(b"[" * 200_000 + b"]" * 200_000)
    with pytest.raises(MalformedDocument):
        load_json("{" + '"a":{' * (MAX_JSON_DEPTH + 1) + "}" * (MAX_JSON_DEPTH + 2))
    nested_ok = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert load_json(nested_ok) is not None
    # brackets inside strings do not count
    assert load_json('{"a": "' + "[" * 500 + '"}') == {"a": "[" * 500}
