"""``ereg issue | revoke | suspend | reinstate | supersede | disclose | export | status``: documents."""

from __future__ import annotations

import enum
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from chain.types import REASONS, Action, State, StatusChange
from documents import (
    IntegrityCode,
    check_integrity,
    document_to_bytes,
    hide_fields,
)
from documents.model import WrappedDocument
from documents.suite import suite_named
from documents.vc import CredentialError, envelope, export_credential
from issuer import parsing
from issuer.context import CliContext, get
from issuer.errors import InputError, NotAuthorized, UsageError
from issuer.issuing import Issuer, IssueSettings, RelayAnchoring, collect_inputs
from issuer.qrimage import QrKinds
from issuer.relayed import (
    DEFAULT_DEADLINE_WINDOW,
    DEFAULT_WAIT_TIMEOUT,
    DeadlineOption,
    NoWaitOption,
    Via,
    ViaOption,
    WaitForOption,
    WaitTimeoutOption,
    relay_status_change,
)

KeyOption = Annotated[str, typer.Option("--key", "-k", help="Department signing key (or governance key).")]
ReasonOption = Annotated[str, typer.Option("--reason", "-r", help="Reason code: a number or a name, see --help.")]

_REASON_NAMES = {name.replace(" ", "-").replace("'", ""): code for code, (name, _zh) in REASONS.items()}
ZERO = b"\x00" * 32
_PAST = {Action.REVOKE: "revoked", Action.SUSPEND: "suspended", Action.REINSTATE: "reinstated"}


def register(app: typer.Typer) -> None:
    app.command("issue")(issue)
    for action in (Action.REVOKE, Action.SUSPEND, Action.REINSTATE):
        app.command(action.name.lower(), help=f"{action.name.capitalize()} a document file or a whole batch root.")(
            _status_command(action)
        )
    app.command("supersede")(supersede)
    app.command("disclose")(disclose)
    app.command("export")(export)
    app.command("status")(status)


