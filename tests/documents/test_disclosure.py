from __future__ import annotations

import pytest

from documents import (
    DisclosureError,
    IntegrityCode,
    WrappedDocument,
    check_integrity,
    disclosed_fields,
    hide_fields,
)


def test_hide_field_keeps_target_hash_and_integrity(doc: WrappedDocument) -> None:
    hidden = hide_fields(doc, ["/location"])
    assert "location" not in hidden.data
    assert "/location" not in hidden.salts
    assert len(hidden.privacy.obfuscated) == 1
    assert hidden.proof == doc.proof
    assert check_integrity(hidden).code is IntegrityCode.OK
    assert "location" in doc.data  # original untouched


def test_hide_subtree_hides_every_field_below_and_prunes(doc: WrappedDocument) -> None:
    hidden = hide_fields(doc, ["/area"])
    assert "area" not in hidden.data
    assert not any(p.startswith("/area") for p in disclosed_fields(hidden))
    assert len(hidden.privacy.obfuscated) == 2
    assert check_integrity(hidden).ok


def test_hide_array_field_as_a_whole(doc: WrappedDocument) -> None:
    hidden = hide_fields(doc, ["/owners"])
    assert "owners" not in hidden.data
    assert check_integrity(hidden).ok
    with pytest.raises(DisclosureError) as info:
        hide_fields(doc, ["/owners/0"])
    assert info.value.code == "NOT_A_FIELD"


def test_hiding_in_steps_equals_hiding_at_once(doc: WrappedDocument) -> None:
    stepwise = hide_fields(hide_fields(doc, ["/term/from"]), ["/use"])
    at_once = hide_fields(doc, ["/use", "/term/from"])
    assert stepwise.privacy.obfuscated == at_once.privacy.obfuscated
    assert stepwise.privacy.obfuscated == sorted(set(stepwise.privacy.obfuscated))
    assert stepwise.data == at_once.data
    assert check_integrity(stepwise).ok


@pytest.mark.parametrize("pointer", ["/@type", "/@validity", "/@issuer", "/@issuer/chainId"])
def test_metadata_cannot_be_hidden(doc: WrappedDocument, pointer: str) -> None:
    with pytest.raises(DisclosureError) as info:
        hide_fields(doc, [pointer])
    assert info.value.code == "METADATA_NOT_HIDEABLE"


@pytest.mark.parametrize("pointer", ["/nope", "", "location", "/area/land/x", "/are"])
def test_unknown_pointer_is_an_error(doc: WrappedDocument, pointer: str) -> None:
    with pytest.raises(DisclosureError) as info:
        hide_fields(doc, [pointer])
    assert info.value.code == "NOT_A_FIELD"
    assert info.value.message_zh


def test_already_hidden_field_is_not_a_field(doc: WrappedDocument) -> None:
    hidden = hide_fields(doc, ["/use"])
    with pytest.raises(DisclosureError, match="not a disclosed field"):
        hide_fields(hidden, ["/use"])


def test_hiding_everything_is_refused(doc: WrappedDocument) -> None:
    with pytest.raises(DisclosureError) as info:
        hide_fields(doc, ["/" + k for k in doc.data])
    assert info.value.code == "NOTHING_DISCLOSED"


def test_disclosed_fields_in_document_order(doc: WrappedDocument) -> None:
    fields = disclosed_fields(doc)
    assert next(iter(fields)) == "/certificateNumber"
    assert fields["/area/building"] == "89.37"
    assert isinstance(fields["/owners"], list)
    assert not any(p.startswith("/@") for p in fields)
