"""GET /healthz (chain and index) and GET /metrics (Prometheus)."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from chain.errors import ChainError
from verifier.api.deps import RuntimeDep

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Chain reachability and index lag")
def healthz(runtime: RuntimeDep) -> JSONResponse:
    head = runtime.index.head()
    now = time.time()
    age = None if head.synced_at is None else round(now - head.synced_at, 3)
    body: dict[str, Any] = {
        "chainId": runtime.settings.chain_id,
        "registry": runtime.registry_address,
        "propertyRegistry": runtime.property_address,
        "index": {"block": head.block_number, "syncedSecondsAgo": age},
    }
    healthy = age is not None and age <= runtime.settings.max_index_age
    try:
        chain_head = runtime.index.client.block_number() if runtime.index.client else None
    except ChainError:
        chain_head = None
    if chain_head is None:
        body["chain"] = {"reachable": False}
        healthy = False
    else:
        lag = runtime.index.lag(chain_head)
        body["chain"] = {"reachable": True, "head": chain_head}
        body["index"]["lagBlocks"] = lag
        runtime.metrics.index_lag.set(lag)
    if runtime.index.last_error is not None:
        body["index"]["lastError"] = type(runtime.index.last_error).__name__
    runtime.metrics.index_block.set(head.block_number)
    if age is not None:
        runtime.metrics.index_age.set(age)
    body["status"] = "ok" if healthy else "degraded"
    return JSONResponse(body, status_code=200 if healthy else 503)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(runtime: RuntimeDep) -> Response:
    head = runtime.index.head()
    runtime.metrics.index_block.set(head.block_number)
    if head.synced_at is not None:
        runtime.metrics.index_age.set(time.time() - head.synced_at)
    return Response(runtime.metrics.render(), media_type="text/plain; version=0.0.4")