# ------------------------------------------------------------------------------ issue
def issue(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Record files (*.json) or directories of them.")],
    doc_type: Annotated[str, typer.Option("--type", "-t", help="Document type, e.g. business-license.")],
    key: KeyOption,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory (also holds the journal).")] = Path(
        "issued"
    ),
    verifier_url: Annotated[
        str | None, typer.Option(envvar="EREG_VERIFIER_URL", help="Base URL of the verifier the QR codes open.")
    ] = None,
    valid_from: Annotated[str, typer.Option(help="Start of validity: now or ISO 8601.")] = "now",
    valid_until: Annotated[str | None, typer.Option(help="End of validity (default: none).")] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=1_000_000, help="Documents per anchored batch.")] = 1000,
    via: ViaOption = None,
    wait_for: WaitForOption = "FINAL",
    no_wait: NoWaitOption = False,
    wait_timeout: WaitTimeoutOption = DEFAULT_WAIT_TIMEOUT,
    deadline_window: DeadlineOption = DEFAULT_DEADLINE_WINDOW,
    suite_name: Annotated[
        str,
        typer.Option(
            "--suite",
            help="keccak (ereg/1: Keccak-256, AES-256-GCM) or sm (ereg/1-sm: SM3, SM4-GCM, SM2-signed root).",
        ),
    ] = "keccak",
    sm2_key_name: Annotated[
        str | None, typer.Option("--sm2-key", help="With --suite sm: the department's SM2 key (ereg keys new --sm2).")
    ] = None,
    qr_name: Annotated[
        str,
        typer.Option("--qr", help="QR images beside each document: both (PNG and SVG), png, svg or none."),
    ] = "both",
) -> None:
    """Validate, wrap, encrypt, store and anchor records; write <name>.ereg.json and its QR code.

    Beside each <name>.ereg.json: <name>.qr.url (the URL its QR code carries) and, as --qr says,
    <name>.qr.png and <name>.qr.svg.

    An interrupted run resumes from the journal in the output directory: run the same command again.
    With --via the batch roots are signed here and anchored by the relay; documents are written once
    their batch is anchored (with --no-wait, run the same command again later to finish).
    """
    c = get(ctx)
    relay = Via.from_options(via, wait_for, no_wait, wait_timeout, deadline_window)
    if not verifier_url:
        raise UsageError("give --verifier-url or set EREG_VERIFIER_URL (the base URL the QR codes open)")
    try:
        suite = suite_named(suite_name)
    except ValueError:
        raise UsageError(
            f"unknown --suite {suite_name!r}: use keccak or sm", zh=f"未知的 --suite {suite_name!r}：请用 keccak 或 sm"
        ) from None
    if suite.signed and not sm2_key_name:
        raise UsageError(
            "--suite sm needs --sm2-key (the department's SM2 key)", zh="--suite sm 需要 --sm2-key（部门的 SM2 密钥）"
        )
    if not suite.signed and sm2_key_name:
        raise UsageError("--sm2-key goes with --suite sm", zh="--sm2-key 仅用于 --suite sm")
    try:
        qr = QrKinds(qr_name.lower())
    except ValueError:
        raise UsageError(
            f"unknown --qr {qr_name!r}: use both, png, svg or none",
            zh=f"未知的 --qr {qr_name!r}：请用 both、png、svg 或 none",
        ) from None
    sm2_key = c.sm2_key(sm2_key_name) if sm2_key_name else None
    files = collect_inputs(paths)
    settings = IssueSettings(
        doc_type=doc_type,
        out_dir=out,
        verifier_url=verifier_url,
        valid_from=parsing.format_time(parsing.timestamp(valid_from)),
        valid_until=parsing.format_time(parsing.timestamp(valid_until)) if valid_until else None,
        batch_size=batch_size,
        suite=suite,
        qr=qr,
    )
    if relay is None:
        issuer = Issuer(
            settings,
            registry=c.registry,
            sender=c.sender(key),
            store=c.store,
            progress=_progress(len(files)),
            sm2_key=sm2_key,
        )
    else:
        anchoring = RelayAnchoring(account=c.account(key), via=relay)
        issuer = Issuer(
            settings,
            registry=c.registry,
            relay=anchoring,
            store=c.store,
            progress=_progress(len(files)),
            sm2_key=sm2_key,
        )
    try:
        report = issuer.run(files)
    finally:
        _progress_done()
    for batch in report.batches:
        note = " (resumed)" if batch.resumed else ""
        via_note = f", relay request {batch.request_id}" if batch.request_id is not None else ""
        if batch.pending_state is not None:
            typer.echo(
                f"batch {batch.index}: {batch.count} documents, root {batch.root}{via_note} {batch.pending_state}"
                f"{note}"
            )
        else:
            typer.echo(
                f"batch {batch.index}: {batch.count} documents, root {batch.root}, tx {batch.tx_hash}{via_note}{note}"
            )
    skipped = f", {report.skipped_batches} batch(es) already done" if report.skipped_batches else ""
    pending = (
        f"; {report.pending_batches} batch(es) queued at the relay: run the same command again to finish them"
        if report.pending_batches
        else ""
    )
    typer.echo(f"issued {report.documents} documents of {doc_type} into {out}{skipped}{pending}")


_bar: dict[str, object] = {}


def _progress(total: int):  # type: ignore[no-untyped-def]
    """A progress bar on a terminal, nothing otherwise."""
    if not sys.stderr.isatty():
        return None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    progress = Progress("issuing", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), transient=True)
    task = progress.add_task("issue", total=total)
    progress.start()
    _bar["progress"] = progress

    def update(stage: str, done: int, _total: int) -> None:
        if stage == "issued":
            progress.update(task, completed=done)

    return update


def _progress_done() -> None:
    progress = _bar.pop("progress", None)
    if progress is not None:
        progress.stop()  # type: ignore[attr-defined]


# ---------------------------------------------------------------------- status changes
def _reason(value: str) -> int:
    if value.isdigit() and int(value) < 2**16:
        return int(value)
    if value in _REASON_NAMES:
        return _REASON_NAMES[value]
    known = ", ".join(f"{code}={name}" for name, code in _REASON_NAMES.items())
    raise UsageError(f"unknown reason {value!r} (known: {known})")


def load_document(path: Path) -> WrappedDocument:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    result = check_integrity(raw)
    if result.code is IntegrityCode.MALFORMED or result.document is None:
        raise InputError(f"{path}: not an ereg/1 document: {result.message}")
    if not result.ok:
        raise InputError(f"{path}: integrity check failed ({result.code.value}): {result.message}")
    return result.document


def _target(c: CliContext, target: str, whole_batch: bool) -> tuple[bytes, bytes, list[bytes]]:
    """(root, target hash or zero, proof) of a document file or a 0x root."""
    if target.startswith("0x"):
        return parsing.bytes32(target, "root"), ZERO, []
    doc = load_document(Path(target))
    root = bytes.fromhex(doc.proof.merkle_root[2:])
    if whole_batch:
        return root, ZERO, []
    return root, bytes.fromhex(doc.proof.target_hash[2:]), [bytes.fromhex(p[2:]) for p in doc.proof.proof]


