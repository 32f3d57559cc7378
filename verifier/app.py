"""The verifier HTTP service: verify API, encrypted documents, citizen QR page, health, metrics."""

from __future__ import annotations

import fcntl
import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from chain.client import connect
from chain.errors import RegistryNotFound
from chain.property import PropertyClient, recorded_property_registry
from chain.registry import RegistryClient, read_deployment_record, recorded_address
from chain.settings import ChainSettings
from storage import DocumentStore, open_store
from verifier.api.errors import ApiError, error_body
from verifier.api.fastpath import VerifyFastPath
from verifier.api.routes import citizen, documents, health, properties, verify
from verifier.index import ChainIndex
from verifier.metrics import Metrics
from verifier.service import ChainGateway, VerificationService
from verifier.settings import VerifierSettings, get_settings

log = logging.getLogger("ereg.verifier")
STATIC_DIR = Path(__file__).resolve().parent / "static"


@dataclass
class Runtime:
    """Everything a request needs; built once per process in the app's lifespan."""

    settings: VerifierSettings
    registry_address: str
    property_address: str | None
    index: ChainIndex
    service: VerificationService
    store: DocumentStore | None
    chain: ChainGateway
    metrics: Metrics
    stop: threading.Event = field(default_factory=threading.Event)
    follower: threading.Thread | None = None
    lock_file: IO[str] | None = None


def _chain_settings(settings: VerifierSettings) -> ChainSettings:
    return ChainSettings(
        rpc_url=settings.rpc_url,
        chain_id=settings.chain_id,
        registry_address=settings.registry_address,
        deployments_dir=settings.deployments_dir,
        confirmations=settings.confirmations,
        log_chunk_size=settings.log_chunk_size,
        request_timeout=settings.request_timeout,
    )


def property_registry_address(settings: VerifierSettings, registry_address: str) -> str | None:
    """The PropertyRegistry to follow: the setting, else the deployment record's if it works with
    ``registry_address``; None when there is none (the verifier then checks documents only)."""
    if settings.property_registry_address:
        return settings.property_registry_address
    try:
        recorded = recorded_property_registry(
            settings.deployments_dir, settings.chain_id, document_registry=registry_address
        )
    except RegistryNotFound as exc:
        log.info("no PropertyRegistry followed: %s", exc)
        return None
    return recorded.address


def build_runtime(settings: VerifierSettings) -> Runtime:
    chain_settings = _chain_settings(settings)
    registry_address = settings.registry_address or recorded_address(settings.deployments_dir, settings.chain_id)
    property_address = property_registry_address(settings, registry_address)
    start_block = settings.index_start_block
    if start_block is None:
        record = read_deployment_record(settings.deployments_dir, settings.chain_id) or {}
        start_block = int(record.get("contracts", {}).get("DocumentRegistry", {}).get("blockNumber") or 0)
    # No connection is made here: the index follower and the fallback connect on first use,
    # so the service starts (and answers ERROR) while the chain is down.
    client = connect(chain_settings, check_chain=False)
    index = ChainIndex(
        settings.index_path,
        client,
        registry_address,
        start_block=start_block,
        confirmations=settings.confirmations,
        chunk_size=settings.log_chunk_size,
        property_address=property_address,
    )

    def registry_factory() -> RegistryClient:
        client.check_chain_id()
        return RegistryClient(client, registry_address)

    property_factory: Callable[[], PropertyClient] | None = None
    if property_address is not None:
        followed = property_address

        def make_property_client() -> PropertyClient:
            client.check_chain_id()
            registry = PropertyClient(client, followed)
            registry.ensure_deployed()  # no code there: RegistryNotFound (a ChainError), not a bad call
            return registry

        property_factory = make_property_client

    gateway = ChainGateway(registry_factory, property_factory)
    store: DocumentStore | None = None
    if settings.ipfs_api or settings.store_dir:
        store = open_store(settings.ipfs_api, settings.store_dir or Path("blocks"), timeout=settings.ipfs_timeout)
    service = VerificationService(
        chain_id=settings.chain_id,
        registry_address=registry_address,
        index=index,
        chain=gateway,
        store=store,
        max_index_age=settings.max_index_age,
    )
    return Runtime(
        settings=settings,
        registry_address=registry_address,
        property_address=index.property_address,
        index=index,
        service=service,
        store=store,
        chain=gateway,
        metrics=Metrics(),
    )


def _start_follower(runtime: Runtime) -> None:
    """Follow the chain in this process unless another worker already does (an flock decides)."""
    lock_path = runtime.settings.index_path.with_suffix(".follow.lock")
    lock_file = lock_path.open("w")
    try:
        fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock_file.close()
        return
    runtime.lock_file = lock_file

    def follow() -> None:
        runtime.index.follow(runtime.stop, runtime.settings.index_poll_interval)

    runtime.follower = threading.Thread(target=follow, name="ereg-index-follower", daemon=True)
    runtime.follower.start()


def _stop(runtime: Runtime) -> None:
    runtime.stop.set()
    if runtime.follower is not None:
        runtime.follower.join(timeout=10)
    if runtime.lock_file is not None:
        runtime.lock_file.close()
    runtime.index.close()
    if runtime.store is not None:
        with suppress(Exception):
            runtime.store.close()


def create_app(settings: VerifierSettings | None = None, *, follow: bool = True) -> FastAPI:
    """The verifier app; ``settings`` default to the environment (EREG_*)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = build_runtime(settings or get_settings())
        app.state.runtime = runtime
        if follow:
            _start_follower(runtime)
        try:
            yield
        finally:
            _stop(runtime)

    app = FastAPI(
        title="e-Registry verifier",
        version="1.0.0",
        summary="Checks e-licences, e-certificates and property registrations against the chain.",
        lifespan=lifespan,
    )
    app.include_router(verify.router)
    app.include_router(documents.router)
    app.include_router(properties.router)
    app.include_router(citizen.router)
    app.include_router(health.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(VerifyFastPath)

    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message, exc.message_zh), status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = "/".join(str(p) for p in first.get("loc", ()))
        return JSONResponse(
            error_body(
                "INVALID_REQUEST", f"invalid request at {where}: {first.get('msg', '')}", f"请求参数有误：{where}"
            ),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: ("NOT_FOUND", "未找到"), 405: ("METHOD_NOT_ALLOWED", "不支持该请求方法")}
        code, zh = codes.get(exc.status_code, ("HTTP_ERROR", "请求错误"))
        return JSONResponse(error_body(code, str(exc.detail), zh), status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error: %s", type(exc).__name__)
        return JSONResponse(error_body("INTERNAL", "internal error", "服务内部错误"), status_code=500)

    return app
