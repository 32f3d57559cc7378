"""The request logic of POST /v1/verify, shared by the framework route and the ASGI fast path.

A request is read from what the HTTP kit's guard parsed (the one strict parser: a body it
refuses never gets here), checked for its shape, then verified: inline on the event loop when
the answer needs no backend (integrity and the local index), else on the request pool with a
deadline (see :mod:`verification.backends`).

Shapes: a bare wrapped document; ``{"document": <object or its JSON text>}``, optionally with
``"cid"`` and ``"key"`` (the QR fragment's base64url key) to check the stored copy too;
``{"qr": <URL>}``; a text/plain QR URL; a multipart upload (fields ``file``, ``cid``, ``key``).
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from documents.vc import is_enveloped
from httpkit.errors import HttpError
from verification.backends import BackendNeeded, backends_allowed, inline_only
from verification.service import DocumentInput
from verification.verdict import Verdict
from verifier.runtime import Runtime

#: Media types whose whole body is the request (uploads go through the form parser).
#: a W3C VC 2.0 secured with VC-JOSE-COSE, sent as its compact JWS (docs/FORMAT.md §13)
CREDENTIAL_MEDIA_TYPE = "application/vc+jwt"
BODY_MEDIA_TYPES = frozenset(
    {"application/json", "application/ereg+json", "text/plain", "text/uri-list", CREDENTIAL_MEDIA_TYPE}
)
TEXT_MEDIA_TYPES = frozenset({"text/plain", "text/uri-list"})
#: What the guard parses as JSON; "" is a body sent without a Content-Type, read as JSON as it always was.
JSON_MEDIA_TYPES = frozenset({"application/json", "application/ereg+json", ""})
#: The key of a QR fragment: 32 bytes, base64url without padding (as documents.qr writes and reads it).
_KEY = re.compile(r"[A-Za-z0-9_-]{43}")


@dataclass(frozen=True)
class VerifyRequest:
    """One thing to verify: a document (with the stored copy's CID and key, or not), a QR URL, or a
    W3C credential (its compact JWS, or the EnvelopedVerifiableCredential object)."""

    document: DocumentInput | None = None
    qr: str | None = None
    cid: str | None = None
    key: bytes | None = None
    credential: str | dict[str, Any] | None = None

    @property
    def needs_storage(self) -> bool:
        """Whether the answer needs the document store (so it goes to the pool at once)."""
        return self.qr is not None or self.cid is not None


def bad(code: str, message: str, message_zh: str) -> HttpError:
    return HttpError(400, code, message, message_zh)


def unsupported_media_type() -> HttpError:
    return HttpError(
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        "send application/json, multipart/form-data, text/plain or application/vc+jwt",
        "请使用 application/json、multipart/form-data、text/plain 或 application/vc+jwt",
    )


def request_media_type(value: str) -> str:
    """The media type verification reads a body as ("" is JSON)."""
    return value or "application/json"


def request_from_text(body: bytes) -> VerifyRequest:
    """A text/plain body: the scanned QR URL."""
    try:
        url = body.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise bad("MALFORMED_QR", "the body is not UTF-8 text", "请求体不是 UTF-8 文本") from None
    return VerifyRequest(qr=url)


def request_from_credential(body: bytes) -> VerifyRequest:
    """An application/vc+jwt body: the credential's compact JWS (what it holds is the verdict's to say)."""
    try:
        token = body.decode("ascii").strip()
    except UnicodeDecodeError:
        raise bad("MALFORMED_CREDENTIAL", "the body is not a compact JWS (ASCII)", "请求体不是紧凑格式的 JWS") from None
    return VerifyRequest(credential=token)


def request_from_json(value: Any) -> VerifyRequest:
    """The request in a JSON body the guard parsed (a bare document, a wrapper, a QR URL, or an
    EnvelopedVerifiableCredential)."""
    if not isinstance(value, dict):
        raise bad("INVALID_REQUEST", "the body must be a JSON object", "请求体必须是 JSON 对象")
    if "version" in value:  # a bare wrapped document, checked as the object the guard read
        return VerifyRequest(document=value)
    if is_enveloped(value):  # a credential: whatever else it holds is the CREDENTIAL fragment's to judge
        return VerifyRequest(credential=value)
    unknown = set(value) - {"document", "cid", "key", "qr"}
    if unknown:
        name = sorted(unknown)[0]
        raise bad("UNKNOWN_FIELD", f"unknown field {name!r}", f"未知字段 {name!r}")
    if "qr" in value:
        if set(value) != {"qr"} or not isinstance(value["qr"], str):
            raise bad("INVALID_REQUEST", "qr must be a string, alone", "qr 必须是单独的字符串")
        return VerifyRequest(qr=value["qr"])
    if "document" not in value:
        raise bad("INVALID_REQUEST", "give document, or qr", "请提供 document 或 qr")
    document = value["document"]
    if not isinstance(document, dict | str):
        raise bad(
            "INVALID_REQUEST",
            "document must be a JSON object, or its JSON text as a string",
            "document 必须是 JSON 对象或其 JSON 文本字符串",
        )
    cid, key = storage_fields(value.get("cid"), value.get("key"))
    return VerifyRequest(document=document, cid=cid, key=key)


def storage_fields(cid: Any, key: Any) -> tuple[str | None, bytes | None]:
    """The stored copy's CID and decryption key: both or neither."""
    if cid is None and key is None:
        return None, None
    if not isinstance(cid, str):
        raise bad(
            "INVALID_REQUEST",
            "cid must be the stored copy's CID, a string, given with its key",
            "cid 必须是存储副本的内容标识（字符串），并与其密钥一同提供",
        )
    if key is None:
        raise bad(
            "INVALID_REQUEST",
            "cid needs key: the QR code's decryption key (its #k= fragment), to check that the copy is this document",
            "提供 cid 时须同时提供 key（二维码 #k= 片段中的解密密钥），以核对存储副本是否即为本证照",
        )
    return cid, parse_key(key)