def _change_status(c: CliContext, key: str, change: StatusChange, relay: Via | None, done: str) -> None:
    """Send ``change`` directly, or through the relay; print one line (``done`` and how)."""
    if relay is None:
        receipt = c.registry.change_status(c.sender(key), change)
        typer.echo(f"{done} (tx {receipt.tx_hash})")
        return
    outcome = relay_status_change(relay, c.account(key), c.registry, change)
    if relay.wait_for is None:
        typer.echo(f"submitted to the relay, not yet {done}: {outcome}")
    else:
        typer.echo(f"{done} through the relay ({outcome})")


def _status_command(action: Action):  # type: ignore[no-untyped-def]
    def command(
        ctx: typer.Context,
        target: Annotated[str, typer.Argument(help="A .ereg.json document file, or a batch root (0x…).")],
        key: KeyOption,
        reason: ReasonOption = "0",
        batch: Annotated[bool, typer.Option("--batch", help="Act on the document's whole batch.")] = False,
        via: ViaOption = None,
        wait_for: WaitForOption = "FINAL",
        no_wait: NoWaitOption = False,
        wait_timeout: WaitTimeoutOption = DEFAULT_WAIT_TIMEOUT,
        deadline_window: DeadlineOption = DEFAULT_DEADLINE_WINDOW,
    ) -> None:
        c = get(ctx)
        relay = Via.from_options(via, wait_for, no_wait, wait_timeout, deadline_window)
        root, target_hash, proof = _target(c, target, batch)
        change = StatusChange(action, root, target_hash, proof, reason=_reason(reason))
        what = f"batch 0x{root.hex()}" if target_hash == ZERO else f"document 0x{target_hash.hex()}"
        _change_status(c, key, change, relay, f"{_PAST[action]} {what}")

    command.__name__ = action.name.lower()
    return command


def supersede(
    ctx: typer.Context,
    old: Annotated[Path, typer.Argument(help="The document being replaced (.ereg.json).")],
    new: Annotated[Path, typer.Argument(help="Its anchored replacement (.ereg.json).")],
    key: KeyOption,
    reason: ReasonOption = "5",
    via: ViaOption = None,
    wait_for: WaitForOption = "FINAL",
    no_wait: NoWaitOption = False,
    wait_timeout: WaitTimeoutOption = DEFAULT_WAIT_TIMEOUT,
    deadline_window: DeadlineOption = DEFAULT_DEADLINE_WINDOW,
) -> None:
    """Mark a document as superseded by an anchored replacement."""
    c = get(ctx)
    relay = Via.from_options(via, wait_for, no_wait, wait_timeout, deadline_window)
    old_doc, new_doc = load_document(old), load_document(new)
    change = StatusChange(
        Action.SUPERSEDE,
        bytes.fromhex(old_doc.proof.merkle_root[2:]),
        bytes.fromhex(old_doc.proof.target_hash[2:]),
        [bytes.fromhex(p[2:]) for p in old_doc.proof.proof],
        successor_root=bytes.fromhex(new_doc.proof.merkle_root[2:]),
        successor=bytes.fromhex(new_doc.proof.target_hash[2:]),
        successor_proof=[bytes.fromhex(p[2:]) for p in new_doc.proof.proof],
        reason=_reason(reason),
    )
    _change_status(c, key, change, relay, f"superseded {old_doc.proof.target_hash} by {new_doc.proof.target_hash}")


