"""``ereg verify``: a document file, a W3C credential, a scanned QR URL or a photo of a QR code, verified here.

The verdict is the verifier service's own (:mod:`verification`), computed on this machine from
the chain's RPC endpoint and, for a QR code, IPFS: no verifier service is asked, so an auditor,
a court clerk or a bank can check a document against the chain without trusting anyone's
server. A FILE is checked without storage (its holder has it); a QR code names the encrypted
copy, which is fetched, checked against its CID, decrypted and verified.

Without ``--index`` every fact is read from the chain (a few calls per document). With
``--index PATH`` a local index file (the verifier's :class:`chainindex.ChainIndex`) is brought up
to the chain's head first and kept for next time, so that a batch of checks costs one catch-up;
an index that cannot be brought up to date is left aside for this run (a note says so), never
trusted as it was.

Exit status: 0 VALID, 1 INVALID, 2 ERROR, and 2 too when nothing was decided (an input that
cannot be read, a command that cannot be set up): 1 always means the document is not valid.
"""

from __future__ import annotations

import enum
import json
import re
import sqlite3
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from chain.client import ChainClient, connect
from chain.errors import ChainError, RegistryNotFound
from chain.property import recorded_property_registry
from chain.registry import CONTRACT_NAME, read_deployment_record, recorded_address
from chain.settings import ChainSettings
from chainindex import ChainIndex
from common.errors import EregError
from documents.vc import is_enveloped
from issuer import parsing
from issuer.context import CliContext, get
from issuer.errors import FileError, InputError, IssuerError, UsageError
from storage import DocumentStore, StorageError, open_store
from verification.gateway import ChainGateway
from verification.service import VerificationService
from verification.verdict import VERDICT_MESSAGES, FragmentName, Status, Verdict, message

#: Bound of one IPFS operation, as the verifier service's default.
IPFS_TIMEOUT = 10.0
_URL = re.compile(r"^https?://", re.IGNORECASE)
#: Paths an IPFS RPC URL may carry: none, or the API's own prefix.


class Lang(enum.StrEnum):
    """The language of the verdict's words."""

    both = "both"
    en = "en"
    zh = "zh"


#: (English, Chinese) of each check, as the citizen page names them.
FRAGMENT_LABELS: dict[FragmentName, tuple[str, str]] = {
    FragmentName.CREDENTIAL: ("Credential", "可验证凭证"),
    FragmentName.DOCUMENT_INTEGRITY: ("Integrity", "内容完整性"),
    FragmentName.DOCUMENT_STATUS: ("Document status", "证照状态"),
    FragmentName.ISSUER_IDENTITY: ("Issuer identity", "签发机关身份"),
    FragmentName.STORAGE: ("Stored copy", "存储副本"),
    FragmentName.PROPERTY_STATUS: ("Property status", "不动产状态"),
    FragmentName.MORTGAGE_STATUS: ("Mortgage status", "抵押权状态"),
}
#: (English, Chinese) of the facts printed under the verdict.
FACT_LABELS: dict[str, tuple[str, str]] = {
    "document": ("document", "证照类型"),
    "issuer": ("issuer", "签发机关"),
    "anchored": ("anchored", "登记上链"),
    "cid": ("stored copy", "存储副本"),
}
#: (English, Chinese) of the words inside those facts.
FACT_WORDS: dict[str, tuple[str, str]] = {
    "target": ("target hash", "目标哈希"),
    "key": ("key", "签名密钥"),
    "root": ("batch root", "批次根"),
    "block": ("block", "区块"),
    "tx": ("tx", "交易"),
}


# ------------------------------------------------------------------------------- errors
class UnreadableInput(InputError):
    """The thing to verify cannot be read at all: nothing was decided, so exit 2 as for ERROR."""

    code = "UNREADABLE_INPUT"
    message_zh = "无法读取待核验的内容"
    exit_code = 2


class NoQrCode(UnreadableInput):
    code = "NO_QR_CODE"
    message_zh = "图片中未找到二维码"


class NotVerified(IssuerError):
    """Any other failure before a verdict (no registry address, a bad IPFS address, an index that
    cannot be opened): the cause's code and words, with exit 2, so that 1 only ever means INVALID."""

    exit_code = 2

    def __init__(self, cause: EregError) -> None:
        super().__init__(cause.message, code=cause.code)
        if "message_zh" in vars(cause):  # the cause's own words; else its class's, which describe() keeps
            self.message_zh = cause.message_zh
        self.cause = cause

    def describe(self, lang: str = "en") -> str:
        return self.cause.describe(lang)


