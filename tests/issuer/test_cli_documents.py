"""``ereg issue`` and the document commands against the real node and the real js-ipfs daemon.

Issuance end to end (outputs, anchoring, stored ciphertexts, QR codes), resuming after an
interruption at every journal state (in-process and a killed process), one-line errors that
leave nothing anchored, status changes, supersession, disclosure, and a scan of every IPFS
block and every byte on chain for personal data in clear.
"""

from __future__ import annotations

import errno
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest

from chain.sender import TransactionSender
from chain.types import State, type_id
from devstack.hardhat import rpc
from devstack.process import free_port
from documents import (
    IntegrityCode,
    WrappedDocument,
    check_integrity,
    document_to_bytes,
    open_envelope,
    parse_document,
    parse_qr_url,
)
from documents.samples import sample_business_licence, sample_record
from issuer.issuing import Issuer, Journal
from storage import compute_cid
from tests.conftest import require
from tests.factories import NATRES, SAMR
from tests.issuer.conftest import VERIFIER_URL, Cli, one_line_error, write_records

#: Tests that hold transactions pending (evm_setAutomine, which Hardhat and Anvil both answer) run on
#: the dev chain, and on Anvil when EREG_ANVIL_SUITES includes this directory (tests/conftest.py).
DEV_ONLY = pytest.mark.parametrize("node", ["dev", "anvil"], indirect=True)

BL = "business-license"
PROPERTY = "property-certificate"
OUTPUTS = (".ereg.json", ".qr.png", ".qr.svg", ".qr.url")


# ------------------------------------------------------------------------------ helpers
def licences(count: int, start: int = 0) -> list[dict[str, Any]]:
    return [sample_business_licence(serial) for serial in range(start, start + count)]


def disk_full_writing(monkeypatch: pytest.MonkeyPatch, *, batch: int, out: Path) -> None:
    """Writing batch ``batch``'s output files fails as a full disk does (ENOSPC); others are written."""
    original_write = Issuer._finish_write

    def write(self: Issuer, writing: Any) -> None:
        if writing.index == batch:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(out))
        original_write(self, writing)

    monkeypatch.setattr(Issuer, "_finish_write", write)


def journal_state(out: Path) -> dict[int, dict[str, Any]]:
    return Journal(out / ".ereg").state()


def root_status_anchored(cli: Cli, root: str, department: bytes = SAMR) -> bool:
    return cli.world.registry.document_status(department, bytes.fromhex(root[2:])).anchored


def issued_files(out: Path) -> list[Path]:
    return sorted(out.glob("*.ereg.json")) if out.exists() else []


def outputs_of(out: Path) -> list[Path]:
    return sorted(p for p in out.iterdir() if p.is_file()) if out.exists() else []