# --------------------------------------------------------------------------- disclose
def disclose(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A .ereg.json document.")],
    hide: Annotated[list[str], typer.Option("--hide", help="JSON Pointer of a field (or object) to hide.")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Where to write the derived copy.")] = None,
) -> None:
    """Write a copy with fields hidden (selective disclosure); it still verifies."""
    doc = load_document(file)
    derived = hide_fields(doc, hide)
    target = out or file.with_name(file.name.removesuffix(".ereg.json") + ".disclosed.ereg.json")
    if target.resolve() == file.resolve():
        raise UsageError("the derived copy would overwrite the original; give another --out")
    target.write_bytes(document_to_bytes(derived))
    typer.echo(f"wrote {target} ({len(hide)} field(s) hidden)")


# ----------------------------------------------------------------------------- export
class ExportFormat(enum.StrEnum):
    vc = "vc"


def export(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A .ereg.json document, issued or disclosed.")],
    key: KeyOption,
    fmt: Annotated[ExportFormat, typer.Option("--format", help="vc: a W3C Verifiable Credential 2.0.")] = (
        ExportFormat.vc
    ),
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Where to write the credential.")] = None,
    enveloped: Annotated[
        bool, typer.Option("--envelope", help="Write the JSON EnvelopedVerifiableCredential instead of the bare JWT.")
    ] = False,
) -> None:
    """Export a document as a W3C VC 2.0 (VC-JOSE-COSE, ES256K), signed by a key of its department.

    The key must be a signer key of the department the document names, valid now on chain: the
    credential's signature is checked by VC wallets without the chain, so it must be one the
    chain vouches for.
    """
    c = get(ctx)
    doc = load_document(file)
    account = c.account(key)
    now = c.chain_now()
    signer = c.registry.known_signer_key(account.address)
    if signer is None or signer.department != bytes.fromhex(doc.issuer.department[2:]) or not signer.valid_at(now):
        raise NotAuthorized(
            f"key {key!r} ({account.address}) is not a signer key of department {doc.issuer.department} valid now"
        )
    try:
        token = export_credential(doc, bytes(account.key), issued_at=now)
    except CredentialError as exc:
        raise InputError(f"{file}: {exc.describe('en')}") from None
    stem = file.name.removesuffix(".ereg.json")
    target = out or file.with_name(stem + (".vc.json" if enveloped else ".vc.jwt"))
    if target.resolve() == file.resolve():
        raise UsageError("the credential would overwrite the document; give another --out")
    if enveloped:
        target.write_text(json.dumps(envelope(token), ensure_ascii=False) + "\n", encoding="utf-8")
    else:
        target.write_text(token + "\n", encoding="ascii")
    typer.echo(f"wrote {target} ({fmt.value}, signed by {account.address})")


# ----------------------------------------------------------------------------- status
def status(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="A .ereg.json document file, or a batch root (0x…).")],
    target_hash: Annotated[str | None, typer.Option("--target", help="With a root: a document's target hash.")] = None,
    department: Annotated[
        str | None,
        typer.Option(
            "--department",
            "-d",
            help="With a root: the department that anchored it (code or 0x id); a document names its own.",
        ),
    ] = None,
) -> None:
    """The on-chain status of a document or batch, in one line (exit 0 only when active).

    Records belong to the department that anchored them: the same root anchored by another
    department is another record.
    """
    c = get(ctx)
    if target.startswith("0x"):
        root = parsing.bytes32(target, "root")
        target_b = parsing.bytes32(target_hash, "target hash") if target_hash else ZERO
        if department is None:
            raise UsageError(
                "with a batch root, give --department (the department that anchored it)",
                zh="查询批次根时请用 --department 指明上链部门",
            )
        dept = parsing.department(department)
    else:
        doc = load_document(Path(target))
        root = bytes.fromhex(doc.proof.merkle_root[2:])
        target_b = bytes.fromhex(doc.proof.target_hash[2:])
        if int(doc.issuer.chain_id) != c.client.chain_id:
            raise InputError(f"the document belongs to chain {doc.issuer.chain_id}, not {c.client.chain_id}")
        dept = bytes.fromhex(doc.issuer.department[2:])
        if department is not None and parsing.department(department) != dept:
            raise UsageError(f"the document was issued by 0x{dept.hex()}, not by {department}")
    st = c.registry.document_status(dept, root, target_b)
    if not st.anchored:
        typer.echo("NOT_ANCHORED")
        raise typer.Exit(3)
    state = st.effective_state
    record = st.document if target_b != ZERO and st.document.state == state else st.batch
    line = f"{state.name} anchored {parsing.format_time(st.anchored_at)} by 0x{st.department.hex()} key {st.signer}"
    if state != State.ACTIVE:
        reason = REASONS.get(record.reason, (f"reason {record.reason}", ""))[0]
        line += f"; {state.name.lower()} {parsing.format_time(record.changed_at)} ({reason})"
    if st.successor != ZERO:
        line += f"; successor 0x{st.successor.hex()}"
    if st.title_locked:
        line += "; title locked by the PropertyRegistry"
    typer.echo(line)
    if state != State.ACTIVE:
        raise typer.Exit(4)


__all__ = ["register"]
