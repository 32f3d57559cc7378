"""A tiny service built from the kit, as verifier and registry_api compose it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI, Request

from httpkit.body import BodyGuard, guarded_body, guarded_json
from httpkit.errors import install_error_handlers
from httpkit.headers import SecurityHeaders
from httpkit.jsonguard import JsonLimits
from httpkit.logs import AccessLog

AppFactory = Callable[..., FastAPI]
DEFAULT_LIMITS = JsonLimits()


def build_app(*, max_bytes: int = 2 * 1024 * 1024, limits: JsonLimits = DEFAULT_LIMITS, hsts: bool = False) -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None)
    app.state.calls = 0

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, object]:
        app.state.calls += 1
        return {"value": guarded_json(request)}

    @app.post("/raw")
    async def raw(request: Request) -> dict[str, int]:
        app.state.calls += 1
        return {"length": len(guarded_body(request)), "again": len(await request.body())}

    @app.get("/ok")
    async def ok() -> dict[str, str]:
        return {"status": "ok"}

    install_error_handlers(app)
    app.add_middleware(BodyGuard, max_bytes=max_bytes, limits=limits)
    app.add_middleware(SecurityHeaders, hsts=hsts)
    app.add_middleware(AccessLog)
    return app


@pytest.fixture
def make_app() -> AppFactory:
    return build_app


@pytest.fixture
def anyio_backend() -> str:
    """The event loop the services run on (uvicorn: asyncio)."""
    return "asyncio"
