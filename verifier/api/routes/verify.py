"""POST /v1/verify: a wrapped document (JSON body or uploaded file), a scanned QR URL, or a W3C credential.

JSON and text bodies are normally answered by :mod:`verifier.api.fastpath` before they reach
this route; the route serves uploads, documents the endpoint, and answers everything the same
way through :mod:`verifier.api.verifying`.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException
from starlette.types import Message

from httpkit.body import guarded_body, guarded_json, media_type, too_large
from httpkit.errors import ERROR_RESPONSES
from verification.verdict import Verdict
from verifier.api.deps import RuntimeDep
from verifier.api.verifying import (
    BODY_MEDIA_TYPES,
    CREDENTIAL_MEDIA_TYPE,
    TEXT_MEDIA_TYPES,
    VerifyRequest,
    bad,
    record,
    request_from_credential,
    request_from_json,
    request_from_text,
    request_media_type,
    storage_fields,
    unsupported_media_type,
    verify,
)
from verifier.runtime import Runtime

router = APIRouter(prefix="/v1", tags=["verify"])

#: A request whose document is not a well-formed ereg/1 document is still a well-formed request:
#: it gets 200 and an INVALID verdict (DOCUMENT_INTEGRITY MALFORMED), so the schema asks only
#: what tells the request shapes apart.
_DOCUMENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A wrapped ereg/1 document (see docs/FORMAT.md); a malformed one gets an INVALID verdict",
    "required": ["version"],
}
_KEY_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": "^[A-Za-z0-9_-]{43}$",
    "description": "The QR code's decryption key (its #k= fragment: 32 bytes, base64url, no padding)",
}
_CID_SCHEMA: dict[str, Any] = {
    "type": "string",
    "description": "CID of the encrypted copy: STORAGE says whether the copy stored there is this document",
}
_REQUEST_SCHEMA: dict[str, Any] = {
    "oneOf": [
        _DOCUMENT_SCHEMA,
        {
            "type": "object",
            "properties": {
                "document": {
                    "oneOf": [
                        {"type": "object", "description": "The wrapped document"},
                        {"type": "string", "description": "The wrapped document's JSON text"},
                    ]
                },
                "cid": _CID_SCHEMA,
                "key": _KEY_SCHEMA,
            },
            "required": ["document"],
            "dependentRequired": {"cid": ["key"], "key": ["cid"]},
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {"qr": {"type": "string", "description": "The scanned QR URL, fragment included"}},
            "required": ["qr"],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "description": (
                "A W3C VC 2.0 exported by ereg (docs/FORMAT.md §13) as an EnvelopedVerifiableCredential: "
                '{"@context": "https://www.w3.org/ns/credentials/v2", "type": "EnvelopedVerifiableCredential", '
                '"id": "data:application/vc+jwt,<compact JWS>"}; any other content is an INVALID verdict '
                "(CREDENTIAL VC_MALFORMED), as a malformed document is"
            ),
            "properties": {"type": {"const": "EnvelopedVerifiableCredential"}},
            "required": ["type"],
            "not": {"required": ["version"]},
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
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "cid": _CID_SCHEMA,
                        "key": _KEY_SCHEMA,
                    },
                    "required": ["file"],
                    "dependentRequired": {"cid": ["key"], "key": ["cid"]},
                }
            },
            "text/plain": {"schema": {"type": "string", "description": "The scanned QR URL"}},
            "application/vc+jwt": {
                "schema": {"type": "string", "description": "A W3C VC 2.0 exported by ereg, its compact JWS"}
            },
        },
    }
}


@router.post(
    "/verify",
    summary="Verify a document",
    description=(
        "Checks a wrapped ereg/1 document (JSON body, `{document}`, `{document, cid, key}`, or an uploaded "
        "file with optional `cid` and `key` fields) or a scanned QR URL (`{qr}` or a text/plain body, fragment "
        "included) or a W3C VC 2.0 credential exported by ereg (an EnvelopedVerifiableCredential, or its JWS as "
        "application/vc+jwt) and answers VALID, INVALID or ERROR with one fragment per check. With `cid` and `key`, "
        "STORAGE says whether the encrypted copy stored under the CID is this document. Any well-formed "
        "request gets 200, whatever the verdict."
    ),
    response_model=Verdict,
    responses=ERROR_RESPONSES,
    openapi_extra=OPENAPI_EXTRA,
)
async def verify_document(request: Request, runtime: RuntimeDep) -> Response:
    started = time.perf_counter()
    kind = request_media_type(media_type(request.scope))
    if kind == "multipart/form-data":
        verify_request = await _upload(request, runtime)
    elif kind in TEXT_MEDIA_TYPES:
        verify_request = request_from_text(guarded_body(request))
    elif kind == CREDENTIAL_MEDIA_TYPE:
        verify_request = request_from_credential(guarded_body(request))
    elif kind in BODY_MEDIA_TYPES:
        verify_request = request_from_json(guarded_json(request))
    else:
        raise unsupported_media_type()
    verdict = await verify(runtime, verify_request)
    record(runtime, verdict, started)
    return Response(verdict.model_dump_json(by_alias=True), media_type="application/json")


async def _upload(request: Request, runtime: Runtime) -> VerifyRequest:
    limit = runtime.settings.max_body_bytes
    # the guard read the whole body under the limit: starlette would spool file parts to disk unbounded
    body = guarded_body(request)

    async def replay() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(request.scope, replay).form(max_files=1, max_fields=4, max_part_size=limit)
    except MultiPartException as exc:
        raise bad("MALFORMED_UPLOAD", f"the upload is malformed: {exc.message}", "上传内容格式有误") from None
    except StarletteHTTPException as exc:  # what starlette turns a MultiPartException into inside an app
        raise bad("MALFORMED_UPLOAD", f"the upload is malformed: {exc.detail}", "上传内容格式有误") from None
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise bad("MISSING_FILE", "send the document as the form field 'file'", "请以表单字段 file 上传证照")
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise too_large(limit)
    cids, keys = form.getlist("cid"), form.getlist("key")
    if len(cids) > 1 or len(keys) > 1 or not all(isinstance(value, str) for value in (*cids, *keys)):
        raise bad("INVALID_REQUEST", "cid and key must be one text field each", "cid 与 key 须各为一个文本字段")
    stored_cid, stored_key = storage_fields(cids[0] if cids else None, keys[0] if keys else None)
    return VerifyRequest(document=data, cid=stored_cid, key=stored_key)
