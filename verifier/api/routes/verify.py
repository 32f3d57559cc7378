"""POST /v1/verify: a wrapped document (JSON body or uploaded file) or a scanned QR URL."""

from __future__ import annotations

import json
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException
from starlette.types import Message

from documents.model import MAX_JSON_DEPTH, json_too_deep
from verifier.api.deps import RuntimeDep
from verifier.api.errors import ERROR_RESPONSES, ApiError
from verifier.verdict import Verdict

router = APIRouter(prefix="/v1", tags=["verify"])

_DOCUMENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A wrapped ereg/1 document (see docs/FORMAT.md)",
    "required": ["version", "type", "data", "salts", "privacy", "issuer", "validity", "proof"],
}
_REQUEST_SCHEMA: dict[str, Any] = {
    "oneOf": [
        _DOCUMENT_SCHEMA,
        {
            "type": "object",
            "properties": {
                "document": _DOCUMENT_SCHEMA,
                "cid": {"type": "string", "description": "CID of the encrypted copy, to check storage too"},
            },
            "required": ["document"],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {"qr": {"type": "string", "description": "The scanned QR URL, fragment included"}},
            "required": ["qr"],
            "additionalProperties": False,
        },
    ]
}

OPENAPI_EXTRA: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": _REQUEST_SCHEMA},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}, "cid": {"type": "string"}},
                    "required": ["file"],
                }
            },
            "text/plain": {"schema": {"type": "string", "description": "The scanned QR URL"}},
        },
    }
}


async def read_limited(request: Request, limit: int) -> bytes:
    """The request body, refusing more than ``limit`` bytes without reading them all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "PAYLOAD_TOO_LARGE", f"the body is larger than {limit} bytes", f"请求体超过 {limit} 字节")


def _bad(code: str, message: str, message_zh: str) -> ApiError:
    return ApiError(400, code, message, message_zh)


@router.post(
    "/verify",
    summary="Verify a document",
    description=(
        "Checks a wrapped ereg/1 document (JSON body, `{document, cid}`, or an uploaded file) or a "
        "scanned QR URL (`{qr}` or a text/plain body, fragment included) and answers VALID, INVALID "
        "or ERROR with one fragment per check. Any well-formed request gets 200, whatever the verdict."
    ),
    response_model=Verdict,
    responses=ERROR_RESPONSES,
    openapi_extra=OPENAPI_EXTRA,
)
async def verify_document(request: Request, runtime: RuntimeDep) -> Response:
    # JSON and text bodies are normally answered by verifier.api.fastpath before reaching this
    # route; the route serves uploads, documents the endpoint, and handles everything the same.
    started = time.perf_counter()
    media_type = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if media_type == "multipart/form-data":
        verdict = await _verify_upload(request, runtime)
    else:
        if media_type not in BODY_MEDIA_TYPES:
            raise unsupported_media_type()
        body = await read_limited(request, runtime.settings.max_body_bytes)
        verdict = verdict_for_body(media_type, body, runtime)
    record(runtime, verdict, started)
    return Response(verdict.model_dump_json(by_alias=True), media_type="application/json")


#: Media types whose whole body is read and verified (uploads go through the form parser).
BODY_MEDIA_TYPES = frozenset({"application/json", "application/ereg+json", "text/plain", "text/uri-list"})


def unsupported_media_type() -> ApiError:
    return ApiError(
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        "send application/json, multipart/form-data or text/plain",
        "请使用 application/json、multipart/form-data 或 text/plain",
    )


def verdict_for_body(media_type: str, body: bytes, runtime: Any) -> Verdict:
    """The verdict for a JSON body (document, {document, cid} or {qr}) or a text QR URL."""
    if media_type in ("text/plain", "text/uri-list"):
        try:
            url = body.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise _bad("MALFORMED_QR", "the body is not UTF-8 text", "请求体不是 UTF-8 文本") from None
        return runtime.service.verify_qr(url)  # type: ignore[no-any-return]
    return _verify_json(body, runtime)


def record(runtime: Any, verdict: Verdict, started: float) -> None:
    runtime.metrics.verifications.labels(verdict.verdict.value).inc()
    runtime.metrics.verify_seconds.observe(time.perf_counter() - started)


def _verify_json(body: bytes, runtime: Any) -> Verdict:
    if json_too_deep(body):
        # checked before parsing: a deep enough nesting overflows the parser's C stack and kills
        # the process (web3's py_ecc raises the recursion limit to 100,000, so no RecursionError)
        raise _bad(
            "MALFORMED_JSON",
            f"the body nests arrays or objects deeper than {MAX_JSON_DEPTH} levels",
            f"请求体中数组或对象嵌套超过 {MAX_JSON_DEPTH} 层",
        )
    try:
        obj = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise _bad("MALFORMED_JSON", "the body is not valid JSON", "请求体不是有效的 JSON") from None
    if not isinstance(obj, dict):
        raise _bad("INVALID_REQUEST", "the body must be a JSON object", "请求体必须是 JSON 对象")
    service = runtime.service
    if "version" in obj:  # a bare wrapped document: verify the exact bytes received
        return service.verify_bytes(body)  # type: ignore[no-any-return]
    unknown = set(obj) - {"document", "cid", "qr"}
    if unknown:
        field = sorted(unknown)[0]
        raise _bad("UNKNOWN_FIELD", f"unknown field {field!r}", f"未知字段 {field!r}")
    if "qr" in obj:
        if set(obj) != {"qr"} or not isinstance(obj["qr"], str):
            raise _bad("INVALID_REQUEST", "qr must be a string, alone", "qr 必须是单独的字符串")
        return service.verify_qr(obj["qr"])  # type: ignore[no-any-return]
    if "document" not in obj:
        raise _bad("INVALID_REQUEST", "give document, or qr", "请提供 document 或 qr")
    cid = obj.get("cid")
    if cid is not None and not isinstance(cid, str):
        raise _bad("INVALID_REQUEST", "cid must be a string", "cid 必须是字符串")
    document = obj["document"]
    if not isinstance(document, dict | str):
        raise _bad(
            "INVALID_REQUEST",
            "document must be a JSON object, or its JSON text as a string",
            "document 必须是 JSON 对象或其 JSON 文本字符串",
        )
    if isinstance(document, str):
        return service.verify_bytes(document, cid=cid)  # type: ignore[no-any-return]
    return service.verify_bytes(json.dumps(document, ensure_ascii=False), cid=cid)  # type: ignore[no-any-return]


async def _verify_upload(request: Request, runtime: Any) -> Verdict:
    limit = runtime.settings.max_body_bytes
    # the whole body is read under the limit first: starlette spools file parts to disk unbounded
    body = await read_limited(request, limit)

    async def replay() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(request.scope, replay).form(max_files=1, max_fields=4, max_part_size=limit)
    except MultiPartException as exc:
        raise _bad("MALFORMED_UPLOAD", f"the upload is malformed: {exc.message}", "上传内容格式有误") from None
    except StarletteHTTPException as exc:  # what starlette turns a MultiPartException into inside an app
        raise _bad("MALFORMED_UPLOAD", f"the upload is malformed: {exc.detail}", "上传内容格式有误") from None
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise _bad("MISSING_FILE", "send the document as the form field 'file'", "请以表单字段 file 上传证照")
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise _too_large(limit)
    cid = form.get("cid")
    return runtime.service.verify_bytes(data, cid=cid if isinstance(cid, str) and cid else None)  # type: ignore[no-any-return]