# ------------------------------------------------------------------------------ command
def register(app: typer.Typer) -> None:
    app.command("verify")(verify)


def verify(
    ctx: typer.Context,
    target: Annotated[
        str | None,
        typer.Argument(
            metavar="FILE | QR-URL",
            help="A .ereg.json document, a credential from ereg export (.vc.jwt, .vc.json), "
            "or the URL a QR code holds (with its #k= fragment).",
            show_default=False,
        ),
    ] = None,
    qr_image: Annotated[
        Path | None,
        typer.Option("--qr-image", metavar="PNG", help="An image of the document's QR code, decoded here."),
    ] = None,
    index: Annotated[
        Path | None,
        typer.Option(
            "--index",
            metavar="PATH",
            help="A local index file: synced to the chain's head first, kept for next time "
            "(default: none, every fact is read from the chain).",
        ),
    ] = None,
    ipfs_url: Annotated[
        str | None,
        typer.Option(
            "--ipfs-url",
            metavar="URL",
            envvar="EREG_IPFS_API",
            help="IPFS RPC API for QR codes: http://host:5001 or a multiaddr, or several, comma-separated, "
            "tried in turn (default: the embedded store of the home directory).",
        ),
    ] = None,
    property_registry: Annotated[
        str | None,
        typer.Option(
            "--property-registry",
            metavar="ADDRESS",
            envvar=["EREG_PROPERTY_REGISTRY_ADDRESS", "EREG_PROPERTY_REGISTRY"],
            help="PropertyRegistry for PROPERTY_STATUS and MORTGAGE_STATUS (else the deployment record's).",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the verdict as JSON, exactly as POST /v1/verify answers.")
    ] = False,
    lang: Annotated[
        Lang | None,
        typer.Option(
            "--lang", case_sensitive=False, help="Language of the verdict: zh, en or both (default: the global --lang)."
        ),
    ] = None,
) -> None:
    """Verify a document here, from the chain (and IPFS for a QR code): VALID, INVALID or ERROR.

    Prints the verdict and each check (name, status, code, message). Exit status 0 VALID,
    1 INVALID, 2 ERROR or nothing decided (an input that cannot be read).
    """
    c = get(ctx)
    words = lang or _global_lang(ctx)
    try:
        verdict = _verdict(c, target, qr_image, index, ipfs_url, property_registry, words)
    except EregError as exc:
        if isinstance(exc, IssuerError) and exc.exit_code == 2:
            raise
        raise NotVerified(exc) from None
    except OSError as exc:
        raise NotVerified(FileError.of(exc)) from None
    if as_json:
        typer.echo(verdict.model_dump_json(by_alias=True))
    else:
        for line in render(verdict, words):
            typer.echo(line)
    raise typer.Exit(EXIT_STATUS[verdict.verdict])


#: The command's exit status for each verdict.
EXIT_STATUS = {Status.VALID: 0, Status.INVALID: 1, Status.ERROR: 2}


def _global_lang(ctx: typer.Context) -> Lang:
    """``ereg --lang`` (or EREG_LANG), the language of the error lines; both by default."""
    value = ctx.find_root().params.get("lang")
    return Lang(value) if value in set(Lang) else Lang.both


def _verdict(
    c: CliContext,
    target: str | None,
    qr_image: Path | None,
    index_path: Path | None,
    ipfs_url: str | None,
    property_registry: str | None,
    lang: Lang,
) -> Verdict:
    """Read the input first (a typo costs no chain call), then verify it."""
    if (target is None) == (qr_image is None):
        raise UsageError(
            "give one thing to verify: a FILE, a QR URL, or --qr-image PNG",
            "请指定一项待核验内容：文件、二维码地址，或 --qr-image 图片",
        )
    url: str | None = None
    raw: bytes | None = None
    if qr_image is not None:
        url = read_qr_image(qr_image)
    elif target is not None and _URL.match(target):
        url = target
    elif target is not None:
        raw = read_file(Path(target))
    setup = VerifierSetup.of(c, property_registry)
    store = _store(c, ipfs_url) if url is not None else None
    index = setup.open_index(index_path, lang) if index_path is not None else None
    try:
        service = VerificationService(
            chain_id=setup.settings.chain_id,
            registry_address=setup.registry_address,
            chain=ChainGateway.on_client(setup.client, setup.registry_address, setup.property_address),
            index=index,
            store=store,
        )
        if url is not None:
            return service.verify_qr(url)
        credential = credential_in(raw or b"")
        if credential is not None:
            return service.verify_credential(credential)
        return service.verify_bytes(raw or b"")
    finally:
        if index is not None:
            index.close()
        if store is not None:
            with suppress(StorageError):
                store.close()


# -------------------------------------------------------------------------------- input
_JWS = re.compile(rb"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


def credential_in(raw: bytes) -> str | dict[str, Any] | None:
    """A W3C credential in a file (``ereg export``'s .vc.jwt or --envelope .vc.json); None if the
    file is not one, and is then read as a document."""
    text = raw.strip()
    if _JWS.fullmatch(text):
        return text.decode("ascii")
    if text.startswith(b"{") and b"EnvelopedVerifiableCredential" in text:
        with suppress(ValueError):
            obj = json.loads(text)
            if is_enveloped(obj):
                return dict(obj)
    return None


def read_file(path: Path) -> bytes:
    """The document's bytes; what they hold is the verification's business (MALFORMED, INVALID)."""
    try:
        return path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UnreadableInput(f"{path}: cannot read: {reason}", f"无法读取文件 {path}：{reason}") from None


def read_qr_image(path: Path) -> str:
    """The text of the one QR code in an image (PNG, JPEG, …), decoded with zxing-cpp."""
    # imported here: only this option needs the image libraries
    import zxingcpp
    from PIL import Image

    try:
        with Image.open(path) as image:
            gray = image.convert("L")
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        strerror = getattr(exc, "strerror", None)  # the file's own trouble; else its content is no image
        english, chinese = (strerror, strerror) if strerror else ("not an image in a known format", "不是可识别的图片")
        raise UnreadableInput(f"{path}: cannot read the image: {english}", f"无法读取图片 {path}：{chinese}") from None
    codes = zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode))
    texts = list(dict.fromkeys(code.text for code in codes))
    if not texts:
        raise NoQrCode(f"{path}: no QR code found in the image", f"图片 {path} 中未找到二维码")
    if len(texts) > 1:
        raise UnreadableInput(
            f"{path}: the image holds {len(texts)} different QR codes; crop it to the document's",
            f"图片 {path} 中有 {len(texts)} 个不同的二维码，请裁剪到证照上的那一个",
        )
    return texts[0]


