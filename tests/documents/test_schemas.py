from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from documents import (
    SchemaViolation,
    UnknownDocumentType,
    check_record,
    keccak256,
    list_types,
    load_schema,
    type_id,
    validate_record,
    wrap_batch,
)
from documents.samples import SAMPLE_ISSUER, SAMPLE_VALIDITY, sample_record

TYPES = (
    "business-license",
    "food-business-license",
    "marriage-certificate",
    "mortgage-certificate",
    "property-certificate",
)


def test_list_types() -> None:
    assert list_types() == TYPES


@pytest.mark.parametrize("doc_type", TYPES)
def test_schema_is_valid_draft_2020_12_and_bilingual(doc_type: str) -> None:
    schema = load_schema(doc_type)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False
    for prop in schema["properties"].values():
        title = prop["title"]
        assert any("\u4e00" <= c <= "\u9fff" for c in title), title
        assert any(c.isascii() and c.isalpha() for c in title), title


@pytest.mark.parametrize("doc_type", TYPES)
def test_samples_are_valid(doc_type: str) -> None:
    assert validate_record(doc_type, sample_record(doc_type)) == []
    check_record(doc_type, sample_record(doc_type))


def test_every_error_reported_with_pointer_sorted() -> None:
    record = sample_record("property-certificate")
    record["unitNumber"] = "310115001002GB00123F0001010"  # 27 chars
    record["owners"][1]["idNumber"] = "123"
    del record["location"]
    record["surprise"] = 1
    errors = validate_record("property-certificate", record)
    pointers = [p for p, _ in errors]
    assert pointers == sorted(pointers)
    assert "/location" in pointers
    assert "/owners/1/idNumber" in pointers
    assert "/unitNumber" in pointers
    assert "" in pointers  # additionalProperties is reported at the object
    with pytest.raises(SchemaViolation) as info:
        check_record("property-certificate", record)
    assert info.value.errors == errors
    assert info.value.message_zh


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("creditCode", "91310115MA1K4XXXOQ"),  # letter O is not in the code alphabet
        ("creditCode", "91310115MA1K4XXX0"),
        ("establishmentDate", "2019-13-01"),
        ("registeredCapital", {"amount": 5000000.0, "currency": "CNY"}),
    ],
)
def test_business_licence_field_rules(field: str, value: object) -> None:
    record = sample_record("business-license")
    record[field] = value
    assert validate_record("business-license", record)


def test_unknown_type() -> None:
    with pytest.raises(UnknownDocumentType):
        load_schema("no-such-type")
    with pytest.raises(UnknownDocumentType):
        load_schema("../pyproject")


def test_type_id() -> None:
    assert type_id("business-license") == "0x" + keccak256(b"business-license").hex()
    assert type_id("营业执照") == "0x" + keccak256("营业执照".encode()).hex()


def test_wrap_checks_schema_with_record_index() -> None:
    good = sample_record("business-license")
    bad = sample_record("business-license")
    bad["creditCode"] = "nope"
    with pytest.raises(SchemaViolation) as info:
        wrap_batch([good, bad], "business-license", SAMPLE_ISSUER, SAMPLE_VALIDITY)
    assert [p for p, _ in info.value.errors] == ["/1/creditCode"]
    with pytest.raises(UnknownDocumentType):
        wrap_batch([good], "no-such-type", SAMPLE_ISSUER, SAMPLE_VALIDITY)
    batch = wrap_batch(
        [bad], "business-license", SAMPLE_ISSUER, SAMPLE_VALIDITY, check_schema=False
    )
    assert batch.documents[0].data["creditCode"] == "nope"
