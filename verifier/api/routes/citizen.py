"""GET /q/{cid}: the citizen's page a QR code opens.

The page is static: it reads the CID from its path and the key from the URL fragment (which
browsers never send), fetches the ciphertext, checks its CID, decrypts it with WebCrypto, checks
the document's integrity itself (``/static/ereg.js``), and asks ``POST /v1/status`` only what the
chain knows: no field value leaves the page. Nothing of the request is reflected into the HTML.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse

router = APIRouter(tags=["citizen"])
PAGE = Path(__file__).resolve().parents[2] / "static" / "citizen.html"

#: The page's own policy, wider than the JSON answers' (its script, style and fetches from this
#: origin); the other security headers come from the HTTP kit's middleware, as on every answer.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "Cache-Control": "no-cache",
}


@router.get("/q/{cid}", summary="Citizen verification page", response_class=FileResponse)
async def citizen_page(cid: str) -> FileResponse:
    return FileResponse(PAGE, media_type="text/html; charset=utf-8", headers=SECURITY_HEADERS)


@router.get("/", include_in_schema=False)
async def home() -> RedirectResponse:
    return RedirectResponse("/docs")
