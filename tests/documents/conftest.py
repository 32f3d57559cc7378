from __future__ import annotations

from typing import Any

import pytest

from documents import WrappedBatch, WrappedDocument, wrap_batch
from documents.samples import SAMPLE_ISSUER, SAMPLE_VALIDITY, sample_record


@pytest.fixture(scope="session")
def property_batch() -> WrappedBatch:
    records = [sample_record("property-certificate") for _ in range(3)]
    for i, record in enumerate(records):
        record["certificateNumber"] = f"沪（2026）浦东新区不动产权第{i:07d}号"
    return wrap_batch(records, "property-certificate", SAMPLE_ISSUER, SAMPLE_VALIDITY)


@pytest.fixture()
def doc(property_batch: WrappedBatch) -> WrappedDocument:
    return property_batch.documents[1]


@pytest.fixture()
def doc_json(doc: WrappedDocument) -> dict[str, Any]:
    import json

    from documents import document_to_bytes

    result: dict[str, Any] = json.loads(document_to_bytes(doc))
    return result