def check_issued(
    cli: Cli,
    out: Path,
    records: Mapping[str, Mapping[str, Any]],
    *,
    doc_type: str = BL,
    department: bytes = SAMR,
    signer: str | None = None,
) -> dict[str, WrappedDocument]:
    """Everything ``ereg issue`` promises for ``records`` (name -> record) written into ``out``."""
    signer = signer or cli.world.samr_key.address
    events = {"0x" + bytes(e.args["root"]).hex(): e for e in cli.events("BatchAnchored")}
    store = cli.store()
    docs: dict[str, WrappedDocument] = {}
    per_root: Counter[str] = Counter()
    for name, record in records.items():
        for suffix in OUTPUTS:
            assert (out / f"{name}{suffix}").is_file(), f"{name}{suffix} missing"
        raw = (out / f"{name}.ereg.json").read_bytes()
        result = check_integrity(raw)
        assert result.ok, (name, result.code, result.message)
        assert result.document is not None
        doc = docs[name] = result.document
        as_json = json.loads(raw)
        assert as_json["type"] == doc_type
        assert as_json["data"] == record
        assert as_json["issuer"] == {
            "department": "0x" + department.hex(),
            "chainId": cli.world.chain_id,
            "registry": cli.world.registry.address,
        }
        # anchored on chain by the department, with the type, by the anchoring transaction
        root = doc.proof.merkle_root
        per_root[root] += 1
        assert root in events, f"{name}: root {root} has no BatchAnchored event"
        assert doc.proof.anchor_tx == events[root].tx_hash
        status = cli.world.registry.document_status(
            department, bytes.fromhex(root[2:]), bytes.fromhex(doc.proof.target_hash[2:])
        )
        assert status.anchored
        assert status.department == department
        assert status.doc_type == type_id(doc_type)
        assert status.signer.lower() == signer.lower()
        assert status.effective_state is State.ACTIVE
        # the QR URL opens the stored ciphertext, which is this document
        url = (out / f"{name}.qr.url").read_text(encoding="utf-8").strip()
        payload = parse_qr_url(url)
        assert payload.base_url == VERIFIER_URL
        assert payload.cid == doc.proof.cid
        blob = store.get(payload.cid)
        assert compute_cid(blob) == payload.cid
        stored = parse_document(open_envelope(payload.key, blob))
        expected = json.loads(raw)
        expected["proof"]["anchorTx"] = None
        expected["proof"]["cid"] = None
        assert json.loads(document_to_bytes(stored)) == expected
        assert ET.fromstring((out / f"{name}.qr.svg").read_bytes()).tag.endswith("svg")  # noqa: S314 - own output
        assert (out / f"{name}.qr.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for root, count in per_root.items():
        assert cli.world.registry.document_status(department, bytes.fromhex(root[2:])).count == count
        assert int(events[root].args["count"]) == count
    return docs


# ------------------------------------------------------------------------------- 1. issue
@pytest.mark.parametrize("cli", ["ipfs", "embedded"], indirect=True)
def test_issue_batches_outputs_anchors_and_stores(cli: Cli) -> None:
    records = licences(25)
    names = write_records(cli.tmp / "records", records, prefix="lic")
    out = cli.tmp / "out"

    printed = cli.issue(cli.tmp / "records", out=out, batch_size=10)

    assert "issued 25 documents of business-license" in printed
    roots = cli.anchored_roots()
    assert len(roots) == 3 == len(set(roots)), roots
    for index, count in enumerate((10, 10, 5)):
        assert f"batch {index}: {count} documents, root {roots[index]}" in printed
    docs = check_issued(cli, out, dict(zip(names, records, strict=True)))
    assert Counter(d.proof.merkle_root for d in docs.values()) == Counter({roots[0]: 10, roots[1]: 10, roots[2]: 5})
    assert len({d.proof.cid for d in docs.values()}) == 25
    assert {p.name for p in outputs_of(out)} == {f"{n}{s}" for n in names for s in OUTPUTS}
    # the journal saw every batch through
    assert {i: e["state"] for i, e in journal_state(out).items()} == {0: "written", 1: "written", 2: "written"}


def test_issue_qr_png_decodes_to_the_url(cli: Cli) -> None:
    require(shutil.which("zbarimg") is not None, "zbarimg (zbar-tools) is not installed")
    names = write_records(cli.tmp / "records", licences(3))
    out = cli.tmp / "out"
    cli.issue(cli.tmp / "records", out=out)
    for name in names:
        decoded = subprocess.run(
            ["zbarimg", "--quiet", "--raw", str(out / f"{name}.qr.png")],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        assert decoded == (out / f"{name}.qr.url").read_text(encoding="utf-8").strip()
        assert parse_qr_url(decoded).cid == json.loads((out / f"{name}.ereg.json").read_bytes())["proof"]["cid"]



@pytest.mark.parametrize(
    ("kinds", "suffixes"),
    [("none", (".ereg.json", ".qr.url")), ("png", (".ereg.json", ".qr.png", ".qr.url")),
     ("svg", (".ereg.json", ".qr.svg", ".qr.url")), ("BOTH", OUTPUTS)],
)
def test_issue_writes_the_qr_images_qr_asks_for(cli: Cli, kinds: str, suffixes: tuple[str, ...]) -> None:
    names = write_records(cli.tmp / "records", licences(2))
    out = cli.tmp / "out"
    cli.issue(cli.tmp / "records", out=out, extra=["--qr", kinds])
    assert {p.name for p in outputs_of(out)} == {f"{n}{s}" for n in names for s in suffixes}


def test_issue_refuses_an_unknown_qr_kind_before_anything_is_stored(cli: Cli) -> None:
    write_records(cli.tmp / "records", licences(1))
    out = cli.tmp / "out"
    printed = cli.issue(cli.tmp / "records", out=out, extra=["--qr", "jpeg"], expect=2)
    assert "unknown --qr 'jpeg': use both, png, svg or none" in printed
    assert "未知的 --qr" in printed
    assert "Traceback" not in printed
    assert not issued_files(out)
    assert cli.anchored_roots() == []


# ------------------------------------------------------------------------------ 2. resume
@pytest.mark.parametrize("where", ["wait", "write"])
def test_resume_after_interruption_once_the_anchor_was_sent(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """Interrupted after batch 1's anchoring tx went out (waiting for it, or writing outputs)."""
    records = licences(7)
    names = write_records(cli.tmp / "records", records)
    out = cli.tmp / "out"
    if where == "wait":
        original_wait = TransactionSender.wait
        calls = Counter[str]()

        def wait(self: TransactionSender, tx_hash: str, *args: Any, **kwargs: Any) -> Any:
            calls["wait"] += 1
            if calls["wait"] == 2:  # batch 1: the tx is with the node (and mined by automine)
                raise KeyboardInterrupt
            return original_wait(self, tx_hash, *args, **kwargs)

        monkeypatch.setattr(TransactionSender, "wait", wait)
    else:
        disk_full_writing(monkeypatch, batch=1, out=out)

    first = cli.invoke("issue", str(cli.tmp / "records"), "-t", BL, "-k", "samr", "-o", str(out), "--batch-size", "3")
    assert first.exit_code != 0, first.output
    state = journal_state(out)
    assert state[0]["state"] == "written"
    assert state[1]["state"] == ("submitted" if where == "wait" else "anchored")
    # batch 1's files are written while batch 2 is prepared (stored, not anchored)
    assert state.get(2, {}).get("state") == (None if where == "wait" else "prepared")
    interrupted_root = state[1]["root"]
    assert root_status_anchored(cli, interrupted_root)
    assert cli.anchored_roots() == [state[0]["root"], interrupted_root]
    assert not (out / f"{names[3]}.ereg.json").exists()

    monkeypatch.undo()
    second = cli.issue(cli.tmp / "records", out=out, batch_size=3)

    assert f"batch 1: 3 documents, root {interrupted_root}" in second
    assert "(resumed)" in second.split(f"root {interrupted_root}")[1].splitlines()[0]
    assert "1 batch(es) already done" in second
    roots = cli.anchored_roots()
    assert len(roots) == 3 == len(set(roots)), f"a root was anchored twice: {roots}"
    docs = check_issued(cli, out, dict(zip(names, records, strict=True)))
    assert {docs[n].proof.merkle_root for n in names[3:6]} == {interrupted_root}
    assert {i: e["state"] for i, e in journal_state(out).items()} == {0: "written", 1: "written", 2: "written"}

    # once more: nothing left to do, nothing anchored
    third = cli.issue(cli.tmp / "records", out=out, batch_size=3)
    assert "3 batch(es) already done" in third
    assert cli.anchored_roots() == roots


def test_resume_after_interruption_before_the_anchor_was_sent(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """Prepared (documents salted, stored, journalled) but never sent: the resumed run anchors that root."""
    records = licences(5)
    names = write_records(cli.tmp / "records", records)
    out = cli.tmp / "out"

    def submit(self: TransactionSender, *args: Any, **kwargs: Any) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr(TransactionSender, "submit_transaction", submit)
    first = cli.invoke("issue", str(cli.tmp / "records"), "-t", BL, "-k", "samr", "-o", str(out), "--batch-size", "3")
    assert first.exit_code != 0
    state = journal_state(out)
    assert list(state) == [0] and state[0]["state"] == "prepared"
    prepared_root = state[0]["root"]
    assert not root_status_anchored(cli, prepared_root)
    assert cli.anchored_roots() == []
    assert not list(out.glob("*.ereg.json"))

    monkeypatch.undo()
    second = cli.issue(cli.tmp / "records", out=out, batch_size=3)

    assert f"batch 0: 3 documents, root {prepared_root}" in second and "(resumed)" in second
    roots = cli.anchored_roots()
    assert roots[0] == prepared_root and len(roots) == 2 == len(set(roots))
    docs = check_issued(cli, out, dict(zip(names, records, strict=True)))
    assert {docs[n].proof.merkle_root for n in names[:3]} == {prepared_root}


@DEV_ONLY
def test_resume_after_the_process_was_killed(cli: Cli) -> None:
    """``ereg`` killed with SIGKILL while batch 1's anchoring tx is pending; the rerun finishes it."""
    ereg = Path(sys.executable).parent / "ereg"
    require(ereg.exists(), f"the ereg console script is not installed ({ereg})")
    records = licences(7)
    names = write_records(cli.tmp / "records", records)
    out = cli.tmp / "out"
    args = [str(ereg), "issue", str(cli.tmp / "records"), "-t", BL, "-k", "samr", "-o", str(out), "--batch-size", "3"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("EREG_")}
    env.update({k: v for k, v in cli.env.items() if v is not None})
    url = cli.world.node.rpc_url

    # With automine off a transaction stays pending until evm_mine: batch 0 is mined as soon as it
    # is submitted, batch 1 is left pending, and the process is killed while it waits for it.
    rpc(url, "evm_setAutomine", [False])
    try:
        process = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            mined: set[int] = set()
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None, f"ereg ended before it was killed: {process.communicate()}"
                assert time.monotonic() < deadline, "batch 1 was never submitted"
                submitted = {int(e["batch"]) for e in Journal(out / ".ereg").entries() if e["state"] == "submitted"}
                if 1 in submitted:
                    break
                for batch in submitted - mined:
                    rpc(url, "evm_mine")
                    mined.add(batch)
                time.sleep(0.02)
            process.send_signal(signal.SIGKILL)
            process.communicate(timeout=10)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
        assert process.returncode == -signal.SIGKILL
        state = journal_state(out)
        assert state[0]["state"] == "written" and state[1]["state"] == "submitted" and 2 not in state
        killed_root = state[1]["root"]
        assert not root_status_anchored(cli, killed_root)  # still in the node's pool
        rpc(url, "evm_mine")  # the network includes it after the client died
        assert root_status_anchored(cli, killed_root)
    finally:
        rpc(url, "evm_setAutomine", [True])

    rerun = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert f"root {killed_root}" in rerun.stdout and "(resumed)" in rerun.stdout
    roots = cli.anchored_roots()
    assert len(roots) == 3 == len(set(roots)), f"a root was anchored twice: {roots}"
    journal_roots = {e["root"] for e in journal_state(out).values()}
    assert journal_roots == set(roots)
    docs = check_issued(cli, out, dict(zip(names, records, strict=True)))
    assert docs[names[3]].proof.anchor_tx == state[1]["tx"]


@DEV_ONLY
@pytest.mark.parametrize("fate", ["pending", "dropped"])
def test_resume_after_the_anchoring_tx_was_left_pending(cli: Cli, monkeypatch: pytest.MonkeyPatch, fate: str) -> None:
    """A run stopped while its anchoring tx was still pending in the node's pool.

    Still pending at the rerun: sending a second anchor for the same root would revert once the
    first is mined (the run fails, and the outputs would name the reverted transaction), so the
    rerun waits for the recorded transaction. Dropped by the node: the rerun anchors the same
    root anew.
    """
    records = licences(2)
    names = write_records(cli.tmp / "records", records)
    out = cli.tmp / "out"
    url = cli.world.node.rpc_url
    original_wait = TransactionSender.wait

    def interrupted(self: TransactionSender, tx_hash: str, *args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    def mine_then_wait(self: TransactionSender, tx_hash: str, *args: Any, **kwargs: Any) -> Any:
        rpc(url, "evm_mine")  # the next block: whatever is pending gets mined
        return original_wait(self, tx_hash, *args, **kwargs)

    rpc(url, "evm_setAutomine", [False])
    try:
        monkeypatch.setattr(TransactionSender, "wait", interrupted)
        first = cli.invoke("issue", str(cli.tmp / "records"), "-t", BL, "-k", "samr", "-o", str(out))
        assert first.exit_code != 0
        state = journal_state(out)
        assert state[0]["state"] == "submitted"
        root, pending_tx = state[0]["root"], state[0]["tx"]
        assert not root_status_anchored(cli, root)
        if fate == "dropped":
            rpc(url, "hardhat_dropTransaction", [pending_tx])

        monkeypatch.setattr(TransactionSender, "wait", mine_then_wait)
        second = cli.invoke("issue", str(cli.tmp / "records"), "-t", BL, "-k", "samr", "-o", str(out))
    finally:
        rpc(url, "evm_setAutomine", [True])
        monkeypatch.undo()
    assert second.exit_code == 0, second.output
    assert cli.anchored_roots() == [root]
    docs = check_issued(cli, out, dict(zip(names, records, strict=True)))
    # resent after a drop, the anchor is the same signed transaction (same nonce, fees and data)
    assert {d.proof.anchor_tx for d in docs.values()} == {pending_tx}


def test_torn_journal_line_from_a_crash_does_not_block_resuming(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """A crash in the middle of a journal write leaves a torn last line; later runs still resume.

    Run 1 stops waiting for batch 1's anchor, and the power goes while a journal line is written.
    Run 2 records batch 1 as anchored, then stops writing its outputs. Run 3 finishes; run 4 has
    nothing left to do. Every run after the torn line must read the journal.
    """
    records = licences(6)
    names = write_records(cli.tmp / "records", records)
    out = cli.tmp / "out"
    args = ("issue", str(cli.tmp / "records"), "-t", BL, "-k", "samr", "-o", str(out), "--batch-size", "2")
    original_wait, original_write = TransactionSender.wait, Issuer._finish_write
    stop = {"wait": 2, "write": -1}

    def wait(self: TransactionSender, tx_hash: str, *a: Any, **kw: Any) -> Any:
        stop["wait"] -= 1
        if stop["wait"] == 0:
            raise KeyboardInterrupt
        return original_wait(self, tx_hash, *a, **kw)

    def write(self: Issuer, writing: Any) -> None:
        if writing.index == stop["write"]:
            raise KeyboardInterrupt
        original_write(self, writing)

    monkeypatch.setattr(TransactionSender, "wait", wait)
    monkeypatch.setattr(Issuer, "_finish_write", write)
    assert cli.invoke(*args).exit_code != 0
    assert journal_state(out)[1]["state"] == "submitted"
    journal = out / ".ereg" / "journal.jsonl"
    with journal.open("a", encoding="utf-8") as fh:
        fh.write('{"batch": 1, "sta')  # power lost mid-line

    stop["write"] = 1
    assert cli.invoke(*args).exit_code != 0
    assert journal_state(out)[1]["state"] == "anchored"
    monkeypatch.undo()
    cli.issue(cli.tmp / "records", out=out, batch_size=2)
    assert "3 batch(es) already done" in cli.issue(cli.tmp / "records", out=out, batch_size=2)
    roots = cli.anchored_roots()
    assert len(roots) == 3 == len(set(roots))
    check_issued(cli, out, dict(zip(names, records, strict=True)))


def test_journal_of_other_records_is_refused(cli: Cli) -> None:
    write_records(cli.tmp / "first", licences(3), prefix="a")
    write_records(cli.tmp / "second", licences(3, start=100), prefix="b")
    out = cli.tmp / "out"
    cli.issue(cli.tmp / "first", out=out, batch_size=2)
    roots = cli.anchored_roots()
    before = outputs_of(out)

    line = cli.issue(cli.tmp / "second", out=out, batch_size=2, expect=1)
    assert "belongs to another set of records" in line and "--out" in line
    # the same records with another batch size cut other batches: refused too
    assert "belongs to another set of records" in cli.issue(cli.tmp / "first", out=out, batch_size=3, expect=1)
    assert "is for type business-license" in cli.issue(
        cli.tmp / "first", out=out, batch_size=2, doc_type="food-business-license", expect=1
    )
    assert cli.anchored_roots() == roots
    assert outputs_of(out) == before


# ------------------------------------------------------------------------------ 3. errors
def test_key_errors_are_one_line(cli: Cli) -> None:
    write_records(cli.tmp / "records", licences(1))
    out = cli.tmp / "out"
    line = cli.issue(cli.tmp / "records", out=out, expect=1, env={"EREG_KEY_PASSWORD": "not the password"})
    assert "wrong password" in line and "WRONG_PASSWORD" in line
    keys = cli.home / "keys"
    (keys / "torn.json").write_text('{"address": "ab", "crypto": {"cipher', encoding="utf-8")
    assert "CORRUPT_KEYSTORE" in cli.issue(cli.tmp / "records", out=out, key="torn", expect=1)
    samr = json.loads((keys / "samr.json").read_text(encoding="utf-8"))
    del samr["crypto"]["kdfparams"]
    (keys / "nokdf.json").write_text(json.dumps(samr), encoding="utf-8")
    assert "CORRUPT_KEYSTORE" in cli.issue(cli.tmp / "records", out=out, key="nokdf", expect=1)
    (keys / "plain.json").write_text(json.dumps({"address": "00" * 20}), encoding="utf-8")
    assert "not an encrypted key" in cli.issue(cli.tmp / "records", out=out, key="plain", expect=1)
    assert "no key named 'nobody'" in cli.issue(cli.tmp / "records", out=out, key="nobody", expect=1)
    assert cli.anchored_roots() == []
    assert outputs_of(out) == []


def test_input_file_errors_are_one_line(cli: Cli) -> None:
    out = cli.tmp / "out"
    missing = cli.tmp / "nowhere" / "x.json"
    assert f"no such file or directory: {missing}" in cli.issue(missing, out=out, expect=1)

    unreadable = cli.tmp / "unreadable"
    write_records(unreadable, licences(2))
    (unreadable / "x.json").mkdir()  # a directory where a record file is expected
    line = cli.issue(unreadable, out=out, expect=1)
    assert "x.json: cannot read" in line and "INPUT" in line

    invalid = cli.tmp / "invalid"
    write_records(invalid, licences(2))
    (invalid / "broken.json").write_text('{"creditCode": "91310115MA1K4XXX0Q",', encoding="utf-8")
    line = cli.issue(invalid, out=out, expect=1)
    assert "broken.json: not valid JSON" in line

    (cli.tmp / "array").mkdir()
    (cli.tmp / "array" / "list.json").write_text("[1, 2]", encoding="utf-8")
    assert "list.json: a record must be a JSON object" in cli.issue(cli.tmp / "array", out=out, expect=1)

    (cli.tmp / "empty").mkdir()
    assert "no record files" in cli.issue(cli.tmp / "empty", out=out, expect=1)
    assert cli.anchored_roots() == []
    assert issued_files(out) == []


def test_schema_violation_names_file_and_pointer_and_anchors_nothing_of_its_batch(cli: Cli) -> None:
    records = licences(4)
    names = write_records(cli.tmp / "records", records)
    bad = dict(records[2])
    del bad["creditCode"]
    bad["registeredCapital"] = {"amount": 5, "currency": "CNY"}
    (cli.tmp / "records" / f"{names[2]}.json").write_text(json.dumps(bad, ensure_ascii=False), encoding="utf-8")
    out = cli.tmp / "out"

    line = cli.issue(cli.tmp / "records", out=out, batch_size=2, expect=1)

    assert "SCHEMA_VIOLATION" in line and "batch 1 not issued" in line
    assert f"{names[2]}.json: /creditCode:" in line
    assert f"{names[2]}.json: /registeredCapital/amount:" in line
    # batch 0 was valid and is issued; nothing of batch 1 is on chain or on disk
    roots = cli.anchored_roots()
    assert roots == [journal_state(out)[0]["root"]]
    assert set(journal_state(out)) == {0}
    for name in names[2:]:
        assert not any((out / f"{name}{suffix}").exists() for suffix in OUTPUTS)

    # once the record is fixed, the same command finishes the job
    write_records(cli.tmp / "records", records)
    done = cli.issue(cli.tmp / "records", out=out, batch_size=2)
    assert "1 batch(es) already done" in done
    assert len(cli.anchored_roots()) == 2
    check_issued(cli, out, dict(zip(names, records, strict=True)))


def test_schema_violation_in_a_single_batch_anchors_nothing(cli: Cli) -> None:
    records = licences(3)
    del records[1]["address"]
    write_records(cli.tmp / "records", records)
    out = cli.tmp / "out"
    line = cli.issue(cli.tmp / "records", out=out, expect=1)
    assert "rec-001.json: /address:" in line and "'address' is a required property" in line
    assert cli.anchored_roots() == []
    assert issued_files(out) == []


def test_node_down_is_one_line(cli: Cli) -> None:
    write_records(cli.tmp / "records", licences(1))
    line = cli.issue(
        cli.tmp / "records", out=cli.tmp / "out", expect=1, env={"EREG_RPC_URL": f"http://127.0.0.1:{free_port()}"}
    )
    assert "CHAIN_UNAVAILABLE" in line


def test_ipfs_down_is_one_line_and_anchors_nothing(cli: Cli) -> None:
    write_records(cli.tmp / "records", licences(2))
    out = cli.tmp / "out"
    line = cli.issue(
        cli.tmp / "records", out=out, expect=1, env={"EREG_IPFS_API": f"/ip4/127.0.0.1/tcp/{free_port()}/http"}
    )
    assert "IPFS_UNAVAILABLE" in line
    assert cli.anchored_roots() == []
    assert issued_files(out) == []
    assert journal_state(out) == {}


def test_department_not_authorized_for_the_type(cli: Cli) -> None:
    write_records(cli.tmp / "records", [sample_record(PROPERTY)])
    out = cli.tmp / "out"
    line = cli.issue(cli.tmp / "records", out=out, doc_type=PROPERTY, key="samr", expect=1)
    assert "NOT_AUTHORIZED" in line and cli.world.samr_key.address in line
    # the governor's key belongs to no department at all
    assert "NOT_AUTHORIZED" in cli.issue(cli.tmp / "records", out=out, doc_type=PROPERTY, key="governor", expect=1)
    assert cli.anchored_roots() == []
    assert journal_state(out) == {}


def test_verifier_url_is_required(cli: Cli) -> None:
    write_records(cli.tmp / "records", licences(1))
    line = cli.issue(cli.tmp / "records", out=cli.tmp / "out", expect=2, env={"EREG_VERIFIER_URL": None})
    assert "--verifier-url" in line and "EREG_VERIFIER_URL" in line
    # and it must be one a phone may open: https, or http only on loopback
    line = cli.issue(
        cli.tmp / "records", out=cli.tmp / "out", expect=1, env={"EREG_VERIFIER_URL": "http://verify.example.gov.cn"}
    )
    assert "https" in line
    assert cli.anchored_roots() == []


# --------------------------------------------------------------------- 4. status changes
def status(cli: Cli, target: str | Path, expect: int) -> str:
    """The status line of a document file, or of a root anchored by SAMR."""
    department = ["--department", "LA-SAMR"] if str(target).startswith("0x") else []
    printed = cli("status", str(target), *department, expect=expect)
    assert printed.count("\n") == 1, printed
    return printed.strip()


def test_revoke_suspend_reinstate_documents_and_batches(cli: Cli) -> None:
    names = write_records(cli.tmp / "records", licences(3))
    out = cli.tmp / "out"
    cli.issue(cli.tmp / "records", out=out)
    a, b, c = (out / f"{n}.ereg.json" for n in names)
    root = json.loads(a.read_bytes())["proof"]["merkleRoot"]
    for doc in (a, b, c):
        assert status(cli, doc, 0).startswith("ACTIVE anchored")
    assert status(cli, root, 0).startswith("ACTIVE")

    # one document revoked, by reason name; its batch mates stay active
    assert "revoked document 0x" in cli("revoke", str(a), "--key", "samr", "--reason", "issued-in-error")
    line = status(cli, a, 4)
    assert line.startswith("REVOKED") and "(issued in error)" in line
    assert status(cli, b, 0).startswith("ACTIVE") and status(cli, c, 0).startswith("ACTIVE")
    assert status(cli, root, 0).startswith("ACTIVE")

    # suspended by reason number, then reinstated
    cli("suspend", str(b), "--key", "samr", "--reason", "6")
    assert "(under investigation)" in status(cli, b, 4)
    assert status(cli, c, 0).startswith("ACTIVE")
    cli("reinstate", str(b), "--key", "samr", "--reason", "investigation-closed")
    assert status(cli, b, 0).startswith("ACTIVE")

    # the whole batch, through a document file with --batch, then by its root
    assert f"suspended batch {root}" in cli("suspend", str(c), "--batch", "--key", "samr", "--reason", "court-order")
    assert status(cli, b, 4).startswith("SUSPENDED") and status(cli, root, 4).startswith("SUSPENDED")
    assert f"reinstated batch {root}" in cli("reinstate", root, "--key", "samr")
    assert status(cli, b, 0).startswith("ACTIVE") and status(cli, c, 0).startswith("ACTIVE")
    assert status(cli, a, 4).startswith("REVOKED")
    cli("revoke", root, "--key", "samr", "--reason", "8")
    assert "(licence cancelled by the authority)" in status(cli, c, 4)
    assert status(cli, root, 4).startswith("REVOKED")

    # a key of another department may not; an unknown reason is a usage error
    assert "refused by the registry" in cli.fail("suspend", str(b), "--key", "natres")
    assert "unknown reason 'whim'" in cli.fail("suspend", str(b), "--key", "samr", "--reason", "whim", expect=2)
    assert "NOT_ANCHORED" in cli("status", "0x" + "ab" * 32, "--department", "LA-SAMR", expect=3)
    # the same root is a record of SAMR only: NATRES never anchored it
    assert "NOT_ANCHORED" in cli("status", root, "--department", "0x" + NATRES.hex(), expect=3)
    assert "issued by 0x" in cli.fail("status", str(a), "--department", "LA-NATRES", expect=2)


def test_supersede_by_a_document_of_another_run(cli: Cli) -> None:
    old_name = write_records(cli.tmp / "old", licences(2), prefix="old")[0]
    new_name = write_records(cli.tmp / "new", licences(1, start=50), prefix="new")[0]
    cli.issue(cli.tmp / "old", out=cli.tmp / "out-old")
    cli.issue(cli.tmp / "new", out=cli.tmp / "out-new")
    old = cli.tmp / "out-old" / f"{old_name}.ereg.json"
    new = cli.tmp / "out-new" / f"{new_name}.ereg.json"
    new_target = json.loads(new.read_bytes())["proof"]["targetHash"]

    printed = cli("supersede", str(old), str(new), "--key", "samr")
    assert f"by {new_target}" in printed

    line = status(cli, old, 4)
    assert line.startswith("SUPERSEDED") and f"successor {new_target}" in line
    assert "(replaced by a new document)" in line
    assert status(cli, new, 0).startswith("ACTIVE")
    assert status(cli, cli.tmp / "out-old" / "old-001.ereg.json", 0).startswith("ACTIVE")


def test_disclose_hides_fields_and_still_verifies(cli: Cli) -> None:
    name = write_records(cli.tmp / "records", licences(2))[0]
    out = cli.tmp / "out"
    cli.issue(cli.tmp / "records", out=out)
    original = out / f"{name}.ereg.json"

    printed = cli("disclose", str(original), "--hide", "/phone", "--hide", "/registeredCapital")
    derived = out / f"{name}.disclosed.ereg.json"
    assert str(derived) in printed and "2 field(s) hidden" in printed

    result = check_integrity(derived.read_bytes())
    assert result.ok, result.message
    original_doc = json.loads(original.read_bytes())
    derived_doc = json.loads(derived.read_bytes())
    assert derived_doc["proof"]["targetHash"] == original_doc["proof"]["targetHash"]
    assert "phone" not in derived_doc["data"] and "registeredCapital" not in derived_doc["data"]
    assert not any(p.startswith(("/phone", "/registeredCapital")) for p in derived_doc["salts"])
    assert len(derived_doc["privacy"]["obfuscated"]) == 3  # phone, amount, currency
    assert original_doc["data"]["phone"].encode() not in derived.read_bytes()
    assert status(cli, derived, 0).startswith("ACTIVE")

    # hiding every data field leaves nothing to show: refused, nothing written
    everything = [arg for key in original_doc["data"] for arg in ("--hide", f"/{key}")]
    line = cli.fail("disclose", str(original), *everything, "--out", str(cli.tmp / "nothing.ereg.json"))
    assert "NOTHING_DISCLOSED" in line
    assert not (cli.tmp / "nothing.ereg.json").exists()
    assert "NOT_A_FIELD" in cli.fail("disclose", str(original), "--hide", "/noSuchField")
    assert "cannot be hidden" in cli.fail("disclose", str(original), "--hide", "/@validity")

    # a tampered copy is refused by every document command
    tampered = json.loads(original.read_bytes())
    tampered["data"]["legalRepresentative"] = "王五"
    forged = cli.tmp / "forged.ereg.json"
    forged.write_text(json.dumps(tampered, ensure_ascii=False), encoding="utf-8")
    assert check_integrity(forged.read_bytes()).code is IntegrityCode.TAMPERED
    assert "integrity check failed (TAMPERED)" in cli.fail("status", str(forged))
    assert "integrity check failed" in cli.fail("revoke", str(forged), "--key", "samr")


# --------------------------------------------------------------------- 5. personal data
def _cjk(rng: random.Random, length: int) -> str:
    return "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(length))


def _id_number(rng: random.Random) -> str:
    return (
        f"{rng.randint(110000, 659999)}19{rng.randint(50, 99)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        f"{rng.randint(0, 999):03d}{rng.choice('0123456789X')}"
    )


def _personal_records(rng: random.Random) -> tuple[list[dict[str, Any]], dict[str, Any], list[str]]:
    """Business licences and a property certificate with fresh personal values (returned too)."""
    personal: list[str] = []
    licences_ = []
    for serial in range(3):
        record = sample_business_licence(serial)
        record["legalRepresentative"] = _cjk(rng, 3)
        record["phone"] = f"0{rng.randint(10, 99)}-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}"
        record["address"] = f"示例市{_cjk(rng, 4)}路{rng.randint(1, 999)}号"
        personal += [record["legalRepresentative"], record["phone"], record["address"]]
        licences_.append(record)
    certificate = sample_record(PROPERTY)
    for owner in certificate["owners"]:
        owner["name"] = _cjk(rng, 3)
        owner["idNumber"] = _id_number(rng)
        personal += [owner["name"], owner["idNumber"]]
    certificate["location"] = f"示例市{_cjk(rng, 4)}路{rng.randint(1, 999)}弄{rng.randint(1, 99)}号"
    personal.append(certificate["location"])
    return licences_, certificate, personal


def _found(needles: Iterable[bytes], haystacks: Iterable[tuple[str, bytes]]) -> dict[bytes, list[str]]:
    wanted = list(needles)
    hits: dict[bytes, list[str]] = {needle: [] for needle in wanted}
    for where, data in haystacks:
        for needle in wanted:
            if needle in data:
                hits[needle].append(where)
    return hits


def _files(directory: Path) -> list[tuple[str, bytes]]:
    return [(str(p), p.read_bytes()) for p in sorted(directory.rglob("*")) if p.is_file()]


def _chain_bytes(cli: Cli) -> list[tuple[str, bytes]]:
    """Every transaction's input, every log's topics and data and every block's extraData, from block 0."""
    w3 = cli.world.client.w3
    head = int(w3.eth.block_number)
    found: list[tuple[str, bytes]] = []
    for number in range(head + 1):
        block = w3.eth.get_block(number, full_transactions=True)
        extra = block.get("extraData", block.get("proofOfAuthorityData", b""))  # renamed by the POA middleware
        found.append((f"block {number} extraData", bytes(extra)))
        for tx in block["transactions"]:
            assert not isinstance(tx, bytes)
            found.append((f"tx {tx['hash'].hex()} input", bytes(tx["input"])))
    for start in range(0, head + 1, 1000):
        for log in w3.eth.get_logs({"fromBlock": start, "toBlock": min(head, start + 999)}):
            topics = b"".join(bytes(t) for t in log["topics"])
            found.append((f"log {log['transactionHash'].hex()}:{log['logIndex']}", topics + bytes(log["data"])))
    return found


@pytest.mark.parametrize("cli", ["ipfs"], indirect=True)
def test_no_personal_data_in_clear_on_ipfs_or_chain(cli: Cli) -> None:
    assert cli.ipfs is not None
    rng = random.Random(os.urandom(16))
    licence_records, certificate, personal = _personal_records(rng)
    write_records(cli.tmp / "licences", licence_records, prefix="lic")
    write_records(cli.tmp / "property", [certificate], prefix="prop")
    out = cli.tmp / "out"
    cli.issue(cli.tmp / "licences", out=out / "licences")
    cli.issue(cli.tmp / "property", out=out / "property", doc_type=PROPERTY, key="natres")
    needles = [value.encode("utf-8") for value in personal]
    assert len(set(needles)) == len(needles) == 14

    # the search works: every value is in the plaintext outputs the department keeps
    plaintext = _found(needles, _files(out))
    assert all(plaintext.values()), [n.decode() for n, where in plaintext.items() if not where]

    # (a) every file of the IPFS repository: none of the values; but the documents' ciphertexts
    # and a plaintext canary stored just now are there, so the scan reads the blocks as stored
    canary = f"ereg-canary-{os.urandom(8).hex()}".encode()
    store = cli.store()
    store.put(canary + b" stored in clear on purpose")
    documents = [json.loads(p.read_bytes()) for p in out.rglob("*.ereg.json")]
    assert len(documents) == 4
    ciphertexts = [store.get(d["proof"]["cid"]) for d in documents]
    repo = _files(cli.ipfs.repo)
    in_repo = _found([*needles, canary, *ciphertexts], repo)
    assert in_repo[canary], f"the scan of {cli.ipfs.repo} did not find the canary block"
    assert all(in_repo[blob] for blob in ciphertexts), "a document's ciphertext is not in the IPFS repository"
    leaked = {n.decode(): where for n in needles if (where := in_repo[n])}
    assert not leaked, f"personal data in clear in IPFS: {leaked}"

    # (b) the chain from block 0: none of the values; but the anchored roots are found in the
    # anchoring transactions' input and in the BatchAnchored topics, so the scan reads them
    chain = _chain_bytes(cli)
    roots = [bytes.fromhex(d["proof"]["merkleRoot"][2:]) for d in documents]
    on_chain = _found([*needles, *roots], chain)
    for root in roots:
        assert any(w.startswith("tx ") for w in on_chain[root]) and any(w.startswith("log ") for w in on_chain[root])
    leaked = {n.decode(): where for n in needles if (where := on_chain[n])}
    assert not leaked, f"personal data in clear on chain: {leaked}"

    # the property certificate was anchored by natural resources
    prop = json.loads((out / "property" / "prop-000.ereg.json").read_bytes())
    assert prop["issuer"]["department"] == "0x" + NATRES.hex()


def test_one_line_error_helper_rejects_tracebacks() -> None:
    """The helper every error test relies on fails on what it must catch."""
    with pytest.raises(AssertionError):
        one_line_error("Traceback (most recent call last):\n  File ...\nValueError: x\n")
    with pytest.raises(AssertionError):
        one_line_error("ereg: first\nereg: second\n")
    line = "ereg: error [WRONG_PASSWORD]: wrong password / 密码错误"
    assert one_line_error(line + "\n") == line


def test_two_runs_on_one_output_directory_are_refused(cli: Cli, tmp_path: Path) -> None:
    """A second `ereg issue` on an output directory whose journal is locked by a running one."""
    import fcntl

    records = tmp_path / "locked-records"
    write_records(records, [sample_business_licence(i) for i in range(2)])
    out = tmp_path / "locked-out"
    (out / ".ereg").mkdir(parents=True)
    with (out / ".ereg" / "lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = cli.invoke("issue", str(records), "--type", "business-license", "--key", "samr", "--out", str(out))
        assert result.exit_code == 1
        assert "another `ereg issue` is running" in one_line_error(result.output)
    assert not list(out.glob("*.ereg.json"))
    cli("issue", str(records), "--type", "business-license", "--key", "samr", "--out", str(out))
    assert len(list(out.glob("*.ereg.json"))) == 2


def test_a_run_of_hundreds_seals_ahead_in_worker_processes_and_stops_at_a_bad_batch(cli: Cli) -> None:
    # 200 records or more: batches are sealed (and QR images drawn) in worker processes, batches
    # ahead of the one being stored and anchored. A schema error in a batch sealed ahead stops the
    # run at that batch: the batches before it are issued, nothing of it is anchored or written.
    records = licences(240)
    names = write_records(cli.tmp / "records", records)
    bad = dict(records[170])
    del bad["creditCode"]
    (cli.tmp / "records" / f"{names[170]}.json").write_text(json.dumps(bad, ensure_ascii=False), encoding="utf-8")
    out = cli.tmp / "out"

    line = cli.issue(cli.tmp / "records", out=out, batch_size=80, expect=1)

    assert "SCHEMA_VIOLATION" in line and "batch 2 not issued" in line and f"{names[170]}.json: /creditCode:" in line
    state = journal_state(out)
    assert {index: entry["state"] for index, entry in state.items()} == {0: "written", 1: "written"}
    assert cli.anchored_roots() == [state[0]["root"], state[1]["root"]]
    assert [p.name for p in issued_files(out)] == [f"{name}.ereg.json" for name in names[:160]]

    write_records(cli.tmp / "records", records)
    done = cli.issue(cli.tmp / "records", out=out, batch_size=80)
    assert "2 batch(es) already done" in done
    assert len(cli.anchored_roots()) == 3
    check_issued(cli, out, dict(zip(names, records, strict=True)))


def test_a_batch_file_from_before_with_the_cids_in_its_documents_is_finished(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    # batch files journalled by earlier versions hold no "cids": each document carries its own
    records = licences(4)
    names = write_records(cli.tmp / "records", records)
    out = cli.tmp / "out"
    disk_full_writing(monkeypatch, batch=1, out=out)
    cli.issue(cli.tmp / "records", out=out, batch_size=2, expect=1)
    assert journal_state(out)[1]["state"] == "anchored"
    batch_file = Journal(out / ".ereg").batch_file(1)
    content = json.loads(batch_file.read_text(encoding="utf-8"))
    for doc, cid in zip(content["documents"], content.pop("cids"), strict=True):
        doc["proof"]["cid"] = cid
    batch_file.write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")

    monkeypatch.undo()
    done = cli.issue(cli.tmp / "records", out=out, batch_size=2)
    assert "1 batch(es) already done" in done
    docs = check_issued(cli, out, dict(zip(names, records, strict=True)))
    assert [docs[name].proof.cid for name in names[2:]] == [doc["proof"]["cid"] for doc in content["documents"]]
