"""Security headers on every response: JSON, errors, 404s, 500s, static files; the app's own win."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.testclient import TestClient

from httpkit.errors import install_error_handlers
from httpkit.headers import DEFAULT_CSP, HSTS, SecurityHeaders

EXPECTED = {
    "content-security-policy": DEFAULT_CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-resource-policy": "same-origin",
}
PAGE_CSP = "default-src 'self'; img-src 'self' data:"


def build(tmp_path: Path, *, hsts: bool = False) -> FastAPI:
    (tmp_path / "app.css").write_text("body {}")
    app = FastAPI()

    @app.get("/json")
    async def json_route() -> dict[str, int]:
        return {"a": 1}

    @app.get("/page", response_class=HTMLResponse)
    async def page() -> HTMLResponse:
        return HTMLResponse("<p>hi</p>", headers={"Content-Security-Policy": PAGE_CSP})

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("x")

    app.mount("/static", StaticFiles(directory=tmp_path), name="static")
    install_error_handlers(app)
    app.add_middleware(SecurityHeaders, hsts=hsts)
    return app


def test_every_response_has_them(tmp_path: Path) -> None:
    client = TestClient(build(tmp_path), raise_server_exceptions=False)
    for path, status in [("/json", 200), ("/nowhere", 404), ("/static/app.css", 200), ("/static/none.css", 404)]:
        response = client.get(path)
        assert response.status_code == status, path
        for name, value in EXPECTED.items():
            assert response.headers[name] == value, (path, name)
        assert "strict-transport-security" not in response.headers
    assert client.post("/json").status_code == 405
    assert client.post("/json").headers["x-frame-options"] == "DENY"


def test_a_500_has_them_too(tmp_path: Path) -> None:
    # the framework's own 500 would come from outside every middleware, without the headers
    client = TestClient(build(tmp_path), raise_server_exceptions=True)  # nothing escapes to the framework
    response = client.get("/boom")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "INTERNAL"
    for name, value in EXPECTED.items():
        assert response.headers[name] == value


def test_the_apps_own_header_is_kept(tmp_path: Path) -> None:
    response = TestClient(build(tmp_path)).get("/page")
    assert response.headers["content-security-policy"] == PAGE_CSP
    assert response.headers.get_list("content-security-policy") == [PAGE_CSP]
    assert response.headers["x-frame-options"] == "DENY"


def test_hsts_only_behind_tls(tmp_path: Path) -> None:
    response = TestClient(build(tmp_path, hsts=True)).get("/json")
    assert response.headers["strict-transport-security"] == HSTS == "max-age=31536000; includeSubDomains"
