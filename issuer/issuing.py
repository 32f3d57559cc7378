"""Issuing a directory of records: validate, wrap, encrypt, store, anchor, write, with a journal.

Each batch moves through journal states, each recorded (fsync) before the next step starts:

- ``prepared``: the wrapped documents, their keys and CIDs are saved in the batch file and the
  ciphertexts are stored; nothing is on chain yet;
- ``submitted``: the anchoring transaction was handed to the node (its hash is recorded);
- ``anchored``: the root is on chain (block and transaction recorded);
- ``written``: every output file of the batch exists.

Through the relay (``--via``) two states replace ``submitted``:

- ``signed``: the department's EIP-712 signature of the anchor (and its deadline) is recorded
  before it is sent, so a resumed run sends the same signed message, which the relay counts
  once however often it arrives;
- ``relayed``: the relay accepted it (its request id is recorded); a resumed run asks the
  relay (and the chain) about that request instead of submitting again.

A run that stops anywhere resumes from the journal: a prepared or submitted batch is checked
on chain first, and is anchored again only if its root is not there, with the same root (the
same salted documents), so no document is ever anchored twice.

For runs of 200 records or more, the CPU-bound work runs in worker processes: a batch's sealing
(read, check against the schema, wrap, encrypt, name: :mod:`issuer.sealing`) up to
:data:`SEAL_AHEAD` batches ahead of the one being stored and anchored, and its QR images. Nothing
of a batch sealed ahead is stored or journalled before its turn, so the states above and their
order are the same as in one process; a run that stops drops what was sealed ahead.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import BrokenExecutor, Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from eth_account.signers.local import LocalAccount
from eth_typing import HexStr
from web3.exceptions import TransactionNotFound

from chain.errors import ContractRevert
from chain.registry import RegistryClient
from chain.sender import Receipt, TransactionSender
from chain.types import type_id
from documents import build_qr_url
from documents.hashing import keccak256
from documents.sm2 import Sm2PrivateKey
from documents.suite import SUITE_KECCAK, Suite
from issuer.errors import InputError, IssuerError, NotAuthorized, UsageError
from issuer.qrimage import QrKinds
from issuer.relay_client import REJECTED, RelayRefused, RelayRejected, RequestState, is_request_id
from issuer.relayed import RESIGN_MARGIN, Via, anchor_body, check_accepted, deadline, signed_anchor
from issuer.sealing import (
    FinishedDocument,
    SchemaViolationError,
    SealedBatch,
    finish_documents,
    read_record,
    seal_files,
)
from storage.base import DocumentStore
from storage.cid import compute_cid
from storage.errors import StorageError

JOURNAL_DIR = ".ereg"
#: Blobs per ``put_many`` call: a batch of 1,000 goes as ten CARs, eight at a time (js-ipfs imports
#: and pins small CARs sent together faster than one large one: docs/PERFORMANCE.md).
STORE_CHUNK = 100
#: Batches sealed in the worker processes ahead of the one being stored and anchored.
SEAL_AHEAD = 2
#: Calls an anchored batch's documents are finished in (spread over the worker processes).
FINISH_CHUNKS = 8
STATES = ("prepared", "submitted", "signed", "relayed", "anchored", "written")

_T = TypeVar("_T")


@dataclass(frozen=True)
class IssueSettings:
    doc_type: str
    out_dir: Path
    verifier_url: str
    valid_from: str
    valid_until: str | None = None
    batch_size: int = 1000
    store_workers: int = 8
    #: worker processes that seal batches and draw QR images (runs of 200 records or more)
    workers: int = 2
    suite: Suite = SUITE_KECCAK
    #: the QR images written beside each document (its ``.qr.url`` is always written)
    qr: QrKinds = QrKinds.both


@dataclass
class BatchReport:
    index: int
    count: int
    root: str
    tx_hash: str | None
    block_number: int | None
    resumed: bool = False
    #: Through the relay: its request id, and the request's state when the run did not wait.
    request_id: str | None = None
    pending_state: str | None = None


@dataclass
class IssueReport:
    documents: int = 0
    batches: list[BatchReport] = field(default_factory=list)
    skipped_batches: int = 0
    #: Batches handed to the relay and not yet anchored (run again to finish them).
    pending_batches: int = 0


class Journal:
    """Append-only JSON-lines journal; every line is flushed and fsynced before returning."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / "journal.jsonl"
        self.batches_dir = directory / "batches"

    def entries(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        entries = []
        for number, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                entries.append(json.loads(line))
            except ValueError:
                # a torn last line from a crash mid-write: everything before it stands
                if number == len(self.path.read_text(encoding="utf-8").splitlines()):
                    break
                raise InputError(f"journal {self.path} is corrupt at line {number}") from None
        return entries

    def state(self) -> dict[int, dict[str, Any]]:
        """Latest entry per batch index."""
        latest: dict[int, dict[str, Any]] = {}
        for entry in self.entries():
            latest[int(entry["batch"])] = {**latest.get(int(entry["batch"]), {}), **entry}
        return latest

    def append(self, entry: dict[str, Any]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        with self.path.open("a+b") as fh:
            _end_torn_line(fh)
            fh.write((json.dumps(entry, sort_keys=True) + "\n").encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())

    def batch_file(self, index: int) -> Path:
        return self.batches_dir / f"{index:06d}.json"

    def save_batch(self, index: int, root: str, names: list[str], sealed: SealedBatch) -> Path:
        """Save a prepared batch: each document as it was sealed, its envelope's CID and its key.

        (Batch files from before hold no ``cids``: their documents carry their CIDs themselves.)
        """
        self.batches_dir.mkdir(parents=True, exist_ok=True)
        path = self.batch_file(index)
        tmp = path.with_suffix(".tmp")
        dumps = json.dumps
        # the object {"root", "names", "documents", "cids", "keys"}; the documents' canonical texts spliced in
        text = "".join((
            '{"root": ', dumps(root), ', "names": ', dumps(names, ensure_ascii=False),
            ', "documents": [', ", ".join(sealed.documents), '], "cids": ', dumps(sealed.cids),
            ', "keys": ', dumps([key.hex() for key in sealed.keys]), "}",
        ))
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        return path


def _end_torn_line(fh: Any) -> None:
    """Before appending: a last line a crash left without its newline is ended if it is a whole
    entry, and cut off if it is a fragment (else the next entry would be glued to it and lost)."""
    size = fh.seek(0, os.SEEK_END)
    if size == 0:
        return
    fh.seek(size - 1)
    if fh.read(1) == b"\n":
        return
    fh.seek(0)
    content = fh.read()
    tail = content[content.rfind(b"\n") + 1 :]
    try:
        json.loads(tail)
    except ValueError:
        fh.truncate(len(content) - len(tail))
    else:
        fh.write(b"\n")


def collect_inputs(paths: Sequence[Path]) -> list[Path]:
    """Record files named by ``paths`` (a directory stands for its ``*.json`` files), sorted."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.glob("*.json") if not p.name.endswith(".ereg.json")))
        elif path.is_file():
            files.append(path)
        else:
            raise InputError(f"no such file or directory: {path}")
    if not files:
        raise InputError("no record files (*.json) given")
    seen: dict[str, Path] = {}
    for path in files:
        if path.stem in seen:
            raise InputError(f"two records would write {path.stem}.ereg.json: {seen[path.stem]} and {path}")
        seen[path.stem] = path
    return files


def _fingerprint(files: Sequence[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.resolve()).encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class RelayAnchoring:
    """Anchor through the relay: the department's account signs, ``via`` says where and how long."""

    account: LocalAccount
    via: Via


class Issuer:
    """Issues record files as documents of one type with one department key.

    The anchor is sent directly with ``sender``, or, given ``relay``, signed and handed to the
    city platform's relay (exactly one of the two).
    """

    def __init__(
        self,
        settings: IssueSettings,
        *,
        registry: RegistryClient,
        sender: TransactionSender | None = None,
        store: DocumentStore,
        relay: RelayAnchoring | None = None,
        progress: Callable[[str, int, int], None] | None = None,
        sm2_key: Sm2PrivateKey | None = None,
    ) -> None:
        if (sender is None) == (relay is None):
            raise ValueError("give either a sender or a relay")
        if settings.suite.signed != (sm2_key is not None):
            raise UsageError(
                f"the {settings.suite.version} suite {'needs' if settings.suite.signed else 'takes no'} an SM2 key",
                zh=f"{settings.suite.version} 套件{'需要' if settings.suite.signed else '不使用'} SM2 密钥",
            )
        self.sm2_key = sm2_key
        self.settings = settings
        self.registry = registry
        self.sender = sender
        self.relay = relay
        self.store = store
        self.progress = progress or (lambda _stage, _done, _total: None)
        self.journal = Journal(settings.out_dir / JOURNAL_DIR)

    @property
    def address(self) -> str:
        if self.relay is not None:
            return str(self.relay.account.address)
        assert self.sender is not None  # noqa: S101 - one of the two, checked in __init__
        return self.sender.address

    # ----------------------------------------------------------------------- preflight
    def department(self) -> bytes:
        department, allowed = self.registry.can_anchor(self.address, type_id(self.settings.doc_type))
        if not allowed:
            raise NotAuthorized(
                f"key {self.address} may not issue {self.settings.doc_type} now: unknown key, key outside "
                "its window, inactive department or type not authorized"
            )
        if self.sm2_key is not None:
            self._check_sm2_key(department)
        return department

    def _check_sm2_key(self, department: bytes) -> None:
        """The SM2 key must be registered for ``department`` and inside its window now."""
        assert self.sm2_key is not None  # noqa: S101 - called only with one
        public = self.sm2_key.public_key.to_bytes()
        record = self.registry.sm2_key(keccak256(public))
        if record is None or record.department != department:
            raise NotAuthorized(
                f"SM2 key {self.sm2_key.public_key.hex()[:18]}… is not registered for department 0x{department.hex()}: "
                "add it with `ereg dept add-key --sm2` and the council's approval"
            )
        now = self.registry.client.latest_block_time()
        if not record.valid_at(now):
            raise NotAuthorized(
                f"SM2 key {self.sm2_key.public_key.hex()[:18]}… is outside its validity window now"
            )

    # ----------------------------------------------------------------------------- run
    def run(self, files: Sequence[Path]) -> IssueReport:
        """Issue ``files``; one run at a time per output directory (its journal is locked)."""
        self.journal.directory.mkdir(parents=True, exist_ok=True)
        with (self.journal.directory / "lock").open("w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                raise InputError(
                    f"another `ereg issue` is running on {self.settings.out_dir}; wait for it or use another --out"
                ) from None
            return self._run(files)

    def _run(self, files: Sequence[Path]) -> IssueReport:
        s = self.settings
        # a verifier URL the QR codes cannot carry is refused before anything is stored or anchored
        build_qr_url(s.verifier_url, compute_cid(b""), bytes(32))
        department = self.department()
        if self.relay is not None:
            self.relay.via.client.check_domain(self.registry.client.chain_id, self.registry.address)
        issuer = {
            "department": "0x" + department.hex(),
            "chainId": self.registry.client.chain_id,
            "registry": self.registry.address,
        }
        validity = {"validFrom": s.valid_from, "validUntil": s.valid_until}
        batches = [list(files[i : i + s.batch_size]) for i in range(0, len(files), s.batch_size)]
        workers = s.workers if len(files) >= 200 else 1
        state = self.journal.state()
        self._check_journal(state, batches)
        report = IssueReport()
        done_docs = 0
        # a batch's QR images are drawn (in worker processes) while the next batch is wrapped and
        # stored; its files are written, and the batch journalled "written", once they are drawn and
        # before the next batch is anchored: a failed write never has anchors after it
        writing: _Writing | None = None
        # the batches still to prepare are sealed (read, checked, wrapped, encrypted, named) in the
        # same worker processes, SEAL_AHEAD of them ahead of the one being stored and anchored
        to_seal = [index for index in range(len(batches)) if not state.get(index)]
        sealing: dict[int, Future[SealedBatch]] = {}
        sm2_raw = self.sm2_key.to_bytes() if self.sm2_key is not None else None

        def seal_ahead(pool: Executor, index: int) -> None:
            for ahead in to_seal:
                if ahead < index or ahead in sealing:
                    continue
                if ahead > index + SEAL_AHEAD:
                    break
                sealing[ahead] = pool.submit(
                    seal_files, ahead, batches[ahead], s.doc_type, issuer, validity, s.suite.version, sm2_raw
                )

        def finish_writing() -> None:
            nonlocal done_docs, writing
            if writing is None:
                return
            done, writing = writing, None
            self._finish_write(done)
            done_docs += done.count
            report.documents += done.count
            self.progress("issued", done_docs, len(files))

        with ThreadPoolExecutor(max_workers=s.store_workers) as io_pool, _worker_pool(workers) as pool:
            try:
                for index, batch_files in enumerate(batches):
                    entry = state.get(index, {})
                    if entry.get("state") == "written":
                        report.skipped_batches += 1
                        done_docs += len(batch_files)
                        self.progress("issued", done_docs, len(files))
                        continue
                    resumed = bool(entry)
                    sealed: SealedBatch | None = None
                    storing: list[Future[list[str]]] = []
                    if not entry:
                        seal_ahead(pool, index)
                        sealed = _outcome(sealing.pop(index))
                        storing = [io_pool.submit(self.store.put_many, part) for part in _store_parts(sealed)]
                    # the batch before, written while this one is stored, and before anything more is anchored
                    try:
                        finish_writing()
                    except BaseException:
                        if sealed is not None:  # what was stored is journalled still: a resumed run anchors it
                            with contextlib.suppress(Exception):
                                self._prepared(index, batch_files, sealed, storing)
                        raise
                    if sealed is not None:
                        entry = self._prepared(index, batch_files, sealed, storing)
                    pending_state = None
                    if entry["state"] in ("prepared", "submitted", "signed", "relayed"):
                        if self.relay is not None:
                            entry, pending_state = self._anchor_via(index, entry, department)
                        else:
                            entry = self._anchor(index, entry, department)
                    if entry["state"] == "anchored":
                        writing = self._start_write(index, entry, pool)
                    report.batches.append(
                        BatchReport(
                            index=index,
                            count=len(batch_files),
                            root=entry["root"],
                            tx_hash=entry.get("tx"),
                            block_number=entry.get("block"),
                            resumed=resumed,
                            # an older relay's integer id (a journal from before) is no id to show
                            request_id=entry["request"] if is_request_id(entry.get("request")) else None,
                            pending_state=pending_state,
                        )
                    )
                    if pending_state is not None:
                        report.pending_batches += 1
                finish_writing()
            except BaseException:
                for future in sealing.values():  # batches sealed ahead are dropped: nothing of them was stored
                    future.cancel()
                if writing is not None:  # what was drawn is written before the failure is reported
                    with contextlib.suppress(Exception):
                        finish_writing()
                raise
        return report

    def _check_journal(self, state: dict[int, dict[str, Any]], batches: list[list[Path]]) -> None:
        for index, entry in state.items():
            if index >= len(batches) or entry.get("inputs") != _fingerprint(batches[index]):
                raise InputError(
                    f"the journal in {self.journal.directory} belongs to another set of records or batch size; "
                    "use another --out directory"
                )
            if entry.get("type") != self.settings.doc_type:
                raise InputError(f"the journal in {self.journal.directory} is for type {entry.get('type')}")
            if entry.get("suite", SUITE_KECCAK.version) != self.settings.suite.version:
                raise InputError(
                    f"the journal in {self.journal.directory} is for suite {entry.get('suite', SUITE_KECCAK.version)}; "
                    "use another --out directory"
                )

    def _prepared(
        self, index: int, files: list[Path], sealed: SealedBatch, storing: list[Future[list[str]]]
    ) -> dict[str, Any]:
        """Once a sealed batch's envelopes are stored (``storing``), journal it "prepared"."""
        cids = [cid for part in storing for cid in part.result()]
        if cids != sealed.cids:  # both are computed locally from the bytes: only a broken store differs
            raise StorageError(
                f"batch {index}: the store reported CIDs that are not those of the envelopes it was given",
                f"第 {index} 批：存储返回的 CID 与所交内容不符",
            )
        self.journal.save_batch(index, sealed.root, [p.stem for p in files], sealed)
        entry = {
            "batch": index,
            "state": "prepared",
            "root": sealed.root,
            "count": len(files),
            "type": self.settings.doc_type,
            "suite": self.settings.suite.version,
            "inputs": _fingerprint(files),
        }
        self.journal.append(entry)
        self.progress("prepared", index, 0)
        return entry

    def _anchor(self, index: int, entry: dict[str, Any], department: bytes) -> dict[str, Any]:
        """Anchor directly; the root is looked up as the record of ``department`` (the key's)."""
        assert self.sender is not None  # noqa: S101 - direct mode
        if entry.get("request") is not None or entry["state"] in ("signed", "relayed"):
            raise InputError(
                f"batch {index} was handed to the relay (request {entry.get('request')}); "
                "run the same command with --via to finish it"
            )
        root = bytes.fromhex(entry["root"][2:])
        status = self.registry.document_status(department, root)
        earlier = None
        if not status.anchored and entry.get("tx"):
            # an earlier run sent the anchor and stopped before its receipt: while the node still
            # has that transaction, wait for it instead of sending a second one for the same root
            earlier = self._earlier_receipt(entry["tx"])
            if earlier is not None:
                status = self.registry.document_status(department, root)
        if not status.anchored:
            fn = self.registry.contract.functions.anchor(root, type_id(self.settings.doc_type), int(entry["count"]))
            tx = self.sender.build(fn, self.registry.artifact)
            tx_hash = self.sender.submit_transaction(tx, self.registry.artifact)
            entry = {**entry, "state": "submitted", "tx": tx_hash}
            self.journal.append({"batch": index, "state": "submitted", "tx": tx_hash})
            receipt = self.sender.wait(tx_hash, self.registry.artifact, tx=tx)
            entry.update(state="anchored", block=receipt.block_number)
        else:
            # anchored by an earlier run that stopped before recording it
            entry = {**entry, "state": "anchored", "block": earlier.block_number if earlier else None}
        self.journal.append({"batch": index, "state": "anchored", "tx": entry.get("tx"), "block": entry["block"]})
        return entry

    def _anchor_via(
        self, index: int, entry: dict[str, Any], department: bytes
    ) -> tuple[dict[str, Any], str | None]:
        """Anchor through the relay; (entry, None) once anchored, (entry, state) when not waiting.

        Crash-safe: the signed anchor is journaled before it is sent and the request id before
        the wait, so a resumed run looks the request (and the root on chain) up instead of
        submitting blindly; sending the recorded signed anchor again is one request at the relay.
        """
        assert self.relay is not None  # noqa: S101 - relay mode
        relay, via = self.relay, self.relay.via
        root = bytes.fromhex(entry["root"][2:])
        direct = entry.get("tx") and entry.get("request") is None and entry["state"] == "submitted"
        if direct and not self.registry.document_status(department, root).anchored:
            raise InputError(
                    f"batch {index} was sent directly (tx {entry['tx']}); run the same command without --via to "
                    "finish it"
                )
        # an older relay's integer id is no id of this one: the chain and the journaled anchor decide
        recorded = entry.get("request")
        request_id: str | None = recorded if is_request_id(recorded) else None
        state: RequestState | None = None
        if request_id is not None:
            state = via.client.request(request_id)
            if state is None or state.state == REJECTED:
                request_id = None  # unknown to the relay, or given up: the chain decides below
        if request_id is None:
            status = self.registry.document_status(department, root)
            if status.anchored:
                # an earlier run's request (or transaction) got there; nothing more to send
                self._check_anchored(index, root, department)
                return self._record_anchored(index, entry, entry.get("tx"), None), None
            body = entry.get("anchor")
            if body is None or int(body["deadline"]) < deadline(self.registry.client, RESIGN_MARGIN):
                signed = signed_anchor(
                    relay.account,
                    self.registry,
                    root=root,
                    doc_type=type_id(self.settings.doc_type),
                    count=int(entry["count"]),
                    deadline=deadline(self.registry.client, via.deadline_window),
                )
                body = anchor_body(signed, self.registry)
                self.journal.append({"batch": index, "state": "signed", "anchor": body})
                entry = {**entry, "state": "signed", "anchor": body}
            try:
                accepted = via.client.post_anchor(body)
            except RelayRefused as refusal:
                if refusal.code != "ALREADY_ANCHORED":
                    raise
                self._check_anchored(index, root, department)  # anchored since the look above
                return self._record_anchored(index, entry, entry.get("tx"), None), None
            check_accepted(accepted, relay.account)
            request_id = accepted.id
            self.journal.append({"batch": index, "state": "relayed", "request": request_id})
            entry = {**entry, "state": "relayed", "request": request_id}
            state = RequestState(request_id, accepted.state, entry["root"], None, None, None)
        assert state is not None  # noqa: S101 - set on both paths
        if via.wait_for is None:
            if state.reached("ANCHORED") and state.tx_hash:
                return self._record_anchored(index, entry, state.tx_hash, state.block), None
            return entry, state.state
        try:
            final = via.wait(request_id)
        except RelayRejected:
            if self.registry.document_status(department, root).anchored:
                self._check_anchored(index, root, department)
                return self._record_anchored(index, entry, entry.get("tx"), None), None
            raise
        self._check_anchored(index, root, department)
        return self._record_anchored(index, entry, final.tx_hash, final.block), None

    def _check_anchored(self, index: int, root: bytes, department: bytes) -> None:
        """The CLI's own check before it says done: the root is on chain, by this department's key."""
        status = self.registry.document_status(department, root)
        if not status.anchored:
            raise IssuerError(f"batch {index}: the relay reports 0x{root.hex()} anchored, but the chain does not")
        if status.department != department or status.signer.lower() != self.address.lower():
            raise IssuerError(
                f"batch {index}: 0x{root.hex()} is anchored by key {status.signer} of department "
                f"0x{status.department.hex()}, not by {self.address}"
            )

    def _record_anchored(
        self, index: int, entry: dict[str, Any], tx: str | None, block: int | None
    ) -> dict[str, Any]:
        entry = {**entry, "state": "anchored", "tx": tx, "block": block}
        self.journal.append({"batch": index, "state": "anchored", "tx": tx, "block": block})
        return entry

    def _earlier_receipt(self, tx_hash: str) -> Receipt | None:
        """The receipt of a transaction sent by an earlier run; None if the node dropped it or it failed."""
        assert self.sender is not None  # noqa: S101 - direct mode
        client = self.registry.client
        if client.run(lambda: _transaction_or_none(client.w3.eth, HexStr(tx_hash))) is None:
            return None
        try:
            return self.sender.wait(tx_hash, self.registry.artifact)
        except ContractRevert:
            return None

    def _start_write(self, index: int, entry: dict[str, Any], pool: Executor) -> _Writing:
        """Read an anchored batch back from the journal and set its documents finishing (QR images too)."""
        content = json.loads(self.journal.batch_file(index).read_text(encoding="utf-8"))
        documents, keys = content["documents"], content["keys"]
        cids = content.get("cids") or [doc["proof"]["cid"] for doc in documents]  # a batch file from before
        chunk = max(1, -(-len(documents) // FINISH_CHUNKS))
        s = self.settings
        finishing = [
            pool.submit(
                finish_documents, documents[i : i + chunk], cids[i : i + chunk], keys[i : i + chunk],
                entry.get("tx"), s.verifier_url, s.qr,
            )
            for i in range(0, len(documents), chunk)
        ]
        return _Writing(index, content["names"], finishing)

    def _finish_write(self, writing: _Writing) -> None:
        """Write an anchored batch's files once its documents are finished; journal it "written"."""
        out = self.settings.out_dir
        out.mkdir(parents=True, exist_ok=True)
        finished = [document for future in writing.finishing for document in _outcome(future)]
        for name, (document, url, png, svg) in zip(writing.names, finished, strict=True):
            _write_file(out / f"{name}.ereg.json", document)
            if png is not None:
                _write_file(out / f"{name}.qr.png", png)
            if svg is not None:
                _write_file(out / f"{name}.qr.svg", svg)
            _write_file(out / f"{name}.qr.url", (url + "\n").encode())
        self.journal.append({"batch": writing.index, "state": "written"})


@dataclass
class _Writing:
    """An anchored batch whose documents are being finished: what :meth:`Issuer._finish_write` needs."""

    index: int
    names: list[str]
    finishing: list[Future[list[FinishedDocument]]]

    @property
    def count(self) -> int:
        return len(self.names)


def _transaction_or_none(eth: Any, tx_hash: HexStr) -> Any:
    try:
        return eth.get_transaction(tx_hash)
    except TransactionNotFound:
        return None


def _write_file(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def _store_parts(sealed: SealedBatch) -> list[list[bytes]]:
    """A batch's envelopes in ``put_many`` calls: a few requests a batch (one CAR each), a few at once."""
    return [sealed.blobs[i : i + STORE_CHUNK] for i in range(0, len(sealed.blobs), STORE_CHUNK)]


def _outcome(future: Future[_T]) -> _T:
    """The result of work done in a worker process; a worker that died is an error to report, not a trace."""
    try:
        return future.result()
    except BrokenExecutor:
        raise IssuerError(
            "a worker process of `ereg issue` stopped unexpectedly (out of memory?); run the same command again "
            "to resume from the journal",
            "ereg issue 的工作进程意外退出（内存不足？）；再次运行同一命令即可从日志处继续",
        ) from None


def _worker_pool(workers: int) -> Executor:
    # sealing batches and drawing QR images are CPU-bound (about 0.6 ms and 1.2 ms a document):
    # worker processes (spawned, not forked, since this process runs threads) for real runs, one
    # thread for small ones
    if workers <= 1:
        return ThreadPoolExecutor(max_workers=1)
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("spawn"), initializer=os.nice, initargs=(10,)
    )


__all__ = [
    "STATES",
    "BatchReport",
    "IssueReport",
    "IssueSettings",
    "Issuer",
    "Journal",
    "RelayAnchoring",
    "SchemaViolationError",
    "collect_inputs",
    "read_record",
]
