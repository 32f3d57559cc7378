"""Property unit ids: the salted commitment keccak256(salt ‖ utf8(unit number)) of docs/FORMAT.md §10."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from eth_utils.crypto import keccak

from chain.property import UNIT_SALT_BYTES, certificate_unit, new_unit_salt, unit_id, unit_salt
from documents.samples import SAMPLE_UNIT_SALT, sample_record

FORMAT_MD = (Path(__file__).resolve().parents[2] / "docs" / "FORMAT.md").read_text("utf-8")
NUMBER = "341502001001GB00001F00010001"


def test_the_id_is_the_salted_hash_format_md_gives() -> None:
    salt = bytes.fromhex(SAMPLE_UNIT_SALT[2:])
    assert salt == bytes.fromhex("5a17" * 16)
    unit = unit_id(NUMBER, salt)
    assert unit == keccak(salt + NUMBER.encode("utf-8"))
    assert unit != keccak(text=NUMBER)  # not the plain hash a number could be tried against
    match = re.search(r"give `unitId = (0x[0-9a-f]{64})`", FORMAT_MD)
    assert match, "FORMAT.md §10 gives no example unit id"
    assert match.group(1) == "0x" + unit.hex()
    assert unit_id(f"  {NUMBER}\n", salt) == unit  # the number is trimmed, as the page trims it


def test_salts_are_32_random_bytes_and_another_salt_is_another_unit() -> None:
    salts = {new_unit_salt() for _ in range(64)}
    assert len(salts) == 64 and {len(s) for s in salts} == {UNIT_SALT_BYTES}
    assert len({unit_id(NUMBER, s) for s in salts}) == 64
    for bad in (b"", b"\x00" * 16, b"\x00" * 33):
        with pytest.raises(ValueError, match="32 bytes"):
            unit_id(NUMBER, bad)


def test_a_certificate_names_its_unit_only_with_number_and_salt() -> None:
    record = sample_record("property-certificate")
    assert certificate_unit(record) == unit_id(record["unitNumber"], bytes.fromhex(record["unitSalt"][2:]))
    assert certificate_unit(sample_record("mortgage-certificate")) == certificate_unit(record)
    for hidden in ("unitNumber", "unitSalt"):
        assert certificate_unit({k: v for k, v in record.items() if k != hidden}) is None
    for salt in ("0x" + "AB" * 32, "ab" * 32, "0x" + "ab" * 31, 5, None):
        assert unit_salt(salt) is None
        assert certificate_unit({**record, "unitSalt": salt}) is None
    assert certificate_unit({**record, "unitNumber": "  "}) is None
    assert certificate_unit(["not", "a", "record"]) is None