def _store(c: CliContext, ipfs_url: str | None) -> DocumentStore | None:
    """IPFS when given; else the embedded store of the home directory if there is one; else none
    (then a QR code reads ERROR IPFS_UNAVAILABLE: the stored copy cannot be fetched)."""
    if ipfs_url:
        from storage.replicated import StorageConfigError, open_ipfs  # lazily: pulls in the HTTP client

        # one node, or several (EREG_IPFS_API's list): a read tries them in turn; it writes nothing
        try:
            return open_ipfs(ipfs_url, replication=1, timeout=IPFS_TIMEOUT, connect_timeout=5.0, grace=1.0)
        except StorageConfigError as exc:
            raise UsageError(f"--ipfs-url: {exc.message}", f"--ipfs-url：{exc.message_zh}") from None
    embedded = c.home / "blocks"
    return open_store(None, embedded) if embedded.is_dir() else None


# -------------------------------------------------------------------------------- chain
@dataclass(frozen=True)
class VerifierSetup:
    """The chain half of a verification: the settings, a client that connects lazily, the registries."""

    settings: ChainSettings
    client: ChainClient
    registry_address: str
    property_address: str | None

    @classmethod
    def of(cls, c: CliContext, property_registry: str | None) -> VerifierSetup:
        """Nothing is asked of the node here: an unreachable chain is an ERROR verdict, not a failure."""
        settings = c.settings
        registry_address = settings.registry_address or recorded_address(settings.deployments_dir, settings.chain_id)
        if property_registry:
            property_address: str | None = parsing.address(property_registry)
        else:
            try:
                recorded = recorded_property_registry(
                    settings.deployments_dir, settings.chain_id, document_registry=registry_address
                )
            except RegistryNotFound:
                property_address = None  # documents only: no PROPERTY_STATUS, as in the verifier
            else:
                property_address = recorded.address
        return cls(settings, connect(settings, check_chain=False), registry_address, property_address)

    def start_block(self) -> int:
        """The DocumentRegistry's deployment block from the record, if it is this registry; else 0."""
        record = read_deployment_record(self.settings.deployments_dir, self.settings.chain_id) or {}
        entry = record.get("contracts", {}).get(CONTRACT_NAME) or {}
        if str(entry.get("address", "")).lower() != self.registry_address.lower():
            return 0
        return int(entry.get("blockNumber") or 0)

    def open_index(self, path: Path, lang: Lang) -> ChainIndex | None:
        """The index at ``path`` (created if missing), brought up to the chain's head.

        None, with a note on stderr, when the chain cannot be read: the index stays as it was for
        next time, and this run asks the chain alone, so that a chain that went down gives ERROR
        rather than what the index said before.
        """
        try:
            index = ChainIndex(
                path,
                self.client,
                self.registry_address,
                start_block=self.start_block(),
                confirmations=self.settings.confirmations,
                chunk_size=self.settings.log_chunk_size,
                property_address=self.property_address,
            )
        except sqlite3.Error as exc:
            raise InputError(
                f"{path}: cannot open the index: {exc}", f"无法打开索引文件 {path}：{exc}", code="INDEX"
            ) from None
        try:
            self.client.check_chain_id()
            index.sync()
        except ChainError as exc:
            index.close()
            english = f"note: the index {path} was not brought up to the chain's head ({exc}); verifying from the chain"
            chinese = f"提示：索引 {path} 未能同步到最新区块（{exc.describe('zh')}），改为直接查询区块链"
            typer.echo(f"ereg: {_words(english, chinese, lang)}", err=True)
            return None
        except sqlite3.Error as exc:
            index.close()
            raise InputError(
                f"{path}: cannot write the index: {exc}", f"无法写入索引文件 {path}：{exc}", code="INDEX"
            ) from None
        return index


