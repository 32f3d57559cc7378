"""GET /v1/documents/{cid}: the encrypted copy, checked against its CID before it is served.

The fetch runs on the request pool inside the store's bulkhead: a hung IPFS daemon ties up at
most the bulkhead's slots, and once a call timed out the next requests get 503 at once.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from documents import list_types, load_schema
from httpkit.errors import ErrorBody, HttpError
from storage.cid import normalize_cid
from storage.errors import BlobNotFound, CidMismatch, InvalidCid, StorageError
from verification.backends import backends_allowed
from verifier.api.deps import RuntimeDep

router = APIRouter(prefix="/v1", tags=["documents"])


@router.get(
    "/documents/{cid}",
    summary="Encrypted document by CID",
    response_class=Response,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "The ciphertext"},
        400: {"model": ErrorBody},
        404: {"model": ErrorBody},
        502: {"model": ErrorBody},
        503: {"model": ErrorBody},
    },
)
async def get_document(cid: str, runtime: RuntimeDep) -> Response:
    try:
        cid = normalize_cid(cid)
    except InvalidCid:
        raise HttpError(400, "INVALID_CID", "not a valid CID", "不是有效的内容标识（CID）") from None
    store = runtime.store
    if store is None:
        raise HttpError(503, "IPFS_UNAVAILABLE", "no document store is configured", "未配置证照存储")
    key = cid

    def fetch() -> bytes:
        backends_allowed()
        return store.get(key)

    try:
        blob = await runtime.pool.run(fetch, deadline=runtime.settings.request_deadline)
    except BlobNotFound:
        raise HttpError(404, "NOT_FOUND", "no document with this CID", "未找到该内容标识对应的证照") from None
    except CidMismatch:
        raise HttpError(
            502, "CID_MISMATCH", "the store served bytes that do not match the CID", "存储返回的内容与内容标识不符"
        ) from None
    except StorageError:
        raise HttpError(
            503,
            "IPFS_UNAVAILABLE",
            "the document store cannot be reached",
            "暂时无法访问证照存储",
            headers={"Retry-After": "2"},
        ) from None
    return Response(
        blob,
        media_type="application/octet-stream",
        headers={"Cache-Control": "public, max-age=31536000, immutable", "ETag": f'"{cid}"'},
    )


@router.get("/types", summary="Document types this verifier knows")
async def get_types() -> JSONResponse:
    return JSONResponse({"types": list(list_types())})


@router.get(
    "/types/{doc_type}",
    summary="JSON Schema of a document type (field titles for display)",
    responses={404: {"model": ErrorBody}},
)
async def get_type(doc_type: str) -> JSONResponse:
    if doc_type not in list_types():
        raise HttpError(404, "UNKNOWN_TYPE", "unknown document type", "未知的证照类型")
    return JSONResponse(load_schema(doc_type), headers={"Cache-Control": "public, max-age=3600"})