def parse_key(value: Any) -> bytes:
    """A QR fragment's key: 43 characters of base64url, no padding, canonical, 32 bytes."""
    if not isinstance(value, str) or not _KEY.fullmatch(value):
        raise _bad_key()
    try:
        key = base64.urlsafe_b64decode(value + "=")
    except (binascii.Error, ValueError):  # pragma: no cover - excluded by the pattern
        raise _bad_key() from None
    if len(key) != 32 or base64.urlsafe_b64encode(key).rstrip(b"=").decode("ascii") != value:
        raise _bad_key()
    return key


def _bad_key() -> HttpError:
    return bad(
        "INVALID_REQUEST",
        "key must be the QR code's key: 32 bytes in base64url without padding (43 characters)",
        "key 必须是二维码中的密钥：32 字节、无填充的 base64url 编码（43 个字符）",
    )


def verdict_of(runtime: Runtime, request: VerifyRequest) -> Verdict:
    """The verification itself (blocking where a backend is needed, unless in inline mode)."""
    service = runtime.service
    if request.qr is not None:
        return service.verify_qr(request.qr)
    if request.credential is not None:
        return service.verify_credential(request.credential)
    assert request.document is not None  # noqa: S101 - every request names one or the other
    return service.verify_document(request.document, cid=request.cid, key=request.key)


async def verify(runtime: Runtime, request: VerifyRequest) -> Verdict:
    """Inline when no backend is needed (the hot path), else on the pool within the request deadline."""
    return await answer(runtime, lambda: verdict_of(runtime, request), inline=not request.needs_storage)


async def answer(runtime: Runtime, compute: Callable[[], Verdict], *, inline: bool = True) -> Verdict:
    """``compute`` on the event loop while it needs no backend (integrity and the local index);
    on the request pool with the request deadline as soon as it would ask the chain or IPFS."""
    if inline:
        try:
            with inline_only():
                return compute()
        except BackendNeeded:
            pass  # the index could not answer: the chain must, off the event loop
    runtime.metrics.offloaded.inc()

    def in_pool() -> Verdict:
        backends_allowed()
        return compute()

    return await runtime.pool.run(in_pool, deadline=runtime.settings.request_deadline)


def record(runtime: Runtime, verdict: Verdict, started: float) -> None:
    runtime.metrics.verifications.labels(verdict.verdict.value).inc()
    runtime.metrics.verify_seconds.observe(time.perf_counter() - started)