# ------------------------------------------------------------------------------- output
def _words(english: str, chinese: str, lang: Lang) -> str:
    if lang == Lang.en:
        return english
    if lang == Lang.zh:
        return chinese
    return f"{english} / {chinese}"


def render(verdict: Verdict, lang: Lang) -> list[str]:
    """The verdict for a person: the overall answer, each check (name, status, code, message) in
    ``lang``, then what the chain says of the document (type, issuer, anchor), when known."""
    en, zh = VERDICT_MESSAGES[verdict.verdict]
    lines = [f"{verdict.verdict.value}  {_words(en, zh, lang)}"]
    width = max((len(f.code) for f in verdict.fragments), default=0)
    for fragment in verdict.fragments:
        label_en, label_zh = FRAGMENT_LABELS.get(fragment.name, (fragment.name.value, fragment.name.value))
        message_en, message_zh = message(fragment.code, fragment.name)
        text = _words(f"{label_en}: {message_en}", f"{label_zh}：{message_zh}", lang)
        lines.append(f"  {fragment.name.value:<18}  {fragment.status.value:<7}  {fragment.code:<{width}}  {text}")
        if fragment.details:
            lines.append(f"  {'':<18}  {json.dumps(fragment.details, ensure_ascii=False, separators=(', ', ': '))}")
    facts = _facts(verdict, lang)
    if facts:
        label_width = max(len(_words(*FACT_LABELS[key], lang)) for key, _value in facts)
        for key, value in facts:
            lines.append(f"  {_words(*FACT_LABELS[key], lang):<{label_width}}  {value}")
    return lines


def _facts(verdict: Verdict, lang: Lang) -> list[tuple[str, str]]:
    """(label key, text) of the document's type, its issuer and its anchor, those the verdict knows."""
    index = 1 if lang == Lang.zh else 0  # "both": the labels carry both languages, the values English

    def word(key: str) -> str:
        return FACT_WORDS[key][index]

    found: list[tuple[str, str]] = []
    if verdict.document is not None:
        found.append(("document", f"{verdict.document.type}, {word('target')} {verdict.document.target_hash}"))
    issuer = verdict.issuer
    if issuer is not None and issuer.name:
        found.append(("issuer", f"{issuer.name} ({issuer.department}), {word('key')} {issuer.signer}"))
    anchor = verdict.anchor
    if anchor is not None and anchor.anchored_at:
        where: list[Any] = [f"{word('root')} {anchor.merkle_root}"]
        if anchor.block_number is not None:
            where.append(f"{word('block')} {anchor.block_number}")
        if anchor.transaction:
            where.append(f"{word('tx')} {anchor.transaction}")
        found.append(("anchored", f"{anchor.anchored_at} ({', '.join(map(str, where))})"))
    if verdict.cid:
        found.append(("cid", verdict.cid))
    return found


__all__ = ["register"]
