"""The docs page: the service's own HTML of its OpenAPI document, no script, nothing from elsewhere."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from httpkit.docs import DOCS_CSP, install_docs
from httpkit.errors import ERROR_RESPONSES
from httpkit.headers import SecurityHeaders


class Verdict(BaseModel):
    status: str


def build(*, enabled: bool) -> FastAPI:
    app = FastAPI(title="Verifier <test>", version="1.2.3", docs_url=None, redoc_url=None)

    @app.post("/v1/verify", summary="Verify a <document>", responses=ERROR_RESPONSES)
    async def verify(cid: str | None = None) -> Verdict:
        return Verdict(status="VALID")

    install_docs(app, enabled=enabled)
    app.add_middleware(SecurityHeaders)
    return app


def test_docs_page_is_self_contained() -> None:
    client = TestClient(build(enabled=True))
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == DOCS_CSP  # its own, kept by SecurityHeaders
    assert "script-src" not in DOCS_CSP and "'unsafe-inline'" not in DOCS_CSP
    page = response.text
    assert "<script" not in page.lower()
    assert not re.search(r"(src|href)=\"(https?:)?//", page)  # nothing from another host
    assert "Verifier &lt;test&gt;" in page and "Verify a &lt;document&gt;" in page  # escaped
    assert "/v1/verify" in page and "Verdict" in page and "ErrorBody" in page
    assert '<a href="/openapi.json">' in page
    style = client.get("/docs/style.css")
    assert style.status_code == 200 and style.headers["content-type"].startswith("text/css")
    assert client.get("/openapi.json").json()["info"]["version"] == "1.2.3"
    assert "/docs" not in client.get("/openapi.json").json()["paths"]


def test_docs_off() -> None:
    client = TestClient(build(enabled=False))
    assert client.get("/docs").status_code == 404
    assert client.get("/openapi.json").status_code == 404
    assert client.post("/v1/verify").json() == {"status": "VALID"}
