"""The relay HTTP service: signed anchors and status changes in, batched transactions out.

This module only composes: the app, its routers, the kit's middlewares (outermost first: the
access log with the request id, security headers, the per-client rate limit, the body guard
that parses every JSON body strictly before anything else), the kit's error handlers and docs
page. The runtime (settings, clients, queue, batcher, prober, pools) is registry_api.runtime.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from eth_account.signers.local import LocalAccount
from fastapi import FastAPI

from common.errors import EregError
from httpkit.logs import configure_logging
from httpkit.stack import install_stack
from registry_api.api.routes import anchors, health, property, requests, status_changes
from registry_api.metrics import RelayMetrics
from registry_api.queue import RequestQueue
from registry_api.runtime import build_runtime
from registry_api.settings import RelaySettings, get_settings

SERVICE = "relay"


def create_app(
    settings: RelaySettings | None = None,
    *,
    relayer: LocalAccount | None = None,
    run_batcher: bool = True,
    queue: RequestQueue | None = None,
) -> FastAPI:
    """The relay app; ``settings`` default to the environment (EREG_*), the relayer to its keystore,
    the queue to the one the settings name (``queue``: already opened, holding the relayer key)."""
    resolved = settings or get_settings()
    configure_logging(SERVICE, resolved.log_level)
    metrics = RelayMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = build_runtime(resolved, relayer, metrics=metrics, queue=queue)
        runtime.start(run_batcher=run_batcher)
        app.state.runtime = runtime
        try:
            yield
        finally:
            runtime.stop()

    app = FastAPI(
        title="e-Registry relay",
        version="1.0.0",
        summary="Relays department-signed anchors and status changes to the chain in batches, and the "
        "department-signed steps of the property workflow.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    for module in (anchors, status_changes, property, requests, health):
        app.include_router(module.router)

    def count(error: EregError) -> None:
        metrics.refused.labels(error.code).inc()

    install_stack(app, resolved, service=SERVICE, on_error=count)
    return app
