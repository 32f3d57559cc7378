"""The verifier HTTP service: verify API, encrypted documents, citizen QR page, health, metrics.

This module only composes: the app, its routers, the middlewares in order (outermost first:
access log with request id, security headers, rate limit per client, the body guard that
bounds and strictly parses every body, then the verification fast path), the one error body
and the docs page. What a request needs is built in :mod:`verifier.runtime`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from httpkit.logs import configure_logging
from httpkit.stack import install_stack
from verifier import runtime as wiring
from verifier.api.fastpath import VerifyFastPath
from verifier.api.routes import citizen, credentials, documents, health, properties, status, verify
from verifier.api.verifying import JSON_MEDIA_TYPES
from verifier.settings import VerifierSettings, get_settings

STATIC_DIR = Path(__file__).resolve().parent / "static"


def create_app(settings: VerifierSettings | None = None, *, follow: bool = True) -> FastAPI:
    """The verifier app; ``settings`` default to the environment (EREG_*)."""
    config = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = wiring.build_runtime(config)
        app.state.runtime = runtime
        wiring.start(runtime, follow=follow)
        try:
            yield
        finally:
            wiring.stop(runtime)

    app = FastAPI(
        title="e-Registry verifier",
        version="1.0.0",
        summary="Checks e-licences, e-certificates and property registrations against the chain.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.include_router(verify.router)
    app.include_router(status.router)
    app.include_router(documents.router)
    app.include_router(properties.router)
    app.include_router(citizen.router)
    app.include_router(credentials.router)
    app.include_router(health.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    # inside the kit's stack: the fast path sees only bodies the guard accepted, as the routes do
    app.add_middleware(VerifyFastPath)
    install_stack(app, config, service="verifier", json_types=JSON_MEDIA_TYPES)
    return app


def create_service() -> FastAPI:
    """The app as ``python -m verifier`` serves it: settings from the environment, JSON-lines logs
    (configured in each worker process, which calls this factory)."""
    settings = get_settings()
    configure_logging("verifier", settings.log_level)
    return create_app(settings)
