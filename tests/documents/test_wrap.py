from __future__ import annotations

import pytest

from documents import (
    IntegrityCode,
    MalformedDocument,
    check_integrity,
    leaf_hash,
    wrap_batch,
    wrap_document,
)
from documents.samples import SAMPLE_ISSUER, SAMPLE_VALIDITY, sample_business_licence


def test_batch_of_one_root_is_leaf() -> None:
    doc = wrap_document(
        sample_business_licence(1), "business-license", SAMPLE_ISSUER, SAMPLE_VALIDITY
    )
    assert doc.proof.proof == []
    target = bytes.fromhex(doc.proof.target_hash[2:])
    assert doc.proof.merkle_root == "0x" + leaf_hash(target).hex()
    assert check_integrity(doc).ok


def test_batch_documents_share_root_and_differ_in_salts() -> None:
    records = [sample_business_licence(1) for _ in range(5)]
    batch = wrap_batch(records, "business-license", SAMPLE_ISSUER, SAMPLE_VALIDITY)
    roots = {d.proof.merkle_root for d in batch.documents}
    assert roots == {batch.root_hex}
    targets = {d.proof.target_hash for d in batch.documents}
    assert len(targets) == 5  # same data, fresh salts
    assert all(check_integrity(d).ok for d in batch.documents)
    assert batch.type_id.startswith("0x")


def test_wrapped_data_is_a_private_copy() -> None:
    record = {"a": {"b": [1, 2]}, "c": "x"}
    doc = wrap_document(record, "example", SAMPLE_ISSUER, SAMPLE_VALIDITY, check_schema=False)
    record["a"]["b"].append(3)
    record["c"] = "y"
    assert doc.data == {"a": {"b": [1, 2]}, "c": "x"}
    assert check_integrity(doc).ok


@pytest.mark.parametrize(
    ("record", "pointer"),
    [
        ({"@type": "x"}, "/0/@type"),
        ({}, "/0"),
        ({"a": {"b": float("inf")}}, "/0/a/b"),
        ({"a": 2**53}, "/0/a"),
    ],
)
def test_bad_records(record: dict[str, object], pointer: str) -> None:
    with pytest.raises(MalformedDocument) as info:
        wrap_batch([record], "example", SAMPLE_ISSUER, SAMPLE_VALIDITY, check_schema=False)
    assert info.value.pointer == pointer


def test_bad_issuer_validity_type() -> None:
    record = {"a": 1}
    with pytest.raises(MalformedDocument) as info:
        wrap_batch(
            [record],
            "example",
            {**SAMPLE_ISSUER, "chainId": 0},
            SAMPLE_VALIDITY,
            check_schema=False,
        )
    assert info.value.pointer == "/issuer/chainId"
    with pytest.raises(MalformedDocument) as info:
        wrap_batch(
            [record],
            "example",
            SAMPLE_ISSUER,
            {"validFrom": "2026-01-01", "validUntil": None},
            check_schema=False,
        )
    assert info.value.pointer == "/validity/validFrom"
    with pytest.raises(MalformedDocument):
        wrap_batch([record], "Example Type", SAMPLE_ISSUER, SAMPLE_VALIDITY, check_schema=False)
    with pytest.raises(ValueError, match="at least one"):
        wrap_batch([], "example", SAMPLE_ISSUER, SAMPLE_VALIDITY)


def test_float_and_astral_values_survive_round_trip() -> None:
    record = {"x": 1e16, "y": 0.1, "\U0001f600": {"\ufb33": "z"}}
    doc = wrap_document(record, "example", SAMPLE_ISSUER, SAMPLE_VALIDITY, check_schema=False)
    from documents import document_to_bytes

    assert check_integrity(document_to_bytes(doc)).code is IntegrityCode.OK
