"""GET /credentials/v1 and /credentials/v2: the JSON-LD contexts of exported credentials.

The bytes are the ones shipped in the package (docs/FORMAT.md §13), so a VC verifier that
dereferences a context through this service gets what the credential's ``relatedResource`` digest
pins. Static, so ``async`` and cacheable; the ETag is the content's SHA-256.
"""

from __future__ import annotations

import hashlib

from fastapi import APIRouter
from fastapi.responses import Response

from documents.vc import EREG_CONTEXT, VC_V2_CONTEXT, context_bytes

router = APIRouter(prefix="/credentials", tags=["credentials"])

_MEDIA_TYPE = "application/ld+json"


def _context(url: str) -> Response:
    data = context_bytes(url)
    return Response(
        data,
        media_type=_MEDIA_TYPE,
        headers={
            "Cache-Control": "public, max-age=86400",
            "ETag": f'"{hashlib.sha256(data).hexdigest()}"',
            "Access-Control-Allow-Origin": "*",  # contexts are public, read by wallets on any origin
        },
    )


@router.get("/v1", summary=f"The ereg credentials context ({EREG_CONTEXT})", response_class=Response)
async def ereg_context() -> Response:
    return _context(EREG_CONTEXT)


@router.get("/v2", summary=f"The W3C VC 2.0 context ({VC_V2_CONTEXT}), as shipped", response_class=Response)
async def vc_v2_context() -> Response:
    return _context(VC_V2_CONTEXT)
