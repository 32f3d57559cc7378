"""Sealing a batch: the CPU-bound half of ``ereg issue``, in this process and in worker processes."""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from documents import check_integrity, document_from_obj, open_envelope
from documents.errors import MalformedDocument
from documents.samples import SAMPLE_ISSUER, SAMPLE_VALIDITY, sample_business_licence
from documents.sm2 import Sm2PrivateKey
from documents.suite import SUITE_KECCAK, SUITE_SM, root_message
from issuer.errors import InputError, IssuerError
from issuer.issuing import Journal, _outcome
from issuer.sealing import SchemaViolationError, SealedBatch, seal_files, seal_many, seal_records
from storage import compute_cid

BL = "business-license"


@pytest.fixture(scope="module")
def pool() -> Iterator[ProcessPoolExecutor]:
    # spawned, as the issuer starts them: the calls and their results cross a real process boundary
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as workers:
        yield workers


def check_sealed(sealed: SealedBatch, records: list[dict[str, object]], version: str = SUITE_KECCAK.version) -> None:
    assert len(sealed.documents) == len(sealed.keys) == len(sealed.blobs) == len(sealed.cids) == len(records)
    for text, key, blob, cid, record in zip(
        sealed.documents, sealed.keys, sealed.blobs, sealed.cids, records, strict=True
    ):
        doc = document_from_obj(json.loads(text))
        result = check_integrity(doc)
        assert result.ok, result.message
        assert doc.version == version and doc.data == record and doc.proof.merkle_root == sealed.root
        # the document is journalled as its envelope holds it: before it was named (and anchored)
        assert open_envelope(key, blob) == text.encode()
        assert doc.proof.cid is None and doc.proof.anchor_tx is None and cid == compute_cid(blob)
    assert len(set(sealed.keys)) == len(records)  # a key per document


def test_seal_records_wraps_encrypts_and_names_each_document() -> None:
    records = [sample_business_licence(i) for i in range(5)]
    sealed = seal_records(records, BL, SAMPLE_ISSUER, SAMPLE_VALIDITY, SUITE_KECCAK.version)
    check_sealed(sealed, records)
    again = seal_records(records, BL, SAMPLE_ISSUER, SAMPLE_VALIDITY, SUITE_KECCAK.version)
    assert again.root != sealed.root  # fresh salts: the same records never make the same batch twice


def test_seal_many_on_worker_processes_gives_each_batch_in_order(pool: ProcessPoolExecutor) -> None:
    batches = [[sample_business_licence(i) for i in range(start, start + 40)] for start in (0, 40, 80)]
    sealed = seal_many(pool, batches, BL, SAMPLE_ISSUER, SAMPLE_VALIDITY, SUITE_KECCAK.version)
    assert len(sealed) == 3 and len({s.root for s in sealed}) == 3
    for one, records in zip(sealed, batches, strict=True):
        check_sealed(one, records)


def test_a_signed_suite_is_signed_in_the_worker(pool: ProcessPoolExecutor) -> None:
    key = Sm2PrivateKey.generate()
    records = [sample_business_licence(i) for i in range(3)]
    (sealed,) = seal_many(pool, [records], BL, SAMPLE_ISSUER, SAMPLE_VALIDITY, SUITE_SM.version, key.to_bytes())
    check_sealed(sealed, records, SUITE_SM.version)
    signature = document_from_obj(json.loads(sealed.documents[0])).proof.signature
    assert signature is not None and signature.key == key.public_key.hex()
    department = bytes.fromhex(SAMPLE_ISSUER["department"][2:])
    message = root_message(
        SAMPLE_ISSUER["chainId"], SAMPLE_ISSUER["registry"], department, bytes.fromhex(sealed.root[2:])
    )
    assert key.public_key.verify(message, bytes.fromhex(signature.value[2:]))


def write(directory: Path, records: list[object]) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, record in enumerate(records):
        path = directory / f"r-{i}.json"
        path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
        paths.append(path)
    return paths


def test_seal_files_checks_every_record_against_the_schema(tmp_path: Path, pool: ProcessPoolExecutor) -> None:
    records: list[object] = [sample_business_licence(i) for i in range(8)]
    for bad in (2, 5):
        broken = dict(sample_business_licence(bad))
        del broken["creditCode"]
        records[bad] = broken
    paths = write(tmp_path, records)
    # raised in a worker process, met here as it was raised
    future = pool.submit(seal_files, 4, paths, BL, SAMPLE_ISSUER, SAMPLE_VALIDITY, SUITE_KECCAK.version)
    with pytest.raises(SchemaViolationError) as caught:
        future.result()
    message = str(caught.value)
    assert message.startswith("batch 4 not issued, 2 schema error(s): ")
    assert f"{paths[2]}: /creditCode: " in message and f"{paths[5]}: /creditCode: " in message
    assert caught.value.code == "SCHEMA_VIOLATION" and caught.value.message_zh == "记录不符合该文书类型的模式，未签发"


def test_seal_files_names_a_file_it_cannot_read_or_parse(tmp_path: Path, pool: ProcessPoolExecutor) -> None:
    (tmp_path / "broken.json").write_text('{"creditCode": "9131",', encoding="utf-8")
    (tmp_path / "list.json").write_text("[1, 2]", encoding="utf-8")
    for name, words in (
        ("missing.json", "cannot read"),
        ("broken.json", "not valid JSON"),
        ("list.json", "a record must be a JSON object"),
    ):
        future = pool.submit(seal_files, 0, [tmp_path / name], BL, SAMPLE_ISSUER, SAMPLE_VALIDITY, SUITE_KECCAK.version)
        with pytest.raises(InputError, match=words) as caught:
            future.result()
        assert str(tmp_path / name) in str(caught.value)


def test_a_record_that_cannot_be_wrapped_arrives_as_a_malformed_document(pool: ProcessPoolExecutor) -> None:
    record = {"@context": "reserved", "name": "x"}
    future = pool.submit(
        seal_records, [sample_business_licence(0), record], BL, SAMPLE_ISSUER, SAMPLE_VALIDITY, SUITE_KECCAK.version
    )
    with pytest.raises(MalformedDocument) as caught:
        future.result()
    assert caught.value.pointer == "/1/@context" and "reserved for metadata" in str(caught.value)


def test_the_journal_keeps_a_sealed_batch_as_json(tmp_path: Path) -> None:
    records = [sample_business_licence(i) for i in range(3)]
    sealed = seal_records(records, BL, SAMPLE_ISSUER, SAMPLE_VALIDITY, SUITE_KECCAK.version)
    journal = Journal(tmp_path / ".ereg")
    names = ["营业执照-1", 'a "quoted" name', "plain"]
    path = journal.save_batch(7, sealed.root, names, sealed)
    assert path == journal.batch_file(7) and oct(path.stat().st_mode & 0o777) == "0o600"
    content = json.loads(path.read_text(encoding="utf-8"))
    assert content == {
        "root": sealed.root,
        "names": names,
        "documents": [json.loads(text) for text in sealed.documents],
        "cids": sealed.cids,
        "keys": [key.hex() for key in sealed.keys],
    }


def test_a_worker_that_died_is_an_error_in_both_languages() -> None:
    future: Future[SealedBatch] = Future()
    future.set_exception(BrokenProcessPool("A process in the process pool was terminated abruptly"))
    with pytest.raises(IssuerError) as caught:
        _outcome(future)
    assert "stopped unexpectedly" in str(caught.value) and "run the same command again" in str(caught.value)
    assert "工作进程意外退出" in caught.value.message_zh
