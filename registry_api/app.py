"""The relay HTTP service: signed anchors and status changes in, batched transactions out."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from chain.client import connect
from chain.registry import RegistryClient, recorded_address
from registry_api.api.limits import BodyLimit
from registry_api.api.routes import anchors, health, property, requests, status_changes
from registry_api.batcher import Batcher
from registry_api.errors import RelayError, error_body
from registry_api.metrics import RelayMetrics
from registry_api.property import PropertyRelay
from registry_api.queue import RequestQueue, SqliteQueue
from registry_api.queue_pg import PostgresQueue
from registry_api.relay import Relay
from registry_api.settings import RelaySettings, get_settings

log = logging.getLogger("ereg.relay")


@dataclass
class Runtime:
    """Everything a request needs; built once per process in the app's lifespan."""

    settings: RelaySettings
    registry: RegistryClient
    queue: RequestQueue
    relay: Relay
    batcher: Batcher
    metrics: RelayMetrics
    property: PropertyRelay
    thread: threading.Thread | None = None


def open_queue(settings: RelaySettings) -> RequestQueue:
    """PostgreSQL when ``EREG_QUEUE_URL`` is set (several instances may share it), else the SQLite file."""
    if settings.queue_url is not None:
        return PostgresQueue(settings.queue_url.get_secret_value(), lease=settings.queue_lease)
    return SqliteQueue(settings.queue_path)


def build_runtime(settings: RelaySettings, relayer: LocalAccount | None = None) -> Runtime:
    """No connection is made here: the service starts, and answers 503, while the chain is down."""
    account = relayer or settings.relayer_account()
    client = connect(settings.chain_settings(), check_chain=False)
    address = settings.registry_address or recorded_address(settings.deployments_dir, settings.chain_id)
    registry = RegistryClient(client, address)
    queue = open_queue(settings)
    metrics = RelayMetrics()
    relay = Relay(
        registry,
        queue,
        chain_id=settings.chain_id,
        relayer_address=account.address,
        deadline_margin=settings.deadline_margin,
    )
    batcher = Batcher(
        registry,
        queue,
        account,
        batch_size=settings.batch_size,
        batch_age=settings.batch_age,
        poll_interval=settings.poll_interval,
        retry_max=settings.retry_max,
        metrics=metrics,
    )
    # Property steps are sent at once (not queued) by the batcher's sender: one nonce counter per key.
    property_relay = PropertyRelay(
        client,
        batcher.sender,
        address=settings.property_registry_address,
        document_registry=registry.address,
        deployments_dir=settings.deployments_dir,
        deadline_margin=settings.deadline_margin,
        wait=settings.property_wait,
    )
    return Runtime(
        settings=settings,
        registry=registry,
        queue=queue,
        relay=relay,
        batcher=batcher,
        metrics=metrics,
        property=property_relay,
    )


def create_app(
    settings: RelaySettings | None = None, *, relayer: LocalAccount | None = None, run_batcher: bool = True
) -> FastAPI:
    """The relay app; ``settings`` default to the environment (EREG_*), the relayer to its keystore."""
    resolved = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = build_runtime(resolved, relayer)
        app.state.runtime = runtime
        if run_batcher:
            runtime.thread = threading.Thread(target=runtime.batcher.run, name="ereg-relay-batcher", daemon=True)
            runtime.thread.start()
        try:
            yield
        finally:
            runtime.batcher.stop_event.set()
            if runtime.thread is not None:
                runtime.thread.join(timeout=30)
            runtime.queue.close()

    app = FastAPI(
        title="e-Registry relay",
        version="1.0.0",
        summary="Relays department-signed anchors and status changes to the chain in batches, and the "
        "department-signed steps of the property workflow.",
        lifespan=lifespan,
    )
    app.include_router(anchors.router)
    app.include_router(status_changes.router)
    app.include_router(property.router)
    app.include_router(requests.router)
    app.include_router(health.router)
    app.add_middleware(BodyLimit, max_bytes=resolved.max_body_bytes)

    @app.exception_handler(RelayError)
    async def relay_error(_request: Request, exc: RelayError) -> JSONResponse:
        runtime: Runtime | None = getattr(app.state, "runtime", None)
        if runtime is not None:
            runtime.metrics.refused.labels(exc.code).inc()
        return JSONResponse(error_body(exc.code, exc.message, exc.message_zh), status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = "/".join(str(p) for p in first.get("loc", ()))
        message = str(first.get("msg", ""))[:200]
        return JSONResponse(
            error_body("INVALID_REQUEST", f"invalid request at {where}: {message}", f"请求参数有误：{where}"),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {
            400: ("BAD_REQUEST", "请求有误"),
            404: ("NOT_FOUND", "未找到"),
            405: ("METHOD_NOT_ALLOWED", "不支持该请求方法"),
            413: ("PAYLOAD_TOO_LARGE", "请求体过大"),
        }
        code, zh = codes.get(exc.status_code, ("HTTP_ERROR", "请求错误"))
        return JSONResponse(error_body(code, str(exc.detail), zh), status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error: %s", type(exc).__name__)
        return JSONResponse(error_body("INTERNAL", "internal error", "服务内部错误"), status_code=500)

    return app
